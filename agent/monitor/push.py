"""`monitor --queue`: incidents from alarm changes AWS pushes (EventBridge or SNS, through SQS).

A batch of messages is turned into the same signals the poll makes (agent/monitor/signals.py) and
handled by the same Responder, so a pushed alarm gets the same incident, SOP, proposal and page.
A message is deleted only after its incident change is stored; one that is not an alarm change is
counted, logged once and left for the dead-letter queue. A change older than one already applied
to the same alarm (late, duplicated, reordered) changes nothing. A full poll still runs every
`reconcile_minutes`, so an event that never arrived costs at most that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.monitor.alarm_events import AlarmChange, NotAnAlarmChange, parse_message
from agent.monitor.models import CycleReport
from agent.monitor.observe import Observation, add_details
from agent.monitor.respond import Cycle
from agent.monitor.signals import alarm_signals, resource_key

log = logging.getLogger(__name__)

DEFAULT_RECONCILE_MINUTES = 5
RECEIVE_WAIT_SECONDS = 5  # a long poll answers at once when messages are there; this bounds a SIGTERM's wait
MAX_LOGGED_BAD = 10_000  # ids of bad messages already logged: once each, in bounded memory


class MessageQueue(Protocol):  # utils/alarm_queue.py's AlarmQueue
    name: str

    def receive(self, wait_seconds: float) -> list[Any]: ...

    def delete(self, messages: list[Any]) -> list[str]: ...


@dataclass
class BatchReport:
    received: int = 0
    applied: int = 0  # changes that opened or resolved something, or were newer news about an open one
    stale: int = 0  # duplicates and changes older than one already applied
    rejected: int = 0  # not alarm changes: left for the dead-letter queue
    failed: int = 0  # handling raised: not deleted, they come back after the visibility timeout
    ages: list[float] = field(default_factory=list)  # seconds each waited in the queue (SentTimestamp to now)
    cycle: CycleReport | None = None


@dataclass
class PushIntake:
    monitor: Any  # agent.monitor.loop.Monitor
    queue: MessageQueue
    reconcile_seconds: float = DEFAULT_RECONCILE_MINUTES * 60
    on_batch: Callable[[BatchReport], None] | None = None
    clock: Callable[[], float] = time.monotonic
    _logged: set[str] = field(default_factory=set)
    _ledger: Any = None  # agent/monitor/stores.py Ledger: SQLite or the shared DynamoDB table

    def __post_init__(self) -> None:
        from agent.monitor.stores import open_ledger

        self._ledger = open_ledger(self.monitor.settings)

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()

    async def run(self, stopping: asyncio.Event) -> None:
        """Until `stopping`: a full poll now and every reconcile interval, pushed changes in between."""
        next_poll = self.clock()
        while not stopping.is_set():
            if self.clock() >= next_poll:
                await self._guarded(self.monitor.run_cycle(), "reconciliation poll")
                next_poll = self.clock() + self.reconcile_seconds
            wait = max(0.0, min(RECEIVE_WAIT_SECONDS, next_poll - self.clock()))
            try:
                messages = await asyncio.to_thread(self.queue.receive, wait)
            except Exception as exc:  # the queue is unreachable: say so, wait, try again
                log.warning("receiving from %s failed: %s", self.queue.name, exc)
                self.monitor.announcer.emit(None, _skip(f"queue {self.queue.name} unreadable: {exc}"))
                await _sleep_unless(stopping, RECEIVE_WAIT_SECONDS)
                continue
            if messages and stopping.is_set():  # taken after SIGTERM: not started, so handed straight back
                await asyncio.to_thread(self._give_back, messages)
                break
            if messages and not await self._guarded(self.handle(messages), "queue batch") \
                    and self.on_batch is not None:  # the batch in hand is finished even if SIGTERM comes meanwhile
                self.on_batch(BatchReport(received=len(messages), failed=len(messages), ages=_ages(messages)))
            elif self.on_batch is not None:
                self.on_batch(BatchReport())  # an empty turn still shows the loop is alive

    async def handle(self, messages: list[Any]) -> BatchReport:
        report = BatchReport(received=len(messages), ages=_ages(messages))
        changes: list[tuple[Any, AlarmChange]] = []
        for message in messages:
            try:
                changes.append((message, parse_message(message.body)))
            except NotAnAlarmChange as exc:
                report.rejected += 1
                self._log_once(message, str(exc))
        handled = [m for m, _ in changes]
        refused = [m for m in messages if m not in handled]
        if refused:  # back at once: five quick receives take it to the dead-letter queue, not five timeouts
            await asyncio.to_thread(self._give_back, refused)
        report.cycle = await self.apply([c for _, c in changes], report)
        failed = await asyncio.to_thread(self.queue.delete, handled) if handled else []
        if failed:
            log.warning("%d handled message(s) not deleted; they come back and change nothing", len(failed))
        if self.on_batch is not None:
            self.on_batch(report)
        return report

    async def apply(self, changes: list[AlarmChange], report: BatchReport) -> CycleReport:
        """Store each change that is news, then open or resolve, as one monitor cycle would."""
        monitor = self.monitor
        async with monitor._lock:
            cycle = Cycle(CycleReport(started_at=monitor.clock()), auto_left=monitor.auto.max_per_cycle)
            open_by_key = {inc.key: inc for inc in monitor.store.open_incidents()}
            newest: dict[str, tuple[AlarmChange, dict[str, Any]]] = {}
            keyed = [(resource_key(row), change, row) for change in changes
                     for row in (change.as_alarm_row(self._account_name(change.account_id)),)]
            applied = self._ledger.latest_many({key for key, _, _ in keyed})  # one read for the batch
            for key, change, row in keyed:
                if self._is_news(change, open_by_key.get(key), newest.get(key), applied.get(key)):
                    newest[key] = (change, row)
            report.applied = len(newest)
            report.stale = len(changes) - report.applied  # duplicates, older news, and news a newer one replaced
            # Only the incidents this judgement saw open: one another worker opened since is not this OK's
            # to resolve (the OK may be older than the ALARM that opened it).
            back_to_ok = [open_by_key[key] for key, (change, _) in newest.items()
                          if change.state == "OK" and key in open_by_key]
            if back_to_ok:
                await monitor.responder.resolve_incidents(back_to_ok, cycle)
            firing = [row for change, row in newest.values() if change.state == "ALARM"]
            if firing:
                await self._open(firing, cycle)
            assert self._ledger is not None
            for key, (change, _) in newest.items():  # stored: now it may count as applied
                self._ledger.record(key, change.changed_at, change.state)
            await monitor.responder.notify_orphans(cycle)
            cycle.report.open_incidents = monitor.store.open_incidents()
            cycle.report.skipped = cycle.skips.lines()
            monitor.announcer.skips(cycle.report, quiet=set(monitor.auto.problems))
            return cycle.report

    def _give_back(self, messages: list[Any]) -> None:
        """Visible to the other workers at once, rather than after the visibility timeout."""
        release = getattr(self.queue, "release", None)
        try:
            if release is not None:
                release(messages)
        except Exception as exc:  # they come back after the visibility timeout anyway
            log.warning("could not hand %d message(s) back to %s: %s", len(messages), self.queue.name, exc)

    def _is_news(self, change: AlarmChange, incident: Any, in_batch: tuple | None, latest: float | None) -> bool:
        at = change.changed_at.timestamp()
        if in_batch is not None and in_batch[0].changed_at >= change.changed_at:
            return False
        if latest is not None and at <= latest:
            return False
        # An incident the poll opened has no ledger entry; the poll saw the alarm at most one interval after
        # it fired, so an OK from before that is older than the ALARM and must not resolve it.
        if change.state == "OK" and incident is not None and latest is None:
            return at >= incident.opened_at - self.monitor.interval
        return True

    async def _open(self, rows: list[dict[str, Any]], cycle: Cycle) -> None:
        monitor = self.monitor
        seen = Observation(instances={}, statuses=None, alarms=rows)
        wanted = {r["instance_id"] for r in rows if r.get("instance_id")}
        if wanted:  # tiers need the instance's env and tags; an event carries only its id
            await add_details(monitor.session, seen, wanted, monitor._details, cycle.skips)
        already = {inc.key for inc in monitor.store.open_incidents()}
        signals = alarm_signals(rows, seen.instances, monitor.rules, cycle.skips)
        await monitor.responder.open_all([s for s in signals if s.incident.key not in already], cycle)

    def _account_name(self, account_id: str | None) -> str:
        """Rows name accounts as aiops.toml does; an id that is none of the configured roles' is `default`."""
        for account in getattr(self.monitor.settings, "accounts", None) or []:
            arn = getattr(account, "role_arn", None) or (account.get("role_arn") if isinstance(account, dict) else None)
            name = getattr(account, "name", None) or (account.get("name") if isinstance(account, dict) else None)
            declared = getattr(account, "account_id", None)
            if account_id and name and ((arn and f":{account_id}:" in arn) or declared == account_id):
                return name
        names = getattr(self.monitor.settings, "account_names", None)  # the session's own, as the poll names it
        return names[0] if names else "default"

    def _log_once(self, message: Any, why: str) -> None:
        if message.message_id in self._logged:
            return
        if len(self._logged) >= MAX_LOGGED_BAD:
            self._logged.clear()
        self._logged.add(message.message_id)
        log.warning("message %s on %s is not an alarm change (%s); left for the dead-letter queue",
                    message.message_id, self.queue.name, why)
        self.monitor.announcer.emit(None, _skip(f"message {message.message_id} on {self.queue.name} is not an "
                                                f"alarm change ({why}); left for the dead-letter queue"))

    async def _guarded(self, work: Any, what: str) -> bool:
        try:
            await work
        except Exception as exc:  # a broken batch or poll must not end the worker
            log.exception("%s failed", what)
            self.monitor.announcer.emit(None, _skip(f"{what} failed: {exc}"))
            return False
        return True


def _ages(messages: list[Any]) -> list[float]:
    now = time.time()
    return [max(0.0, now - m.sent_at) for m in messages if getattr(m, "sent_at", None) is not None]


def _skip(message: str) -> Any:
    from agent.monitor.models import MonitorEvent

    return MonitorEvent(kind="skipped", message=message)


async def _sleep_unless(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
