"""Which store the monitor uses: `AIOPS_STORE=sqlite` (files under AIOPS_HOME, the default) or
`dynamodb:TABLE` (one table several workers share). Both keep the same methods (`Store` below), so
the monitor, the REPL and `incidents` never ask which one they hold.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

from agent.monitor.change_ledger import ChangeLedger
from agent.monitor.incidents import DB_NAME, IncidentStore, IncidentStoreUnavailable
from agent.monitor.proposals import Proposal
from agent.monitor.records import Approval, Counts, Incident, IncidentHistory, NewIncident, Verification
from utils.config import Settings

__all__ = ["Ledger", "Store", "has_store", "open_ledger", "open_store", "reading_shared_store"]


class Store(Protocol):
    """What the monitor asks of an incident store (agent/monitor/incidents.py, agent/monitor/dynamo_store.py)."""

    clock: Callable[[], float]

    def open_incident(self, new: NewIncident, owner: str) -> Incident | None: ...
    def get(self, incident_id: str | int) -> Incident | None: ...
    def open_incidents(self) -> list[Incident]: ...
    def set_diagnosis(self, seq: int, sops: list[dict[str, Any]], proposal: Proposal | None,
                      note: str | None) -> None: ...
    def set_evidence(self, seq: int, evidence: dict[str, Any], line: str) -> None: ...
    def claim_notification(self, seq: int, owner: str, lease: float, alive: Any = None) -> bool: ...
    def release_notification(self, seq: int, owner: str, detail: str) -> None: ...
    def mark_notified(self, seq: int, detail: str) -> None: ...
    def claim_repage(self, incident: Incident, every: float) -> bool: ...
    def resolve(self, seq: int, detail: str) -> Incident | None: ...
    def action_did_not_help(self, watch: Verification, proposal: Proposal | None, line: str,
                            ttl_seconds: float) -> Incident | None: ...
    def add_approval(self, seq: int, proposal: Proposal, ttl_seconds: float) -> None: ...
    def approval(self, incident_id: str | int) -> Approval | None: ...
    def decide(self, incident_id: str | int, *, approve: bool, by: str, reason: str = "") -> Approval: ...
    def expire_due(self) -> list[Approval]: ...
    def pending(self) -> list[Approval]: ...
    def record_action(self, seq: int, status: str, message: str, by: str, *, auto: bool = False,
                      watch_seconds: float | None = None) -> None: ...
    def verification(self, incident_id: str | int) -> Verification | None: ...
    def watches_due(self) -> list[Verification]: ...
    def history(self, limit: int = 20) -> list[IncidentHistory]: ...
    def history_of(self, incident_id: str | int) -> IncidentHistory | None: ...
    def counts_today(self) -> Counts: ...
    def last_states(self) -> tuple[dict[str, str], float | None]: ...
    def save_states(self, states: dict[str, tuple[str | None, str]]) -> None: ...
    def close(self) -> None: ...


class Ledger(Protocol):
    """The newest alarm change applied per key (agent/monitor/change_ledger.py)."""

    def latest(self, key: str) -> float | None: ...
    def latest_many(self, keys: set[str]) -> dict[str, float]: ...
    def record(self, key: str, changed_at: datetime, state: str) -> bool: ...
    def close(self) -> None: ...


def open_store(settings: Settings, *, clock: Callable[[], float] = time.time) -> Any:
    """The configured store, or IncidentStoreUnavailable saying why it cannot be used."""
    if settings.dynamodb_table is None:
        return IncidentStore(settings.state_dir, clock=clock)
    from agent.monitor.dynamo_store import DynamoIncidentStore
    from utils.dynamo import StoreUnavailable, table_for

    try:
        table = table_for(settings)
        table.ensure()
    except StoreUnavailable as exc:
        raise IncidentStoreUnavailable(str(exc)) from exc
    return DynamoIncidentStore(table, settings.state_dir, clock=clock)


def open_ledger(settings: Settings) -> Any:
    if settings.dynamodb_table is None:
        return ChangeLedger(settings.state_dir)
    from agent.monitor.dynamo_store import DynamoChangeLedger
    from utils.dynamo import table_for

    return DynamoChangeLedger(table_for(settings))


def has_store(settings: Settings) -> bool:
    """Whether there is anything to read (reading must not create a SQLite file or a table where none was)."""
    if settings.dynamodb_table is None:
        return (settings.state_dir / DB_NAME).exists()
    from utils.dynamo import StoreUnavailable, table_for

    try:
        return table_for(settings).exists()
    except StoreUnavailable as exc:
        raise IncidentStoreUnavailable(str(exc)) from exc


@contextlib.contextmanager
def reading_shared_store(settings: Settings) -> Iterator[None]:
    """`incidents --sandbox` / `history --sandbox` on a DynamoDB store: the table is in the sandbox, so attach to
    it (or start a private one, whose table is empty) as the monitor does; SQLite needs no endpoint."""
    if not (settings.sandbox and settings.dynamodb_table):
        yield
        return
    from utils.sandbox import start_private_sandbox

    sandbox = start_private_sandbox(settings)
    try:
        yield
    finally:
        sandbox.stop()
