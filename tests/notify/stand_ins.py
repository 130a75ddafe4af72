"""Local stand-ins for PagerDuty's Events API v2 and a Discord webhook: the Slack stand-in's scripted HTTP
server (tests/notify/slack_server.py), checking payloads the way each service does."""

from __future__ import annotations

import json
from typing import Any

from tests.notify.slack_server import FakeSlackWebhook, Reply

PD_ACCEPTED = Reply(status=202, body=json.dumps({"status": "success", "message": "Event processed"}),
                    content_type="application/json")
DISCORD_PATH = "/api/webhooks/1234567890/DiscordSecretToken_abcdef"


def json_reply(status: int, doc: dict[str, Any]) -> Reply:
    return Reply(status=status, body=json.dumps(doc), content_type="application/json")


class FakePagerDuty(FakeSlackWebhook):
    def __init__(self, default: Reply | None = None) -> None:
        super().__init__(default or PD_ACCEPTED, path="/v2/enqueue")

    def reject(self, body: Any) -> Reply | None:
        errors = []
        if not isinstance(body, dict):
            errors.append("Event object is invalid")
        else:
            if not body.get("routing_key"):
                errors.append("'routing_key' is missing")
            if body.get("event_action") not in ("trigger", "acknowledge", "resolve"):
                errors.append("'event_action' is invalid")
            if body.get("event_action") != "trigger" and not body.get("dedup_key"):
                errors.append("'dedup_key' is required to acknowledge or resolve")
            payload = body.get("payload") or {}
            if body.get("event_action") == "trigger":
                for field in ("summary", "source", "severity"):
                    if not payload.get(field):
                        errors.append(f"'payload.{field}' is missing")
                if payload.get("severity") not in (None, "critical", "error", "warning", "info"):
                    errors.append("'payload.severity' is invalid")
        return json_reply(400, {"status": "invalid event", "message": "Event object is invalid",
                                "errors": errors}) if errors else None


class FakeDiscordWebhook(FakeSlackWebhook):
    def __init__(self, default: Reply | None = None) -> None:
        super().__init__(default or Reply(status=204, body=""), path=DISCORD_PATH)

    def reject(self, body: Any) -> Reply | None:
        if not isinstance(body, dict):
            return json_reply(400, {"message": "Cannot send an empty message", "code": 50006})
        if not body.get("content") and not body.get("embeds"):
            return json_reply(400, {"message": "Cannot send an empty message", "code": 50006})
        if len(body.get("content") or "") > 2000 or any(len(json.dumps(e)) > 6000 for e in body.get("embeds") or []):
            return json_reply(400, {"message": "Invalid Form Body", "code": 50035})
        return None
