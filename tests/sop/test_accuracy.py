"""Retrieval quality on real alert texts, store = shipped library + prometheus-runbooks corpus.

Tuning sets are in tests/sop/alert_cases.yaml, held-out ones in tests/sop/holdout_cases.yaml
(and the older *_holdout sets): those were never used to choose anything. Floors sit a little
below what bench/bench_sop.py measured, so noise does not flake the suite but a real
regression fails it.
"""

from __future__ import annotations

import pytest

from sop.ranking import VECTOR_ONLY, WEAK_SCORE
from sop.store import SopStore
from tests.sop.conftest import CASES, HOLDOUT, expected_path

SETS = {**CASES, **HOLDOUT}
_MEASURED: dict[tuple[str, str], tuple[float, float]] = {}


def accuracy(store: SopStore, name: str) -> tuple[float, float]:
    key = (repr(store.weights), name)  # the same store content for the whole session
    if key not in _MEASURED:
        _MEASURED[key] = _measure(store, name)
    return _MEASURED[key]


def _measure(store: SopStore, name: str) -> tuple[float, float]:
    top1 = top3 = 0
    for case in SETS[name]:
        expected = str(expected_path(name, case["expect"]))
        sources = [hit.source for hit in store.search(case["alert"], k=3)]
        top1 += sources[:1] == [expected]
        top3 += expected in sources
    return top1 / len(SETS[name]), top3 / len(SETS[name])


@pytest.fixture(scope="module")
def store(corpus_home) -> SopStore:
    return SopStore(corpus_home)


def test_case_files_exist_and_are_enough():
    assert len(CASES["prometheus"]) >= 45 and len(CASES["library"]) >= 10
    assert len(HOLDOUT["english_holdout"]) >= 40 and len(HOLDOUT["korean_holdout"]) >= 40
    assert not set(CASES) & set(HOLDOUT), "a held-out set must not share a name with a tuning set"
    tuned = {c["alert"] for cases in CASES.values() for c in cases}
    assert not tuned & {c["alert"] for cases in HOLDOUT.values() for c in cases}
    for name, cases in SETS.items():
        for case in cases:
            assert expected_path(name, case["expect"]).is_file(), case


@pytest.mark.parametrize(
    ("name", "floor1", "floor3"),
    [
        # measured with bench/bench_sop.py; HNSW builds differ by a case now and then
        ("prometheus", 0.82, 0.95),  # measured 0.87 / 0.98
        ("library", 0.90, 0.95),  # measured 1.00 / 1.00
        ("korean", 0.85, 0.95),  # measured 0.92 / 1.00 (MiniLM alone: 0.19 / 0.35)
        ("korean_dev", 0.70, 0.93),  # measured 0.77 / 1.00
        ("prometheus_holdout", 0.85, 0.90),  # measured 0.90 / 0.95-1.00
        ("library_holdout", 0.80, 0.90),  # measured 0.90 / 1.00
        ("english_holdout", 0.90, 0.95),  # measured 0.95 / 1.00
        ("korean_holdout", 0.73, 0.90),  # measured 0.76 / 0.95 (MiniLM alone: 0.50 / 0.62)
        # Non-EC2 alarms in the monitor's query form (issue 11): the library's RDS, ALB, Lambda, SQS
        # and DynamoDB SOPs, measured with their tuning sets and held-out sets side by side.
        ("resource", 0.93, 0.96),  # measured 1.00 / 1.00
        ("resource_korean", 0.86, 0.93),  # measured 1.00 / 1.00
        ("resource_holdout", 0.92, 0.96),  # measured 1.00 / 1.00
        ("resource_korean_holdout", 0.86, 0.93),  # measured 0.93 / 1.00
    ],
)
def test_accuracy_floor(store, name, floor1, floor3):
    top1, top3 = accuracy(store, name)
    assert top1 >= floor1 and top3 >= floor3, f"{name}: top-1 {top1:.2f}, top-3 {top3:.2f}"


def test_fused_ranking_beats_plain_vector_search(corpus_home):
    plain = SopStore(corpus_home)
    plain.weights = VECTOR_ONLY
    fused = SopStore(corpus_home)
    vector_top1, _ = accuracy(plain, "prometheus")
    fused_top1, _ = accuracy(fused, "prometheus")
    assert fused_top1 >= vector_top1 + 0.1, (vector_top1, fused_top1)


def test_alert_naming_the_runbook_puts_it_first(store):
    hit = store.search("[FIRING:1] KubeQuotaFullyUsed namespace=batch", k=1)[0]
    assert hit.source.endswith("KubeQuotaFullyUsed.md") and hit.score > 0.5


def test_korean_disk_full_question_finds_the_disk_full_sop_first(store):
    # MiniLM alone put it outside the top 5 (issue 10).
    hits = store.search("디스크가 꽉 찼어요 어떻게 하죠", k=5)
    assert hits[0].source.endswith("sop/library/ec2-disk-full.md") and not hits[0].weak


def test_korean_status_check_request_finds_a_status_check_sop_not_unreachable(store):
    hits = store.search("상태 검사 실패 SOP 찾아줘", k=3)
    assert hits[0].title == "EC2 instance status check failed", [h.title for h in hits]
    assert "EC2 system status check failed" in [h.title for h in hits]


@pytest.mark.parametrize("query", ["오늘 점심 뭐 먹지", "asdfgh", "who won the football match last night"])
def test_a_query_nothing_answers_is_flagged_weak(store, query):
    hits = store.search(query, k=3)
    assert hits[0].weak and hits[0].score < WEAK_SCORE


def test_a_real_alert_is_not_flagged_weak(store):
    hits = store.search("root volume on build-agent-3 is 97% used and /var/log keeps growing", k=3)
    assert not hits[0].weak


def test_excerpt_shows_the_recovery_steps_and_ends_at_a_word(store):
    hit = store.search("etcd cluster has no leader", k=1)[0]
    assert "> Mitigation" in hit.section, hit.section
    library = store.search("disk full on web-1", k=1)[0]
    assert library.section.endswith("> Recovery") and library.excerpt.startswith("1.")
    flat = " ".join(store.search("disk full on web-1", k=1)[0].excerpt.split())
    assert flat.endswith("…") and flat[-2].isalnum() or flat[-2] in ".)`", flat


def test_repl_excerpt_cut_ends_at_a_word():
    from agent.terminal.render import cut_at_word

    text = "Check the retention settings. Retention for databases is set per table and can be lowered"
    cut = cut_at_word(text, 50)
    assert cut == "Check the retention settings. Retention for…" and len(cut) <= 50
    assert cut_at_word("short", 50) == "short"
