"""Test helpers shared across packages (importable, unlike conftest)."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcp.types as mcp_types
from mcp import Client

REPO = Path(__file__).resolve().parent.parent


@dataclass
class AwsEnv:
    url: str
    home: Path
    env: dict[str, str]


@dataclass
class ScriptedPerson:
    """Answers confirmation requests as scripted and remembers what it was shown."""

    answer: str = "accept"  # accept | accept-false | decline | cancel
    shown: list[str] = field(default_factory=list)

    async def __call__(self, _ctx: Any, params: Any) -> mcp_types.ElicitResult:
        self.shown.append(params.message)
        if self.answer == "accept":
            return mcp_types.ElicitResult(action="accept", content={"confirm": True})
        if self.answer == "accept-false":
            return mcp_types.ElicitResult(action="accept", content={"confirm": False})
        return mcp_types.ElicitResult(action=self.answer)


@asynccontextmanager
async def in_memory_client(person: ScriptedPerson | None = None, **overrides: Any):
    """The real server in-process. `person=None` is a client without elicitation support."""
    from mcp_server.server import build_server
    from utils.config import load_settings

    server = build_server(load_settings(**overrides))
    async with Client(server, elicitation_callback=person) as client:
        yield client


def state_of(ec2, instance_id: str) -> str:
    raw = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return raw["State"]["Name"]


def python() -> str:
    return sys.executable
