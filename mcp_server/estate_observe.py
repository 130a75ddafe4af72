"""Alarms, metrics and logs across places: each place read through its own clients, rows stamped with
where they live, a place that fails one `skipped` entry (mcp_server/places.py)."""

from __future__ import annotations

from mcp_server import cloudwatch, logs, resource_tags
from mcp_server.fleet import Fleet, stamp
from mcp_server.models import AlarmList, LogGroupList, LogSearchResult, MetricSeries
from utils.config import Place


def list_alarms(fleet: Fleet, state: str | None, limit: int) -> AlarmList:
    state = cloudwatch.alarm_query(state, limit)  # a bad argument fails once, before any place is read

    def one(c) -> AlarmList:
        listing = cloudwatch.list_alarms(c.cloudwatch, state, cloudwatch.MAX_LISTED_ALARMS)
        return resource_tags.tag_resources(c.tagging, cloudwatch.name_instances(c.ec2, listing))

    answers, skipped = fleet.run(one)
    alarms = []
    for place, listing in answers:
        for alarm in listing.alarms:
            alarm.region = alarm.region or place.region
            alarm.account = place.account
            alarms.append(alarm)
    alarms.sort(key=lambda a: (a.state != "ALARM", a.name.casefold(), a.account or "", a.region or ""))
    return AlarmList(alarms=alarms[:limit], count=len(alarms), firing=sum(a.state == "ALARM" for a in alarms),
                     has_more_results=len(alarms) > limit, skipped=skipped)


def get_metric_statistics(fleet: Fleet, instance: str, metric: str, minutes: int, period: int,
                          statistic: str) -> MetricSeries:
    target = fleet.resolve([instance])[0]
    clients = fleet.estate.clients(target.account, target.region)
    series = cloudwatch.get_metric_statistics(clients.cloudwatch, target.instance_id, target.name, metric, minutes,
                                              period, statistic)
    return stamp(series, Place(target.account, target.region))


def search_logs(fleet: Fleet, log_group: str, pattern: str, minutes: int, limit: int) -> LogSearchResult:
    """The group in every place that has it; absent everywhere is the one-place error it always was."""
    missing: list[logs.LogGroupNotFound] = []

    def one(c) -> LogSearchResult | None:
        try:
            return logs.search_logs(c.logs, log_group, pattern, minutes, limit)
        except logs.LogGroupNotFound as exc:
            missing.append(exc)
            return None

    answers, skipped = fleet.run(one)
    found = [(p, r) for p, r in answers if r is not None]
    if not found and missing and not skipped:
        raise missing[0]
    events = sorted((stamp(e, p) for p, r in found for e in r.events), key=lambda e: e.timestamp)
    return LogSearchResult(log_group=(log_group or "").strip(), pattern=pattern, events=events[-limit:],
                           has_more_results=len(events) > limit or any(r.has_more_results for _, r in found),
                           skipped=skipped)


def describe_log_groups(fleet: Fleet, prefix: str) -> LogGroupList:
    answers, skipped = fleet.run(lambda c: logs.describe_log_groups(c.logs, prefix))
    groups = sorted((stamp(g, p) for p, r in answers for g in r.log_groups),
                    key=lambda g: (g.name, g.account or "", g.region or ""))
    return LogGroupList(prefix=(prefix or "").strip(), count=min(len(groups), logs.MAX_GROUPS),
                        log_groups=groups[:logs.MAX_GROUPS],
                        has_more_results=len(groups) > logs.MAX_GROUPS or any(r.has_more_results for _, r in answers),
                        skipped=skipped)


def log_group_names(fleet: Fleet) -> list[str]:
    answers, _ = fleet.run(lambda c: logs.list_log_groups(c.logs))
    return sorted({name for _, names in answers for name in names})
