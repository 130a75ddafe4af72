"""Which AWS resource an alarm watches, read from its dimensions (DESIGN.md, `monitor --once` JSON `resource.type`).

Pure: the MCP server labels each alarm with it (`list_alarms`) and the monitor keys incidents on it.
An alarm with no resource dimension (metric math, custom namespaces) is itself the resource.
"""

from __future__ import annotations

EC2 = "ec2:instance"
ALARM = "cloudwatch:alarm"
# First match wins: a target-group alarm also names its load balancer, and the group is what it watches.
_BY_DIMENSION: tuple[tuple[str, tuple[str, ...]], ...] = (
    (EC2, ("InstanceId",)),
    ("rds:db-instance", ("DBInstanceIdentifier",)),
    ("elb:target-group", ("TargetGroup",)),
    ("elb:load-balancer", ("LoadBalancer",)),
    ("lambda:function", ("FunctionName",)),
    ("ecs:service", ("ClusterName", "ServiceName")),
    ("sqs:queue", ("QueueName",)),
    ("dynamodb:table", ("TableName",)),
    ("autoscaling:group", ("AutoScalingGroupName",)),
)
TYPES = tuple(t for t, _ in _BY_DIMENSION) + (ALARM,)


def resource_of(alarm_name: str, dimensions: dict[str, str] | None) -> tuple[str, str]:
    """(type, id): `("rds:db-instance", "orders-db")`, `("ecs:service", "prod/api")`, `("cloudwatch:alarm", name)`."""
    dims = dimensions or {}
    for rtype, names in _BY_DIMENSION:
        if all(dims.get(n) for n in names):
            return rtype, "/".join(dims[n] for n in names)
    return ALARM, alarm_name


def short_type(rtype: str | None) -> str:
    """`rds:db-instance` -> `rds db instance`: search words, not an identifier."""
    return (rtype or "").replace(":", " ").replace("-", " ")
