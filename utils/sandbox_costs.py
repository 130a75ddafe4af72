"""Cost Explorer in the sandbox: answers that fit the asked period and granularity.

moto answers GetCostAndUsage from a queue of canned results, whatever the query asks. The
process that hosts the sandbox's moto (a private sandbox, or `sandbox start`'s server) replaces
the CE backend's get_cost_and_usage with `synthesize`: per-day or per-month amounts from
COST_BY_SERVICE (a month's bill) for exactly the asked TimePeriod, nothing after today.
"""

from __future__ import annotations

import calendar
import json
import urllib.request
from datetime import UTC, date, datetime, timedelta
from typing import Any

COST_BY_SERVICE = {
    "Amazon Elastic Compute Cloud - Compute": 1843.27,
    "Amazon Relational Database Service": 912.40,
    "Amazon Simple Storage Service": 214.95,
    "Amazon CloudWatch": 88.12,
    "AWS Data Transfer": 61.33,
    "Amazon ElastiCache": 140.80,
}
# What a group-by other than SERVICE splits the bill into (shares of the whole).
OTHER_GROUPS = {
    "REGION": {"us-east-1": 0.82, "eu-west-1": 0.18},
    "LINKED_ACCOUNT": {"123456789012": 1.0},
    "INSTANCE_TYPE": {"m5.large": 0.38, "r5.xlarge": 0.27, "r5.large": 0.15, "c5.large": 0.12, "t3.medium": 0.08},
    "USAGE_TYPE": {"BoxUsage": 0.7, "EBS:VolumeUsage.gp3": 0.2, "DataTransfer-Out-Bytes": 0.1},
}


def _chunks(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
    """[start, end) cut into days, or into calendar months clipped to the range."""
    out = []
    cursor = start
    while cursor < end:
        if granularity == "DAILY":
            following = cursor + timedelta(days=1)
        else:
            following = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
        out.append((cursor, min(following, end)))
        cursor = min(following, end)
    return out


def _billed_days(start: date, end: date, today: date) -> float:
    """The share of that month's bill the days [start, end) carry (days after today cost nothing yet)."""
    last = min(end, today + timedelta(days=1))
    if last <= start:
        return 0.0
    return (last - start).days / calendar.monthrange(start.year, start.month)[1]


def synthesize(body: str | dict, today: date | None = None) -> dict[str, Any]:
    """A GetCostAndUsage answer for exactly the asked period (moto passes the request body)."""
    request = json.loads(body) if isinstance(body, str) else body
    today = today or datetime.now(UTC).date()
    period = request.get("TimePeriod") or {}
    start, end = date.fromisoformat(period["Start"]), date.fromisoformat(period["End"])
    granularity = (request.get("Granularity") or "MONTHLY").upper()
    metrics = request.get("Metrics") or ["UnblendedCost"]
    group_by = [g.get("Key") for g in request.get("GroupBy") or []]
    results = []
    for chunk_start, chunk_end in _chunks(start, end, granularity):
        share = _billed_days(chunk_start, chunk_end, today)
        total = sum(COST_BY_SERVICE.values()) * share
        if group_by:
            key = group_by[0]
            split = ({s: a / sum(COST_BY_SERVICE.values()) for s, a in COST_BY_SERVICE.items()}
                     if key == "SERVICE" else OTHER_GROUPS.get(key, {"sandbox": 1.0}))
            groups = [{"Keys": [name], "Metrics": {m: {"Amount": f"{total * part:.2f}", "Unit": "USD"}
                                                   for m in metrics}} for name, part in split.items()]
            totals: dict[str, Any] = {}
        else:
            groups, totals = [], {m: {"Amount": f"{total:.2f}", "Unit": "USD"} for m in metrics}
        results.append({"TimePeriod": {"Start": chunk_start.isoformat(), "End": chunk_end.isoformat()},
                        "Total": totals, "Groups": groups,
                        "Estimated": chunk_end > today.replace(day=1)})
    return {"ResultsByTime": results, "DimensionValueAttributes": [], "GroupDefinitions":
            [{"Type": "DIMENSION", "Key": k} for k in group_by]}


def install_cost_explorer() -> None:
    """In the process that hosts moto: every GetCostAndUsage is answered by `synthesize`."""
    from moto.ce.models import CostExplorerBackend

    def get_cost_and_usage(self, body: str) -> dict[str, Any]:
        return synthesize(body)

    CostExplorerBackend.get_cost_and_usage = get_cost_and_usage  # type: ignore[method-assign]


def cost_result(today: date) -> dict:
    """The month so far and last month, as one canned result (for a moto that is not the sandbox's)."""
    first = today.replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    return synthesize({"TimePeriod": {"Start": previous.isoformat(), "End": (today + timedelta(days=1)).isoformat()},
                       "Granularity": "MONTHLY", "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}]}, today)


def seed_costs(url: str, count: int = 200) -> None:
    """A moto whose CE backend is not replaced (the test suite's) answers from this queue of results."""
    body = json.dumps({"results": [cost_result(datetime.now(UTC).date())] * count}).encode()
    request = urllib.request.Request(
        f"{url}/moto-api/static/ce/cost-and-usage-results", data=body,
        headers={"Content-Type": "application/json"}, method="POST",
    )
    # Loopback only: never route the sandbox through a configured HTTP proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        response.read()
