"""A store built before the multilingual model (MiniLM vectors only) is re-embedded on open."""

from __future__ import annotations

import json
import shutil

import chromadb
from chromadb.config import Settings

from sop.embedding import MiniLMEmbeddingFunction
from sop.minilm import load_minilm
from sop.store import COLLECTION, MARKER_NAME, STORE_DIR, SopStore
from sop.vectors import DIMENSIONS, SIGNATURE


def _downgrade_to_minilm(home) -> None:
    """Rewrite the store the way the previous version left it: a MiniLM-only collection, 384
    dimensions, and a marker that names no embedding."""
    path = home / STORE_DIR
    client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
    found = client.get_collection(COLLECTION).get(include=["documents", "metadatas"])
    client.delete_collection(COLLECTION)
    old = client.create_collection(COLLECTION, embedding_function=MiniLMEmbeddingFunction(),
                                   configuration={"hnsw": {"space": "cosine"}})
    texts = [f"{m['section']}\n{d}" for d, m in zip(found["documents"], found["metadatas"], strict=True)]
    old.upsert(ids=found["ids"], documents=found["documents"], metadatas=found["metadatas"],
               embeddings=load_minilm().encode(texts))
    marker = json.loads((path / MARKER_NAME).read_text(encoding="utf-8"))
    marker.pop("embedding")
    (path / MARKER_NAME).write_text(json.dumps(marker), encoding="utf-8")


def test_a_minilm_store_is_reembedded_and_keeps_sops_whose_files_are_gone(bare_home, sops):
    SopStore(bare_home, index_library=False).add([sops])
    _downgrade_to_minilm(bare_home)
    shutil.rmtree(sops)  # the user's files are gone: only the store still has their text

    store = SopStore(bare_home, index_library=False)
    hits = store.search("디스크가 꽉 찼어요", k=2)
    assert hits[0].title == "Disk almost full"
    assert {d.title for d in store.list_documents()} == {"Disk almost full", "Instance hung"}
    marker = json.loads((bare_home / STORE_DIR / MARKER_NAME).read_text(encoding="utf-8"))
    assert marker["embedding"] == SIGNATURE
    client = chromadb.PersistentClient(path=str(bare_home / STORE_DIR), settings=Settings(anonymized_telemetry=False))
    assert [c.name for c in client.list_collections()] == [COLLECTION]
    vectors = client.get_collection(COLLECTION).get(include=["embeddings"])["embeddings"]
    assert len(vectors) == 2 + 2 and all(len(v) == DIMENSIONS for v in vectors)


def test_a_reembedded_store_opens_without_reindexing_again(bare_home, sops):
    SopStore(bare_home, index_library=False).add([sops])
    _downgrade_to_minilm(bare_home)
    SopStore(bare_home, index_library=False).list_documents()
    marker = bare_home / STORE_DIR / MARKER_NAME
    generation = json.loads(marker.read_text(encoding="utf-8"))["generation"]
    assert SopStore(bare_home, index_library=False).search("instance hung", k=1)[0].title == "Instance hung"
    assert json.loads(marker.read_text(encoding="utf-8"))["generation"] == generation
