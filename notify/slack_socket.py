"""Button clicks from Slack over Socket Mode (`SLACK_APP_TOKEN`): no public URL, the app dials out.

The official `slack_sdk.socket_mode` client keeps the websocket (reconnecting when it drops); this
room acks every envelope at once (Slack wants an ack within 3 seconds, and a decision may take
longer), reads the two buttons the pages carry (`aiops_approve`, `aiops_reject`, value the
incident id) and hands each click to a callback. What a click may do is decided elsewhere
(agent/monitor/slack_approvals.py); here is only the transport, the one-person reply
(`chat.postEphemeral`), and Reject's reason: the modal's `view_submission` comes back over the same socket
as a second click carrying the reason.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from notify.slack_app import REASON_BLOCK, REASON_INPUT, REASON_VIEW, reason_modal

log = logging.getLogger(__name__)

APPROVE, REJECT = "aiops_approve", "aiops_reject"
_DECISIONS = {APPROVE: "approve", REJECT: "reject"}


@dataclass(frozen=True)
class Click:
    user: str  # the Slack user id, the only identity Slack vouches for
    decision: str  # approve | reject
    incident_id: str
    channel: str | None = None
    message_ts: str | None = None
    trigger_id: str | None = None  # lets the app open a modal (Reject's reason) within 3 seconds of the click
    reason: str | None = None  # None: a button press; a string (maybe empty): the reason dialog was submitted


class SlackClicks:
    def __init__(self, app_token: str, bot_token: str, api_url: str, on_click: Callable[[Click], None]) -> None:
        self.web = WebClient(token=bot_token, base_url=api_url if api_url.endswith("/") else api_url + "/",
                             logger=_quiet("notify.slack_socket.web"))
        self._client = SocketModeClient(app_token=app_token, web_client=self.web, logger=_quiet("notify.slack_socket"))
        self._client.socket_mode_request_listeners.append(self._on_request)
        self.on_click = on_click

    def start(self) -> None:
        self._client.connect()

    def close(self) -> None:
        self._client.close()

    def tell(self, click: Click, text: str) -> None:
        """Only the person who clicked sees it; best effort (the decision itself is already stored)."""
        if not click.channel:
            return
        try:
            self.web.chat_postEphemeral(channel=click.channel, user=click.user, text=text)
        except Exception as exc:  # the token is in no exception text slack_sdk raises
            log.warning("could not answer %s in Slack: %s", click.user, exc)

    def ask_reason(self, click: Click) -> bool:
        """Reject opens a dialog for an optional reason (`views.open` with the click's trigger, valid 3 seconds);
        False when it could not (no trigger, Slack said no): the caller rejects without one."""
        if not click.trigger_id:
            return False
        try:
            self.web.views_open(trigger_id=click.trigger_id, view=reason_modal(click.incident_id, reason_metadata(click)))
        except Exception as exc:
            log.warning("could not open the reject reason dialog for %s: %s", click.user, exc)
            return False
        return True

    def _on_request(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))  # ack first
        if request.type != "interactive":
            return
        for click in clicks_in(request.payload or {}) + submissions_in(request.payload or {}):
            try:
                self.on_click(click)
            except Exception:
                log.exception("handling a Slack click failed")


def clicks_in(payload: dict) -> list[Click]:
    """The aiops buttons pressed in one block_actions payload; anything else is ignored."""
    if payload.get("type") != "block_actions":
        return []
    user = (payload.get("user") or {}).get("id")
    channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id")
    ts = (payload.get("container") or {}).get("message_ts") or (payload.get("message") or {}).get("ts")
    trigger = payload.get("trigger_id") if isinstance(payload.get("trigger_id"), str) else None
    found = []
    for action in payload.get("actions") or []:
        decision = _DECISIONS.get(action.get("action_id"))
        value = action.get("value")
        if decision and isinstance(user, str) and user and isinstance(value, str) and 0 < len(value) <= 40:
            found.append(Click(user, decision, value, channel, ts, trigger))
    return found


def reason_metadata(click: Click) -> str:
    """What the reason dialog carries back (`private_metadata`): the incident and where to answer."""
    return json.dumps({"incident": click.incident_id, "channel": click.channel, "ts": click.message_ts})


def submissions_in(payload: dict) -> list[Click]:
    """Reject's reason dialog submitted (`view_submission`): a reject click that carries its reason."""
    view = payload.get("view") or {}
    if payload.get("type") != "view_submission" or view.get("callback_id") != REASON_VIEW:
        return []
    user = (payload.get("user") or {}).get("id")
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return []
    incident = meta.get("incident") if isinstance(meta, dict) else None
    if not (isinstance(user, str) and user and isinstance(incident, str) and 0 < len(incident) <= 40):
        return []
    value = (((view.get("state") or {}).get("values") or {}).get(REASON_BLOCK) or {}).get(REASON_INPUT) or {}
    reason = value.get("value") if isinstance(value.get("value"), str) else ""
    return [Click(user, "reject", incident, meta.get("channel"), meta.get("ts"), None, reason.strip()[:500])]


def _quiet(name: str) -> logging.Logger:
    sdk_log = logging.getLogger(name)
    sdk_log.setLevel(logging.WARNING)
    sdk_log.propagate = False
    return sdk_log
