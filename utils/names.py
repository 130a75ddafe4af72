"""The one rule for matching instance names, shared by the server's resolver and the client.

Case, spaces, dashes, dots and underscores do not count: "Web Server_1", "web-server-1" and
"WEB.SERVER.1" are one name. The server resolves exact, then by this key, then by a unique
prefix of it; the client uses the same key to show which instance a planned call names.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s_\-.]+")


def name_key(name: str) -> str:
    return _SEPARATORS.sub("", name.casefold())
