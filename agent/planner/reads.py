"""Read-only tool calls for the offline planner, and the target helpers actions share with them."""

from __future__ import annotations

import re
import unicodedata

from agent.planner import readargs, timeranges
from agent.planner.inventory_index import InventoryIndex
from agent.planner.list_filters import list_filters
from agent.planner.request import Request
from agent.planner.targets import missing_targets, resolve
from agent.planner.types import Clarification, PlannedCall

_HELP_SHORT = ("Try e.g. 'list running instances', 'status of <name>', 'CPU of <name> over the last hour', "
               "'show alarms', 'errors in <log group> logs', 'cost last month', 'runbook for disk full'.")
# Words that describe an incident; with no other topic the request is probably asking what to do.
_INCIDENT = re.compile(r"\b(?:full|spike|spiking|leak|leaking|outage|oom|crash\w*|stuck|unreachable|"
                       r"latency|slow|degraded|failing|failed|pegged|saturated|can'?t (?:connect|reach|ssh|log ?in)|"
                       r"cannot (?:connect|reach|ssh|log ?in)|unable to (?:connect|reach|ssh|log ?in))\b|"
                       r"가득|꽉|느려|다운|먹통|장애|폭주|접속(?:이|을)? ?안|연결(?:이)? ?안|응답(?:이)? ?없")
# The subset that means "something is broken" even next to a metric word ("disk full on web-1").
_BROKEN = re.compile(r"\b(?:full|leak|leaking|outage|oom|crash\w*|stuck|unreachable|degraded)\b|가득|꽉|먹통|다운됐")


_SHELL = re.compile(r";|&&|\|\||\||`|\$\(|>\s*/")
_WORDY = re.compile(r"[a-z0-9\uac00-\ud7a3]")


def plan_read(req: Request) -> PlannedCall | Clarification:
    an = req.analysis
    if _second_command(req):
        return Clarification(message="One request at a time, please: the line holds more than one command.")
    topic = an.read_topic()
    if topic is None:
        return _no_topic(req)
    if topic == "metrics" and _BROKEN.search(req.norm) and "show" not in an.read_kinds:
        return plan_sops(req)  # a symptom, not a request for a graph
    builder = {"sop": plan_sops, "cost": _cost, "cost_weak": _cost, "logs": _logs, "alarms": _alarms,
               "logs_weak": _logs, "metrics": _metrics, "status": _status, "status_weak": _status, "describe": _describe,
               "list": _list, "which": _list, "show": _show}[topic]
    return builder(req)


def _second_command(req: Request) -> bool:
    """Words on both sides of a shell-style separator ("list instances; rm -rf /"). A second
    sentence is fine for a read ("show alarms. thanks"); a shell join never is."""
    text = req.analysis.text
    return any(_WORDY.search(text[:m.start()]) and _WORDY.search(text[m.end():]) for m in _SHELL.finditer(text))


def _no_topic(req: Request) -> PlannedCall | Clarification:
    res = resolve(req.index, req.found, req.analysis, req.norm)
    if req.found.unknown:
        return missing_targets(req.index, req.found, res, "", None)
    if _INCIDENT.search(req.norm):
        return plan_sops(req)
    if res.explicit and req.analysis.state_words:
        return _status(req)  # "etl-nightly 가동 중이야?": is it in that state
    if res.explicit and len(res.members) == 1:
        return _describe(req)  # a bare name: show what it is
    if req.analysis.state_words or res.members:
        return _list(req)  # "the stopped staging servers": a filter with no verb reads as a listing
    if req.places.named:
        return _list(req)  # "eu-west-1", "서울 리전": a place alone reads as what is there
    if req.analysis.has("dryrun"):
        return Clarification(message="A dry run of what? Say the action, e.g. 'dry run stop <name>'.")
    # What it can do, not a list of instances the request never mentioned.
    return Clarification(message="I did not understand the request. " + _HELP_SHORT)


def plan_sops(req: Request) -> PlannedCall:
    clean = unicodedata.normalize("NFKC", req.raw[:600])
    clean = "".join(ch for ch in clean if unicodedata.category(ch)[0] != "C" or ch == " ")
    clean = re.sub(r"\s+", " ", clean).strip()[:300]
    args: dict = {"query": readargs.sop_query(clean)}
    k = readargs.sop_k(req.norm)
    if k:
        args["k"] = k
    return PlannedCall(tool="search_sops", arguments=args)


def _cost(req: Request) -> PlannedCall:
    period = timeranges.cost_period(req.norm, req.today)
    args = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    args.update(readargs.cost_options(req.norm, period.daily))
    return PlannedCall(tool="get_cost_and_usage", arguments=args)


def _alarms(req: Request) -> PlannedCall:
    named = _asked_why(req)
    if named is not None:
        return PlannedCall(tool="get_alarm_evidence", arguments={"alarm": named})
    state = readargs.alarm_state(req.norm)
    return PlannedCall(tool="list_alarms", arguments={"state": state} if state else {})


