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
import threading
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from slack_sdk.webhook import WebhookClient

from notify.base import Alert, DeliveryResult
from notify.outbox import Outbox, OutboxRow
from notify.slack_message import build_message
from notify.slack_retry import retry_after_seconds, retry_handlers

if TYPE_CHECKING:
    from utils.config import Settings

__all__ = ["NAME", "OUTBOX_FILE", "SlackWebhookNotifier", "redact_url"]

log = logging.getLogger(__name__)

NAME = "Slack webhook"
OUTBOX_FILE = "outbox.sqlite3"
# The table of outbox files written before the outbox had destinations: its rows are Slack's.
LEGACY_OUTBOX_TABLE = "slack_outbox"
# Per call, so one notify() stays short even after a long outage; the rest go next cycle.
DRAIN_BATCH = 50
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


# --- delivery -------------------------------------------------------------------------------------


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


@dataclass(eq=False)  # identity hash: a lane is a key in the outbox's blocked set
class _Lane:
    """One destination webhook; the tiers that share a URL share a lane and its order."""

    url: str = field(repr=False)  # the secret: kept out of any repr that might reach a log
    env_vars: list[str]
    client: WebhookClient | None = field(repr=False)
    broken: str | None = None  # config error text while the webhook is known bad
    broken_until: float = 0.0
    not_before: float = 0.0  # a Retry-After longer than we wait inline

    @property
    def redacted(self) -> str:
        return redact_url(self.url)

    @property
    def setting(self) -> str:
        return " / ".join(self.env_vars)

    def ready(self, now: float) -> bool:
        return now >= self.not_before and (self.broken is None or now >= self.broken_until)


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    detail: str = ""
    config_error: bool = False
    retry_after: float = 0.0


@dataclass
class _DrainReport:
    delivered: list[int] = field(default_factory=list)
    failures: dict[Hashable, str] = field(default_factory=dict)
    busy: set[Hashable] = field(default_factory=set)  # (lane, incident id): a row another process holds


