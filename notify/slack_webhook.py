"""Tiered Slack alerts over incoming webhooks: the first Notifier (notify/base.py), with the durable outbox.

The message (build_message, escaping, tier names and colours) is built in notify/slack_message.py
when a row is sent, not when it is queued; retries live in notify/slack_retry.py.

`notify()` first writes the alert to the outbox (notify/outbox.py), under this notifier's
name, then drains the outbox oldest-first, so a new alert never overtakes one that is
still waiting and nothing is lost when Slack, the network or the webhook is
broken. 429 and 5xx are retried by slack_sdk's own retry handlers within a
bounded time; 4xx other than 429 means the webhook itself is wrong (revoked,
mistyped, archived channel) and is reported once in `config_error` instead of
being retried every cycle.

Threading: incoming webhooks cannot reply in a thread, so a "resolved"
message is a new message that names the original incident id. Real
threading needs a bot token and `chat.postMessage` with `thread_ts`.

Delivery is at least once: a post that timed out after Slack got it, or a
process that died between Slack's "ok" and marking the row sent, sends again, once.

Webhook URLs are secrets: they appear nowhere but in the HTTP request itself;
logs, errors and results show only scheme and host.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from slack_sdk.webhook import WebhookClient

from notify.lanes import OUTBOX_FILE, Lane, OutboxNotifier, Outcome, lanes_by_tier
from notify.outbox import OutboxRow
from notify.slack_message import build_message
from notify.slack_retry import retry_after_seconds, retry_handlers

if TYPE_CHECKING:
    from utils.config import Settings

__all__ = ["NAME", "OUTBOX_FILE", "SlackWebhookNotifier", "redact_url"]

NAME = "Slack webhook"
# The table of outbox files written before the outbox had destinations: its rows are Slack's.
LEGACY_OUTBOX_TABLE = "slack_outbox"
DEFAULT_ENV_VAR = "SLACK_WEBHOOK_URL"

_SLACK_PATH = re.compile(r"https?://hooks\.slack\.com/\S*|/services/[A-Za-z0-9/_-]+")

_CONFIG_HINTS = {
    "no_service": "the URL was revoked or mistyped",
    "no_team": "the workspace is gone or the URL was mistyped",
    "invalid_token": "the webhook was revoked",
    "team_disabled": "the workspace is disabled",
    "channel_not_found": "its channel no longer exists",
    "channel_is_archived": "its channel was archived (unarchive it or create a new webhook)",
    "action_prohibited": "a workspace admin blocked posting to that channel",
    "invalid_payload": "it did not accept the message format (is it a Workflow Builder URL?)",
    "no_text": "it did not accept the message format",
}


def redact_url(url: str) -> str:
    """Scheme and host only: enough to tell webhooks apart, never the secret path."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # "host:notanumber": still say which host, without the secret
        port = None
    if not parts.scheme or not parts.hostname:
        return "<webhook URL>"
    host = parts.hostname + (f":{port}" if port else "")
    suffix = "/services/T…/…" if parts.hostname == "hooks.slack.com" else "/…"
    return f"{parts.scheme}://{host}{suffix}"


