"""Where the sandbox keeps its state, apart from real state, and which sandbox is running.

    AIOPS_HOME/sandbox/
      server.json           the running `sandbox start` emulator: url, pid, generation, started
      current               the generation the last seeded sandbox started
      generations/<gen>/    that generation's incidents, audit log, outbox and owner files
      repl_history          the REPL's typed lines with --sandbox (kept across generations)

Every seeding of an estate (a private sandbox, `sandbox start`, `sandbox reset`) starts a new
generation with an empty state directory, so nothing from one sandbox's past is counted,
resolved or paged against another's fleet. `incidents --sandbox` and `history --sandbox` read
the running sandbox's generation, else the last one.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from utils.config import Settings

SERVER_FILE = "server.json"
CURRENT_FILE = "current"
GENERATIONS_DIR = "generations"
KEEP_GENERATIONS = 5


@dataclass(frozen=True)
class ServerInfo:
    url: str
    pid: int
    generation: str
    started: float
    region: str = "us-east-1"

    def as_json(self) -> str:
        return json.dumps({"url": self.url, "pid": self.pid, "generation": self.generation,
                           "started": self.started, "region": self.region})


def sandbox_home(home: Path) -> Path:
    return Path(home) / "sandbox"


def generation_dir(home: Path, generation: str) -> Path:
    return sandbox_home(home) / GENERATIONS_DIR / generation


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def new_generation(home: Path) -> str:
    """A fresh generation: its own empty state directory, recorded as current; old ones pruned."""
    now = time.time()  # sortable to the microsecond, so pruning keeps the newest
    generation = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1e6) % 1_000_000:06d}-" + \
        secrets.token_hex(2)
    generation_dir(home, generation).mkdir(parents=True, exist_ok=True)
    _write_atomically(sandbox_home(home) / CURRENT_FILE, generation + "\n")
    _prune(home, keep={generation})
    return generation


def current_generation(home: Path) -> str | None:
    try:
        text = (sandbox_home(home) / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text if text and "/" not in text and not text.startswith(".") else None


def _prune(home: Path, keep: set[str]) -> None:
    """Keep the newest generations (and any a running sandbox uses); older state is deleted."""
    root = sandbox_home(home) / GENERATIONS_DIR
    running = read_server(home)
    if running is not None:
        keep = keep | {running.generation}
    try:
        names = sorted((p.name for p in root.iterdir() if p.is_dir()), reverse=True)
    except OSError:
        return
    for name in names[KEEP_GENERATIONS:]:
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)


def read_server(home: Path) -> ServerInfo | None:
    """What server.json says, without checking it; None when absent or unreadable."""
    try:
        raw = json.loads((sandbox_home(home) / SERVER_FILE).read_text(encoding="utf-8"))
        return ServerInfo(url=str(raw["url"]), pid=int(raw["pid"]), generation=str(raw["generation"]),
                          started=float(raw["started"]), region=str(raw.get("region") or "us-east-1"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_server(home: Path, info: ServerInfo) -> None:
    _write_atomically(sandbox_home(home) / SERVER_FILE, info.as_json() + "\n")


def remove_server_file(home: Path, pid: int | None = None) -> None:
    """Remove server.json (only if it still names `pid`, when given)."""
    info = read_server(home)
    if pid is not None and info is not None and info.pid != pid:
        return
    (sandbox_home(home) / SERVER_FILE).unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) is not a server.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def port_answers(url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"} or parts.port is None:
        return False  # a sandbox is on loopback, always
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            return True
    except OSError:
        return False


def running_server(home: Path) -> tuple[ServerInfo | None, str | None]:
    """(the live `sandbox start` emulator, None) or (None, why a server.json was ignored, or None if none)."""
    info = read_server(home)
    if info is None:
        if (sandbox_home(home) / SERVER_FILE).exists():
            return None, f"{sandbox_home(home) / SERVER_FILE} is unreadable; ignored"
        return None, None
    if not pid_alive(info.pid):
        return None, f"stale {SERVER_FILE}: process {info.pid} is gone"
    if not port_answers(info.url):
        return None, f"stale {SERVER_FILE}: nothing answers at {info.url} (pid {info.pid})"
    return info, None


def point_at_sandbox_state(settings: Settings) -> ServerInfo | None:
    """With --sandbox: use the running sandbox's generation (returned), else the last generation's state."""
    info, _stale = running_server(settings.home)
    generation = info.generation if info is not None else current_generation(settings.home)
    if generation is not None:
        settings.use_sandbox_state(generation_dir(settings.home, generation))
    else:
        settings.use_sandbox_state(generation_dir(settings.home, "none"))
    return info
