"""Result models of the SOP store (what `sop --json`, the monitor and the MCP tool hand on)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

FileStatus = Literal["added", "updated", "unchanged", "skipped", "failed"]


class SopDocument(BaseModel):
    id: str = Field(description="Stable document id: a short hash of the resolved file path.")
    source: str = Field(description="The document's resolved absolute file path.")
    title: str = Field(description="Front-matter title, else the first H1, else the file name.")
    chunks: int = Field(description="How many heading sections (chunks) are indexed.")
    tags: list[str] = Field(default_factory=list)
    alarms: list[str] = Field(default_factory=list, description="Alarm-name globs the SOP covers.")
    recovery: dict[str, Any] | None = Field(
        None, description="Proposed recovery tool call: {tool, arguments}."
    )

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> SopDocument:
        """From a chunk's Chroma metadata (lists and the recovery stored as JSON text)."""
        return cls(id=meta["doc_id"], source=meta["source"], title=meta["title"], chunks=int(meta["chunks"]),
                   tags=json.loads(meta["tags"]), alarms=json.loads(meta["alarms"]),
                   recovery=json.loads(meta["recovery"]))


class SopHit(BaseModel):
    id: str
    source: str
    title: str
    score: float = Field(
        description="Relevance, higher is better: 0..1 from text similarity, plus 0.5 when the alert "
        "names the SOP's title or file and 0.3 when an alarm name matches its `alarms:` globs."
    )
    weak: bool = Field(False, description="The score is under the weak-match threshold: probably not the answer.")
    excerpt: str = Field(description="The start of the SOP's recovery section when it has one, else of the "
                         "best-matching section; at most ~300 characters, cut at a word.")
    section: str = Field(description="Section path of the excerpt: 'Title > Section'.")
    alarms: list[str] = Field(default_factory=list)
    recovery: dict[str, Any] | None = None
    steps: list[str] = Field(default_factory=list, description="The numbered steps of the SOP's recovery "
                             "section, one line each: SOP text for a person, never run.")


class FileOutcome(BaseModel):
    path: str = Field(description="The path as found (resolved when it exists).")
    status: FileStatus = Field(
        description="added/updated/unchanged; skipped = nothing to index; failed = could not be read."
    )
    id: str | None = None
    title: str | None = None
    chunks: int = 0
    reason: str | None = Field(None, description="Why it was skipped or failed, one line.")


class AddReport(BaseModel):
    files: list[FileOutcome] = Field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0

    @classmethod
    def of(cls, outcomes: list[FileOutcome]) -> AddReport:
        report = cls()
        for outcome in outcomes:
            report.record(outcome)
        return report

    def record(self, outcome: FileOutcome) -> None:
        self.files.append(outcome)
        setattr(self, outcome.status, getattr(self, outcome.status) + 1)

    @property
    def ok(self) -> bool:
        return self.failed == 0
