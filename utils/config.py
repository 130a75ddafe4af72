"""Settings: environment first, then `aiops.toml` in AIOPS_HOME, then defaults.

Environment variable names are a published contract (README, "Configuration"), so each field
names its variable explicitly rather than relying on a prefix.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from utils.urls import public_url, redact

DEFAULT_HOME = Path("~/.aiops")
CONFIG_FILE_NAME = "aiops.toml"


class ConfigError(Exception):
    """A setting or the config file is unusable; the message says which and why."""


REGION_CODE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
DEFAULT_ACCOUNT = "default"


class AccountConfig(BaseModel):
    """One `[[accounts]]` entry: a name, and how to reach it (a profile, or a role assumed through STS)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    profile: str | None = None
    role_arn: str | None = Field(None, pattern=r"^arn:aws[\w-]*:iam::\d{12}:role/\S+$")
    regions: list[str] | None = None  # else the top-level `regions`
    account_id: str | None = Field(None, pattern=r"^\d{12}$")  # informative; the role ARN's id otherwise
    env: str | None = None  # what the account is for ("prod"); its name says it otherwise

    @model_validator(mode="after")
    def _one_way_in(self) -> AccountConfig:
        if self.profile and self.role_arn:
            raise ValueError(f"account {self.name!r} has both profile and role_arn; give one")
        for region in self.regions or []:
            _check_region(region)
        return self

    @property
    def own_credentials(self) -> bool:
        """No profile and no role: the session's own credentials, under this name."""
        return not self.profile and not self.role_arn


class Place(NamedTuple):
    """One account (by its configured name) in one region."""

    account: str
    region: str


def _check_region(region: str) -> str:
    if not isinstance(region, str) or not REGION_CODE.match(region):
        raise ValueError(f"{region!r} is not a region code (e.g. us-east-1)")
    return region


