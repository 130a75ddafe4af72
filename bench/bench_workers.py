"""Workers sharing one DynamoDB table (issue 12), written to bench/results/workers.json.

- Throughput: `--events` pushed alarm changes for `--alarms` alarms (ALARMs, duplicates and OKs older
  than their ALARM, shuffled: what SQS's at-least-once, any-order delivery looks like), time until every
  alarm is paged and the queue is empty, with 1, 2 and 4 `monitor --queue` workers on one queue and one
  table (AIOPS_STORE=dynamodb:TABLE); events per second and the ratio to one worker.
- DynamoDB calls per incident: every worker's `aiops_store_calls_total` (its /metrics), summed, over the
  incidents opened, by operation.
- The issue's kill test at full size (`--kill`): three workers, one SIGKILLed halfway; every alarm paged
  once, the queue empty, only the malformed messages in the dead-letter queue.

Against a moto server process on loopback. moto copies a whole table for every TransactWriteItems
(its rollback), so DynamoDB-backed figures here understate what the real service does.
Run: .venv/bin/python bench/bench_workers.py [--alarms 300] [--events 1000] [--workers 1,2,4] [--kill]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_monitor import reset_moto, start_moto_process
from common import REPO, save

MALFORMED = ["not json", '{"hello": 1}']


def start_atomic_moto() -> tuple[subprocess.Popen, str]:
    """bench_monitor's moto process, with DynamoDB calls one at a time as the sandbox runs them
    (utils/sandbox_moto.py atomic_dynamodb: moto's conditional writes are not atomic otherwise)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from utils.sandbox_moto import atomic_dynamodb; "
            "atomic_dynamodb(); from moto.server import main; main(sys.argv[2:])")
    real = subprocess.Popen

    def popen(args, **kwargs):  # bench_monitor starts the moto_server script: run it through `code` instead
        return real([sys.executable, "-c", code, str(REPO), *args[1:]], **kwargs)

    subprocess.Popen = popen  # type: ignore[misc]
    try:
        return start_moto_process()
    finally:
        subprocess.Popen = real  # type: ignore[misc]


def sop_template(root: Path) -> Path:
    """SOPs indexed once (tens of CPU seconds), copied into each run's home."""
    home = root / "sop-template"
    warm = "import sys; from pathlib import Path; from sop.store import SopStore; SopStore(Path(sys.argv[1])).search('x', k=1)"
    subprocess.run([sys.executable, "-c", warm, str(home)], cwd=REPO, check=True, capture_output=True, timeout=900)
    return home


def prepare(url: str, home: Path, template: Path) -> tuple[dict[str, str], object, str, str]:
    import boto3

    from utils.event_intake import DEAD_LETTER_NAME, QUEUE_NAME, set_up
    from utils.sandbox import seed_estate

    reset_moto(url)
    estate = seed_estate(url)
    sqs = boto3.client("sqs", endpoint_url=url, region_name="us-east-1")
    events = boto3.client("events", endpoint_url=url, region_name="us-east-1")
    set_up(sqs, events, "123456789012", "us-east-1", apply=True)
    queue, dead = (sqs.get_queue_url(QueueName=n)["QueueUrl"] for n in (QUEUE_NAME, DEAD_LETTER_NAME))
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "10"})
    shutil.copytree(template, home)
    (home / "aiops.toml").write_text("[intake]\nreconcile_minutes = 60\n")
    return estate, sqs, queue, dead


def run(url: str, slack, template: Path, n_workers: int, alarms: int, events: int, kill: bool) -> dict:
    from tests.e2e.test_workers import depth, first_wave, metrics, pages, send, start_worker, total

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        estate, sqs, queue, dead = prepare(url, home, template)
        slack.clear()
        env = {**os.environ, "AIOPS_HOME": str(home), "SLACK_WEBHOOK_URL": slack.url,
               "AIOPS_STORE": f"dynamodb:aiops-bench-{n_workers}{'-kill' if kill else ''}"}
        procs = [start_worker(env, Path(tmp), n) for n in range(n_workers)]
        try:
            deadline = time.monotonic() + 300
            while not all(total(metrics(b), "aiops_monitor_cycles_total") >= 1 for _, b in procs):
                assert time.monotonic() < deadline, "first polls"
                time.sleep(0.2)
            before = [metrics(b) for _, b in procs]
            names = [f"e2e-{k:04d}" for k in range(alarms)]
            bodies = first_wave(names, sorted(estate.values()), events, datetime.now(UTC) - timedelta(hours=1))
            started = time.monotonic()
            send(sqs, queue, bodies + MALFORMED)
            killed_at = None
            while len(pages(slack, names)) < alarms or depth(sqs, queue) or depth(sqs, dead) < len(MALFORMED):
                if kill and killed_at is None and sum(pages(slack, names).values()) >= alarms // 2:
                    procs[0][0].send_signal(signal.SIGKILL)
                    killed_at = round(time.monotonic() - started, 2)
                assert time.monotonic() - started < 1800, "timed out"
                time.sleep(0.1)
            took = time.monotonic() - started
            time.sleep(2)  # a duplicate page would arrive now
            posts = pages(slack, names)
            live = [(b, m) for (p, b), m in zip(procs, before, strict=True) if p.poll() is None]
            after = [(metrics(b), m) for b, m in live]
        finally:
            for proc, _ in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            codes = [proc.wait(60) for proc, _ in procs]
    calls: Counter = Counter()
    for now, then in after:
        for (name, labels), value in now.items():
            if name == "aiops_store_calls_total":
                calls[dict(labels)["operation"]] += value - then.get((name, labels), 0)
    row = {"workers": n_workers, "alarms": alarms, "events": events, "seconds": round(took, 2),
           "events_per_second": round(events / took, 1), "each_paged_once": posts == Counter(dict.fromkeys(names, 1)),
           "exit_codes": codes}
    if kill:
        row["killed_worker_at_seconds"] = killed_at
    else:  # every worker lived: its calls are all of them
        row["dynamodb_calls_per_incident"] = round(sum(calls.values()) / alarms, 1)
        row["dynamodb_calls_per_incident_by_operation"] = {k: round(v / alarms, 2) for k, v in sorted(calls.items())}
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alarms", type=int, default=300)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--kill", action="store_true", help="also the kill test: 3 workers, one SIGKILLed halfway")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from tests.notify.slack_server import FakeSlackWebhook

    moto, url = start_atomic_moto()
    try:
        with tempfile.TemporaryDirectory() as root, FakeSlackWebhook() as slack:
            template = sop_template(Path(root))
            figures: dict = {"load": f"1-min load average {os.getloadavg()[0]:.1f} at start (2 cores, shared); moto in "
                                     "its own process; workers as real processes on one DynamoDB table",
                             "throughput": []}
            for n in (int(w) for w in args.workers.split(",")):
                figures["throughput"].append(run(url, slack, template, n, args.alarms, args.events, kill=False))
                print(figures["throughput"][-1], flush=True)
            base = figures["throughput"][0]["events_per_second"]
            for row in figures["throughput"]:
                row["ratio_to_first"] = round(row["events_per_second"] / base, 2) if base else None
            if args.kill:
                figures["kill_test"] = run(url, slack, template, 3, args.alarms, args.events, kill=True)
                print(figures["kill_test"], flush=True)
    finally:
        moto.terminate()
    save("workers", figures)


if __name__ == "__main__":
    main()
