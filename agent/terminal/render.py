"""Tool results as rich renderables: tables, bars, sparklines. Pure functions; the Terminal prints."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

STATE_STYLE = {
    "allowed": "green", "declined": "yellow", "refused": "red", "unconfirmed": "yellow", "error": "red",
    "attempted": "dim",
    "running": "green", "stopped": "red", "stopping": "yellow", "pending": "yellow",
    "shutting-down": "magenta", "terminated": "dim", "ALARM": "bold red", "OK": "green",
    "INSUFFICIENT_DATA": "yellow", "ok": "green", "impaired": "bold red",
}
STATUS_STYLE = {"ok": "green", "dry_run": "cyan", "declined": "yellow", "refused": "red", "unconfirmed": "yellow",
                "error": "red"}
SPARK = "▁▂▃▄▅▆▇█"
BAR_WIDTH = 30


def styled(value: Any) -> Text:
    text = "-" if value in (None, "") else str(value)
    return Text(text, style=STATE_STYLE.get(text, ""))


def instances_table(data: dict) -> RenderableType:
    table = Table(title=f"{data.get('count', 0)} instance(s)", title_justify="left", header_style="bold")
    for column in ("Name", "ID", "State", "Type", "Env", "AZ"):
        table.add_column(column, no_wrap=column in {"ID", "State"})
    for i in data.get("instances", []):
        name = (i.get("name") or "-") + (" 🔒" if i.get("protected") else "")
        table.add_row(name, i["instance_id"], styled(i.get("state")), i.get("instance_type") or "-",
                      i.get("env") or "-", i.get("availability_zone") or "-")
    if data.get("has_more_results"):
        table.caption = "list cut short; filter by name, state or tags to see the rest"
    return table


def instance_detail(data: dict) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    fields = ["instance_id", "name", "state", "instance_type", "env", "role", "availability_zone", "private_ip",
              "public_ip", "image_id", "vpc_id", "subnet_id", "key_name", "platform", "launch_time",
              "stop_protection", "termination_protection", "protected", "state_reason"]
    for key in fields:
        value = data.get(key)
        if value not in (None, "", []):
            table.add_row(key.replace("_", " "), styled(value))
    if data.get("security_groups"):
        table.add_row("security groups", ", ".join(data["security_groups"]))
    return Panel(table, title=data.get("name") or data.get("instance_id"), expand=False)


def status_table(data: dict) -> RenderableType:
    title = f"status checks ({data.get('impaired', 0)} impaired"
    title += f", {data['alarming']} with alarms in ALARM)" if data.get("alarming") else ")"
    if data.get("alarms_checked") is False:
        title += " — CloudWatch alarms could not be read"
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in ("Name", "ID", "State", "System", "Instance", "Alarms", "Events"):
        table.add_column(column, overflow="fold")
    for s in data.get("statuses", []):
        alarms = Text(", ".join(s.get("alarms") or []) or "-", style="bold red" if s.get("alarms") else "")
        table.add_row(s.get("name") or "-", s["instance_id"], styled(s.get("state")), styled(s.get("system_status")),
                      styled(s.get("instance_status")), alarms, ", ".join(s.get("events") or []) or "-")
    return table


def alarms_table(data: dict) -> RenderableType:
    table = Table(title=f"{data.get('count', 0)} alarm(s), {data.get('firing', 0)} firing", title_justify="left",
                  header_style="bold")
    for column in ("Alarm", "State", "Metric", "Instance", "Reason"):
        table.add_column(column, overflow="fold")
    for a in data.get("alarms", []):
        table.add_row(a["name"], styled(a.get("state")), a.get("metric") or "-", a.get("instance_id") or "-",
                      escape((a.get("reason") or "")[:80]))
    if data.get("has_more_results"):
        table.caption = f"showing {len(data.get('alarms', []))} of {data.get('count')}; ask for firing alarms to narrow it"
    return table


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((v - low) / span * (len(SPARK) - 1)))] for v in values)


def metric_view(data: dict) -> RenderableType:
    values = [p["value"] for p in data.get("datapoints", [])]
    who = data.get("name") or data.get("instance_id")
    if not values:
        return Text(f"no {data.get('metric')} datapoints for {who} in that window", style="yellow")
    unit = data.get("unit") or ""
    head = Text.assemble((f"{data['metric']} ({data['statistic']}) ", "bold"), f"{who}  ",
                         (sparkline(values), "cyan"))
    stats = Text(f"latest {values[-1]:.1f} {unit}   max {max(values):.1f}   avg {sum(values) / len(values):.1f}"
                 f"   {len(values)} points, {data.get('period')}s each", style="dim")
    return Group(head, stats)


def cost_view(data: dict) -> RenderableType:
    renderables: list[RenderableType] = []
    for period in data.get("periods", []):
        table = Table(title=f"{period['start']} → {period['end']}   total ${period['total']:,.2f}",
                      title_justify="left", header_style="bold", show_edge=False)
        table.add_column("Service")
        table.add_column("Cost", justify="right")
        table.add_column("")
        top = max((g["amount"] for g in period.get("groups", [])), default=0) or 1
        for g in period.get("groups", []):
            bar = "█" * max(1, int(g["amount"] / top * BAR_WIDTH)) if g["amount"] > 0 else ""
            table.add_row(g["key"], f"${g['amount']:,.2f}", Text(bar, style="magenta"))
        renderables.append(table)
    renderables.append(Text(f"Total {data.get('start')} → {data.get('end')}: ${data.get('total', 0):,.2f}",
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


def action_view(data: dict) -> RenderableType:
    status = data.get("status", "error")
    head = Text(f"{status}: {data.get('message', '')}", style=STATUS_STYLE.get(status, ""))
    if status not in {"ok", "dry_run"} or not data.get("targets"):
        return head  # nothing changed: one line with every reason, not a table of unchanged rows
    table = Table(show_header=True, header_style="bold", show_edge=False)
    for column in ("Name", "ID", "Before", "After"):
        table.add_column(column)
    for t in data.get("targets", []):
        table.add_row(t.get("name") or "-", t["instance_id"], styled(t.get("previous_state")),
                      styled(t.get("current_state")))
    return Group(head, table)


def sops_view(data: dict) -> RenderableType:
    results = data.get("results", [])
    if not results:
        return Text("no SOP matched", style="yellow")
    table = Table(header_style="bold", show_edge=False)
    for column in ("#", "SOP", "Score", "Excerpt"):
        table.add_column(column, overflow="fold")
    for n, r in enumerate(results, 1):
        table.add_row(str(n), f"{r['title']}\n[dim]{escape(str(r['source']))}[/dim]", f"{r['score']:.2f}",
                      escape(r.get("excerpt", "")[:160]))
    return table


def history_table(entries: list[Any]) -> RenderableType:
    """Audit rows, oldest first: who asked for what, what was decided, and what happened, uncut."""
    table = Table(header_style="bold", show_edge=False)
    for column in ("When (UTC)", "Who", "Tool", "Targets", "Decision", "Outcome"):
        table.add_column(column, overflow="fold", no_wrap=column == "When (UTC)")
    for e in entries:
        names = ", ".join(t.get("name") or t.get("instance_id") or "?" for t in e.targets) or "-"
        table.add_row(e.ts.replace("T", " ")[:19], escape(e.caller), e.tool, escape(names),
                      styled(e.decision), escape(e.outcome))
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
    for column in ("Name", "ID", "State", "Env"):
        table.add_column(column, no_wrap=column == "ID")
    for target in request.targets:
        table.add_row(target.name or "(no name)", target.instance_id, styled(target.state), target.env or "-")
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
    "search_sops": sops_view,
}


def render_result(tool: str, data: dict | None) -> RenderableType:
    if data is None:
        return Text("None")
    # Every mutating tool answers with an ActionResult (action, status, targets): one view for all.
    renderer = RENDERERS.get(tool) or (action_view if "action" in data and "targets" in data else None)
    return renderer(data) if renderer else Text(str(data))