class SlackWebhookNotifier(OutboxNotifier):
    """Sends alerts to the tier's webhook, spooling what fails to the outbox in `home`."""

    name = NAME
    label = "Slack"

    def __init__(
        self,
        home: Path,
        default_url: str | None,
        tier_urls: dict[int, str | None] | None = None,
        *,
        max_retries: int = 2,
        max_retry_after: float = 10.0,
        timeout: float = 10.0,
        backoff: float = 0.5,
        config_recheck: float = 600.0,
        db_path: Path | None = None,
    ) -> None:
        handlers = retry_handlers(max_retries=max_retries, max_retry_after=max_retry_after, backoff=backoff)
        self._urls: list[tuple[str, str]] = []  # (secret, redacted), for scrubbing error text
        lanes = lanes_by_tier(default_url, tier_urls or {}, DEFAULT_ENV_VAR,
                              lambda url, env_var: self._new_lane(url, env_var, handlers, timeout))
        # A claim outlives the slowest possible post (every attempt timing out, every wait at its cap).
        worst_post = (max_retries + 1) * timeout + max_retries * max(max_retry_after, backoff * 2**max_retries)
        # Rows of an outbox from before destinations were this notifier's: it adopts them (under its own name only).
        super().__init__(home, lanes, lease_seconds=2 * worst_post + 60, config_recheck=config_recheck,
                         db_path=db_path, legacy_table=LEGACY_OUTBOX_TABLE if self.name == NAME else None)

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackWebhookNotifier:
        """From SLACK_WEBHOOK_URL and SLACK_WEBHOOK_URL_TIER0|1|2; no network I/O, no file opened."""

        def secret(name: str) -> str | None:
            value = getattr(settings, name, None)
            return value.get_secret_value() if value is not None else None

        tiers = {tier: secret(f"slack_webhook_url_tier{tier}") for tier in (0, 1, 2)}
        return cls(Path(settings.state_dir), secret("slack_webhook_url"), tiers)

    def _new_lane(self, url: str, env_var: str, handlers: list, timeout: float) -> Lane:
        redacted = redact_url(url)
        self._urls.append((url, redacted))
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # The SDK would raise with the URL in the message; say what is wrong without it.
            lane = Lane(redacted, [env_var])
            lane.broken = f"{env_var} is not an http(s) URL — set it to the webhook URL Slack gave you"
            lane.broken_until = float("inf")
            return lane
        # The SDK logs the full URL at debug/info level; its own logger is kept quiet, ours redacts.
        client = WebhookClient(url, timeout=timeout, logger=_quiet_sdk_logger(), retry_handlers=handlers)
        lane = Lane(redacted, [env_var])
        lane.send = lambda payload: self._deliver(lane, client, payload)
        return lane

    def render(self, row: OutboxRow) -> dict[str, Any]:
        """Rendered now, from the alert; a row adopted from an old outbox file was rendered when it was queued."""
        return build_message(row.alert) if row.alert is not None else dict(row.rendered or {})

    def scrub(self, text: str) -> str:
        for url, redacted in self._urls:
            text = text.replace(url, redacted)
        return _SLACK_PATH.sub("<webhook URL>", text)

    def _deliver(self, lane: Lane, client: WebhookClient, payload: dict[str, Any]) -> Outcome:
        outcome = self._post(lane, client, payload)
        if outcome.config_error and "invalid_payload" in outcome.detail and set(payload) - {"text"}:
            # A message Slack cannot parse would block its lane forever; the plain text always parses.
            plain = self._post(lane, client, {"text": payload.get("text", "")})
            if plain.ok:
                return plain
        return outcome

    def _post(self, lane: Lane, client: WebhookClient, payload: dict[str, Any]) -> Outcome:
        try:
            resp = client.send_dict(payload)
        except Exception as exc:
            reason = self.scrub(str(exc)) or type(exc).__name__
            return Outcome(False, f"Slack webhook {lane.redacted} unreachable: {reason}")
        return _classify(lane, resp.status_code, resp.body or "", resp.headers or {})


def _classify(lane: Lane, status: int, body: str, headers: Mapping[str, Any]) -> Outcome:
    """Turn a webhook answer into sent / transient failure / configuration error."""
    where = f"Slack webhook {lane.redacted}"
    head = body.lstrip()[:200].lower()
    if head.startswith(("<!doctype", "<html")) or "<html" in head:
        # Slack answers in plain words; a page means something in between (proxy, captive portal).
        return Outcome(
            False, f"{where} answered {status} with an HTML page — not Slack (a proxy or gateway?)"
        )
    if 200 <= status < 300:
        return Outcome(True)
    word = re.sub(r"[^a-z_]", "", body.strip().lower())[:40] or "no body"
    if status == 429:
        wait = retry_after_seconds(headers)
        return Outcome(False, f"{where} is rate limited (429); retry after {wait:g}s", retry_after=wait)
    if status >= 500 or status < 400:
        return Outcome(False, f"{where} returned {status} {word}: a problem on Slack's side or on the way")
    hint = _CONFIG_HINTS.get(word, "the webhook is not usable")
    return Outcome(
        False,
        f"{where} returned {status} {word}: {hint} — check {lane.setting}",
        config_error=True,
    )


def _quiet_sdk_logger() -> logging.Logger:
    sdk_log = logging.getLogger("notify.slack_webhook.sdk")
    sdk_log.setLevel(logging.CRITICAL)
    sdk_log.propagate = False
    return sdk_log
