"""What every tool shares for the life of the server: settings, AWS clients, the audit log."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from mcp_server.errors import describe_for, failure_text
from mcp_server.guards import BlastWindow
from utils.audit import AuditLog, AuditUnavailable
from utils.audit_store import open_audit
from utils.aws import AwsClients, AwsEstate
from utils.config import Settings

T = TypeVar("T")

# How long a tool waits for an embedded sandbox that is still seeding.
SANDBOX_READY_TIMEOUT = 60


@dataclass
class ServerState:
    settings: Settings
    audit: AuditLog | None = None
    audit_error: str | None = None
    # Set when the AWS endpoint is usable; an embedded sandbox sets it after seeding.
    ready: threading.Event = field(default_factory=threading.Event)
    startup_error: str | None = None
    tool_names: frozenset[str] | None = None  # the catalog, for checking SOP recoveries
    window: BlastWindow | None = None  # targets of destructive calls per caller, over a rolling window
    _estate: AwsEstate | None = None
    _sop_store: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, settings: Settings) -> ServerState:
        state = cls(settings=settings, window=BlastWindow(settings.max_targets_per_window,
                                                         settings.target_window_seconds))
        try:
            state.audit = open_audit(settings)  # AIOPS_STORE: SQLite file or the shared DynamoDB table
        except AuditUnavailable as exc:
            state.audit_error = str(exc)
        return state

    @property
    def estate(self) -> AwsEstate:
        with self._lock:
            if self._estate is None:
                self._estate = AwsEstate(self.settings)
            return self._estate

    def clients_for(self, account: str | None = None, region: str | None = None) -> AwsClients:
        """One place's AWS clients (None: the session's own account, or its region), built once per process.

        Tools read this outside `run_aws`, so a client that cannot be built (an unknown account or profile,
        a malformed endpoint) is a ToolError here, not a crash the SDK logs."""
        try:
            return self.estate.clients(account or self.settings.account_names[0], region or self.settings.region)
        except Exception as exc:
            raise ToolError(failure_text(exc, self.describe)) from exc

    @property
    def clients(self) -> AwsClients:
        """The session's own account in its own region (Cost Explorer, which is one per account)."""
        return self.clients_for()

    def fleet(self, region: str | None = None, account: str | None = None):
        """The places a call covers (mcp_server/fleet.py); an unknown account or region raises UnknownPlace."""
        from mcp_server.fleet import Fleet

        return Fleet(self.estate, self.settings, self.describe, region, account)

    def describe(self, exc: BaseException, service: str = "AWS") -> str:
        return describe_for(self.settings, exc, service)

    def sop_store(self):
        with self._lock:
            if self._sop_store is None:
                from sop.store import SopStore  # chromadb is slow to import: only when asked

                self._sop_store = SopStore.shared(self.settings.home, known_tools=self.tool_names)
            return self._sop_store

    def wait_ready(self) -> None:
        if not self.ready.wait(SANDBOX_READY_TIMEOUT):
            raise ToolError("SandboxNotReady: the AWS sandbox is still starting; try again in a moment")
        if self.startup_error:
            raise ToolError(self.startup_error)


def state_of(ctx: Context) -> ServerState:
    return ctx.request_context.lifespan_context


async def run_aws(state: ServerState, fn: Callable[..., T], *args: Any, service: str = "AWS",
                  needs_aws: bool = True, **kwargs: Any) -> T:
    """Run blocking work off the event loop; failures become tool errors a person can act on.

    `needs_aws=False` for work that never calls AWS (the SOP store): it need not wait for a sandbox.
    """

    def call() -> T:
        if needs_aws:
            state.wait_ready()
        return fn(*args, **kwargs)

    try:
        return await anyio.to_thread.run_sync(call)
    except ToolError:
        raise
    except Exception as exc:
        raise ToolError(failure_text(exc, lambda e: state.describe(e, service))) from exc


# A client acting for a person it vouches for (a Slack approver) names them in the request's `_meta`;
# the audit row then says who, not which process. Like the client's own name, it is not authenticated:
# it changes what the audit says, never what the guards allow.
ON_BEHALF_OF = "aiops/on-behalf-of"
_PERSON = re.compile(r"slack:[A-Z0-9]{2,20}")


def caller_of(ctx: Any) -> str:
    """The client's self-declared name, for the audit trail (never authenticated, never a secret).

    `ctx`: a tool's Context, or the low-level request context the consent resolver gets."""
    request = ctx.request_context if isinstance(ctx, Context) else ctx
    meta = getattr(request, "meta", None) or {}
    person = meta.get(ON_BEHALF_OF) if isinstance(meta, dict) else None
    if isinstance(person, str) and _PERSON.fullmatch(person):
        return person
    return caller_of_session(ctx.session)


def caller_of_session(session: Any) -> str:
    try:
        info = session.client_params.client_info
        return f"{info.name}/{info.version}"[:200] if info else "mcp-client"
    except Exception:
        return "mcp-client"
