"""Finding and reading SOP files: every failure is a one-line reason, never an exception."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

MARKDOWN_SUFFIXES = (".md", ".markdown")
# A real SOP is a few KB; a multi-megabyte "Markdown" file is a log or an export
# that would flood the index with noise (and take minutes to embed).
MAX_FILE_BYTES = 1_000_000


@dataclass
class Candidate:
    """One path to ingest: a resolved file, or the reason it cannot be."""

    shown: str  # the path as the user gave it (or as found under their folder)
    path: Path | None
    reason: str | None = None


@dataclass
class SopText:
    text: str
    content_hash: str


def doc_id_for(path: Path) -> str:
    """Stable id: 12 hex chars of the sha256 of the resolved path."""
    return hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:12]


def expand(paths: list[str | Path]) -> list[Candidate]:
    """Files and folders (recursive) into Markdown candidates, de-duplicated, order kept."""
    seen: set[Path] = set()
    found: list[Candidate] = []
    for raw in paths:
        for candidate in _expand_one(raw):
            if candidate.path is not None:
                if candidate.path in seen:
                    continue
                seen.add(candidate.path)
            found.append(candidate)
    return found


def _expand_one(raw: str | Path) -> list[Candidate]:
    shown = str(raw)
    path = Path(raw).expanduser()
    try:
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.suffix.lower() in MARKDOWN_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not files:
                return [Candidate(shown, None, f"no Markdown files (*.md, *.markdown) in {shown}")]
            return [Candidate(str(p), p.resolve()) for p in files]
        if path.is_file():
            if path.suffix.lower() not in MARKDOWN_SUFFIXES:
                return [Candidate(shown, None, "not a Markdown file (expected .md or .markdown)")]
            return [Candidate(shown, path.resolve())]
        if path.exists():
            return [Candidate(shown, None, "not a regular file or folder")]
    except OSError as exc:
        return [Candidate(shown, None, f"cannot read: {exc.strerror or exc}")]
    return [Candidate(shown, None, "no such file or folder")]


def read_sop(path: Path, salt: str) -> SopText | str:
    """The file's text and content hash, or a one-line reason it cannot be used.

    `salt` goes into the hash so that a change in how files are chunked re-indexes them.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return f"too large ({size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB)"
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if b"\x00" in data[:8192]:
        return "binary file, not Markdown text"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
    digest = hashlib.sha256(salt.encode("utf-8") + b"\0" + data).hexdigest()[:16]
    return SopText(text=text.replace("\r\n", "\n"), content_hash=digest)


def fingerprint(paths: list[Path]) -> str:
    """One hash over paths and contents: tells whether a folder of SOPs changed or moved."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path).encode("utf-8") + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()[:16]
