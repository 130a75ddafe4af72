"""Tables that fit the terminal they are printed on.

A renderable here is built for the width rich hands it, so an 80-column terminal gets fewer
columns instead of ids wrapped mid-id and paths broken across lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.text import Text

NARROW = 100  # below this many columns, tables drop their least needed columns
WIDE = 130  # from this many columns on, tables may add columns a person rarely needs

STATE_STYLE = {
    "allowed": "green", "declined": "yellow", "refused": "red", "unconfirmed": "yellow", "error": "red",
    "attempted": "dim",
    "running": "green", "stopped": "red", "stopping": "yellow", "pending": "yellow",
    "shutting-down": "magenta", "terminated": "dim", "ALARM": "bold red", "OK": "green",
    "INSUFFICIENT_DATA": "yellow", "ok": "green", "impaired": "bold red",
}


def styled(value: Any) -> Text:
    text = "-" if value in (None, "") else str(value)
    return Text(text, style=STATE_STYLE.get(text, ""))


class ByWidth:
    """Calls `build(width)` when printed, with the width available then."""

    def __init__(self, build: Callable[[int], RenderableType]):
        self.build = build

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType]:
        yield self.build(options.max_width)


def short_path(path: str) -> str:
    """A file path as short as it can be read unambiguously: relative to here, else with ~ for home."""
    import os

    try:
        here = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    if not here.startswith(".."):
        return here
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home != "/" and path.startswith(home + os.sep) else path
