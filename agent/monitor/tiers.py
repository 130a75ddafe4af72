"""Tier rules (docs/architecture.md, "Tiers"): which page an alarm deserves.

Tier 0 EMERGENCY is production down: a status-check alarm or an unreachable instance on a
prod/production instance (its env tag, or an account aiops.toml names or marks prod/production), or any alarm named (or instance tagged) sev0/p0/emergency.
Tier 1 CRITICAL: any other alarm on a prod/production or critical instance. Tier 2 WARNING:
everything else, a staging or dev instance that is down included (DESIGN.md, "Tiers").

`aiops.toml` may add glob patterns on the alarm name:

    [tiers]
    tier0 = ["*payment*"]
    tier1 = ["*checkout*"]
    tier2 = ["*batch*"]
    prod_envs = ["prod", "production", "live"]

Patterns are checked before the built-in rules, Tier 0 first, so a team can both raise and
lower an alarm; the first matching pattern wins.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from utils.config import ConfigError

TIER0, TIER1, TIER2 = 0, 1, 2
DEFAULT_PROD_ENVS = ("prod", "production")
_EMERGENCY_WORD = re.compile(r"(?<![a-z0-9])(sev0|p0|emergency)(?![a-z0-9])", re.IGNORECASE)
# Tag keys whose value may declare a severity or criticality on the instance.
_SEVERITY_KEYS = {"severity", "sev", "priority", "tier", "aiops:tier", "criticality"}
_FALSE_WORDS = {"", "false", "no", "0", "off"}
_KNOWN_KEYS = {"tier0", "tier1", "tier2", "prod_envs"}


@dataclass(frozen=True)
class TierRules:
    patterns: tuple[tuple[int, str], ...] = ()  # (tier, lower-cased glob) in checking order
    prod_envs: frozenset[str] = frozenset(DEFAULT_PROD_ENVS)
    prod_accounts: frozenset[str] = frozenset()  # configured account names whose resources are production

    @classmethod
    def from_config(cls, table: dict[str, Any] | None, accounts: list[Any] = ()) -> TierRules:
        """Build from the `[tiers]` table and the `[[accounts]]` (an account named, or with `env`, prod/production
        is production); a malformed table is a ConfigError naming the key."""
        table = table or {}
        unknown = sorted(set(table) - _KNOWN_KEYS)
        if unknown:
            raise ConfigError(f"aiops.toml [tiers]: unknown key {unknown[0]!r} (use tier0, tier1, tier2, prod_envs)")
        patterns: list[tuple[int, str]] = []
        for tier in (TIER0, TIER1, TIER2):
            for pattern in _string_list(table, f"tier{tier}"):
                patterns.append((tier, pattern.casefold()))
        envs = frozenset(e.casefold() for e in (_string_list(table, "prod_envs") if "prod_envs" in table
                                                 else DEFAULT_PROD_ENVS))
        prod = frozenset(a.name for a in accounts if {a.name.casefold(), (a.env or "").casefold()} & envs)
        return cls(tuple(patterns), envs, prod)

    def is_prod(self, env: str | None) -> bool:
        return (env or "").strip().casefold() in self.prod_envs


@dataclass(frozen=True)
class TierDecision:
    tier: int
    reason: str


def classify(
    rules: TierRules,
    alarm: str,
    metric: str | None = None,
    env: str | None = None,
    tags: dict[str, str] | None = None,
    *,
    unreachable: bool = False,
    down: str | None = None,
    account: str | None = None,
) -> TierDecision:
    """The tier of one alarm on one instance (env/tags of that instance, if any) in `account`.

    `down` says how the instance is down when no alarm says it (e.g. "stopped without us").
    """
    if account in rules.prod_accounts and not rules.is_prod(env):
        env = f"{env or 'none'}, account {account}"  # the account makes it production whatever its tag says
        prod_account = True
    else:
        prod_account = False
    name = alarm.casefold()
    for tier, pattern in rules.patterns:
        if fnmatch.fnmatchcase(name, pattern):
            return TierDecision(tier, f"alarm matches [tiers] tier{tier} pattern {pattern!r}")
    if _EMERGENCY_WORD.search(alarm):
        return TierDecision(TIER0, "alarm named sev0/p0/emergency")
    tags = tags or {}
    if _tagged_emergency(tags):
        return TierDecision(TIER0, "instance tagged sev0/p0/emergency")
    if unreachable:
        down = "instance unreachable (status check impaired)"
    elif down is None and is_status_check(alarm, metric):
        down = "status-check alarm"
    if prod_account or rules.is_prod(env):
        if down:
            return TierDecision(TIER0, f"{down} on production (env={env})")
        return TierDecision(TIER1, f"instance in env={env}")
    if _tagged_critical(tags):
        return TierDecision(TIER1, f"{down} on an instance tagged critical" if down else "instance tagged critical")
    if down:
        return TierDecision(TIER2, f"{down}, not production (env={env or 'none'})")
    return TierDecision(TIER2, "default")


def is_status_check(alarm: str, metric: str | None) -> bool:
    squashed = re.sub(r"[^a-z]", "", f"{alarm} {metric or ''}".casefold())
    return (metric or "").startswith("StatusCheckFailed") or "statuscheckfailed" in squashed


def _tagged_emergency(tags: dict[str, str]) -> bool:
    return any(
        k.casefold() in _SEVERITY_KEYS and _EMERGENCY_WORD.fullmatch(v.strip() or "-")
        for k, v in tags.items()
    )


def _tagged_critical(tags: dict[str, str]) -> bool:
    for key, value in tags.items():
        k, v = key.casefold(), value.strip().casefold()
        if k == "critical" and v not in _FALSE_WORDS:
            return True
        if k in _SEVERITY_KEYS and v == "critical":
            return True
    return False


def _string_list(table: dict[str, Any], key: str) -> list[str]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"aiops.toml [tiers] {key} must be a list of non-empty strings, e.g. [\"*payment*\"]")
    return [v.strip() for v in value]
