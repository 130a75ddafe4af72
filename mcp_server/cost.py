"""Cost Explorer as a plain function taking a boto3 client."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from mcp_server.models import CostLine, CostPeriod, CostReport

GRANULARITIES = {"DAILY", "MONTHLY"}
GROUP_KEYS = {"SERVICE", "REGION", "INSTANCE_TYPE", "USAGE_TYPE", "LINKED_ACCOUNT"}
METRIC = "UnblendedCost"


def _parse_day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{what} must be a date like 2026-01-31, got '{value}'") from None


def default_period(today: date) -> tuple[date, date]:
    """This month so far. CE's end is exclusive, so tomorrow includes today."""
    return today.replace(day=1), today + timedelta(days=1)


def get_cost_and_usage(
    ce,
    start: str | None = None,
    end: str | None = None,
    granularity: str = "MONTHLY",
    group_by: str | None = "SERVICE",
    today: date | None = None,
) -> CostReport:
    today = today or datetime.now(UTC).date()
    first, tomorrow = default_period(today)
    start_day = _parse_day(start, "start") if start else first
    end_day = _parse_day(end, "end") if end else max(tomorrow, start_day + timedelta(days=1))
    if start_day > today:
        raise ValueError(f"start {start_day} is in the future; costs exist only up to today ({today})")
    if end_day <= start_day:
        raise ValueError("end must be after start (end is exclusive)")
    end_day = min(end_day, tomorrow)
    granularity = (granularity or "MONTHLY").strip().upper()
    if granularity not in GRANULARITIES:
        raise ValueError("granularity must be MONTHLY or DAILY")
    key = (group_by or "").strip().upper() or None
    if key and key not in GROUP_KEYS:
        raise ValueError(f"group_by must be one of {', '.join(sorted(GROUP_KEYS))}")
    kwargs = {
        "TimePeriod": {"Start": start_day.isoformat(), "End": end_day.isoformat()},
        "Granularity": granularity,
        "Metrics": [METRIC],
    }
    if key:
        kwargs["GroupBy"] = [{"Type": "DIMENSION", "Key": key}]
    periods: list[CostPeriod] = []
    token = None
    while True:
        response = ce.get_cost_and_usage(**kwargs, **({"NextPageToken": token} if token else {}))
        periods.extend(_period(raw) for raw in response.get("ResultsByTime", []))
        token = response.get("NextPageToken")
        if not token:
            break
    # Only what lies in the asked range counts: an answer that brings other periods (a canned or
    # misbehaving endpoint) must not be added into a total labelled with this range.
    periods = [p for p in periods if _overlaps(p, start_day, end_day)]
    return CostReport(
        start=start_day.isoformat(), end=end_day.isoformat(), granularity=granularity, group_by=key,
        periods=periods, total=round(sum(p.total for p in periods), 2),
    )


def _overlaps(period: CostPeriod, start: date, end: date) -> bool:
    try:
        first, after = date.fromisoformat(period.start), date.fromisoformat(period.end)
    except ValueError:
        return False
    return first < end and after > start


def _period(raw: dict) -> CostPeriod:
    groups = [
        CostLine(
            key=" / ".join(g.get("Keys", [])) or "Total",
            amount=round(float(g["Metrics"][METRIC]["Amount"]), 2),
            unit=g["Metrics"][METRIC].get("Unit", "USD"),
        )
        for g in raw.get("Groups", [])
    ]
    groups.sort(key=lambda line: line.amount, reverse=True)
    total_raw = (raw.get("Total") or {}).get(METRIC)
    total = float(total_raw["Amount"]) if total_raw else sum(line.amount for line in groups)
    return CostPeriod(
        start=raw["TimePeriod"]["Start"], end=raw["TimePeriod"]["End"], total=round(total, 2), groups=groups
    )
