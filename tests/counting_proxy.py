"""A loopback HTTP proxy in front of moto that counts the AWS actions passing through it.

Point AWS_ENDPOINT_URL at `proxy.url` and read `proxy.actions` afterwards: what the code under test
really sent over the wire, not what a patched client says it sent.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class CountingProxy:
    def __init__(self, target: str):
        self.target = urlsplit(target)
        self.actions: Counter[str] = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                pass

            def do_POST(self):
                self._forward()

            def do_GET(self):
                self._forward()

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.count(self.headers.get("X-Amz-Target"), body)
                upstream = http.client.HTTPConnection(proxy.target.hostname, proxy.target.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def count(self, amz_target: str | None, body: bytes) -> None:
        if amz_target:  # JSON protocols (CloudWatch Logs, Cost Explorer) name the action in a header
            action = amz_target.rsplit(".", 1)[-1]
        else:  # query protocols (EC2, CloudWatch) in the form body
            action = (parse_qs(body.decode("utf-8", "replace")).get("Action") or ["?"])[0]
        with self._lock:
            self.actions[action] += 1

    def __enter__(self) -> CountingProxy:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()
