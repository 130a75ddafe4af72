"""SopStore: ingestion, replacement, removal, the shipped library, and bad input."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

import sop.store as store_module
from sop.files import MAX_FILE_BYTES
from sop.store import MARKER_NAME, MAX_QUERY_CHARS, STORE_DIR, SopError, SopStore
from tests.sop.conftest import LIBRARY


def test_add_is_idempotent_and_reports_each_file(bare_home, sops):
    store = SopStore(bare_home, index_library=False)
    first = store.add([sops])
    assert (first.added, first.failed, len(first.files)) == (2, 0, 2)
    second = SopStore(bare_home, index_library=False).add([sops, sops / "disk.md"])
    assert (second.added, second.updated, second.unchanged) == (0, 0, 2)
    docs = store.list_documents()
    assert sorted(d.title for d in docs) == ["Disk almost full", "Instance hung"]


def test_document_id_is_a_hash_of_the_resolved_path(bare_home, sops):
    store = SopStore(bare_home, index_library=False)
    store.add([sops / "." / "disk.md"])
    (doc,) = store.list_documents()
    resolved = str((sops / "disk.md").resolve())
    assert doc.source == resolved
    assert doc.id == hashlib.sha256(resolved.encode()).hexdigest()[:12]
    assert doc.alarms == ["*disk*full*"] and doc.tags == ["disk"]
    assert doc.recovery == {"tool": "get_metric_statistics", "arguments": {"metric": "disk_used_percent"}}
    assert doc.chunks == 2


def test_changed_file_replaces_its_chunks(bare_home, sops):
    store = SopStore(bare_home, index_library=False)
    store.add([sops])
    target = sops / "disk.md"
    target.write_text("# Disk almost full\n\nOnly one section now: grow the EBS volume.\n", encoding="utf-8")
    report = store.add([target])
    assert report.updated == 1 and report.files[0].chunks == 1
    (doc,) = [d for d in store.list_documents() if d.source == str(target.resolve())]
    assert doc.chunks == 1 and doc.alarms == []
    hits = store.search("grow the EBS volume", k=5)
    assert [h.excerpt for h in hits if h.id == doc.id] == ["Only one section now: grow the EBS volume."]
    # No stale chunk of the old version can surface.
    assert all("rotated logs" not in h.excerpt for h in store.search("delete rotated logs", k=5))


def test_remove_by_id_or_path(bare_home, sops):
    store = SopStore(bare_home, index_library=False)
    store.add([sops])
    disk, reboot = sorted(store.list_documents(), key=lambda d: d.title)
    assert store.remove(disk.id).source == disk.source
    assert store.remove(str(sops / "reboot.md")).id == reboot.id
    assert store.list_documents() == []
    with pytest.raises(SopError, match="no SOP with id or path"):
        store.remove(disk.id)
    with pytest.raises(SopError):
        store.remove("   ")


def test_search_returns_one_hit_per_document_with_metadata(bare_home, sops):
    store = SopStore(bare_home, index_library=False)
    store.add([sops])
    hits = store.search("disk is full, delete logs", k=5)
    assert len(hits) == len({h.id for h in hits}) == 2
    top = hits[0]
    assert top.title == "Disk almost full" and top.recovery["tool"] == "get_metric_statistics"
    assert top.section.startswith("Disk almost full") and len(top.excerpt) <= 300
    assert hits[0].score >= hits[1].score


def test_another_process_sees_changes(bare_home, sops):
    reader = SopStore(bare_home, index_library=False)
    writer = SopStore(bare_home, index_library=False)
    writer.add([sops / "disk.md"])
    assert [h.title for h in reader.search("disk full", k=3)] == ["Disk almost full"]
    writer.add([sops / "reboot.md"])
    assert len(reader.search("instance hung reboot", k=3)) == 2


def test_fresh_home_indexes_the_shipped_library(home):
    docs = [d for d in SopStore(home).list_documents() if d.source.startswith(str(LIBRARY))]
    assert len(docs) == len(list(LIBRARY.glob("*.md"))) >= 15
    assert all(d.alarms for d in docs)
    # A tool call where the catalog can act; the RDS, ALB, Lambda, SQS and DynamoDB SOPs are steps only.
    acting = [d for d in docs if d.recovery]
    assert len(acting) >= 15 and len(docs) - len(acting) == 10


def test_library_is_reindexed_when_its_files_change(bare_home, tmp_path, monkeypatch):
    library = tmp_path / "library"
    library.mkdir()
    for name in ("ec2-cpu-saturation.md", "ec2-disk-full.md"):
        shutil.copy(LIBRARY / name, library / name)
    monkeypatch.setattr(store_module, "LIBRARY_DIR", library.resolve())
    assert len(SopStore(bare_home).list_documents()) == 2
    (library / "ec2-disk-full.md").unlink()
    shutil.copy(LIBRARY / "clock-skew.md", library / "clock-skew.md")
    titles = sorted(d.title for d in SopStore(bare_home).list_documents())
    assert titles == ["Clock skew and time synchronisation", "EC2 CPU saturation"]


def test_bad_inputs_fail_alone_and_the_rest_is_ingested(bare_home, sops, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (bad / "latin1.md").write_bytes("# Caf\xe9\n".encode("latin-1"))
    (bad / "huge.md").write_text("# Huge\n\n" + "x" * (5 * 1024 * 1024), encoding="utf-8")
    (bad / "broken.md").write_text("---\ntitle: [oops\n---\n# Body\n\ntext\n", encoding="utf-8")
    (bad / "empty.md").write_text("---\ntitle: only front matter\n---\n", encoding="utf-8")
    (bad / "notes.txt").write_text("not markdown", encoding="utf-8")
    empty_dir = tmp_path / "empty-dir"
    empty_dir.mkdir()
    paths = [tmp_path / "missing.md", empty_dir, bad, bad / "notes.txt", sops]
    report = SopStore(bare_home, index_library=False).add(paths)
    reasons = {f.path.rsplit("/", 1)[-1]: (f.status, f.reason) for f in report.files}
    assert reasons["missing.md"] == ("failed", "no such file or folder")
    assert reasons["empty-dir"][0] == "failed" and "no Markdown files" in reasons["empty-dir"][1]
    assert reasons["binary.md"] == ("failed", "binary file, not Markdown text")
    assert reasons["latin1.md"][0] == "failed" and "not UTF-8" in reasons["latin1.md"][1]
    assert reasons["huge.md"][0] == "failed" and "too large (5.2 MB" in reasons["huge.md"][1]
    assert reasons["broken.md"][0] == "failed" and "broken front matter" in reasons["broken.md"][1]
    assert reasons["empty.md"] == ("skipped", "no text to index")
    assert reasons["notes.txt"][0] == "failed" and "not a Markdown file" in reasons["notes.txt"][1]
    assert (report.added, report.failed, report.ok) == (2, 7, False)
    assert all("\n" not in (f.reason or "") for f in report.files)
    assert MAX_FILE_BYTES < 5 * 1024 * 1024


def test_broken_update_keeps_the_stored_version(bare_home, sops):
    from mcp_server.server import tool_names
    from utils.config import load_settings

    store = SopStore(bare_home, index_library=False, known_tools=tool_names(load_settings()))
    store.add([sops])
    (sops / "disk.md").write_text("---\nrecovery: {tool: format_disk}\n---\n# Disk\n", encoding="utf-8")
    (sops / "reboot.md").write_bytes(b"\xff\xfe broken")
    report = store.add([sops])
    assert report.failed == 2
    assert sorted(d.title for d in store.list_documents()) == ["Disk almost full", "Instance hung"]


@pytest.mark.parametrize(
    ("query", "k", "message"),
    [
        ("", 5, "empty query"),
        ("   \n\t ", 5, "empty query"),
        ("x" * 10_000, 5, "the limit is"),
        ("disk", 0, "k must"),
    ],
)
def test_bad_queries_are_one_line_errors(bare_home, query, k, message):
    with pytest.raises(SopError, match=message) as caught:
        SopStore(bare_home, index_library=False).search(query, k=k)
    assert "\n" not in str(caught.value)
    assert MAX_QUERY_CHARS < 10_000


def test_search_on_an_empty_store_returns_nothing(bare_home):
    assert SopStore(bare_home, index_library=False).search("anything at all") == []


def test_foreign_folder_is_refused_and_left_alone(bare_home):
    store_dir = bare_home / STORE_DIR
    store_dir.mkdir(parents=True)
    (store_dir / "precious.txt").write_text("user data", encoding="utf-8")
    with pytest.raises(SopError, match="no SOP store version marker.*nothing was deleted"):
        SopStore(bare_home, index_library=False).list_documents()
    assert (store_dir / "precious.txt").read_text(encoding="utf-8") == "user data"
    assert sorted(p.name for p in store_dir.iterdir()) == ["precious.txt"]


def test_store_from_another_version_is_refused(bare_home, sops):
    SopStore(bare_home, index_library=False).add([sops])
    marker = bare_home / STORE_DIR / MARKER_NAME
    marker.write_text(json.dumps({"format": 99}), encoding="utf-8")
    before = sorted(p.name for p in (bare_home / STORE_DIR).iterdir())
    with pytest.raises(SopError, match="format 99, this version reads format 1"):
        SopStore(bare_home, index_library=False).search("disk")
    assert sorted(p.name for p in (bare_home / STORE_DIR).iterdir()) == before


@pytest.mark.parametrize("marker", ["{not json", None])
def test_corrupt_store_is_a_clear_error(bare_home, marker):
    store_dir = bare_home / STORE_DIR
    store_dir.mkdir(parents=True)
    (store_dir / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    (store_dir / MARKER_NAME).write_text(marker or json.dumps({"format": 1}), encoding="utf-8")
    with pytest.raises(SopError) as caught:
        SopStore(bare_home, index_library=False).list_documents()
    message = str(caught.value)
    assert "\n" not in message and "move" in message
    assert (store_dir / "chroma.sqlite3").read_bytes().startswith(b"this is not a database")


def test_store_path_that_is_a_file(bare_home):
    bare_home.mkdir()
    (bare_home / STORE_DIR).write_text("oops", encoding="utf-8")
    with pytest.raises(SopError, match="is a file"):
        SopStore(bare_home, index_library=False).list_documents()
