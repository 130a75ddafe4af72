"""From ranked chunks to what a person reads: hits with excerpts, and the lexical index.

The excerpt comes from the SOP's recovery section when it has one ("Recovery",
"Mitigation", "Remediation"...): the steps are what someone paged at night needs first,
not the root causes, whichever section matched best.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sop.markdown import excerpt_of
from sop.models import SopHit
from sop.ranking import WEAK_SCORE, DocInfo, LexicalIndex

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
    recovery: dict[str, str] = {}
    for chunk in sorted(by_id, key=lambda c: int(c.rsplit(":", 1)[1])):
        meta = by_id[chunk][0]
        if meta["doc_id"] not in recovery and is_recovery_section(meta["section"]):
            recovery[meta["doc_id"]] = chunk
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
            )
        )
    return hits


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
