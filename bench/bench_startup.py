"""Time from launching `main.py --sandbox` to the REPL prompt, on a pseudo-terminal (issue 3 target: < 2 s)."""

from __future__ import annotations

import os
import sys
import tempfile
import time

import pexpect
from common import REPO, ms, save

RUNS = 5


def time_to_prompt() -> float:
    env = {**os.environ, "AIOPS_HOME": tempfile.mkdtemp(), "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"}
    started = time.perf_counter()
    child = pexpect.spawn(sys.executable, [str(REPO / "main.py"), "--sandbox"], cwd=str(REPO), env=env,
                          encoding="utf-8", timeout=60)
    child.expect_exact("aiops>")
    elapsed = time.perf_counter() - started
    child.sendline("exit")
    child.expect(pexpect.EOF)
    return elapsed


def main() -> None:
    save("startup", {"sandbox_repl_time_to_prompt": ms([time_to_prompt() for _ in range(RUNS)])})


if __name__ == "__main__":
    main()
