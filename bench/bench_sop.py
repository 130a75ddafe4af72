"""SOP store benchmark: ingest time, warm search latency, search-process RSS, retrieval accuracy.

    .venv/bin/python bench/bench_sop.py [--corpus DIR] [--repeat 3]

1. Ingest: the 108-runbook corpus into a fresh store, in a fresh process, model load included.
2. Search: a separate process (so its peak RSS is the search path's own) warms up, then
   times every alert text of tests/sop/alert_cases.yaml `--repeat` times; median and p95.
3. Batch: wall time of `python main.py sop search - --json` answering 40 queries, start-up included.
4. Accuracy: top-1 / top-3 per case set on the realistic store (shipped library + corpus),
   models side by side: MiniLM alone (before), USE multilingual alone, both mixed, and the
   final search (both mixed + the Korean glossary). Tuning sets in tests/sop/alert_cases.yaml,
   held-out sets (never tuned on) in tests/sop/holdout_cases.yaml and the *_holdout sets.
5. Weak matches: top-1 scores of right and wrong answers on the tuning sets and of texts
   nothing in the store answers, against the WEAK_SCORE threshold.

Prints a table and writes bench/results/sop.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CASES_FILE = ROOT / "tests" / "sop" / "alert_cases.yaml"
HOLDOUT_FILE = ROOT / "tests" / "sop" / "holdout_cases.yaml"
TUNING = ("prometheus", "library", "korean", "korean_dev")
# (English mix, Korean mix, glossary): see sop/vectors.py.
VARIANTS = {"minilm": (1.0, 1.0, False), "use": (0.0, 0.0, False), "both": (0.7, 0.5, False),
            "both+gloss": (0.7, 0.5, True), "final": (1.0, 0.5, True)}
OFF_TOPIC = ["what's for lunch today", "오늘 점심 뭐 먹지", "asdfgh", "who won the football match last night",
             "회의실 예약 어떻게 해요", "please translate this sentence to French", "hello", "안녕하세요",
             "my cat likes the sofa", "주말에 등산 갈 사람"]
SHARED_CORPUS = Path("/work/shared/corpora/prometheus-runbooks")
VENDORED_CORPUS = ROOT / "tests" / "sop" / "corpus" / "prometheus-runbooks"
LIBRARY = ROOT / "sop" / "library"


def _cases() -> dict:
    import yaml  # the orchestrating process imports nothing heavier

    tuned = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    return {**tuned, **yaml.safe_load(HOLDOUT_FILE.read_text(encoding="utf-8"))}


def _expected(name: str, expect: str, corpus: Path) -> str:
    if expect.startswith("library/"):
        return str((LIBRARY / expect.removeprefix("library/")).resolve())
    return str(((LIBRARY if name.startswith("library") else corpus) / expect).resolve())


def _accuracy(store, name: str, cases: list[dict], corpus: Path, scores: list | None = None) -> dict[str, float]:
    top1 = top3 = 0
    for case in cases:
        expected = _expected(name, case["expect"], corpus)
        hits = store.search(case["alert"], k=3)
        sources = [h.source for h in hits]
        top1 += sources[:1] == [expected]
        top3 += expected in sources
        if scores is not None:
            scores.append((hits[0].score, sources[:1] == [expected]))
    return {"top1": round(top1 / len(cases), 3), "top3": round(top3 / len(cases), 3), "n": len(cases)}


def _weak_figures(store, scores: list) -> dict:
    from sop.ranking import WEAK_SCORE

    right = sorted(s for s, ok in scores if ok)
    wrong = sorted(s for s, ok in scores if not ok)
    off = sorted(store.search(q, k=1)[0].score for q in OFF_TOPIC)
    return {
        "threshold": WEAK_SCORE,
        "right_top1": {"n": len(right), "min": right[0], "p5": right[len(right) // 20], "median": right[len(right) // 2],
                       "flagged": sum(s < WEAK_SCORE for s in right)},
        "wrong_top1": {"n": len(wrong), "min": wrong[0] if wrong else None, "flagged": sum(s < WEAK_SCORE for s in wrong)},
        "off_topic": {"n": len(off), "max": off[-1], "flagged": sum(s < WEAK_SCORE for s in off)},
    }


def search_worker(corpus_only: Path, full: Path, corpus: Path, repeat: int) -> dict:
    """Runs in its own process: latency, accuracy and this process's peak RSS."""
    from sop.store import SopStore

    cases = _cases()
    store = SopStore(full)
    store.search("warm up the model and the lexical index", k=3)
    queries = [c["alert"] for name in cases for c in cases[name]]
    timings = []
    for _ in range(repeat):
        for query in queries:
            started = time.perf_counter()
            store.search(query, k=5)
            timings.append(time.perf_counter() - started)
    timings.sort()
    # Peak RSS of a plain search process, before the accuracy pass opens a second store.
    search_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from sop import vectors

    accuracy: dict[str, dict] = {}
    scores: list = []
    target = SopStore(full, index_library=False)
    for variant, (english, korean, glossary) in VARIANTS.items():
        vectors.ENGLISH_MIX, vectors.KOREAN_MIX, vectors.GLOSS = english, korean, glossary
        for name, set_cases in cases.items():
            keep = scores if variant == "final" and name in TUNING else None
            accuracy.setdefault(name, {})[variant] = _accuracy(target, name, set_cases, corpus, keep)
    weak = _weak_figures(target, scores)  # the final variant is still set
    return {
        "search_median_ms": round(statistics.median(timings) * 1000, 2),
        "search_p95_ms": round(timings[int(len(timings) * 0.95) - 1] * 1000, 2),
        "searches": len(timings),
        "search_process_peak_rss_mb": round(search_rss_mb, 1),
        "accuracy": accuracy,
        "weak": weak,
    }


