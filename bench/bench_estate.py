"""The whole estate (issue 11): one monitor cycle over 10,000 alarms, 500 firing, across 2 accounts x 3
regions with their resources, against moto on loopback; memory across cycles. Written to
bench/results/estate.json, and a small table on stdout.

- Places: the session's account (`default`, moto's 123456789012) and `prod` (222222222222, reached
  through sts:AssumeRole on PROD_ROLE, as the agent reaches it), each in us-east-1, eu-west-1 and
  ap-northeast-2. The bench writes `regions` and `[[accounts]]` into its temp AIOPS_HOME's aiops.toml,
  so the monitor watches as many of them as the code under test can: a single-place monitor covers
  the first place only, and the table says how many places its incidents came from.
- Resources per place, in proportion to its alarms: EC2 instances, RDS databases, Lambda functions,
  SQS queues, load balancers with target groups. Alarms, created in bulk on threads, mix EC2 (CPU,
  status, disk), RDS, Lambda, SQS, ALB (load balancer and target group) and alarms with no dimension;
  every place uses the same alarm names, as one stack deployed everywhere does. Every twentieth alarm
  fires, every kind among them.
- moto runs in its own process (its state is not this process's memory), tuned as the sandbox's
  (utils/sandbox_moto.py). Slack is left out (no webhook). The SOP library is indexed before the clock.

Run: .venv/bin/python bench/bench_estate.py [--alarms 10000] [--firing 500] [--cycles 100]
Smoke: .venv/bin/python bench/bench_estate.py --alarms 500 --firing 25 --cycles 3
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from common import REPO, ms, save

REGIONS = ["us-east-1", "eu-west-1", "ap-northeast-2"]
PROD_ACCOUNT = "222222222222"
PROD_ROLE = f"arn:aws:iam::{PROD_ACCOUNT}:role/aiops-bench"
ACCOUNTS = [("default", None), ("prod", PROD_ROLE)]
THREADS = 8
TARGET_SECONDS = 10.0
# One alarm kind per slot, in proportion: 8 EC2, 3 RDS, 3 Lambda, 2 SQS, 2 ALB, 2 without a dimension.
# kind -> (namespace, metric, statistic, resource the dimensions name)
KINDS = {
    "cpu": ("AWS/EC2", "CPUUtilization", "Average", "instance"),
    "status": ("AWS/EC2", "StatusCheckFailed", "Maximum", "instance"),
    "disk": ("CWAgent", "disk_used_percent", "Average", "instance"),
    "db-cpu": ("AWS/RDS", "CPUUtilization", "Average", "db"),
    "db-storage": ("AWS/RDS", "FreeStorageSpace", "Average", "db"),
    "db-connections": ("AWS/RDS", "DatabaseConnections", "Maximum", "db"),
    "fn-errors": ("AWS/Lambda", "Errors", "Sum", "function"),
    "fn-throttles": ("AWS/Lambda", "Throttles", "Sum", "function"),
    "fn-duration": ("AWS/Lambda", "Duration", "Maximum", "function"),
    "queue-age": ("AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", "queue"),
    "alb-5xx": ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", "lb"),
    "tg-unhealthy": ("AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", "tg"),
    "checkout-latency": ("Shop/Checkout", "LatencyP99", "Average", None),
}
SLOTS = ["cpu", "status", "disk", "cpu", "status", "disk", "cpu", "cpu", "db-cpu", "db-storage", "db-connections",
         "fn-errors", "fn-throttles", "fn-duration", "queue-age", "queue-age", "alb-5xx", "tg-unhealthy",
         "checkout-latency", "checkout-latency"]


@dataclass
class Place:
    account: str
    region: str
    role_arn: str | None
    credentials: dict = field(default_factory=dict)
    resources: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # kind -> dimension sets

    def client(self, service: str):
        import boto3

        return boto3.client(service, region_name=self.region, **self.credentials)


def start_moto() -> tuple[subprocess.Popen, str]:
    """moto in its own process on a free loopback port, with the sandbox's host tuning."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    host = ("import logging, sys, threading; sys.path.insert(0, sys.argv[2]);"
            "from utils.sandbox_moto import prepare_moto_host; prepare_moto_host();"
            "logging.getLogger('werkzeug').setLevel(logging.ERROR);"
            "from moto.server import ThreadedMotoServer;"
            "ThreadedMotoServer(ip_address='127.0.0.1', port=int(sys.argv[1]), verbose=False).start();"
            "threading.Event().wait()")
    proc = subprocess.Popen([sys.executable, "-c", host, str(port), str(REPO)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _ in range(300):
        try:
            opener.open(f"{url}/moto-api/", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    os.environ.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": REGIONS[0], "AWS_REGION": REGIONS[0], "AWS_MAX_ATTEMPTS": "1",
                       "AWS_EC2_METADATA_DISABLED": "true"})
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "SLACK_WEBHOOK_URL", "HTTP_PROXY", "HTTPS_PROXY",
                 "http_proxy", "https_proxy"):
        os.environ.pop(name, None)
    return proc, url