class SlackWebhookNotifier:
    """Sends alerts to the tier's webhook, spooling what fails to the outbox in `home`."""

    name = NAME

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
        self.config_error: str | None = None
        self._config_recheck = config_recheck
        self._lock = threading.Lock()
        handlers = retry_handlers(max_retries=max_retries, max_retry_after=max_retry_after, backoff=backoff)
        self._tier_lane = self._build_lanes(default_url, tier_urls or {}, handlers, timeout)
        self.enabled = any(lane is not None for lane in self._tier_lane.values())
        # A claim outlives the slowest possible post (every attempt timing out, every wait at its cap).
        worst_post = (max_retries + 1) * timeout + max_retries * max(
            max_retry_after, backoff * 2**max_retries
        )
        # Rows of an outbox from before destinations were this notifier's: it adopts them (under its own name only).
        legacy = LEGACY_OUTBOX_TABLE if self.name == NAME else None
        self._outbox = Outbox(db_path or Path(home) / OUTBOX_FILE, self.name, lease_seconds=2 * worst_post + 60,
                              legacy_table=legacy)

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackWebhookNotifier:
        """From SLACK_WEBHOOK_URL and SLACK_WEBHOOK_URL_TIER0|1|2; no network I/O, no file opened."""

        def secret(name: str) -> str | None:
            value = getattr(settings, name, None)
            return value.get_secret_value() if value is not None else None

        tiers = {tier: secret(f"slack_webhook_url_tier{tier}") for tier in (0, 1, 2)}
        return cls(Path(settings.state_dir), secret("slack_webhook_url"), tiers)

    def _build_lanes(
        self, default_url: str | None, tier_urls: dict[int, str | None], handlers: list, timeout: float
    ) -> dict[int, _Lane | None]:
        lanes: dict[str, _Lane] = {}
        by_tier: dict[int, _Lane | None] = {}
        for tier in (0, 1, 2):
            override = (tier_urls.get(tier) or "").strip()
            url = override or (default_url or "").strip()
            if not url:
                by_tier[tier] = None
                continue
            env_var = f"{DEFAULT_ENV_VAR}_TIER{tier}" if override else DEFAULT_ENV_VAR
            lane = lanes.get(url)
            if lane is None:
                lane = lanes[url] = self._new_lane(url, env_var, handlers, timeout)
            elif env_var not in lane.env_vars:
                lane.env_vars.append(env_var)
            by_tier[tier] = lane
        return by_tier

    def _new_lane(self, url: str, env_var: str, handlers: list, timeout: float) -> _Lane:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # The SDK would raise with the URL in the message; say what is wrong without it.
            lane = _Lane(url=url, env_vars=[env_var], client=None)
            lane.broken = f"{env_var} is not an http(s) URL — set it to the webhook URL Slack gave you"
            lane.broken_until = float("inf")
            self.config_error = self.config_error or lane.broken
            return lane
        # The SDK logs the full URL at debug/info level; its own logger is kept quiet, ours redacts.
        client = WebhookClient(url, timeout=timeout, logger=_quiet_sdk_logger(), retry_handlers=handlers)
        return _Lane(url=url, env_vars=[env_var], client=client)

    def describe(self) -> str:
        """One line for a banner: where alerts go, without secrets."""
        if not self.enabled:
            return f"{self.name}: not configured (alerts in the terminal only)"
        routes = {t: lane.redacted for t, lane in self._tier_lane.items() if lane is not None}
        if len(routes) == 3 and len(set(self._tier_lane.values())) == 1:
            return f"{self.name} {routes[0]} (all tiers)"
        return f"{self.name}: " + ", ".join(f"Tier {t} → {where}" for t, where in routes.items())

    def pending(self) -> int:
        return self._outbox.count()

    def drain(self) -> int:
        """Deliver what is queued, oldest first; returns how many were delivered."""
        if not self.enabled:
            return 0
        with self._lock:
            return len(self._drain().delivered)

    def notify(self, alert: Alert) -> DeliveryResult:
        lane = self._tier_lane.get(alert.tier)
        if lane is None:
            why = (
                "no Slack webhook configured"
                if not self.enabled
                else f"no Slack webhook for Tier {alert.tier}"
            )
            return DeliveryResult(status="terminal_only", detail=f"{why}: terminal only")
        with self._lock:
            row_id = self._outbox.put(alert)
            report = self._drain()
        others = sum(1 for delivered in report.delivered if delivered != row_id)
        if row_id in report.delivered:
            return DeliveryResult(status="sent", detail=f"sent to Slack via {lane.setting}", drained=others)
        if self._outbox.was_sent(row_id):  # handed over before (a crash in between): not sent twice
            return DeliveryResult(status="sent", detail=f"already sent to Slack via {lane.setting}", drained=others)
        why = report.failures.get(lane) or (
            "an earlier message about this incident is being sent by another process"
            if (lane, alert.incident_id) in report.busy
            else "the outbox backlog is long"
        )
        return DeliveryResult(
            status="queued",
            detail=f"{why}; kept in the Slack outbox ({self.pending()} pending), sent on a later cycle",
            drained=others,
        )

    def _drain(self) -> _DrainReport:
        report = _DrainReport()
        now = time.time()
        lanes = {lane for lane in self._tier_lane.values() if lane is not None}
        blocked: set[Hashable] = {lane for lane in lanes if not lane.ready(now)}
        for lane in blocked:
            report.failures[lane] = lane.broken or "Slack asked us to wait (rate limited)"
        while len(report.delivered) < DRAIN_BATCH:
            claimed = self._outbox.claim_next(self._tier_lane.get, blocked)
            if claimed is None:
                break
            row, lane = claimed
            assert isinstance(lane, _Lane)
            outcome = self._deliver(lane, _message(row))
            if outcome.ok:
                self._outbox.complete(row.id)
                report.delivered.append(row.id)
                self._mark_healthy(lane)
            else:
                self._outbox.release(row.id, outcome.detail)
                blocked.add(lane)  # keep this webhook's order: nothing after the failed row
                report.failures[lane] = outcome.detail
                self._mark_failed(lane, outcome)
        report.busy = blocked - set(report.failures)
        return report

    def _deliver(self, lane: _Lane, payload: dict[str, Any]) -> _Outcome:
        outcome = self._post(lane, payload)
        if outcome.config_error and "invalid_payload" in outcome.detail and set(payload) - {"text"}:
            # A message Slack cannot parse would block its lane forever; the plain text always parses.
            plain = self._post(lane, {"text": payload.get("text", "")})
            if plain.ok:
                return plain
        return outcome

    def _post(self, lane: _Lane, payload: dict[str, Any]) -> _Outcome:
        assert lane.client is not None
        # Whatever goes wrong must end in the outbox, never unwind the monitor loop.
        try:
            resp = lane.client.send_dict(payload)
        except Exception as exc:
            reason = self._scrub(str(exc)) or type(exc).__name__
            return _Outcome(False, f"Slack webhook {lane.redacted} unreachable: {reason}")
        return _classify(lane, resp.status_code, resp.body or "", resp.headers or {})

    def _mark_failed(self, lane: _Lane, outcome: _Outcome) -> None:
        if outcome.retry_after:
            lane.not_before = time.time() + outcome.retry_after
        if not outcome.config_error:
            log.info("%s", outcome.detail)  # transient: the caller's result says it was queued
            return
        first_time = lane.broken is None
        lane.broken = outcome.detail
        lane.broken_until = time.time() + self._config_recheck
        if first_time:
            self.config_error = outcome.detail
            log.error("%s", outcome.detail)

    def _mark_healthy(self, lane: _Lane) -> None:
        if lane.broken is not None and self.config_error == lane.broken:
            self.config_error = None
        lane.broken = None
        lane.not_before = 0.0

    def _scrub(self, text: str) -> str:
        for lane in self._tier_lane.values():
            if lane is not None:
                text = text.replace(lane.url, lane.redacted)
        return _SLACK_PATH.sub("<webhook URL>", text)


