"""From ranked chunks to what a person reads: hits with excerpts, and the lexical index.

The excerpt comes from the SOP's recovery section when it has one ("Recovery",
"Mitigation", "Remediation"...): the steps are what someone paged at night needs first,
not the root causes, whichever section matched best. The hit also carries that section's
numbered steps, all of them, for a resource nothing in the tool catalog can act on: a person
follows them (the monitor's `{"steps": [...]}` proposal). They are SOP text: shown, never run.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sop.markdown import excerpt_of, list_steps
from sop.models import SopHit
from sop.ranking import WEAK_SCORE, DocInfo, LexicalIndex

# Enough for any runbook's recovery list, small enough that five hits stay a small MCP result.
MAX_STEPS, MAX_STEP_CHARS = 12, 300
_RECOVERY = re.compile(r"\b(recovery|recover|mitigation|remediation|resolution|fix|how to fix|steps)\b", re.I)


def is_recovery_section(section: str) -> bool:
    """Whether a section path ("Title > Mitigation > Restart") lies under the recovery steps."""
    return any(_RECOVERY.search(part) for part in section.split(" > ")[1:])


def build_hits(collection: Any, ranked: list[Any], excerpt_chars: int) -> list[SopHit]:
    if not ranked:
        return []
    doc_ids = [r.doc_id for r in ranked]
    where = {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": doc_ids}}
    found = collection.get(where=where, include=["metadatas", "documents"])
    by_id = {chunk: (meta, text) for chunk, meta, text in zip(found["ids"], found["metadatas"], found["documents"],
                                                              strict=True)}
    recovery: dict[str, str] = {}  # doc id -> its first recovery chunk
    recovery_text: dict[str, list[str]] = {}  # doc id -> that section's text, sub-sections included
    for chunk in sorted(by_id, key=lambda c: int(c.rsplit(":", 1)[1])):
        meta, text = by_id[chunk]
        doc = meta["doc_id"]
        if doc not in recovery and is_recovery_section(meta["section"]):
            recovery[doc], recovery_text[doc] = chunk, [text]
        elif doc in recovery and _within(meta["section"], by_id[recovery[doc]][0]["section"]):
            recovery_text[doc].append(text)  # a long section's next piece, or a sub-section
    steps = {doc: list_steps("\n\n".join(texts), MAX_STEPS, MAX_STEP_CHARS) for doc, texts in recovery_text.items()}
    hits = []
    for r in ranked:
        meta, _ = by_id[r.chunk_id]
        shown_meta, text = by_id[recovery.get(r.doc_id, r.chunk_id)]
        hits.append(
            SopHit(
                id=meta["doc_id"],
                source=meta["source"],
                title=meta["title"],
                score=r.score,
                weak=r.score < WEAK_SCORE,
                excerpt=excerpt_of(text, excerpt_chars),
                section=shown_meta["section"],
                alarms=json.loads(meta["alarms"]),
                recovery=json.loads(meta["recovery"]),
                steps=steps.get(r.doc_id, []),
            )
        )
    return hits


def _within(section: str, parent: str) -> bool:
    return section == parent or section.startswith(parent + " > ")


def build_lexical(found: dict[str, Any]) -> LexicalIndex:
    """The BM25 and name index over every chunk of `collection.get(include=[metadatas, documents])`."""
    docs: dict[str, DocInfo] = {}
    for meta in found["metadatas"]:
        if meta["doc_id"] not in docs:
            alarms = json.loads(meta["alarms"])
            docs[meta["doc_id"]] = DocInfo(meta["doc_id"], set(json.loads(meta["names"])), alarms)
    rows = zip(found["metadatas"], found["documents"], strict=True)
    texts = [f"{meta['section']}\n{text}" for meta, text in rows]
    return LexicalIndex.build(list(found["ids"]), [m["doc_id"] for m in found["metadatas"]], texts, docs)
