"""What a renderable looks like on a terminal of a given width, and the check that it fits there."""

from __future__ import annotations

import io

from rich.console import Console

BOX_START, BOX_END = "┏┃┡│└", "┓┃┩│┘"


def printed(renderable, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


def assert_fits(text: str, width: int) -> None:
    """Every table line ends in its own border: the console crops a line that runs past the edge,
    so a length check alone would pass a table cut in half."""
    for line in text.splitlines():
        assert len(line) <= width
        if line[:1] in BOX_START:
            assert line.rstrip()[-1] in BOX_END, line


def headers(text: str) -> set[str]:
    return {cell.strip() for line in text.splitlines() if line.startswith("┃") for cell in line.split("┃")} - {""}
