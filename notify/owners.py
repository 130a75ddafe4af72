"""Who holds a claim, and whether that process is still alive: an flock per owner in `<home>/owners/`.

A claim (an outbox row being posted, an incident's first page) names its owner. A lease alone
makes a crashed owner's claim block for minutes; instead every owner holds an exclusive flock on
its own file for as long as it lives, and the kernel drops the lock the moment the process dies
(kill -9 included). Another process that can take the lock knows the owner is gone and takes
the claim over at once; one that cannot knows the owner is alive (maybe slow) and leaves it
alone until the lease runs out. The flock works across processes and containers on one host,
which is where a SQLite file can be shared anyway; pids would be reused and differ per container.

Where flock is unavailable or the directory is unwritable, an owner has no file and others
fall back to the lease.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: leases only
    fcntl = None  # type: ignore[assignment]

__all__ = ["OWNERS_DIR", "Owner", "owner_alive"]

log = logging.getLogger(__name__)

OWNERS_DIR = "owners"
# A dead owner's file is removed once every claim it could have held is long past its lease.
_SWEEP_AFTER_SECONDS = 24 * 3600


class Owner:
    """This process's (or this object's) name on claims, kept alive by an flock until close()."""

    def __init__(self, home: Path) -> None:
        self.directory = Path(home) / OWNERS_DIR
        # Unique per instance, not per pid: two notifiers in one test process must act like two processes.
        self.name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._fd: int | None = None
        if fcntl is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.directory / f"{self.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            log.info("no liveness file for %s (%s): its claims fall back to the lease", self.name, exc)
            return
        self._fd = fd
        _sweep(self.directory)

    def close(self) -> None:
        """Drop the lock (the file stays, so others see this owner gone, not unknown)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()


def owner_alive(home: Path, owner: str | None) -> bool | None:
    """True while `owner` lives, False once it died, None when it cannot be told (no file: use the lease)."""
    if not owner or fcntl is None or "/" in owner:
        return None
    try:
        fd = os.open(Path(home) / OWNERS_DIR / f"{owner}.lock", os.O_RDWR)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    finally:
        os.close(fd)  # also drops the lock we may have just taken
    return False


def _sweep(directory: Path) -> None:
    """Remove files of owners dead for a day; a live owner's lock cannot be taken, so its file stays."""
    cutoff = time.time() - _SWEEP_AFTER_SECONDS
    for path in directory.glob("*.lock"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff and owner_alive(directory.parent, path.stem) is False:
                path.unlink()
