"""Embedding and search work with no network at all (HF_HUB_OFFLINE=1, sockets refused)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.sop.conftest import REPO

# Loaded by `site` at interpreter start: any attempt to open a network connection is
# written down and refused, so a library that swallows the error still gets caught.
SITECUSTOMIZE = '''
import os, socket

_LOG = os.environ["SOP_NET_LOG"]

def _refuse(*args, **kwargs):
    with open(_LOG, "a") as log:
        log.write(repr(args)[:200] + "\\n")
    raise OSError("network disabled by the offline test")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
'''


def _no_network_prefix() -> list[str]:
    # Where the kernel lets us, also drop the network namespace: catches native code too.
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def _offline(args: list[str], tmp_path: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    hooks = tmp_path / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": f"{hooks}:{REPO}",
        "HF_HUB_OFFLINE": "1",
        "SOP_NET_LOG": str(tmp_path / "net.log"),
    }
    command = [*_no_network_prefix(), sys.executable, *args]
    return subprocess.run(
        command, cwd=REPO, env=env, input=stdin, capture_output=True, text=True, timeout=300
    )


def test_the_guard_really_refuses_connections(tmp_path):
    probe = _offline(["-c", "import socket; socket.create_connection(('127.0.0.1', 9), timeout=1)"], tmp_path)
    assert probe.returncode != 0
    assert (tmp_path / "net.log").exists() or "Network is unreachable" in probe.stderr


# `sop add` then `sop search -` in one interpreter: a second start-up would prove nothing more.
ADD_THEN_SEARCH = (
    "import os, sys; from main import main; "
    "home, folder = sys.argv[1:3]; os.environ['AIOPS_HOME'] = home; "
    "sys.exit(main(['sop', 'add', folder, '--json']) "
    "or main(['sop', 'search', '-', '--json', '--k', '2']))"
)


def test_add_and_search_offline(home, sops, tmp_path):
    done = _offline(
        ["-c", ADD_THEN_SEARCH, str(home), str(sops)],
        tmp_path,
        stdin="disk almost full on /var\nStatusCheckFailed_System on web-1\n",
    )
    assert done.returncode == 0, done.stderr
    added, first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert added["added"] == 2
    assert first["results"][0]["title"] == "Disk almost full"
    assert second["results"][0]["title"] == "EC2 system status check failed"
    assert not (tmp_path / "net.log").exists(), (tmp_path / "net.log").read_text()
