"""Several destinations behind one Notifier: each keeps its own outbox lane and its own delivery state.

One destination being down (or misconfigured) never holds up another: each queues and drains
its own rows under its own name, and each reports its own config error.
"""

from __future__ import annotations

from collections.abc import Sequence

from notify.base import Alert, DeliveryResult, Notifier

# The best news wins: one destination that took the alert means someone was told.
_RANK = {"sent": 0, "queued": 1, "terminal_only": 2}


class FanOutNotifier:
    def __init__(self, destinations: Sequence[Notifier]) -> None:
        names = [d.name for d in destinations]
        if len(set(names)) != len(names):
            raise ValueError(f"destination names must differ (they key the outbox): {names}")
        self.destinations = list(destinations)
        self.name = " + ".join(names) or "alerts"

    @property
    def enabled(self) -> bool:
        return any(d.enabled for d in self.destinations)

    @property
    def config_error(self) -> str | None:
        errors = [f"{d.name}: {d.config_error}" for d in self.destinations if d.config_error]
        return "; ".join(errors) or None

    def describe(self) -> str:
        shown = [d.describe() for d in self.destinations if d.enabled]
        return "; ".join(shown) or "no alert destination configured (alerts in the terminal only)"

    def notify(self, alert: Alert) -> DeliveryResult:
        results = [(d.name, d.notify(alert)) for d in self.destinations if d.enabled]
        if not results:
            return DeliveryResult(status="terminal_only", detail="no alert destination configured: terminal only")
        best = min((r.status for _, r in results), key=_RANK.__getitem__)
        detail = "; ".join(f"{name}: {r.status} {r.detail}".strip() for name, r in results)
        return DeliveryResult(status=best, detail=detail, drained=sum(r.drained for _, r in results))

    def drain(self) -> int:
        return sum(d.drain() for d in self.destinations if d.enabled)

    def pending(self) -> int:
        return sum(d.pending() for d in self.destinations)
