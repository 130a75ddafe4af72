"""The REPL banner's monitor line says where alerts go, asked of the notifier itself (no network, no files)."""

from __future__ import annotations

from io import StringIO

import pytest
from rich.console import Console

from agent.monitor.models import MonitorEvent
from agent.runtime import Runtime
from agent.terminal.io import Terminal
from agent.terminal.repl import Repl, RequestCompleter
from utils.config import Settings

SLACK_VARIABLES = ("SLACK_WEBHOOK_URL", "SLACK_WEBHOOK_URL_TIER0", "SLACK_WEBHOOK_URL_TIER1", "SLACK_WEBHOOK_URL_TIER2")
HOOK = "https://hooks.slack.com/services/T000/B000/secret0123456789"


def repl_for(settings: Settings) -> Repl:
    # The banner reads settings, the planner note and the monitor controls; no session is opened for it.
    completer = RequestCompleter()
    runtime = Runtime(settings=settings, session=None, model_planner=None, planner_note="offline planner")
    return Repl(settings, runtime, Terminal(history_file=None, completer=completer), completer)


def monitor_line(settings: Settings) -> str:
    (line,) = [line for line in repl_for(settings).status_lines() if line.lstrip().startswith("monitor")]
    return line


@pytest.fixture(autouse=True)
def _no_slack_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_no_destination_at_all_says_alerts_show_here_only(tmp_path):
    line = monitor_line(Settings(home=tmp_path))
    assert "off" in line and "no webhook: alerts show here only" in line


def test_a_tier_webhook_alone_is_a_destination(tmp_path):
    line = monitor_line(Settings(home=tmp_path, slack_webhook_url_tier0=HOOK))
    assert "no webhook" not in line and "alerts show here only" not in line
    assert "Slack webhook: Tier 0 → https://hooks.slack.com/services/T…/…" in line
    assert "secret0123456789" not in line
    assert not (tmp_path / "outbox.sqlite3").exists()


def test_one_webhook_for_every_tier(tmp_path):
    line = monitor_line(Settings(home=tmp_path, slack_webhook_url=HOOK))
    assert "alerts to Slack webhook https://hooks.slack.com/services/T…/… (all tiers)" in line


def test_the_panel_warns_about_a_notifier_error(tmp_path):
    repl = repl_for(Settings(home=tmp_path))
    out = StringIO()
    repl.terminal.console = Console(file=out, force_terminal=True, color_system="standard", width=200)

    repl.monitor.on_event(MonitorEvent(kind="notify_error", message="Slack webhook: returned 404 no_service"))
    repl.monitor.on_event(MonitorEvent(kind="repaged", message="INC-1 still firing"))

    warned, plain = out.getvalue().splitlines()
    assert "\x1b[33m" in warned and "Slack webhook: returned 404 no_service" in warned  # yellow: a warning
    assert "\x1b[33m" not in plain


@pytest.mark.parametrize("sandbox", [False, True])
def test_credentials_in_the_endpoint_never_reach_the_banner(tmp_path, sandbox):
    settings = Settings(home=tmp_path, aws_endpoint_url="http://AKIAKEY:secr+et@127.0.0.1:4566/", sandbox=sandbox)
    (target,) = [line for line in repl_for(settings).status_lines() if line.lstrip().startswith("target")]
    assert "http://127.0.0.1:4566/" in target
    assert "AKIAKEY" not in target and "secr+et" not in target
