"""Fetching EC2 instances and resolving the names people type to instance ids.

Resolution order (docs/architecture.md, "One name rule"): exact id or Name, then case/spacing-insensitive Name,
then a unique prefix. Anything ambiguous or unknown is an error that lists candidates:
a guess could stop the wrong machine.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from mcp_server.models import InstanceSummary
from utils.names import name_key

PROTECTED_TAG = "aiops:protected"
INSTANCE_ID_RE = re.compile(r"^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
MAX_REFERENCE_LENGTH = 255
# Instances per DescribeInstances request (EC2 allows 5-1000).
PAGE_SIZE = 500


class ResolutionError(ValueError):
    """A reference matched no instance, or more than one; the message lists candidates."""


def is_instance_id(ref: str) -> bool:
    return bool(INSTANCE_ID_RE.match(ref))


def env_of(tags: dict[str, str]) -> str | None:
    return tags.get("env") or tags.get("Environment") or tags.get("environment")


def summarize(raw: dict[str, Any]) -> InstanceSummary:
    tags = {t["Key"]: t.get("Value", "") for t in raw.get("Tags") or []}
    launch = raw.get("LaunchTime")
    return InstanceSummary(
        instance_id=raw["InstanceId"],
        name=tags.get("Name"),
        state=(raw.get("State") or {}).get("Name", "unknown"),
        instance_type=raw.get("InstanceType"),
        availability_zone=(raw.get("Placement") or {}).get("AvailabilityZone"),
        private_ip=raw.get("PrivateIpAddress"),
        public_ip=raw.get("PublicIpAddress"),
        launch_time=launch.isoformat() if hasattr(launch, "isoformat") else launch,
        env=env_of(tags),
        role=tags.get("role") or tags.get("Role"),
        protected=tags.get(PROTECTED_TAG, "").strip().lower() in {"true", "yes", "1"},
        tags=tags,
    )


def fetch_raw(ec2, filters: list[dict[str, Any]] | None = None, ids: list[str] | None = None,
              page_size: int = PAGE_SIZE) -> list[dict]:
    """All instances matching, a bounded page per request: each page is one AWS call within AIOPS_AWS_TIMEOUT,
    where a whole 5,000-instance fleet in one answer can take longer than that."""
    kwargs: dict[str, Any] = {}
    if filters:
        kwargs["Filters"] = filters
    if ids:
        kwargs["InstanceIds"] = ids  # EC2 refuses MaxResults with InstanceIds; a list of ids is its own bound
    else:
        kwargs["PaginationConfig"] = {"PageSize": page_size}
    out: list[dict] = []
    for page in ec2.get_paginator("describe_instances").paginate(**kwargs):
        for reservation in page.get("Reservations", []):
            out.extend(reservation.get("Instances", []))
    return out


def fetch_inventory(ec2, filters: list[dict[str, Any]] | None = None) -> list[InstanceSummary]:
    return [summarize(raw) for raw in fetch_raw(ec2, filters)]


class FleetIndex:
    """Lookup tables built once per fetched inventory, so each reference resolves in O(1) or one scan."""

    def __init__(self, instances: Iterable[InstanceSummary]):
        self.instances = list(instances)
        self.where = "in this region"  # what an unknown id was looked for in
        self.by_id: dict[str, InstanceSummary] = {}
        self.by_name: dict[str, list[InstanceSummary]] = {}
        self.by_normal: dict[str, list[InstanceSummary]] = {}
        for inst in self.instances:
            self.by_id[inst.instance_id] = inst
            # Terminated instances linger for an hour; a name must not resolve to a corpse.
            if inst.name and inst.state != "terminated":
                self.by_name.setdefault(inst.name, []).append(inst)
                self.by_normal.setdefault(name_key(inst.name), []).append(inst)

    def resolve(self, ref: str, *, prefix: bool = True) -> InstanceSummary:
        """`prefix=False` for destructive actions: only an exact or case/spacing-insensitive name counts."""
        ref = ref.strip()
        check_reference(ref)
        if ref in self.by_id:
            return self.by_id[ref]
        if is_instance_id(ref):
            raise ResolutionError(f"no instance with id {ref} {self.where}")
        if ref.startswith("i-") and not any(c.isspace() for c in ref) and ref not in self.by_name:
            raise ResolutionError(
                f"'{ref}' is not a valid instance id (expected i- followed by 8 or 17 hex digits)"
            )
        for table, key in ((self.by_name, ref), (self.by_normal, name_key(ref))):
            matches = table.get(key)
            if matches:
                return self._unique(ref, matches)
        key = name_key(ref)
        prefixed = [i for n, group in self.by_normal.items() if key and n.startswith(key) for i in group]
        if prefixed and not prefix:
            # "c" must not stop the canary: a destructive call names its instance in full.
            names = ", ".join(sorted({i.name or i.instance_id for i in prefixed})[:5])
            raise ResolutionError(f"no instance named exactly '{ref}' (stop, reboot and terminate need the whole "
                                  f"name or the id; did you mean {names}?)")
        if prefixed:
            return self._unique(ref, prefixed)
        raise ResolutionError(f"no instance named '{ref}'{self._suggest(ref)}")

    def resolve_all(self, refs: list[str], *, prefix: bool = True) -> list[InstanceSummary]:
        """Resolve every reference; the same instance named twice counts once."""
        seen: dict[str, InstanceSummary] = {}
        for ref in refs:
            inst = self.resolve(ref, prefix=prefix)
            seen.setdefault(inst.instance_id, inst)
        return list(seen.values())

    def _unique(self, ref: str, matches: list[InstanceSummary]) -> InstanceSummary:
        if len(matches) == 1:
            return matches[0]
        places = {(m.account, m.region) for m in matches}
        if len(places) > 1:  # the same Name in two places: say where each one is, so a person can choose
            listed = ", ".join(f"{m.name} ({m.instance_id}) in {m.region}, account {m.account}" for m in matches[:10])
            raise ResolutionError(f"'{ref}' matches {len(matches)} instances: {listed}; name one by id, or say "
                                  "the region or account")
        listed = ", ".join(f"{m.name} ({m.instance_id}, {m.state})" for m in matches[:10])
        raise ResolutionError(f"'{ref}' matches {len(matches)} instances: {listed}; name one by id")

    def _suggest(self, ref: str) -> str:
        close = difflib.get_close_matches(ref, list(self.by_name), n=5, cutoff=0.5)
        if not close:
            close = sorted(self.by_name)[:5]
        return f"; candidates: {', '.join(close)}" if close else "; there are no named instances"


def check_reference(ref: str) -> None:
    """Before any AWS call: a 20 MB "name" must never reach EC2 as a tag filter."""
    if not ref:
        raise ResolutionError("an empty instance reference was given")
    if len(ref) > MAX_REFERENCE_LENGTH:
        raise ResolutionError(f"an instance reference is too long to be an id or a Name (over "
                              f"{MAX_REFERENCE_LENGTH} characters)")


def resolve_targets(ec2, refs: list[str], *, prefix: bool = True) -> list[InstanceSummary]:
    """Resolve references with the fewest AWS calls: ids and exact Names by filter, else the whole fleet.

    `prefix=False`: no unique-prefix matching (destructive actions name their instances in full).
    """
    cleaned = [r.strip() for r in refs]
    for ref in cleaned:
        check_reference(ref)
    ids = [r for r in cleaned if is_instance_id(r)]
    names = [r for r in cleaned if not is_instance_id(r)]
    if names and len(names) <= 200:
        named = fetch_inventory(ec2, [{"Name": "tag:Name", "Values": names}])
        index = FleetIndex(named)
        if all(len(index.by_name.get(n, [])) == 1 for n in names):
            found = fetch_inventory(ec2, [{"Name": "instance-id", "Values": ids}]) if ids else []
            return FleetIndex(named + found).resolve_all(cleaned, prefix=prefix)
    elif not names:
        found = fetch_inventory(ec2, [{"Name": "instance-id", "Values": ids}])
        return FleetIndex(found).resolve_all(cleaned, prefix=prefix)
    return FleetIndex(fetch_inventory(ec2)).resolve_all(cleaned, prefix=prefix)
