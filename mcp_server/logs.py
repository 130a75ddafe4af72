"""CloudWatch Logs search as a plain function taking a boto3 client."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime, timedelta

from mcp_server.models import LogEvent, LogGroup, LogGroupList, LogSearchResult

MAX_LIMIT = 500
MAX_GROUPS = 200
MAX_MINUTES = 30 * 24 * 60


class LogGroupNotFound(ValueError):
    code = "ResourceNotFoundException"


def list_log_groups(logs) -> list[str]:
    names: list[str] = []
    for page in logs.get_paginator("describe_log_groups").paginate():
        names.extend(g["logGroupName"] for g in page.get("logGroups", []))
    return names


def describe_log_groups(logs, prefix: str = "", limit: int = MAX_GROUPS) -> LogGroupList:
    """The log groups whose name starts with `prefix`: size, retention and creation time of each."""
    prefix = (prefix or "").strip()
    if len(prefix) > 512:
        raise ValueError("prefix is longer than a log group name can be (512 characters)")
    kwargs = {"logGroupNamePrefix": prefix} if prefix else {}
    groups: list[LogGroup] = []
    for page in logs.get_paginator("describe_log_groups").paginate(**kwargs):
        groups.extend(_group(raw) for raw in page.get("logGroups", []))
        if len(groups) > limit:
            break
    groups.sort(key=lambda g: g.name)
    return LogGroupList(prefix=prefix, count=min(len(groups), limit), log_groups=groups[:limit],
                        has_more_results=len(groups) > limit)


def _group(raw: dict) -> LogGroup:
    created = raw.get("creationTime")
    return LogGroup(
        name=raw["logGroupName"], stored_bytes=raw.get("storedBytes"), retention_days=raw.get("retentionInDays"),
        created=datetime.fromtimestamp(created / 1000, UTC).isoformat(timespec="seconds") if created else None,
    )


def search_logs(
    logs, log_group: str, pattern: str = "", minutes: int = 60, limit: int = 50, now: datetime | None = None
) -> LogSearchResult:
    log_group = (log_group or "").strip()
    if not log_group:
        raise ValueError("log_group is required, e.g. /aws/ec2/web-server")
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValueError(f"minutes must be between 1 and {MAX_MINUTES} (a window ending now)")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    end = now or datetime.now(UTC)
    start_ms = int((end - timedelta(minutes=minutes)).timestamp() * 1000)
    kwargs = {"logGroupName": log_group, "startTime": start_ms, "endTime": int(end.timestamp() * 1000)}
    if pattern:
        kwargs["filterPattern"] = pattern
    events: list[LogEvent] = []
    try:
        for page in logs.get_paginator("filter_log_events").paginate(**kwargs):
            for raw in page.get("events", []):
                events.append(_event(raw))
            if len(events) > limit:
                break
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise LogGroupNotFound(_not_found_message(logs, log_group)) from exc
        raise
    events.sort(key=lambda e: e.timestamp)
    return LogSearchResult(
        log_group=log_group, pattern=pattern, events=events[-limit:], has_more_results=len(events) > limit
    )


def _event(raw: dict) -> LogEvent:
    ts = datetime.fromtimestamp(raw.get("timestamp", 0) / 1000, UTC).isoformat(timespec="seconds")
    return LogEvent(timestamp=ts, stream=raw.get("logStreamName", ""), message=raw.get("message", "").rstrip())


def _not_found_message(logs, log_group: str) -> str:
    try:
        groups = list_log_groups(logs)
    except Exception:
        groups = []
    close = difflib.get_close_matches(log_group, groups, n=5, cutoff=0.3) or groups[:5]
    hint = f"; existing groups include: {', '.join(close)}" if close else ""
    return f"log group '{log_group}' does not exist{hint}"
