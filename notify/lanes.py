"""What every outbox-backed destination shares: lanes, the drain, and the notify() contract.

A destination (Slack webhook, PagerDuty, Discord) is one or more **lanes** (one per distinct URL or
key; tiers that share one share its lane and its order) and a way to turn an alert into a request.
`notify()` writes the alert to the outbox first, then drains oldest-first, so a new alert never
overtakes one still waiting and nothing is lost while the destination is down. A failed row blocks
only its own lane; a 4xx that means "this setting is wrong" marks the lane broken (rechecked after
a while) and is said once in `config_error` rather than retried every cycle.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notify.base import Alert, DeliveryResult
from notify.outbox import Outbox, OutboxRow

log = logging.getLogger(__name__)

OUTBOX_FILE = "outbox.sqlite3"
# Per call, so one notify() stays short even after a long outage; the rest go next cycle.
DRAIN_BATCH = 50


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str = ""
    config_error: bool = False
    retry_after: float = 0.0


@dataclass(eq=False)  # identity hash: a lane is a key in the outbox's blocked set
class Lane:
    """One destination endpoint. `send` posts one rendered request and never raises."""

    redacted: str  # how lines people read name it: never the secret itself
    settings: list[str]  # the variables that point here, for "check X" hints
    send: Callable[[dict[str, Any]], Outcome] | None = field(repr=False, default=None)
    broken: str | None = None  # config error text while the endpoint is known bad
    broken_until: float = 0.0
    not_before: float = 0.0  # a Retry-After longer than we wait inline

    @property
    def setting(self) -> str:
        return " / ".join(self.settings)

    def ready(self, now: float) -> bool:
        return now >= self.not_before and (self.broken is None or now >= self.broken_until)


@dataclass
class DrainReport:
    delivered: list[int] = field(default_factory=list)
    failures: dict[Hashable, str] = field(default_factory=dict)
    busy: set[Hashable] = field(default_factory=set)  # (lane, incident id): a row another process holds


class OutboxNotifier:
    """The Notifier protocol (notify/base.py) over lanes and the outbox; subclasses say how to render and post."""

    name = "destination"
    label = "the destination"  # in result lines: "sent to {label} via {setting}"

    def __init__(self, home: Path, tier_lanes: dict[int, Lane | None], *, lease_seconds: float,
                 config_recheck: float = 600.0, db_path: Path | None = None,
                 legacy_table: str | None = None) -> None:
        self.config_error: str | None = next((lane.broken for lane in tier_lanes.values()
                                              if lane is not None and lane.broken), None)
        self._config_recheck = config_recheck
        self._lock = threading.Lock()
        self._tier_lane = tier_lanes
        self.enabled = any(lane is not None for lane in tier_lanes.values())
        self._outbox = Outbox(db_path or Path(home) / OUTBOX_FILE, self.name, lease_seconds=lease_seconds,
                              legacy_table=legacy_table)

    def use_outbox(self, outbox: Any) -> None:
        """Keep this destination's lane elsewhere (the shared DynamoDB table: notify/dynamo_outbox.py)."""
        self._outbox.close()
        self._outbox = outbox

    @property
    def lease_seconds(self) -> float:
        return self._outbox.lease_seconds

    # -- what a subclass provides ----------------------------------------------------------------

    def render(self, row: OutboxRow) -> dict[str, Any]:
        raise NotImplementedError

    def wants(self, alert: Alert) -> bool:
        """Whether this alert is for this destination at all (PagerDuty pages only some tiers)."""
        return True

    def scrub(self, text: str) -> str:
        return text

    # -- the Notifier protocol -------------------------------------------------------------------

    def describe(self) -> str:
        if not self.enabled:
            return f"{self.name}: not configured (alerts in the terminal only)"
        routes = {t: lane.redacted for t, lane in self._tier_lane.items() if lane is not None}
        if len(routes) == 3 and len(set(self._tier_lane.values())) == 1:
            return f"{self.name} {routes[0]} (all tiers)"
        return f"{self.name}: " + ", ".join(f"Tier {t} → {where}" for t, where in routes.items())

    def pending(self) -> int:
        return self._outbox.count()

    def drain(self) -> int:
        """Deliver what is queued, oldest first; returns how many were delivered."""
        if not self.enabled:
            return 0
        with self._lock:
            return len(self._drain().delivered)

    def notify(self, alert: Alert) -> DeliveryResult:
        lane = self._tier_lane.get(alert.tier)
        if lane is None or not self.wants(alert):
            why = (f"no {self.label} configured" if not self.enabled
                   else f"{self.label} is not for Tier {alert.tier} {alert.kind} alerts")
            return DeliveryResult(status="terminal_only", detail=f"{why}: terminal only")
        with self._lock:
            row_id = self._outbox.put(alert)
            report = self._drain()
        others = sum(1 for delivered in report.delivered if delivered != row_id)
        if row_id in report.delivered:
            return DeliveryResult(status="sent", detail=f"sent to {self.label} via {lane.setting}", drained=others)
        if self._outbox.was_sent(row_id):  # handed over before (a crash in between): not sent twice
            return DeliveryResult(status="sent", detail=f"already sent to {self.label} via {lane.setting}",
                                  drained=others)
        why = report.failures.get(lane) or (
            "an earlier message about this incident is being sent by another process"
            if (lane, alert.incident_id) in report.busy
            else "the outbox backlog is long"
        )
        return DeliveryResult(
            status="queued",
            detail=f"{why}; kept in the {self.name} outbox ({self.pending()} pending), sent on a later cycle",
            drained=others,
        )

    # -- the drain -------------------------------------------------------------------------------

    def _drain(self) -> DrainReport:
        report = DrainReport()
        now = time.time()
        lanes = {lane for lane in self._tier_lane.values() if lane is not None}
        blocked: set[Hashable] = {lane for lane in lanes if not lane.ready(now)}
        for lane in blocked:
            report.failures[lane] = lane.broken or f"{self.label} asked us to wait (rate limited)"
        while len(report.delivered) < DRAIN_BATCH:
            claimed = self._outbox.claim_next(self._tier_lane.get, blocked)
            if claimed is None:
                break
            row, lane = claimed
            assert isinstance(lane, Lane)
            outcome = self._send(lane, row)
            if outcome.ok:
                self._outbox.complete(row.id)
                report.delivered.append(row.id)
                self._mark_healthy(lane)
            else:
                self._outbox.release(row.id, outcome.detail)
                blocked.add(lane)  # keep this lane's order: nothing after the failed row
                report.failures[lane] = outcome.detail
                self._mark_failed(lane, outcome)
        report.busy = blocked - set(report.failures)
        return report

    def _send(self, lane: Lane, row: OutboxRow) -> Outcome:
        assert lane.send is not None
        try:  # whatever goes wrong must end in the outbox, never unwind the monitor loop
            return lane.send(self.render(row))
        except Exception as exc:
            return Outcome(False, f"{self.name} {lane.redacted}: {self.scrub(str(exc)) or type(exc).__name__}")

    def _mark_failed(self, lane: Lane, outcome: Outcome) -> None:
        if outcome.retry_after:
            lane.not_before = time.time() + outcome.retry_after
        if not outcome.config_error:
            log.info("%s", outcome.detail)  # transient: the caller's result says it was queued
            return
        first_time = lane.broken is None
        lane.broken = outcome.detail
        lane.broken_until = time.time() + self._config_recheck
        if first_time:
            self.config_error = outcome.detail
            log.error("%s", outcome.detail)

    def _mark_healthy(self, lane: Lane) -> None:
        if lane.broken is not None and self.config_error == lane.broken:
            self.config_error = None
        lane.broken = None
        lane.not_before = 0.0


def lanes_by_tier(default: str | None, per_tier: dict[int, str | None], env_var: str,
                  make: Callable[[str, str], Lane]) -> dict[int, Lane | None]:
    """One lane per distinct value (URL or key); a tier's own setting overrides the default one."""
    made: dict[str, Lane] = {}
    by_tier: dict[int, Lane | None] = {}
    for tier in (0, 1, 2):
        override = (per_tier.get(tier) or "").strip()
        value = override or (default or "").strip()
        if not value:
            by_tier[tier] = None
            continue
        setting = f"{env_var}_TIER{tier}" if override else env_var
        lane = made.get(value)
        if lane is None:
            lane = made[value] = make(value, setting)
        elif setting not in lane.settings:
            lane.settings.append(setting)
        by_tier[tier] = lane
    return by_tier
