"""The sandbox's estate beyond its first region (issue 11): a second region and a second account.

- SECOND_REGION (eu-west-1) of moto's default account: `orders-db-eu` (RDS, the orders database's
  European replica), the `web-eu-alb` load balancer with its target group `web-eu-tg`, their alarms
  (the database's CPU alarm in ALARM), and an instance `web-1`.
- The `prod` account (222222222222), reached as on AWS: sts:AssumeRole on PROD_ROLE_ARN, and moto
  keeps accounts apart by the assumed credentials. `web-1` again, so "stop web-1" names two
  instances and is ambiguous; `batch-1`; the `payments-webhook` Lambda function (its Errors alarm in
  ALARM, its log group with the errors); the `payments-jobs` SQS queue and the `carts` DynamoDB
  table, their alarms in OK.

- The first region also gets what its service alarms watch (utils/sandbox_seed.py SERVICE_ALARMS):
  `orders-db` (RDS, Name orders-primary), the `jobs` queue and the `resize-images` Lambda function,
  whose log group (its `aiops:log-group` tag) holds errors for the page's evidence.

Every alarm's metric has a history that agrees with its state. SANDBOX_REGIONS and SANDBOX_ACCOUNTS
are what `--sandbox` configures in place of the user's aiops.toml.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from utils.sandbox_seed import (
    SeedInstance,
    history_times,
    sandbox_session,
    seed_clients,
    seed_instance_alarms,
    seed_instances,
    seed_metrics,
    tick,
)
from utils.sandbox_services import ServiceAlarm, first_region_alarms, seed_service_history, tick_services

DEFAULT_REGION = "us-east-1"
SECOND_REGION = "eu-west-1"
SANDBOX_REGIONS = [DEFAULT_REGION, SECOND_REGION]
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's own account: the session's sandbox credentials land there
PROD_ACCOUNT_ID = "222222222222"
PROD_ROLE_ARN = f"arn:aws:iam::{PROD_ACCOUNT_ID}:role/aiops-sandbox"
# What the agent configures for --sandbox (aiops.toml's [[accounts]] shape, plus the id for tests).
SANDBOX_ACCOUNTS = [{"name": "prod", "role_arn": PROD_ROLE_ARN, "account_id": PROD_ACCOUNT_ID, "env": "prod"}]
SANDBOX_CREDENTIALS = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}


def sandbox_regions(primary: str = DEFAULT_REGION) -> list[str]:
    """The sandbox's regions when its first region is `primary` (the session's)."""
    return [primary, SECOND_REGION if primary != SECOND_REGION else DEFAULT_REGION]


@dataclass
class SeedPlace:
    """One account and region of the sandbox beyond the first, and what is seeded there."""

    account: str  # the account's name, as the agent calls it ("default", "prod")
    region: str
    instances: list[SeedInstance]
    role_arn: str | None = None
    _url: str | None = None
    _credentials: dict = field(default_factory=dict)
    _clients: dict = field(default_factory=dict)

    def connect(self, url: str | None) -> SeedPlace:
        """Fresh credentials for this place: an assumed role's keys die with a moto reset, so they are
        never kept across seedings (a stale key would land in the default account)."""
        self._clients.clear()
        self._credentials = dict(SANDBOX_CREDENTIALS)
        self._url = url
        if self.role_arn:
            sts = self.client("sts")
            answer = sts.assume_role(RoleArn=self.role_arn, RoleSessionName="aiops-sandbox")["Credentials"]
            self._clients.clear()
            self._credentials = {"aws_access_key_id": answer["AccessKeyId"],
                                 "aws_secret_access_key": answer["SecretAccessKey"],
                                 "aws_session_token": answer["SessionToken"]}
        return self

    def client(self, service: str):
        if service not in self._clients:
            from botocore.config import Config

            self._clients[service] = sandbox_session().client(
                service, endpoint_url=self._url, region_name=self.region, config=Config(retries={"max_attempts": 1}),
                **self._credentials)
        return self._clients[service]


def other_places(primary: str = DEFAULT_REGION) -> list[SeedPlace]:
    return [
        SeedPlace("default", sandbox_regions(primary)[1], [SeedInstance("web-1", "prod", "web", "t3.medium")]),
        SeedPlace("prod", primary, [SeedInstance("web-1", "prod", "web", "t3.medium"),
                                    SeedInstance("batch-1", "prod", "worker", "c5.large")], role_arn=PROD_ROLE_ARN),
    ]


def seed_sandbox(url: str, region: str = DEFAULT_REGION, on_fleet: Callable[[], None] | None = None) -> dict:
    """The whole sandbox: the first region's estate (utils/sandbox_seed.py), then every other place.

    Every place's instances exist before `on_fleet`: a one-shot that waits only for the fleet must
    find both web-1s, or "stop web-1" would act on one without asking which. Returns
    {(account, region): {Name: instance id}}.
    """
    from utils.sandbox_seed import seed_estate

    places = [place.connect(url) for place in other_places(region)]
    ids: dict[tuple[str, str], dict[str, str]] = {}

    def fleet() -> None:
        for place in places:
            ids[(place.account, place.region)] = seed_instances(place.client("ec2"), place.instances)
        if on_fleet:
            on_fleet()

    ids[("default", region)] = seed_estate(url, region, on_fleet=fleet)
    now = time.time()
    seed_service_history(seed_clients(url, region)["cloudwatch"], first_region_alarms(), now)
    _first_region_resources(SeedPlace("default", region, []).connect(url))
    for place in places:
        seed_place(place, ids[(place.account, place.region)], now)
    return ids


def seed_place(place: SeedPlace, ids: dict[str, str], now: float) -> None:
    """A place's alarms, metric history and services (its instances exist already)."""
    cloudwatch = place.client("cloudwatch")
    seed_instance_alarms(cloudwatch, ids)
    seed_metrics(cloudwatch, ids, place.instances, now)
    builder = SERVICES[place.account if place.role_arn else "second-region"]
    alarms = builder(place, ids)
    for alarm in alarms:
        alarm.put(cloudwatch)
    seed_service_history(cloudwatch, alarms, now)


