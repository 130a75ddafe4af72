"""Tool results as rich renderables: tables, bars, sparklines. Pure functions; the Terminal prints."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agent.terminal.alarm_table import alarms_table
from agent.terminal.layout import NARROW, WIDE, ByWidth, short_path, styled
from agent.terminal.places_view import place_columns, with_skips
from notify.evidence_text import sparkline

STATUS_STYLE = {"ok": "green", "dry_run": "cyan", "declined": "yellow", "refused": "red", "unconfirmed": "yellow",
                "error": "red"}
BAR_WIDTH = 30


PROTECTED_MARK = "🔒"
PROTECTED_LEGEND = f"{PROTECTED_MARK} tag aiops:protected (stop, reboot, terminate refused)"


def instances_table(data: dict) -> RenderableType:
    return ByWidth(lambda width: _instances_table(data, width))


def _instances_table(data: dict, width: int) -> RenderableType:
    table = Table(title=f"{data.get('count', 0)} instance(s)", title_justify="left", header_style="bold")
    instances = data.get("instances", [])
    where = place_columns(instances)
    # Several places: below NARROW each one goes under its Name; from NARROW on they get columns, which
    # take the room of Type (with an Account column) and AZ (the Region says where) until WIDE.
    columns = ["Name", "ID", "State"]
    placed = where.shown and width >= NARROW
    columns += where.headers if placed else []
    columns += ["Type"] if width >= WIDE or not (placed and where.account) else []
    columns += ["Env"] + (["AZ"] if width >= WIDE or (width >= NARROW and not placed) else [])
    for column in columns:
        table.add_column(column, no_wrap=column in {"Name", "ID", "State", "AZ", "Region", "Account"})
    for i in instances:
        name = (i.get("name") or "-") + (f" {PROTECTED_MARK}" if i.get("protected") else "")
        cells = {"Name": name if placed else where.under(name, i), "ID": i["instance_id"],
                 "State": styled(i.get("state")), "Type": i.get("instance_type") or "-", "Env": i.get("env") or "-",
                 "AZ": i.get("availability_zone") or "-", **dict(zip(where.headers, where.cells(i), strict=True))}
        table.add_row(*(cells[c] for c in columns))
    notes = []
    if any(i.get("protected") for i in instances):
        notes.append(PROTECTED_LEGEND + "; `describe NAME` shows EC2's own protections too")
    if data.get("has_more_results"):
        notes.append("list cut short; filter by name, state or tags to see the rest")
    if notes:
        table.caption, table.caption_justify = "\n".join(notes), "left"
    return table


def protection_text(data: dict) -> str:
    """Every protection on one instance in the words the guards use (DESIGN.md, guard 2)."""
    parts = []
    if data.get("protected"):
        parts.append("tag aiops:protected (stop, reboot, terminate refused)")
    if data.get("stop_protection"):
        parts.append("EC2 stop protection (stop refused)")
    if data.get("termination_protection"):
        parts.append("EC2 termination protection (terminate refused)")
    return "; ".join(parts) or "none"


def instance_detail(data: dict) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    fields = ["instance_id", "name", "state", "account", "region", "instance_type", "env", "role",
              "availability_zone", "private_ip",
              "public_ip", "image_id", "vpc_id", "subnet_id", "key_name", "platform", "launch_time", "state_reason"]
    for key in fields:
        value = data.get(key)
        if value not in (None, "", []):
            table.add_row(key.replace("_", " "), styled(value))
    table.add_row("protection", protection_text(data))
    if data.get("security_groups"):
        table.add_row("security groups", ", ".join(data["security_groups"]))
    return Panel(table, title=data.get("name") or data.get("instance_id"), expand=False)


def status_table(data: dict) -> RenderableType:
    return ByWidth(lambda width: _status_table(data, width))


def _status_table(data: dict, width: int) -> RenderableType:
    title = f"status checks ({data.get('impaired', 0)} impaired"
    title += f", {data['alarming']} with alarms in ALARM)" if data.get("alarming") else ")"
    if data.get("alarms_checked") is False:
        title += " — CloudWatch alarms could not be read"
    table = Table(title=title, title_justify="left", header_style="bold")
    statuses = data.get("statuses", [])
    where = place_columns(statuses)
    placed = width >= WIDE  # below it, each place goes under its Name: the checks need the room
    # Below NARROW the two checks share a column; Events shows only when there are any.
    checks = ["System", "Instance"] if width >= NARROW else ["Checks"]
    events = ["Events"] if any(s.get("events") for s in statuses) else []
    for column in ("Name", "ID", "State", *(where.headers if placed else ()), *checks, "Alarms", *events):
        table.add_column(column, no_wrap=column in {"Name", "ID", "State", "Region", "Account"}, overflow="fold")
    for s in statuses:
        alarms = Text(", ".join(s.get("alarms") or []) or "-", style="bold red" if s.get("alarms") else "")
        name = s.get("name") or "-"
        system, instance = styled(s.get("system_status")), styled(s.get("instance_status"))
        cells = [system, instance] if checks != ["Checks"] else [
            system if system.plain == instance.plain else Text.assemble(system, "/", instance)]
        table.add_row(name if placed else where.under(name, s), s["instance_id"], styled(s.get("state")),
                      *(where.cells(s) if placed else ()), *cells, alarms,
                      *([", ".join(s.get("events") or []) or "-"] if events else []))
    return table


def evidence_view(data: dict) -> RenderableType:
    """get_alarm_evidence: the lines a page shows (notify/evidence_text.py), under the alarm and its resource."""
    from notify.evidence_text import evidence_lines

    where = data.get("resource_type") + (f" {data['resource_id']}" if data.get("resource_id") else "")
    lines = evidence_lines({k: data.get(k) for k in ("metric", "logs", "status", "left_out")}) or ["nothing gathered"]
    return Group(Text.assemble((f"{data.get('alarm')} ", "bold"), (f"on {where}", "dim")), Text("\n".join(lines)))


def metric_view(data: dict) -> RenderableType:
    values = [p["value"] for p in data.get("datapoints", [])]
    who = data.get("name") or data.get("instance_id")
    if not values:
        return Text(f"no {data.get('metric')} datapoints for {who} in that window", style="yellow")
    unit = data.get("unit") or ""
    head = Text.assemble((f"{data['metric']} ({data['statistic']}) ", "bold"), f"{who}  ",
                         (sparkline(values, width=len(values)), "cyan"))
    stats = Text(f"latest {values[-1]:.1f} {unit}   max {max(values):.1f}   avg {sum(values) / len(values):.1f}"
                 f"   {len(values)} points, {data.get('period')}s each", style="dim")
    return Group(head, stats)


def days(start: str, end: str) -> str:
    """A Cost Explorer range (end exclusive) as a person reads it: first and last day, inclusive."""
    try:
        last = (date.fromisoformat(end) - timedelta(days=1)).isoformat()
    except (TypeError, ValueError):
        return f"{start} → {end}"
    return start if last == start else f"{start} → {last}"


def cost_view(data: dict) -> RenderableType:
    renderables: list[RenderableType] = []
    for period in data.get("periods", []):
        table = Table(title=f"{days(period['start'], period['end'])}   total ${period['total']:,.2f}",
                      title_justify="left", header_style="bold", show_edge=False)
        table.add_column("Service")
        table.add_column("Cost", justify="right")
        table.add_column("")
        top = max((g["amount"] for g in period.get("groups", [])), default=0) or 1
        for g in period.get("groups", []):
            bar = "█" * max(1, int(g["amount"] / top * BAR_WIDTH)) if g["amount"] > 0 else ""
            table.add_row(g["key"], f"${g['amount']:,.2f}", Text(bar, style="magenta"))
        renderables.append(table)
    if not data.get("periods"):
        renderables.append(Text("no cost recorded for this range", style="dim"))
    renderables.append(Text(f"Total {days(data.get('start'), data.get('end'))}: ${data.get('total', 0):,.2f}",
                            style="bold"))
    return Group(*renderables)


def logs_view(data: dict) -> RenderableType:
    events = data.get("events", [])
    title = f"{len(events)} event(s) in {data.get('log_group')}" + (f" matching {data['pattern']!r}"
                                                                        if data.get("pattern") else "")
    lines = [Text(title, style="bold")]
    words = [w for w in re.findall(r"[\w.-]+", data.get("pattern") or "") if len(w) > 1]
    for e in events:
        line = Text(f"{e['timestamp'][11:19]}  ", style="dim")
        body = Text(e["message"])
        for word in words:
            body.highlight_words([word], style="bold red", case_sensitive=False)
        line.append_text(body)
        lines.append(line)
    return Group(*lines)


def log_groups_table(data: dict) -> RenderableType:
    where = f" starting with {data['prefix']}" if data.get("prefix") else ""
    table = Table(title=f"{data.get('count', 0)} log group(s){where}", title_justify="left", header_style="bold")
    for column in ("Log group", "Stored", "Retention", "Created"):
        table.add_column(column, overflow="fold", justify="right" if column == "Stored" else "left")
    for g in data.get("log_groups", []):
        days = g.get("retention_days")
        table.add_row(escape(g["name"]), _size(g.get("stored_bytes")), f"{days} days" if days else "forever",
                      (g.get("created") or "-")[:10])
    if data.get("has_more_results"):
        table.caption = "list cut short; give a prefix (e.g. 'log groups starting with /aws') to see the rest"
    return table


def _size(count: int | None) -> str:
    if count is None:
        return "-"
    value, unit = float(count), "B"
    for bigger in ("KB", "MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"


def action_view(data: dict) -> RenderableType:
    status = data.get("status", "error")
    head = Text(f"{status}: {data.get('message', '')}", style=STATUS_STYLE.get(status, ""))
    if status not in {"ok", "dry_run"} or not data.get("targets"):
        return head  # nothing changed: one line with every reason, not a table of unchanged rows
    table = Table(show_header=True, header_style="bold", show_edge=False)
    targets = data.get("targets", [])
    where = place_columns(targets)
    for column in ("Name", "ID", *where.headers, "Before", "After"):
        table.add_column(column)
    for t in targets:
        table.add_row(t.get("name") or "-", t["instance_id"], *where.cells(t), styled(t.get("previous_state")),
                      styled(t.get("current_state")))
    return Group(head, table)


def sops_view(data: dict) -> RenderableType:
    return ByWidth(lambda width: _sops_view(data, width))


def _sops_view(data: dict, width: int) -> RenderableType:
    results = data.get("results", [])
    if not results:
        return Text("no SOP matched", style="yellow")
    if width < NARROW:  # a list, so the path keeps its own whole line and the excerpt wraps at words
        lines: list[RenderableType] = []
        for n, r in enumerate(results, 1):
            weak = " weak" if r.get("weak") else ""
            lines.append(Text.assemble((f"{n}. {r['title']}", "bold"), f"  {r['score']:.2f}", (weak, "yellow")))
            lines.append(Padding(Text(short_path(str(r["source"])), style="dim", no_wrap=True, overflow="ellipsis"),
                                 (0, 0, 0, 3)))
            if r.get("excerpt"):
                lines.append(Padding(Text(cut_at_word(r["excerpt"], 200)), (0, 0, 0, 3)))
        return _with_weak_note(Group(*lines), results)
    table = Table(header_style="bold", show_edge=False)
    for column in ("#", "SOP", "Score", "Excerpt"):
        table.add_column(column, overflow="fold")
    for n, r in enumerate(results, 1):
        score = f"{r['score']:.2f}" + ("\n[yellow]weak[/yellow]" if r.get("weak") else "")
        table.add_row(str(n), f"{r['title']}\n[dim]{escape(short_path(str(r['source'])))}[/dim]", score,
                      escape(cut_at_word(r.get("excerpt", ""), 160)))
    return _with_weak_note(table, results)


def _with_weak_note(view: RenderableType, results: list[dict]) -> RenderableType:
    if not results[0].get("weak"):
        return view
    from sop.ranking import weak_note

    return Group(view, Text(weak_note(results[0]["score"]), style="yellow"))


def cut_at_word(text: str, limit: int) -> str:
    """At most `limit` characters, never ending mid-word: 'Retention for…', not 'Retention for datab'."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    return (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(" ,;:.") + "…"


