"""`main.py sop add | list | search | remove`: the command-line face of the SOP store.

Each command returns an exit code. With --json, stdout carries exactly one JSON document
(or one per line for batch search) and nothing else; failures are one line on stderr,
never a traceback. Heavy imports (the store pulls in Chroma and the model) happen inside
the commands so that `main.py --help` stays instant.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, TextIO


def _fail(message: str) -> int:
    print(f"sop: {message}", file=sys.stderr)
    return 1


def _guarded(command: Callable[..., int]) -> Callable[..., int]:
    """Turn store errors, and anything unforeseen, into one line on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> int:
        from sop.store import SopError

        try:
            return command(*args, **kwargs)
        except SopError as exc:
            return _fail(str(exc))
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            # The reader (`| head`) went away: stop quietly, and keep Python's exit-time flush quiet.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except Exception as exc:  # the contract is "never a traceback"; say what broke instead
            lines = str(exc).splitlines()
            return _fail(f"unexpected {type(exc).__name__}: {lines[0] if lines else ''}")

    return wrapper


def _console() -> Any:
    from rich.console import Console

    # Piped output keeps whole paths and ids instead of rich's 80-column default.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def _print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@_guarded
def cmd_add(home: Path, paths: list[str], json_out: bool, known_tools: Collection[str] | None = None) -> int:
    """Index Markdown files or folders; non-zero if any path failed (the rest is still indexed)."""
    from sop.store import SopStore

    if not paths:
        return _fail("sop add needs at least one file or folder")
    report = SopStore(home, known_tools=known_tools).add(list(paths))
    for outcome in report.files:
        if outcome.status == "failed":
            print(f"sop: {outcome.path}: {outcome.reason}", file=sys.stderr)
    if json_out:
        _print_json(report.model_dump())
    else:
        _print_add_report(report)
    return 0 if report.ok else 1


def _print_add_report(report: Any) -> None:
    from rich.table import Table

    table = Table("status", "id", "title", "chunks", "path / reason", box=None, pad_edge=False)
    for f in report.files:
        if f.status in ("failed", "unchanged"):
            continue  # failures are already on stderr; unchanged files are only counted
        detail = f.reason if f.status == "skipped" else f.path
        table.add_row(f.status, f.id or "", f.title or "", str(f.chunks or ""), detail)
    console = _console()
    if table.rows:
        console.print(table)
    console.print(
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"skipped {report.skipped}, failed {report.failed}"
    )


@_guarded
def cmd_list(home: Path, json_out: bool) -> int:
    """Every stored SOP document, one row each."""
    from sop.store import SopStore

    documents = SopStore(home).list_documents()
    if json_out:
        _print_json([d.model_dump() for d in documents])
        return 0
    from rich.table import Table

    table = Table("id", "title", "chunks", "alarms", "source", box=None, pad_edge=False)
    for d in documents:
        table.add_row(d.id, d.title, str(d.chunks), ", ".join(d.alarms[:3]), d.source)
    console = _console()
    console.print(table)
    console.print(f"{len(documents)} documents")
    return 0


@_guarded
def cmd_search(home: Path, query: str, k: int, json_out: bool) -> int:
    """Best SOPs for an alert text; query "-" reads one query per line from stdin."""
    from sop.store import SopStore

    store = SopStore(home)
    if query != "-":
        hits = store.search(query, k)
        if json_out:
            _print_json(_search_document(query, hits))
        else:
            _print_hits(query, hits)
        return 0
    return _search_batch(store, sys.stdin, k, json_out)


def _search_batch(store: Any, lines: TextIO, k: int, json_out: bool) -> int:
    from sop.store import SopError

    status = 0
    for line in lines:
        query = line.strip()
        if not query:
            continue
        try:
            hits = store.search(query, k)
        except SopError as exc:
            # One output line per query keeps answers aligned with the questions.
            status = _fail(str(exc))
            if json_out:
                shown = query if len(query) <= 200 else query[:200] + "…"
                _print_json({"query": shown, "results": [], "error": str(exc)})
            continue
        if json_out:
            _print_json(_search_document(query, hits))
        else:
            _print_hits(query, hits)
    return status


def _search_document(query: str, hits: list[Any]) -> dict[str, Any]:
    # Key order is the contract (docs/architecture.md, "JSON on stdout"): the five keys first, extras after.
    keys = ("id", "source", "title", "score", "excerpt", "section", "alarms", "recovery", "weak")
    return {"query": query, "results": [{key: getattr(h, key) for key in keys} for h in hits]}


def _print_hits(query: str, hits: list[Any]) -> None:
    from rich.table import Table

    console = _console()
    if not hits:
        console.print(f"no SOPs match: {query}")
        return
    table = Table("#", "score", "SOP", "id", title=f"SOPs for: {query}", box=None, pad_edge=False)
    for rank, h in enumerate(hits, 1):
        action = f"\n[bold]proposes[/] {h.recovery['tool']}" if h.recovery else ""
        body = f"[bold]{_escape(h.title)}[/]\n[dim]{_escape(h.section)}[/]\n{_escape(h.excerpt)}{action}"
        table.add_row(str(rank), f"{h.score:.3f}" + ("\n[yellow]weak[/]" if h.weak else ""), body, h.id)
    console.print(table)
    if hits[0].weak:
        from sop.ranking import weak_note

        console.print(f"[yellow]{_escape(weak_note(hits[0].score))}[/]")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@_guarded
def cmd_remove(home: Path, doc_id: str) -> int:
    """Delete one document by id or path."""
    from sop.store import SopStore

    document = SopStore(home).remove(doc_id)
    print(f"removed {document.id} {document.source}")
    return 0


def add_parser(sub: Any, parents: list[Any], parser_class: Any) -> None:
    """The `sop` command tree, for main.py's parser (the app has one command line)."""
    sop = sub.add_parser("sop", parents=parents, help="manage the SOP knowledge base")
    sop_sub = sop.add_subparsers(dest="sop_command", required=True, parser_class=parser_class)
    sop_add = sop_sub.add_parser("add", help="add markdown files or folders")
    sop_add.add_argument("paths", nargs="+")
    sop_add.add_argument("--json", action="store_true")
    sop_list = sop_sub.add_parser("list", help="list stored SOPs")
    sop_list.add_argument("--json", action="store_true")
    sop_search = sop_sub.add_parser("search", help="search SOPs ('-' reads one query per line)")
    sop_search.add_argument("query")
    sop_search.add_argument("--k", type=int, default=5)
    sop_search.add_argument("--json", action="store_true")
    sop_remove = sop_sub.add_parser("remove", help="remove a SOP by id or path")
    sop_remove.add_argument("id")


def run(args: Any, home: Path, known_tools: Callable[[], Collection[str]]) -> int:
    """Dispatch a parsed `sop ...` command. `known_tools` is asked only by `add` (recoveries are checked)."""
    if args.sop_command == "add":
        return cmd_add(home, args.paths, args.json, known_tools())
    if args.sop_command == "list":
        return cmd_list(home, args.json)
    if args.sop_command == "search":
        return cmd_search(home, args.query, args.k, args.json)
    return cmd_remove(home, args.id)
