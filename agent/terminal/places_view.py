"""Where rows live, on screen: Region and Account columns when a result spans places, and its skips.

A result read from one account in one region looks as it always has. Rows from several places get
a Region column, and an Account column when more than one account is among them; the place a read
could not cover ("skipped prod/eu-west-1: AccessDenied ...") is one dim line under the table, so a
partial answer never passes for the whole estate.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.text import Text

REGION_WIDTH = len("ap-southeast-2")  # the longest common region code: the column never wraps one


@dataclass(frozen=True)
class PlaceColumns:
    region: bool = False
    account: bool = False

    @property
    def headers(self) -> list[str]:
        return (["Account"] if self.account else []) + (["Region"] if self.region else [])

    def cells(self, row: dict) -> list[str]:
        """Table cells (rich markup, so the values are escaped: they come from the server)."""
        return [escape(value) for value in self._values(row)]

    def _values(self, row: dict) -> list[str]:
        return ([str(row.get("account") or "-")] if self.account else []) + (
            [str(row.get("region") or "-")] if self.region else [])

    @property
    def shown(self) -> bool:
        return self.region or self.account

    def joined(self, row: dict) -> str:
        """Account and region in one cell ("prod/eu-west-1"), the form skips and incident keys use."""
        return "/".join(self._values(row))

    def under(self, cell: str | Text, row: dict) -> str | Text:
        """`cell` with the row's place as a dim second line: a narrow table's way to say where."""
        if not self.shown:
            return cell
        head = cell if isinstance(cell, Text) else Text.from_markup(cell)  # the cell as it would have shown
        return Text.assemble(head, "\n", (self.joined(row), "dim"))

    def width(self, rows: list[dict], joined: bool = False) -> int:
        """The columns' share of a line, separators included, for tables that budget their last column."""
        if not (self.region or self.account):
            return 0
        if joined:
            return max((len(self.joined(r)) for r in rows), default=REGION_WIDTH) + 3
        widths = [max((len(r.get("account") or "-") for r in rows), default=7)] if self.account else []
        widths += [max((len(r.get("region") or "-") for r in rows), default=REGION_WIDTH)] if self.region else []
        return sum(w + 3 for w in widths)


def place_columns(rows: list[dict]) -> PlaceColumns:
    """Region (and Account) columns only when the rows come from more than one place."""
    places = {(r.get("account"), r.get("region")) for r in rows if r.get("region") or r.get("account")}
    if len(places) < 2:
        return PlaceColumns()
    return PlaceColumns(region=True, account=len({account for account, _ in places}) > 1)


def with_skips(view: RenderableType, data: dict) -> RenderableType:
    """`view` with one dim line per place the read could not cover, under it."""
    skipped = [s for s in data.get("skipped") or [] if isinstance(s, dict)]
    if not skipped:
        return view
    lines = [Text(f"skipped {_where(s)}: {' '.join(str(s.get('reason') or 'not read').split())}", style="dim",
                  no_wrap=True, overflow="ellipsis") for s in skipped]
    return Group(view, *lines)


def _where(skip: dict) -> str:
    return "/".join(str(p) for p in (skip.get("account"), skip.get("region")) if p) or "one place"
