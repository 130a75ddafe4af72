"""A sandbox that is still seeding: a request waits only for the part of the estate it needs."""

from __future__ import annotations

import asyncio

from agent.mcp_client import open_session
from agent.runtime import SeedingGate
from utils.config import load_settings
from utils.sandbox import Sandbox


async def test_fleet_calls_go_once_the_instances_exist_and_the_rest_wait_for_the_whole_estate(estate):
    sandbox = Sandbox()
    sandbox.fleet_ready.set()  # instances seeded; alarms, metrics, logs and costs not yet
    async with open_session(load_settings()) as session:
        gate = SeedingGate(session, sandbox)
        listed = await asyncio.wait_for(gate.call("list_instances", {}), 30)
        alarms = asyncio.create_task(gate.call("list_alarms", {}))
        await asyncio.sleep(0.5)
        waiting = not alarms.done()
        sandbox._done(None)  # the seed finished
        answered = await asyncio.wait_for(alarms, 30)
    assert listed.ok and len(listed.data["instances"]) == len(estate)
    assert waiting and answered.ok and answered.data["firing"] == 2