def _tags(pairs: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def _second_region(place: SeedPlace, ids: dict[str, str]) -> list[ServiceAlarm]:
    """orders-db-eu and web-eu-alb (its target group serving web-1); their alarms."""
    ec2, rds, elb = place.client("ec2"), place.client("rds"), place.client("elbv2")
    db = "orders-db-eu"
    rds.create_db_instance(DBInstanceIdentifier=db, DBInstanceClass="db.r6g.large", Engine="postgres",
                           AllocatedStorage=100, MasterUsername="orders", MasterUserPassword="sandbox-only",
                           Tags=_tags({"Name": db, "env": "prod", "role": "replica", "app": "orders"}))
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][:2]
    lb = elb.create_load_balancer(Name="web-eu-alb", Subnets=[s["SubnetId"] for s in subnets],
                                  Tags=_tags({"Name": "web-eu-alb", "env": "prod"}))["LoadBalancers"][0]
    group = elb.create_target_group(Name="web-eu-tg", Protocol="HTTP", Port=80, VpcId=subnets[0]["VpcId"],
                                    Tags=_tags({"Name": "web-eu-tg", "env": "prod"}))["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=group["TargetGroupArn"], Targets=[{"Id": ids["web-1"], "Port": 80}])
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}])
    # CloudWatch names a load balancer and a target group by the tail of their ARNs.
    lb_dim = lb["LoadBalancerArn"].split(":loadbalancer/")[1]
    tg_dim = group["TargetGroupArn"].split(":")[-1]
    rds_dim = {"DBInstanceIdentifier": db}
    return [
        ServiceAlarm(f"{db}-cpu-high", "AWS/RDS", "CPUUtilization", rds_dim, 80.0, "Average",
                     f"RDS CPU above 80% for 10 minutes on {db}", firing=True),
        ServiceAlarm(f"{db}-replica-lag", "AWS/RDS", "ReplicaLag", rds_dim, 60.0, "Average",
                     f"Replica lag above 60 s on {db}"),
        ServiceAlarm(f"{db}-free-storage-low", "AWS/RDS", "FreeStorageSpace", rds_dim, 1.0e10, "Average",
                     f"Free storage under 10 GB on {db}", below=True),
        ServiceAlarm("web-eu-alb-target-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count",
                     {"LoadBalancer": lb_dim}, 10.0, "Sum", "Targets behind web-eu-alb returning 5xx"),
        ServiceAlarm("web-eu-tg-unhealthy-hosts", "AWS/ApplicationELB", "UnHealthyHostCount",
                     {"TargetGroup": tg_dim, "LoadBalancer": lb_dim}, 1.0, "Maximum",
                     "Unhealthy targets in web-eu-tg"),
    ]


