"""What a tool call comes back as, and what a confirmation asks: plain data, no MCP SDK.

A one-shot read plans and answers without importing the SDK (agent/oneshot_session.py), so these
types live apart from the session that speaks MCP (agent/mcp_client.py re-exports them).
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, Field

# Where the server puts a confirmation's facts: on the `confirm` property of the requested schema.
CONFIRMATION_KEY = "x-aiops-confirmation"


class ConfirmTarget(BaseModel):
    instance_id: str
    name: str | None = None
    state: str | None = None
    env: str | None = None
    # Where it lives (DESIGN.md, "The estate": every confirmation shows account and region per target).
    account: str | None = None
    region: str | None = None


class ConfirmationRequest(BaseModel):
    """What the server asks a person to confirm: the facts as data, and the same in words.

    `action` is None when the server sent no facts (another server, or an older one); a confirmer
    then has only `message` to show, and the ones that consent automatically refuse.
    """

    message: str
    action: str | None = None
    tool: str | None = None
    risk: str | None = None
    consequence: str | None = None
    production: bool = False
    targets: list[ConfirmTarget] = Field(default_factory=list)

    @classmethod
    def from_params(cls, params: Any) -> ConfirmationRequest:
        message = getattr(params, "message", "") or ""
        schema = getattr(params, "requested_schema", None) or {}
        answer = (schema.get("properties") or {}).get("confirm") if isinstance(schema, dict) else None
        facts = answer.get(CONFIRMATION_KEY) if isinstance(answer, dict) else None
        if not isinstance(facts, dict):
            return cls(message=message)
        try:
            return cls(message=message, **facts)
        except ValueError:  # malformed facts: show the words, consent to nothing automatically
            return cls(message=message)


Confirmer = Callable[[ConfirmationRequest], Awaitable[bool]]

_confirmer: contextvars.ContextVar[Confirmer | None] = contextvars.ContextVar("confirmer", default=None)


class ToolOutcome(BaseModel):
    """A tool call's result as the agent uses it; failures are data, not exceptions."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    status: str = Field(description="ok | dry_run | declined | refused | unconfirmed | error")
    message: str = ""
    data: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status in {"ok", "dry_run"}