class Settings(BaseSettings):
    # case_sensitive: otherwise the lowercase alias "home" would match $HOME.
    # env_ignore_empty: `AIOPS_HOME=""` (or any variable set to nothing) means unset, as in resolve_home;
    # otherwise the audit log would land in the current directory while aiops.toml came from ~/.aiops.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, case_sensitive=True,
                                      env_ignore_empty=True)

    aws_profile: str | None = Field(None, validation_alias=AliasChoices("AWS_PROFILE", "aws_profile"))
    aws_region: str | None = Field(
        None, validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION", "aws_region")
    )
    aws_endpoint_url: str | None = Field(
        None, validation_alias=AliasChoices("AWS_ENDPOINT_URL", "aws_endpoint_url")
    )
    # The whole of one AWS call, retries included (utils/aws.py splits it into per-attempt timeouts).
    aws_timeout_seconds: float = Field(
        30, gt=0, le=3600, validation_alias=AliasChoices("AIOPS_AWS_TIMEOUT", "aws_timeout_seconds")
    )
    # botocore's own variable, read here so a bad value is one line at start-up, not a crash in a tool.
    aws_max_attempts: int | None = Field(
        None, ge=1, le=20, validation_alias=AliasChoices("AWS_MAX_ATTEMPTS", "aws_max_attempts")
    )
    ollama_host: str = Field(
        "http://localhost:11434", validation_alias=AliasChoices("OLLAMA_HOST", "ollama_host")
    )
    model: str = Field("llama3.1:8b", validation_alias=AliasChoices("AIOPS_MODEL", "model"))
    home: Path = Field(DEFAULT_HOME, validation_alias=AliasChoices("AIOPS_HOME", "home"))
    slack_webhook_url: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_WEBHOOK_URL", "slack_webhook_url")
    )
    slack_webhook_url_tier0: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_WEBHOOK_URL_TIER0", "slack_webhook_url_tier0")
    )
    slack_webhook_url_tier1: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_WEBHOOK_URL_TIER1", "slack_webhook_url_tier1")
    )
    slack_webhook_url_tier2: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_WEBHOOK_URL_TIER2", "slack_webhook_url_tier2")
    )
    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token"))
    slack_channel: str | None = Field(None, validation_alias=AliasChoices("SLACK_CHANNEL", "slack_channel"))
    slack_channel_tier0: str | None = Field(
        None, validation_alias=AliasChoices("SLACK_CHANNEL_TIER0", "slack_channel_tier0"))
    slack_channel_tier1: str | None = Field(
        None, validation_alias=AliasChoices("SLACK_CHANNEL_TIER1", "slack_channel_tier1"))
    slack_channel_tier2: str | None = Field(
        None, validation_alias=AliasChoices("SLACK_CHANNEL_TIER2", "slack_channel_tier2"))
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=AliasChoices("SLACK_API_URL", "slack_api_url"))
    pagerduty_routing_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("PAGERDUTY_ROUTING_KEY", "pagerduty_routing_key")
    )
    pagerduty_events_url: str = Field(
        "https://events.pagerduty.com/v2/enqueue",
        validation_alias=AliasChoices("PAGERDUTY_EVENTS_URL", "pagerduty_events_url"),
    )
    discord_webhook_url: SecretStr | None = Field(
        None, validation_alias=AliasChoices("DISCORD_WEBHOOK_URL", "discord_webhook_url")
    )
    max_targets: int = Field(5, ge=1, validation_alias=AliasChoices("AIOPS_MAX_TARGETS", "max_targets"))
    # The blast radius across calls: targets of allowed destructive calls per caller in a rolling window.
    max_targets_per_window: int = Field(
        10, ge=1, validation_alias=AliasChoices("AIOPS_MAX_TARGETS_PER_WINDOW", "max_targets_per_window")
    )
    target_window_seconds: float = Field(
        600, gt=0, validation_alias=AliasChoices("AIOPS_TARGET_WINDOW_SECONDS", "target_window_seconds")
    )
    poll_seconds: float = Field(
        30, gt=0, validation_alias=AliasChoices("AIOPS_POLL_SECONDS", "poll_seconds")
    )
    # After an action, how long the monitor waits for the alarm to clear before it says the action did not
    # help; None: `[monitor] verify_minutes` in aiops.toml, else 10 (agent/monitor/models.py MonitorOptions).
    verify_minutes: float | None = Field(
        None, gt=0, validation_alias=AliasChoices("AIOPS_VERIFY_MINUTES", "verify_minutes")
    )
    # How long the server waits for a person to answer a y/N before it counts as No.
    confirm_timeout_seconds: float = Field(
        120, gt=0, validation_alias=AliasChoices("AIOPS_CONFIRM_TIMEOUT", "confirm_timeout_seconds")
    )
    ollama_timeout_seconds: float = Field(
        30, gt=0, validation_alias=AliasChoices("AIOPS_OLLAMA_TIMEOUT", "ollama_timeout_seconds")
    )
    read_only: bool = Field(False, validation_alias=AliasChoices("AIOPS_READ_ONLY", "read_only"))
    sandbox: bool = False
    planner: str = "auto"
    # Tables from aiops.toml that other subsystems interpret (tiers, auto-remediation).
    tiers: dict[str, Any] = Field(default_factory=dict)
    auto_remediation: dict[str, Any] = Field(default_factory=dict)
    monitor: dict[str, Any] = Field(default_factory=dict)
    intake: dict[str, Any] = Field(default_factory=dict)
    pagerduty: dict[str, Any] = Field(default_factory=dict)  # [pagerduty] tiers = [0]
    evidence: dict[str, Any] = Field(default_factory=dict)  # [evidence.log_groups] "orders-db*" = "/aws/rds/…"
    slack: dict[str, Any] = Field(default_factory=dict)  # [slack] approvers = ["U0123ABCD"]  # [intake] queue, reconcile_minutes (monitor --queue)
    # The estate (DESIGN.md, "The estate"): regions read by default, and the accounts beyond the session's.
    regions: list[str] = Field(default_factory=list)
    accounts: list[AccountConfig] = Field(default_factory=list)
    # --account NAME: only this account is read or acted on (None: every configured account).
    only_account: str | None = None
    # --region R[,R...]: only these regions, in every account (None: each account's configured regions).
    only_regions: list[str] | None = None
    # Where incidents, approvals, the outbox and the audit log live: `sqlite` (files under AIOPS_HOME) or
    # `dynamodb:TABLE` (one table several monitor workers share; agent/monitor/stores.py).
    store: str = Field("sqlite", validation_alias=AliasChoices("AIOPS_STORE", "store"))
    # With --sandbox: the sandbox generation's own directory (utils/sandbox_state.py sets it).
    _sandbox_state: Path | None = PrivateAttr(None)

    @field_validator("store")
    @classmethod
    def _store_is_known(cls, value: str) -> str:
        text = str(value).strip()
        if text.lower() == "sqlite":
            return "sqlite"
        kind, _, table = text.partition(":")
        if kind.lower() == "dynamodb" and re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", table):
            return f"dynamodb:{table}"
        raise ValueError(f"{text!r} is not a store: use sqlite or dynamodb:TABLE (a table name of 3-255 letters, "
                         "digits, '_', '-' or '.'), e.g. AIOPS_STORE=dynamodb:aiops")

    @property
    def dynamodb_table(self) -> str | None:
        """The shared table's name with `AIOPS_STORE=dynamodb:TABLE`, None for the SQLite store."""
        return self.store.partition(":")[2] if self.store.startswith("dynamodb:") else None

    @field_validator("aws_endpoint_url")
    @classmethod
    def _endpoint_is_a_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
            hidden = " (credentials hidden)" if redact(value) != value else ""
            raise ValueError(f"{public_url(value)!r}{hidden} is not an http(s) URL with a host and a numeric port "
                             "(e.g. http://localhost:5000)")
        return value.strip()

    @field_validator("regions", "only_regions")
    @classmethod
    def _regions_are_codes(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(_check_region(r) for r in value))

    @model_validator(mode="after")
    def _accounts_are_distinct(self) -> Settings:
        names = [a.name for a in self.accounts]
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice:
            raise ValueError(f"account {twice!r} is configured twice")
        own = [a.name for a in self.accounts if a.own_credentials]
        if len(own) > 1:
            raise ValueError(f"accounts {own[0]!r} and {own[1]!r} both use the session's own credentials; "
                             "give one a profile or role_arn")
        if self.only_account and self.only_account not in self.account_names:
            raise ValueError(f"no account named {self.only_account!r} is configured "
                             f"(accounts: {', '.join(self.account_names)})")
        return self

    @property
    def region(self) -> str:
        return self.aws_region or "us-east-1"

    @property
    def default_regions(self) -> list[str]:
        """The regions read when none is named: --region, else `regions` from aiops.toml, else the session's."""
        return list(self.only_regions or self.regions) or [self.region]

    @property
    def estate(self) -> list[AccountConfig]:
        """Every configured account, the session's own first (named `default` unless an entry names it)."""
        accounts = list(self.accounts)
        if not any(a.own_credentials for a in accounts):
            accounts.insert(0, AccountConfig(name=DEFAULT_ACCOUNT))
        accounts.sort(key=lambda a: not a.own_credentials)
        return accounts

    @property
    def account_names(self) -> list[str]:
        return [a.name for a in self.estate]

    def account(self, name: str) -> AccountConfig | None:
        return next((a for a in self.estate if a.name == name), None)

    def places(self) -> list[Place]:
        """Every (account, region) read by default; `--account` narrows it to one account."""
        return [Place(a.name, r) for a in self.estate if self.only_account in (None, a.name)
                for r in (self.only_regions or a.regions or self.default_regions)]

    @property
    def sandbox_home(self) -> Path:
        """Everything the sandbox keeps: AIOPS_HOME/sandbox/ (its server file, generations, REPL history)."""
        return self.home / "sandbox"

    @property
    def state_dir(self) -> Path:
        """Where incidents, the audit log, the outbox, owner files live: AIOPS_HOME, or with --sandbox the
        current sandbox generation's directory, never the real home (SOPs and aiops.toml stay in AIOPS_HOME)."""
        if not self.sandbox:
            return self.home
        return self._sandbox_state or self.sandbox_home

    def use_sandbox_state(self, directory: Path) -> None:
        self._sandbox_state = directory


