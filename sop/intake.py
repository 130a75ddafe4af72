"""What a SOP file becomes before anything is embedded: its parse, or the one-line reason it cannot be."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from sop.files import doc_id_for, expand, read_sop
from sop.markdown import FrontMatterError, ParsedSop, parse_sop
from sop.models import FileOutcome

# Bump when chunking changes: it salts every content hash, so re-adding re-indexes.
CHUNKER_VERSION = "chunker-1"


def parse_or_failure(path: Path, loaded: Any, known_tools: Collection[str] | None) -> ParsedSop | FileOutcome:
    """The parsed SOP, or a failed outcome (broken front matter, a recovery the server does not offer)."""
    try:
        return parse_sop(loaded.text, fallback_title=path.stem, known_tools=known_tools)
    except FrontMatterError as exc:
        return FileOutcome(path=str(path), status="failed", id=doc_id_for(path), reason=f"broken front matter: {exc}")


def refusal_before_indexing(paths: list[str | Path], known_tools: Collection[str] | None) -> list[FileOutcome] | None:
    """Every file's failure when none of them could ever be indexed (missing, unreadable, broken), else None."""
    failures: list[FileOutcome] = []
    for candidate in expand(paths):
        if candidate.path is None:
            failures.append(FileOutcome(path=candidate.shown, status="failed", reason=candidate.reason))
            continue
        loaded = read_sop(candidate.path, CHUNKER_VERSION)
        parsed = loaded if isinstance(loaded, str) else parse_or_failure(candidate.path, loaded, known_tools)
        if isinstance(parsed, str):
            failures.append(FileOutcome(path=str(candidate.path), status="failed", reason=parsed))
        elif isinstance(parsed, FileOutcome):
            failures.append(parsed)
        else:
            return None  # at least one file may be indexed: the store reports every file
    return failures or None