RESIZE_LOG_LINES = [
    "START RequestId: 8a1e Version: $LATEST",
    "[ERROR] PIL.UnidentifiedImageError: cannot identify image file '/tmp/upload-7731.heic'",
    "[ERROR] Runtime.ExitError: RequestId: 8a1e Error: Runtime exited with error: signal: killed",
    "REPORT RequestId: 8a1e Duration: 2988.10 ms Billed Duration: 2989 ms Memory Size: 512 MB Max Memory Used: 512 MB",
]


def _first_region_resources(place: SeedPlace) -> None:
    """What the first region's service alarms watch, tagged as a team tags them (Name, env; the function's
    log group as `aiops:log-group`): orders-db (RDS), the jobs queue, resize-images (Lambda). The web-alb
    alarm's load balancer stays a name only: CloudWatch names it by an id moto would not give it."""
    place.client("rds").create_db_instance(
        DBInstanceIdentifier="orders-db", DBInstanceClass="db.r6g.large", Engine="postgres", AllocatedStorage=100,
        MasterUsername="orders", MasterUserPassword="sandbox-only",
        Tags=_tags({"Name": "orders-primary", "env": "prod", "app": "orders"}))
    place.client("sqs").create_queue(QueueName="jobs", tags={"Name": "jobs", "env": "staging"})
    _function(place, "resize-images", {"Name": "resize-images", "env": "prod", "team": "media"}, RESIZE_LOG_LINES)


