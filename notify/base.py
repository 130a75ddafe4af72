"""What the monitor needs from any alert destination: the Notifier protocol, the Alert it sends, the result.

An Alert is notifier-neutral (tier, alarm, resource, SOP, proposed action); each notifier
renders it in its own format when it sends, so a queued alert is rendered by the code that
delivers it, not by the code that was running when it was queued. A notifier that cannot
deliver now keeps the alert in the outbox (notify/outbox.py) under its own destination name.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

__all__ = ["Alert", "DeliveryResult", "Notifier", "TerminalOnly", "duration"]


class Alert(BaseModel):
    # "decided": a person approved or rejected the proposal (PagerDuty acknowledges, the Slack page says so).
    kind: Literal["open", "repage", "resolved", "decided"]
    tier: int = Field(ge=0, le=2)
    incident_id: str
    alarm: str
    resource_name: str | None
    resource_id: str | None
    summary: str = ""  # untrusted (alarm reason): every notifier escapes it, none lets it ping
    sop_title: str | None = None
    sop_source: str | None = None
    proposal: str | None = None
    risk: str | None = None
    time_to_resolve_seconds: float | None = None
    # A mutating proposal waits for a person: a destination that can take a decision (the Slack app
    # with Socket Mode) shows Approve / Reject on the page.
    awaiting_approval: bool = False
    # Whether an action worked: "recovered 3m 10s after reboot" on a resolve, "action did not help: …" on the
    # page one tier higher. Ours (built from stored facts), never alarm text.
    verification: str | None = None
    # A "decided" alert's line, ours: "approved in Slack by slack:U0123: reboot web-1 → ok".
    decision: str | None = None
    # What was gathered when the incident opened (DESIGN.md `evidence`: metric, logs, status, left_out);
    # rendered by each destination with notify/evidence_text.py. Log lines in it are untrusted.
    evidence: dict[str, Any] = Field(default_factory=dict)
    # The same alert handed over twice (after a crash) carries the same key, and the outbox sends it
    # once; None (a repeat page) is never folded into an earlier send. Set by whoever makes the alert.
    dedup_key: str | None = None


class DeliveryResult(BaseModel):
    status: Literal["sent", "queued", "terminal_only"]
    detail: str = ""
    drained: int = 0  # outbox messages delivered before this one


@runtime_checkable
class Notifier(Protocol):
    """One alert destination (or several behind one face: notify/fanout.py).

    Every method is synchronous and may block on the network; the monitor calls it on a worker
    thread. None of them raises for a delivery problem: that is a `queued` result, and a
    problem a person must fix (a revoked URL) is `config_error` until it is fixed.
    """

    name: str  # names the destination in lines people read and keys its rows in the outbox
    enabled: bool  # False when nothing is configured: every alert is `terminal_only`
    config_error: str | None  # what a person must fix (a revoked URL), until it is fixed

    def describe(self) -> str:
        """One line for a banner: where alerts go, without secrets; built without network I/O."""
        ...

    def notify(self, alert: Alert) -> DeliveryResult:
        """Queue the alert (durably, before trying), then send what is due, oldest first."""
        ...

    def drain(self) -> int:
        """Send what earlier calls left queued; returns how many were delivered."""
        ...

    def pending(self) -> int:
        """How many alerts wait in the outbox for this destination."""
        ...


class TerminalOnly:
    """The notifier when no destination is configured: alerts show in the terminal only."""

    name = "alerts"
    config_error: str | None = None
    enabled = False

    def describe(self) -> str:
        return "no alert destination configured (alerts in the terminal only)"

    def notify(self, alert: Alert) -> DeliveryResult:
        return DeliveryResult(status="terminal_only", detail="no alert destination configured: terminal only")

    def drain(self) -> int:
        return 0

    def pending(self) -> int:
        return 0


def duration(seconds: float | None, unknown: str = "?") -> str:
    """`12s`, `4m 12s`, `2h 5m`: how long something took, for alerts, events and tables."""
    if seconds is None:
        return unknown
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"
