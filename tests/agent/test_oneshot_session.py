"""A one-shot's tool session: EC2 reads in-process give what the MCP server gives; everything else goes
through the one MCP session; a request is answered with one read of the fleet, not two."""

from __future__ import annotations

import asyncio
import socket
from contextlib import AsyncExitStack

import pytest

from agent.catalog import Catalog
from agent.chatops import ChatOps
from agent.mcp_client import open_session
from agent.model.host import nothing_listens
from agent.model.planner import OllamaPlanner
from agent.oneshot_session import OneShotSession
from agent.runtime import choose_planner
from mcp_server.catalog import declared_tools
from tests.counting_proxy import CountingProxy
from tests.helpers import state_of
from utils.config import load_settings

READS = [
    "list all instances",
    "list running instances",
    "show prod instances",
    "describe api-1",
    "is web-server healthy?",
    "status of all instances",
    "describe i-0123456789abcdef0",  # the server's own error sentence, not the planner's
]


async def yes(_request) -> bool:
    return True


async def _answers_over_mcp(texts: list[str]) -> list[dict]:
    async with open_session(load_settings(), client_name="aiops-ask") as session:
        chat = ChatOps(session)
        return [(await chat.run(text)).as_json() for text in texts]


async def _answers_in_process(texts: list[str]) -> tuple[list[dict], OneShotSession]:
    async with AsyncExitStack() as stack:
        session = OneShotSession(load_settings(), "aiops-ask", stack)
        answers = []
        for text in texts:  # a fresh ChatOps per request, as each `ask` is its own process
            answers.append((await ChatOps(session).run(text)).as_json())
        return answers, session


async def test_in_process_reads_answer_as_the_mcp_server_does(estate):
    over_mcp = await _answers_over_mcp(READS)
    in_process, session = await _answers_in_process(READS)
    assert not session.opened  # not one of these needed the SDK
    for text, expected, got in zip(READS, over_mcp, in_process, strict=True):
        assert got == expected, text
    assert in_process[0]["status"] == "ok" and in_process[0]["result"]["count"] == len(estate)
    assert in_process[-1]["status"] == "error" and "i-0123456789abcdef0" in in_process[-1]["message"]


@pytest.mark.parametrize("over_mcp", [False, True], ids=["one-shot", "mcp-session"])
async def test_list_all_instances_reads_the_fleet_once(estate, aws_env, monkeypatch, over_mcp):
    with CountingProxy(aws_env.url) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        if over_mcp:
            [doc] = await _answers_over_mcp(["list all instances"])
        else:
            [doc], _session = await _answers_in_process(["list all instances"])
    assert doc["status"] == "ok" and doc["result"]["count"] == len(estate)
    assert proxy.actions["DescribeInstances"] == 1, proxy.actions


async def test_a_filtered_list_still_reads_what_it_asks_for(estate, aws_env, monkeypatch):
    with CountingProxy(aws_env.url) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        [doc], _session = await _answers_in_process(["list running instances"])
    assert doc["arguments"] == {"state": "running"}
    assert {i["state"] for i in doc["result"]["instances"]} == {"running"}
    assert proxy.actions["DescribeInstances"] == 2  # the context, then the filtered list: not the same call


async def test_mutations_go_through_the_mcp_session_and_its_guards(estate, ec2):
    async with AsyncExitStack() as stack:
        session = OneShotSession(load_settings(), "aiops-ask", stack)
        plan = await ChatOps(session).plan("stop api-1")
        assert plan.call.tool == "stop_instances" and not session.opened  # planning needs no SDK
        assert [t.name for t in plan.targets] == ["api-1"]
        declined = await ChatOps(session).run("stop api-1", None)
        assert session.opened and declined.status == "declined"
        assert state_of(ec2, estate["api-1"]) == "running"
        refused = await ChatOps(session).run("stop db-primary", yes)  # tagged aiops:protected=true
        assert refused.status == "refused" and state_of(ec2, estate["db-primary"]) == "running"
        done = await ChatOps(session).run("stop api-1", yes)
    assert done.status == "ok" and state_of(ec2, estate["api-1"]) in {"stopping", "stopped"}


async def test_the_declared_catalog_is_the_one_the_server_serves(aws_env):
    async with open_session(load_settings()) as session:
        served = list(session.catalog)
    declared = list(Catalog(declared_tools()))
    strip = [(f.name, f.read_only, f.destructive, f.targets, f.risk, f.end_state) for f in served]
    assert strip == [(f.name, f.read_only, f.destructive, f.targets, f.risk, f.end_state) for f in declared]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_no_ollama_is_told_without_the_model_stack_in_the_probes_words(monkeypatch):
    host = f"http://127.0.0.1:{_closed_port()}"
    assert await nothing_listens(host)
    monkeypatch.setenv("OLLAMA_HOST", host)
    settings = load_settings()
    model, note = await choose_planner(settings)
    problem = await OllamaPlanner.from_settings(settings).probe()
    assert model is None and note == f"{problem} — using the offline planner"


async def test_a_listening_or_unusual_host_is_left_to_the_real_probe():
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        assert not await nothing_listens(f"127.0.0.1:{port}")
        assert not await nothing_listens(f"http://user:pw@127.0.0.1:{_closed_port()}")
        assert not await nothing_listens(f"http://127.0.0.1:{_closed_port()}/ollama")
        assert not await nothing_listens("http://[::1")  # malformed: the probe has the message for it
    finally:
        server.close()
        await server.wait_closed()
