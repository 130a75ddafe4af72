"""Paging under crashes and corruption: real `monitor --once` processes, kill -9 at chosen points of a
Slack post, damaged SQLite files, and the fake Slack webhook over loopback counting what a channel shows."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter

import boto3
import pytest

from agent.monitor.incidents import DB_NAME
from notify.slack_webhook import OUTBOX_FILE
from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.helpers import REPO
from tests.notify.slack_server import FakeSlackWebhook, Reply, no_proxy_fixture, slack_fixture  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("indexed_sops")]

ESTATE_ALARMS = ["web-server-cpu-high", "worker-1-status-check-failed"]


def fire_disk_alarms(aws_env, estate: dict[str, str]) -> list[str]:
    """Every instance's disk alarm too: twelve incidents in all, paged one after another."""
    cloudwatch = boto3.client("cloudwatch", endpoint_url=aws_env.url, region_name="us-east-1")
    names = [f"{name}-disk-full" for name in estate]
    for alarm in names:
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="disk above 90%")
    return ESTATE_ALARMS + names


def env_for(slack: FakeSlackWebhook) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return {**env, "SLACK_WEBHOOK_URL": slack.url}


def monitor_once(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "main.py", "monitor", "--once", "--json"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)


def pages(slack: FakeSlackWebhook, alarms: list[str]) -> Counter:
    """How many times the channel showed a page about each alarm."""
    return Counter(alarm for text in slack.texts() for alarm in alarms if alarm in text)


def stored(env: dict[str, str]) -> list[dict]:
    done = run("incidents", "--json", "--limit", "100", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def kill_at(slack: FakeSlackWebhook, proc: subprocess.Popen, post: int, phase: str) -> threading.Event:
    """SIGKILL the sender at its `post`-th Slack post: on "arrived" Slack has the message and the sender
    never hears back; on "answered" it has the 200 and dies somewhere after (recording it, the next incident)."""
    killed = threading.Event()

    def hook(number: int, when: str) -> None:
        if number == post and when == phase and not killed.is_set():
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            killed.set()

    slack.on_request = hook
    return killed


@pytest.mark.parametrize("phase", ["arrived", "answered"])
def test_a_kill_during_a_post_costs_at_most_one_repeat_and_no_delay(estate, aws_env, slack, phase):
    alarms = fire_disk_alarms(aws_env, estate)
    env = env_for(slack)
    first = monitor_once(env)
    killed = kill_at(slack, first, post=4, phase=phase)
    first.communicate(timeout=120)
    assert killed.wait(30) and first.returncode == -signal.SIGKILL
    slack.on_request = None

    started = time.monotonic()
    second = run("monitor", "--once", "--json", env=env)
    took = time.monotonic() - started
    assert second.returncode == 0, second.stderr

    shown = pages(slack, alarms)
    assert set(shown) == set(alarms)  # every incident paged, the killed one included, in this very run
    assert sum(shown.values()) - len(alarms) <= 1  # the kill cost at most one repeated page
    if phase == "arrived":
        assert sum(shown.values()) == len(alarms) + 1  # Slack had it, the dead sender never knew: sent again once
    assert all(i["notified_at"] is not None for i in stored(env)) and len(stored(env)) == len(alarms)
    assert took < 60  # no lease to wait out: the dead process's claims are taken over at once
    third = run("monitor", "--once", "--json", env=env)
    assert third.returncode == 0 and sum(pages(slack, alarms).values()) == sum(shown.values())


STUCK_POST_SECONDS = 10  # the webhook client's timeout for one attempt (notify/slack_webhook.py)


def test_a_post_stuck_in_one_process_does_not_hold_up_other_incidents(estate, aws_env, slack):
    alarms = fire_disk_alarms(aws_env, estate)
    env = env_for(slack)
    release = threading.Event()
    slack.script(Reply(hold=release))  # the first post hangs until released: a slow Slack, a stuck process
    arrived = threading.Event()
    slack.on_request = lambda number, when: arrived.set() if number == 1 else None
    stuck = monitor_once(env)
    try:
        assert arrived.wait(60)
        started = time.monotonic()
        other = run("monitor", "--once", "--json", env=env)
        took = time.monotonic() - started
        assert other.returncode == 0, other.stderr
        if took >= STUCK_POST_SECONDS:
            # The stuck post's attempt timed out and its retry went through before the second process
            # looked: on a machine this loaded the scene the test is about never happened.
            pytest.skip(f"the second monitor took {took:.0f} s, past the stuck post's {STUCK_POST_SECONDS:g} s timeout")
        waiting = [a for a in alarms if pages(slack, [a])[a] == 0]
        # Only the stuck incident waits; every other one is in the channel already.
        assert len(waiting) == 1, (took, [(r.status, r.at - started) for r in slack.received], other.stderr)
        assert took < 60
    finally:
        release.set()
        stuck.communicate(timeout=120)
    assert stuck.returncode == 0
    assert pages(slack, alarms) == Counter(dict.fromkeys(alarms, 1))  # and nothing twice


def garbage(path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"garbage")


def truncated(path) -> None:
    """A real incident database cut off in the middle of a page, as a full disk or a bad copy leaves it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE filler (n INTEGER, text TEXT)")
        db.executemany("INSERT INTO filler VALUES (?, ?)", [(n, "x" * 500) for n in range(200)])
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size - 4096 - 1000)


@pytest.mark.parametrize("damage", [garbage, truncated])
def test_a_damaged_incident_store_stops_the_monitor_and_pages_nothing(estate, aws_env, slack, damage):
    path = aws_env.home / DB_NAME
    damage(path)
    before = path.read_bytes()
    env = env_for(slack)
    for _ in range(2):  # cron runs it again and again: still nothing paged from memory
        done = run("monitor", "--once", "--json", env=env)
        assert done.returncode != 0 and done.stdout == ""
        assert done.stderr.count("\n") == 1, done.stderr
        assert "cannot open the incident store" in done.stderr and str(path) in done.stderr
        assert "does not page from memory" in done.stderr
    assert slack.received == []
    assert path.read_bytes() == before  # left for a person to look at


def test_a_damaged_outbox_marks_nothing_notified_and_a_later_run_pages(estate, aws_env, slack):
    outbox = aws_env.home / OUTBOX_FILE
    garbage(outbox)
    env = env_for(slack)
    for _ in range(2):
        done = run("monitor", "--once", "--json", env=env)
        assert done.returncode == 0, done.stderr
        assert all(i["notified"] is False for i in json.loads(done.stdout)["incidents"])
        assert "post failed" in done.stderr
    assert slack.received == []
    incidents = stored(env)
    assert len(incidents) == 2 and all(i["notified_at"] is None for i in incidents)
    assert all("not_notified" in [e["kind"] for e in i["timeline"]] for i in incidents)

    outbox.unlink()  # a person removes the broken file
    done = run("monitor", "--once", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert pages(slack, ESTATE_ALARMS) == Counter(dict.fromkeys(ESTATE_ALARMS, 1))
    assert all(i["notified_at"] is not None for i in stored(env))
