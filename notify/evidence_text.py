"""An incident's evidence as plain text lines, for every destination and the terminal alike.

The evidence is the incident's `evidence` (DESIGN.md, `monitor --once` JSON): `metric`
(`{name, statistic, unit, points: [[iso time, value], …]}`), `logs` (`{log_group, lines: [{timestamp,
message}]}`), `status` (EC2 status checks), `left_out` (parts not gathered, and why). Log lines are
untrusted text: each destination escapes them in its own way; these functions only shape them.
"""

from __future__ import annotations

from typing import Any

SPARK = "▁▂▃▄▅▆▇█"
MAX_SPARK = 60  # characters: an hour of one-minute points


def sparkline(values: list[float], width: int = MAX_SPARK) -> str:
    """`▁▂▃▅▇`: the shape of a series, each value scaled between the series' own min and max."""
    if not values:
        return ""
    if len(values) > width:  # keep the newest: the part that made the alarm fire
        values = values[-width:]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((v - low) / span * (len(SPARK) - 1)))] for v in values)


def number(value: float) -> str:
    """`91.2`, `1,500`, `6.1e+09`: short, and exact enough to compare with a threshold."""
    if abs(value) >= 1e7:
        return f"{value:.3g}"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def metric_values(evidence: dict[str, Any]) -> list[float]:
    metric = evidence.get("metric") or {}
    return [float(p[1]) for p in metric.get("points") or [] if isinstance(p, list | tuple) and len(p) == 2]


def metric_line(evidence: dict[str, Any], spark: bool = True) -> str | None:
    """`CPUUtilization (Average, %) last hour ▁▂▃▅▇ latest 91.2, max 95.0, threshold 80`."""
    metric = evidence.get("metric")
    if not metric:
        return None
    values = metric_values(evidence)
    unit = metric.get("unit")
    unit = {"Percent": "%"}.get(unit, unit) if unit and unit != "None" else None
    head = f"{metric.get('name')} ({metric.get('statistic')}{', ' + unit if unit else ''})"
    if not values:
        return f"{head}: no datapoints in the last hour"
    threshold = metric.get("threshold")
    tail = f", threshold {number(threshold)}" if isinstance(threshold, int | float) else ""
    shape = f" {sparkline(values)}" if spark else ""
    return f"{head} last hour{shape} latest {number(values[-1])}, max {number(max(values))}{tail}"


def checks_line(evidence: dict[str, Any]) -> str | None:
    """`status checks: system ok, instance impaired (running)`; an older list shape reads the same."""
    status = evidence.get("status")
    if isinstance(status, list):  # incidents stored before evidence had its own tool
        status = status[0] if status else None
    if not isinstance(status, dict):
        return None
    events = f"; events {', '.join(status['events'])}" if status.get("events") else ""
    return (f"status checks: system {status.get('system_status')}, instance {status.get('instance_status')} "
            f"({status.get('state')}){events}")


def log_head(evidence: dict[str, Any]) -> str | None:
    logs = evidence.get("logs")
    if not logs:
        return None
    lines = logs.get("lines") or []
    more = " (newest shown)" if logs.get("has_more_results") else ""
    if not lines:
        return f"logs {logs.get('log_group')}: no error lines in the last hour"
    return f"logs {logs.get('log_group')}: {len(lines)} error line{'s' if len(lines) != 1 else ''}{more}"


def log_lines(evidence: dict[str, Any]) -> list[str]:
    """`12:03:07 [ERROR] KeyError: 'signature' …`, oldest first (untrusted text)."""
    out = []
    for line in (evidence.get("logs") or {}).get("lines") or []:
        stamp = str(line.get("timestamp") or "")
        out.append(f"{stamp[11:19] or stamp} {line.get('message', '')}".strip())
    return out


def left_out_line(evidence: dict[str, Any]) -> str | None:
    left = evidence.get("left_out") or []
    return "left out: " + "; ".join(left) if left else None


def evidence_lines(evidence: dict[str, Any] | None) -> list[str]:
    """Every line, in page order: metric, status, logs head and lines, what was left out."""
    if not evidence:
        return []
    head = [line for line in (metric_line(evidence), checks_line(evidence), log_head(evidence)) if line]
    tail = [line for line in (left_out_line(evidence),) if line]
    return head + [f"  {line}" for line in log_lines(evidence)] + tail
