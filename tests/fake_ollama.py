"""A fake Ollama server: a real HTTP server on 127.0.0.1, for tests. No model behind it.

It speaks the parts of Ollama's API the agent uses, framed as Ollama frames them:

- `POST /api/chat` with `"stream": true` answers `application/x-ndjson`, chunked, one JSON
  object per line: content fragments with `"done": false`, tool calls as
  `message.tool_calls[].function.{name, arguments}` (arguments a JSON object), then a last
  line with `"done": true`, `"done_reason": "stop"` and the eval counters. With
  `"stream": false` it answers one JSON object.
- A model that is not in `models` gets `404 {"error": "model \\"x\\" not found, try pulling it first"}`,
  as a real server does for a model that was never pulled.
- `GET /api/tags` lists `models`; `GET /api/version` answers a version; `GET /` says
  "Ollama is running"; any other path is `404 page not found`.

Chat replies are scripted, oldest first; an empty script answers 500 so a test that forgot
to script a reply fails loudly:

    with FakeOllama() as ollama:
        ollama.script(Reply.tool_call("list_instances", {"state": "running"}))
        ...  # point the code under test at ollama.url
        assert ollama.chat_requests()[0]["tools"]

`received` records every request with its parsed JSON body.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_MODEL = "llama3.1:8b"
VERSION = "0.6.2"


@dataclass(frozen=True)
class Reply:
    """One scripted answer to POST /api/chat."""

    kind: str  # stream | raw | error
    content: str = ""
    tool_calls: tuple[dict[str, Any], ...] = ()
    lines: tuple[str, ...] = ()  # for kind="raw": NDJSON lines sent as they are
    status: int = 200
    error: str = ""
    delay: float = 0.0  # seconds before the status line: a model still loading or thinking

    @classmethod
    def tool_call(cls, name: str, arguments: dict[str, Any] | None = None, *, delay: float = 0.0) -> Reply:
        return cls.calls([(name, arguments or {})], delay=delay)

    @classmethod
    def calls(cls, calls: list[tuple[str, dict[str, Any]]], *, delay: float = 0.0) -> Reply:
        """Several calls in one turn, each `(name, arguments)`."""
        made = tuple({"id": f"call_{i}", "function": {"index": i, "name": n, "arguments": a}}
                     for i, (n, a) in enumerate(calls))
        return cls("stream", tool_calls=made, delay=delay)

    @classmethod
    def text(cls, content: str, *, delay: float = 0.0) -> Reply:
        """The model answers in words (streamed a few characters per line, like tokens)."""
        return cls("stream", content=content, delay=delay)

    @classmethod
    def malformed(cls) -> Reply:
        """A stream line that is not JSON (a truncated object), after one good line."""
        first = _line({"message": {"role": "assistant", "content": ""}, "done": False})
        return cls("raw", lines=(first, '{"model":"llama3.1:8b","message":{"role":"assistant","tool_ca'))

    @classmethod
    def raw(cls, *lines: str) -> Reply:
        """Stream these lines verbatim: for framing a real Ollama would never send."""
        return cls("raw", lines=lines)

    @classmethod
    def stream_error(cls, message: str) -> Reply:
        """An error reported inside a 200 stream, as Ollama does when the runner fails mid-answer."""
        return cls("raw", lines=(json.dumps({"error": message}),))

    @classmethod
    def http_error(cls, status: int, message: str, *, delay: float = 0.0) -> Reply:
        return cls("error", status=status, error=message, delay=delay)

    @classmethod
    def model_not_found(cls, model: str = DEFAULT_MODEL) -> Reply:
        return cls.http_error(404, f'model "{model}" not found, try pulling it first')

    @classmethod
    def server_error(cls, message: str = "llama runner process has terminated: exit status 2") -> Reply:
        return cls.http_error(500, message)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    json: Any  # None when the body was empty or not JSON
    at: float = field(default_factory=time.monotonic)


class FakeOllama:
    """A scripted Ollama on an ephemeral loopback port."""

    def __init__(self, models: list[str] | None = None) -> None:
        self.models = list(models) if models is not None else [DEFAULT_MODEL]
        self._script: deque[Reply] = deque()
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()  # wakes handlers sleeping through a scripted delay
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> FakeOllama:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-ollama", daemon=True).start()
        return self

    def stop(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def chat_requests(self) -> list[dict[str, Any]]:
        """JSON bodies of every POST /api/chat, oldest first."""
        return [r.json for r in self.received if r.path == "/api/chat" and isinstance(r.json, dict)]

    def _record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)

    def _next_chat_reply(self, body: Any) -> Reply:
        model = body.get("model") if isinstance(body, dict) else None
        if not model:
            return Reply.http_error(400, "model is required")
        # Ollama resolves an untagged name to ":latest" before looking it up.
        if model not in self.models and f"{model}:latest" not in self.models:
            return Reply.model_not_found(model)
        with self._lock:
            if self._script:
                return self._script.popleft()
        return Reply.http_error(500, "fake ollama: no reply scripted")

    def _sleep(self, seconds: float) -> bool:
        """Wait out a scripted delay; False when the server is closing meanwhile."""
        return not self._closing.wait(seconds)


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def chat_lines(model: str, reply: Reply) -> list[str]:
    """The NDJSON lines a real Ollama streams for this reply: fragments, then the done line."""
    if reply.kind == "raw":
        return list(reply.lines)
    head = {"model": model, "created_at": _now()}
    lines = []
    for start in range(0, len(reply.content), 8):
        fragment = reply.content[start:start + 8]
        lines.append(_line({**head, "message": {"role": "assistant", "content": fragment}, "done": False}))
    if reply.tool_calls:
        message = {"role": "assistant", "content": "", "tool_calls": list(reply.tool_calls)}
        lines.append(_line({**head, "message": message, "done": False}))
    lines.append(_line({
        **head, "message": {"role": "assistant", "content": ""}, "done_reason": "stop", "done": True,
        "total_duration": 912_000_000, "load_duration": 21_000_000, "prompt_eval_count": 812,
        "prompt_eval_duration": 402_000_000, "eval_count": 24, "eval_duration": 480_000_000,
    }))
    return lines


def _one_response(model: str, reply: Reply) -> dict[str, Any]:
    """The same reply for `"stream": false`: one object with the whole message."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = list(reply.tool_calls)
    return {"model": model, "created_at": _now(), "message": message, "done_reason": "stop", "done": True,
            "prompt_eval_count": 812, "eval_count": 24}


