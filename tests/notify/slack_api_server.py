"""A Slack Web API stand-in on loopback: chat.postMessage, chat.update, chat.postEphemeral, views.open (a
trigger id once) and apps.connections.open (for Socket Mode), as slack_sdk's WebClient calls them.

It keeps a channel's messages with their threads and edits, answers Slack's own errors
(`invalid_auth`, `channel_not_found`, `ratelimited` with Retry-After), and can be scripted to fail
the next calls. Point `SLACK_API_URL` (or the notifier's `api_url`) at `server.url`.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "xoxb-0000000000-test-bot-token-secret"
APP_TOKEN = "xapp-1-A000000-test-app-token-secret"


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    thread_ts: str | None = None
    blocks: list | None = None
    attachments: list | None = None
    broadcast: bool = False
    edits: list[dict[str, Any]] = field(default_factory=list)


class FakeSlackApi:
    def __init__(self, channels: tuple[str, ...] = ("C0ALERTS", "C0TIER0"), port: int = 0) -> None:
        self.port = port
        self.channels = set(channels)
        self.messages: list[Message] = []
        self.calls: list[str] = []
        self.ephemeral: list[dict[str, Any]] = []  # chat.postEphemeral bodies: what one person was told
        self.views: list[dict[str, Any]] = []  # views.open bodies: the modals opened (each with its trigger_id)
        self.triggers: set[str] = set()  # trigger ids a click handed out (the socket stand-in adds them)
        self.socket_url: str | None = None  # what apps.connections.open hands out (a Socket Mode stand-in)
        self._failures: deque[tuple[str, int, str, dict[str, str]]] = deque()
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeSlackApi:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def fail_next(self, method: str, status: int, error: str, **headers: str) -> None:
        with self._lock:
            self._failures.append((method, status, error, headers))

    def top_level(self, channel: str | None = None) -> list[Message]:
        return [m for m in self.messages if m.thread_ts is None and (channel is None or m.channel == channel)]

    def thread(self, ts: str) -> list[Message]:
        return [m for m in self.messages if m.thread_ts == ts]

    # -- the API ----------------------------------------------------------------------------------

    def answer(self, method: str, auth: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.calls.append(method)
            if self._failures and self._failures[0][0] == method:
                _, status, error, headers = self._failures.popleft()
                return status, {"ok": False, "error": error}, headers
            if method == "apps.connections.open":
                if auth != f"Bearer {APP_TOKEN}":
                    return 200, {"ok": False, "error": "invalid_auth"}, {}
                return 200, {"ok": True, "url": self.socket_url}, {}
            if auth != f"Bearer {TOKEN}":
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            if method == "views.open":  # Slack accepts a trigger once, from a real click
                trigger = body.get("trigger_id")
                if trigger not in self.triggers:
                    return 200, {"ok": False, "error": "invalid_trigger_id" if trigger else "missing_trigger_id"}, {}
                self.triggers.discard(trigger)
                view = body.get("view") if isinstance(body.get("view"), dict) else json.loads(body.get("view") or "{}")
                self.views.append({"trigger_id": trigger, "view": view})
                return 200, {"ok": True, "view": {"id": f"V{len(self.views):04d}", **view}}, {}
            if method == "chat.postEphemeral":
                self.ephemeral.append(body)
                return 200, {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}, {}
            channel = body.get("channel")
            if channel not in self.channels:
                return 200, {"ok": False, "error": "channel_not_found"}, {}
            if not body.get("text") and not body.get("blocks"):
                return 200, {"ok": False, "error": "no_text"}, {}
            if method == "chat.postMessage":
                thread = body.get("thread_ts")
                if thread is not None and not any(m.ts == thread and m.channel == channel for m in self.messages):
                    return 200, {"ok": False, "error": "thread_not_found"}, {}
                ts = f"1700000000.{next(self._ts):06d}"
                self.messages.append(Message(channel, ts, body.get("text", ""), thread, body.get("blocks"),
                                             body.get("attachments"), bool(body.get("reply_broadcast"))))
                return 200, {"ok": True, "channel": channel, "ts": ts, "message": {"text": body.get("text")}}, {}
            if method == "chat.update":
                found = [m for m in self.messages if m.ts == body.get("ts") and m.channel == channel]
                if not found:
                    return 200, {"ok": False, "error": "message_not_found"}, {}
                found[0].edits.append(body)
                return 200, {"ok": True, "channel": channel, "ts": body["ts"], "text": body.get("text")}, {}
            return 200, {"ok": False, "error": "unknown_method"}, {}


def _handler(api: FakeSlackApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            method = self.path.rsplit("/", 1)[-1]
            status, doc, headers = api.answer(method, self.headers.get("Authorization", ""), body)
            payload = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler
