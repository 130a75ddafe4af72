"""The one boto3 session factory: profile, region, endpoint and retry policy in one place."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

from utils.config import DEFAULT_ACCOUNT, AccountConfig, Settings

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
    """One place's clients (an account in a region), each built on first use (a botocore service model
    takes ~50-200 ms to load)."""

    def __init__(self, settings: Settings, session=None, region: str | None = None, account: str = DEFAULT_ACCOUNT):
        self._session = session if session is not None else make_session(settings)
        self._config = client_config(TimeoutBudget.from_settings(settings))
        self.region = region or settings.region
        self.account = account
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


class UnknownAccount(ValueError):
    code = "UnknownAccount"


class AwsEstate:
    """Clients per (account, region), built once per process on first use.

    Each account has its own boto3 session and so its own credentials: its profile's, or a role's
    assumed through STS with botocore's refreshing credentials (renewed before they expire, by botocore),
    sourced from the session's own. Two accounts never share a credential object.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self._sessions: dict[str, object] = {}
        self._clients: dict[tuple[str, str], AwsClients] = {}
        self._lock = threading.Lock()

    def clients(self, account: str, region: str) -> AwsClients:
        with self._lock:
            key = (account, region)
            if key not in self._clients:
                self._clients[key] = AwsClients(self.settings, self._session(account), region, account)
            return self._clients[key]

    def _session(self, account: str):
        if account not in self._sessions:
            spec = self.settings.account(account)
            if spec is None:
                raise UnknownAccount(f"no account named {account!r} is configured "
                                     f"(accounts: {', '.join(self.settings.account_names)})")
            self._sessions[account] = account_session(self.settings, spec)
        return self._sessions[account]


def account_session(settings: Settings, spec: AccountConfig):
    """A boto3 session for one configured account."""
    if spec.own_credentials:
        return make_session(settings)
    if spec.profile:
        return make_session(settings, profile=spec.profile)
    return assumed_session(settings, spec.role_arn or "")


def assumed_session(settings: Settings, role_arn: str):
    """A session whose credentials are `role_arn` assumed from the session's own, refreshed by botocore."""
    import boto3
    import botocore.session
    from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

    source = make_session(settings)
    config = client_config(TimeoutBudget.from_settings(settings))

    def sts_client(service: str, **keys):
        return source.client(service, region_name=settings.region, endpoint_url=settings.aws_endpoint_url,
                             config=config, **keys)

    source_credentials = source.get_credentials()
    if source_credentials is None:
        from botocore.exceptions import NoCredentialsError

        raise NoCredentialsError()
    fetcher = AssumeRoleCredentialFetcher(sts_client, source_credentials, role_arn,
                                          extra_args={"RoleSessionName": "aiops-agent"})
    core = botocore.session.Session()
    core._credentials = DeferredRefreshableCredentials(fetcher.fetch_credentials, "assume-role")
    session = boto3.session.Session(botocore_session=core, region_name=settings.region)
    session.events.register("before-parse", reject_unparseable)
    return session


def make_session(settings: Settings, profile: str | None = None):
    import boto3  # boto3 import costs ~150 ms; only pay it where AWS is used
    from botocore.utils import validate_region_name

    validate_region_name(settings.region)  # botocore's own rule, here rather than at each client's first use
    session = boto3.session.Session(profile_name=profile or settings.aws_profile, region_name=settings.region)
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
    """The session's own account in its own region (the first place)."""
    return AwsClients(settings)
