"""The one boto3 session factory: profile, region, endpoint and retry policy in one place."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from utils.config import Settings

# botocore's standard retry mode makes 3 attempts in all unless AWS_MAX_ATTEMPTS says otherwise.
DEFAULT_ATTEMPTS = 3
# Connecting takes milliseconds when the endpoint is up; most of an attempt's budget is for the answer.
CONNECT_TIMEOUT_SECONDS = 5
MAX_POOL_CONNECTIONS = 64


@dataclass(frozen=True)
class TimeoutBudget:
    """AIOPS_AWS_TIMEOUT split over botocore's attempts, so one call, retries included, ends in time.

    Each attempt may spend `connect + read`; `attempts` of them fit in `total`. (The standard mode's
    back-off between attempts is 50-100 ms for timeouts and refused connections; throttling back-off,
    up to a few seconds, follows answers that came quickly.)
    """

    total: float
    attempts: int

    @classmethod
    def from_settings(cls, settings: Settings) -> TimeoutBudget:
        return cls(settings.aws_timeout_seconds, settings.aws_max_attempts or DEFAULT_ATTEMPTS)

    @property
    def connect(self) -> float:
        return min(CONNECT_TIMEOUT_SECONDS, self.total / self.attempts / 5)

    @property
    def read(self) -> float:
        return self.total / self.attempts - self.connect

    def describe(self) -> str:
        return f"{self.total:g} s ({self.attempts} attempt{'s' if self.attempts != 1 else ''})"


class AwsClients:
    """Clients built once per process, each on first use (a botocore service model takes ~50-200 ms to load)."""

    def __init__(self, settings: Settings):
        self._session = make_session(settings)
        self._config = client_config(TimeoutBudget.from_settings(settings))
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
    def tagging(self):
        return self._client("resourcegroupstaggingapi")  # Name/env tags of non-EC2 resources, in batches

    @cached_property
    def ce(self):
        return self._client("ce", "us-east-1")  # Cost Explorer is a global service served from us-east-1


def make_session(settings: Settings):
    import boto3  # boto3 import costs ~150 ms; only pay it where AWS is used
    from botocore.utils import validate_region_name

    validate_region_name(settings.region)  # botocore's own rule, here rather than at each client's first use
    session = boto3.session.Session(profile_name=settings.aws_profile, region_name=settings.region)
    session.events.register("before-parse", reject_unparseable)
    return session


def reject_unparseable(operation_model, response_dict, **_kwargs) -> None:
    """A 2xx body that is not JSON for a JSON-protocol service is a broken endpoint, not an empty answer.

    botocore reads such a body as `{"message": ...}`, so a proxy's HTML page or random bytes would come
    back as "no alarms" and the monitor would resolve every open incident. XML services already fail.
    """
    from botocore.parsers import ResponseParserError

    protocol = getattr(operation_model.service_model, "resolved_protocol", operation_model.service_model.protocol)
    body = response_dict.get("body") or b""
    if protocol == "json" and response_dict.get("status_code", 500) < 300 and body.strip() \
            and body.lstrip()[:1] not in (b"{", b"["):
        raise ResponseParserError(f"{operation_model.name}: the answer is not JSON ({len(body)} bytes)")


def client_config(budget: TimeoutBudget):
    from botocore.config import Config

    # botocore's standard retry mode does the retrying; the budget only sizes each attempt.
    return Config(
        retries={"mode": "standard", "total_max_attempts": budget.attempts},
        connect_timeout=budget.connect,
        read_timeout=budget.read,
        user_agent_extra="aiops-agent",
        # Many calls share one client at once (the server's worker threads; a storm's evidence, three parts
        # per alarm): botocore's 10 would make urllib3 warn and discard connections.
        max_pool_connections=MAX_POOL_CONNECTIONS,
    )


def build_clients(settings: Settings) -> AwsClients:
    return AwsClients(settings)
