"""`ask` and `plan`: one request, one answer, an exit status a script can trust."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from typing import TYPE_CHECKING

from agent.outcomes import ConfirmationRequest
from agent.runtime import oneshot_runtime
from utils.config import Settings

if TYPE_CHECKING:
    from agent.chatops import ChatOps, Reply

EXIT_FOR_STATUS = {"ok": 0, "planned": 0, "declined": 1, "refused": 1, "unconfirmed": 1, "error": 1}
NO_TERMINAL = "no terminal to confirm on: rerun with --yes to consent to this one command"


def run_oneshot(args, settings: Settings) -> int:
    return asyncio.run(_oneshot(args, settings))


async def _oneshot(args, settings: Settings) -> int:
    text = " ".join(args.text).strip()
    if not text:
        sys.stderr.write("error: the request is empty; say what you want, e.g. \"list all instances\"\n")
        return 2
    # `ask` can put a question only to a person at a terminal, or take --yes as the answer.
    can_ask = args.command == "ask" and (args.yes or _interactive())
    async with oneshot_runtime(settings, client_name=f"aiops-{args.command}", can_ask=can_ask) as rt:
        # Imported here, not at the top: the planner loads (~0.2 s) while the fleet read is under way.
        from agent.chatops import ChatOps, Reply, clarification_text, configured_places

        chat = ChatOps(rt.session, rt.model_planner, **configured_places(settings))
        if args.command == "plan":
            plan = await chat.plan(text)
            reply = Reply(plan=plan, status="planned" if plan.call else "error",
                          message=plan.note or "" if plan.call else clarification_text(plan.clarification))
        else:
            reply = await _ask(chat, text, args, settings.confirm_timeout_seconds)
    return _report(reply, args.json)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _read_answer(timeout: float) -> str:
    """One line from the terminal, or "" (No) after `timeout` seconds.

    A daemon thread does the read so an unanswered prompt cannot keep the process alive.
    """
    answer: list[str] = []
    reader = threading.Thread(target=lambda: answer.append(sys.stdin.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not answer:
        sys.stderr.write("\nno answer in time: treated as No\n")
    return answer[0] if answer else ""


async def _ask(chat: ChatOps, text: str, args, chat_timeout: float) -> Reply:
    interactive = _interactive()

    async def confirm(request: ConfirmationRequest) -> bool:
        if args.yes:
            return True
        if not interactive:
            return False
        sys.stderr.write(request.message + " ")
        sys.stderr.flush()
        answer = await asyncio.to_thread(_read_answer, chat_timeout)
        return answer.strip().lower() in {"y", "yes"}

    reply = await chat.run(text, confirm, dry_run=args.dry_run)
    call = reply.plan.call
    destructive = call is not None and call.tool in chat.session.catalog.destructive
    if destructive and reply.status in {"declined", "unconfirmed"} and not args.yes and not interactive:
        reply.status, reply.message = "refused", NO_TERMINAL
    return reply


def _report(reply: Reply, as_json: bool) -> int:
    status = EXIT_FOR_STATUS.get(reply.status, 1)
    if as_json:
        sys.stdout.write(json.dumps(reply.as_json(), ensure_ascii=False, default=str) + "\n")
    elif status == 0 or reply.status == "error":  # show_reply prints an error as its one stderr line
        from agent.terminal.io import Terminal

        Terminal(history_file=None).show_reply(reply)
    if status != 0 and (as_json or reply.status != "error"):
        # Declined, refused, unconfirmed: said once, on stderr, with every reason that applies.
        sys.stderr.write(f"{reply.status}: {reply.message or 'failed'}\n")
    return status