def _handler_for(fake: FakeOllama) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive and chunked streaming, as Go's net/http serves them
        disable_nagle_algorithm = True  # Go sets TCP_NODELAY too; without it each streamed line waits ~40 ms

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            fake._record(Received("GET", self.path, dict(self.headers.items()), None))
            if self.path == "/api/tags":
                self._json(200, {"models": [_tag(name) for name in fake.models]})
            elif self.path == "/api/version":
                self._json(200, {"version": VERSION})
            elif self.path == "/":
                self._send(200, b"Ollama is running", "text/plain; charset=utf-8")
            else:
                self._send(404, b"404 page not found", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = None
            fake._record(Received("POST", self.path, dict(self.headers.items()), body))
            if self.path != "/api/chat":
                self._send(404, b"404 page not found", "text/plain")
                return
            reply = fake._next_chat_reply(body)
            if reply.delay and not fake._sleep(reply.delay):
                return
            # The client may have given up (its timeout): then there is nothing left to tell it.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._answer_chat(body, reply)

        def _answer_chat(self, body: dict[str, Any], reply: Reply) -> None:
            if reply.kind == "error":
                self._json(reply.status, {"error": reply.error})
                return
            if body.get("stream") is False and reply.kind == "stream":
                self._json(200, _one_response(body["model"], reply))
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for line in chat_lines(body["model"], reply):
                data = (line + "\n").encode("utf-8")
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

        def _json(self, status: int, obj: Any) -> None:
            self._send(status, json.dumps(obj).encode("utf-8"), "application/json; charset=utf-8")

        def _send(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keeps test output clean
            pass

    return Handler


def _tag(name: str) -> dict[str, Any]:
    """One /api/tags entry shaped like a real pulled model's."""
    return {
        "name": name, "model": name, "modified_at": "2025-01-20T10:31:07.412Z", "size": 4_920_753_328,
        "digest": "46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e",
        "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                    "parameter_size": "8.0B", "quantization_level": "Q4_K_M"},
    }
