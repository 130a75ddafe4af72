"""Tags of the resources alarms watch, read in batches through the Resource Groups Tagging API.

One paginated `GetResources` per account and region, filtered to the types the alarms name, gives
the Name and env tags of every RDS database, load balancer, target group, Lambda function, SQS
queue, DynamoDB table and ECS service at once: a 10,000-alarm estate costs a handful of calls, not
one per alarm. Plain functions taking a client (`resourcegroupstaggingapi`); tags are a courtesy to
the reader, so a role without `tag:GetResources` still gets its alarms, unnamed.
"""

from __future__ import annotations

from mcp_server.models import AlarmList
from utils.resources import EC2

# Our resource type (utils/resources.py) -> the Tagging API's resource type filter.
TAGGING_TYPES = {
    "rds:db-instance": "rds:db",
    "lambda:function": "lambda:function",
    "elb:load-balancer": "elasticloadbalancing:loadbalancer",
    "elb:target-group": "elasticloadbalancing:targetgroup",
    "sqs:queue": "sqs:queue",
    "dynamodb:table": "dynamodb:table",
    "ecs:service": "ecs:service",
}
PER_PAGE = 100  # the API's maximum
NAME_TAG, ENV_TAG, LOG_GROUP_TAG = "Name", "env", "aiops:log-group"


def id_of_arn(rtype: str, arn: str) -> str | None:
    """The id the alarm's dimensions use for the resource an ARN names (None: not that type).

    `arn:aws:rds:…:db:orders-db` -> `orders-db`; `…:loadbalancer/app/web/50dc` -> `app/web/50dc`;
    `…:targetgroup/web/73e2` -> `targetgroup/web/73e2`; `…:service/prod/api` -> `prod/api`.
    """
    parts = arn.split(":", 5)
    if len(parts) < 6 or rtype not in TAGGING_TYPES or parts[2] != TAGGING_TYPES[rtype].split(":")[0]:
        return None  # another service's ARN: an SQS queue's id is the ARN's whole tail, so the service must match
    rest = parts[5]
    if rtype == "rds:db-instance":
        return rest.removeprefix("db:") if rest.startswith("db:") else None
    if rtype == "lambda:function":
        return rest.split(":")[1] if rest.startswith("function:") else None
    if rtype == "elb:load-balancer":
        return rest.removeprefix("loadbalancer/") if rest.startswith("loadbalancer/") else None
    if rtype == "elb:target-group":
        return rest if rest.startswith("targetgroup/") else None
    if rtype == "dynamodb:table":
        return rest.removeprefix("table/") if rest.startswith("table/") else None
    if rtype == "ecs:service":
        return rest.removeprefix("service/") if rest.startswith("service/") else None
    if rtype == "sqs:queue":
        return rest
    return None


def fetch_tags(tagging, rtypes: set[str], tag_key: str | None = None) -> dict[tuple[str, str], dict[str, str]]:
    """{(type, id): tags} for every tagged resource of `rtypes`, in as few pages as the API allows.

    `tag_key`: only resources carrying that key (a smaller answer when only one tag matters).
    """
    filters = {TAGGING_TYPES[t]: t for t in rtypes if t in TAGGING_TYPES}
    if not filters:
        return {}
    kwargs: dict = {"ResourceTypeFilters": sorted(filters), "ResourcesPerPage": PER_PAGE}
    if tag_key:
        kwargs["TagFilters"] = [{"Key": tag_key}]
    found: dict[tuple[str, str], dict[str, str]] = {}
    for page in tagging.get_paginator("get_resources").paginate(**kwargs):
        for item in page.get("ResourceTagMappingList", []):
            tags = {t["Key"]: t["Value"] for t in item.get("Tags") or []}
            for rtype in filters.values():
                rid = id_of_arn(rtype, item.get("ResourceARN", ""))
                if rid:
                    found[(rtype, rid)] = tags
                    break
    return found


def tag_resources(tagging, listing: AlarmList) -> AlarmList:
    """Fill each non-EC2 alarm's resource_name and resource_env from its resource's tags (EC2's come
    from the instance's own tags, `cloudwatch.name_instances`)."""
    from botocore.exceptions import BotoCoreError, ClientError

    wanted = {a.resource_type for a in listing.alarms if a.resource_type in TAGGING_TYPES}
    try:
        tags = fetch_tags(tagging, wanted) if wanted else {}
    except (BotoCoreError, ClientError):
        return listing
    for alarm in listing.alarms:
        if alarm.resource_type == EC2 or not alarm.resource_id:
            continue
        found = tags.get((alarm.resource_type, alarm.resource_id), {})
        alarm.resource_name = found.get(NAME_TAG) or alarm.resource_name
        alarm.resource_env = found.get(ENV_TAG) or alarm.resource_env
    return listing


def tags_of(clients, rtype: str, rid: str, tag_key: str | None = None) -> dict[str, str]:
    """One resource's tags: EC2 from DescribeTags, the rest from the Tagging API (its type's page(s);
    with `tag_key`, only the resources carrying that key: a short answer in a large estate)."""
    if rtype == EC2:
        filters = [{"Name": "resource-id", "Values": [rid]}]
        pages = clients.ec2.get_paginator("describe_tags").paginate(Filters=filters)
        return {t["Key"]: t["Value"] for page in pages for t in page.get("Tags", [])}
    if rtype not in TAGGING_TYPES:
        return {}
    return fetch_tags(clients.tagging, {rtype}, tag_key).get((rtype, rid), {})
