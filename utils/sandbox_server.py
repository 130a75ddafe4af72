"""`sandbox start`'s emulator: a detached process that runs moto, seeded, until `sandbox stop`.

Run as `python -m utils.sandbox_server AIOPS_HOME REGION`. It starts moto on a free loopback
port (with Cost Explorer answering the asked period), seeds the estate, starts a new generation
and only then writes AIOPS_HOME/sandbox/server.json (url, pid, generation, started), so a
reader that finds the file finds a seeded sandbox. SIGTERM (or SIGINT) removes the file and stops.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from utils.sandbox_state import (
    ServerInfo,
    new_generation,
    read_server,
    remove_server_file,
    running_server,
    sandbox_home,
    write_server,
)

LOG_FILE = "server.log"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0


def serve(home: Path, region: str) -> int:
    from utils.sandbox import Sandbox

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    sandbox = Sandbox(region=region)
    sandbox.start()
    try:
        sandbox.seed()
        info = ServerInfo(url=sandbox.url, pid=os.getpid(), generation=new_generation(home),
                          started=time.time(), region=region)
        write_server(home, info)
        sandbox.keep_history_current(stopping)
        print(f"sandbox serving at {info.url}, generation {info.generation}", flush=True)
        while not stopping.wait(1.0):
            pass
    finally:
        remove_server_file(home, pid=os.getpid())
        sandbox.stop()
    return 0


def serve_private(port: int, region: str, parent: int) -> int:
    """A private sandbox for process `parent`: no server.json; says "ready" on stdout once seeded,
    and leaves when told to (SIGTERM) or when its parent is gone."""
    from utils.sandbox import Sandbox
    from utils.sandbox_state import pid_alive

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Nothing of a private sandbox outlives its command: leave at once, not after a graceful
        # shutdown of the HTTP server (~2 s the command would wait for).
        signal.signal(signum, lambda *_: os._exit(0))
    sandbox = Sandbox(region=region)
    sandbox._port = port
    sandbox.start()
    try:
        sandbox.seed(on_fleet=lambda: print("fleet", flush=True))
        sandbox.keep_history_current(stopping)
        print("ready", flush=True)
        while not stopping.wait(0.5):
            if os.getppid() != parent or not pid_alive(parent):
                break
    finally:
        sandbox.stop()
    return 0


def spawn(home: Path, region: str) -> tuple[ServerInfo | None, str | None]:
    """Start the emulator detached; (its info once seeded, None) or (None, why it did not start)."""
    root = sandbox_home(home)
    root.mkdir(parents=True, exist_ok=True)
    repo = Path(__file__).resolve().parent.parent
    with open(root / LOG_FILE, "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "utils.sandbox_server", str(home), region], cwd=repo,
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(repo)},
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if child.poll() is not None:
            return None, f"the emulator exited with status {child.returncode} (see {root / LOG_FILE})"
        info = read_server(home)
        if info is not None and info.pid == child.pid:
            return info, None
        time.sleep(0.05)
    child.terminate()
    return None, f"the emulator did not come up within {START_TIMEOUT:.0f} s (see {root / LOG_FILE})"


def stop(info: ServerInfo) -> bool:
    """SIGTERM the emulator and wait for it to go; True when it went."""
    from utils.sandbox_state import pid_alive

    try:
        os.kill(info.pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if not pid_alive(info.pid):
            return True
        time.sleep(0.05)
    return False


def reset(home: Path, info: ServerInfo) -> ServerInfo:
    """Empty the running emulator (moto's /moto-api/reset), seed it again, start a new generation."""
    from utils.sandbox_places import seed_sandbox

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
    opener.open(urllib.request.Request(f"{info.url}/moto-api/reset", method="POST"), timeout=30).read()
    seed_sandbox(info.url, info.region)
    fresh = ServerInfo(url=info.url, pid=info.pid, generation=new_generation(home), started=info.started,
                       region=info.region)
    write_server(home, fresh)
    return fresh


def is_running(home: Path) -> bool:
    return running_server(home)[0] is not None


def main(argv: list[str]) -> int:
    if argv[:1] == ["--private"]:
        return serve_private(int(argv[1]), argv[2], int(argv[3]))
    return serve(Path(argv[0]), argv[1] if len(argv) > 1 else "us-east-1")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
