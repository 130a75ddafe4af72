"""Process-wide logging: one line per record on stderr, a traceback only with AIOPS_DEBUG=1.

Installed before the MCP server is built: the SDK's `configure_logging` calls `logging.basicConfig`,
which does nothing once the root logger has a handler, so the SDK's rich, many-line tracebacks
never reach a person. In-process (every command but `mcp`), the server's own reports of tool and
resource failures are silenced too: the client already reports each failure, in one line.
"""

from __future__ import annotations

import logging
import os
import sys

from utils.urls import redact

# The SDK's server-side loggers (mcp.server.mcpserver.server: "Tool 'x' raised an unexpected exception").
SERVER_LOGGER = "mcp.server"


def debug_enabled() -> bool:
    return os.environ.get("AIOPS_DEBUG", "").strip().lower() not in {"", "0", "false", "no"}


class OneLineFormatter(logging.Formatter):
    """`warning: message (ValueError: why)`; with `debug` the traceback follows, as logging prints it."""

    def __init__(self, debug: bool):
        super().__init__()
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        line = f"{record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line += f" ({type(exc).__name__}: {exc})"
        line = redact(" ".join(line.split()))
        if self.debug and record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(*, in_process_server: bool = True) -> None:
    """Route every logger through one stderr handler. Call once, first thing in a command."""
    debug = debug_enabled()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_aiops", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._aiops = True  # type: ignore[attr-defined]
    handler.setFormatter(OneLineFormatter(debug))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    quiet = in_process_server and not debug
    logging.getLogger(SERVER_LOGGER).setLevel(logging.CRITICAL + 1 if quiet else logging.NOTSET)
