"""PagerDuty (Events API v2) and Discord beside Slack: real HTTP to local stand-ins, the shared outbox's
guarantees (nothing lost while down, order kept, nothing twice), and no secret in any line."""

from __future__ import annotations

import json
import time

import pytest

from notify.base import Alert
from notify.discord import DiscordNotifier
from notify.fanout import FanOutNotifier
from notify.pagerduty import PagerDutyNotifier
from notify.registry import notifier_from_settings
from tests.notify.slack_server import FakeSlackWebhook, Reply, no_proxy_fixture  # noqa: F401 - fixture
from tests.notify.stand_ins import PD_ACCEPTED, FakeDiscordWebhook, FakePagerDuty, json_reply
from utils.config import ConfigError, load_settings

ROUTING_KEY = "R0UT1NGKEY0123456789abcdefabcdef"


def alert(kind: str = "open", tier: int = 0, n: int = 1, **extra) -> Alert:
    fields = {"kind": kind, "tier": tier, "incident_id": f"INC-{n}", "alarm": f"api-{n}-status-check-failed",
              "resource_name": f"api-{n}", "resource_id": f"i-0abc{n:013d}", "sop_title": "EC2 status check failed",
              "proposal": "reboot_instances api-1", "risk": "high", "summary": "instance status impaired"}
    return Alert(**{**fields, **extra})


@pytest.fixture
def pagerduty():
    with FakePagerDuty() as server:
        yield server


@pytest.fixture
def discord():
    with FakeDiscordWebhook() as server:
        yield server


def test_pagerduty_triggers_tier0_resolves_it_and_leaves_lower_tiers_and_repeats_to_slack(tmp_path, pagerduty):
    pd = PagerDutyNotifier(tmp_path, ROUTING_KEY, events_url=pagerduty.url)
    assert pd.notify(alert()).status == "sent"
    assert pd.notify(alert(tier=2, n=2)).status == "terminal_only"  # a warning does not wake anyone
    assert pd.notify(alert("repage")).status == "terminal_only"  # PagerDuty escalates on its own
    assert pd.notify(alert("resolved")).status == "sent"
    trigger, resolve = pagerduty.delivered
    assert (trigger["event_action"], trigger["dedup_key"], trigger["routing_key"]) == ("trigger", "INC-1", ROUTING_KEY)
    assert trigger["payload"]["severity"] == "critical" and "Tier 0" in trigger["payload"]["summary"]
    assert trigger["payload"]["custom_details"]["proposed action"] == "reboot_instances api-1"
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "INC-1"}


def test_pagerduty_down_keeps_the_trigger_and_sends_it_before_the_resolve(tmp_path, pagerduty):
    pd = PagerDutyNotifier(tmp_path, ROUTING_KEY, events_url=pagerduty.url)
    pagerduty.always(Reply.server_error(503))
    first = pd.notify(alert())
    assert first.status == "queued" and pd.pending() == 1
    pagerduty.always(PD_ACCEPTED)
    assert pd.notify(alert("resolved")).status == "sent"
    assert [e["event_action"] for e in pagerduty.delivered] == ["trigger", "resolve"]
    assert pd.pending() == 0 and pd.drain() == 0  # nothing sent twice


def test_a_wrong_routing_key_is_one_config_error_without_the_key(tmp_path, pagerduty):
    pagerduty.always(json_reply(400, {"status": "invalid event", "message": "Event object is invalid",
                                      "errors": ["'routing_key' is invalid"]}))
    pd = PagerDutyNotifier(tmp_path, ROUTING_KEY, events_url=pagerduty.url)
    result = pd.notify(alert())
    assert result.status == "queued"
    assert "PAGERDUTY_ROUTING_KEY" in pd.config_error and "routing_key' is invalid" in pd.config_error
    assert ROUTING_KEY not in pd.config_error + result.detail + pd.describe()


def test_discord_gets_the_alert_as_an_embed_and_untrusted_text_cannot_ping(tmp_path, discord):
    dc = DiscordNotifier(tmp_path, discord.url)
    assert dc.notify(alert(tier=1, summary="@everyone look at this")).status == "sent"
    assert dc.notify(alert(tier=0, n=2)).status == "sent"
    assert dc.notify(alert("resolved", tier=1)).status == "sent"
    warning, emergency, resolved = discord.delivered
    assert warning["allowed_mentions"] == {"parse": []}
    assert "@everyone" not in json.dumps(warning, ensure_ascii=False).replace("@\u2060everyone", "")
    embed = warning["embeds"][0]
    assert embed["color"] == 0xE8590C and "Tier 1" in embed["title"]
    assert [f["name"] for f in embed["fields"]][0] == "Proposed action"  # recovery first
    assert "api-1 (i-0abc" in warning["content"]
    assert emergency["content"].startswith("@here Tier 0") and emergency["allowed_mentions"] == {"parse": ["everyone"]}
    assert resolved["embeds"][0]["color"] == 0x2EB67D and "Resolved" in resolved["content"]


def test_discord_rate_limit_and_a_deleted_webhook(tmp_path, discord):
    dc = DiscordNotifier(tmp_path, discord.url)
    discord.script(json_reply(429, {"message": "You are being rate limited.", "retry_after": 0.05}))
    assert dc.notify(alert()).status == "queued"
    time.sleep(0.1)  # the 50 ms Retry-After
    assert dc.drain() == 1 and len(discord.delivered) == 1
    discord.always(json_reply(404, {"message": "Unknown Webhook", "code": 10015}))
    assert dc.notify(alert(n=2)).status == "queued"
    assert "Unknown Webhook" in dc.config_error and "DiscordSecretToken" not in dc.config_error + dc.describe()


def test_every_configured_destination_gets_the_page_and_one_down_holds_up_no_other(tmp_path, monkeypatch,
                                                                                      pagerduty, discord):
    with FakeSlackWebhook() as slack:
        monkeypatch.setenv("AIOPS_HOME", str(tmp_path))
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
        monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
        monkeypatch.setenv("PAGERDUTY_EVENTS_URL", pagerduty.url)
        monkeypatch.setenv("DISCORD_WEBHOOK_URL", discord.url)
        notifier = notifier_from_settings(load_settings())
        assert isinstance(notifier, FanOutNotifier)
        assert [d.name for d in notifier.destinations] == ["Slack webhook", "PagerDuty", "Discord"]
        assert ROUTING_KEY not in notifier.describe() and "DiscordSecretToken" not in notifier.describe()
        pagerduty.always(Reply.server_error(500))
        result = notifier.notify(alert())
        assert result.status == "sent" and "PagerDuty: queued" in result.detail
        assert len(slack.delivered) == 1 and len(discord.delivered) == 1
        pagerduty.always(PD_ACCEPTED)
        assert notifier.drain() == 1 and pagerduty.delivered[0]["dedup_key"] == "INC-1"


def test_pagerduty_tiers_come_from_aiops_toml_and_a_bad_list_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("AIOPS_HOME", str(tmp_path))
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    (tmp_path / "aiops.toml").write_text("[pagerduty]\ntiers = [0, 1]\n")
    assert PagerDutyNotifier.from_settings(load_settings()).tiers == {0, 1}
    (tmp_path / "aiops.toml").write_text("[pagerduty]\ntiers = [3]\n")
    with pytest.raises(ConfigError, match="pagerduty.tiers"):
        PagerDutyNotifier.from_settings(load_settings())
