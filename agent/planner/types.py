"""What a planner receives and returns. Shared by the Ollama and offline planners."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class InventoryItem(BaseModel):
    """One EC2 instance as the planner sees it (from the list_instances tool)."""

    instance_id: str
    name: str | None = None
    state: str = "unknown"
    instance_type: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    # Where it lives, as its list_instances row says (None: the row did not say; one place only).
    region: str | None = None
    account: str | None = None


class PlanningContext(BaseModel):
    """The live facts a planner may use to resolve what the user referred to."""

    instances: list[InventoryItem] = Field(default_factory=list)
    # None: not fetched yet. Only log requests need them, so the caller fetches them on demand.
    log_groups: list[str] | None = None
    # Why the instances could not be read (None: they were): an empty fleet is then no reason to say
    # "no instance named ...".
    inventory_error: str | None = None
    # The configured account names and regions (aiops.toml): what "the prod account" and "all regions"
    # can mean. Empty: not known, and an account word goes to the server as written.
    accounts: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)


class PlannedCall(BaseModel):
    """One tool call on the MCP server, with arguments named as in the tool catalog."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    planner: str = "rules"


class Clarification(BaseModel):
    """The request cannot be planned as is; `message` says why, `candidates` what might be meant."""

    message: str
    candidates: list[str] = Field(default_factory=list)
    needs: str | None = Field(None, description="What the planner lacks to answer (\"log_groups\"); the caller "
                                                "supplies it and asks again")
