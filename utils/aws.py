"""The one boto3 session factory: profile, region, endpoint and retry policy in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from utils.config import Settings

# Short timeouts: an ops tool that hangs on a dead endpoint is worse than one that says so.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class AwsClients:
    """Clients built once per process and handed to the tool functions."""

    ec2: Any
    cloudwatch: Any
    logs: Any
    ce: Any
    region: str
    endpoint_url: str | None


def make_session(settings: Settings):
    import boto3  # boto3 import costs ~150 ms; only pay it where AWS is used

    return boto3.session.Session(profile_name=settings.aws_profile, region_name=settings.region)


def client_config():
    from botocore.config import Config

    # AWS_MAX_ATTEMPTS is botocore's own variable; honouring it lets tests turn retries off
    # (moto's 500s would otherwise be retried with back-off).
    attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or 4)
    return Config(
        retries={"mode": "standard", "max_attempts": max(1, attempts)},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        user_agent_extra="aiops-agent",
    )


def build_clients(settings: Settings) -> AwsClients:
    session = make_session(settings)
    config = client_config()
    endpoint = settings.aws_endpoint_url

    def client(service: str, region: str | None = None):
        return session.client(service, region_name=region or settings.region, endpoint_url=endpoint, config=config)

    # Cost Explorer is a global service served from us-east-1.
    return AwsClients(
        ec2=client("ec2"),
        cloudwatch=client("cloudwatch"),
        logs=client("logs"),
        ce=client("ce", "us-east-1"),
        region=settings.region,
        endpoint_url=endpoint,
    )
