"""Every destination at once (Slack app, PagerDuty, Discord, each a local stand-in over loopback): each one down in
turn (5xx, then 429) loses nothing, sends nothing twice and keeps each incident's order, and `incidents --json`
can tell each one's delivery state; no token, key or webhook secret reaches a log line even at DEBUG."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from notify.base import Alert
from notify.delivery import deliveries
from notify.discord import DiscordNotifier
from notify.fanout import FanOutNotifier
from notify.pagerduty import PagerDutyNotifier
from notify.slack_app import SlackAppNotifier
from notify.slack_socket import SlackClicks
from notify.slack_webhook import SlackWebhookNotifier
from tests.notify.slack_api_server import APP_TOKEN, TOKEN, FakeSlackApi
from tests.notify.slack_server import DEFAULT_PATH, FakeSlackWebhook, Reply, no_proxy_fixture  # noqa: F401
from tests.notify.socket_mode_server import FakeSocketMode
from tests.notify.stand_ins import DISCORD_PATH, PD_ACCEPTED, FakeDiscordWebhook, FakePagerDuty, json_reply

ROUTING_KEY = "R0UT1NGKEY0123456789abcdefabcdef"


def alert(kind: str, n: int, **extra) -> Alert:
    fields = {"kind": kind, "tier": 0, "incident_id": f"INC-{n}", "alarm": f"api-{n}-status-check-failed",
              "resource_name": f"api-{n}", "resource_id": f"i-0abc{n:013d}", "proposal": f"reboot_instances api-{n}",
              "risk": "high", "awaiting_approval": kind == "open", "time_to_resolve_seconds": 60.0}
    return Alert(**{**fields, **extra})


def decided(n: int) -> Alert:
    return alert("decided", n, decision=f"INC-{n}: approved in Slack by slack:U1: reboot api-{n} → ok")


@pytest.fixture
def stand_ins():
    with FakeSlackApi() as api, FakePagerDuty() as pd, FakeDiscordWebhook() as dc:
        yield api, pd, dc


def everyone(home, api, pd, dc) -> FanOutNotifier:
    return FanOutNotifier([
        SlackAppNotifier(home, TOKEN, "C0ALERTS", api_url=api.url, max_retries=0, timeout=5, buttons=True),
        PagerDutyNotifier(home, ROUTING_KEY, events_url=pd.url, tiers=(0, 1, 2)),
        DiscordNotifier(home, dc.url)])


def test_each_destination_down_then_back_loses_nothing_sends_nothing_twice_and_keeps_order(tmp_path, stand_ins):
    api, pd, dc = stand_ins
    fan = everyone(tmp_path, api, pd, dc)
    api.fail_next("chat.postMessage", 500, "internal_error")
    pd.always(Reply.server_error(500))
    dc.always(Reply.server_error(502))
    assert fan.notify(alert("open", 1)).status == "queued"  # every destination down: kept, not lost
    waiting = deliveries(tmp_path, ["INC-1"])["INC-1"]
    assert {name: s["state"] for name, s in waiting.items()} == dict.fromkeys(["Slack app", "PagerDuty", "Discord"],
                                                                               "waiting")
    assert "500" in waiting["PagerDuty"]["last_error"] and ROUTING_KEY not in str(waiting)

    dc.always(Reply(status=204, body=""))
    dc.script(json_reply(429, {"message": "You are being rate limited.", "retry_after": 0}))
    api.fail_next("chat.postMessage", 429, "ratelimited", Retry_After="0")
    for item in (alert("open", 2), decided(1), alert("resolved", 1)):
        fan.notify(item)
    pd.always(PD_ACCEPTED)
    fan.notify(alert("resolved", 2))
    for _ in range(5):
        if fan.pending() == 0:
            break
        fan.drain()
    assert fan.pending() == 0 and fan.drain() == 0  # all sent, and nothing again

    pages = {m.text.split("Incident ")[-1].rstrip("."): m for m in api.top_level()}
    assert sorted(pages) == ["INC-1", "INC-2"]  # each page once
    assert [m.text.split(" ")[0] for m in api.thread(pages["INC-1"].ts)] == [":ballot_box_with_check:", "Resolved:"]
    assert [m.text.split(" ")[0] for m in api.thread(pages["INC-2"].ts)] == ["Resolved:"]
    for n, expected in ((1, ["trigger", "acknowledge", "resolve"]), (2, ["trigger", "resolve"])):
        assert [e["event_action"] for e in pd.delivered if e["dedup_key"] == f"INC-{n}"] == expected
    per_incident = {n: [m["content"].split(" ")[0] for m in dc.delivered if f"[INC-{n}]" in m["content"]]
                    for n in (1, 2)}
    assert per_incident == {1: ["@here", "INC-1:", "Resolved"], 2: ["@here", "Resolved"]}
    state = deliveries(tmp_path, ["INC-1", "INC-2"])
    assert state["INC-1"]["PagerDuty"] == {"state": "sent", "sent": ["open", "decided", "resolved"], "waiting": [],
                                           "last_error": None}
    assert all(s["state"] == "sent" and s["waiting"] == [] for d in state.values() for s in d.values())


def test_the_page_is_edited_in_place_for_each_decision_and_keeps_its_buttons_only_while_one_waits(tmp_path,
                                                                                                    stand_ins):
    api, pd, dc = stand_ins
    fan = everyone(tmp_path, api, pd, dc)
    fan.notify(alert("open", 1))
    fan.notify(decided(1))
    fan.notify(alert("repage", 1, verification="action did not help: still in ALARM 10m 1s after reboot",
                     awaiting_approval=True))
    fan.notify(alert("resolved", 1))
    [page] = api.top_level()
    approved, did_not_help, resolved = page.edits
    buttons = [[b for b in e["blocks"] if b.get("block_id") == "aiops_decision"] for e in page.edits]
    assert [bool(b) for b in buttons] == [False, True, False]
    assert "approved in Slack by slack:U1" in str(approved["blocks"])
    assert "action did not help" in str(did_not_help["blocks"]) and "re-paged Tier 0" in str(did_not_help["blocks"])
    assert "approved in Slack by" in str(resolved["blocks"]) and resolved["attachments"][0]["color"] == "#2EB67D"
    assert [e["event_action"] for e in pd.delivered] == ["trigger", "acknowledge", "trigger", "resolve"]


async def test_no_secret_reaches_a_log_line_even_at_debug(tmp_path, stand_ins, caplog):
    api, pd, dc = stand_ins
    caplog.set_level(logging.DEBUG)  # slack_sdk logs request details (webhook URLs among them) at DEBUG
    with FakeSlackWebhook() as hook, FakeSocketMode() as socket:
        api.socket_url = socket.url
        webhook = SlackWebhookNotifier(tmp_path / "w", hook.url, max_retries=1, max_retry_after=0.1, timeout=5,
                                       backoff=0.01)
        fan = FanOutNotifier([*everyone(tmp_path, api, pd, dc).destinations, webhook])
        hook.script(Reply.server_error(503))
        pd.script(Reply.server_error(500))
        results = [fan.notify(alert("open", 1)), fan.notify(decided(1)), fan.notify(alert("resolved", 1))]
        fan.drain()
        bad = SlackAppNotifier(tmp_path / "b", "xoxb-wrong-token-value", "C0ALERTS", api_url=api.url, max_retries=0)
        results.append(bad.notify(alert("open", 2)))
        clicks = SlackClicks(APP_TOKEN, TOKEN, api.url, lambda click: None)
        await asyncio.to_thread(clicks.start)
        assert await asyncio.to_thread(socket.wait_connected)
        socket.wait_ack(socket.click("U1", "aiops_approve", "INC-1"))
        clicks.close()
        said = caplog.text + " ".join(r.detail for r in results) + fan.describe() + str(fan.config_error) + str(
            bad.config_error) + str(deliveries(tmp_path, ["INC-1"]))
        secrets = [TOKEN, APP_TOKEN, "xoxb-wrong-token-value", ROUTING_KEY, DISCORD_PATH, hook.url, DEFAULT_PATH]
    assert len(caplog.records) > 5  # DEBUG was on and the libraries spoke
    assert [s for s in secrets if s in said] == []
    assert not re.search(r"xox[bpa]-|xapp-", said)
