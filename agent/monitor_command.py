"""`monitor` and `incidents` without the REPL: for cron, systemd and scripts.

`monitor --once` runs one cycle and exits 0, or 1 when a source could not be read at all; `--json`
prints the documented JSON (docs/architecture.md) (the incidents open after the cycle plus those it
resolved; `notified` = this run handed the notifier an alert about it). Without `--once` it runs until SIGINT/SIGTERM, one line per event (`--json`: one JSON object
per event line). Skip reasons go to stderr in JSON mode so stdout stays one document.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import signal
import sys
from datetime import UTC, datetime
from typing import Any

from agent.monitor.incidents import IncidentStoreUnavailable
from agent.monitor.models import CycleReport, MonitorEvent, duration, evidence_line, incident_json, where
from agent.monitor.records import IncidentHistory, Verification
from agent.monitor.stores import has_store, open_store
from utils.config import Settings


def run_monitor(args: argparse.Namespace, settings: Settings) -> int:
    if args.interval is not None:
        if not math.isfinite(args.interval) or args.interval <= 0:
            sys.stderr.write("error: --interval must be a number of seconds above 0\n")
            return 2
        settings.poll_seconds = args.interval
    http = getattr(args, "http", None)
    if http is not None:
        from agent.monitor.status_http import parse_bind

        if args.once:
            sys.stderr.write("error: --http serves a running monitor; it cannot go with --once\n")
            return 2
        try:
            args.http = parse_bind(http)
        except ValueError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 2
    args.queue = getattr(args, "queue", None) or settings.intake.get("queue")
    if args.queue is not None and (not isinstance(args.queue, str) or not args.queue.strip()):
        sys.stderr.write("error: [intake] queue must be an SQS queue URL or name\n")
        return 2
    if args.queue and args.once:
        sys.stderr.write("error: --queue runs a worker until stopped; it cannot go with --once\n")
        return 2
    from utils.sandbox import start_private_sandbox

    sandbox = start_private_sandbox(settings) if settings.sandbox else None
    try:
        return asyncio.run(_monitor(args, settings))
    finally:
        if sandbox is not None:
            sandbox.stop()


async def _monitor(args: argparse.Namespace, settings: Settings) -> int:
    from agent.mcp_client import open_session
    from agent.monitor.loop import Monitor, check_config

    check_config(settings)  # a broken aiops.toml is one line and exit 2, before anything starts
    failure: BaseException | None = None
    status = 0
    # In memory: the same server and guards in-process, still one session for the process.
    async with open_session(settings, client_name="aiops-monitor") as session:
        printer = _json_event if args.json else _text_event
        try:
            on_event = None if (args.json and args.once) else printer
            if getattr(args, "http", None):
                monitor, server, metrics = _monitor_with_status(Monitor, session, settings, on_event, args.http)
            else:
                monitor, server, metrics = Monitor(session, settings, on_event=on_event), None, None
            from agent.monitor.slack_approvals import listen_for_clicks

            clicks = None if args.once else await listen_for_clicks(monitor, session, settings)
            try:
                if args.once:
                    report = await monitor.run_cycle()
                    _print_report(report, args.json)
                    status = _unread_status(report)
                elif args.queue:
                    await _run_queue_until_signal(monitor, settings, args.queue, metrics)
                else:
                    await _run_until_signal(monitor)
            finally:
                if clicks is not None:
                    clicks.close()
                if server is not None:
                    server.shutdown()
                monitor.close()
        except Exception as exc:  # raised outside the session, so it is not wrapped in a task-group error
            failure = exc
    if failure is not None:
        raise failure
    return status


def _monitor_with_status(monitor_class: Any, session: Any, settings: Settings, printer: Any,
                         bind: tuple[str, int]) -> tuple[Any, Any, Any]:
    """A monitor whose reports, events and notifier feed the metrics, and the server that shows them."""
    from agent.monitor.status_http import MeteredNotifier, MonitorMetrics, serve
    from notify.registry import notifier_from_settings

    metrics = MonitorMetrics(settings.poll_seconds)

    def on_event(event: MonitorEvent) -> None:
        metrics.event(event)
        if printer is not None:
            printer(event)

    monitor = monitor_class(session, settings, on_event=on_event,
                            notifier=MeteredNotifier(notifier_from_settings(settings), metrics))
    monitor.on_cycle = metrics.cycle

    def incidents() -> list[dict[str, Any]]:
        store = open_store(settings)  # its own connection: this runs on the server's thread
        try:
            return [history_json(h) for h in store.history(20)]
        finally:
            store.close()

    server = serve(metrics, incidents, *bind)
    sys.stderr.write(f"serving /healthz /readyz /metrics /incidents on http://{bind[0]}:{server.server_port}\n")
    return monitor, server, metrics


def _unread_status(report: CycleReport) -> int:
    """1, with the reason on stderr, when a source could not be read at all: a script must not take
    "nothing open" from a cycle that saw nothing."""
    if not report.unread:
        return 0
    reasons = list(dict.fromkeys(report.unread.values()))  # sources sharing one failed call say it once
    sys.stderr.write(f"error: could not read the {', '.join(report.unread)} source(s): {'; '.join(reasons)}\n")
    return 1


def _print_report(report: CycleReport, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), ensure_ascii=False) + "\n")
        for line in report.skipped:
            sys.stderr.write(f"skipped: {line}\n")
        return
    print(f"cycle: {report.alarms_firing} alarm(s) firing, {len(report.opened)} opened, "
          f"{len(report.resolved)} resolved, {len(report.open_incidents)} open ({report.duration_seconds:.2f}s)")


async def _run_until_signal(monitor: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform
            loop.add_signal_handler(sig, stop.set)
    monitor.start()
    try:
        await stop.wait()
    finally:
        await monitor.stop()


async def _run_queue_until_signal(monitor: Any, settings: Settings, queue: str, metrics: Any) -> None:
    """Pushed changes from the queue, a reconciling poll every `reconcile_minutes`; SIGTERM finishes the
    batch in hand and exits. A worker killed outright loses nothing: unhandled messages come back."""
    from agent.monitor.push import DEFAULT_RECONCILE_MINUTES, PushIntake
    from utils.alarm_queue import AlarmQueue
    from utils.config import ConfigError

    minutes = settings.intake.get("reconcile_minutes", DEFAULT_RECONCILE_MINUTES)
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not 0 < minutes <= 1440:
        raise ConfigError(f"invalid setting intake.reconcile_minutes: {minutes!r} (minutes, above 0, at most 1440)")
    alarm_queue = await asyncio.to_thread(AlarmQueue, settings, queue)
    intake = PushIntake(monitor, alarm_queue, reconcile_seconds=minutes * 60,
                        on_batch=metrics.batch if metrics is not None else None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    sys.stderr.write(f"taking alarm changes from {alarm_queue.url}; reconciling by poll every {minutes:g} min\n")
    try:
        await intake.run(stop)
    finally:
        intake.close()


def _text_event(event: MonitorEvent) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp} {event.kind}: {event.message}", flush=True)


def _json_event(event: MonitorEvent) -> None:
    line = {"ts": datetime.now(UTC).isoformat(timespec="seconds"), "kind": event.kind,
            "incident_id": event.incident_id, "tier": event.tier, "message": event.message}
    sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# -- incidents ------------------------------------------------------------------------------------


def show_incidents(args: argparse.Namespace, settings: Settings) -> int:
    from agent.monitor.stores import reading_shared_store

    with reading_shared_store(settings):
        return _show_incidents(args, settings)


def _show_incidents(args: argparse.Namespace, settings: Settings) -> int:
    history: list[IncidentHistory] = []
    try:
        store = open_store(settings) if has_store(settings) else None  # reading creates no store
    except IncidentStoreUnavailable as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    if store is not None:
        try:
            history = store.history(args.limit or 20)
        finally:
            store.close()
    if args.json:
        from notify.delivery import deliveries

        # Per destination from the local outbox file; the shared DynamoDB outbox keeps its rows elsewhere, so
        # there `notified` stays the incident's own yes/no rather than an empty map that would say "nowhere".
        sent = None if settings.dynamodb_table else deliveries(settings.state_dir, (h.incident.id for h in history))
        document = [history_json(h, None if sent is None else sent.get(h.incident.id, {})) for h in history]
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
        return 0
    if not history:
        print("no incidents yet")
    for item in history:
        print(*_history_lines(item), sep="\n")
    return 0


def history_json(item: IncidentHistory, delivered: dict[str, Any] | None = None) -> dict[str, Any]:
    """One incident's timeline: opened, tier, SOP, proposal, decision, action outcome, resolved; with `delivered`
    (notify/delivery.py), `notified` is each destination's delivery state."""
    inc, approval = item.incident, item.approval
    data = incident_json(inc, inc.notified_at is not None)
    if delivered is not None:
        data["notified"] = delivered
    data.update({
        "tier_reason": inc.tier_reason,
        "opened_at": _iso(inc.opened_at),
        "resolved_at": _iso(inc.resolved_at),
        "time_to_resolve_seconds": round(inc.time_to_resolve, 1) if inc.time_to_resolve is not None else None,
        "risk": inc.proposal.risk if inc.proposal else None,
        "notified_at": _iso(inc.notified_at),
        "pages": inc.pages,
        "decision": None if approval is None else {
            "status": approval.status, "by": approval.decided_by, "at": _iso(approval.decided_at),
            "reason": approval.reason, "expires_at": _iso(approval.expires_at)},
        "action": None if approval is None or approval.outcome_status is None else {
            "status": approval.outcome_status, "message": approval.outcome_message},
        "verification": _verification_json(item.verification),
        "timeline": [{"ts": _iso(e.ts), "kind": e.kind, "actor": e.actor, "detail": e.detail}
                     for e in item.timeline],
    })
    return data


