"""Push-path figures (issue 12), written to bench/results/push.json.

- Alarm change to Slack post through the queue: EventBridge put_events (an ALARM change for one
  of the sandbox estate's instances) to the fake Slack webhook receiving the page, one
  `monitor --queue` worker; target p95 <= 2 s. Then the OK change to the resolve post.
- Throughput: ALARM changes for `--alarms` distinct alarms put at once, time until every page has
  arrived, with 1, 2 and 4 workers sharing one queue and one SQLite store (ratio to one worker).
  Every incident must be paged exactly once; the script says so or fails.

All against a moto server process on loopback; the workers are real `main.py monitor --queue`
processes. Run: .venv/bin/python bench/bench_push.py [--alarms 300] [--latency 20] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench_monitor import reset_moto, start_moto_process
from common import REPO, ms, save


def change(name: str, instance_id: str, state: str) -> dict:
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    detail = {"alarmName": name, "state": {"value": state, "reason": f"bench: {state}", "timestamp": at},
              "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": {
                  "namespace": "CWAgent", "name": "disk_used_percent", "dimensions": {"InstanceId": instance_id}}}}]}}
    return {"Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change", "Detail": json.dumps(detail)}


def put(events, entries: list[dict]) -> None:
    for start in range(0, len(entries), 10):  # PutEvents takes ten entries a call
        events.put_events(Entries=entries[start:start + 10])


def workers(n: int, home: Path, slack_url: str) -> list[subprocess.Popen]:
    env = {**os.environ, "AIOPS_HOME": str(home), "SLACK_WEBHOOK_URL": slack_url}
    return [subprocess.Popen([sys.executable, "main.py", "monitor", "--queue", "aiops-alarm-events"], cwd=REPO,
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(n)]


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=60)


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def prepare(url: str, home: Path) -> tuple[dict[str, str], object]:
    import boto3

    from utils.event_intake import set_up
    from utils.sandbox import seed_estate

    reset_moto(url)
    estate = seed_estate(url)
    sqs = boto3.client("sqs", endpoint_url=url, region_name="us-east-1")
    events = boto3.client("events", endpoint_url=url, region_name="us-east-1")
    set_up(sqs, events, "123456789012", "us-east-1", apply=True)
    home.mkdir(parents=True, exist_ok=True)
    (home / "aiops.toml").write_text("[intake]\nreconcile_minutes = 60\n")  # pushes only, after the first poll
    return estate, events


def latency(url: str, slack, rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        estate, events = prepare(url, Path(tmp))
        slack.clear()
        procs = workers(1, Path(tmp), slack.url)
        try:
            assert wait_until(lambda: len(slack.texts()) >= 2, 120), "the first poll never paged the seeded alarms"
            names = sorted(estate)
            to_page, to_resolve = [], []
            for n in range(rounds):
                name = names[n % len(names)]
                alarm = f"bench-push-{n:03d}-{name}"
                for state, into in (("ALARM", to_page), ("OK", to_resolve)):
                    before = sum(alarm in t for t in slack.texts())
                    started = time.monotonic()
                    put(events, [change(alarm, estate[name], state)])
                    assert wait_until(lambda a=alarm, b=before: sum(a in t for t in slack.texts()) > b, 30), alarm
                    into.append(time.monotonic() - started)
        finally:
            stop(procs)
    return {"alarm_to_page": ms(to_page), "ok_to_resolve_post": ms(to_resolve), "target_p95_ms": 2000}


def throughput(url: str, slack, alarms: int, n_workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        estate, events = prepare(url, Path(tmp))
        slack.clear()
        procs = workers(n_workers, Path(tmp), slack.url)
        try:
            assert wait_until(lambda: len(slack.texts()) >= 2, 120), "the first poll never paged the seeded alarms"
            ids = list(estate.values())
            names = [f"bench-load-{k:05d}" for k in range(alarms)]  # fixed width: no name is part of another
            entries = [change(name, ids[k % len(ids)], "ALARM") for k, name in enumerate(names)]
            started = time.monotonic()
            put(events, entries + entries[: alarms // 2])  # half of them twice: at-least-once delivery
            done = wait_until(lambda: len(slack.texts()) >= 2 + alarms, 600)
            took = time.monotonic() - started
            time.sleep(2)  # a duplicate page would arrive now
            pages = Counter(name for t in slack.texts() for name in names if name in t)
        finally:
            stop(procs)
    once = all(pages.get(name) == 1 for name in names)
    return {"workers": n_workers, "alarms": alarms, "events": alarms + alarms // 2, "all_paged": done,
            "each_paged_once": once, "seconds": round(took, 2), "events_per_second": round((alarms * 1.5) / took, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alarms", type=int, default=300)
    parser.add_argument("--latency", type=int, default=20)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from tests.notify.slack_server import FakeSlackWebhook

    moto, url = start_moto_process()
    try:
        with FakeSlackWebhook() as slack:
            figures = {"load": f"1-min load average {os.getloadavg()[0]:.1f} at start (2 cores); moto in its own "
                               "process; workers as real processes sharing one SQLite store",
                       "latency": latency(url, slack, args.latency), "throughput": []}
            for n in (int(w) for w in args.workers.split(",")):
                figures["throughput"].append(throughput(url, slack, args.alarms, n))
            base = figures["throughput"][0]["events_per_second"]
            for row in figures["throughput"]:
                row["ratio_to_first"] = round(row["events_per_second"] / base, 2) if base else None
    finally:
        moto.terminate()
    save("push", figures)


if __name__ == "__main__":
    main()
