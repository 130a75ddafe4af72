"""OLLAMA_HOST as Ollama reads it, and a cheap look at whether anything listens there.

Apart from planner.py so that a command can learn "no Ollama here" without importing httpx and the
model stack (~0.3 s), which only a reachable Ollama needs.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

DEFAULT_PORT = 11434
# A refused port answers at once; a slow accept is left to the real probe and its longer timeout.
LISTEN_CHECK_SECONDS = 0.3


def normalize_host(host: str | None) -> str:
    """OLLAMA_HOST as Ollama reads it: scheme-less means http and port 11434."""
    host = (host or "").strip().rstrip("/") or f"http://localhost:{DEFAULT_PORT}"
    if "://" not in host:
        parts = urlsplit(f"http://{host}")
        host = f"http://{host}" if parts.port else f"http://{parts.netloc}:{DEFAULT_PORT}{parts.path}"
    return host


async def nothing_listens(host: str | None) -> bool:
    """True only when OLLAMA_HOST is a plain http(s) host:port that refuses a TCP connect.

    Anything unusual (a path, credentials, an odd scheme, a malformed value) answers False and is
    left to the real probe, which has a message for each.
    """
    try:
        parts = urlsplit(normalize_host(host))
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.path.strip("/"):
            return False
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, port), LISTEN_CHECK_SECONDS)
    except TimeoutError:  # maybe a slow network, maybe nothing: the real probe decides
        return False
    except OSError:  # refused, unreachable, no such host
        return True
    writer.close()
    return False
