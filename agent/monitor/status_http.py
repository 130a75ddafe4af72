"""`monitor --http HOST:PORT`: what a supervisor and Prometheus ask of a running worker.

/healthz   200 while the loop is alive (a cycle finished within three intervals), else 503
/readyz    200 when the last cycle read AWS and the store, else 503 with the reason
/metrics   Prometheus text format, through the official prometheus_client (own registry)
/incidents the `incidents --json` document

The counters are fed from what the monitor already reports (each cycle's CycleReport, each
MonitorEvent) and from a notifier wrapper, so nothing in the loop knows it is being measured.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from agent.monitor.models import CycleReport, MonitorEvent
from notify.base import Alert, DeliveryResult, Notifier

ALIVE_INTERVALS = 3  # a loop that missed three cycles in a row is stuck, not slow
TIERS = ("0", "1", "2")
# received = applied + stale + rejected + failed (a batch that raised: its messages come back)
EVENT_RESULTS = ("received", "applied", "stale", "rejected", "failed")
NOTIFY_RESULTS = ("sent", "queued", "failed")  # per destination; terminal_only and sent_from_outbox as they happen


class MonitorMetrics:
    def __init__(self, interval: float, clock: Callable[[], float] = time.time) -> None:
        self.interval, self.clock = interval, clock
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.cycles = Counter("aiops_monitor_cycles", "Monitor cycles run", registry=r)
        self.cycle_seconds = Histogram("aiops_monitor_cycle_duration_seconds", "Time one cycle took",
                                       buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60), registry=r)
        self.unread = Counter("aiops_monitor_unread_sources", "Sources a cycle could not read at all",
                              ["source"], registry=r)
        self.opened = Counter("aiops_incidents_opened", "Incidents opened", ["tier"], registry=r)
        self.resolved = Counter("aiops_incidents_resolved", "Incidents resolved", ["tier"], registry=r)
        self.repaged = Counter("aiops_incidents_repaged", "Repeat pages of unacknowledged incidents",
                               ["tier"], registry=r)
        self.open_now = Gauge("aiops_incidents_open", "Incidents open after the last cycle", ["tier"], registry=r)
        self.notifications = Counter("aiops_notifications", "Alerts handed to a destination, by result",
                                     ["destination", "result"], registry=r)
        self.events = Counter("aiops_queue_events", "Queue messages by what became of them (received, applied, "
                              "stale: duplicate or older, rejected: not an alarm change, failed: handling raised)",
                              ["result"], registry=r)
        self.outbox = Gauge("aiops_outbox_depth", "Alerts waiting in the outbox", ["destination"], registry=r)
        self.queue_age = Histogram("aiops_queue_message_age_seconds", "From SQS accepting a message to a worker "
                                   "receiving it", buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300), registry=r)
        self.oldest = Gauge("aiops_queue_oldest_message_age_seconds", "Age of the oldest message in the last batch",
                            registry=r)
        r.register(_StoreCalls())
        for result in EVENT_RESULTS:
            self.events.labels(result)
        for tier in TIERS:  # zeros from the start, so a rate() has a first sample
            self.opened.labels(tier)
            self.resolved.labels(tier)
            self.open_now.labels(tier).set(0)
        self.last_cycle_at: float | None = None
        self.last_problem: str | None = "no cycle has finished yet"

    # -- feeding ------------------------------------------------------------------------------

    def cycle(self, report: CycleReport) -> None:
        self.cycles.inc()
        self.cycle_seconds.observe(report.duration_seconds)
        for source in report.unread:
            self.unread.labels(source).inc()
        self._saw(report)
        self.last_problem = "; ".join(f"{k}: {v}" for k, v in report.unread.items()) or None

    def batch(self, report: Any) -> None:
        """One turn of the queue loop (agent/monitor/push.py BatchReport), empty ones included: the loop lives."""
        for result in EVENT_RESULTS:
            self.events.labels(result).inc(getattr(report, result, 0))
        ages = getattr(report, "ages", None) or []
        for age in ages:
            self.queue_age.observe(age)
        if report.received:
            self.oldest.set(max(ages, default=0.0))
        if report.cycle is not None:
            self._saw(report.cycle)
        self.last_cycle_at = self.clock()

    def _saw(self, report: CycleReport) -> None:
        counts = dict.fromkeys(TIERS, 0)
        for incident in report.open_incidents:
            counts[str(incident.tier)] = counts.get(str(incident.tier), 0) + 1
        for tier, n in counts.items():
            self.open_now.labels(tier).set(n)
        self.last_cycle_at = self.clock()

    def event(self, event: MonitorEvent) -> None:
        tier = str(event.tier) if event.tier is not None else "none"
        counter = {"opened": self.opened, "resolved": self.resolved, "repaged": self.repaged}.get(event.kind)
        if counter is not None:
            counter.labels(tier).inc()

    # -- answering ----------------------------------------------------------------------------

    def alive(self) -> bool:
        if self.last_cycle_at is None:
            return True  # starting: the first cycle is under way
        return self.clock() - self.last_cycle_at <= ALIVE_INTERVALS * self.interval + 30

    def ready(self) -> tuple[bool, str]:
        return (self.last_problem is None, self.last_problem or "ready")


class MeteredNotifier:
    """A Notifier that counts what it hands on and how deep the outbox is; otherwise the one it wraps."""

    def __init__(self, inner: Notifier, metrics: MonitorMetrics) -> None:
        self.inner, self.metrics = inner, metrics
        # Read at scrape time, not after this worker's last send: with AIOPS_STORE=dynamodb the outbox is
        # shared, and a value set then went stale the moment another worker sent its row.
        metrics.outbox.labels(inner.name).set_function(self._depth)

    def __getattr__(self, name: str) -> Any:  # name, enabled, config_error, describe: the wrapped one's
        return getattr(self.inner, name)

    def notify(self, alert: Alert) -> DeliveryResult:
        for result in NOTIFY_RESULTS:  # zeros per destination from the first alert, so a rate() has a first sample
            self.metrics.notifications.labels(self.inner.name, result)
        try:
            result = self.inner.notify(alert)
        except Exception:
            self.metrics.notifications.labels(self.inner.name, "failed").inc()
            raise
        self.metrics.notifications.labels(self.inner.name, result.status).inc()
        return result

    def drain(self) -> int:
        sent = self.inner.drain()
        if sent:
            self.metrics.notifications.labels(self.inner.name, "sent_from_outbox").inc(sent)
        return sent

    def pending(self) -> int:
        return self.inner.pending()

    def _depth(self) -> float:
        try:
            return float(self.inner.pending())
        except Exception:  # a store that cannot be read now: no figure rather than a failed scrape
            return float("nan")


class _StoreCalls:
    """`aiops_store_calls_total{operation}`: DynamoDB calls this worker made (utils/dynamo.py counts them)."""

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily

        from utils.dynamo import CALLS

        family = CounterMetricFamily("aiops_store_calls", "DynamoDB calls made (AIOPS_STORE=dynamodb)",
                                     labels=["operation"])
        for operation, n in sorted(CALLS.items()):
            family.add_metric([operation], n)
        yield family

    def describe(self) -> Any:
        return []


def serve(metrics: MonitorMetrics, incidents: Callable[[], list[dict[str, Any]]], host: str,
          port: int) -> ThreadingHTTPServer:
    """Start answering on a daemon thread; `.shutdown()` stops it. `incidents` runs on that thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                alive = metrics.alive()
                self._send(200 if alive else 503, "text/plain", b"ok\n" if alive else b"monitor loop stalled\n")
            elif path == "/readyz":
                ok, why = metrics.ready()
                self._send(200 if ok else 503, "text/plain", f"{why}\n".encode())
            elif path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(metrics.registry))
            elif path == "/incidents":
                try:
                    body = json.dumps(incidents(), ensure_ascii=False).encode()
                except Exception as exc:  # the store is gone: say so, keep serving
                    self._send(503, "text/plain", f"incident store unavailable: {exc}\n".encode())
                    return
                self._send(200, "application/json", body)
            else:
                self._send(404, "text/plain", b"not found: /healthz /readyz /metrics /incidents\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:  # scrapes every 15 s must not fill the worker's log
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="aiops-monitor-http", daemon=True).start()
    return server


def parse_bind(text: str) -> tuple[str, int]:
    """`127.0.0.1:9464`, `:9464` (loopback) or `0.0.0.0:9464` (told otherwise) -> (host, port); port 0: any free one."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"--http takes HOST:PORT (e.g. 127.0.0.1:9464), got {text!r}")
    return (host.strip("[]") or "127.0.0.1"), int(port)
