"""MCP overhead, start-up and name-resolution figures for the README (issue 2 and 3 targets).

- A tool call through MCP (stdio) vs the same boto3-backed function called directly, interleaved.
- `main.py --help` wall time; spawn + `initialize` of `main.py mcp`; `plan --json` as a process.
- Name resolution over a 5,000-instance inventory once fetched.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time

from common import REPO, ms, save, start_moto

ROUNDS = 200


async def overhead(url: str) -> dict:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    from mcp_server.ec2 import list_instances
    from utils.aws import build_clients
    from utils.config import load_settings
    from utils.sandbox import seed_estate

    seed_estate(url)
    ec2 = build_clients(load_settings()).ec2
    params = StdioServerParameters(command=sys.executable, args=[str(REPO / "main.py"), "mcp"],
                                   env=dict(os.environ), cwd=str(REPO))
    direct, through = [], []
    async with Client(params) as client:
        await client.call_tool("list_instances", {})
        list_instances(ec2)
        for _ in range(ROUNDS):  # interleaved so machine noise hits both sides alike
            t = time.perf_counter()
            list_instances(ec2)
            direct.append(time.perf_counter() - t)
            t = time.perf_counter()
            await client.call_tool("list_instances", {})
            through.append(time.perf_counter() - t)
    d, m = ms(direct), ms(through)
    return {"direct": d, "mcp_stdio": m, "added_median_ms": round(m["median_ms"] - d["median_ms"], 3)}


async def initialize_time() -> dict:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    samples = []
    for _ in range(5):
        params = StdioServerParameters(command=sys.executable, args=[str(REPO / "main.py"), "mcp"],
                                       env=dict(os.environ), cwd=str(REPO))
        t = time.perf_counter()
        async with Client(params, mode="legacy") as client:
            samples.append(time.perf_counter() - t)
            await client.list_tools()
    return ms(samples)


def process_time(*args: str, runs: int = 5) -> dict:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, str(REPO / "main.py"), *args], capture_output=True, check=False)
        samples.append(time.perf_counter() - t)
    return ms(samples)


def resolution() -> dict:
    from mcp_server.inventory import FleetIndex
    from mcp_server.models import InstanceSummary

    fleet = [InstanceSummary(instance_id=f"i-{n:017x}", name=f"svc-{n % 500}-node-{n}", state="running",
                             tags={"Name": f"svc-{n % 500}-node-{n}"}) for n in range(5000)]
    t = time.perf_counter()
    index = FleetIndex(fleet)
    build = time.perf_counter() - t
    refs = [f"SVC {n % 500} node {n}" for n in range(0, 5000, 5)]
    t = time.perf_counter()
    for ref in refs:
        index.resolve(ref)
    per_ref = (time.perf_counter() - t) / len(refs)
    return {"instances": 5000, "index_build_ms": round(build * 1000, 2),
            "resolve_per_reference_ms": round(per_ref * 1000, 4), "references": len(refs)}


def main() -> None:
    server, url = start_moto()
    os.environ["AIOPS_HOME"] = tempfile.mkdtemp()
    try:
        figures = {
            "mcp_overhead_list_instances": asyncio.run(overhead(url)),
            "mcp_initialize_s": asyncio.run(initialize_time()),
            "help_process": process_time("--help"),
            "plan_json_process": process_time("--planner", "rules", "plan", "stop the web server", "--json"),
            "name_resolution": resolution(),
        }
    finally:
        server.stop()
    save("mcp", figures)


if __name__ == "__main__":
    main()
