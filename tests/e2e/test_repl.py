"""The REPL on a real pseudo-terminal (pexpect): what a person sees and what the fleet does."""

import os
import re
import shutil
import sys

import pexpect
import pytest

from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.fake_ollama import FakeOllama, Reply
from tests.helpers import REPO, state_of

pytestmark = pytest.mark.e2e
PROMPT = "aiops>"
# Every REPL warms its SOP store in the background; on a fresh AIOPS_HOME that means indexing the whole
# library with both models while the test types. Tests not about that start from the indexed copy.
with_indexed_sops = pytest.mark.usefixtures("indexed_sops")


def spawn(env: dict, *args: str) -> pexpect.spawn:
    child = pexpect.spawn(sys.executable, [str(REPO / "main.py"), *args], cwd=str(REPO), env={**os.environ, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm", **env},
                          encoding="utf-8", timeout=40, dimensions=(50, 140))
    child.expect_exact(PROMPT)
    return child


def say(child: pexpect.spawn, line: str) -> None:
    child.sendline(line)


def leave(child: pexpect.spawn) -> int:
    say(child, "exit")
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


@with_indexed_sops
def test_table_gate_and_exit(estate, aws_env, ec2):
    child = spawn(aws_env.env, "--planner", "rules")
    say(child, "list all instances")
    child.expect("10 instance\\(s\\)")
    child.expect("web-server")
    child.expect_exact(PROMPT)

    say(child, "stop api-1")
    child.expect_exact("Proceed? [y/N]")
    child.sendline("")  # Enter is No
    child.expect("no, nothing changed")
    child.expect_exact(PROMPT)
    assert state_of(ec2, estate["api-1"]) == "running"

    say(child, "stop api-1")
    child.expect_exact("Proceed? [y/N]")
    child.sendline("y")
    child.expect("stopped api-1")
    child.expect_exact(PROMPT)
    assert state_of(ec2, estate["api-1"]) in {"stopping", "stopped"}

    say(child, "웹 서버 재부팅해줘")
    child.expect("REBOOT 1 instance")
    child.expect("web-server")
    child.expect_exact("Proceed? [y/N]")
    child.sendcontrol("c")  # Ctrl-C at the gate is No
    child.expect("no, nothing changed")
    child.expect_exact(PROMPT)

    say(child, "history")
    child.expect("stop_instances")
    child.expect_exact(PROMPT)
    assert leave(child) == 0


@with_indexed_sops
def test_protected_instance_is_refused_without_asking(estate, aws_env, ec2):
    child = spawn(aws_env.env, "--planner", "rules")
    say(child, "terminate db-primary")
    index = child.expect(["refused", re.escape("Proceed? [y/N]")])
    assert index == 0
    child.expect_exact(PROMPT)
    assert state_of(ec2, estate["db-primary"]) == "running"
    child.sendeof()  # Ctrl-D leaves cleanly
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@with_indexed_sops
def test_model_path_through_an_ollama_protocol_server(estate, aws_env, ec2):
    with FakeOllama() as ollama:
        ollama.script(Reply.tool_call("stop_instances", {"instances": ["worker-1"]}))
        child = spawn({**aws_env.env, "OLLAMA_HOST": ollama.url})
        say(child, "please stop worker-1")
        child.expect_exact("Proceed? [y/N]")
        child.sendline("y")
        child.expect("stopped worker-1")
        child.expect_exact(PROMPT)
        assert leave(child) == 0
        assert ollama.chat_requests(), "the request went through the model"
    assert state_of(ec2, estate["worker-1"]) in {"stopping", "stopped"}


def test_sandbox_banner_and_request(tmp_path, sop_store_template):  # noqa: F811 - the fixture imported above
    home = tmp_path / "home"
    if sop_store_template is not None:  # as with_indexed_sops: this test is about the banner, not SOP indexing
        shutil.copytree(sop_store_template, home / sop_store_template.name)
    child = spawn({"AIOPS_HOME": str(home)}, "--sandbox", "--planner", "rules")
    assert "SANDBOX" in child.before
    say(child, "show alarms")
    child.expect("firing")
    child.expect_exact(PROMPT)
    assert leave(child) == 0
    home = tmp_path / "home"  # the sandbox's typing and state apart from the real ones
    assert (home / "sandbox" / "repl_history").exists() and not (home / "repl_history").exists()


@with_indexed_sops
def test_auto_on_panel_approve_gate_and_off(estate, aws_env, ec2):
    child = spawn({**aws_env.env, "AIOPS_POLL_SECONDS": "1"}, "--planner", "rules")
    say(child, "auto on")
    child.expect("monitor on")
    child.expect(r"(INC-\d+)\s+Tier 2")  # a status check on staging: not production down
    incident = child.match.group(1)
    child.expect("worker-1-status-check-failed")
    child.expect("reboot_instances")
    say(child, f"approve {incident}")
    child.expect("REBOOT 1 instance")
    child.expect_exact("Proceed? [y/N]")
    child.sendline("")  # Enter is No: nothing runs, the proposal waits again
    child.expect(f"{incident} still waits for approval")
    child.expect_exact(PROMPT)
    say(child, "queue")
    child.expect(incident)
    child.expect_exact(PROMPT)
    say(child, f"approve {incident}")
    child.expect_exact("Proceed? [y/N]")
    child.sendline("y")
    child.expect("rebooted worker-1")
    say(child, "incidents")
    child.expect("approved by user")
    say(child, "auto off")
    child.expect("monitor off")
    assert leave(child) == 0
    assert state_of(ec2, estate["worker-1"]) == "running"


def test_auto_on_with_a_damaged_incident_store_says_so_and_does_not_start(aws_env):
    aws_env.home.mkdir(parents=True, exist_ok=True)
    (aws_env.home / "incidents.sqlite3").write_bytes(b"garbage")
    child = spawn({**aws_env.env, "AIOPS_POLL_SECONDS": "1"}, "--planner", "rules")
    say(child, "auto on")
    child.expect("cannot open the incident store")
    child.expect("does not page from memory")
    child.expect_exact(PROMPT)
    say(child, "auto off")
    child.expect("the monitor is off")
    assert leave(child) == 0


@with_indexed_sops
def test_sop_list_and_show_read_the_store_not_search_it(aws_env):
    child = spawn(aws_env.env, "--planner", "rules")
    say(child, "sop list")
    child.expect(r"EC2 system status check failed")
    child.expect(r"(\d+) SOP\(s\)")
    assert int(child.match.group(1)) >= 15
    child.expect_exact(PROMPT)
    say(child, "sop show /definitely/not/a/sop.md")
    child.expect("no SOP with id or path")
    child.expect_exact(PROMPT)
    library = REPO / "sop" / "library" / "ec2-disk-full.md"
    say(child, f"sop show {library}")
    child.expect("Recovery")
    child.expect_exact(PROMPT)
    say(child, "sop")
    child.expect("sop show ID")
    child.expect_exact(PROMPT)
    assert leave(child) == 0


def test_first_sop_search_right_after_start_shows_progress_then_korean_results(aws_env):
    # spawn() returns at the prompt; the spinner below proves the SOP warm-up was still running
    # then, so the prompt did not wait for it.
    child = spawn(aws_env.env, "--planner", "rules")
    say(child, "sop search 디스크가 꽉 찼어요 어떻게 하죠")
    child.expect_exact("loading the SOP search models")
    child.expect("EC2 disk full or filling up")
    child.expect_exact(PROMPT)
    say(child, "sop search 오늘 점심 뭐 먹지")
    child.expect("weak match: the best score 0\\.\\d\\d is under 0\\.35")
    child.expect_exact(PROMPT)
    assert leave(child) == 0
