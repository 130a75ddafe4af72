"""Slack as an app (`SLACK_BOT_TOKEN` + `SLACK_CHANNEL`): pages through `chat.postMessage`, the resolve in
the page's thread, and the page itself updated in place to say it was resolved.

Incoming webhooks cannot thread or edit, so a team that has a bot token gets this instead (the app
wins when both are configured). Delivery goes through the shared outbox (notify/lanes.py); the
official `slack_sdk` WebClient does the HTTP, with the same bounded retry handlers as the webhook.
Where each incident's page went (channel, ts) is kept beside the outbox so a resolve sent by another
process or after a restart still finds its thread. The bot token is a secret: it is only ever in
the Authorization header, never in a line, a result or an error.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from notify.lanes import OUTBOX_FILE, Lane, OutboxNotifier, Outcome, lanes_by_tier
from notify.outbox import OutboxRow
from notify.slack_message import RESOLVED_COLOUR, build_message, status_line
from notify.slack_retry import retry_after_seconds, retry_handlers

if TYPE_CHECKING:
    from utils.config import Settings

log = logging.getLogger(__name__)

NAME = "Slack app"
_UNPARSEABLE = {"invalid_blocks", "invalid_attachments", "invalid_blocks_format", "msg_too_long"}
DEFAULT_API_URL = "https://slack.com/api/"
# Errors that mean a setting is wrong, not that Slack is having a bad minute.
_CONFIG_ERRORS = {
    "invalid_auth": "the bot token is not valid", "not_authed": "no bot token was sent",
    "account_inactive": "the bot token was revoked", "token_revoked": "the bot token was revoked",
    "channel_not_found": "the channel does not exist or the app cannot see it",
    "not_in_channel": "the app is not in that channel (invite it: /invite @app)",
    "is_archived": "the channel is archived", "missing_scope": "the app lacks the chat:write scope",
    "restricted_action": "a workspace admin blocked posting there",
}


class SlackThreads:
    """incident id -> (channel, ts) of its page, in the outbox's SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("CREATE TABLE IF NOT EXISTS slack_pages (incident_id TEXT NOT NULL, channel TEXT NOT NULL, "
                     "ts TEXT NOT NULL, message TEXT, PRIMARY KEY (incident_id, channel))")
        return conn

    def page_of(self, incident_id: str, channel: str) -> str | None:
        with self._lock, closing(self._connect()) as conn:
            row = conn.execute("SELECT ts FROM slack_pages WHERE incident_id = ? AND channel = ?",
                               (incident_id, channel)).fetchone()
        return row[0] if row else None

    def pages(self, incident_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(channel, ts, the page as posted) for every channel the incident was paged in."""
        with self._lock, closing(self._connect()) as conn:
            rows = conn.execute("SELECT channel, ts, message FROM slack_pages WHERE incident_id = ?",
                                (incident_id,)).fetchall()
        return [(c, ts, json.loads(m) if m else {}) for c, ts, m in rows]

    def page(self, incident_id: str, channel: str) -> dict[str, Any] | None:
        with self._lock, closing(self._connect()) as conn:
            row = conn.execute("SELECT message FROM slack_pages WHERE incident_id = ? AND channel = ?",
                               (incident_id, channel)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def update(self, incident_id: str, channel: str, message: dict[str, Any]) -> None:
        with self._lock, closing(self._connect()) as conn:
            conn.execute("UPDATE slack_pages SET message = ? WHERE incident_id = ? AND channel = ?",
                         (json.dumps(message), incident_id, channel))

    def remember(self, incident_id: str, channel: str, ts: str, message: dict[str, Any]) -> None:
        with self._lock, closing(self._connect()) as conn:
            # The first page is the thread: a repeat page must not move it.
            conn.execute("INSERT OR IGNORE INTO slack_pages (incident_id, channel, ts, message) VALUES (?, ?, ?, ?)",
                         (incident_id, channel, ts, json.dumps(message)))


class SlackAppNotifier(OutboxNotifier):
    name = NAME
    label = "Slack"

    def __init__(self, home: Path, token: str | None, channel: str | None,
                 tier_channels: dict[int, str | None] | None = None, *, api_url: str = DEFAULT_API_URL,
                 max_retries: int = 2, max_retry_after: float = 10.0, timeout: float = 10.0, backoff: float = 0.5,
                 db_path: Path | None = None, buttons: bool = False) -> None:
        self._token = (token or "").strip()
        self.buttons = buttons  # Approve / Reject on pages that wait for a decision (Socket Mode is listening)
        path = db_path or Path(home) / OUTBOX_FILE
        self.threads = SlackThreads(path)
        self._client = WebClient(token=self._token, base_url=api_url if api_url.endswith("/") else api_url + "/",
                                 timeout=int(timeout), logger=_quiet_sdk_logger(),
                                 retry_handlers=retry_handlers(max_retries=max_retries,
                                                               max_retry_after=max_retry_after, backoff=backoff))
        lanes = lanes_by_tier(channel, tier_channels or {}, "SLACK_CHANNEL", self._new_lane) if self._token \
            else dict.fromkeys((0, 1, 2))
        worst_post = 2 * ((max_retries + 1) * timeout + max_retries * max_retry_after)  # a post and an update
        super().__init__(home, lanes, lease_seconds=2 * worst_post + 60, db_path=path)

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackAppNotifier:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        tiers = {t: getattr(settings, f"slack_channel_tier{t}") for t in (0, 1, 2)}
        return cls(Path(settings.state_dir), token, settings.slack_channel, tiers, api_url=settings.slack_api_url,
                   buttons=settings.slack_app_token is not None)

    def _new_lane(self, channel: str, setting: str) -> Lane:
        lane = Lane(channel, [setting])
        lane.send = lambda request: self._deliver(lane, channel, request)
        return lane

    def render(self, row: OutboxRow) -> dict[str, Any]:
        alert = row.alert
        assert alert is not None  # app rows are never adopted from the webhook's legacy outbox
        message = build_message(alert)
        buttons = self.buttons and alert.awaiting_approval and alert.kind in ("open", "repage")
        if buttons and alert.kind == "open":
            message["blocks"] = [*message.get("blocks", []), decision_buttons(alert.incident_id)]
        return {"kind": alert.kind, "incident_id": alert.incident_id, "message": message,
                "status": status_line(alert), "buttons": buttons}

    def scrub(self, text: str) -> str:
        return text.replace(self._token, "<bot token>") if self._token else text

    def _deliver(self, lane: Lane, channel: str, request: dict[str, Any]) -> Outcome:
        message = request["message"]
        page = self.threads.page_of(request["incident_id"], channel)
        try:
            return self._post(channel, request, page, message)
        except SlackApiError as exc:
            if _error(exc) in _UNPARSEABLE and set(message) - {"text"}:
                # A message Slack cannot parse would block its lane forever; the plain text always parses.
                try:
                    return self._post(channel, request, page, {"text": message.get("text", "")})
                except SlackApiError as again:
                    exc = again
            return self._failure(lane, exc)
        except Exception as exc:
            return Outcome(False, f"Slack API unreachable: {self.scrub(str(exc)) or type(exc).__name__}")

    def _post(self, channel: str, request: dict[str, Any], page: str | None, message: dict[str, Any]) -> Outcome:
        kind, incident_id = request["kind"], request["incident_id"]
        if kind == "open" or page is None:  # a later alert whose page never went out stands on its own
            answer = self._client.chat_postMessage(channel=channel, **message)
            if kind == "open":
                self.threads.remember(incident_id, channel, answer["ts"], message)
            return Outcome(True)
        # In the thread; a repeat page is shown in the channel too: it must be seen.
        self._client.chat_postMessage(channel=channel, thread_ts=page, reply_broadcast=kind == "repage", **message)
        if request.get("status"):  # the page itself says what happened since: decided, did not help, resolved
            self._edit_page(incident_id, channel, page, request["status"], buttons=bool(request.get("buttons")),
                            resolved=message if kind == "resolved" else None)
        return Outcome(True)

    def _edit_page(self, incident_id: str, channel: str, ts: str, status: str, *, buttons: bool,
                   resolved: dict[str, Any] | None) -> None:
        """The page updated in place, so nobody acts on a stale page scrolled back to: its status lines so far, the
        buttons only while a proposal waits, green once resolved. Best effort: the news is already in the thread,
        and failing here would post it there again on the retry."""
        page = self.threads.page(incident_id, channel) or {}
        lines = [*page.get(STATUS_KEY, []), status]
        base = resolved or page
        blocks = [b for b in base.get("blocks") or [] if b.get("block_id") != DECISION_BLOCK]
        blocks.append({"type": "context", "block_id": "aiops_status",
                       "elements": [{"type": "mrkdwn", "text": "\n".join(lines)[-2900:]}]})
        if buttons:
            blocks.append(decision_buttons(incident_id))
        attachments = page.get("attachments")
        if resolved is not None:
            attachments = [{"color": RESOLVED_COLOUR, "fallback": resolved.get("text", ""),
                            "blocks": (resolved.get("attachments") or [{}])[0].get("blocks", [])}]
        text = base.get("text") or status
        try:
            self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks, attachments=attachments)
        except Exception as exc:
            log.warning("could not update the Slack page %s: %s", ts, self.scrub(str(exc)))
            return
        self.threads.update(incident_id, channel, {**page, STATUS_KEY: lines})

    def _failure(self, lane: Lane, exc: SlackApiError) -> Outcome:
        response, error = exc.response, _error(exc)
        where = f"Slack API ({lane.redacted})"
        if response.status_code == 429 or error == "ratelimited":
            wait = retry_after_seconds(response.headers or {})
            return Outcome(False, f"{where} is rate limited; retry after {wait:g}s", retry_after=wait)
        if error in _CONFIG_ERRORS:
            return Outcome(False, f"{where}: {error} — {_CONFIG_ERRORS[error]}; check {lane.setting} and "
                                  "SLACK_BOT_TOKEN", config_error=True)
        return Outcome(False, f"{where} answered {response.status_code} {error}")


DECISION_BLOCK = "aiops_decision"
STATUS_KEY = "_aiops_status"  # kept with the stored page: the status lines it shows so far
REASON_VIEW, REASON_BLOCK, REASON_INPUT = "aiops_reject_reason", "aiops_reason", "reason"


def reason_modal(incident_id: str, metadata: str) -> dict[str, Any]:
    """Reject's dialog: one optional line of reason; `private_metadata` carries what the submission needs back."""
    return {"type": "modal", "callback_id": REASON_VIEW, "private_metadata": metadata,
            "title": {"type": "plain_text", "text": "Reject the proposal"},
            "submit": {"type": "plain_text", "text": "Reject"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [{"type": "input", "block_id": REASON_BLOCK, "optional": True,
                        "label": {"type": "plain_text", "text": f"Why reject the proposal for {incident_id[:40]}?"},
                        "element": {"type": "plain_text_input", "action_id": REASON_INPUT, "max_length": 500}}]}


def decision_buttons(incident_id: str) -> dict[str, Any]:
    """The two buttons notify/slack_socket.py reads back: action ids fixed by DESIGN.md, value the incident."""
    def button(action: str, label: str, style: str) -> dict[str, Any]:
        return {"type": "button", "action_id": action, "style": style, "value": incident_id,
                "text": {"type": "plain_text", "text": label}}

    return {"type": "actions", "block_id": DECISION_BLOCK,
            "elements": [button("aiops_approve", "Approve", "primary"), button("aiops_reject", "Reject", "danger")]}


def _error(exc: SlackApiError) -> str:
    data = exc.response.data
    return str(data.get("error") or "no error") if isinstance(data, dict) else "no error"


def _quiet_sdk_logger() -> logging.Logger:
    sdk_log = logging.getLogger("notify.slack_app.sdk")  # the SDK logs request details at debug level
    sdk_log.setLevel(logging.CRITICAL)
    sdk_log.propagate = False
    return sdk_log