def ingest_worker(home: Path, corpus: Path) -> dict:
    """Runs in its own process: a cold add of the corpus into a fresh store, model load included."""
    from sop.store import SopStore

    started = time.perf_counter()
    report = SopStore(home, index_library=False).add([corpus])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "added": report.added, "skipped": report.skipped, "failed": report.failed}


def _sop(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python main.py sop ARGS...` against the SOP store in `home`."""
    return _run([sys.executable, "main.py", "sop", *args], stdin, {"AIOPS_HOME": str(home)})


def _run(args: list[str], stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=900,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        sys.exit(f"bench_sop: {' '.join(args[:4])} failed: {done.stderr.strip()[:300]}")
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_corpus = SHARED_CORPUS if SHARED_CORPUS.is_dir() else VENDORED_CORPUS
    parser.add_argument("--corpus", type=Path, default=default_corpus)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ingest-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--search-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if args.ingest_worker:
        print(json.dumps(ingest_worker(args.ingest_worker, corpus)))
        return
    if args.search_worker:
        print(json.dumps(search_worker(*args.search_worker, corpus, args.repeat)))
        return
    # This process only orchestrates: on Linux a child's ru_maxrss starts from its parent's
    # size at fork, so the parent must stay small for the children's figures to be their own.
    worker = [sys.executable, __file__, "--corpus", str(corpus), "--repeat", str(args.repeat)]
    with tempfile.TemporaryDirectory(prefix="bench-sop-") as tmp:
        corpus_only, full = Path(tmp) / "corpus-only", Path(tmp) / "full"
        counts = json.loads(_run([*worker, "--ingest-worker", str(corpus_only)]).stdout)
        ingest_seconds = counts.pop("seconds")
        started = time.perf_counter()
        _sop(full, "list", "--json")
        library_seconds = time.perf_counter() - started
        _sop(full, "add", str(corpus), "--json")
        queries = "\n".join(c["alert"] for c in _cases()["prometheus"][:40]) + "\n"
        started = time.perf_counter()
        batch = _sop(full, "search", "-", "--json", stdin=queries)
        batch_seconds = time.perf_counter() - started
        assert len(batch.stdout.splitlines()) == 40
        measured = json.loads(_run([*worker, "--search-worker", str(corpus_only), str(full)]).stdout)
    figures = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()[0]},
        "corpus": str(corpus),
        "ingest_corpus_seconds": round(ingest_seconds, 2),
        "ingest_counts": counts,
        "library_first_use_seconds": round(library_seconds, 2),
        "batch_40_queries_seconds": round(batch_seconds, 2),
        **measured,
    }
    _print_table(figures)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "sop.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


def _print_table(f: dict) -> None:
    rows = [
        ("ingest 108-runbook corpus (cold model)", f"{f['ingest_corpus_seconds']} s", "< 30 s"),
        ("library index on first use (process)", f"{f['library_first_use_seconds']} s", ""),
        ("batch: 40 queries incl. start-up", f"{f['batch_40_queries_seconds']} s", "a few s"),
        ("search median / p95 (warm)", f"{f['search_median_ms']} / {f['search_p95_ms']} ms", "< 20 ms"),
        ("search process peak RSS", f"{f['search_process_peak_rss_mb']} MB", "< 400 MB"),
    ]
    print(f"{'measure':<44}{'value':>20}  target")
    for name, value, target in rows:
        print(f"{name:<44}{value:>20}  {target}")
    print(f"\n{'accuracy, top-1 / top-3 (library+corpus)':<38}" + "".join(f"{v:>14}" for v in VARIANTS))
    for name, row in f["accuracy"].items():
        label = f"{name}{'' if name in TUNING else ' (held out)'} n={row['final']['n']}"
        cells = "".join(f"{row[v]['top1']:>7.2f} /{row[v]['top3']:>5.2f}" for v in VARIANTS)
        print(f"{label:<38}{cells}")
    w = f["weak"]
    print(f"\nweak under {w['threshold']}: right top-1 min {w['right_top1']['min']:.3f} "
          f"(p5 {w['right_top1']['p5']:.3f}, flagged {w['right_top1']['flagged']}/{w['right_top1']['n']}), "
          f"wrong top-1 flagged {w['wrong_top1']['flagged']}/{w['wrong_top1']['n']}, "
          f"off-topic max {w['off_topic']['max']:.3f} (flagged {w['off_topic']['flagged']}/{w['off_topic']['n']})")
    print(f"\nload average at the end: {f['machine']['load']:.2f} on {f['machine']['cpus']} CPUs")


if __name__ == "__main__":
    main()
