"""Fleet builders for planner tests and the planner benchmark.

Three hand-made fleets with unrelated naming schemes (so a planner that only
knows one set of names fails the others) and a generator for big inventories.
Instance ids are derived from names, so a test can write names and compare ids.
"""

from __future__ import annotations

import hashlib
import random

from agent.planner.types import InventoryItem, PlanningContext

PROTECTED = {"aiops:protected": "true"}


def instance_id(name: str) -> str:
    """A stable 17-hex EC2-style id for a name, so expectations can be written with names."""
    return "i-" + hashlib.sha1(name.encode()).hexdigest()[:17]


def _item(name: str, state: str = "running", itype: str = "t3.micro", **tags: str) -> InventoryItem:
    tags = {k.replace("__", ":"): v for k, v in tags.items()}
    return InventoryItem(
        instance_id=instance_id(name), name=name, state=state, instance_type=itype,
        tags={"Name": name, **tags},
    )


def sandbox_fleet() -> PlanningContext:
    """Fleet A: what the sandbox seeds (web/api/db/worker/dev/bastion)."""
    items = [
        _item("web-1", role="web", env="prod"),
        _item("web-2", role="web", env="prod"),
        _item("api-1", role="api", env="prod"),
        _item("api-2", role="api", env="prod"),
        _item("db-primary", "running", "r5.large", role="db", env="prod", aiops__protected="true"),
        _item("worker-1", role="worker", env="staging"),
        _item("worker-2", role="worker", env="staging"),
        _item("dev-box-1", role="dev", env="dev"),
        _item("dev-box-2", "stopped", role="dev", env="dev"),
        _item("bastion", role="bastion", env="shared"),
    ]
    groups = ["/aws/ec2/web", "/app/api", "/var/log/syslog", "/app/worker"]
    return PlanningContext(instances=items, log_groups=groups)


def second_fleet() -> PlanningContext:
    """Fleet B: different names, tag values spelled out (production/qa), a terminated host."""
    items = [
        _item("frontend-a", role="frontend", env="production"),
        _item("frontend-b", role="frontend", env="production"),
        _item("checkout-svc-01", role="checkout", env="production"),
        _item("checkout-svc-02", role="checkout", env="production"),
        _item("pg-main", "running", "r6g.xlarge", role="postgres", env="production", aiops__protected="true"),
        _item("pg-replica", "stopped", "r6g.large", role="postgres", env="production"),
        _item("qa-runner-1", "stopped", role="runner", env="qa"),
        _item("qa-runner-2", role="runner", env="qa"),
        _item("redis-cache", role="cache", env="production"),
        _item("jump-host", role="bastion", env="ops"),
        _item("legacy-batch", "terminated", role="batch", env="production"),
    ]
    groups = ["/ecs/frontend", "/services/checkout/app", "/aws/rds/postgres", "nginx-access"]
    return PlanningContext(instances=items, log_groups=groups)


def heldout_fleet() -> PlanningContext:
    """Fleet C: used only by the held-out phrasings (written before the planner rules)."""
    items = [
        _item("orders-api-blue", role="orders", env="prod"),
        _item("orders-api-green", "stopped", role="orders", env="prod"),
        _item("mysql-01", "running", "r5.xlarge", role="mysql", env="prod", aiops__protected="true"),
        _item("kafka-broker-1", role="kafka", env="prod"),
        _item("kafka-broker-2", role="kafka", env="prod"),
        _item("kafka-broker-3", role="kafka", env="prod"),
        _item("grafana", role="monitoring", env="ops"),
        _item("ml-trainer", "stopped", "g5.xlarge", role="ml", env="stage"),
        _item("etl-nightly", role="etl", env="stage"),
        _item("sandbox-alice", env="sandbox", owner="alice"),
        _item("old-jenkins", "terminated", role="ci", env="ops"),
    ]
    groups = ["/aws/lambda/orders-handler", "/kafka/broker", "/etl/nightly-jobs",
              "/aws/rds/instance/mysql-01/error"]
    return PlanningContext(instances=items, log_groups=groups)


_ROLES = ["web", "api", "db", "worker", "cache", "batch", "search", "auth", "billing", "gateway"]
_ENVS = ["prod", "staging", "dev", "qa"]
_STATES = ["running"] * 7 + ["stopped"] * 2 + ["terminated"]


def generated_fleet(size: int = 1000, seed: int = 7, base: PlanningContext | None = None) -> PlanningContext:
    """A big inventory: `base` (so the table's names still resolve) plus generated filler hosts."""
    rng = random.Random(seed)
    items = list(base.instances) if base else []
    n = len(items)
    while len(items) < size:
        role, env = rng.choice(_ROLES), rng.choice(_ENVS)
        name = f"{env}-{role}-{n:04d}"
        items.append(_item(name, rng.choice(_STATES), role=role, env=env, team=f"team-{n % 17}"))
        n += 1
    groups = list(base.log_groups) if base else []
    groups += [f"/app/{role}/{env}" for role in _ROLES for env in _ENVS]
    return PlanningContext(instances=items, log_groups=groups)


