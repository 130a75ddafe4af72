"""The incident store on real SQLite files and on DynamoDB (moto over HTTP): dedup, claims, approvals with
expiry, timeline, counts. Every test taking `store_factory` runs on both backends."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from agent.monitor.incidents import DB_NAME, IncidentStore, IncidentStoreUnavailable
from agent.monitor.proposals import Proposal
from agent.monitor.records import ApprovalError, NewIncident, parse_id

PROPOSAL = Proposal(tool="reboot_instances", arguments={"instances": ["i-0abc1234"]}, risk="HIGH",
                    origin="rule", reason="status check failed")


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def new(key: str = "alarm:web-cpu-high|i-0abc1234", tier: int = 1) -> NewIncident:
    return NewIncident(key=key, alarm="web-cpu-high", source="alarm", tier=tier, tier_reason="test",
                       instance_id="i-0abc1234", name="web-1", metric="CPUUtilization", summary="CPU > 80")


def test_one_open_incident_per_key_across_store_instances(store_factory):
    first, second = store_factory(), store_factory()
    opened = first.open_incident(new(), "owner-a")
    assert opened is not None and opened.id == "INC-1" and opened.status == "open"
    assert second.open_incident(new(), "owner-b") is None
    assert [i.id for i in second.open_incidents()] == ["INC-1"]
    assert first.resolve(opened.seq, "back to OK") is not None
    assert second.resolve(opened.seq, "back to OK") is None  # only one resolver wins
    reopened = second.open_incident(new(), "owner-b")
    assert reopened is not None and reopened.id == "INC-2"


def _race(home: str, queue) -> None:
    store = IncidentStore(Path(home))
    queue.put(store.open_incident(new(), f"proc-{multiprocessing.current_process().pid}") is not None)


def test_processes_racing_to_open_the_same_incident_open_it_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_race, args=(str(tmp_path), queue)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    results = [queue.get(timeout=5) for _ in procs]
    assert results.count(True) == 1
    assert len(IncidentStore(tmp_path).open_incidents()) == 1


def test_notification_claim_is_held_by_the_opener_until_its_lease_runs_out(store_factory):
    clock = Clock()
    store = store_factory(clock)
    inc = store.open_incident(new(), "owner-a")
    assert not store.claim_notification(inc.seq, "owner-b", lease=300)
    assert store.claim_notification(inc.seq, "owner-a", lease=300)
    clock.advance(301)
    assert store.claim_notification(inc.seq, "owner-b", lease=300)  # owner-a crashed
    store.mark_notified(inc.seq, "Slack webhook: sent")
    assert not store.claim_notification(inc.seq, "owner-a", lease=300)


def test_repage_is_a_compare_and_set(store_factory):
    clock = Clock()
    a, b = store_factory(clock), store_factory(clock)
    inc = a.open_incident(new(tier=0), "owner-a")
    a.mark_notified(inc.seq, "sent")
    seen = a.get(inc.seq)
    assert not a.claim_repage(seen, every=900)
    clock.advance(900)
    assert a.claim_repage(seen, every=900)
    assert not b.claim_repage(seen, every=900)  # the stale view loses
    assert a.get(inc.seq).pages == 2


def test_approval_lifecycle_and_expiry(store_factory):
    clock = Clock()
    store = store_factory(clock)
    one = store.open_incident(new("k1"), "o")
    two = store.open_incident(new("k2"), "o")
    three = store.open_incident(new("k3"), "o")
    for inc in (one, two, three):
        store.add_approval(inc.seq, PROPOSAL, ttl_seconds=60)
    assert [a.incident_id for a in store.pending()] == ["INC-1", "INC-2", "INC-3"]

    approved = store.decide("inc-1", approve=True, by="alice")
    assert approved.status == "approved" and approved.decided_by == "alice"
    with pytest.raises(ApprovalError, match="already approved"):
        store.decide("INC-1", approve=False, by="bob")
    rejected = store.decide(two.id, approve=False, by="bob", reason="not now")
    assert rejected.status == "rejected" and rejected.reason == "not now"

    clock.advance(61)
    assert store.pending() == []
    with pytest.raises(ApprovalError, match="expired"):
        store.decide(three.id, approve=True, by="alice")
    assert store.approval(three.id).status == "expired"
    assert store.expire_due() == []  # already expired by the failed approve
    with pytest.raises(ApprovalError, match="no proposal"):
        store.decide("INC-99", approve=True, by="alice")
    with pytest.raises(ApprovalError, match="not an incident id"):
        parse_id("web-1")


def test_a_no_at_the_y_n_leaves_the_proposal_waiting_and_the_timeline_says_so(store_factory):
    store = store_factory(Clock())
    inc = store.open_incident(new("k1"), "o")
    store.add_approval(inc.seq, PROPOSAL, ttl_seconds=600)
    store.decide(inc.id, approve=True, by="alice")
    store.record_action(inc.seq, "declined", "declined by the user: nothing was changed", "alice")
    assert [a.incident_id for a in store.pending()] == [inc.id]  # back in the queue
    again = store.decide(inc.id, approve=True, by="alice")  # and approvable again
    assert again.status == "approved"
    store.record_action(inc.seq, "ok", "rebooted web-1", "alice")
    assert store.pending() == [] and store.approval(inc.seq).status == "approved"
    kinds = [(e.kind, e.detail) for e in store.history(1)[0].timeline]
    assert ("declined", "declined by the user: nothing was changed; the proposal waits for a decision again") in kinds
    assert [k for k, _ in kinds][-3:] == ["declined", "approved", "action"]


def test_the_queue_is_by_tier_then_age(store_factory):
    clock = Clock()
    store = store_factory(clock)
    order = []
    for key, tier in [("k1", 2), ("k2", 1), ("k3", 0), ("k4", 1)]:
        inc = store.open_incident(new(key, tier=tier), "o")
        store.add_approval(inc.seq, PROPOSAL, ttl_seconds=600)
        order.append(inc.id)
        clock.advance(5)
    assert [a.incident_id for a in store.pending()] == [order[2], order[1], order[3], order[0]]


def test_expire_due_and_resolve_withdraw_pending_proposals(store_factory):
    clock = Clock()
    store = store_factory(clock)
    one, two = store.open_incident(new("k1"), "o"), store.open_incident(new("k2"), "o")
    store.add_approval(one.seq, PROPOSAL, ttl_seconds=60)
    store.add_approval(two.seq, PROPOSAL, ttl_seconds=600)
    clock.advance(61)
    assert [a.incident_id for a in store.expire_due()] == ["INC-1"]
    store.resolve(two.seq, "back to OK")
    assert store.approval(two.seq).status == "expired"
    kinds = [e.kind for e in store.history(5)[0].timeline]
    assert kinds == ["opened", "resolved", "expired"]


def test_history_counts_and_action_outcomes(store_factory):
    clock = Clock()
    store = store_factory(clock)
    manual, auto, waiting = (store.open_incident(new(f"k{i}"), "o") for i in range(3))
    for inc in (manual, auto, waiting):
        store.set_diagnosis(inc.seq, [{"source": "/sops/x.md", "title": "X"}], PROPOSAL, None)
        store.add_approval(inc.seq, PROPOSAL, ttl_seconds=3600)
    store.decide(manual.id, approve=True, by="alice")
    store.record_action(manual.seq, "ok", "rebooted web-1 (i-0abc1234)", "alice")
    store.record_action(auto.seq, "ok", "rebooted web-1 (i-0abc1234)", "auto-remediation", auto=True)
    clock.advance(125)
    store.resolve(manual.seq, "back to OK")

    counts = store.counts_today()
    assert (counts.open, counts.resolved, counts.auto_handled, counts.waiting_approval) == (2, 1, 1, 1)
    history = {h.incident.id: h for h in store.history(10)}
    first = history[manual.id]
    assert first.incident.time_to_resolve == pytest.approx(125)
    assert first.approval.outcome_status == "ok" and first.approval.decided_by == "alice"
    assert [e.kind for e in first.timeline] == ["opened", "diagnosed", "approved", "action", "resolved"]
    assert history[auto.id].approval.status == "auto" and history[auto.id].incident.auto_handled
    assert len(store.history(1)) == 1


def test_instance_states_round_trip(store_factory):
    clock = Clock()
    store = store_factory(clock)
    assert store.last_states() == ({}, None)
    store.save_states({"i-1": ("web", "running"), "i-2": (None, "stopped")})
    assert store.last_states() == ({"i-1": "running", "i-2": "stopped"}, clock.now)


def test_an_unwritable_home_is_reported_and_memory_works(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(IncidentStoreUnavailable, match="cannot open the incident store"):
        IncidentStore(blocker / "home")
    memory = IncidentStore(None)
    assert memory.open_incident(new(), "o") is not None and memory.open_incident(new(), "o") is None


def test_the_proposal_is_typed_and_rows_written_before_it_still_read(tmp_path):
    store = IncidentStore(tmp_path)
    typed, old, garbled = (store.open_incident(new(f"k{i}"), "o") for i in range(3))
    store.set_diagnosis(typed.seq, [], PROPOSAL, None)
    with sqlite3.connect(tmp_path / DB_NAME) as db:  # as the dict-proposal version wrote them
        db.execute("UPDATE incidents SET proposal = ? WHERE seq = ?", (
            '{"tool": "reboot_instances", "arguments": {"instances": ["i-0abc1234"]}, "risk": "HIGH",'
            ' "origin": "rule", "reason": "status check failed"}', old.seq))
        db.execute("UPDATE incidents SET proposal = '{\"tool\": 3}' WHERE seq = ?", (garbled.seq,))

    assert store.get(typed.seq).proposal == PROPOSAL
    assert store.get(old.seq).proposal == PROPOSAL and isinstance(store.get(old.seq).proposal, Proposal)
    assert store.get(garbled.seq).proposal is None  # unreadable is shown as no proposal, never a crash
    assert [e.detail for e in store.history(3)[-1].timeline][-1] == "SOP: none; proposal: reboot_instances (risk HIGH)"


def test_workers_racing_on_one_dynamodb_table_open_page_and_resolve_once(aws_credentials, moto_url, tmp_path):
    """Six workers (a store object each, on threads) race to open, claim the first page and resolve: one wins each."""
    from concurrent.futures import ThreadPoolExecutor

    from agent.monitor.stores import open_store
    from tests.store_backends import dynamo_settings

    settings = dynamo_settings(moto_url, tmp_path)
    stores = [open_store(settings) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        opened = list(pool.map(lambda pair: pair[1].open_incident(new(), f"w{pair[0]}"), enumerate(stores)))
    winners = [inc for inc in opened if inc is not None]
    assert len(winners) == 1 and len(stores[0].open_incidents()) == 1
    seq = winners[0].seq
    with ThreadPoolExecutor(6) as pool:
        claims = list(pool.map(lambda pair: pair[1].claim_notification(seq, f"x{pair[0]}", lease=300), enumerate(stores)))
    assert claims.count(True) == 0  # the opener holds it
    with ThreadPoolExecutor(6) as pool:
        resolved = list(pool.map(lambda s: s.resolve(seq, "back to OK"), stores))
    assert sum(r is not None for r in resolved) == 1
    assert stores[1].open_incident(new(), "w1") is not None  # the key is free again


def test_a_dead_holders_notification_claim_is_taken_over_at_once(store_factory):
    store = store_factory(Clock())
    inc = store.open_incident(new(), "owner-a")
    assert not store.claim_notification(inc.seq, "owner-b", lease=300, alive=lambda holder: True)
    assert store.claim_notification(inc.seq, "owner-b", lease=300, alive=lambda holder: holder != "owner-a")
    assert not store.claim_notification(inc.seq, "owner-c", lease=300, alive=lambda holder: None)  # b holds it now
