"""Settings: environment first, then `aiops.toml` in AIOPS_HOME, then defaults.

Environment variable names are a published contract (README, "Configuration"), so each field
names its variable explicitly rather than relying on a prefix.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from utils.urls import public_url, redact

DEFAULT_HOME = Path("~/.aiops")
CONFIG_FILE_NAME = "aiops.toml"


class ConfigError(Exception):
    """A setting or the config file is unusable; the message says which and why."""


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
    slack: dict[str, Any] = Field(default_factory=dict)  # [slack] approvers = ["U0123ABCD"]  # [intake] queue, reconcile_minutes (monitor --queue)
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

    @property
    def region(self) -> str:
        return self.aws_region or "us-east-1"

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
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {where}: {message}") from exc
    settings.home = settings.home.expanduser()
    return settings


def _env_sets(field_name: str) -> bool:
    field = Settings.model_fields.get(field_name)
    if field is None or field.validation_alias is None:
        return False
    aliases = getattr(field.validation_alias, "choices", [field.validation_alias])
    return any(isinstance(a, str) and a.isupper() and os.environ.get(a) for a in aliases)
