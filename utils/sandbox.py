"""The embedded AWS sandbox: moto in server mode on loopback, seeded with a small realistic estate.

Real HTTP and real boto3, so everything that works here runs unchanged against AWS.
Nothing in this mode can reach real AWS: the endpoint is loopback and the credentials are fake.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from utils.config import Settings

SANDBOX_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox"}
DEFAULT_REGION = "us-east-1"
AMI = "ami-0abcdef1234567890"


@dataclass(frozen=True)
class SeedInstance:
    name: str
    env: str
    role: str
    instance_type: str = "t3.small"
    running: bool = True
    protected_tag: bool = False
    termination_protection: bool = False


ESTATE: list[SeedInstance] = [
    SeedInstance("web-server", "prod", "web", "t3.medium"),
    SeedInstance("api-1", "prod", "api", "m5.large"),
    SeedInstance("api-2", "prod", "api", "m5.large"),
    SeedInstance("db-primary", "prod", "db", "r5.xlarge", protected_tag=True),
    SeedInstance("cache-1", "prod", "cache", "r5.large"),
    SeedInstance("bastion", "prod", "bastion", "t3.micro", termination_protection=True),
    SeedInstance("worker-1", "staging", "worker", "c5.large"),
    SeedInstance("worker-2", "staging", "worker", "c5.large", running=False),
    SeedInstance("dev-box-1", "dev", "dev", "t3.small"),
    SeedInstance("dev-box-2", "dev", "dev", "t3.small", running=False),
]

LOG_LINES = {
    "/aws/ec2/web-server": [
        '10.0.1.12 - - "GET /health HTTP/1.1" 200 12 0.002',
        '10.0.1.40 - - "GET /checkout HTTP/1.1" 502 166 30.001',
        "[error] upstream timed out (110: Connection timed out) while reading response header from upstream",
        '10.0.1.41 - - "POST /api/cart HTTP/1.1" 504 160 60.000',
        "[warn] 1024 worker_connections are not enough",
        '10.0.1.12 - - "GET /health HTTP/1.1" 200 12 0.001',
    ],
    "/app/api": [
        "INFO request_id=8f1c GET /v1/orders 200 38ms",
        "ERROR request_id=9a2d database connection pool exhausted (max=20) after 5000ms",
        "ERROR request_id=9a2e TimeoutError: upstream payments-service did not answer in 10s",
        "WARN retrying payments call attempt=2",
        "INFO request_id=9b00 GET /v1/orders 200 41ms",
    ],
    "/app/worker": [
        "INFO job=nightly-report started",
        "ERROR job=nightly-report OutOfMemoryError: Java heap space",
        "INFO job=cleanup finished in 12s",
    ],
}

COST_BY_SERVICE = {
    "Amazon Elastic Compute Cloud - Compute": 1843.27,
    "Amazon Relational Database Service": 912.40,
    "Amazon Simple Storage Service": 214.95,
    "Amazon CloudWatch": 88.12,
    "AWS Data Transfer": 61.33,
    "Amazon ElastiCache": 140.80,
}


@dataclass
class Sandbox:
    region: str = DEFAULT_REGION
    url: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    seed_seconds: float | None = None
    _server: object | None = None
    _port: int = 0

    def reserve(self) -> str:
        """Pick a free loopback port now, so children can be pointed at the sandbox before it runs."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            self._port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self._port}"
        return self.url

    def start(self) -> str:
        """Start moto on loopback (the reserved port, else a free one); ~0.25 s. Seeding is separate."""
        from moto.server import ThreadedMotoServer

        # moto's request log would garble the terminal.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self._port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self.url = f"http://{host}:{port}"
        return self.url

    def seed(self) -> None:
        started = time.perf_counter()
        try:
            seed_estate(self.url, self.region)
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.seed_seconds = time.perf_counter() - started
            self.ready.set()

    def seed_in_background(self, on_done: Callable[[BaseException | None], None] | None = None,
                           start: bool = False) -> None:
        """Seed (and with `start`, first start the server) on a thread; `ready` is set when done."""

        def run() -> None:
            try:
                if start:
                    self.start()
                self.seed()
            except BaseException as exc:  # reported through on_done / self.error
                if on_done:
                    on_done(exc)
                return
            if on_done:
                on_done(None)

        threading.Thread(target=run, name="sandbox-seed", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def isolate_process_for_sandbox(url: str, region: str = DEFAULT_REGION) -> None:
    """Point this process's boto3 at the sandbox with fake credentials; a real profile must not leak in."""
    os.environ.update({**SANDBOX_CREDENTIALS, "AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": region,
                       "AWS_REGION": region})
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)