def ids(context: PlanningContext, *names: str) -> list[str]:
    """Ids of the named instances, in inventory order (planners list targets in that order)."""
    wanted = set(names)
    found = [i.instance_id for i in context.instances if i.name in wanted]
    assert len(found) == len(wanted), f"unknown names in expectation: {names}"
    return found


def styled_fleet() -> PlanningContext:
    """Fleet D: console-style tags (Environment=Production, Service=...), upper-case names, a
    name with a space, and an instance with no Name tag at all."""
    def item(name: str | None, state: str = "running", **tags: str) -> InventoryItem:
        key = name or "-".join(f"{k}={v}" for k, v in tags.items())
        return InventoryItem(instance_id=instance_id(key), name=name, state=state, instance_type="m5.large",
                             tags={**({"Name": name} if name else {}), **tags})

    items = [
        item("Payments-API-01", Service="payments", Environment="Production"),
        item("Payments-API-02", Service="payments", Environment="Production"),
        item("Ledger DB", Service="ledger", Tier="database", Environment="Production"),
        item("search-node-a", Service="search", Environment="Staging"),
        item("search-node-b", Service="search", Environment="Staging"),
        item("search-node-c", "stopped", Service="search", Environment="Staging"),
        item("ci-runner-x", "stopped", Team="devex", Environment="Tools"),
        item(None, Environment="Sandbox"),
    ]
    groups = ["/aws/lambda/payments-webhook", "/ecs/search", "API-Gateway-Execution-Logs_abc123/prod"]
    return PlanningContext(instances=items, log_groups=groups)


def heldout_fleet_2() -> PlanningContext:
    """Fleet E: for the second held-out batch, written after the rules had been developed."""
    items = [
        _item("edge-proxy-nyc", role="proxy", env="prod"),
        _item("edge-proxy-lon", role="proxy", env="prod"),
        _item("billing-worker-1", role="billing", env="prod"),
        _item("billing-worker-2", role="billing", env="prod"),
        _item("billing-worker-3", "stopped", role="billing", env="prod"),
        _item("mongo-shard-a", "running", "r6i.2xlarge", role="mongodb", env="prod", aiops__protected="true"),
        _item("ml-notebook", "stopped", "g5.xlarge", env="research", owner="bob"),
        _item("vpn-gw", role="vpn", env="shared"),
        _item("staging-app-1", role="app", env="staging"),
        _item("staging-app-2", role="app", env="staging"),
    ]
    groups = ["/proxy/access", "/billing/worker", "/aws/vpn/tunnel", "/staging/app"]
    return PlanningContext(instances=items, log_groups=groups)


def heldout_fleet_3() -> PlanningContext:
    """Fleet F: for the third held-out batch (typos, casual verbs, Korean alarm states, log groups).
    Env tags use ordinary English words (ops, dev, test, prod), and some names sit one letter
    away from a verb ("shop", "stats"), so a fuzzy verb reader that over-reaches shows."""
    items = [
        _item("checkout-web-1", role="web", env="prod"),
        _item("checkout-web-2", role="web", env="prod"),
        _item("ledger-db", "running", "r5.large", role="db", env="prod", aiops__protected="true"),
        _item("runner-7", role="ci", env="ops"),
        _item("feature-box", role="sandbox", env="dev"),
        _item("load-gen", "stopped", role="loadtest", env="test"),
        _item("notify-svc", role="notify", env="test"),
        _item("stats-collector", role="metrics", env="prod"),
        _item("shop-frontend", role="shop", env="prod"),
    ]
    groups = ["/ops/audit", "/checkout/web", "/ledger/db/slow", "/ci/runner"]
    return PlanningContext(instances=items, log_groups=groups)


def tagword_fleet() -> PlanningContext:
    """Fleet G, the tuning fleet for typos, casual verbs and tag words: env tags are everyday words
    (ops, dev, test, prod), and names sit near verbs and read words ("state-sync", "stepper")."""
    items = [
        _item("api-1", role="api", env="prod"),
        _item("api-2", role="api", env="prod"),
        _item("web-1", role="web", env="prod"),
        _item("db-main", "running", "r5.large", role="db", env="prod", aiops__protected="true"),
        _item("tools-1", role="tools", env="ops"),
        _item("dev-vm", role="sandbox", env="dev"),
        _item("qa-box", "stopped", role="qa", env="test"),
        _item("state-sync", role="sync", env="ops"),
        _item("stepper", "stopped", role="batch", env="dev"),
    ]
    groups = ["/app/api", "/aws/ec2/web", "/ops/tools", "/aws/lambda/state-sync"]
    return PlanningContext(instances=items, log_groups=groups)