def resolve_home(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("AIOPS_HOME") or DEFAULT_HOME).expanduser()


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse aiops.toml; a missing file is an empty config, a broken one an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def load_settings(**overrides: Any) -> Settings:
    """Build settings. Precedence: explicit overrides (CLI flags) > environment > aiops.toml > defaults."""
    home = Path(overrides.get("home") or resolve_home())
    file_values = read_config_file(home.expanduser() / CONFIG_FILE_NAME)
    # Environment wins over the file: drop file keys whose variable is set.
    merged: dict[str, Any] = {k: v for k, v in file_values.items() if not _env_sets(k)}
    merged.update({k: v for k, v in overrides.items() if v is not None})
    only_account = merged.pop("only_account", None)
    settings = _validated(merged)
    if settings.sandbox and "regions" not in file_values and "accounts" not in file_values:
        # The sandbox's own estate (both regions, `default` and `prod`) unless aiops.toml names places.
        from utils.sandbox_places import SANDBOX_ACCOUNTS, sandbox_regions

        merged.update(regions=sandbox_regions(settings.region), accounts=SANDBOX_ACCOUNTS)
    settings = _validated({**merged, "only_account": only_account} if only_account else merged)
    settings.home = settings.home.expanduser()
    return settings


def _validated(values: dict[str, Any]) -> Settings:
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        where = {"only_regions": "--region", "only_account": "--account"}.get(where.split(".")[0], where)
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "string_pattern_mismatch":
            message = _PATTERN_HINTS.get(str(first["loc"][-1]), message)
        raise ConfigError(f"invalid setting {where}: {message}" if where else message) from exc


_PATTERN_HINTS = {
    "role_arn": "must be an IAM role ARN, e.g. arn:aws:iam::111111111111:role/aiops",
    "name": "an account name is letters, digits, '.', '_' and '-'",
    "account_id": "an account id is 12 digits",
}


def _env_sets(field_name: str) -> bool:
    field = Settings.model_fields.get(field_name)
    if field is None or field.validation_alias is None:
        return False
    aliases = getattr(field.validation_alias, "choices", [field.validation_alias])
    return any(isinstance(a, str) and a.isupper() and os.environ.get(a) for a in aliases)
