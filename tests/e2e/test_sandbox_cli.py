"""`sandbox start|stop|status|reset` and the sandbox's state apart, over real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.helpers import REPO

pytestmark = pytest.mark.e2e


def _env(home) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "AIOPS_HOME": str(home)}


def run(home, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], capture_output=True, text=True,
                          timeout=timeout, env=env or _env(home), cwd=REPO)


def _states(done: subprocess.CompletedProcess) -> dict[str, str]:
    assert done.returncode == 0, done.stderr
    return {i["name"]: i["state"] for i in json.loads(done.stdout)["result"]["instances"]}


@pytest.fixture
def started(tmp_path):
    home = tmp_path / "home"
    done = run(home, "sandbox", "start")
    assert done.returncode == 0, done.stderr
    try:
        yield home, done.stdout
    finally:
        run(home, "sandbox", "stop")


LIST = ("ask", "list all instances", "--json", "--sandbox", "--planner", "rules")


def test_a_started_sandbox_keeps_state_across_commands_until_reset_and_stop(started):
    home, said = started
    server = json.loads((home / "sandbox" / "server.json").read_text())
    assert said.startswith(f"sandbox running at {server['url']} (pid {server['pid']}")
    again = run(home, "sandbox", "start")
    assert again.returncode == 0 and "already running" in again.stdout

    stop = run(home, "ask", "stop dev-box-1", "--yes", "--sandbox", "--planner", "rules")
    assert stop.returncode == 0, stop.stderr
    assert _states(run(home, *LIST))["dev-box-1"] in {"stopping", "stopped"}  # the next command sees it

    sandbox_history = json.loads(run(home, "history", "--json", "--sandbox").stdout)
    assert [row["tool"] for row in sandbox_history] == ["stop_instances"]
    assert json.loads(run(home, "history", "--json").stdout) == []  # real state untouched
    assert not (home / "audit.sqlite3").exists()

    status = run(home, "sandbox", "status")
    lines = status.stdout.splitlines()
    assert status.returncode == 0 and lines[0].split() == ["sandbox", "running"]
    assert lines[1].split() == ["url", server["url"]] and lines[2].split() == ["pid", str(server["pid"])]
    assert lines[4].split()[:2] == ["instances", "10"]

    reset = run(home, "sandbox", "reset")
    assert reset.returncode == 0 and "generation" in reset.stdout, reset.stderr
    assert _states(run(home, *LIST))["dev-box-1"] == "running"  # a fresh estate
    assert json.loads(run(home, "history", "--json", "--sandbox").stdout) == []  # and a fresh generation

    stopped = run(home, "sandbox", "stop")
    assert stopped.returncode == 0 and f"pid {server['pid']}" in stopped.stdout
    gone = run(home, "sandbox", "status")
    assert gone.returncode == 1 and gone.stdout.split() == ["sandbox", "not", "running"]
    assert not (home / "sandbox" / "server.json").exists()


def test_a_stale_server_file_is_named_and_ignored(tmp_path):
    home = tmp_path / "home"
    (home / "sandbox").mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (home / "sandbox" / "server.json").write_text(json.dumps(
        {"url": "http://127.0.0.1:9", "pid": int(dead.stdout), "generation": "old", "started": 0}))
    status = run(home, "sandbox", "status")
    assert status.returncode == 1 and "stale server.json" in status.stdout and "Traceback" not in status.stderr
    # A --sandbox command does not attach to it: it starts its own.
    assert _states(run(home, *LIST))["web-server"] == "running"


@pytest.mark.parametrize("args", [("sandbox",), ("sandbox", "begin"), ("sandbox", "start", "now")])
def test_bad_sandbox_usage_is_one_line(tmp_path, args):
    done = run(tmp_path, *args)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and done.stdout == ""


def test_reset_without_a_running_sandbox_is_one_line(tmp_path):
    done = run(tmp_path, "sandbox", "reset")
    assert done.returncode == 1 and done.stderr.startswith("error: no sandbox is running")


def _monitor(home, *extra: str, env: dict | None = None) -> list[dict]:
    done = run(home, "monitor", "--once", "--json", *extra, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["incidents"]


@pytest.mark.usefixtures("indexed_sops")  # SOPs are not what this is about: not indexed twice here
def test_no_sandbox_past_is_counted_or_resolved_against_another_fleet(aws_env):
    home = aws_env.home
    first = _monitor(home, "--sandbox")
    second = _monitor(home, "--sandbox")  # a new private sandbox: a new fleet, a new generation
    for incidents in (first, second):
        # Every place of the sandbox: its second region's database and its prod account's function too.
        assert sorted((i["alarm"], i["status"], i["resource"]["account"], i["resource"]["region"])
                      for i in incidents) == [
            ("orders-db-eu-cpu-high", "open", "default", "eu-west-1"),
            ("payments-webhook-errors", "open", "prod", "us-east-1"),
            ("web-server-cpu-high", "open", "default", "us-east-1"),
            ("worker-1-status-check-failed", "open", "default", "us-east-1")]
    instances = [{i["resource"]["instance_id"] for i in run_ if i["resource"]["instance_id"]} for run_ in (first, second)]
    assert instances[0].isdisjoint(instances[1])
    listed = json.loads(run(home, "incidents", "--json", "--sandbox").stdout)
    assert len(listed) == 4  # the last sandbox's, not eight
    # The real monitor after them (an empty account) neither counts nor resolves the sandbox's incidents.
    real = {**_env(home), **{k: v for k, v in aws_env.env.items() if k != "AIOPS_HOME"}}
    assert _monitor(home, env=real) == []
    assert json.loads(run(home, "incidents", "--json", env=real).stdout) == []
    assert len(json.loads(run(home, "incidents", "--json", "--sandbox").stdout)) == 4


def test_the_repl_attaches_to_a_started_sandbox(started):
    import pexpect

    home, _ = started
    url = json.loads((home / "sandbox" / "server.json").read_text())["url"]
    child = pexpect.spawn(sys.executable, [str(REPO / "main.py"), "--sandbox", "--planner", "rules"], cwd=str(REPO),
                          env={**_env(home), "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"}, encoding="utf-8",
                          timeout=60, dimensions=(50, 160))
    child.expect_exact("aiops>")
    assert url in child.before  # the banner names the running emulator, not a private one
    child.sendline("stop dev-box-1")
    child.expect_exact("Proceed? [y/N]")
    child.sendline("y")
    child.expect("stopped dev-box-1")
    child.expect_exact("aiops>")
    child.sendline("exit")
    child.expect(pexpect.EOF)
    assert _states(run(home, *LIST))["dev-box-1"] in {"stopping", "stopped"}  # seen by the next command
