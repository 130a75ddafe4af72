"""EC2 across places: the fleet of every account and region a call covers (mcp_server/places.py).

Rows carry `region` and `account`. A name resolves among the instances of every covered place, so
a Name held in two places is ambiguous and its candidates say where; every place must answer for
a name to resolve (an unread place might hold the second one). A mutating call acts on each target
through its own place's client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_server import ec2
from mcp_server.inventory import FleetIndex, check_reference, fetch_inventory, is_instance_id
from mcp_server.models import (
    ActionResult,
    InstanceDetail,
    InstanceList,
    InstanceStatusList,
    InstanceSummary,
    PlaceSkip,
)
from mcp_server.places import gather, select_places, where
from utils.aws import AwsEstate
from utils.config import Place, Settings

# Names per tag filter before a whole-fleet read is cheaper (EC2 takes 200 values per filter).
MAX_NAME_FILTER = 200


class Fleet:
    """The places one call covers, with the estate's clients for each."""

    def __init__(self, estate: AwsEstate, settings: Settings, describe: Callable[[BaseException], str],
                 region: str | None = None, account: str | None = None):
        self.estate, self.describe = estate, describe
        self.places = select_places(settings, region, account)

    def run(self, work: Callable[[Any], Any], strict: bool = False) -> tuple[list[tuple[Place, Any]], list[PlaceSkip]]:
        return gather(self.estate, self.places, work, self.describe, strict=strict)

    def ec2_of(self, target: InstanceSummary):
        return self.estate.clients(target.account or self.places[0].account, target.region or self.places[0].region).ec2

    def inventory(self, filters: list[dict[str, Any]] | None = None, strict: bool = False
                  ) -> tuple[list[InstanceSummary], list[PlaceSkip]]:
        answers, skipped = self.run(lambda c: fetch_inventory(c.ec2, filters), strict)
        return [stamp(i, place) for place, rows in answers for i in rows], skipped

    def resolve(self, refs: list[str], *, prefix: bool = True) -> list[InstanceSummary]:
        """Ids and Names to instances, across every place; ambiguity and absence are ResolutionErrors."""
        cleaned = [r.strip() for r in refs]
        for ref in cleaned:
            check_reference(ref)
        ids = [r for r in cleaned if is_instance_id(r)]
        names = [r for r in cleaned if not is_instance_id(r)]
        if len(names) <= MAX_NAME_FILTER:
            filters = [{"Name": "tag:Name", "Values": names}] if names else [{"Name": "instance-id", "Values": ids}]
            found, _ = self.inventory(filters, strict=True)
            if names and ids:
                found += self.inventory([{"Name": "instance-id", "Values": ids}], strict=True)[0]
            index = self._index(found)
            if all(index.by_name.get(n) for n in names) and all(i in index.by_id for i in ids):
                return index.resolve_all(cleaned, prefix=prefix)
            if not names:
                return index.resolve_all(cleaned, prefix=prefix)  # says which id is nowhere
        return self._index(self.inventory(strict=True)[0]).resolve_all(cleaned, prefix=prefix)

    def _index(self, instances: list[InstanceSummary]) -> FleetIndex:
        index = FleetIndex(instances)
        if len(self.places) > 1:
            index.where = f"in any of the {len(self.places)} places searched"
        return index


def stamp(row: Any, place: Place) -> Any:
    row.region, row.account = place.region, place.account
    return row


def list_instances(fleet: Fleet, name: str | None = None, state: str | None = None,
                   tags: dict[str, str] | None = None) -> InstanceList:
    answers, skipped = fleet.run(lambda c: ec2.list_instances(c.ec2, name, state, tags, limit=None))
    instances = [stamp(i, place) for place, listing in answers for i in listing.instances]
    instances.sort(key=lambda i: ((i.name or "~").casefold(), i.account or "", i.region or "", i.instance_id))
    return InstanceList(instances=instances[:ec2.MAX_LISTED], count=len(instances),
                        has_more_results=len(instances) > ec2.MAX_LISTED, skipped=skipped)


def describe_instance(fleet: Fleet, ref: str) -> InstanceDetail:
    target = fleet.resolve([ref])[0]
    detail = ec2.describe_instance(fleet.ec2_of(target), target.instance_id)
    return stamp(detail, Place(target.account, target.region))


def get_instance_status(fleet: Fleet, refs: list[str] | None = None, alarms: bool = True) -> InstanceStatusList:
    """Status checks per place (and each place's alarms in ALARM on its rows)."""
    if refs:
        targets = fleet.resolve(refs)
        by_place: dict[Place, list[str]] = {}
        for t in targets:
            by_place.setdefault(Place(t.account, t.region), []).append(t.instance_id)
        answers, skipped = gather(fleet.estate, list(by_place), lambda c: ec2.get_instance_status(
            c.ec2, by_place[Place(c.account, c.region)], c.cloudwatch if alarms else None), fleet.describe)
    else:
        answers, skipped = fleet.run(lambda c: ec2.get_instance_status(c.ec2, None, c.cloudwatch if alarms else None))
    statuses = [stamp(s, place) for place, listing in answers for s in listing.statuses]
    statuses.sort(key=lambda s: ((s.name or "~").casefold(), s.account or "", s.region or "", s.instance_id))
    return InstanceStatusList(statuses=statuses, impaired=sum(a.impaired for _, a in answers),
                              alarming=sum(a.alarming for _, a in answers),
                              alarms_checked=all(a.alarms_checked for _, a in answers), skipped=skipped)


def change_state(fleet: Fleet, action: str, targets: list[InstanceSummary], dry_run: bool = False) -> ActionResult:
    """The action on each place's targets through that place's client; one result for the whole call."""
    groups: dict[Place, list[InstanceSummary]] = {}
    for t in targets:
        groups.setdefault(Place(t.account, t.region), []).append(t)
    results = []
    for place, group in groups.items():
        result = ec2.change_state(fleet.ec2_of(group[0]), action, group, dry_run)
        for change in result.targets:
            stamp(change, place)
        results.append((place, result))
    if len(results) == 1:
        return results[0][1]
    statuses = {r.status for _, r in results}
    status = statuses.pop() if len(statuses) == 1 else ("error" if any(r.status == "error" for _, r in results)
                                                         else "refused")
    message = "; ".join(f"{r.message} in {where(p)}" for p, r in results)
    return ActionResult(action=action, status=status, dry_run=dry_run, message=message,
                        targets=[t for _, r in results for t in r.targets])
