"""The deterministic offline planner: one request in English or Korean -> one MCP tool call.

It serves every request when no model is reachable, and re-reads a request when the
model's answer is unusable. It knows no instance names: targets are resolved
against the live inventory in the PlanningContext. When a request is unclear,
unsafe to guess, or carries more than one command, the answer is a Clarification,
never a guess; that is the whole safety story of a rules planner.

    plan_offline("웹 서버 재부팅해줘", context) -> PlannedCall | Clarification
"""

from __future__ import annotations

import re
from datetime import date

from agent.planner import reads
from agent.planner.intents import ACTION_TOOLS, Analysis, analyse, compound_reason, mixed_reason
from agent.planner.inventory_index import InventoryIndex, index_for
from agent.planner.places import Places, in_place, read_places, scope
from agent.planner.request import Request
from agent.planner.targets import (
    Resolution,
    find_groups,
    find_korean,
    find_names,
    group_lookup,
    missing_targets,
    resolve,
    sample_names,
)
from agent.planner.textnorm import QUOTED, is_hangul, mask, normalize
from agent.planner.types import Clarification, PlannedCall, PlanningContext
from agent.planner.vocab import STOPWORDS

HELP = ("I can list, describe, start, stop, reboot or terminate instances, check their status or "
        "metrics, show alarms, search logs, report cost, and find SOPs. For example: "
        "'list running instances', 'CPU of <name> over the last hour', 'show me this month's cost'.")
_DONE = {"start": "started", "stop": "stopped", "reboot": "rebooted", "terminate": "terminated"}
# States an action can sensibly apply to; the rest are left out when a group is asked for.
_PREFERRED = {"start": {"stopped", "stopping"}, "stop": {"running", "pending"}, "reboot": {"running"},
              "terminate": {"running", "pending", "stopped", "stopping"}}
_GONE = {"terminated", "shutting-down"}


def plan_offline(text: str, context: PlanningContext, today: date | None = None) -> PlannedCall | Clarification:
    """Plan one tool call for `text` against the live inventory in `context`. Never raises."""
    try:
        return plan(text, context, today or date.today())
    except Exception:  # noqa: BLE001 - the contract is "never raises": a rules bug must become a question
        return Clarification(message="I could not work out what to do with that. " + HELP)


def plan(text: str, context: PlanningContext, today: date) -> PlannedCall | Clarification:
    """plan_offline without the safety net, so tests see real errors."""
    norm = normalize(text)
    if not re.search(r"[a-z0-9\uac00-\ud7a3]", norm):
        return Clarification(message="The request is empty. " + HELP)
    places = read_places(norm, context, index_for(context))
    if places.problem:
        return Clarification(message=places.problem, candidates=places.candidates)
    norm = mask(norm, places.spans)
    return in_place(_plan_words(text, norm, scope(context, places), places, today), places)


def _plan_words(text: str, norm: str, context: PlanningContext, places: Places,
                today: date) -> PlannedCall | Clarification:
    """The plan for the request's words once its place words are read and blanked."""
    index = index_for(context)
    found = find_names(index, norm)
    find_korean(index, norm, found)
    quoted = [m.span() for m in QUOTED.finditer(norm)]
    analysis = analyse(mask(mask(norm, quoted, "\x02"), found.spans, "\x01"), demote=index.vocabulary)
    find_groups(index, analysis.rest, found)
    req = Request(text, norm, context, index, analysis, found, today, places)
    if analysis.actions:
        planned = _plan_action(req)
        hedge = QUALIFIED_ACTION.search(mask(norm, found.spans, " "))
        if hedge and isinstance(planned, PlannedCall) and not planned.arguments.get("dry_run"):
            # Exceptions, conditions and schedules change which machines an action should touch, or
            # when; a rule reader that dropped them would act on the wrong set. Ask instead.
            return Clarification(
                message=f"I act only on plain requests; '{hedge.group(0).strip(' ,;(')}' adds an exception, a "
                        "condition or a time I cannot apply safely. Name exactly the instances to act on now."
            )
        return planned
    return reads.plan_read(req)


QUALIFIED_ACTION = re.compile(
    r"(?:^|[,;(]\s*|\band\s+|\bbut\s+)not\b(?! (?:needed|required|used|in use|wanted)\b)|\b(?:excluding|other than|all but|rather than|instead of|"
    r"leave|leaving|without touching|keep|keeping|unless|if|whenever|once|after|before|until|tomorrow|"
    r"tonight|later|at \d|in \d+ ?(?:min|minutes?|hours?|h|m)\b|every (?:day|night|hour|morning|evening|"
    r"week|\d)|daily|nightly)\b"
)


