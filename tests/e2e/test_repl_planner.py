"""What the offline planner's reading of a sloppy request leads to on a real terminal: a misspelt
stop still reaches the y/N that names STOP, Enter is No, and the fleet is untouched; 'list the log
groups' lists them instead of asking which one."""

import pytest

from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.e2e.test_repl import PROMPT, leave, say, spawn
from tests.helpers import state_of

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("indexed_sops")]  # see test_repl.with_indexed_sops


def test_misspelt_stop_asks_naming_stop_and_enter_changes_nothing(estate, aws_env, ec2):
    child = spawn(aws_env.env, "--planner", "rules")
    say(child, "stpo api-1")
    child.expect("STOP 1 instance")
    child.expect("api-1")
    child.expect_exact("Proceed? [y/N]")
    child.sendline("")  # Enter is No
    child.expect("no, nothing changed")
    child.expect_exact(PROMPT)
    assert state_of(ec2, estate["api-1"]) == "running"

    say(child, "give api-1 a reboot")
    child.expect("REBOOT 1 instance")
    child.expect_exact("Proceed? [y/N]")
    child.sendline("n")
    child.expect("no, nothing changed")
    child.expect_exact(PROMPT)

    say(child, "list the log groups")
    child.expect(r"\d+ log group\(s\)")
    child.expect("/app/api")
    child.expect_exact(PROMPT)
    assert "Which log group" not in child.before
    assert leave(child) == 0
    assert state_of(ec2, estate["api-1"]) == "running"
