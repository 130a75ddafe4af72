"""Fleets spread over accounts and regions, for the planner's place words (region, account).

Each instance carries the `region` and `account` its list_instances row carries (DESIGN.md, "The
estate"). Ids are derived from name and place, so one name in two regions is two instances; a
table names an instance by Name when the name is unique and by `placed_id` when it is not.
"""

from __future__ import annotations

from agent.planner.types import InventoryItem, PlanningContext
from tests.agent.planner.fleets import instance_id


def placed_id(name: str, account: str, region: str) -> str:
    return instance_id(f"{name}@{account}/{region}")


def _item(name: str, account: str, region: str, state: str = "running", **tags: str) -> InventoryItem:
    return InventoryItem(instance_id=placed_id(name, account, region), name=name, state=state,
                         instance_type="t3.micro", tags={"Name": name, **tags}, region=region, account=account)


def places_fleet() -> PlanningContext:
    """Fleet P (tuning): the sandbox's two accounts and two regions, web-1 in both regions."""
    items = [
        _item("web-1", "default", "us-east-1", role="web", env="prod"),
        _item("web-1", "default", "eu-west-1", role="web", env="prod"),
        _item("web-2", "default", "eu-west-1", role="web", env="prod"),
        _item("api-1", "prod", "us-east-1", role="api", env="prod"),
        _item("orders-db", "prod", "eu-west-1", role="db", env="prod"),
        _item("worker-1", "default", "us-east-1", "stopped", role="worker", env="staging"),
        _item("seoul-cache", "default", "ap-northeast-2", role="cache", env="dev"),
    ]
    return PlanningContext(instances=items, log_groups=["/app/web", "/app/api"], accounts=["default", "prod"],
                           regions=["us-east-1", "eu-west-1"])


def places_heldout_fleet() -> PlanningContext:
    """Fleet Q (held out): three accounts (one spelled "production"), three regions, one name twice."""
    items = [
        _item("ledger-api", "default", "us-east-1", role="api", env="prod"),
        _item("ledger-api", "default", "eu-west-1", role="api", env="prod"),
        _item("ledger-db", "production", "eu-west-1", role="db", env="prod"),
        _item("batch-runner", "default", "ap-northeast-2", "stopped", role="batch", env="dev"),
        _item("edge-proxy", "sandbox", "ap-northeast-2", role="proxy", env="dev"),
        _item("london-relay", "default", "eu-west-1", role="relay", env="prod"),
        _item("ops-console", "production", "us-east-1", role="console", env="prod"),
    ]
    return PlanningContext(instances=items, log_groups=["/ledger/api", "/edge/proxy"],
                           accounts=["default", "production", "sandbox"],
                           regions=["us-east-1", "eu-west-1", "ap-northeast-2"])
