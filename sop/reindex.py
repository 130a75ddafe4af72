"""Re-embedding a stored SOP collection when the embedding models change.

A store built by an older version holds vectors of another model (all-MiniLM-L6-v2 alone,
384 dimensions): searching it with today's query vectors would fail or, worse, rank
nonsense. The marker records what the vectors are (`embedding`, sop/vectors.SIGNATURE); on a
mismatch every stored chunk is embedded again from the text the collection itself keeps,
so SOPs added from files that are gone since are kept too.

Crash-safe: the new vectors go into a side collection; the old one is dropped only once the
new one is complete, and a side collection left complete by a crash is taken as is.
"""

from __future__ import annotations

from typing import Any

from sop.vectors import embed_documents

NEXT_SUFFIX = "-next"
_BATCH = 1000


def open_collection(client: Any, name: str, configuration: dict[str, Any], current: bool) -> Any:
    """The collection `name` with today's embedding function, re-embedded unless `current`."""
    from sop.embedding import DualEmbeddingFunction

    if current:
        return client.get_or_create_collection(
            name, embedding_function=DualEmbeddingFunction(), configuration=configuration
        )
    side = name + NEXT_SUFFIX
    present = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    if side in present and name not in present:
        client.get_collection(side).modify(name=name)  # a crash after the old one was dropped
    else:
        if side in present:
            client.delete_collection(side)  # a crash while filling it: start again
        if name in present:
            fresh = client.create_collection(side, embedding_function=DualEmbeddingFunction(),
                                             configuration=configuration)
            _copy(client.get_collection(name), fresh)
            client.delete_collection(name)
            fresh.modify(name=name)
    return client.get_or_create_collection(
        name, embedding_function=DualEmbeddingFunction(), configuration=configuration
    )


def _copy(old: Any, new: Any) -> None:
    found = old.get(include=["documents", "metadatas"])
    rows = list(zip(found["ids"], found["documents"], found["metadatas"], strict=True))
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        # The chunk's embedding text is its section path and its body (sop/markdown.Chunk).
        vectors = embed_documents([f"{meta['section']}\n{text}" for _, text, meta in batch])
        new.upsert(
            ids=[chunk for chunk, _, _ in batch],
            embeddings=vectors,
            documents=[text for _, text, _ in batch],
            metadatas=[meta for _, _, meta in batch],
        )
