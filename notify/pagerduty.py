"""PagerDuty Events API v2: a trigger for the tiers that page a person (Tier 0 by default, `[pagerduty] tiers`),
an acknowledge when a person approves or rejects the proposal, the resolve when the alarm clears; `dedup_key` is
the incident id, so PagerDuty keeps one incident per ours.

Through the same outbox as every destination: nothing lost while PagerDuty is unreachable, nothing
sent twice, order kept per incident (a trigger before its resolve). The routing key is a secret: it
is only ever in the request body, never in a log line, a result or an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from notify.base import Alert
from notify.evidence_text import evidence_lines
from notify.lanes import Lane, OutboxNotifier, Outcome
from notify.outbox import OutboxRow

if TYPE_CHECKING:
    from utils.config import Settings

NAME = "PagerDuty"
EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
DEFAULT_TIERS = (0,)
SEVERITY = {0: "critical", 1: "error", 2: "warning"}
RATE_LIMIT_WAIT = 30.0  # PagerDuty's 429 carries no Retry-After; its docs ask for a back-off
_SUMMARY_LIMIT = 1024  # the Events API's own limit on payload.summary
_EVIDENCE_LIMIT = 4000  # a PagerDuty event is at most 512 KB; the evidence is a glance, not a dump


class PagerDutyNotifier(OutboxNotifier):
    name = NAME
    label = "PagerDuty"

    def __init__(self, home: Path, routing_key: str | None, *, events_url: str = EVENTS_URL,
                 tiers: tuple[int, ...] = DEFAULT_TIERS, timeout: float = 10.0, db_path: Path | None = None) -> None:
        self._key = (routing_key or "").strip()
        self.tiers = frozenset(tiers)
        lanes: dict[int, Lane | None] = dict.fromkeys((0, 1, 2))
        if self._key:
            lane = Lane(_where(events_url), ["PAGERDUTY_ROUTING_KEY"])
            client = httpx.Client(timeout=timeout)
            lane.send = lambda body: self._post(lane, client, events_url, body)
            lanes = dict.fromkeys((0, 1, 2), lane)
        super().__init__(home, lanes, lease_seconds=2 * timeout + 60, db_path=db_path)

    @classmethod
    def from_settings(cls, settings: Settings) -> PagerDutyNotifier:
        key = settings.pagerduty_routing_key.get_secret_value() if settings.pagerduty_routing_key else None
        return cls(Path(settings.state_dir), key, events_url=settings.pagerduty_events_url,
                   tiers=tiers_from(settings.pagerduty))

    def describe(self) -> str:
        if not self.enabled:
            return f"{self.name}: not configured"
        return f"{self.name} {self._tier_lane[0].redacted} (Tier {', '.join(map(str, sorted(self.tiers)))})"

    def wants(self, alert: Alert) -> bool:
        # PagerDuty escalates on its own: our repeat pages would only add noise to its incident. A repage after an
        # action that did not help is news (a new trigger on the same dedup_key), and may be the first page here
        # when it raised the tier into ours.
        if alert.kind == "repage" and not alert.verification:
            return False
        return alert.tier in self.tiers

    def render(self, row: OutboxRow) -> dict[str, Any]:
        alert = row.alert
        assert alert is not None  # PagerDuty rows are never adopted from a legacy outbox
        if alert.kind in ("resolved", "decided"):  # a person's yes or no acknowledges; recovery resolves
            action = "resolve" if alert.kind == "resolved" else "acknowledge"
            return {"routing_key": self._key, "event_action": action, "dedup_key": alert.incident_id}
        where = " ".join(p for p in (alert.resource_name, f"({alert.resource_id})" if alert.resource_id else "") if p)
        summary = f"Tier {alert.tier}: {alert.alarm} on {where or 'the estate'}"
        details = {"incident": alert.incident_id, "proposed action": alert.proposal or "none",
                   "risk": alert.risk, "evidence": "\n".join(evidence_lines(alert.evidence))[:_EVIDENCE_LIMIT],
                   "SOP": alert.sop_title, "SOP source": alert.sop_source, "reason": alert.summary}
        return {"routing_key": self._key, "event_action": "trigger", "dedup_key": alert.incident_id,
                "payload": {"summary": summary[:_SUMMARY_LIMIT], "source": alert.resource_id or alert.alarm,
                            "severity": SEVERITY.get(alert.tier, "warning"), "component": alert.resource_name,
                            "custom_details": {k: v for k, v in details.items() if v}}}

    def scrub(self, text: str) -> str:
        return text.replace(self._key, "<routing key>") if self._key else text

    def _post(self, lane: Lane, client: httpx.Client, url: str, body: dict[str, Any]) -> Outcome:
        where = f"PagerDuty {lane.redacted}"
        try:
            resp = client.post(url, json=body)
        except httpx.HTTPError as exc:
            return Outcome(False, f"{where} unreachable: {self.scrub(str(exc)) or type(exc).__name__}")
        if resp.status_code in (200, 201, 202):
            return Outcome(True)
        if resp.status_code == 429:
            return Outcome(False, f"{where} is rate limited (429); retry in {RATE_LIMIT_WAIT:g}s",
                           retry_after=RATE_LIMIT_WAIT)
        if resp.status_code >= 500:
            return Outcome(False, f"{where} returned {resp.status_code}: a problem on PagerDuty's side or on the way")
        errors = _errors(resp)
        return Outcome(False, f"{where} returned {resp.status_code} ({self.scrub(errors)}) — check "
                              "PAGERDUTY_ROUTING_KEY (an Events API v2 integration key)", config_error=True)


def tiers_from(table: dict[str, Any]) -> tuple[int, ...]:
    """`[pagerduty] tiers = [0, 1]` in aiops.toml; Tier 0 alone by default."""
    tiers = table.get("tiers", list(DEFAULT_TIERS))
    if not isinstance(tiers, list) or not tiers or any(t not in (0, 1, 2) or isinstance(t, bool) for t in tiers):
        from utils.config import ConfigError

        raise ConfigError(f"invalid setting pagerduty.tiers: {tiers!r} (a list of tiers among 0, 1 and 2)")
    return tuple(sorted(set(tiers)))


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "<events URL>"


def _errors(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return resp.text.strip()[:120] or "no body"
    found = data.get("errors") or [data.get("message") or "no reason given"]
    return "; ".join(str(e) for e in found)[:200]


__all__ = ["NAME", "PagerDutyNotifier"]
