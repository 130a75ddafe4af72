"""Slack message text for tiered alerts: the words, the colours and the escaping of untrusted text.

The Slack rendering of the notifier-neutral Alert (notify/base.py); notify/slack_webhook.py delivers it.
Message text always carries `Tier N`, the alarm, the resource (name and id), the top SOP and the
proposed action (docs/architecture.md, "Tiers"). Alarm text is untrusted: it is escaped so it can neither
mention (`<!channel>`) nor link; the only mention a message carries is the Tier 0 page's own.
"""

from __future__ import annotations

import re
from typing import Any

from notify.base import Alert, duration
from notify.evidence_text import checks_line, left_out_line, log_head, log_lines, metric_line

__all__ = ["RESOLVED_COLOUR", "TIER_COLOURS", "TIER_NAMES", "build_message", "decision_message", "escape", "status_line"]

TIER_NAMES = {0: "Tier 0 — EMERGENCY", 1: "Tier 1 — CRITICAL", 2: "Tier 2 — WARNING"}
TIER_COLOURS = {0: "#D00000", 1: "#E8590C", 2: "#F2C744"}
RESOLVED_COLOUR = "#2EB67D"
_ICONS = {0: ":rotating_light:", 1: ":red_circle:", 2: ":warning:"}


_MENTION = re.compile(r"<![^>]*>")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")
_SPACES = re.compile(r"[ \t]{2,}")
# Block Kit's limits: a section's text, the blocks of one message (Slack rejects the whole message past them).
SECTION_LIMIT, MAX_BLOCKS = 3000, 50
FENCE = "`" * 3


def escape(text: str | None, limit: int = 2000) -> str:
    """Make untrusted text inert in Slack mrkdwn: no mentions, no links, within a block's size limit."""
    text = _SPACES.sub(" ", _MENTION.sub("", text or "")).strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Plain "@channel" pings when a workspace parses names; a word joiner keeps it readable but inert.
    text = _BROADCAST.sub("@\u2060\\1", text)
    if len(text) > limit:
        text = _PARTIAL_ENTITY.sub("", text[: limit - 1]) + "…"
    return text


def build_message(alert: Alert) -> dict[str, Any]:
    """The webhook payload for an alert.

    `text` is complete on its own (notifications, screen readers and old
    clients show only it); the headline block repeats its first line and a
    coloured attachment carries the details, recovery action first.
    """
    if alert.kind == "decided":
        return decision_message(alert)
    text = _fallback_text(alert)
    colour = RESOLVED_COLOUR if alert.kind == "resolved" else TIER_COLOURS[alert.tier]
    details = _resolved_blocks(alert) if alert.kind == "resolved" else _alert_blocks(alert)
    return {
        "text": text,
        "blocks": [_section(_headline(alert))],
        "attachments": [{"color": colour, "fallback": text, "blocks": _within_limits(details)}],
    }


def decision_message(alert: Alert) -> dict[str, Any]:
    """A person approved or rejected: one line (ours), no mention, for the page's thread or the channel."""
    text = f":ballot_box_with_check: {escape(alert.decision or 'decided', 1000)}"
    return {"text": text, "blocks": [_section(text)]}


def status_line(alert: Alert) -> str:
    """The line a page edited in place gains: what happened to the incident since it was paged."""
    if alert.kind == "decided":
        return escape(alert.decision or "decided", 1000)
    if alert.kind == "resolved":
        return f"Resolved after {_took(alert)}" + _verified(alert)
    if alert.verification:  # a repage after an action's watch: the action did not help
        return f"{escape(alert.verification, 300)} — re-paged {TIER_NAMES[alert.tier]}"
    return ""


def _headline(alert: Alert) -> str:
    tier, alarm, resource = TIER_NAMES[alert.tier], escape(alert.alarm, 300), _resource(alert)
    if alert.kind == "resolved":
        took = _took(alert)
        return (f":white_check_mark: *Resolved* — {tier}: {alarm} on {resource} is back to OK after {took}"
                + _verified(alert))
    ping = "<!channel> " if alert.tier == 0 else ""  # ours, unescaped: the only mention a message may carry
    again = " (still firing — repeat page)" if alert.kind == "repage" else ""
    return f"{ping}{_ICONS[alert.tier]} *{tier}*{again}: {alarm} on {resource}{_verified(alert)}"


def _verified(alert: Alert) -> str:
    """` — recovered 3m 10s after reboot`: whether the action taken on the incident worked."""
    return f" — {escape(alert.verification, 300)}" if alert.verification else ""


