"""The alarm table: every namespace, the resource each alarm watches, where it lives, and why it fires.

The reason is the column that gives: it gets what the others leave, on one line, measured from the
rows themselves (an INSUFFICIENT_DATA state or a long metric name takes room the reason gives up).
With alarms from several places, the place goes under the resource below WIDE and into Region (and
Account) columns from WIDE on. What gives way, in order: the reason, the type and instance id (from
WIDE, when every alarm name still fits whole), and last the alarm name, which folds.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.markup import escape
from rich.table import Table

from agent.terminal.layout import NARROW, WIDE, ByWidth, styled
from agent.terminal.places_view import place_columns

METRIC_WIDTH = 14  # "CPUUtilization"; longer metric names fold
REASON_MIN = 12
ALARM_MIN = 16  # an alarm name folds no narrower than this


def alarms_table(data: dict) -> RenderableType:
    return ByWidth(lambda width: _alarms_table(data, width))


def _alarms_table(data: dict, width: int) -> RenderableType:
    table = Table(title=f"{data.get('count', 0)} alarm(s), {data.get('firing', 0)} firing", title_justify="left",
                  header_style="bold")
    alarms = data.get("alarms", [])
    where = place_columns(alarms)
    placed = where.shown and width >= WIDE
    whos = [_alarm_resource(a) for a in alarms]
    widths = {"Alarm": min(40, max((len(a["name"]) for a in alarms), default=5)),
              "State": max((len(a.get("state") or "-") for a in alarms), default=5),
              "Resource": max((len(w) for w in whos), default=10)}
    if where.shown and not placed:
        widths["Resource"] = max(widths["Resource"], *(len(where.joined(a)) for a in alarms))
    if width >= NARROW:
        widths["Metric"] = min(METRIC_WIDTH, max((len(a.get("metric") or "-") for a in alarms), default=6))
    if placed:
        widths["Places"] = where.width(alarms) - 3 * len(where.headers)  # their borders: in _line
    # The ID column is for instance ids: any other resource's id is in its Resource cell already.
    ids = [a.get("instance_id") or "-" for a in alarms]
    id_widths = {"Type": max((len(a.get("resource_type") or "-") for a in alarms), default=12),
                 "ID": max((len(i) for i in ids), default=19)}
    # Type and id only where the line holds them with every alarm name whole.
    with_ids = width >= WIDE and _line(widths | id_widths, placed, where) - 3 <= width
    if with_ids:
        widths |= id_widths
    # Too little room for a readable reason: the reason goes; then, if need be, the alarm's name folds
    # (whole, over two lines) rather than the line running past the edge.
    short = _line(widths, placed, where) - 3 - width
    if short > 0:
        widths["Alarm"] = max(ALARM_MIN, widths["Alarm"] - short)
    table.add_column("Alarm", overflow="fold", min_width=widths["Alarm"], max_width=max(widths["Alarm"], 40))
    table.add_column("State", no_wrap=True)
    if width >= NARROW:
        table.add_column("Metric", overflow="fold", min_width=widths["Metric"], max_width=widths["Metric"])
    table.add_column("Resource", no_wrap=True)
    for header in where.headers if placed else ():
        table.add_column(header, no_wrap=True)
    if with_ids:
        table.add_column("Type", no_wrap=True)
        table.add_column("ID", no_wrap=True)
    # The reason gets what is left, on one line: rich cannot shrink a no-wrap column itself.
    room = width - _line(widths, placed, where)
    if room >= REASON_MIN:  # else the reason would be a few letters: the rest of the row matters more
        table.add_column("Reason", no_wrap=True, overflow="ellipsis", max_width=room)
    for a, who, rid in zip(alarms, whos, ids, strict=True):
        row = [a["name"], styled(a.get("state"))] + ([a.get("metric") or "-"] if width >= NARROW else [])
        row += [who] + where.cells(a) if placed else [where.under(who, a)]
        row += [a.get("resource_type") or "-", rid] if with_ids else []
        row += [escape(" ".join((a.get("reason") or "").split())[:200])] if room >= REASON_MIN else []
        table.add_row(*row)
    if data.get("has_more_results"):
        table.caption = f"showing {len(alarms)} of {data.get('count')}; ask for firing alarms to narrow it"
    return table


def _line(widths: dict[str, int], placed: bool, where) -> int:
    """Characters the columns in `widths` take, with the borders of those and of the reason."""
    columns = len(widths) - ("Places" in widths) + (len(where.headers) if placed else 0) + 1
    return sum(widths.values()) + 3 * columns + 1


def _alarm_resource(alarm: dict) -> str:
    """An instance by its name (ids have their own column when there is room), others as `rds orders-db`, or
    `elb shop-front (app/web-alb/50dc…)` when a Name tag names it."""
    rtype = alarm.get("resource_type") or ("ec2:instance" if alarm.get("instance_id") else "cloudwatch:alarm")
    if rtype == "ec2:instance":
        return escape(alarm.get("instance_name") or alarm.get("instance_id") or "-")
    if rtype == "cloudwatch:alarm":
        return "(the alarm itself)"
    rid, name = alarm.get("resource_id") or "-", alarm.get("resource_name")  # name: the resource's Name tag
    return escape(f"{rtype.split(':')[0]} {name} ({rid})" if name and name != rid else f"{rtype.split(':')[0]} {rid}")
