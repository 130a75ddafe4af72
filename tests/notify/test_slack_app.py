"""The Slack app mode against a local Web API stand-in: pages by chat.postMessage, the resolve in the page's
thread, the page edited to show it resolved, through the outbox (nothing lost, nothing twice)."""

from __future__ import annotations

import pytest

from notify.base import Alert
from notify.registry import notifier_from_settings
from notify.slack_app import SlackAppNotifier
from tests.notify.slack_api_server import TOKEN, FakeSlackApi
from tests.notify.slack_server import FakeSlackWebhook, no_proxy_fixture  # noqa: F401 - fixture
from utils.config import load_settings


def alert(kind: str = "open", tier: int = 1, n: int = 1) -> Alert:
    return Alert(kind=kind, tier=tier, incident_id=f"INC-{n}", alarm=f"web-{n}-cpu-high", resource_name=f"web-{n}",
                 resource_id=f"i-0abc{n:013d}", sop_title="EC2 CPU saturation", proposal="reboot_instances web-1",
                 risk="high", time_to_resolve_seconds=190.0 if kind == "resolved" else None)


@pytest.fixture
def api():
    with FakeSlackApi() as server:
        yield server


def app(home, api: FakeSlackApi, **kwargs) -> SlackAppNotifier:
    return SlackAppNotifier(home, TOKEN, "C0ALERTS", api_url=api.url, max_retries=0, timeout=5, backoff=0.01,
                            **kwargs)


def test_the_resolve_goes_in_the_page_thread_and_the_page_is_marked_resolved(tmp_path, api):
    slack = app(tmp_path, api)
    assert slack.notify(alert()).status == "sent"
    assert slack.notify(alert("repage")).status == "sent"
    assert slack.notify(alert("resolved")).status == "sent"
    [page] = api.top_level("C0ALERTS")
    assert "Tier 1" in page.text and "web-1-cpu-high" in page.text
    repeat, resolve = api.thread(page.ts)
    assert repeat.broadcast and not resolve.broadcast  # a repeat page shows in the channel too
    assert "Resolved" in resolve.text or "resolved" in resolve.text
    [edit] = page.edits
    assert edit["attachments"][0]["color"] == "#2EB67D" and "resolved" in edit["text"].lower()


def test_a_restart_still_finds_the_thread(tmp_path, api):
    assert app(tmp_path, api).notify(alert()).status == "sent"
    later = app(tmp_path, api)  # another process, or after a restart
    assert later.notify(alert("resolved")).status == "sent"
    [page] = api.top_level()
    assert len(api.thread(page.ts)) == 1


def test_slack_down_keeps_the_page_and_its_resolve_in_order(tmp_path, api):
    slack = app(tmp_path, api)
    api.fail_next("chat.postMessage", 503, "service_unavailable")
    assert slack.notify(alert()).status == "queued"
    assert slack.notify(alert("resolved")).status == "sent"  # the page first, then its resolve in its thread
    [page] = api.top_level()
    assert len(api.thread(page.ts)) == 1 and slack.pending() == 0


def test_rate_limit_waits_and_a_wrong_channel_or_token_is_one_config_error_without_the_token(tmp_path, api):
    slack = app(tmp_path, api)
    api.fail_next("chat.postMessage", 429, "ratelimited", Retry_After="30")
    result = slack.notify(alert())
    assert result.status == "queued" and "rate limited" in result.detail
    wrong = SlackAppNotifier(tmp_path / "b", TOKEN, "C0NOPE", api_url=api.url, max_retries=0, timeout=5)
    assert wrong.notify(alert()).status == "queued"
    assert "channel_not_found" in wrong.config_error and "SLACK_CHANNEL" in wrong.config_error
    bad = SlackAppNotifier(tmp_path / "c", "xoxb-wrong-token-value", "C0ALERTS", api_url=api.url, max_retries=0,
                           timeout=5)
    assert bad.notify(alert()).status == "queued"
    assert "invalid_auth" in bad.config_error and "xoxb-wrong-token-value" not in bad.config_error + bad.describe()


def test_the_app_wins_over_the_webhook_and_tiers_can_have_their_own_channel(tmp_path, monkeypatch, api):
    with FakeSlackWebhook() as hook:
        for name, value in {"AIOPS_HOME": str(tmp_path), "SLACK_WEBHOOK_URL": hook.url, "SLACK_BOT_TOKEN": TOKEN,
                            "SLACK_CHANNEL": "C0ALERTS", "SLACK_CHANNEL_TIER0": "C0TIER0",
                            "SLACK_API_URL": api.url}.items():
            monkeypatch.setenv(name, value)
        notifier = notifier_from_settings(load_settings())
        assert notifier.name == "Slack app" and TOKEN not in notifier.describe()
        assert notifier.notify(alert(tier=0)).status == "sent"
        assert notifier.notify(alert(tier=2, n=2)).status == "sent"
        assert [m.channel for m in api.top_level()] == ["C0TIER0", "C0ALERTS"]
        assert hook.delivered == []