def _fallback_text(alert: Alert) -> str:
    tier, alarm, resource = TIER_NAMES[alert.tier], escape(alert.alarm, 300), _resource(alert)
    incident = escape(alert.incident_id, 200)
    if alert.kind == "resolved":
        took = _took(alert)
        back = f"{tier} alarm {alarm} on {resource} is back to OK after {took}{_verified(alert)}"
        return f"Resolved: {back}. Incident {incident} resolved."
    ping = "<!channel> " if alert.tier == 0 else ""
    again = " (still firing — repeat page)" if alert.kind == "repage" else ""
    parts = [f"{ping}{tier}{again}: {alarm} on {resource}{_verified(alert)}.", f"Proposed action: {_proposal(alert)}."]
    seen = [line for line in (metric_line(alert.evidence), checks_line(alert.evidence)) if line]
    if seen:  # recovery first: the action, then what it is based on, then the SOP
        parts.append(f"Evidence: {escape('; '.join(seen), 600)}.")
    parts.append(f"SOP: {escape(alert.sop_title, 300) or 'none found'}.")
    reason = escape(alert.summary, 1500)
    if reason:
        parts.append(f"Reason: {reason}" + ("" if reason.endswith((".", "!", "?", "…")) else "."))
    parts.append(f"Incident {incident}.")
    return " ".join(parts)


def _alert_blocks(alert: Alert) -> list[dict[str, Any]]:
    sop = escape(alert.sop_title, 300) or "none found"
    if alert.sop_source:
        sop += f"\n{escape(alert.sop_source, 500)}"
    blocks = [
        _section(f"*Proposed action*\n{_proposal(alert)}"),
        *_evidence_blocks(alert),  # recovery first: the action, the evidence, then the SOP
        _section(f"*Top SOP*\n{sop}"),
        _fields(
            ("Alarm", escape(alert.alarm, 300)),
            ("Resource", _resource(alert)),
            ("Tier", TIER_NAMES[alert.tier]),
            ("Incident", escape(alert.incident_id, 200)),
        ),
    ]
    if escape(alert.summary):
        blocks.append(_section(f"*Reason*\n{escape(alert.summary, 2500)}"))
    return blocks


def _evidence_blocks(alert: Alert) -> list[dict[str, Any]]:
    """One section: the metric's sparkline, the status checks, the log lines in a code block, what was left out."""
    evidence = alert.evidence or {}
    heads = [escape(line, 600) for line in (metric_line(evidence), checks_line(evidence), log_head(evidence)) if line]
    # Log text is untrusted: escaped, and no run of backticks may close the code block early.
    logs = [escape(line, 500).replace("`", "'") for line in log_lines(evidence)]
    left = left_out_line(evidence)
    if not heads and not left:
        return []
    text = "*Evidence*\n" + "\n".join(heads)
    if logs:
        text += "\n" + FENCE + "\n".join(logs) + FENCE
    if left:
        text += f"\n_{escape(left, 500)}_"
    return [_section(_fit(text))]


def _fit(text: str) -> str:
    """A section's text within Block Kit's 3,000 characters, cut with a visible "…" (a code block stays closed)."""
    if len(text) <= SECTION_LIMIT:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: SECTION_LIMIT - 4]) + "…"
    return cut + FENCE if cut.count(FENCE) % 2 else cut


def _within_limits(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most MAX_BLOCKS blocks; past it, the last one says how many were left out."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[: MAX_BLOCKS - 1], _section(f"… {len(blocks) - MAX_BLOCKS + 1} more parts left out (Slack's limit)")]


def _resolved_blocks(alert: Alert) -> list[dict[str, Any]]:
    return [
        _fields(
            ("Alarm", escape(alert.alarm, 300)),
            ("Resource", _resource(alert)),
            ("Time to resolve", _took(alert)),
            ("Incident", escape(alert.incident_id, 200)),
        ),
    ]


def _proposal(alert: Alert) -> str:
    text = escape(alert.proposal, 1000) or "none — investigate"
    return f"{text} (risk: {escape(alert.risk, 100)})" if alert.risk else text


def _resource(alert: Alert) -> str:
    name, rid = escape(alert.resource_name, 200), escape(alert.resource_id, 200)
    if name and rid and name != rid:
        return f"{name} ({rid})"
    return name or rid or "no specific resource"


def _took(alert: Alert) -> str:
    return duration(alert.time_to_resolve_seconds, unknown="an unknown time")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _fields(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in pairs]}
