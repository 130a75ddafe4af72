"""Every attempted mutating call on record, and a consent that cannot be stretched.

A server middleware, outermost (before the SDK unseals `requestState`), on `tools/call` of the
catalog's mutating tools:
- **Audit from the first byte.** The attempt is written before anything is validated, asked or
  done, and its ending after (allowed | declined | refused | unconfirmed | dry-run | error). A call
  that fails argument validation, an answer that fails the schema and a client that disconnects
  mid-question all leave a row; a crash in between leaves the attempt, which ends as unconfirmed
  once the confirmation deadline has passed (`AuditLog.expire_attempts`).
- **One consent, one call.** On the 2026-07-28 protocol a question rides a sealed `requestState`
  that the client sends back with its answer. The SDK accepts that token for its whole lifetime,
  so re-sending the last round would act again without a new question. Each sealed round is
  remembered here once it has ended a call, and refused the second time.
- **The deadline is the server's.** The sealed state lives `AIOPS_CONFIRM_TIMEOUT` seconds
  (server.py sets its lifetime); an answer after that is refused by the SDK as an expired state,
  which this turns into the `unconfirmed` result a person can read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent
from mcp_types.methods import is_input_required

from mcp_server.state import ServerState, caller_of

# Audit `decision` for each ActionResult status.
DECISIONS = {"ok": "allowed", "dry_run": "dry-run", "declined": "declined", "refused": "refused",
             "unconfirmed": "unconfirmed", "error": "error"}


class ConsentLedger:
    def __init__(self, mutating: frozenset[str], lifetime_seconds: float) -> None:
        self.mutating = mutating
        self.lifetime = lifetime_seconds
        # sealed round -> (issued at, audit row, digest of the arguments it was asked about)
        self._open_rounds: dict[str, tuple[float, int | None, str]] = {}
        self._used_rounds: dict[str, float] = {}  # sealed rounds that already ended a call

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params: Mapping[str, Any] = ctx.params or {}
        tool = params.get("name")
        if ctx.method != "tools/call" or tool not in self.mutating:
            return await call_next(ctx)
        state: ServerState = ctx.lifespan_context
        self._forget_expired()
        token = params.get("requestState")
        round_key = _digest(token) if isinstance(token, str) else None
        opened = self._open_rounds.pop(round_key, None) if round_key else None
        if round_key is not None and round_key in self._used_rounds:
            return self._refuse(state, ctx, tool, params, "this confirmation was already used: a consent is good "
                                                          "for one call; ask again to act again; nothing was done")
        if round_key is not None:
            # Spent before the call runs, not after: copies sent at once must not all get through.
            self._used_rounds[round_key] = time.monotonic()
        if opened is not None and opened[2] != _digest(_canonical(params.get("arguments"))):
            _finish(state, opened[1], "refused", "its confirmation came back with other arguments; nothing was done")
            return self._refuse(state, ctx, tool, params, "this confirmation was given for other arguments; "
                                                          "nothing was done")
        row = opened[1] if opened else _begin(state, ctx, tool, params)
        if row is None and state.audit is not None:
            return _refusal(tool, "refused", "the attempt could not be recorded in the audit log; nothing was done")
        try:
            result = await call_next(ctx)
        except MCPError as exc:
            if round_key is None:
                _finish(state, row, "error", str(exc))
                raise
            late = opened is not None and time.monotonic() - opened[0] >= self.lifetime
            message = (f"the confirmation expired (no answer within {self.lifetime:g}s, AIOPS_CONFIRM_TIMEOUT): "
                       "treated as No; nothing was done" if late else
                       "the confirmation is not valid for this call (not issued here, or altered); nothing was done")
            status = "unconfirmed" if late else "refused"
            _finish(state, row, status, message)
            return _refusal(tool, status, message)
        except BaseException as exc:  # the client went away mid-question, or the server is stopping
            _finish(state, row, "unconfirmed", f"the call ended before an answer ({type(exc).__name__}); "
                                               "nothing was done")
            raise
        if is_input_required(result):
            sealed = _field(result, "requestState", "request_state")
            if isinstance(sealed, str):
                self._open_rounds[_digest(sealed)] = (time.monotonic(), row,
                                                      _digest(_canonical(params.get("arguments"))))
            return result
        _finish(state, row, *_ending(result))
        return result

    def _refuse(self, state: ServerState, ctx: ServerRequestContext[Any, Any], tool: str,
                params: Mapping[str, Any], message: str) -> CallToolResult:
        """A refusal by the ledger itself: on record as its own attempt."""
        _finish(state, _begin(state, ctx, tool, params), "refused", message)
        return _refusal(tool, "refused", message)

    def _forget_expired(self) -> None:
        """A sealed round cannot be replayed past its lifetime (the SDK rejects it), so memory stays small."""
        horizon = time.monotonic() - 2 * self.lifetime - 60
        for table in (self._open_rounds, self._used_rounds):
            for key in [k for k, v in table.items() if (v[0] if isinstance(v, tuple) else v) < horizon]:
                del table[key]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _canonical(arguments: Any) -> str:
    return json.dumps(arguments, sort_keys=True, ensure_ascii=True, default=repr)


def _begin(state: ServerState, ctx: ServerRequestContext[Any, Any], tool: str, params: Mapping[str, Any]) -> int | None:
    if state.audit is None:
        return None  # the guard refuses every mutating call while the audit log is unavailable
    arguments = params.get("arguments")
    refs = arguments.get("instances") if isinstance(arguments, dict) else None
    targets = [{"instance_id": r[:64], "name": None} for r in refs if isinstance(r, str)][:50] \
        if isinstance(refs, list) else []
    try:
        state.audit.expire_attempts(state.settings.confirm_timeout_seconds + 60)
        return state.audit.begin(tool, _bounded(arguments), caller_of(ctx), targets)
    except Exception:  # fail closed: the caller refuses an attempt it could not record
        return None


def _finish(state: ServerState, row: int | None, decision: str, outcome: str,
            targets: list[dict[str, Any]] | None = None) -> None:
    if row is None or state.audit is None:
        return
    with contextlib.suppress(Exception):  # the attempt row stands; it ends as unconfirmed at the deadline
        state.audit.finish(row, decision, outcome, targets)


def _ending(result: Any) -> tuple[str, str, list[dict[str, Any]] | None]:
    """(decision, outcome, targets) of a finished call, from its structured result or its error text."""
    data = _field(result, "structuredContent", "structured_content")
    if isinstance(data, Mapping) and data.get("status") in DECISIONS:
        # Where each target lives, when the server knows it: the same id in two accounts is two machines.
        targets = [{"instance_id": t.get("instance_id"), "name": t.get("name"),
                    **{k: t[k] for k in ("account", "region") if t.get(k)}}
                   for t in data.get("targets") or [] if isinstance(t, Mapping)]
        return DECISIONS[data["status"]], str(data.get("message") or ""), targets or None
    content = _field(result, "content", "content") or []
    text = " ".join(str(_field(c, "text", "text") or "") for c in content).strip()
    return "error", text or "the call failed", None


def _refusal(tool: str, status: str, message: str) -> CallToolResult:
    """The same shape as the tool's own refusals (an ActionResult as structured content)."""
    data = {"action": tool.removesuffix("_instances"), "status": status, "message": message, "targets": [],
            "dry_run": False}
    return CallToolResult(content=[TextContent(type="text", text=f"{status}: {message}")],
                          structured_content=data, is_error=True)


def _field(result: Any, wire: str, attribute: str) -> Any:
    if isinstance(result, Mapping):
        return result.get(wire, result.get(attribute))
    return getattr(result, attribute, None)


def _bounded(arguments: Any) -> dict[str, Any]:
    """Arguments as recorded: a 20 MB "name" is an attempt worth recording, not worth storing whole."""
    if not isinstance(arguments, dict):
        return {"_raw": repr(arguments)[:500]}
    # The arguments that matter first, so twenty junk keys cannot push them out of the record.
    keys = [k for k in ("instances", "dry_run") if k in arguments] + [k for k in arguments
                                                                       if k not in {"instances", "dry_run"}]
    return {str(k)[:64]: _short(arguments[k]) for k in keys[:20]}


def _short(value: Any) -> Any:
    if isinstance(value, str):
        return value[:300]
    if isinstance(value, list):
        return [x[:300] if isinstance(x, str) else x for x in value[:50]]
    return value
