"""Where the sandbox keeps state, and which server.json is believed (fail closed)."""

from __future__ import annotations

import json
import os

from utils.config import load_settings
from utils.sandbox_state import (
    KEEP_GENERATIONS,
    ServerInfo,
    current_generation,
    generation_dir,
    new_generation,
    point_at_sandbox_state,
    running_server,
    write_server,
)


def test_state_dir_is_the_home_only_without_the_sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("AIOPS_HOME", str(tmp_path))
    assert load_settings().state_dir == tmp_path
    sandboxed = load_settings(sandbox=True)
    assert sandboxed.state_dir == tmp_path / "sandbox"  # never the real home, even before a generation
    point_at_sandbox_state(sandboxed)
    assert sandboxed.state_dir.parent == tmp_path / "sandbox" / "generations"


def test_each_generation_starts_empty_and_old_ones_are_pruned(tmp_path):
    made = []
    for _ in range(KEEP_GENERATIONS + 3):
        made.append(new_generation(tmp_path))
        (generation_dir(tmp_path, made[-1]) / "incidents.sqlite3").write_text("x")
    assert current_generation(tmp_path) == made[-1]
    kept = sorted(p.name for p in (tmp_path / "sandbox" / "generations").iterdir())
    assert kept == sorted(made[-KEEP_GENERATIONS:])  # the newest five, in order
    assert len(set(made)) == len(made)


def test_a_server_file_off_loopback_is_never_attached_to(tmp_path):
    # A live pid, but a url that is not loopback: ignored without connecting anywhere.
    write_server(tmp_path, ServerInfo(url="http://example.invalid:80", pid=os.getpid(), generation="g", started=0))
    info, why = running_server(tmp_path)
    assert info is None and "nothing answers" in why


def test_an_unreadable_server_file_is_ignored(tmp_path):
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / "server.json").write_text(json.dumps({"url": 5}))
    info, why = running_server(tmp_path)
    assert info is None and "unreadable" in why
