"""A fake Slack incoming webhook: a real HTTP server on 127.0.0.1, for tests.

It speaks the incoming-webhook protocol: a POST of a JSON body is answered
`200 ok`, or with the error Slack would send. Replies are scripted: `script()`
queues replies that are used one per request, oldest first; when the queue is
empty the `default` reply answers. A POST to any other path than the
webhook's gets `404 no_service`, as a revoked URL does.

    with FakeSlackWebhook() as slack:
        slack.script(Reply.rate_limited(1), Reply.ok())
        notifier = SlackNotifier(tmp_path, slack.url)
        notifier.notify(alert)
        assert slack.texts() == [...]

    slack.always(Reply.server_error())     # Slack is down until told otherwise
    slack.always(Reply.ok(delay=0.1))      # slow but healthy

`received` records every request (with the status it was answered);
`delivered` only the JSON bodies that were answered 2xx, which is what a
channel would show. The code under test talks real HTTP through the real
slack_sdk client: nothing is patched.

Test modules import the fixtures below: `slack`, and `no_proxy`, which is
autouse wherever it is imported (pytest finds them by their `name=`):

    from tests.notify.slack_server import no_proxy_fixture, slack_fixture  # noqa: F401 - fixtures
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

DEFAULT_PATH = "/services/T0FAKE000/B0FAKE000/FakeWebhookSecret0123456789"


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: str = "ok"
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "text/plain; charset=utf-8"
    delay: float = 0.0  # seconds to wait before answering
    hold: threading.Event | None = None  # answer only once this is set (at most two minutes)

    @classmethod
    def ok(cls, *, delay: float = 0.0) -> Reply:
        return cls(delay=delay)

    @classmethod
    def error(cls, status: int, body: str) -> Reply:
        """A Slack error, e.g. error(404, "no_service"), error(410, "channel_is_archived")."""
        return cls(status=status, body=body)

    @classmethod
    def rate_limited(cls, retry_after: float = 1) -> Reply:
        return cls(status=429, body="rate_limited", headers=(("Retry-After", f"{retry_after:g}"),))

    @classmethod
    def server_error(cls, status: int = 500, body: str = "internal_error") -> Reply:
        return cls(status=status, body=body)

    @classmethod
    def html(cls, status: int = 502) -> Reply:
        """What a proxy or load balancer in front of Slack sends: a page, not Slack's plain word."""
        page = (
            f"<!DOCTYPE html><html><head><title>{status} Bad Gateway</title></head><body>nginx</body></html>"
        )
        return cls(status=status, body=page, content_type="text/html; charset=utf-8")


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    raw: bytes
    json: dict[str, Any] | None  # None when the body was not JSON
    status: int  # what the server answered
    at: float  # time.monotonic() when the request arrived


class FakeSlackWebhook:
    """A scripted incoming-webhook endpoint on an ephemeral loopback port."""

    def __init__(self, default: Reply | None = None, *, path: str = DEFAULT_PATH) -> None:
        self.path = path
        self._default = default or Reply.ok()
        self._script: deque[Reply] = deque()
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._arrived = 0
        self.port = 0  # ephemeral; a fixed one for a by-hand run (tests/notify/run_stand_ins.py)
        # Called as on_request(n, phase) for the n-th POST (1-based): phase "arrived" before it is
        # answered (Slack has it, the sender does not know yet), "answered" once the reply is out.
        self.on_request: Callable[[int, str], None] | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> FakeSlackWebhook:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlackWebhook:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The webhook URL to configure; its path plays the part of the secret."""
        return self.base_url + self.path

    # -- scripting --------------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queue replies, used one per request before the default answers again."""
        with self._lock:
            self._script.extend(replies)

    def always(self, reply: Reply) -> None:
        """Answer every request with `reply` from now on (drops what was scripted)."""
        with self._lock:
            self._script.clear()
            self._default = reply

    # -- what was received ------------------------------------------------------------------------

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """JSON bodies answered 2xx: what the channel shows, in order."""
        return [r.json for r in self.received if 200 <= r.status < 300 and r.json is not None]

    def texts(self) -> list[str]:
        return [body.get("text", "") for body in self.delivered]

    def wait_for(self, delivered: int, timeout: float = 5.0) -> bool:
        """Block until at least `delivered` messages were accepted; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while sum(200 <= r.status < 300 for r in self._received) < delivered:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    # -- request handling -------------------------------------------------------------------------

    def _arrival(self) -> int:
        with self._lock:
            self._arrived += 1
            return self._arrived

    def _next_reply(self, path: str, raw: bytes) -> tuple[Reply, dict[str, Any] | None]:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        if path != self.path:
            return Reply.error(404, "no_service"), body
        with self._lock:
            reply = self._script.popleft() if self._script else self._default
        # The payload is checked only when the reply would otherwise accept it.
        if 200 <= reply.status < 300:
            problem = self.reject(body)
            if problem is not None:
                return problem, body if isinstance(body, dict) else None
        return reply, body if isinstance(body, dict) else None

    def reject(self, body: Any) -> Reply | None:
        """What the real service says to a payload it cannot take (Slack's words); None: accepted."""
        if not isinstance(body, dict):
            return Reply.error(400, "invalid_payload")
        if not body.get("text") and not body.get("blocks") and not body.get("attachments"):
            return Reply.error(400, "no_text")
        return None

    def _record(self, received: Received) -> None:
        with self._changed:
            self._received.append(received)
            self._changed.notify_all()


def _handler_for(fake: FakeSlackWebhook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            arrived = time.monotonic()
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            number = fake._arrival()
            reply, body = fake._next_reply(self.path, raw)
            if fake.on_request is not None:
                fake.on_request(number, "arrived")
            if reply.delay:
                time.sleep(reply.delay)
            if reply.hold is not None:
                reply.hold.wait(120)
            # Record before answering: a client that has its answer must find the request recorded.
            fake._record(Received(self.path, dict(self.headers.items()), raw, body, reply.status, arrived))
            payload = reply.body.encode("utf-8")
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
            except OSError:  # the sender died waiting (a test killed it): Slack still has the message
                return
            if fake.on_request is not None:
                fake.on_request(number, "answered")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keeps test output clean
            pass

    return Handler


# -- fixtures ---------------------------------------------------------------------------------------

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


@pytest.fixture(autouse=True, name="no_proxy")
def no_proxy_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk sends everything through HTTP(S)_PROXY when set, loopback included."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(name="slack")
def slack_fixture() -> Iterator[FakeSlackWebhook]:
    """A fake Slack webhook answering `200 ok` until scripted otherwise."""
    with FakeSlackWebhook() as server:
        yield server

