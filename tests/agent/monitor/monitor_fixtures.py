"""Fixtures shared by the monitor tests (importable, unlike conftest).

Indexing the shipped SOP library embeds every SOP and takes tens of seconds on a fresh
AIOPS_HOME; each test gets a copy of one store indexed once per session instead.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

_WARM = "import sys; from pathlib import Path; from sop.store import SopStore; SopStore(Path(sys.argv[1])).search('warm', k=1)"


@pytest.fixture(scope="session")
def sop_store_template(tmp_path_factory, worker_id) -> Path | None:
    """One indexed copy of the shipped library for the whole run: the first pytest-xdist worker to need it
    builds it under a lock in the run's shared temp root, the others wait and reuse it."""
    try:
        from sop.store import STORE_DIR
    except ImportError:
        return None
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent  # shared by every worker of this run
    home = root / "sop-template"
    with open(root / "sop-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (home / "built").exists():
            # A separate process, so no Chroma client in this one holds the files open while they are copied.
            done = subprocess.run([sys.executable, "-c", _WARM, str(home)], cwd=REPO, capture_output=True, timeout=600)
            if done.returncode == 0:
                (home / "built").touch()
    return home / STORE_DIR if (home / "built").exists() else None


@pytest.fixture
def indexed_sops(sop_store_template, aws_env) -> Path | None:
    """The shipped SOP library, already indexed, in this test's AIOPS_HOME (None if the store is unusable)."""
    if sop_store_template is None:
        return None
    target = aws_env.home / sop_store_template.name
    shutil.copytree(sop_store_template, target)
    return target
