"""SOP store benchmark: ingest time, warm search latency, search-process RSS, retrieval accuracy.

    .venv/bin/python bench/bench_sop.py [--corpus DIR] [--repeat 3]

1. Ingest: the 108-runbook corpus into a fresh store, in a fresh process, model load included.
2. Search: a separate process (so its peak RSS is the search path's own) warms up, then
   times every alert text of tests/sop/alert_cases.yaml `--repeat` times; median and p95.
3. Batch: wall time of `python main.py sop search - --json` answering 40 queries, start-up included.
4. Accuracy: top-1 / top-3 per case set, plain vector search against the final ranking, on
   the corpus alone and on the realistic store (shipped library + corpus).

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
SHARED_CORPUS = Path("/work/shared/corpora/prometheus-runbooks")
VENDORED_CORPUS = ROOT / "tests" / "sop" / "corpus" / "prometheus-runbooks"
LIBRARY = ROOT / "sop" / "library"


def _cases() -> dict:
    import yaml  # the orchestrating process imports nothing heavier

    return yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))


def _accuracy(store, cases: list[dict], base: Path) -> dict[str, float]:
    top1 = top3 = 0
    for case in cases:
        expected = str((base / case["expect"]).resolve())
        sources = [h.source for h in store.search(case["alert"], k=3)]
        top1 += sources[:1] == [expected]
        top3 += expected in sources
    return {"top1": round(top1 / len(cases), 3), "top3": round(top3 / len(cases), 3), "n": len(cases)}


def search_worker(corpus_only: Path, full: Path, corpus: Path, repeat: int) -> dict:
    """Runs in its own process: latency, accuracy and this process's peak RSS."""
    from sop.ranking import FUSED, VECTOR_ONLY
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
    bases = {
        "prometheus": corpus,
        "prometheus_holdout": corpus,
        "library": LIBRARY,
        "library_holdout": LIBRARY,
    }
    accuracy: dict[str, dict] = {}
    for label, home in (("corpus", corpus_only), ("library+corpus", full)):
        target = SopStore(home, index_library=False)
        for name, base in bases.items():
            if label == "corpus" and base == LIBRARY:
                continue
            row = {}
            for ranking, weights in (("vector", VECTOR_ONLY), ("final", FUSED)):
                target.weights = weights
                row[ranking] = _accuracy(target, cases[name], base)
            accuracy[f"{name} on {label}"] = row
    return {
        "search_median_ms": round(statistics.median(timings) * 1000, 2),
        "search_p95_ms": round(timings[int(len(timings) * 0.95) - 1] * 1000, 2),
        "searches": len(timings),
        "search_process_peak_rss_mb": round(search_rss_mb, 1),
        "accuracy": accuracy,
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
    print(f"\n{'accuracy (top-1 / top-3)':<44}{'vector':>14}{'final':>14}")
    for name, row in f["accuracy"].items():
        vector, final = row["vector"], row["final"]
        pair = f"{vector['top1']:>7.2f} /{vector['top3']:>5.2f}{final['top1']:>7.2f} /{final['top3']:>5.2f}"
        print(f"{name:<44}{pair}")
    print(f"\nload average at the end: {f['machine']['load']:.2f} on {f['machine']['cpus']} CPUs")


if __name__ == "__main__":
    main()
