"""Fixtures for the SOP store tests: real Chroma, real embeddings, temp AIOPS_HOMEs.

Embedding the shipped library and the 108-runbook corpus is the slow part, so both are
indexed once per session in a background subprocess (no Chroma client in this process holds
the files while they are copied) while the tests that do not need them run; tests that
write get their own copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus" / "prometheus-runbooks"
LIBRARY = REPO / "sop" / "library"
# The cases tuned on, and the held-out ones (never tuned on) in a file of their own.
CASES = yaml.safe_load((HERE / "alert_cases.yaml").read_text(encoding="utf-8"))
HOLDOUT = yaml.safe_load((HERE / "holdout_cases.yaml").read_text(encoding="utf-8"))


def expected_path(set_name: str, expect: str) -> Path:
    """Where a case's SOP lives: `library/...` in sop/library, else the corpus (old sets: by set name)."""
    if expect.startswith("library/"):
        return LIBRARY / expect.removeprefix("library/")
    return (LIBRARY if set_name.startswith("library") else CORPUS) / expect


def run_cli(*args: str, home: Path, stdin: str | None = None, env: dict[str, str] | None = None):
    """`python main.py sop ARGS...` with AIOPS_HOME=HOME, in a fresh process."""
    return subprocess.run(
        [sys.executable, "main.py", "sop", *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "AIOPS_HOME": str(home), **(env or {})},
    )


def pytest_collection_modifyitems(items):
    """Tests that need the indexed corpus run after the other SOP tests, which overlap its build."""
    slots = [i for i, item in enumerate(items) if Path(str(item.fspath)).is_relative_to(HERE)]
    ours = sorted((items[i] for i in slots), key=lambda item: "corpus_home" in item.fixturenames)
    for slot, item in zip(slots, ours, strict=True):
        items[slot] = item


@pytest.fixture(scope="session")
def _corpus_build(tmp_path_factory):
    """Indexes the library and the corpus into a template home, in the background."""
    home = tmp_path_factory.mktemp("sop-corpus-home") / "home"
    command = [sys.executable, "main.py", "sop", "add", str(CORPUS), "--json"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "AIOPS_HOME": str(home)})
    yield home, process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(autouse=True)
def _start_corpus_build(_corpus_build):
    """Starts the template build at the first SOP test, whichever it is."""


@pytest.fixture(scope="session")
def corpus_home(_corpus_build) -> Path:
    """The shipped library (indexed on first use) plus the prometheus-runbooks corpus.

    Read-only: tests that write take a copy through the `home` fixture.
    """
    home, process = _corpus_build
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    return home


@pytest.fixture
def home(corpus_home, tmp_path) -> Path:
    """A writable AIOPS_HOME that already holds the indexed library and corpus."""
    target = tmp_path / "aiops-home"
    shutil.copytree(corpus_home, target)
    return target


@pytest.fixture
def bare_home(tmp_path) -> Path:
    """An empty AIOPS_HOME; open it with index_library=False unless the test is about the library."""
    return tmp_path / "bare-home"


@pytest.fixture
def sops(tmp_path) -> Path:
    """A folder with two small SOPs."""
    folder = tmp_path / "sops"
    folder.mkdir()
    (folder / "disk.md").write_text(
        "---\ntitle: Disk almost full\ntags: [disk]\nalarms: ['*disk*full*']\n"
        "recovery: {tool: get_metric_statistics, arguments: {metric: disk_used_percent}}\n---\n"
        "# Disk almost full\n\n## Recovery\n\nDelete rotated logs under /var/log.\n\n"
        "## Root cause\n\nLog rotation was disabled.\n",
        encoding="utf-8",
    )
    (folder / "reboot.md").write_text(
        "# Instance hung\n\nThe instance stopped answering its status checks.\n\n## Recovery\n\nReboot it.\n",
        encoding="utf-8",
    )
    return folder