def start_private_sandbox(settings: Settings, *, seed: str = "now",
                          on_seeded: Callable[[BaseException | None], None] | None = None) -> Sandbox:
    """Start a sandbox for this process's lifetime and point the process and `settings` at it.

    The endpoint is set before any AWS client exists, so nothing in this process can reach real AWS.
    `seed`: "now" (seeded on return), "background" (server up, seeding on a thread) or "deferred"
    (the port is reserved and both start and seed run on a thread; `ready` says when).
    """
    sandbox = Sandbox(region=settings.region)
    if seed == "deferred":
        url = sandbox.reserve()
        sandbox.seed_in_background(on_seeded, start=True)
    else:
        url = sandbox.start()
        if seed == "background":
            sandbox.seed_in_background(on_seeded)
        else:
            sandbox.seed()
    isolate_process_for_sandbox(url, sandbox.region)
    settings.aws_endpoint_url, settings.aws_profile = url, None
    return sandbox


def _clients(url: str, region: str):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name=region
    )
    config = Config(retries={"max_attempts": 1})
    return {name: session.client(name, endpoint_url=url, config=config)
            for name in ("ec2", "cloudwatch", "logs")}


@functools.lru_cache(maxsize=8)
def _seed_clients(url: str, region: str):
    """seed_estate's clients, kept per endpoint: building them (and loading their service models) took
    longer than the ~90 seeding calls themselves, and the test suite seeds the same endpoint for each test."""
    return _clients(url, region)


def seed_estate(url: str, region: str = DEFAULT_REGION, estate: list[SeedInstance] | None = None) -> dict[str, str]:
    """Create instances, alarms, metrics, logs and canned costs. Returns Name -> instance id."""
    clients = _seed_clients(url, region)
    ids = _seed_instances(clients["ec2"], estate or ESTATE)
    _seed_alarms(clients["cloudwatch"], ids)
    _seed_metrics(clients["cloudwatch"], ids)
    _seed_logs(clients["logs"])
    seed_costs(url)
    return ids


def _seed_instances(ec2, estate: list[SeedInstance]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for spec in estate:
        tags = [{"Key": "Name", "Value": spec.name}, {"Key": "env", "Value": spec.env},
                {"Key": "role", "Value": spec.role}]
        if spec.protected_tag:
            tags.append({"Key": "aiops:protected", "Value": "true"})
        response = ec2.run_instances(
            ImageId=AMI, MinCount=1, MaxCount=1, InstanceType=spec.instance_type,
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )
        ids[spec.name] = response["Instances"][0]["InstanceId"]
    stopped = [ids[s.name] for s in estate if not s.running]
    if stopped:
        ec2.stop_instances(InstanceIds=stopped)
    for spec in estate:
        if spec.termination_protection:
            # run_instances(DisableApiTermination=True) is ignored by moto; the attribute call works.
            ec2.modify_instance_attribute(InstanceId=ids[spec.name], DisableApiTermination={"Value": True})
    return ids


def alarm_names(name: str) -> dict[str, str]:
    """The sandbox's alarm naming, shared with `simulate`."""
    return {"cpu": f"{name}-cpu-high", "status": f"{name}-status-check-failed", "disk": f"{name}-disk-full"}


def _seed_alarms(cloudwatch, ids: dict[str, str]) -> None:
    firing = {("web-server", "cpu"), ("worker-1", "status")}
    for name, instance_id in ids.items():
        names = alarm_names(name)
        specs = {
            "cpu": ("AWS/EC2", "CPUUtilization", 80.0, "Average", f"CPU above 80% for 10 minutes on {name}"),
            "status": ("AWS/EC2", "StatusCheckFailed", 1.0, "Maximum", f"EC2 status check failing on {name}"),
            "disk": ("CWAgent", "disk_used_percent", 90.0, "Average", f"Root volume above 90% on {name}"),
        }
        for kind, (namespace, metric, threshold, stat, description) in specs.items():
            cloudwatch.put_metric_alarm(
                AlarmName=names[kind], AlarmDescription=description, Namespace=namespace, MetricName=metric,
                Dimensions=[{"Name": "InstanceId", "Value": instance_id}], Statistic=stat, Period=300,
                EvaluationPeriods=2, Threshold=threshold, ComparisonOperator="GreaterThanOrEqualToThreshold",
            )
            state = "ALARM" if (name, kind) in firing else "OK"
            cloudwatch.set_alarm_state(
                AlarmName=names[kind], StateValue=state,
                StateReason=f"Threshold crossed: {metric} {'>=' if state == 'ALARM' else '<'} {threshold}",
            )


def _seed_metrics(cloudwatch, ids: dict[str, str]) -> None:
    now = datetime.now(UTC)
    for index, (name, instance_id) in enumerate(ids.items()):
        base = 92.0 if name == "web-server" else 12.0 + 7 * (index % 5)
        data = [
            {
                "MetricName": "CPUUtilization",
                "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
                "Timestamp": now - timedelta(minutes=5 * step),
                "Value": max(0.0, min(100.0, base + ((step * 37) % 11) - 5)),
                "Unit": "Percent",
            }
            for step in range(12)
        ]
        cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=data)


