"""`monitor --http`: a running worker answers health, readiness, Prometheus metrics and its incidents."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.helpers import REPO
from tests.notify.slack_server import FakeSlackWebhook, no_proxy_fixture, slack_fixture  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("indexed_sops")]
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str) -> tuple[int, str]:
    try:
        with DIRECT.open(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def start_worker(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "main.py", "monitor", "--interval", "1", "--http", "127.0.0.1:0"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    assert found, line
    return proc, f"http://127.0.0.1:{found.group(1)}"


def test_a_worker_serves_its_health_its_counters_and_its_incidents(estate, aws_env, slack: FakeSlackWebhook):
    env = {**{k: v for k, v in os.environ.items() if "proxy" not in k.lower()}, "SLACK_WEBHOOK_URL": slack.url}
    proc, base = start_worker(env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, text = get(f"{base}/metrics")
            if status == 200 and samples(text).get(("aiops_monitor_cycles_total", ()), 0) >= 2:
                break
            time.sleep(0.3)
        got = samples(text)
        # The seeded estate has two firing alarms: web-server CPU (prod, Tier 1) and worker-1's status check.
        opened = sum(v for (name, _), v in got.items() if name == "aiops_incidents_opened_total")
        assert opened == 2
        sent = {labels: v for (name, labels), v in got.items() if name == "aiops_notifications_total" and v}
        assert sent == {(("destination", "Slack webhook"), ("result", "sent")): 2}, sent
        assert len(slack.texts()) == 2  # what the counter says is what the channel shows
        assert got[("aiops_outbox_depth", (("destination", "Slack webhook"),))] == 0
        assert sum(v for (name, _), v in got.items() if name == "aiops_incidents_open") == 2
        assert got[("aiops_monitor_cycle_duration_seconds_count", ())] >= 2

        assert get(f"{base}/healthz") == (200, "ok\n")
        assert get(f"{base}/readyz")[0] == 200
        status, body = get(f"{base}/incidents")
        assert status == 200
        assert sorted(i["alarm"] for i in json.loads(body)) == ["web-server-cpu-high", "worker-1-status-check-failed"]
        assert get(f"{base}/nothing")[0] == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 0


@pytest.mark.parametrize("args, fragment", [
    (["--http", "localhost"], "HOST:PORT"),
    (["--http", "127.0.0.1:99999"], "HOST:PORT"),
    (["--once", "--http", "127.0.0.1:9464"], "--once"),
])
def test_a_bad_http_option_is_one_line(aws_env, args, fragment):
    done = subprocess.run([sys.executable, "main.py", "monitor", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env=os.environ)
    assert done.returncode == 2 and fragment in done.stderr and len(done.stderr.strip().splitlines()) == 1
