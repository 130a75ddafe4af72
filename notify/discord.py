"""Discord incoming webhook: the same alert as an embed, coloured by tier (green when resolved).

Untrusted alarm text cannot ping: `allowed_mentions` is empty on every message, so "@everyone" in an
alarm reason stays words; the only mention is the Tier 0 page's own `@here`, which is explicitly
allowed. Through the shared outbox, so nothing is lost while Discord is down. The webhook URL is
a secret: results and errors name only its host.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from notify.base import Alert, duration
from notify.evidence_text import evidence_lines
from notify.lanes import Lane, OutboxNotifier, Outcome
from notify.outbox import OutboxRow

if TYPE_CHECKING:
    from utils.config import Settings

NAME = "Discord"
ENV_VAR = "DISCORD_WEBHOOK_URL"
TIER_TITLES = {0: "Tier 0 — EMERGENCY", 1: "Tier 1 — CRITICAL", 2: "Tier 2 — WARNING"}
COLOURS = {0: 0xD00000, 1: 0xE8590C, 2: 0xF2C744}
RESOLVED_COLOUR = 0x2EB67D
# Discord's own limits: content 2,000, title 256, description 4,096, field value 1,024, 6,000 in all.
_LIMITS = {"content": 2000, "title": 256, "description": 4096, "field": 1024}
_WEBHOOK_PATH = re.compile(r"/api/webhooks/\S+")
_BROADCAST = re.compile(r"@(everyone|here)\b", re.IGNORECASE)


class DiscordNotifier(OutboxNotifier):
    name = NAME
    label = "Discord"

    def __init__(self, home: Path, url: str | None, *, timeout: float = 10.0, db_path: Path | None = None) -> None:
        self._url = (url or "").strip()
        lanes: dict[int, Lane | None] = dict.fromkeys((0, 1, 2))
        if self._url:
            parts = urlsplit(self._url)
            lane = Lane(f"{parts.scheme}://{parts.hostname}/api/webhooks/…" if parts.hostname else "<webhook URL>",
                        [ENV_VAR])
            if parts.scheme not in ("http", "https") or not parts.hostname:
                lane.broken, lane.broken_until = f"{ENV_VAR} is not an http(s) URL", float("inf")
            else:
                _hide_webhook_paths_from_httpx()
                client = httpx.Client(timeout=timeout)
                lane.send = lambda body: self._post(lane, client, body)
            lanes = dict.fromkeys((0, 1, 2), lane)
        super().__init__(home, lanes, lease_seconds=2 * timeout + 60, db_path=db_path)

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordNotifier:
        url = settings.discord_webhook_url.get_secret_value() if settings.discord_webhook_url else None
        return cls(Path(settings.state_dir), url)

    def render(self, row: OutboxRow) -> dict[str, Any]:
        alert = row.alert
        assert alert is not None
        return build_embed(alert)

    def scrub(self, text: str) -> str:
        return _WEBHOOK_PATH.sub("/api/webhooks/…", text.replace(self._url, "<webhook URL>") if self._url else text)

    def _post(self, lane: Lane, client: httpx.Client, body: dict[str, Any]) -> Outcome:
        where = f"Discord webhook {lane.redacted}"
        try:
            resp = client.post(self._url, json=body)
        except httpx.HTTPError as exc:
            return Outcome(False, f"{where} unreachable: {self.scrub(str(exc)) or type(exc).__name__}")
        if 200 <= resp.status_code < 300:
            return Outcome(True)
        if resp.status_code == 429:
            wait = _retry_after(resp)
            return Outcome(False, f"{where} is rate limited (429); retry after {wait:g}s", retry_after=wait)
        if resp.status_code >= 500:
            return Outcome(False, f"{where} returned {resp.status_code}: a problem on Discord's side or on the way")
        return Outcome(False, f"{where} returned {resp.status_code} ({_message(resp)}) — check {ENV_VAR}",
                       config_error=True)


class _WebhookPathFilter(logging.Filter):
    """httpx logs every request's full URL at INFO, and a Discord webhook's path is its secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "/api/webhooks/" in text:
            record.msg, record.args = _WEBHOOK_PATH.sub("/api/webhooks/…", text), ()
        return True


