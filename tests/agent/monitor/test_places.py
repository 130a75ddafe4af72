"""The monitor across two regions and two accounts (DESIGN.md, "The estate"; issue 11).

Real moto over HTTP (the prod account reached through sts:AssumeRole, its own state), the real MCP
server in memory, the shipped SOP library. The same alarm name in two places is two incidents with
the right place; a place that cannot be read is one skip line and its incidents stay open.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import pytest

from agent.mcp_client import open_session
from agent.monitor.loop import Monitor
from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.helpers import REPO
from utils.config import load_settings

pytestmark = pytest.mark.usefixtures("indexed_sops")

PROD_ROLE = "arn:aws:iam::222222222222:role/aiops"
TOML = f'regions = ["us-east-1", "eu-west-1"]\n[[accounts]]\nname = "prod"\nrole_arn = "{PROD_ROLE}"\n'
PLACES = (("default", "us-east-1"), ("default", "eu-west-1"), ("prod", "us-east-1"))
ALARM = "orders-db-cpu-high"


def cloudwatch(url: str, account: str, region: str):
    keys = {}
    if account == "prod":
        got = boto3.client("sts", endpoint_url=url, region_name="us-east-1").assume_role(
            RoleArn=PROD_ROLE, RoleSessionName="test")["Credentials"]
        keys = {"aws_access_key_id": got["AccessKeyId"], "aws_secret_access_key": got["SecretAccessKey"],
                "aws_session_token": got["SessionToken"]}
    return boto3.client("cloudwatch", endpoint_url=url, region_name=region, **keys)


@pytest.fixture
def estate_toml(aws_env):
    """aiops.toml with two regions and the prod account; the same RDS alarm firing in each of three places."""
    aws_env.home.mkdir(parents=True, exist_ok=True)
    (aws_env.home / "aiops.toml").write_text(TOML)
    clients = {place: cloudwatch(aws_env.url, *place) for place in PLACES}
    for cw in clients.values():
        cw.put_metric_alarm(AlarmName=ALARM, Namespace="AWS/RDS", MetricName="CPUUtilization",
                            Dimensions=[{"Name": "DBInstanceIdentifier", "Value": "orders-db"}], Statistic="Average",
                            Period=60, EvaluationPeriods=1, Threshold=80.0, ComparisonOperator="GreaterThanThreshold")
        cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="CPU above 80")
    return clients


async def cycle(settings):
    async with open_session(settings) as session:
        monitor = Monitor(session, settings)
        try:
            return await monitor.run_cycle()
        finally:
            monitor.close()


async def test_one_alarm_name_in_three_places_is_three_incidents_tiered_by_account(estate_toml, aws_env):
    report = await cycle(load_settings())
    opened = sorted((i.account, i.region, i.alarm, i.tier) for i in report.open_incidents)
    # The prod account's resources are production (DESIGN.md, "Tiers"); the default account's have no env.
    assert opened == [("default", "eu-west-1", ALARM, 2), ("default", "us-east-1", ALARM, 2),
                      ("prod", "us-east-1", ALARM, 1)]
    assert len({i.key for i in report.open_incidents}) == 3
    document = report.as_json()["incidents"]
    assert sorted((i["resource"]["account"], i["resource"]["region"]) for i in document) == sorted(PLACES)


async def test_a_place_that_cannot_be_read_is_one_skip_and_its_incident_stays_open(estate_toml, aws_env):
    first = await cycle(load_settings())
    assert len(first.open_incidents) == 3
    estate_toml[("default", "eu-west-1")].set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="calm")
    # The prod role now cannot be reached (a profile that does not exist): prod is unread, not all clear.
    broken = load_settings(accounts=[{"name": "prod", "profile": "no-such-profile"}])
    later = await cycle(broken)
    assert [(i.account, i.region) for i in later.resolved] == [("default", "eu-west-1")]
    assert sorted((i.account, i.region) for i in later.open_incidents) == [("default", "us-east-1"),
                                                                           ("prod", "us-east-1")]
    # One line per place (prod is configured in both regions), however many calls skipped it.
    skipped = sorted(line.split(":")[0] for line in later.skipped if line.startswith("skipped prod/"))
    assert skipped == ["skipped prod/eu-west-1", "skipped prod/us-east-1"], later.skipped
    assert all("ProfileNotFound" in line for line in later.skipped if line.startswith("skipped prod/"))


@pytest.mark.e2e
def test_monitor_once_json_says_where_each_resource_lives(estate_toml, aws_env):
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    done = subprocess.run([sys.executable, "main.py", "monitor", "--once", "--json"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    found = sorted((i["resource"]["type"], i["resource"]["id"], i["resource"]["account"], i["resource"]["region"])
                   for i in json.loads(done.stdout)["incidents"])
    assert found == [("rds:db-instance", "orders-db", a, r) for a, r in sorted(PLACES)]
    narrowed = subprocess.run([sys.executable, "main.py", "monitor", "--once", "--json", "--account", "nobody"],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert narrowed.returncode == 2 and narrowed.stderr.startswith("error: no account named 'nobody'")
    assert len(narrowed.stderr.strip().splitlines()) == 1