def write_config(home: Path) -> None:
    """The estate as aiops.toml describes it (DESIGN.md, "The estate"); `default` is the session's own."""
    regions = ", ".join(f'"{r}"' for r in REGIONS)
    (home / "aiops.toml").write_text(
        f"regions = [{regions}]\n\n[[accounts]]\nname = \"prod\"\nrole_arn = \"{PROD_ROLE}\"\nenv = \"prod\"\n")


def places() -> list[Place]:
    import boto3

    found = []
    for account, role in ACCOUNTS:
        credentials = {}
        if role:
            keys = boto3.client("sts").assume_role(RoleArn=role, RoleSessionName="bench")["Credentials"]
            credentials = {"aws_access_key_id": keys["AccessKeyId"], "aws_secret_access_key": keys["SecretAccessKey"],
                           "aws_session_token": keys["SessionToken"]}
        found += [Place(account, region, role, credentials) for region in REGIONS]
    return found


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def main(event, context):\n    return 200\n")
    return buffer.getvalue()


def build_resources(place: Place, alarms: int, pool: ThreadPoolExecutor) -> dict[str, int]:
    """What a place's alarms watch, in proportion to them; returns how many of each."""
    ec2, tags = place.client("ec2"), {"env": "prod" if place.account == "prod" else "staging"}
    instances = max(5, alarms // 6)
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-0abcdef1234567890", MinCount=instances,
                                                       MaxCount=instances, InstanceType="t3.micro")["Instances"]]
    list(pool.map(lambda n: ec2.create_tags(Resources=[ids[n]], Tags=[
        {"Key": "Name", "Value": f"app-{n:04d}"}, *({"Key": k, "Value": v} for k, v in tags.items())]),
        range(len(ids))))
    small = max(2, alarms // 80)
    rds, lam, sqs = place.client("rds"), place.client("lambda"), place.client("sqs")
    role = place.client("iam").create_role(
        RoleName=f"bench-fn-{place.region}", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
    code = _zip()
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    list(pool.map(lambda n: rds.create_db_instance(
        DBInstanceIdentifier=f"db-{n:03d}", DBInstanceClass="db.t3.medium", Engine="postgres", AllocatedStorage=20,
        MasterUsername="bench", MasterUserPassword="bench-only", Tags=[{"Key": "Name", "Value": f"db-{n:03d}"},
                                                                          *tag_list]), range(small)))
    list(pool.map(lambda n: lam.create_function(
        FunctionName=f"fn-{n:03d}", Runtime="python3.12", Role=role["Role"]["Arn"], Handler="handler.main",
        Code={"ZipFile": code}, Tags=tags), range(small)))
    list(pool.map(lambda n: sqs.create_queue(QueueName=f"queue-{n:03d}", tags=tags), range(small)))
    lbs, groups = _load_balancers(place, max(1, alarms // 500), tag_list)
    place.resources = {
        "instance": [{"InstanceId": i} for i in ids],
        "db": [{"DBInstanceIdentifier": f"db-{n:03d}"} for n in range(small)],
        "function": [{"FunctionName": f"fn-{n:03d}"} for n in range(small)],
        "queue": [{"QueueName": f"queue-{n:03d}"} for n in range(small)],
        "lb": [{"LoadBalancer": lb} for lb in lbs],
        "tg": [{"TargetGroup": tg, "LoadBalancer": lb} for tg, lb in zip(groups, lbs, strict=True)],
        None: [{}],
    }
    return {"instances": len(ids), "databases": small, "functions": small, "queues": small,
            "load_balancers": len(lbs)}


def _load_balancers(place: Place, count: int, tags: list[dict]) -> tuple[list[str], list[str]]:
    """`count` ALBs, each with a target group behind a listener; their CloudWatch dimension values."""
    ec2, elb = place.client("ec2"), place.client("elbv2")
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][:2]
    lbs, groups = [], []
    for n in range(count):
        lb = elb.create_load_balancer(Name=f"alb-{n:02d}", Subnets=[s["SubnetId"] for s in subnets],
                                      Tags=tags)["LoadBalancers"][0]
        group = elb.create_target_group(Name=f"tg-{n:02d}", Protocol="HTTP", Port=80,
                                        VpcId=subnets[0]["VpcId"])["TargetGroups"][0]
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}])
        lbs.append(lb["LoadBalancerArn"].split(":loadbalancer/")[1])
        groups.append(group["TargetGroupArn"].split(":")[-1])
    return lbs, groups