def _function(place: SeedPlace, function: str, tags: dict[str, str], lines: list[str]) -> None:
    """A Lambda function whose log group (tagged on it as `aiops:log-group`) holds `lines`, a minute apart."""
    trust = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},'
             '"Action":"sts:AssumeRole"}]}')
    role = place.client("iam").create_role(RoleName=f"{function}-exec", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    group, stream = f"/aws/lambda/{function}", "2026/12/02/[$LATEST]sandbox"
    place.client("lambda").create_function(
        FunctionName=function, Runtime="python3.12", Role=role, Handler="handler.main", Code={"ZipFile": _code()},
        Tags={**tags, "aiops:log-group": group})
    logs = place.client("logs")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now_ms = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": now_ms - (len(lines) - i) * 60_000, "message": line} for i, line in enumerate(lines)])


WEBHOOK_LOG_LINES = [
    "START RequestId: 3f1c Version: $LATEST",
    "[ERROR] KeyError: 'signature' Traceback (most recent call last): handler.py line 42",
    "[ERROR] ConnectionError: payments provider did not answer in 3.0s",
    "END RequestId: 3f1c",
    "REPORT RequestId: 3f1c Duration: 3012.44 ms Billed Duration: 3013 ms Memory Size: 256 MB",
]


def _prod_account(place: SeedPlace, _ids: dict[str, str]) -> list[ServiceAlarm]:
    """The role the agent assumes, payments-webhook (Lambda), payments-jobs (SQS), carts (DynamoDB)."""
    trust = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},'
             '"Action":"sts:AssumeRole"}]}')
    place.client("iam").create_role(RoleName="aiops-sandbox", AssumeRolePolicyDocument=trust % DEFAULT_ACCOUNT_ID)
    function = "payments-webhook"
    _function(place, function, {"Name": function, "env": "prod", "team": "payments"}, WEBHOOK_LOG_LINES)
    place.client("sqs").create_queue(QueueName="payments-jobs",
                                     tags={"Name": "payments-jobs", "env": "prod", "team": "payments"})
    place.client("dynamodb").create_table(
        TableName="carts", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "cart_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "cart_id", "AttributeType": "S"}],
        Tags=_tags({"Name": "carts", "env": "prod"}))
    fn = {"FunctionName": function}
    return [
        ServiceAlarm(f"{function}-errors", "AWS/Lambda", "Errors", fn, 5.0, "Sum",
                     f"Lambda {function} errors above 5 in 5 minutes", firing=True),
        ServiceAlarm(f"{function}-throttles", "AWS/Lambda", "Throttles", fn, 1.0, "Sum",
                     f"Lambda {function} throttled"),
        ServiceAlarm("payments-jobs-oldest-message", "AWS/SQS", "ApproximateAgeOfOldestMessage",
                     {"QueueName": "payments-jobs"}, 900.0, "Maximum",
                     "Oldest message in payments-jobs older than 15 minutes"),
        ServiceAlarm("carts-write-throttles", "AWS/DynamoDB", "WriteThrottleEvents", {"TableName": "carts"},
                     10.0, "Sum", "DynamoDB carts throttling writes"),
    ]


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def main(event, context):\n    return {'statusCode': 200}\n")
    return buffer.getvalue()


SERVICES: dict[str, Callable[[SeedPlace, dict[str, str]], list[ServiceAlarm]]] = {
    "second-region": _second_region, "prod": _prod_account}


def tick_places(url: str | None, region: str, since: float, now: float | None = None) -> None:
    """Extend the history of the first region's service alarms and of every other place, as `tick` does
    for the first region's instances."""
    now = time.time() if now is None else now
    times = [at for at in history_times(now, hours=1) if at > since]
    if not times:
        return
    tick_services(seed_clients(url, region)["cloudwatch"], times)
    for place in other_places(region):
        place.connect(url)
        tick({"ec2": place.client("ec2"), "cloudwatch": place.client("cloudwatch")}, since, now)
        tick_services(place.client("cloudwatch"), times)


def find_alarm(url: str | None, alarm: str, region: str = DEFAULT_REGION,
               place: tuple[str, str] | None = None) -> tuple[object, dict]:
    """(the CloudWatch client of the place that has `alarm`, the alarm). `region` is the sandbox's first.

    The first region's default account comes first (its alarms are what `simulate` always meant);
    elsewhere the name must be in one place only, or `place` (account, region) says which.
    `url=None` is this process's AWS settings (AWS_ENDPOINT_URL), for a sandbox another process runs.
    """
    def candidates():
        yield ("default", region), seed_clients(url, region)["cloudwatch"]
        for other in other_places(region):
            if place is None or place == (other.account, other.region):
                yield (other.account, other.region), other.connect(url).client("cloudwatch")

    found = []
    for where, cloudwatch in candidates():
        if place is not None and where != place:
            continue
        alarms = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
        if alarms and where == ("default", region):
            return cloudwatch, alarms[0]
        found += [(where, cloudwatch, alarms[0])] if alarms else []
    if len(found) == 1:
        return found[0][1], found[0][2]
    if not found:
        raise ValueError(f"no alarm named {alarm!r} in the sandbox")
    places = ", ".join(f"{account}/{where}" for (account, where), _, _ in found)
    raise ValueError(f"alarm {alarm!r} is in {len(found)} places ({places}); say which account and region")
