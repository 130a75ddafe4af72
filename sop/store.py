"""The SOP store: Markdown SOPs chunked, embedded offline and kept in a Chroma collection.

Layout under AIOPS_HOME/sop-store: Chroma's own files plus a version marker
(`aiops-sop-store.json`). A folder without the marker is never touched: it is either
someone else's data or damaged, and deciding which is the user's call.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sop.errors import SopError
from sop.files import Candidate, doc_id_for, expand, fingerprint, read_sop
from sop.intake import CHUNKER_VERSION, parse_or_failure, refusal_before_indexing
from sop.markdown import ParsedSop
from sop.models import AddReport, FileOutcome, SopDocument, SopHit
from sop.ranking import FUSED, LexicalIndex, Weights, rank, squash, strip_boilerplate
from sop.results import build_hits, build_lexical
from sop.vectors import SIGNATURE, embed_documents, lexical_text, load_models, mixed_similarity, query_vector

__all__ = ["SopError", "SopStore"]

STORE_DIR = "sop-store"
MARKER_NAME = "aiops-sop-store.json"
STORE_FORMAT = 1
COLLECTION = "sops"
LIBRARY_DIR = Path(__file__).resolve().parent / "library"
MAX_QUERY_CHARS = 2000
MAX_K = 50
EXCERPT_CHARS = 300
_VECTOR_CANDIDATES = 100


@dataclass
class _Pending:
    """A parsed file waiting for its embeddings."""

    outcome: FileOutcome
    doc_id: str
    path: Path
    parsed: ParsedSop
    content_hash: str
    old_chunks: int


# Weak: a store lives as long as someone (the server's state, a REPL command) holds it.
_SHARED: weakref.WeakValueDictionary[Path, SopStore] = weakref.WeakValueDictionary()
_SHARED_LOCK = threading.Lock()


class SopStore:
    """Open with the AIOPS_HOME folder; Chroma and the model load on first real use."""

    def __init__(self, home: Path, *, index_library: bool = True, known_tools: Collection[str] | None = None):
        """`known_tools`: the MCP catalog's tool names; SOP recoveries naming others are refused."""
        self.home = Path(home).expanduser()
        self.known_tools = frozenset(known_tools) if known_tools is not None else None
        self.path = self.home / STORE_DIR
        self.marker = self.path / MARKER_NAME
        self._index_library = index_library
        self._collection: Any = None
        self._lexical: LexicalIndex | None = None
        self._lexical_stamp: tuple[int, int] | None = None
        self.weights: Weights = FUSED
        # The REPL warms the store on a thread while a command may open it on another.
        self._open_lock = threading.RLock()
        self._ready = False  # opened, re-embedded if it had to be, and the library in step

    @classmethod
    def shared(cls, home: Path, *, known_tools: Collection[str] | None = None) -> SopStore:
        """The one store for `home` in this process: the MCP server's search and the REPL's `sop add`
        use the same object, so the model and the index are loaded once and a new SOP is found at once."""
        key = Path(home).expanduser().resolve()
        with _SHARED_LOCK:
            store = _SHARED.get(key)
            if store is None:
                store = cls(key, known_tools=known_tools)
                _SHARED[key] = store
            elif known_tools is not None:
                store.known_tools = frozenset(known_tools)
            return store

    def warm(self) -> None:
        """Open the store and load both models now, so the first search does not wait (the REPL
        calls this in the background once its prompt is up). Errors are the search's to report."""
        try:
            self._open()
            load_models()
            self.search("warm up", k=1)
        except Exception:  # noqa: BLE001 - the real search says what is wrong, in one line
            pass

    # -- opening -------------------------------------------------------------------------------

    def _open(self) -> Any:
        if self._ready:
            return self._collection
        with self._open_lock:
            # Re-entered from _sync_library on this thread: the collection is set, not yet ready.
            if not self._ready and self._collection is None:
                try:
                    self._open_locked()
                except BaseException:
                    self._collection = None  # the next use tries again from the start
                    raise
                self._ready = True
            return self._collection

    def _open_locked(self) -> None:
        marker = self._check_marker()
        from sop.minilm import ensure_offline

        ensure_offline()  # before chromadb is imported
        try:
            import chromadb
            from chromadb.config import Settings

            from sop.reindex import open_collection

            client = chromadb.PersistentClient(
                path=str(self.path), settings=Settings(anonymized_telemetry=False)
            )
            # The embedding function goes in on every open: Chroma persists only its name. A store
            # whose vectors came from other models is re-embedded first (sop/reindex.py).
            current = marker.get("embedding") == SIGNATURE
            self._collection = open_collection(client, COLLECTION, {"hnsw": {"space": "cosine"}}, current)
        except SopError:
            raise
        except Exception as exc:  # chromadb raises bare Exceptions from its Rust core
            raise SopError(
                f"SOP store at {self.path} cannot be opened ({_first_line(exc)}); "
                "move the folder aside (nothing was deleted) and run `sop add` again"
            ) from None
        if not current:
            self._touch_marker(embedding=SIGNATURE)
        if self._index_library and marker.get("library") != self._library_fingerprint():
            self._sync_library()

    def _check_marker(self) -> dict[str, Any]:
        if self.path.exists() and not self.path.is_dir():
            raise SopError(f"SOP store path {self.path} is a file, not a folder; move it aside")
        if not self.path.exists() or not any(self.path.iterdir()):
            marker = {"format": STORE_FORMAT, "library": None, "embedding": SIGNATURE}
            self._write_marker(marker)
            return marker
        try:
            marker = json.loads(self.marker.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SopError(
                f"{self.path} has no SOP store version marker: it is not an AIOps SOP store or it is "
                "damaged; move it aside (nothing was deleted) and it will be rebuilt"
            ) from None
        except (OSError, ValueError, UnicodeDecodeError):
            raise SopError(f"SOP store marker {self.marker} is unreadable; move {self.path} aside") from None
        found = marker.get("format") if isinstance(marker, dict) else None
        if found != STORE_FORMAT:
            raise SopError(
                f"SOP store at {self.path} is format {found}, this version reads format {STORE_FORMAT}: "
                "move it aside and add your SOPs again"
            )
        return marker

    def _write_marker(self, marker: dict[str, Any]) -> None:
        temporary = self.marker.with_suffix(".tmp")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
            os.replace(temporary, self.marker)  # atomic: a crash never leaves half a marker
        except OSError as exc:
            raise SopError(f"cannot write the SOP store at {self.path}: {exc.strerror or exc}") from None

    def _touch_marker(self, **changes: Any) -> None:
        """Record a change; other processes notice the new marker mtime and reload."""
        marker = json.loads(self.marker.read_text(encoding="utf-8"))
        marker.update(changes)
        marker["generation"] = int(marker.get("generation", 0)) + 1
        self._write_marker(marker)
        self._lexical = None

    def _library_files(self) -> list[Path]:
        return sorted(p.resolve() for p in LIBRARY_DIR.glob("*.md"))

    def _library_fingerprint(self) -> str:
        return fingerprint(self._library_files())

    def _sync_library(self) -> None:
        """Index the shipped SOPs; drop library documents whose files are gone (or moved)."""
        files = self._library_files()
        present = {str(p) for p in files}
        shipped = {"$and": [{"library": True}, {"chunk": 0}]}
        for meta in self._collection.get(where=shipped, include=["metadatas"])["metadatas"]:
            if meta["source"] not in present:
                self._collection.delete(where={"doc_id": meta["doc_id"]})
        self._add(files, library=True)
        self._touch_marker(library=self._library_fingerprint())

    # -- writing -------------------------------------------------------------------------------

    def add(self, paths: list[str | Path]) -> AddReport:
        """Index Markdown files and folders (recursive); one outcome per file, errors included."""
        if any(not str(p).strip() for p in paths):
            raise SopError("an empty path was given: name a markdown file or folder")
        # Opening a fresh store indexes the shipped library with both models first (tens of seconds),
        # which input that can never be indexed should not cost before its one line.
        refused = refusal_before_indexing(paths, self.known_tools)
        if refused is not None:
            return AddReport.of(refused)
        return self._add(paths, library=False)

    def _add(self, paths: list[str | Path], *, library: bool) -> AddReport:
        collection = self._open()
        outcomes: list[FileOutcome] = []
        pending: list[_Pending] = []
        for candidate in expand(paths):
            prepared = self._prepare(collection, candidate)
            outcome = prepared.outcome if isinstance(prepared, _Pending) else prepared
            outcomes.append(outcome)
            if isinstance(prepared, _Pending):
                pending.append(prepared)
        if pending:
            # One embedding pass over every new chunk (batches pack better than per file), done
            # before any write: if it fails, everything stored stays as it was.
            vectors = embed_documents([c.embedding_text() for p in pending for c in p.parsed.chunks])
            start = 0
            for item in pending:
                end = start + len(item.parsed.chunks)
                self._write_chunks(collection, item, vectors[start:end], library)
                start = end
            self._touch_marker()
        report = AddReport()
        for outcome in outcomes:
            report.record(outcome)
        return report

    def _prepare(self, collection: Any, candidate: Candidate) -> FileOutcome | _Pending:
        """Read and parse one file: a final outcome, or the work left to index it."""
        if candidate.path is None:
            return FileOutcome(path=candidate.shown, status="failed", reason=candidate.reason)
        path = candidate.path
        loaded = read_sop(path, CHUNKER_VERSION)
        if isinstance(loaded, str):
            return FileOutcome(path=str(path), status="failed", reason=loaded)
        doc_id = doc_id_for(path)
        previous = self._first_chunk_meta(collection, doc_id)
        if previous and previous.get("content_hash") == loaded.content_hash:
            return FileOutcome(
                path=str(path),
                status="unchanged",
                id=doc_id,
                title=previous["title"],
                chunks=previous["chunks"],
            )
        parsed = parse_or_failure(path, loaded, self.known_tools)
        if isinstance(parsed, FileOutcome):
            return parsed
        if not parsed.chunks:
            kept = "; the stored version was kept" if previous else ""
            return FileOutcome(path=str(path), status="skipped", id=doc_id, reason=f"no text to index{kept}")
        outcome = FileOutcome(
            path=str(path),
            status="updated" if previous else "added",
            id=doc_id,
            title=parsed.title,
            chunks=len(parsed.chunks),
        )
        old_chunks = int(previous["chunks"]) if previous else 0
        return _Pending(outcome, doc_id, path, parsed, loaded.content_hash, old_chunks)

    def _write_chunks(self, collection: Any, item: _Pending, vectors: Any, library: bool) -> None:
        parsed = item.parsed
        names = {squash(parsed.title), squash(item.path.stem), *(squash(h) for h in parsed.headings[:1])}
        shared = {
            "doc_id": item.doc_id,
            "source": str(item.path),
            "title": parsed.title,
            "chunks": len(parsed.chunks),
            "content_hash": item.content_hash,
            "tags": json.dumps(parsed.tags),
            "alarms": json.dumps(parsed.alarms),
            "recovery": json.dumps(parsed.recovery),
            "names": json.dumps(sorted(n for n in names if n)),
            "library": library,  # shipped with the product: kept in step with sop/library
        }
        # Upsert, then drop the surplus: the document is never absent, even mid-update.
        collection.upsert(
            ids=[f"{item.doc_id}:{i}" for i in range(len(parsed.chunks))],
            embeddings=vectors,
            documents=[c.text for c in parsed.chunks],
            metadatas=[{**shared, "chunk": i, "section": c.section} for i, c in enumerate(parsed.chunks)],
        )
        stale = range(len(parsed.chunks), item.old_chunks)
        if stale:
            collection.delete(ids=[f"{item.doc_id}:{i}" for i in stale])

    @staticmethod
    def _first_chunk_meta(collection: Any, doc_id: str) -> dict[str, Any] | None:
        found = collection.get(ids=[f"{doc_id}:0"], include=["metadatas"])
        return found["metadatas"][0] if found["ids"] else None

    def remove(self, doc_id_or_path: str) -> SopDocument:
        """Delete a document by id or by path; SopError when there is no such document."""
        collection = self._open()
        key = doc_id_or_path.strip()
        candidates = [key] if key else []
        if key:
            candidates.append(doc_id_for(Path(key).expanduser().resolve()))
        for doc_id in candidates:
            meta = self._first_chunk_meta(collection, doc_id)
            if meta:
                collection.delete(where={"doc_id": doc_id})
                self._touch_marker()
                return SopDocument.from_metadata(meta)
        raise SopError(f"no SOP with id or path {doc_id_or_path!r}; `sop list` shows what is stored")

    # -- reading -------------------------------------------------------------------------------

    def list_documents(self) -> list[SopDocument]:
        collection = self._open()
        found = collection.get(where={"chunk": 0}, include=["metadatas"])
        return sorted((SopDocument.from_metadata(m) for m in found["metadatas"]), key=lambda d: d.source)

    def search(self, query: str, k: int = 5) -> list[SopHit]:
        """The k most relevant documents for an alert text, best first, one hit per document."""
        # Undecodable bytes arrive as lone surrogates (argv, stdin); the tokenizer cannot take them.
        query = " ".join(query.encode("utf-8", "replace").decode("utf-8").split())
        if not query:
            raise SopError("empty query: give an alarm name or a description of the problem")
        if len(query) > MAX_QUERY_CHARS:
            raise SopError(
                f"query is {len(query)} characters; the limit is {MAX_QUERY_CHARS}: "
                "give the alarm name and its summary, not a whole log"
            )
        if k < 1:
            raise SopError(f"k must be at least 1 (got {k})")
        collection = self._open()
        index = self._lexical_index(collection)
        if not index.chunk_ids:
            return []
        vector, factor = self._query_vector(strip_boilerplate(query) if self.weights.strip_boilerplate else query)
        # Distances only: chunk ids are "<doc id>:<n>", and fetching metadata costs 7x the query.
        found = collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(_VECTOR_CANDIDATES, len(index.chunk_ids)),
            include=["distances"],
        )
        hits = [
            (chunk, chunk.rsplit(":", 1)[0], mixed_similarity(distance, factor))
            for chunk, distance in zip(found["ids"][0], found["distances"][0], strict=True)
        ]
        # BM25 and the name match read Korean through its English gloss (sop/korean.py).
        ranked = rank(lexical_text(query), hits, index, min(k, MAX_K), self.weights)
        return build_hits(collection, ranked, EXCERPT_CHARS)

    @staticmethod
    def _query_vector(text: str) -> Any:
        from sop.minilm import ModelError

        try:
            return query_vector(text)
        except ModelError as exc:
            raise SopError(str(exc)) from None

    def _lexical_index(self, collection: Any) -> LexicalIndex:
        """All chunks' terms, rebuilt only when this or another process changed the store."""
        try:
            stat = self.marker.stat()
        except OSError:
            raise SopError(f"SOP store marker {self.marker} disappeared; was the store moved?") from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._lexical is None or stamp != self._lexical_stamp:
            self._lexical = build_lexical(collection.get(include=["metadatas", "documents"]))
            self._lexical_stamp = stamp
        return self._lexical


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
