"""Monitor sources behind one interface: the built-in three, and a new one plugged in without touching the loop."""

from __future__ import annotations

import pytest

from agent.mcp_client import open_session
from agent.monitor.loop import Monitor
from agent.monitor.records import NewIncident
from agent.monitor.signals import Instance, Signal, Skips, alarm_signals, status_key, status_signals
from agent.monitor.sources import (
    DEFAULT_SOURCES,
    SOURCES,
    AlarmSource,
    Source,
    SourceContext,
    SourceReading,
    StateChangeSource,
    StatusCheckSource,
    build_sources,
    register,
)
from agent.monitor.tiers import TierRules
from notify.base import TerminalOnly
from utils.config import load_settings


class QueueSource:
    """What a queue consumer looks like to the loop: its own signals, and a commit once they are stored."""

    name = "queue"

    def __init__(self) -> None:
        self.pending: list[str] = []  # alarm names "received" this cycle
        self.readable = True
        self.committed: list[list[str]] = []
        self.store_at_commit: list[set[str]] = []

    async def read(self, context: SourceContext) -> SourceReading:
        if not self.readable:
            return SourceReading()  # the queue could not be read: it resolves nothing
        received = list(self.pending)
        signals = [Signal(NewIncident(key=f"queue:{name}", alarm=name, source=self.name, tier=2,
                                      tier_reason="test"), sop_query=None) for name in received]

        async def commit() -> None:
            self.store_at_commit.append({i.key for i in context.store.open_incidents()})
            self.committed.append(received)

        return SourceReading(signals, {f"queue:{name}" for name in received}, commit)


def test_the_built_in_sources_are_registered_by_name_and_follow_the_protocol():
    sources = build_sources()
    assert [s.name for s in sources] == list(DEFAULT_SOURCES) == ["alarm", "status", "state"]
    assert [type(s) for s in sources] == [AlarmSource, StatusCheckSource, StateChangeSource]
    assert all(isinstance(s, Source) for s in sources)
    with pytest.raises(ValueError, match="unknown monitor source 'nope'"):
        build_sources(("alarm", "nope"))


def test_registering_a_source_makes_it_buildable_by_name():
    register("queue", QueueSource)
    try:
        (queue,) = build_sources(("queue",))
        assert isinstance(queue, QueueSource) and isinstance(queue, Source)
    finally:
        SOURCES.pop("queue")


def test_a_firing_status_check_alarm_covers_the_status_source_for_its_instance():
    fleet = {"i-1": Instance("i-1", "web-1", "running"), "i-2": Instance("i-2", "web-2", "running")}
    alarms = [{"name": "web-1-status-check-failed", "state": "ALARM", "metric": "StatusCheckFailed",
               "instance_id": "i-1"},
              {"name": "web-2-cpu-high", "state": "ALARM", "metric": "CPUUtilization", "instance_id": "i-2"}]
    status, cpu = alarm_signals(alarms, fleet, TierRules(), Skips())
    assert status.covers == {status_key("i-1")} and cpu.covers == frozenset()
    statuses = [{"instance_id": i, "system_status": "impaired", "instance_status": "ok"} for i in ("i-1", "i-2")]
    found, impaired = status_signals(statuses, fleet, TierRules())
    # The status source still reports both (so neither resolves); the loop opens only the uncovered one.
    assert impaired == {status_key("i-1"), status_key("i-2")}
    assert {s.incident.key for s in found} == {status_key("i-1"), status_key("i-2")}


async def test_a_new_source_plugs_into_the_loop_and_commits_after_its_incidents_are_stored(aws_env):
    settings = load_settings()
    queue = QueueSource()
    async with open_session(settings) as session:
        monitor = Monitor(session, settings, notifier=TerminalOnly(), sources=[queue])
        queue.pending = ["orders-dlq-depth"]
        opened = await monitor.run_cycle()
        queue.readable = False
        unread = await monitor.run_cycle()
        queue.readable, queue.pending = True, []
        cleared = await monitor.run_cycle()
        monitor.close()

    (incident,) = opened.open_incidents
    assert (incident.source, incident.alarm, incident.key) == ("queue", "orders-dlq-depth", "queue:orders-dlq-depth")
    assert queue.store_at_commit[0] == {"queue:orders-dlq-depth"}  # stored before the commit ran
    assert [i.id for i in unread.open_incidents] == [incident.id] and unread.resolved == []
    assert [i.id for i in cleared.resolved] == [incident.id]
    assert queue.committed == [["orders-dlq-depth"], []]  # an unread cycle commits nothing


async def test_a_source_that_raises_is_a_skip_and_the_others_still_run(estate):
    class Broken:
        name = "broken"

        async def read(self, context: SourceContext) -> SourceReading:
            raise RuntimeError("queue endpoint unreachable")

    settings = load_settings()
    async with open_session(settings) as session:
        monitor = Monitor(session, settings, notifier=TerminalOnly(), sources=[Broken(), *build_sources()])
        report = await monitor.run_cycle()
        monitor.close()
    assert len(report.open_incidents) == 2
    assert any(line.startswith("source broken failed (RuntimeError: queue endpoint unreachable)")
               for line in report.skipped)
