"""What makes a one-shot read fast, checked without a stopwatch (the figures are in bench/bench_oneshot.py):
one read of the fleet on the wire, and none of the heavy stacks imported that the request does not need."""

import json
import os
import subprocess
import sys

import pytest

from tests.counting_proxy import CountingProxy
from tests.helpers import REPO, state_of

pytestmark = pytest.mark.e2e

# main.py as a script runs it, then the top-level packages it imported, on stderr's last line.
PROBE = """
import runpy, sys
sys.argv = ["main.py", *sys.argv[1:]]
try:
    runpy.run_path("main.py", run_name="__main__")
except SystemExit as exc:
    code = exc.code
sys.stderr.write("\\nMODULES " + " ".join(sorted({m.split(".")[0] for m in sys.modules})) + "\\n")
sys.exit(code)
"""
HEAVY = {"mcp", "mcp_types", "httpx", "langchain_core", "langchain_ollama", "rich", "chromadb", "numpy", "moto",
         "prompt_toolkit"}


def run(env: dict, *args: str):
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env}, cwd=REPO)
    head, _, modules = done.stderr.rpartition("\nMODULES ")
    return done, head.strip(), set(modules.split())


def test_list_all_instances_reads_the_fleet_once_and_imports_no_sdk(estate, aws_env):
    with CountingProxy(aws_env.url) as proxy:
        done, stderr, modules = run({**aws_env.env, "AWS_ENDPOINT_URL": proxy.url}, "ask", "list all instances",
                                    "--json")
    assert done.returncode == 0, stderr
    doc = json.loads(done.stdout)
    assert doc["status"] == "ok" and doc["result"]["count"] == len(estate)
    assert proxy.actions["DescribeInstances"] == 1, proxy.actions
    assert not modules & HEAVY, modules & HEAVY


def test_plan_of_an_action_needs_no_sdk_and_changes_nothing(estate, aws_env, ec2):
    done, stderr, modules = run(aws_env.env, "plan", "stop api-1", "--json")
    assert done.returncode == 0, stderr
    assert json.loads(done.stdout)["targets"] == [{"instance_id": estate["api-1"], "name": "api-1"}]
    assert not modules & HEAVY and state_of(ec2, estate["api-1"]) == "running"


def test_an_action_still_goes_through_the_mcp_server(estate, aws_env, ec2):
    done, stderr, modules = run(aws_env.env, "ask", "stop db-primary", "--yes", "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["status"] == "refused"  # the server's guard said no
    assert "protected" in stderr and "mcp" in modules
    assert state_of(ec2, estate["db-primary"]) == "running"
