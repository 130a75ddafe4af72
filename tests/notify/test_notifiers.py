"""The Notifier protocol: the Slack webhook as one, fan-out over several, built from settings without I/O."""

from __future__ import annotations

from pathlib import Path

import pytest

from notify.base import Alert, Notifier, TerminalOnly, duration
from notify.fanout import FanOutNotifier
from notify.registry import notifier_from_settings
from notify.slack_webhook import NAME, OUTBOX_FILE, SlackWebhookNotifier
from tests.notify.slack_server import FakeSlackWebhook, Reply, no_proxy_fixture, slack_fixture  # noqa: F401
from utils.config import Settings

SLACK_VARIABLES = ("SLACK_WEBHOOK_URL", "SLACK_WEBHOOK_URL_TIER0", "SLACK_WEBHOOK_URL_TIER1", "SLACK_WEBHOOK_URL_TIER2")


class OpsChannel(SlackWebhookNotifier):
    """A second destination: a real Slack webhook notifier under its own name (so its own outbox lane)."""

    name = "ops channel"


def alert(n: int, tier: int = 2) -> Alert:
    return Alert(kind="open", tier=tier, incident_id=f"INC-{n}", alarm=f"HighCPU-{n}", resource_name="web-1",
                 resource_id="i-0abc123")


def quick(cls: type[SlackWebhookNotifier], home: Path, url: str | None, **tiers: str) -> SlackWebhookNotifier:
    tier_urls = {int(k.removeprefix("tier")): v for k, v in tiers.items()}
    return cls(home, url, tier_urls, max_retries=0, timeout=5.0, backoff=0.01)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_the_slack_webhook_and_the_fallbacks_are_notifiers(tmp_path):
    slack = quick(SlackWebhookNotifier, tmp_path, None)
    for notifier in (slack, TerminalOnly(), FanOutNotifier([slack])):
        assert isinstance(notifier, Notifier)
    assert slack.name == NAME == "Slack webhook"


def test_fan_out_keeps_each_destination_apart(tmp_path, slack):
    with FakeSlackWebhook(Reply.server_error()) as ops_server:
        main, ops = quick(SlackWebhookNotifier, tmp_path, slack.url), quick(OpsChannel, tmp_path, ops_server.url)
        both = FanOutNotifier([main, ops])

        result = both.notify(alert(1))
        assert result.status == "sent"  # someone was told
        assert f"{NAME}: sent" in result.detail and "ops channel: queued" in result.detail
        assert (main.pending(), ops.pending(), both.pending()) == (0, 1, 1)
        assert len(slack.delivered) == 1

        ops_server.always(Reply.ok())
        assert both.drain() == 1
        assert len(ops_server.delivered) == 1 and len(slack.delivered) == 1  # nothing sent twice
    assert both.name == "Slack webhook + ops channel" and both.enabled


def test_fan_out_names_whose_configuration_is_broken(tmp_path, slack):
    slack.always(Reply.error(404, "no_service"))
    ok_home = tmp_path / "ok"
    both = FanOutNotifier([quick(SlackWebhookNotifier, ok_home, None, tier0="http://127.0.0.1:9/x"),
                           quick(OpsChannel, tmp_path, slack.url)])
    both.notify(alert(1))
    assert both.config_error is not None and both.config_error.startswith("ops channel: ")
    assert "404 no_service" in both.config_error


def test_fan_out_refuses_two_destinations_of_one_name(tmp_path):
    with pytest.raises(ValueError, match="names must differ"):
        FanOutNotifier([quick(SlackWebhookNotifier, tmp_path, None), quick(SlackWebhookNotifier, tmp_path, None)])


def test_from_settings_with_no_destination_is_terminal_only(tmp_path, clean_env):
    notifier = notifier_from_settings(Settings(home=tmp_path))
    assert isinstance(notifier, TerminalOnly) and not notifier.enabled
    assert notifier.notify(alert(1, tier=0)).status == "terminal_only"
    assert "terminal only" in notifier.describe()


def test_from_settings_with_only_a_tier_webhook_is_the_slack_webhook(tmp_path, clean_env, slack):
    notifier = notifier_from_settings(Settings(home=tmp_path, slack_webhook_url_tier0=slack.url))
    assert isinstance(notifier, SlackWebhookNotifier) and notifier.enabled
    assert notifier.describe().startswith("Slack webhook: Tier 0 → http://127.0.0.1:")
    assert not (tmp_path / OUTBOX_FILE).exists()  # built and described without touching the disk
    assert notifier.notify(alert(1, tier=0)).status == "sent"
    assert notifier.notify(alert(2, tier=2)).status == "terminal_only"


@pytest.mark.parametrize(("seconds", "text"), [(None, "?"), (0.4, "0s"), (12, "12s"), (252, "4m 12s"),
                                               (7530, "2h 5m")])
def test_one_duration_for_every_line(seconds, text):
    assert duration(seconds) == text
    assert duration(None, unknown="-") == "-"