# "why is orders-db-cpu-high firing", "evidence for X", "X 알람 왜 울려": one alarm's evidence, not the list.
_WHY = re.compile(r"\b(?:why|evidence)\b|왜")
# An alarm's name as people paste it: words joined by dashes, dots or underscores (web-server-cpu-high).
_ALARM_NAME = re.compile(r"(?<![\w/])[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+){2,}(?![\w/])")


def _asked_why(req: Request) -> str | None:
    """The alarm a "why is it firing" question names; None when it names none (or only an instance)."""
    if not _WHY.search(req.norm):
        return None
    instances = {item.name.casefold() for item in req.index.items if item.name}
    names = [m.group(0) for m in _ALARM_NAME.finditer(req.raw[:300]) if m.group(0).casefold() not in instances]
    return max(names, key=len) if names else None


def _logs(req: Request) -> PlannedCall | Clarification:
    listing, prefix = readargs.log_group_listing(req.norm, req.raw[:2000])
    if listing:
        return PlannedCall(tool="list_log_groups", arguments={"prefix": prefix} if prefix else {})
    if req.context.log_groups is None:
        # Only a log request needs the group names: the caller fetches them and asks again.
        return Clarification(message="Which log group?", needs="log_groups")
    res = resolve(req.index, req.found, req.analysis, req.norm)
    hints = [w for i in res.members[:5] for w in _instance_words(req.index, i)]
    hints += [h.word for h in req.found.hits]
    group, candidates = readargs.pick_log_group(req.norm, req.context.log_groups, hints)
    if group is None:
        msg = "Which log group?" if req.context.log_groups else "There are no log groups to search."
        return Clarification(message=msg, candidates=candidates)
    args: dict = {"log_group": group}
    pattern = readargs.log_pattern(req.norm, req.raw[:2000])
    minutes = timeranges.minutes_back(req.norm)
    limit = readargs.log_limit(req.norm)
    for key, value in (("pattern", pattern), ("minutes", minutes), ("limit", limit)):
        if value:
            args[key] = value
    return PlannedCall(tool="search_logs", arguments=args)


def _instance_words(index: InventoryIndex, i: int) -> list[str]:
    item = index.items[i]
    words = re.split(r"[-_.\s]+", (item.name or "").lower())
    return words + [v.lower() for k, v in item.tags.items() if k != "Name" and not k.startswith("aws:")]


def _one_target(req: Request, question: str) -> int | Clarification:
    res = resolve(req.index, req.found, req.analysis, req.norm)
    missing = missing_targets(req.index, req.found, res, question, None)
    if missing:
        return missing
    if len(res.members) == 1:
        return res.members[0]
    return Clarification(message="That matches more than one instance; name one.",
                         candidates=[req.index.label(i) for i in res.members][:10])


def _metrics(req: Request) -> PlannedCall | Clarification:
    metric = readargs.metric_name(req.norm)
    if metric == "agent_only":
        return Clarification(message="EC2 publishes no memory or disk-space metric without the CloudWatch "
                                     "agent; try CPUUtilization, NetworkIn/Out or DiskRead/WriteBytes.")
    target = _one_target(req, "Metrics of which instance?")
    if isinstance(target, Clarification):
        return target
    period, rest = timeranges.period_seconds(req.norm)
    args: dict = {"instance": req.index.items[target].instance_id, "metric": metric}
    minutes = timeranges.minutes_back(rest)
    stat = readargs.statistic(req.norm)
    for key, value in (("minutes", minutes), ("period", period), ("statistic", stat)):
        if value:
            args[key] = value
    return PlannedCall(tool="get_metric_statistics", arguments=args)


def _status(req: Request) -> PlannedCall | Clarification:
    res = resolve(req.index, req.found, req.analysis, req.norm)
    if req.found.unknown or res.empty_reason:
        return missing_targets(req.index, req.found, res, "", None)
    if not res.members or res.whole_fleet:
        return PlannedCall(tool="get_instance_status", arguments={})
    return PlannedCall(tool="get_instance_status",
                       arguments={"instances": [req.index.items[i].instance_id for i in res.members]})


def _describe(req: Request) -> PlannedCall | Clarification:
    res = resolve(req.index, req.found, req.analysis, req.norm)
    several = len(res.members) > 1 and (req.found.plural or req.analysis.quantified)
    if several or (req.analysis.state_words and not res.explicit):
        return _list(req)  # "details of the web servers", "what's stopped in prod": a listing answers
    target = _one_target(req, "Describe which instance?")
    if isinstance(target, Clarification):
        return target
    return PlannedCall(tool="describe_instance", arguments={"instance": req.index.items[target].instance_id})


def _show(req: Request) -> PlannedCall | Clarification:
    res = resolve(req.index, req.found, req.analysis, req.norm)
    if res.explicit and len(res.members) == 1 and not req.found.plural:
        return _describe(req)
    if not res.members and req.found.unknown:
        return missing_targets(req.index, req.found, res, "", None)
    return _list(req)


def _list(req: Request) -> PlannedCall:
    return PlannedCall(tool="list_instances", arguments=list_filters(req))

