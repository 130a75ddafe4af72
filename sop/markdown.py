"""Markdown SOPs into chunks: optional YAML front matter, then one chunk per heading section.

Every chunk keeps its section path ("Title > Section > Subsection") because a
paragraph like "Restart the service" means nothing without the heading above it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import yaml

# What a recovery's tool must look like; whether the tool exists is the live catalog's to say.
_TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# ~200 tokens of prose: under the model's 256-token window, so no chunk is truncated unseen.
MAX_CHUNK_CHARS = 900
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


class FrontMatterError(ValueError):
    """The YAML front matter cannot be used; the message says where and why."""


@dataclass
class Chunk:
    section: str  # "Title > Section > Subsection"
    text: str  # the section body, without its heading

    def embedding_text(self) -> str:
        return f"{self.section}\n{self.text}"


@dataclass
class ParsedSop:
    title: str
    tags: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    recovery: dict[str, Any] | None = None
    headings: list[str] = field(default_factory=list)  # every heading text, for lexical matching
    chunks: list[Chunk] = field(default_factory=list)


def parse_sop(text: str, fallback_title: str, known_tools: Collection[str] | None = None) -> ParsedSop:
    """Parse one Markdown document; raises FrontMatterError for unusable front matter.

    `known_tools`: the tool catalog's names (from the MCP server); a recovery naming another tool
    could never be proposed, so it is refused here. None checks only that it looks like a tool name.
    """
    meta, body = split_front_matter(text)
    sections = _sections(body)
    headings = [path[-1] for path, _, _ in sections if path]
    first_h1 = next((path[-1] for path, level, _ in sections if level == 1), None)
    title = _clean(str(meta.get("title") or "")) or first_h1 or fallback_title
    doc = ParsedSop(
        title=title,
        tags=_string_list(meta, "tags"),
        alarms=_string_list(meta, "alarms"),
        recovery=_recovery(meta.get("recovery"), known_tools),
        headings=headings,
    )
    for path, _, lines in sections:
        names = [p for p in path if p]
        # The first H1 usually repeats the title (or is the alert name the title spells out).
        if names and _squash(names[0]) == _squash(title):
            names = names[1:]
        section = " > ".join([title, *names])
        for piece in _split_long("\n".join(lines).strip()):
            doc.chunks.append(Chunk(section=section, text=piece))
    return doc


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Return (front matter mapping, body). No front matter is an empty mapping."""
    text = text.lstrip("\ufeff")
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            break
    else:
        raise FrontMatterError("front matter opened with '---' on line 1 is never closed")
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise FrontMatterError(f"front matter is not valid YAML{where}: {problem}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise FrontMatterError("front matter must be a YAML mapping (key: value lines)")
    return meta, "\n".join(lines[end + 1 :])


def _sections(body: str) -> list[tuple[list[str], int, list[str]]]:
    """(heading path, heading level, body lines) per section; '#' inside code fences is no heading."""
    sections: list[tuple[list[str], int, list[str]]] = [([], 0, [])]
    stack: list[tuple[int, str]] = []
    in_fence = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            sections[-1][2].append(line)
            continue
        level, heading = len(match.group(1)), _clean(match.group(2))
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
        sections.append(([h for _, h in stack], level, []))
    return [s for s in sections if s[0] or any(line.strip() for line in s[2])]


def _split_long(body: str) -> list[str]:
    """Cut a long section at blank lines (never inside a code fence) into MAX_CHUNK_CHARS pieces."""
    if not body:
        return []
    if len(body) <= MAX_CHUNK_CHARS:
        return [body]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    in_fence = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        current.append(line)
        size += len(line) + 1
        at_break = not in_fence and not line.strip()
        if size >= MAX_CHUNK_CHARS and (at_break or size >= 2 * MAX_CHUNK_CHARS):
            pieces.append("\n".join(current).strip())
            current, size = [], 0
    if current and "\n".join(current).strip():
        pieces.append("\n".join(current).strip())
    return [p for piece in pieces for p in _hard_split(piece)]


def _hard_split(text: str) -> list[str]:
    # A single huge line (minified text, a pasted log) still has to fit the window.
    limit = 2 * MAX_CHUNK_CHARS
    return [text[i : i + limit] for i in range(0, len(text), limit)] if len(text) > limit else [text]


def _string_list(meta: dict[str, Any], key: str) -> list[str]:
    value = meta.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    raise FrontMatterError(f"front matter '{key}' must be a list of strings")


def _recovery(value: Any, known_tools: Collection[str] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = {"tool": value}
    if not isinstance(value, dict) or not isinstance(value.get("tool"), str):
        raise FrontMatterError("front matter 'recovery' must be a mapping like {tool: reboot_instances}")
    if not _TOOL_NAME.match(value["tool"]) or (known_tools is not None and value["tool"] not in known_tools):
        raise FrontMatterError(f"front matter 'recovery' names unknown tool {value['tool']!r}")
    arguments = value.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise FrontMatterError("front matter 'recovery.arguments' must be a mapping")
    return {"tool": value["tool"], "arguments": arguments}


def _clean(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


# A list item: "1. Do this" / "2) Do that" (numbered), or "- Do this" (bullet); at most 3 spaces in.
_NUMBERED_ITEM = re.compile(r"^ {0,3}\d{1,2}[.)]\s+(\S.*)$")
_BULLET_ITEM = re.compile(r"^ {0,3}[-*+]\s+(\S.*)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def list_steps(text: str, max_steps: int, max_chars: int) -> list[str]:
    """The items of a section's first numbered list (else of its first bullet list), one line each.

    An item keeps its indented continuation lines, nested bullets and code blocks, flattened into one
    line of at most `max_chars` (cut at a word); the list ends at the first paragraph that is not indented.
    """
    lines = text.split("\n")
    items = _list_items(lines, _NUMBERED_ITEM) or _list_items(lines, _BULLET_ITEM)
    flat = (excerpt_of(_CONTROL.sub(" ", " ".join(item)), max_chars) for item in items[:max_steps])
    return [step for step in flat if step]


def _list_items(lines: list[str], item: re.Pattern[str]) -> list[list[str]]:
    items: list[list[str]] = []
    after_blank = False
    for line in lines:
        match = item.match(line)
        if match:
            items.append([match.group(1)])
        elif not line.strip():
            after_blank = True
            continue
        elif items and (line[:1].isspace() or not after_blank):
            items[-1].append(line.strip())  # an indented continuation, or a lazy one right below
        elif items:
            break  # a paragraph after the list: the steps are over
        after_blank = False
    return items


def excerpt_of(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word; fence markers read as noise."""
    flat = " ".join(re.sub(r"(```|~~~)[\w-]*", " ", text).split())
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rsplit(" ", 1)[0] + "…"