def _verification_json(watch: Verification | None) -> dict[str, Any] | None:
    """Did the fix work: the last action's watch (`after_seconds` null while it is still watching)."""
    if watch is None:
        return None
    after = watch.after_seconds
    return {"action": watch.action, "at": _iso(watch.acted_at), "result": watch.result,
            "after_seconds": None if after is None else round(after, 1), "line": watch.line()}


def _history_lines(item: IncidentHistory) -> list[str]:
    inc, approval = item.incident, item.approval
    lines = [f"{inc.id}  Tier {inc.tier}  {inc.status:<8}  {inc.alarm} on {where(inc)}"]
    sop = inc.sops[0]["title"] if inc.sops else "none"
    proposal = inc.proposal
    if proposal is not None and not proposal.mutating:  # a read that ran at diagnosis
        found = evidence_line(inc.evidence)
        lines.append(f"    opened {_iso(inc.opened_at)} · SOP: {sop} · read: {proposal.describe(inc.name)}"
                     + (f" → {found}" if found else ""))
    else:
        what = f"{proposal.describe(inc.name)} [risk {proposal.risk}]" if proposal else "none"
        lines.append(f"    opened {_iso(inc.opened_at)} · SOP: {sop} · proposal: {what}")
    if approval is not None:
        who = f" by {approval.decided_by} at {_iso(approval.decided_at)}" if approval.decided_at else ""
        outcome = f" · action: {approval.outcome_status} — {approval.outcome_message}" if approval.outcome_status else ""
        lines.append(f"    decision: {approval.status}{who}{outcome}")
    if item.verification is not None:
        lines.append(f"    verification: {item.verification.line()}")
        watched = next((n for n, e in enumerate(item.timeline) if e.kind == "watching"), len(item.timeline))
        # What followed a fix that did not help: the page one tier higher and the next proposal.
        lines += [f"    {e.kind}: {e.detail}" for e in item.timeline[watched:] if e.kind in {"repaged", "proposal"}]
    if inc.resolved_at is not None:
        lines.append(f"    resolved {_iso(inc.resolved_at)} after {duration(inc.time_to_resolve)}")
    return lines


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
