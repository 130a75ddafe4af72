"""Shared fixtures: a real moto server on loopback, a temp AIOPS_HOME, and MCP clients.

Nothing here is a mock: the tools talk HTTP to moto, the MCP client talks to the real
server (in memory or over stdio), and state lands in real SQLite files.
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import AwsEnv
from tests.store_backends import aws_credentials, backend, outbox_factory, store_factory  # noqa: F401 - shared fixtures

# Keep the suite hermetic whatever the developer's shell has set.
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "OLLAMA_HOST", "SLACK_WEBHOOK_URL", "AIOPS_MODEL",
             "SLACK_WEBHOOK_URL_TIER0", "SLACK_WEBHOOK_URL_TIER1", "SLACK_WEBHOOK_URL_TIER2", "AIOPS_MAX_TARGETS",
             "PAGERDUTY_ROUTING_KEY", "PAGERDUTY_EVENTS_URL", "DISCORD_WEBHOOK_URL", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN",
             "SLACK_CHANNEL", "SLACK_CHANNEL_TIER0", "SLACK_CHANNEL_TIER1", "SLACK_CHANNEL_TIER2", "SLACK_API_URL",
             # pytest-xdist workers inherit COLUMNS=80/LINES=24; rich would then ignore the size of the
             # pseudo-terminals the e2e tests open (140 columns) and fold table cells they look for.
             "COLUMNS", "LINES"):
    os.environ.pop(_var, None)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"  # never probe the instance-metadata address
os.environ["AWS_MAX_ATTEMPTS"] = "1"  # moto's 500s must fail fast, not be retried with back-off


# Session fixtures are built once per pytest-xdist worker. The corpus build indexes 108 runbooks with
# the embedding models (tens of CPU seconds), so the tests that use it stay together on one worker
# (`--dist loadgroup`, set in pyproject.toml) and go out first, before the many small tests. (The
# library template, `sop_store_template`, is built once per run under a lock and shared by every worker.)
_XDIST_GROUPS = {"_corpus_build": "sop-corpus"}


def pytest_collection_modifyitems(config, items):
    grouped = []
    for item in items:
        group = next((g for fixture, g in _XDIST_GROUPS.items() if fixture in item.fixturenames), None)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
            grouped.append(item)
    if getattr(config.option, "numprocesses", None):
        first = set(grouped)
        items[:] = grouped + [item for item in items if item not in first]


@pytest.fixture(scope="session")
def moto_url():
    import logging

    from moto.server import ThreadedMotoServer

    from utils.sandbox_moto import atomic_dynamodb

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    atomic_dynamodb()  # conditional writes atomic, as DynamoDB's are (workers sharing a table rely on it)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def reset_moto(url: str) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    opener.open(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).read()


@pytest.fixture
def aws_env(moto_url, tmp_path, monkeypatch) -> AwsEnv:
    """A clean moto and a fresh AIOPS_HOME, with this process pointed at both."""
    reset_moto(moto_url)
    home = tmp_path / "aiops-home"
    values = {
        "AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AIOPS_HOME": str(home),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return AwsEnv(url=moto_url, home=Path(home), env=values)


@pytest.fixture
def estate(aws_env) -> dict[str, str]:
    """The sandbox's seeded estate (10 instances, alarms, metrics, logs, costs): Name -> id."""
    from utils.sandbox import seed_estate

    return seed_estate(aws_env.url)


@pytest.fixture
def ec2(aws_env):
    """A boto3 client to check the fleet's real state after an action."""
    import boto3

    return boto3.client("ec2", endpoint_url=aws_env.url, region_name="us-east-1")
