"""Run every benchmark in turn; each writes bench/results/<name>.json and prints its figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in ("bench_mcp.py", "bench_startup.py", "bench_sandbox.py", "bench_planner.py", "bench_sop.py",
               "bench_monitor.py", "bench_estate.py"):
    print(f"== {script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], cwd=HERE, check=False)