def _seed_logs(logs) -> None:
    now_ms = int(time.time() * 1000)
    for group, lines in LOG_LINES.items():
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="i-sandbox/main")
        events = [{"timestamp": now_ms - (len(lines) - i) * 60_000, "message": line} for i, line in enumerate(lines)]
        logs.put_log_events(logGroupName=group, logStreamName="i-sandbox/main", logEvents=events)


def cost_result(today: date) -> dict:
    first = today.replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    periods = [(previous, first, 1.0), (first, today + timedelta(days=1), today.day / 30)]
    results = []
    for start, end, scale in periods:
        groups = [
            {"Keys": [service], "Metrics": {"UnblendedCost": {"Amount": f"{amount * scale:.2f}", "Unit": "USD"}}}
            for service, amount in COST_BY_SERVICE.items()
        ]
        results.append({"TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
                        "Total": {}, "Groups": groups, "Estimated": start == first})
    return {"ResultsByTime": results, "DimensionValueAttributes": []}


def seed_costs(url: str, count: int = 200) -> None:
    """moto answers each distinct Cost Explorer query with the next canned result: queue plenty."""
    body = json.dumps({"results": [cost_result(datetime.now(UTC).date())] * count}).encode()
    request = urllib.request.Request(
        f"{url}/moto-api/static/ce/cost-and-usage-results", data=body,
        headers={"Content-Type": "application/json"}, method="POST",
    )
    # Loopback only: never route the sandbox through a configured HTTP proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        response.read()


def _alarm_client(url: str | None, region: str):
    import boto3

    if url is None:  # the process's own AWS settings (AWS_ENDPOINT_URL included)
        return boto3.client("cloudwatch", region_name=region)
    return _clients(url, region)["cloudwatch"]


def simulate_alarm(url: str | None, kind: str, name: str, region: str = DEFAULT_REGION) -> str:
    """Flip the seeded alarm of `kind` (cpu, status, disk) on instance `name` to ALARM; returns its name.

    `url=None` uses this process's AWS settings, for a sandbox another process started.
    """
    return _set_alarm(url, kind, name, "ALARM", region)


def clear_alarm(url: str | None, kind: str, name: str, region: str = DEFAULT_REGION) -> str:
    """Flip it back to OK."""
    return _set_alarm(url, kind, name, "OK", region)


def _set_alarm(url: str | None, kind: str, name: str, state: str, region: str) -> str:
    names = alarm_names(name)
    if kind not in names:
        raise ValueError(f"unknown alarm kind '{kind}'; use one of {', '.join(names)}")
    alarm = names[kind]
    why = "Simulated: threshold crossed" if state == "ALARM" else "Simulated: back to normal"
    _alarm_client(url, region).set_alarm_state(AlarmName=alarm, StateValue=state, StateReason=why)
    return alarm


def clear_alarm_named(url: str | None, alarm: str, region: str = DEFAULT_REGION) -> None:
    """Return one alarm to OK by name: the sandbox's stand-in for a fix that worked."""
    _alarm_client(url, region).describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]  # raises if unknown
    _alarm_client(url, region).set_alarm_state(AlarmName=alarm, StateValue="OK",
                                               StateReason="Recovered after the approved action")
