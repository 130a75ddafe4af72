"""The command line as scripts use it: real processes, JSON on stdout, exit codes, one-line errors."""

import json
import os
import subprocess
import sys
import time

import pytest

from tests.helpers import REPO, state_of

pytestmark = pytest.mark.e2e


def run(aws_env, *args, stdin: str = "", timeout: float = 60, extra_env: dict | None = None):
    env = {**os.environ, **aws_env.env, **(extra_env or {})}
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=REPO)


def test_help_is_fast_and_lists_the_commands():
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(REPO / "main.py"), "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    for name in ("ask", "plan", "monitor", "sop", "incidents", "mcp", "--sandbox", "--read-only"):
        assert name in done.stdout
    assert time.perf_counter() - started < 5  # the real figure (< 0.5 s) is in bench/, not a timed test


def test_bad_arguments_give_one_line_and_exit_2():
    done = subprocess.run([sys.executable, str(REPO / "main.py"), "frobnicate"], capture_output=True, text=True)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_plan_json_shape(estate, aws_env):
    done = run(aws_env, "plan", "reboot both api servers", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert set(doc) == {"tool", "arguments", "targets", "planner", "status", "message", "result"}
    assert doc["tool"] == "reboot_instances" and doc["status"] == "planned" and doc["planner"] == "rules"
    assert sorted(t["name"] for t in doc["targets"]) == ["api-1", "api-2"]
    assert sorted(doc["arguments"]["instances"]) == sorted([estate["api-1"], estate["api-2"]])


def test_ask_without_a_terminal_refuses_destruction(estate, aws_env, ec2):
    done = run(aws_env, "ask", "stop api-1", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["status"] == "refused"
    assert "--yes" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert state_of(ec2, estate["api-1"]) == "running"
    # Nobody was asked, and the audit log says exactly that.
    history = json.loads(run(aws_env, "history", "--json", "--limit", "1").stdout)
    assert history[0]["decision"] == "unconfirmed" and "declined" not in history[0]["outcome"]


def test_ask_yes_acts(estate, aws_env, ec2):
    done = run(aws_env, "ask", "stop api-1", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "ok"
    assert state_of(ec2, estate["api-1"]) in {"stopping", "stopped"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("ask", "stop db-primary", "--yes", "--json"), "protected"),
        (("--read-only", "ask", "stop api-2", "--yes", "--json"), "read-only"),
    ],
)
def test_yes_never_lifts_guards(estate, aws_env, ec2, args, fragment):
    done = run(aws_env, *args)
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["status"] == "refused" and fragment in doc["message"]
    assert all(state_of(ec2, estate[n]) == "running" for n in ("db-primary", "api-2"))


def test_blast_radius_through_the_cli(estate, aws_env, ec2):
    done = run(aws_env, "ask", "reboot all prod instances", "--yes", "--json", extra_env={"AIOPS_MAX_TARGETS": "2"})
    assert done.returncode == 1
    assert "blast radius" in json.loads(done.stdout)["message"] or "protected" in json.loads(done.stdout)["message"]


def test_dry_run_flag(estate, aws_env, ec2):
    done = run(aws_env, "ask", "stop api-2", "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"]["status"] == "dry_run"
    assert state_of(ec2, estate["api-2"]) == "running"


@pytest.mark.parametrize("text", ["", "   ", "\x1b[31m\x07\u200f", "stop", "🔥🔥🔥", "stop web-1; rm -rf /", "x" * 20000])
def test_bad_requests_never_traceback_or_change_the_fleet(estate, aws_env, ec2, text):
    done = run(aws_env, "ask", text, "--yes", "--json")
    assert "Traceback" not in done.stderr
    if done.returncode != 0:
        assert len(done.stderr.strip().splitlines()) == 1
    assert all(state_of(ec2, i) in {"running", "stopped"} for i in estate.values())
    assert state_of(ec2, estate["worker-2"]) == "stopped"


def test_an_over_long_request_is_refused_not_cut_and_acted_on(estate, aws_env, ec2):
    done = run(aws_env, "ask", "stop web-server " + "x" * 100_000, "--yes", "--json")
    assert done.returncode == 1
    assert "over the limit of 2,000" in json.loads(done.stdout)["message"]
    assert state_of(ec2, estate["web-server"]) == "running"


def test_broken_config_file_is_one_line(aws_env):
    aws_env.home.mkdir(parents=True, exist_ok=True)
    (aws_env.home / "aiops.toml").write_text("max_targets = [unclosed")
    done = run(aws_env, "plan", "list instances", "--json")
    assert done.returncode == 2
    assert "aiops.toml is not valid TOML" in done.stderr and "Traceback" not in done.stderr


def test_history_shows_who_what_decision_and_outcome(estate, aws_env, ec2):
    assert run(aws_env, "history", "--json").stdout.strip() == "[]"
    assert run(aws_env, "ask", "stop api-2", "--yes").returncode == 0
    assert run(aws_env, "ask", "terminate db-primary", "--yes").returncode == 1
    rows = json.loads(run(aws_env, "history", "--json").stdout)
    assert [(r["tool"], r["decision"]) for r in rows] == [("stop_instances", "allowed"),
                                                           ("terminate_instances", "refused")]
    assert all(set(r) == {"time", "caller", "tool", "targets", "decision", "outcome"} for r in rows)
    assert rows[0]["caller"].startswith("aiops-ask") and rows[0]["targets"][0]["name"] == "api-2"
    assert "aiops:protected=true" in rows[1]["outcome"]
    text = run(aws_env, "history", extra_env={"COLUMNS": "200"}).stdout
    assert "Who" in text and "aiops:protected=true); terminate refused" in text  # the outcome, uncut
    bad = run(aws_env, "history", "--limit", "0")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_a_refusal_is_said_once_with_every_reason(estate, aws_env, ec2):
    done = run(aws_env, "ask", "stop all running instances", "--yes")
    assert done.returncode == 1 and done.stdout.strip() == ""
    (line,) = done.stderr.strip().splitlines()
    assert "db-primary" in line and "protected" in line and "more than the limit of 5" in line
    assert state_of(ec2, estate["web-server"]) == "running"


def test_reading_incidents_and_history_creates_no_store(aws_env):
    for command in ("incidents", "history"):
        shown = run(aws_env, command)
        assert shown.returncode == 0, shown.stderr
        assert json.loads(run(aws_env, command, "--json").stdout) == []
    assert not aws_env.home.exists() or not any(aws_env.home.glob("*.sqlite3"))
