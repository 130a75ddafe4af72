"""Faults fail loudly and briefly: the real CLI in a subprocess against endpoints that are down, refuse the
credentials, answer 500 or garbage, or hang (real servers on loopback, tests/broken_aws.py).

Every fault gives a non-zero exit, one line on stderr that says what failed and what to do, and no
traceback. AIOPS_AWS_TIMEOUT keeps the hung-endpoint cases short.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack

import pytest

from tests.broken_aws import BrokenAws, closed_port
from tests.helpers import REPO

pytestmark = pytest.mark.e2e

HUNG_TIMEOUT = 1.5  # AIOPS_AWS_TIMEOUT for the hung endpoint: the whole call, retries included


def run(env: dict[str, str], *args: str, cwd=REPO, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)


def base_env(tmp_path, endpoint: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AIOPS_"))}
    env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "2",
                "AIOPS_HOME": str(tmp_path / "home"), "AIOPS_AWS_TIMEOUT": str(HUNG_TIMEOUT)})
    env.update(extra)
    return env


def assert_one_line(result: subprocess.CompletedProcess, *fragments: str) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0, result.stdout
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "╭" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# fault -> (the endpoint it needs, extra environment, CLI flags, what the line must say)
FAULTS = {
    "down": ("closed", {}, [], ["EndpointUnreachable", "cannot connect to the EC2 endpoint http://127.0.0.1:"]),
    "auth": ("auth", {}, [], ["AuthFailure", "AWS rejected the credentials"]),
    "500": ("500", {}, [], ["ServiceError", "answered HTTP 500"]),
    "garbage": ("garbage", {}, [], ["BadResponse", "not an AWS response"]),
    "hang": ("hang", {}, [], ["Timeout", f"did not answer within {HUNG_TIMEOUT:g} s (2 attempts)",
                              "AIOPS_AWS_TIMEOUT"]),
    "profile": ("closed", {}, ["--profile", "nope"], ["ProfileNotFound", "nope", "--profile"]),
    "region": ("closed", {}, ["--region", "not a region"], ["not a region"]),
    "attempts": ("closed", {"AWS_MAX_ATTEMPTS": "abc"}, [], ["invalid setting AWS_MAX_ATTEMPTS"]),
    "not-a-url": ("notaurl", {}, [], ["invalid setting AWS_ENDPOINT_URL", "'notaurl' is not an http(s) URL"]),
}


def endpoint(stack: ExitStack, kind: str, servers: list[BrokenAws] | None = None) -> str:
    if kind == "closed":
        return f"http://127.0.0.1:{closed_port()}"
    if kind == "notaurl":
        return "notaurl"
    server = stack.enter_context(BrokenAws(kind))
    if servers is not None:
        servers.append(server)
    return server.url


@pytest.mark.parametrize("fault", list(FAULTS))
def test_ask_says_what_failed_in_one_line(tmp_path, fault):
    kind, extra, flags, fragments = FAULTS[fault]
    servers: list[BrokenAws] = []
    with ExitStack() as stack:
        env = base_env(tmp_path, endpoint(stack, kind, servers), **extra)
        started = time.monotonic()
        result = run(env, "--planner", "rules", *flags, "ask", "list all instances")
        elapsed = time.monotonic() - started
    assert_one_line(result, *fragments)
    if fault == "hang":
        # One call of botocore's 2 attempts (the planning context's failed list_instances is not asked
        # again for the plan), each cut at its share of AIOPS_AWS_TIMEOUT; the rest is start-up.
        assert servers[0].requests == 2
        assert elapsed < HUNG_TIMEOUT + 15, elapsed


@pytest.mark.parametrize("fault", ["down", "auth"])
def test_plan_names_the_failure_not_a_missing_instance(tmp_path, fault):
    kind, extra, flags, fragments = FAULTS[fault]
    with ExitStack() as stack:
        result = run(base_env(tmp_path, endpoint(stack, kind), **extra), "--planner", "rules", *flags,
                     "plan", "stop web-3")
    line = assert_one_line(result, "could not read the instances", *fragments)
    assert "No instance named" not in line and "no instance named" not in line


def test_debug_shows_the_traceback(tmp_path):
    env = base_env(tmp_path, f"http://127.0.0.1:{closed_port()}", AIOPS_DEBUG="1")
    result = run(env, "--planner", "rules", "ask", "list all instances")
    assert result.returncode != 0
    assert "Traceback" in result.stderr


@pytest.mark.parametrize("fault", ["down", "auth", "500", "garbage", "hang"])
def test_monitor_once_fails_when_no_source_could_be_read(tmp_path, fault):
    kind, _extra, _flags, fragments = FAULTS[fault]
    with ExitStack() as stack:
        result = run(base_env(tmp_path, endpoint(stack, kind)), "monitor", "--once", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"incidents": []}  # stdout stays the one document
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "could not read the alarm, status, state source(s)" in errors[0]
    assert fragments[0] in errors[0]
    assert "Traceback" not in result.stderr


def test_credentials_in_the_endpoint_never_appear(tmp_path):
    url = f"http://AKIASECRETKEY:wJalrXUtnFEMIsecret@127.0.0.1:{closed_port()}"
    env = base_env(tmp_path, url)
    outputs = [run(env, "--planner", "rules", "ask", "--json", "stop web-3"), run(env, "monitor", "--once")]
    for result in outputs:
        assert result.returncode != 0
        text = result.stdout + result.stderr
        assert "127.0.0.1" in text
        assert "AKIASECRETKEY" not in text and "wJalrXUtnFEMIsecret" not in text
    bad = run(base_env(tmp_path, "http://AKIASECRETKEY:wJalr/XUtn@127.0.0.1:1"), "ask", "list all instances")
    assert_one_line(bad, "invalid setting AWS_ENDPOINT_URL", "credentials hidden")
    assert "AKIASECRETKEY" not in bad.stderr and "XUtn" not in bad.stderr


def test_a_malformed_ollama_host_falls_back_and_says_why(tmp_path, aws_env):
    env = {**base_env(tmp_path, aws_env.url), "OLLAMA_HOST": "::::"}
    result = run(env, "--planner", "ollama", "plan", "--json", "list all instances")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["planner"] == "rules" and doc["tool"] == "list_instances"
    assert "OLLAMA_HOST" in doc["message"] and "http://localhost:11434" in doc["message"]
    assert "Traceback" not in result.stderr and "ExceptionGroup" not in result.stderr


def test_empty_aiops_home_means_the_default_home(tmp_path, aws_env, estate):
    home, cwd = tmp_path / "user", tmp_path / "cwd"
    cwd.mkdir()
    (home / ".aiops").mkdir(parents=True)
    (home / ".aiops" / "aiops.toml").write_text("max_targets = 3\n")
    env = {**base_env(tmp_path, aws_env.url), "AIOPS_HOME": "", "HOME": str(home)}
    result = run(env, "--planner", "rules", "ask", "start worker-2", cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert not list(cwd.iterdir())  # nothing written where the command happened to run
    assert (home / ".aiops" / "audit.sqlite3").exists()
