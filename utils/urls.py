"""Endpoints as people may see them: credentials embedded in a URL (`http://KEY:SECRET@host`) never shown.

One helper for every place an endpoint reaches a person or a log: error messages, the REPL
banner, the Ollama planner's notes.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# scheme://userinfo@ — greedy up to the URL's last '@': an AWS secret key may itself hold '/' or '@'-free
# runs that a URL parser would read as a path, and hiding a little too much is the safe mistake.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s\"'<>]*@")


def redact(text: str) -> str:
    """`text` (an exception's message, say) with the userinfo of every URL in it removed."""
    return _USERINFO.sub(r"\g<scheme>", text)


def public_url(url: str | None) -> str:
    """`url` without userinfo, query or fragment (where tokens also hide): safe to show and log."""
    if not url:
        return ""
    cleaned = redact(url)
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return cleaned
    if not parts.scheme or not parts.netloc:
        return cleaned
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
