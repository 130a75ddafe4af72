"""The sandbox from a fresh process: server start, seeding, and `sandbox start` + attached one-shots.

Each figure is a new Python process, as a user's command is (a warm process hides import costs).
The issue 10 target: seeding well under 2 s from a fresh process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from common import REPO, ms, save

RUNS = 5
LOAD = os.getloadavg()[0]
PROBE = """
import json, time
t0, c0 = time.perf_counter(), time.process_time()
from utils.sandbox import Sandbox
s = Sandbox(); s.start(); t1, c1 = time.perf_counter(), time.process_time()
s.seed(); t2, c2 = time.perf_counter(), time.process_time()
s.stop()
print(json.dumps({"start": t1 - t0, "seed": t2 - t1, "seed_cpu": c2 - c1, "start_cpu": c1 - c0}))
"""


def fresh_seed() -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def one_shot(home: str, *words: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "main.py", "--sandbox", *words], cwd=REPO, capture_output=True, check=True,
                   env={**os.environ, "AIOPS_HOME": home})
    return time.perf_counter() - started


def attached(runs: int = RUNS) -> dict[str, dict[str, float]]:
    home = tempfile.mkdtemp()
    env = {**os.environ, "AIOPS_HOME": home}
    subprocess.run([sys.executable, "main.py", "sandbox", "start"], cwd=REPO, env=env, check=True,
                   capture_output=True)
    try:
        list_json = ["ask", "list all instances", "--json", "--planner", "rules"]
        return {"ask_list_attached": ms([one_shot(home, *list_json) for _ in range(runs)])}
    finally:
        subprocess.run([sys.executable, "main.py", "sandbox", "stop"], cwd=REPO, env=env, capture_output=True)


def private(runs: int = 3) -> dict[str, dict[str, float]]:
    home = tempfile.mkdtemp()
    list_json = ["ask", "list all instances", "--json", "--planner", "rules"]
    return {"ask_list_private_sandbox": ms([one_shot(home, *list_json) for _ in range(runs)])}


def repl_first_answer() -> dict[str, float]:
    """Launch the REPL on a private sandbox; time to the prompt and to the first answer."""
    import pexpect

    env = {**os.environ, "AIOPS_HOME": tempfile.mkdtemp(), "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"}
    started = time.perf_counter()
    child = pexpect.spawn(sys.executable, [str(REPO / "main.py"), "--sandbox", "--planner", "rules"], cwd=str(REPO),
                          env=env, encoding="utf-8", timeout=90, dimensions=(45, 160))
    child.expect_exact("aiops>")
    prompt = time.perf_counter() - started
    child.sendline("list all instances")
    child.expect("worker-2")
    answer = time.perf_counter() - started
    child.sendline("exit")
    child.expect(pexpect.EOF)
    return {"prompt": prompt, "answer": answer}


def main() -> None:
    seeds = [fresh_seed() for _ in range(RUNS)]
    figures = {"fresh_process_server_start": ms([s["start"] for s in seeds]),
               "fresh_process_seed": ms([s["seed"] for s in seeds]),
               # CPU seconds (both threads) say more than wall time on a shared, loaded machine.
               "fresh_process_start_cpu": ms([s["start_cpu"] for s in seeds]),
               "fresh_process_seed_cpu": ms([s["seed_cpu"] for s in seeds])}
    repl = [repl_first_answer() for _ in range(3)]
    figures["repl_time_to_prompt"] = ms([r["prompt"] for r in repl])
    figures["repl_time_to_first_answer"] = ms([r["answer"] for r in repl])
    figures.update(private())
    figures.update(attached())
    figures["load_average_1min_at_start"] = round(LOAD, 2)
    save("sandbox", figures)
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
