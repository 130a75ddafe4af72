"""The EC2 read tools served in-process, without the MCP SDK, for one-shot commands.

Importing the SDK costs about a second (it builds ~550 pydantic models); a one-shot read such as
`ask "list all instances" --json` needs none of it. These tools are read-only, so no guard applies
to them (the guards and the audit are for mutating calls, which always go through the MCP session);
they run the same functions with the same clients as the registered tools in ec2_tools.py, and give
the same structured content and the same error sentences. Anything else goes through MCP.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mcp_server import fleet
from mcp_server.errors import describe_for, failure_text
from utils.aws import AwsEstate
from utils.config import Settings


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _tags(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()))


# tool -> (its arguments in the fleet function's order, each with a check of its already-valid shape;
# the function). Arguments in any other shape go through MCP, whose validation says what is wrong.
_TOOLS: dict[str, tuple[dict[str, Callable[[Any], bool]], Callable[..., Any]]] = {
    "list_instances": ({"name": _optional_text, "state": _optional_text, "tags": _tags}, fleet.list_instances),
    "describe_instance": ({"instance": lambda v: isinstance(v, str)}, fleet.describe_instance),
    "get_instance_status": ({"instances": lambda v: v is None or _strings(v)}, fleet.get_instance_status),
}
_REQUIRED = {"describe_instance": {"instance"}}
# Where the call reads, as ec2_tools.py takes it (mcp_server/places.py).
_PLACE = {"region": _optional_text, "account": _optional_text}
SERVICE = "EC2"


class LocalReads:
    """The in-process half of a one-shot's tool session: `serves` says which calls it can answer."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._estate: AwsEstate | None = None
        self._lock = threading.Lock()  # an early read on its own thread may build the clients

    @staticmethod
    def serves(tool: str, arguments: dict[str, Any]) -> bool:
        spec = _TOOLS.get(tool)
        if spec is None or not _REQUIRED.get(tool, set()) <= arguments.keys():
            return False
        checks = spec[0] | _PLACE
        return all(name in checks and checks[name](value) for name, value in arguments.items())

    def call(self, tool: str, arguments: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """(structured content, None) as the MCP tool would return it, or (None, its error sentence). Blocking."""
        if not self.serves(tool, arguments):
            raise ValueError(f"{tool} with these arguments is not served in-process")
        with self._lock:
            if self._estate is None:
                self._estate = AwsEstate(self.settings)
        checks, function = _TOOLS[tool]
        describe = lambda e: describe_for(self.settings, e, SERVICE)  # noqa: E731
        try:
            places = fleet.Fleet(self._estate, self.settings, describe, arguments.get("region"),
                                 arguments.get("account"))
            result = function(places, *(arguments.get(name) for name in checks))
        except Exception as exc:
            return None, failure_text(exc, lambda e: describe_for(self.settings, e, SERVICE))
        return result.model_dump(mode="json", by_alias=True), None