def _hide_webhook_paths_from_httpx() -> None:
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(f, _WebhookPathFilter) for f in httpx_log.filters):
        httpx_log.addFilter(_WebhookPathFilter())


def build_embed(alert: Alert) -> dict[str, Any]:
    alert = _inert(alert)
    resource = _resource(alert)
    if alert.kind == "decided":  # a person approved or rejected: one line, ours
        line = f"{alert.decision or 'decided'} [{alert.incident_id}]"
        return {"content": _cut(line, "content"), "allowed_mentions": {"parse": []}}
    if alert.kind == "resolved":
        took = duration(alert.time_to_resolve_seconds, unknown="an unknown time")
        line = f"Resolved ({TIER_TITLES[alert.tier]}): {alert.alarm} on {resource} after {took} [{alert.incident_id}]"
        embed = {"title": _cut(f"Resolved: {alert.alarm}", "title"), "color": RESOLVED_COLOUR,
                 "description": _cut(f"{resource} is back to OK after {took}.", "description")}
        return {"content": _cut(line, "content"), "embeds": [embed], "allowed_mentions": {"parse": []}}
    proposal = alert.proposal or "none — investigate"
    if alert.risk:
        proposal += f" (risk: {alert.risk})"
    sop = alert.sop_title or "no SOP found"
    line = f"{TIER_TITLES[alert.tier]}: {alert.alarm} on {resource} [{alert.incident_id}]"
    evidence = "\n".join(evidence_lines(alert.evidence))
    fields = [{"name": "Proposed action", "value": _cut(proposal, "field")},  # recovery first
              *([{"name": "Evidence", "value": _cut(_BROADCAST.sub("@\u2060\\1", evidence), "field")}]
                if evidence else []),
              {"name": "Resource", "value": _cut(resource, "field"), "inline": True},
              {"name": "SOP", "value": _cut(sop, "field"), "inline": True}]
    embed = {"title": _cut(f"{TIER_TITLES[alert.tier]}: {alert.alarm}", "title"), "color": COLOURS[alert.tier],
             "description": _cut(alert.summary or "", "description"), "fields": fields}
    mention = alert.tier == 0 and alert.kind == "open"
    return {"content": _cut(("@here " if mention else "") + line, "content"), "embeds": [embed],
            "allowed_mentions": {"parse": ["everyone"] if mention else []}}


def _inert(alert: Alert) -> Alert:
    """Alarm text is untrusted: a word joiner keeps "@everyone" readable but unable to ping, even in the one
    message (a Tier 0 page) that is allowed to mention everyone for its own `@here`."""
    fields = ("alarm", "summary", "decision", "resource_name", "resource_id", "proposal", "risk", "sop_title")
    return alert.model_copy(update={f: _BROADCAST.sub("@\u2060\\1", getattr(alert, f)) for f in fields
                                    if getattr(alert, f)})


def _resource(alert: Alert) -> str:
    name, rid = alert.resource_name, alert.resource_id
    if name and rid and name != rid:
        return f"{name} ({rid})"
    return name or rid or "no specific resource"


def _cut(text: str, kind: str) -> str:
    limit = _LIMITS[kind]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _retry_after(resp: httpx.Response) -> float:
    try:
        return max(0.0, float(resp.json().get("retry_after", 1.0)))
    except (ValueError, AttributeError):
        try:
            return max(0.0, float(resp.headers.get("Retry-After", "1")))
        except ValueError:
            return 1.0


def _message(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("message", "no reason given"))[:120]
    except (ValueError, AttributeError):
        return resp.text.strip()[:120] or "no body"