def _message(row: OutboxRow) -> dict[str, Any]:
    """Rendered now, from the alert; a row adopted from an old outbox file was rendered when it was queued."""
    return build_message(row.alert) if row.alert is not None else dict(row.rendered or {})


def _classify(lane: _Lane, status: int, body: str, headers: Mapping[str, Any]) -> _Outcome:
    """Turn a webhook answer into sent / transient failure / configuration error."""
    where = f"Slack webhook {lane.redacted}"
    head = body.lstrip()[:200].lower()
    if head.startswith(("<!doctype", "<html")) or "<html" in head:
        # Slack answers in plain words; a page means something in between (proxy, captive portal).
        return _Outcome(
            False, f"{where} answered {status} with an HTML page — not Slack (a proxy or gateway?)"
        )
    if 200 <= status < 300:
        return _Outcome(True)
    word = re.sub(r"[^a-z_]", "", body.strip().lower())[:40] or "no body"
    if status == 429:
        wait = retry_after_seconds(headers)
        return _Outcome(False, f"{where} is rate limited (429); retry after {wait:g}s", retry_after=wait)
    if status >= 500 or status < 400:
        return _Outcome(False, f"{where} returned {status} {word}: a problem on Slack's side or on the way")
    hint = _CONFIG_HINTS.get(word, "the webhook is not usable")
    return _Outcome(
        False,
        f"{where} returned {status} {word}: {hint} — check {lane.setting}",
        config_error=True,
    )


def _quiet_sdk_logger() -> logging.Logger:
    sdk_log = logging.getLogger("notify.slack_webhook.sdk")
    sdk_log.setLevel(logging.CRITICAL)
    sdk_log.propagate = False
    return sdk_log
