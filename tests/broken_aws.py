"""Broken AWS endpoints: real servers on 127.0.0.1 that fail the way a real endpoint does, for tests.

- `BrokenAws("500")`: every request is answered `500 Internal Server Error` (an HTML page, as a load
  balancer in front of a dead service sends);
- `BrokenAws("garbage")`: `200 OK` with bytes that are not XML or JSON;
- `BrokenAws("auth")`: `401` with EC2's `AuthFailure` error document, as AWS answers refused credentials;
- `BrokenAws("hang")`: accepts the connection, reads the request and never answers (until stopped).

`closed_port()` is a loopback port nothing listens on (the endpoint is down).

    with BrokenAws("hang") as aws:
        env["AWS_ENDPOINT_URL"] = aws.url
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AUTH_FAILURE = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>AuthFailure</Code>'
    "<Message>AWS was not able to validate the provided access credentials</Message></Error></Errors>"
    "<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
)


class BrokenAws:
    def __init__(self, mode: str):
        if mode not in {"500", "garbage", "auth", "hang"}:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.requests = 0
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> BrokenAws:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        broken = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                broken.requests += 1
                if broken.mode == "hang":
                    broken._release.wait()
                    return
                status, body, kind = {
                    "500": (500, "<html><body><h1>500 Internal Server Error</h1></body></html>", "text/html"),
                    "garbage": (200, "\x00\x01 this is not a response \xff{[<", "application/octet-stream"),
                    "auth": (401, AUTH_FAILURE, "text/xml"),
                }[broken.mode]
                data = body.encode("utf-8", "replace")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        return Handler


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