def _plan_action(req: Request) -> PlannedCall | Clarification:
    an = req.analysis
    kind = next(iter(an.action_kinds)) if len(an.action_kinds) == 1 else None
    if an.has("sop"):
        return reads.plan_sops(req)  # "how do I reboot a stuck host" asks for a procedure
    if an.has("injection"):
        return Clarification(message="That request carries instructions aimed at the assistant; "
                                     "I treat them as data and will not act on it. Ask for one action directly.")
    reason = compound_reason(an) or (kind and mixed_reason(an, kind))
    if reason or kind is None:
        return Clarification(message=f"One request at a time, please: {reason or 'it asks for several actions'}.")
    if an.has("negate"):
        return Clarification(message=f"That reads as 'do not {kind}', so there is nothing to do. "
                                     "Say what you want done instead.")
    inner = _thing_on_host(req)
    if inner:
        return Clarification(message=f"'{inner}' is not an instance: I can only {kind} whole instances. "
                                     f"Name the instance, or ask for the runbook (e.g. 'how do I {kind} "
                                     f"{inner}').", candidates=sample_names(req.index, None, 5))
    chosen = _action_targets(req, kind)
    if isinstance(chosen, Clarification):
        return chosen
    args: dict = {"instances": [req.index.items[i].instance_id for i in chosen]}
    if an.has("dryrun"):
        args["dry_run"] = True
    return PlannedCall(tool=ACTION_TOOLS[kind], arguments=args)


def _thing_on_host(req: Request) -> str | None:
    """A word that is not a host, placed on or in one ("restart nginx on web-1", "web-1에서 nginx
    재시작"): a process or service, which an instance action would hit far too hard."""
    rest, index = req.analysis.rest, req.index
    for hit in req.found.hits:
        if hit.kind not in ("id", "name"):
            continue
        before = re.search(r"((?:[\w.-]+\s+){1,3})(?:on|in|at|inside|from|of)\s+$", rest[:hit.start])
        after = re.match(r"\s*(?:에서|의)\s+((?:[\w.-]+\s*){1,2})", rest[hit.end:])
        for m in (before, after):
            words = m.group(1).split() if m else []
            strange = [w for w in words if _not_a_host_word(index, w)]
            if strange:
                return strange[0]
    return next((w for w in req.found.loose
                 if re.search(rf"(?<![\w-]){re.escape(w)}(?:\s+\S+){{0,2}}\s+(?:on|in|at|inside)\s", req.norm)), None)


def _not_a_host_word(index: InventoryIndex, word: str) -> bool:
    if word in STOPWORDS or word.isdigit() or is_hangul(word) or "\x01" in word:
        return False
    return not group_lookup(index, word)[0] or word not in index.words and word not in index.by_key


def _action_targets(req: Request, kind: str) -> list[int] | Clarification:
    res = resolve(req.index, req.found, req.analysis, req.norm)
    missing = missing_targets(req.index, req.found, res, f"Which instance should I {kind}?", _PREFERRED[kind])
    if missing:
        return missing
    index, an = req.index, req.analysis
    if res.whole_fleet and kind == "terminate":
        return Clarification(message="I will not terminate the whole fleet from one sentence. "
                                     "Name the instances (or a group such as an environment) to terminate.",
                             candidates=sample_names(index, None))
    if res.explicit:
        return _explicit(index, res, kind)
    return _group(req, res, kind, an)


def _explicit(index: InventoryIndex, res: Resolution, kind: str) -> list[int] | Clarification:
    gone = [index.label(i) for i in res.members if index.items[i].state in _GONE]
    if gone:
        return Clarification(message=f"{', '.join(gone)} is already terminated; there is nothing to {kind}.",
                             candidates=gone)
    return res.members


def _group(req: Request, res: Resolution, kind: str, an: Analysis) -> list[int] | Clarification:
    index = req.index
    members = [i for i in res.members if index.items[i].state not in _GONE]
    wanted = set(an.state_words)
    if wanted:
        members = [i for i in members if index.items[i].state in wanted]
    if not members:
        what = f"{'/'.join(sorted(wanted))} " if wanted else ""
        return Clarification(message=f"No {what}instance matching that can be {_DONE[kind]}.",
                             candidates=[index.label(i) for i in res.members][:10])
    preferred = [i for i in members if index.items[i].state in _PREFERRED[kind]]
    if _is_plural(req, res):
        return preferred or members  # none in a useful state: let the tool report "already running"
    if len(members) == 1:
        return members
    if len(preferred) == 1:
        return preferred  # "start the orders api": of the two, only one is stopped
    return Clarification(message=f"More than one instance matches; which should I {kind}? "
                                 "(say 'all' or 'both' to act on every one)",
                         candidates=[index.label(i) for i in members][:10])


def _is_plural(req: Request, res: Resolution) -> bool:
    return req.found.plural or req.analysis.quantified or res.whole_fleet