def history_table(entries: list[Any]) -> RenderableType:
    """Audit rows, oldest first: who asked for what, what was decided, and what happened, uncut."""
    return ByWidth(lambda width: _history_table(entries, width))


def _history_table(entries: list[Any], width: int) -> RenderableType:
    narrow = width < WIDE  # the full caller and timestamp need a wide terminal
    table = Table(header_style="bold", show_edge=False)
    for column in ("When (UTC)", "Who", "Tool", "Targets", "Decision", "Outcome"):
        table.add_column(column, overflow="fold", no_wrap=column in {"When (UTC)", "Decision"})
    for e in entries:
        names = ", ".join(t.get("name") or t.get("instance_id") or "?" for t in e.targets) or "-"
        # Narrow: the client's version and the tools' common suffix are what a person can spare.
        who = e.caller.split("/")[0].removeprefix("aiops-") if narrow else e.caller
        tool = e.tool.removesuffix("_instances") if narrow else e.tool
        when = e.ts.replace("T", " ")[5:16] if narrow else e.ts.replace("T", " ")[:19]
        table.add_row(when, escape(who), tool, escape(names), styled(e.decision),
                      escape(e.outcome))
    return table


def confirmation_panel(request: Any) -> RenderableType:
    """What the person reads before y/N, from the server's facts; the server's words when it sent none."""
    risky = request.production or request.action == "terminate"
    style = "red" if risky else "yellow"
    if request.action is None:
        body, _, _ = request.message.rpartition("Proceed? [y/N]")
        return Panel(Text((body or request.message).rstrip()), title="confirmation required",
                     border_style=style, expand=False)
    table = Table(show_header=True, header_style="bold", show_edge=False, box=None, padding=(0, 2))
    # Where each target lives, whenever the server says: the same Name elsewhere is another machine.
    placed = any(getattr(t, "region", None) or getattr(t, "account", None) for t in request.targets)
    for column in ("Name", "ID", "State", "Env", *(("Account", "Region") if placed else ())):
        table.add_column(column, no_wrap=column in {"ID", "Region"})
    for target in request.targets:
        where = [getattr(target, "account", None) or "-", getattr(target, "region", None) or "-"] if placed else []
        table.add_row(target.name or "(no name)", target.instance_id, styled(target.state), target.env or "-",
                      *where)
    lines: list[RenderableType] = [
        Text(f"{request.action.upper()} {len(request.targets)} instance(s)", style="bold"), table]
    if request.production:
        lines.append(Text("This touches PRODUCTION.", style="bold red"))
    lines.append(Text(f"Risk ({request.risk or '?'}): {request.consequence or ''}"))
    return Panel(Group(*lines), title="confirmation required", border_style=style, expand=False)


RENDERERS = {
    "list_instances": instances_table,
    "describe_instance": instance_detail,
    "get_instance_status": status_table,
    "list_alarms": alarms_table,
    "get_metric_statistics": metric_view,
    "get_cost_and_usage": cost_view,
    "search_logs": logs_view,
    "list_log_groups": log_groups_table,
    "search_sops": sops_view,
    "get_alarm_evidence": evidence_view,
}


def render_result(tool: str, data: dict | None) -> RenderableType:
    if data is None:
        return Text("None")
    # Every mutating tool answers with an ActionResult (action, status, targets): one view for all.
    renderer = RENDERERS.get(tool) or (action_view if "action" in data and "targets" in data else None)
    return with_skips(renderer(data), data) if renderer else Text(str(data))
