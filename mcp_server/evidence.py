"""What an on-call engineer opens first when an alarm fires, gathered at once: the evidence on a page.

For one alarm: its own metric over the last hour (any namespace: the alarm's namespace, metric,
dimensions and statistic), the error lines of the log group mapped to its resource (the tag
`aiops:log-group`, or `[evidence.log_groups]` in aiops.toml), and for an instance its EC2 status
checks. The parts run in parallel within a time budget; a part that is late or fails is left out
and said so (`left_out`), so evidence never holds up a page. Plain functions taking clients.
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from typing import Any

from mcp_server.models import AlarmEvidence, EvidenceLogLine, EvidenceLogs, EvidenceMetric, EvidenceStatus
from mcp_server.resource_tags import LOG_GROUP_TAG, NAME_TAG, tags_of
from utils.resources import EC2, resource_of

DEFAULT_MINUTES = 60
MAX_MINUTES = 24 * 60
DEFAULT_SECONDS = 2.0
MAX_SECONDS = 30.0
LOG_LINES = 5  # a page shows a few lines: the newest
LOG_LINE_CHARS = 240
LOG_SCAN = 200  # events read at most, newest kept: a noisy group must not slow the page
# CloudWatch's filter syntax (terms are case-sensitive, `?` is OR); the same words again below, because
# an emulator may ignore the pattern and a real group may match a term inside another word.
ERROR_PATTERN = '?ERROR ?Error ?error ?Exception ?exception ?FATAL ?Fatal ?CRITICAL ?Traceback ?"[error]"'
_ERROR_LINE = re.compile(r"error|exception|fatal|critical|traceback|panic", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def gather(clients, alarm: str, *, minutes: int = DEFAULT_MINUTES, seconds: float = DEFAULT_SECONDS,
           log_groups: dict[str, str] | None = None, now: datetime | None = None) -> AlarmEvidence:
    """The evidence for `alarm`; raises ValueError for an alarm that does not exist.

    `log_groups`: aiops.toml `[evidence.log_groups]`, resource id or Name glob -> log group.
    """
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValueError(f"minutes must be between 1 and {MAX_MINUTES}")
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be above 0 and at most {MAX_SECONDS:g}")
    started = time.monotonic()
    raw = find_alarm(clients.cloudwatch, alarm)
    dims = {d["Name"]: d["Value"] for d in raw.get("Dimensions") or []}
    rtype, rid = resource_of(raw["AlarmName"], dims)
    end = now or datetime.now(UTC)
    parts: dict[str, Callable[[], Any]] = {}
    if raw.get("MetricName"):
        parts["metric"] = lambda: alarm_metric(clients.cloudwatch, raw, minutes, end)
    if rtype != "cloudwatch:alarm":
        parts["logs"] = lambda: mapped_logs(clients, rtype, rid, log_groups or {}, minutes, end)
    if rtype == EC2:
        parts["status"] = lambda: status_checks(clients.ec2, rid)
    found, left_out = run_parts(parts, seconds - (time.monotonic() - started), seconds)
    if not raw.get("MetricName"):
        left_out.insert(0, "metric: the alarm has no single metric (metric math or composite)")
    return AlarmEvidence(alarm=raw["AlarmName"], resource_type=rtype, resource_id=None if rtype == "cloudwatch:alarm"
                         else rid, minutes=minutes, metric=found.get("metric"), logs=found.get("logs"),
                         status=found.get("status"), left_out=left_out,
                         seconds=round(time.monotonic() - started, 3))


def run_parts(parts: dict[str, Callable[[], Any]], budget: float,
              total: float | None = None) -> tuple[dict[str, Any], list[str]]:
    """Run every part at once; what is not back when the budget is spent is left out, not waited for.

    A late part's thread finishes on its own (a boto3 call cannot be cancelled; AIOPS_AWS_TIMEOUT bounds it).
    """
    if not parts:
        return {}, []
    pool = ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="evidence")
    futures = {pool.submit(fn): name for name, fn in parts.items()}
    done, _late = wait(futures, timeout=max(0.0, budget))
    pool.shutdown(wait=False, cancel_futures=True)
    found: dict[str, Any] = {}
    left_out: list[str] = []
    for future, name in futures.items():
        if future not in done:
            left_out.append(f"{name}: not back within the {total or budget:g} s evidence budget")
        elif future.exception() is not None:
            left_out.append(f"{name}: {describe(future.exception())}")
        elif future.result() is not None:
            found[name] = future.result()
    return found, left_out


def describe(exc: BaseException) -> str:
    from mcp_server.errors import describe_aws_error

    return describe_aws_error(exc)[:300]


def find_alarm(cloudwatch, name: str) -> dict[str, Any]:
    name = (name or "").strip()
    if not name:
        raise ValueError("alarm is required: the alarm's name, as list_alarms shows it")
    answer = cloudwatch.describe_alarms(AlarmNames=[name])
    found = answer.get("MetricAlarms") or answer.get("CompositeAlarms") or []
    if not found:
        raise ValueError(f"no alarm named {name!r} (list_alarms shows the names)")
    return found[0]


def alarm_metric(cloudwatch, raw: dict[str, Any], minutes: int, end: datetime) -> EvidenceMetric:
    """The alarm's own metric, as the alarm reads it, over the window: at least 12 points an hour."""
    extended = raw.get("ExtendedStatistic")
    statistic = extended or raw.get("Statistic") or "Average"
    period = max(60, min(int(raw.get("Period") or 300), (minutes * 60 // 12) // 60 * 60 or 60))
    kwargs: dict[str, Any] = {"ExtendedStatistics": [extended]} if extended else {"Statistics": [statistic]}
    answer = cloudwatch.get_metric_statistics(
        Namespace=raw["Namespace"], MetricName=raw["MetricName"], Dimensions=raw.get("Dimensions") or [],
        StartTime=end - timedelta(minutes=minutes), EndTime=end, Period=period, **kwargs)
    points = sorted(answer.get("Datapoints", []), key=lambda p: p["Timestamp"])

    def value(point: dict[str, Any]) -> float:
        return float((point.get("ExtendedStatistics") or {}).get(extended, 0.0) if extended
                     else point.get(statistic, 0.0))

    return EvidenceMetric(name=raw["MetricName"], namespace=raw["Namespace"], statistic=statistic,
                          unit=next((p["Unit"] for p in points if p.get("Unit") not in (None, "None")), None),
                          period=period, threshold=raw.get("Threshold"),
                          points=[(p["Timestamp"].astimezone(UTC).isoformat(timespec="seconds"), value(p))
                                  for p in points])


def mapped_group(rid: str, tags: dict[str, str], mapping: dict[str, str]) -> tuple[str, str] | None:
    """(log group, where the mapping came from): the resource's own tag first, then aiops.toml's globs."""
    if tags.get(LOG_GROUP_TAG):
        return tags[LOG_GROUP_TAG], f"tag {LOG_GROUP_TAG}"
    names = [n.casefold() for n in (rid, tags.get(NAME_TAG)) if n]
    for pattern, group in mapping.items():
        if any(fnmatch.fnmatchcase(n, str(pattern).casefold()) for n in names):
            return str(group), "aiops.toml [evidence.log_groups]"
    return None


def mapped_logs(clients, rtype: str, rid: str, mapping: dict[str, str], minutes: int,
                end: datetime) -> EvidenceLogs | None:
    """Error-like lines of the resource's log group; None when no group is mapped to it."""
    # Without aiops.toml globs only the tag matters: ask for the resources that carry it, not the whole type.
    tags = tags_of(clients, rtype, rid, None if mapping else LOG_GROUP_TAG)
    where = mapped_group(rid, tags, mapping)
    if where is None:
        return None
    group, mapped_by = where
    kwargs = {"logGroupName": group, "startTime": int((end - timedelta(minutes=minutes)).timestamp() * 1000),
              "endTime": int(end.timestamp() * 1000), "filterPattern": ERROR_PATTERN}
    lines: list[EvidenceLogLine] = []
    scanned = 0
    for page in clients.logs.get_paginator("filter_log_events").paginate(**kwargs):
        for event in page.get("events", []):
            scanned += 1
            message = _CONTROL.sub(" ", event.get("message", "")).strip()
            if _ERROR_LINE.search(message):
                stamp = datetime.fromtimestamp(event.get("timestamp", 0) / 1000, UTC).isoformat(timespec="seconds")
                lines.append(EvidenceLogLine(timestamp=stamp, message=_cut(message)))
        if scanned >= LOG_SCAN:
            break
    lines.sort(key=lambda line: line.timestamp)
    return EvidenceLogs(log_group=group, mapped_by=mapped_by, lines=lines[-LOG_LINES:],
                        has_more_results=len(lines) > LOG_LINES or scanned >= LOG_SCAN)


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LOG_LINE_CHARS else text[: LOG_LINE_CHARS - 1] + "…"


def status_checks(ec2, instance_id: str) -> EvidenceStatus | None:
    answer = ec2.describe_instance_status(InstanceIds=[instance_id], IncludeAllInstances=True)
    rows = answer.get("InstanceStatuses") or []
    if not rows:
        return None
    row = rows[0]
    return EvidenceStatus(instance_id=instance_id, state=row.get("InstanceState", {}).get("Name", "unknown"),
                          system_status=row.get("SystemStatus", {}).get("Status", "not-applicable"),
                          instance_status=row.get("InstanceStatus", {}).get("Status", "not-applicable"),
                          events=[e.get("Code", "") for e in row.get("Events") or []])
