"""The one boto3 session factory: profile, region, endpoint and retry policy in one place."""

from __future__ import annotations

import os
from functools import cached_property

from utils.config import Settings

# Short timeouts: an ops tool that hangs on a dead endpoint is worse than one that says so.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30


class AwsClients:
    """Clients built once per process, each on first use (a botocore service model takes ~50-200 ms to load)."""

    def __init__(self, settings: Settings):
        self._session = make_session(settings)
        self._config = client_config()
        self.region = settings.region
        self.endpoint_url = settings.aws_endpoint_url

    def _client(self, service: str, region: str | None = None):
        return self._session.client(service, region_name=region or self.region, endpoint_url=self.endpoint_url,
                                    config=self._config)

    @cached_property
    def ec2(self):
        return self._client("ec2")

    @cached_property
    def cloudwatch(self):
        return self._client("cloudwatch")

    @cached_property
    def logs(self):
        return self._client("logs")

    @cached_property
    def ce(self):
        return self._client("ce", "us-east-1")  # Cost Explorer is a global service served from us-east-1


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
    return AwsClients(settings)
