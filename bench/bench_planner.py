"""Offline planner latency and accuracy.

Latency: every request of the planner tables (main, second and third fleet, held-out) planned
against a generated 1,000-instance inventory, several times each; median and p95 of
the single-call times, plus the one-off cost of indexing the inventory.
Accuracy: the same tables against the small fleets they were written for. Tuned tables (main,
second, console-styled, typos_tuning) are what the rules were developed on; held-out batches were
written before the changes they measure and are never tuned on.

    .venv/bin/python bench/bench_planner.py [--size 1000] [--repeat 5]

Prints a summary and writes bench/results/planner.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.planner import plan_offline  # noqa: E402
from agent.planner.inventory_index import build_index  # noqa: E402
from tests.agent.planner.expect import TODAY, check  # noqa: E402
from tests.agent.planner.fleets import (  # noqa: E402
    generated_fleet,
    heldout_fleet,
    heldout_fleet_2,
    heldout_fleet_3,
    sandbox_fleet,
    second_fleet,
    styled_fleet,
    tagword_fleet,
)
from tests.agent.planner.heldout_cases import HELDOUT, HELDOUT_2, HELDOUT_3, HELDOUT_4  # noqa: E402
from tests.agent.planner.planner_cases import MAIN  # noqa: E402
from tests.agent.planner.planner_cases_other import SECOND, THIRD  # noqa: E402
from tests.agent.planner.planner_cases_typos import TUNE  # noqa: E402


def _accuracy(table, ctx) -> dict:
    misses = [text for text, expected in table if check(plan_offline(text, ctx, TODAY), expected, ctx)]
    return {"cases": len(table), "correct": len(table) - len(misses), "accuracy": round(1 - len(misses) / len(table), 4),
            "misses": misses}


def _latency(texts: list[str], size: int, repeat: int) -> dict:
    ctx = generated_fleet(size, base=sandbox_fleet())
    start = time.perf_counter()
    build_index(ctx)
    index_ms = (time.perf_counter() - start) * 1000
    plan_offline("warm up", ctx, TODAY)  # builds and caches this context's index
    samples: list[float] = []
    per_text: dict[str, float] = {}
    for text in texts:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            plan_offline(text, ctx, TODAY)
            times.append((time.perf_counter() - t0) * 1000)
        samples += times
        per_text[text] = statistics.median(times)
    # Per-request figure = median of its repeats (filters scheduler noise); then median/p95 over requests.
    per_request = sorted(per_text.values())
    samples.sort()
    slowest = sorted(per_text.items(), key=lambda kv: -kv[1])[:5]
    return {"instances": len(ctx.instances), "requests": len(texts), "calls": len(samples),
            "index_build_ms": round(index_ms, 2),
            "median_ms": round(statistics.median(per_request), 3), "p95_ms": round(_pct(per_request, 0.95), 3),
            "max_ms": round(per_request[-1], 3),
            "raw_calls": {"median_ms": round(statistics.median(samples), 3),
                          "p95_ms": round(_pct(samples, 0.95), 3), "max_ms": round(samples[-1], 3)},
            "slowest": [{"request": t[:80], "median_ms": round(ms, 3)} for t, ms in slowest]}


def _pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "planner.json")
    args = parser.parse_args(argv)
    texts = [text for text, _ in MAIN + SECOND + THIRD + TUNE + HELDOUT + HELDOUT_2 + HELDOUT_3 + HELDOUT_4]
    result = {
        "python": platform.python_version(),
        "latency": _latency(texts, args.size, args.repeat),
        "accuracy": {"main": _accuracy(MAIN, sandbox_fleet()), "second_fleet": _accuracy(SECOND, second_fleet()),
                     "console_styled_fleet": _accuracy(THIRD, styled_fleet()),
                     "typos_tuning": _accuracy(TUNE, tagword_fleet()),
                     "heldout_batch1": _accuracy(HELDOUT, heldout_fleet()),
                     "heldout_batch2": _accuracy(HELDOUT_2, heldout_fleet_2()),
                     "heldout_batch3": _accuracy(HELDOUT_3, heldout_fleet_3()),
                     "heldout_batch4": _accuracy(HELDOUT_4, heldout_fleet_2())},
    }
    lat = result["latency"]
    print(f"offline planner, {lat['instances']} instances, {lat['requests']} requests x {args.repeat}:")
    raw = lat["raw_calls"]
    print(f"  per request: median {lat['median_ms']} ms  p95 {lat['p95_ms']} ms  max {lat['max_ms']} ms")
    print(f"  raw calls:   median {raw['median_ms']} ms  p95 {raw['p95_ms']} ms  max {raw['max_ms']} ms")
    print(f"  index build {lat['index_build_ms']} ms (once per inventory)")
    for name, acc in result["accuracy"].items():
        print(f"  accuracy {name}: {acc['correct']}/{acc['cases']} ({acc['accuracy']:.1%})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"  written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