def plan_alarms(place: Place, count: int, firing: int) -> list[tuple[dict, bool]]:
    """(put_metric_alarm arguments, fires) for `count` alarms, `firing` of them spread over every kind."""
    stride = max(1, count // max(1, firing))
    planned = []
    for n in range(count):
        fires = n % stride == 0 and n // stride < firing
        kind = SLOTS[(n // stride) % len(SLOTS)] if fires else SLOTS[n % len(SLOTS)]
        namespace, metric, statistic, resource = KINDS[kind]
        watched = place.resources[resource]
        dims = watched[n % len(watched)]
        planned.append(({"AlarmName": f"{kind}-{n:05d}", "AlarmDescription": f"{metric} on {kind} {n}",
                         "Namespace": namespace, "MetricName": metric, "Statistic": statistic, "Period": 300,
                         "EvaluationPeriods": 2, "Threshold": 80.0,
                         "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                         "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]}, fires))
    return planned


def seed(alarms: int, firing: int) -> tuple[list[Place], dict]:
    started = time.perf_counter()
    estate = places()
    counts: dict[str, int] = {}
    with ThreadPoolExecutor(THREADS) as pool:
        for place, share, fires in zip(estate, split(alarms, len(estate)), split(firing, len(estate)), strict=True):
            for key, value in build_resources(place, share, pool).items():
                counts[key] = counts.get(key, 0) + value
            cloudwatch = place.client("cloudwatch")
            planned = plan_alarms(place, share, fires)
            list(pool.map(lambda item, cw=cloudwatch: cw.put_metric_alarm(**item[0]), planned))
            list(pool.map(lambda item, cw=cloudwatch: cw.set_alarm_state(
                AlarmName=item[0]["AlarmName"], StateValue="ALARM", StateReason="bench: threshold crossed"),
                [p for p in planned if p[1]]))
    return estate, {"places": len(estate), "alarms": alarms, "firing": firing, **counts,
                    "setup_seconds": round(time.perf_counter() - started, 1)}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return -1.0


def covered_places(report) -> int:
    """How many (account, region) the open incidents came from; a resource without them is the first place."""
    from agent.monitor.models import incident_json

    seen = set()
    for incident in report.open_incidents:
        resource = incident_json(incident, False).get("resource") or {}
        seen.add((resource.get("account") or "default", resource.get("region") or REGIONS[0]))
    return len(seen)


async def cycles(count: int) -> dict:
    from agent.mcp_client import open_session
    from agent.monitor.loop import Monitor
    from notify.slack_webhook import SlackWebhookNotifier
    from utils.config import load_settings

    settings = load_settings()
    async with open_session(settings, client_name="bench") as session:
        started = time.perf_counter()
        await session.call("search_sops", {"query": "warm up", "k": 1})  # first use indexes the SOP library
        warm = time.perf_counter() - started
        monitor = Monitor(session, settings, notifier=SlackWebhookNotifier(settings.home, None))
        first = await monitor.run_cycle()
        memory, durations = {"cycle_1": rss_mb()}, []
        for n in range(2, count + 1):
            report = await monitor.run_cycle()
            durations.append(report.duration_seconds)
            if n in (10, 100, count):
                memory[f"cycle_{n}"] = rss_mb()
    return {"first_cycle": {"seconds": round(first.duration_seconds, 3), "target_seconds": TARGET_SECONDS,
                            "opened": len(first.opened), "alarms_firing_seen": first.alarms_firing,
                            "instances_seen": first.instances, "places_with_incidents": covered_places(first),
                            "sop_searches": first.sop_searches, "skipped": first.skipped, "unread": first.unread},
            "steady_cycle": ms(durations) if durations else None,
            "steady_cycle_mean_seconds": round(statistics.fmean(durations), 3) if durations else None,
            "sop_library_first_index_seconds": round(warm, 1), "rss_mb": memory, "cycles": count}


def table(figures: dict) -> str:
    estate, first, steady = figures["estate"], figures["first_cycle"], figures["steady_cycle"]
    rows = [
        ("estate", f"{estate['alarms']:,} alarms ({estate['firing']} firing) in {estate['places']} places; "
                   f"{estate['instances']:,} instances, {estate['databases']} databases, {estate['functions']} "
                   f"functions, {estate['queues']} queues, {estate['load_balancers']} load balancers"),
        ("setup", f"{estate['setup_seconds']} s"),
        ("first cycle", f"{first['seconds']:.2f} s (target < {first['target_seconds']:.0f} s): "
                        f"{first['opened']} opened of {first['alarms_firing_seen']} firing seen, "
                        f"from {first['places_with_incidents']} of {estate['places']} places"),
        ("steady cycle", "-" if steady is None else f"median {steady['median_ms'] / 1000:.2f} s, "
                                                    f"p95 {steady['p95_ms'] / 1000:.2f} s over {steady['n']}"),
        ("RSS", ", ".join(f"{k.replace('cycle_', 'cycle ')}: {v} MB" for k, v in figures["rss_mb"].items())),
        ("skipped", "; ".join(first["skipped"]) or "-"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=10_000)
    parser.add_argument("--firing", type=int, default=None, help="default: one in twenty")
    parser.add_argument("--cycles", type=int, default=100)
    args = parser.parse_args()
    if args.alarms < len(REGIONS) * len(ACCOUNTS) or args.cycles < 1:
        parser.error(f"--alarms must be at least {len(REGIONS) * len(ACCOUNTS)} and --cycles at least 1")
    firing = args.alarms // 20 if args.firing is None else min(args.firing, args.alarms)
    proc, _url = start_moto()
    try:
        with tempfile.TemporaryDirectory() as home:
            os.environ["AIOPS_HOME"] = home
            write_config(Path(home))
            _estate, counts = seed(args.alarms, firing)
            figures = asyncio.run(cycles(args.cycles))
    finally:
        proc.terminate()
        proc.wait(10)
    figures = {"estate": counts, **figures, "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                                                        "load_average_1min": round(os.getloadavg()[0], 2)}}
    save("estate", figures)
    print(table(figures))


if __name__ == "__main__":
    main()
