"""Real `main.py monitor --queue` worker processes on one SQS queue (moto over HTTP) and one store: a flood of
pushed alarm changes, late, twice and out of order, with one worker SIGKILLed halfway. Every incident is
opened once, every alert reaches the local Slack stand-in once, the queue ends empty and the dead-letter
queue holds only the malformed messages. Three workers on DynamoDB; one worker on SQLite.

The issue's full size (1,000 events for 300 alarms) runs in bench/bench_workers.py; here it is scaled so the
test stays within ~40 s on two cores: WAVE events for ALARMS alarms (ALARMs, duplicates, OKs older than their
ALARM, shuffled), then a newer OK for RESOLVED of them.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.helpers import REPO
from tests.notify.slack_server import FakeSlackWebhook, no_proxy_fixture, slack_fixture  # noqa: F401
from utils.event_intake import DEAD_LETTER_NAME, QUEUE_NAME, set_up

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("indexed_sops")]
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
ALARMS, WAVE, RESOLVED, MALFORMED = 30, 100, 10, 3
VISIBILITY = 6  # seconds a killed worker's messages stay hidden before another worker gets them


def envelope(name: str, instance_id: str, state: str, at: datetime) -> str:
    """The body EventBridge delivers to the queue for an alarm state change."""
    detail = {"alarmName": name, "state": {"value": state, "reason": f"e2e {state}",
                                           "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"},
              "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": {
                  "namespace": "CWAgent", "name": "disk_used_percent", "dimensions": {"InstanceId": instance_id}}}}]}}
    return json.dumps({"version": "0", "id": f"{name}-{state}-{at.timestamp()}", "source": "aws.cloudwatch",
                       "detail-type": "CloudWatch Alarm State Change", "account": "123456789012",
                       "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1", "detail": detail})


def first_wave(names: list[str], instance_ids: list[str], size: int, start: datetime) -> list[str]:
    """One ALARM per alarm, then duplicates and OKs from before the ALARM, shuffled: each alarm must open once."""
    fired = {n: start + timedelta(seconds=k) for k, n in enumerate(names)}
    where = {n: instance_ids[k % len(instance_ids)] for k, n in enumerate(names)}
    bodies = [envelope(n, where[n], "ALARM", fired[n]) for n in names]
    rng = random.Random(12)
    while len(bodies) < size:
        n = rng.choice(names)
        stale = rng.random() < 0.4
        bodies.append(envelope(n, where[n], "OK" if stale else "ALARM", fired[n] - timedelta(minutes=5) if stale
                               else fired[n]))
    rng.shuffle(bodies)
    return bodies


def send(sqs, url: str, bodies: list[str]) -> None:
    for start in range(0, len(bodies), 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b}
                                                      for i, b in enumerate(bodies[start:start + 10])])


def depth(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def metrics(base: str) -> dict[tuple[str, tuple], float]:
    with DIRECT.open(f"{base}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(got: dict, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in got.items() if n == name and all((k, v2) in ls for k, v2 in labels.items()))


def start_worker(env: dict[str, str], logs: Path, n: int) -> tuple[subprocess.Popen, str]:
    err = logs / f"worker-{n}.err"
    with open(logs / f"worker-{n}.out", "w") as out, open(err, "w") as errors:  # files: a full pipe would stall it
        proc = subprocess.Popen([sys.executable, "main.py", "monitor", "--queue", QUEUE_NAME, "--http", "127.0.0.1:0"],
                                cwd=REPO, env=env, stdout=out, stderr=errors)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"http://127\.0\.0\.1:(\d+)", err.read_text())
        if found:
            return proc, f"http://127.0.0.1:{found.group(1)}"
        assert proc.poll() is None, err.read_text()
        time.sleep(0.1)
    raise AssertionError(f"worker {n} never served: {err.read_text()}")


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out: {what}")


def pages(slack: FakeSlackWebhook, names: list[str]) -> Counter:
    """Alert posts per alarm name (`e2e-0007`: fixed width, so no name is part of another)."""
    return Counter(found.group(0) for t in slack.texts() if (found := re.search(r"e2e-\d{4}", t)))


def run_scenario(aws_env, slack: FakeSlackWebhook, store: str | None, workers: int, kill_one: bool, tmp_path: Path,
                 estate: dict[str, str]) -> dict:
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=aws_env.url)
    events = boto3.client("events", region_name="us-east-1", endpoint_url=aws_env.url)
    set_up(sqs, events, "123456789012", "us-east-1", apply=True)
    url = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
    dead = sqs.get_queue_url(QueueName=DEAD_LETTER_NAME)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(VISIBILITY)})
    (aws_env.home / "aiops.toml").write_text("[intake]\nreconcile_minutes = 60\n")  # pushes only after the first poll
    env = {**{k: v for k, v in os.environ.items() if "proxy" not in k.lower()}, "SLACK_WEBHOOK_URL": slack.url}
    if store:
        env["AIOPS_STORE"] = store
    procs = [start_worker(env, tmp_path, n) for n in range(workers)]
    try:
        # Their first polls (which would resolve pushed incidents the estate does not have) are done first.
        wait_until(lambda: all(total(metrics(base), "aiops_monitor_cycles_total") >= 1 for _, base in procs), 90,
                   "every worker's first poll")
        names = [f"e2e-{k:04d}" for k in range(ALARMS)]
        started = datetime.now(UTC) - timedelta(hours=1)
        ids = sorted(estate.values())
        send(sqs, url, first_wave(names, ids, WAVE, started) + ["not json", '{"hello": 1}',
                                                                 json.dumps({"source": "aws.ec2"})][:MALFORMED])
        killed = None
        if kill_one:
            wait_until(lambda: sum(pages(slack, names).values()) >= ALARMS // 2, 60, "half the pages")
            procs[0][0].send_signal(signal.SIGKILL)
            killed = procs[0][0].wait(10)
        wait_until(lambda: len(pages(slack, names)) == ALARMS, 90, "a page for every alarm")
        resolved = names[:RESOLVED]
        send(sqs, url, [envelope(n, ids[k % len(ids)], "OK", started + timedelta(seconds=k, minutes=10))
                        for k, n in enumerate(resolved)])
        wait_until(lambda: sum(pages(slack, names).values()) >= ALARMS + RESOLVED, 60, "every resolve post")
        wait_until(lambda: depth(sqs, url) == 0 and depth(sqs, dead) == MALFORMED, 60,
                   "an empty queue and the malformed messages in the dead-letter queue")
        time.sleep(1)  # a duplicate post would arrive now
        live = [(p, base) for p, base in procs if p.poll() is None]
        figures = [metrics(base) for _, base in live]
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(30) for proc, _ in procs]
    return {"names": names, "resolved": resolved, "killed": killed, "codes": codes, "metrics": figures,
            "dead": sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10)["Messages"]}


def check(slack: FakeSlackWebhook, got: dict, history: list) -> None:
    names, resolved = got["names"], got["resolved"]
    posts = pages(slack, names)
    assert posts == Counter({n: 2 if n in resolved else 1 for n in names})  # each page once, each resolve once
    opened = Counter(h.incident.alarm for h in history if h.incident.alarm.startswith("e2e-"))
    assert opened == Counter(names)  # every incident opened once
    assert {h.incident.alarm for h in history if h.incident.status == "resolved"} == set(resolved)
    assert sorted(m["Body"] for m in got["dead"]) == sorted(["not json", '{"hello": 1}', '{"source": "aws.ec2"}'])
    # What the workers' /metrics say happened is what happened (the killed worker's counters died with it).
    live = got["metrics"]
    assert total(live[0], "aiops_queue_events_total", result="received") > 0
    if got["killed"] is None:
        counted = {r: sum(total(m, "aiops_queue_events_total", result=r) for m in live)
                   for r in ("received", "applied", "stale", "rejected", "failed")}
        # An OK older than its ALARM that arrives first is news then (nothing was open): applied, not stale.
        assert counted["applied"] >= ALARMS + RESOLVED and counted["failed"] == 0
        assert counted["received"] == counted["applied"] + counted["stale"] + counted["rejected"]
        assert sum(total(m, "aiops_incidents_opened_total") for m in live) == ALARMS + 2  # + the estate's two
        assert sum(total(m, "aiops_incidents_resolved_total") for m in live) == RESOLVED
        assert sum(total(m, "aiops_notifications_total", result="sent") for m in live) == ALARMS + RESOLVED + 2
        assert sum(total(m, "aiops_queue_events_total", result="rejected") for m in live) >= MALFORMED
    for m in live:  # every message's wait was measured; nothing waits in any destination's outbox
        assert total(m, "aiops_queue_message_age_seconds_count") == total(m, "aiops_queue_events_total", result="received")
        assert total(m, "aiops_outbox_depth") == 0 and total(m, "aiops_monitor_cycle_duration_seconds_count") >= 1


def test_three_workers_on_dynamodb_one_killed_halfway_page_each_incident_once(estate, aws_env, slack, tmp_path):
    from agent.monitor.stores import open_store
    from utils.config import load_settings

    table = "aiops-e2e-workers"
    got = run_scenario(aws_env, slack, f"dynamodb:{table}", 3, True, tmp_path, estate)
    assert got["killed"] == -signal.SIGKILL and got["codes"][1:] == [0, 0]  # SIGTERM: finish, stop, exit 0
    history = open_store(load_settings(store=f"dynamodb:{table}")).history(1000)
    check(slack, got, history)
    assert not (aws_env.home / "incidents.sqlite3").exists()
    calls = sum(total(m, "aiops_store_calls_total") for m in got["metrics"])
    assert calls > 0  # counted (bench/bench_workers.py reports them per incident)


def test_one_worker_on_sqlite_pages_each_incident_once(estate, aws_env, slack, tmp_path):
    from agent.monitor.incidents import IncidentStore

    got = run_scenario(aws_env, slack, None, 1, False, tmp_path, estate)
    assert got["codes"] == [0]
    check(slack, got, IncidentStore(aws_env.home).history(1000))
