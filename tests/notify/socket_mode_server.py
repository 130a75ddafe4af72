"""A Socket Mode stand-in: the websocket server Slack hands an app through apps.connections.open.

It says hello on connect, sends `interactive` envelopes (block_actions: a button click; view_submission: a
modal submitted) when told,
and records each ack with the time it took, so a test can check the 3-second rule Slack enforces.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._connections: list[ServerConnection] = []
        self._sent: dict[str, float] = {}
        self.acks: dict[str, float] = {}  # envelope id -> seconds from sending it to its ack
        self._ids = itertools.count(1)
        self._changed = threading.Condition()
        self._server = None

    def __enter__(self) -> FakeSocketMode:
        self._server = serve(self._serve, "127.0.0.1", self.port)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=test"

    def _serve(self, ws: ServerConnection) -> None:
        with self._changed:
            self._connections.append(ws)
            self._changed.notify_all()
        ws.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {"host": "stand-in"},
                            "connection_info": {"app_id": "A000TEST"}}))
        try:
            for raw in ws:
                try:
                    doc = json.loads(raw)
                except ValueError:
                    continue
                envelope = doc.get("envelope_id")
                with self._changed:
                    if envelope in self._sent and envelope not in self.acks:
                        self.acks[envelope] = time.monotonic() - self._sent[envelope]
                        self._changed.notify_all()
        finally:
            with self._changed:
                if ws in self._connections:
                    self._connections.remove(ws)

    def wait_connected(self, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: bool(self._connections), timeout)

    def click(self, user: str, action_id: str, value: str, channel: str = "C0ALERTS",
              message_ts: str | None = None, api: Any = None) -> str:
        """A person pressed a button on a message; returns the envelope id. With `api` (the Web API stand-in),
        the click's trigger id is one it will accept for views.open."""
        envelope = f"env-{next(self._ids)}"
        trigger = f"{next(self._ids)}.trigger.{user}"
        if api is not None:
            api.triggers.add(trigger)
        payload: dict[str, Any] = {
            "type": "block_actions", "user": {"id": user, "username": user.lower()}, "trigger_id": trigger,
            "team": {"id": "T000TEST"}, "channel": {"id": channel},
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "actions": [{"action_id": action_id, "block_id": "aiops_decision", "type": "button", "value": value,
                         "action_ts": f"{time.time():.6f}"}],
        }
        return self._send(envelope, payload)

    def submit(self, user: str, view: dict[str, Any], values: dict[str, dict[str, str | None]]) -> str:
        """A person submitted a modal that was opened (`view` as views.open got it); `values` block -> action ->
        typed text. Returns the envelope id."""
        envelope = f"env-{next(self._ids)}"
        state = {block: {action: {"type": "plain_text_input", "value": text} for action, text in fields.items()}
                 for block, fields in values.items()}
        payload = {"type": "view_submission", "user": {"id": user, "username": user.lower()},
                   "team": {"id": "T000TEST"}, "view": {**view, "id": "V0001", "state": {"values": state}}}
        return self._send(envelope, payload)

    def _send(self, envelope: str, payload: dict[str, Any]) -> str:
        message = {"envelope_id": envelope, "type": "interactive", "accepts_response_payload": False,
                   "payload": payload}
        with self._changed:
            ws = self._connections[-1]
            self._sent[envelope] = time.monotonic()
        ws.send(json.dumps(message))
        return envelope

    def wait_ack(self, envelope: str, timeout: float = 5.0) -> float | None:
        with self._changed:
            self._changed.wait_for(lambda: envelope in self.acks, timeout)
            return self.acks.get(envelope)
