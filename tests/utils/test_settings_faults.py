"""Settings that would crash later are one line now; an empty variable means unset."""

import re

import pytest

from utils.aws import TimeoutBudget
from utils.config import ConfigError, Settings, load_settings


def test_empty_aiops_home_is_the_default(monkeypatch):
    monkeypatch.setenv("AIOPS_HOME", "")
    assert load_settings().home.name == ".aiops"


@pytest.mark.parametrize("variable, value, fragment", [
    ("AWS_MAX_ATTEMPTS", "abc", "AWS_MAX_ATTEMPTS"),
    ("AWS_ENDPOINT_URL", "notaurl", "'notaurl' is not an http(s) URL"),
    ("AWS_ENDPOINT_URL", "http://localhost:port", "not an http(s) URL"),
    ("AIOPS_AWS_TIMEOUT", "0", "AIOPS_AWS_TIMEOUT"),
])
def test_unusable_aws_settings_are_config_errors(monkeypatch, variable, value, fragment):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        load_settings()


@pytest.mark.parametrize("total, attempts", [(30, 3), (1.5, 2), (600, 10), (30, 1)])
def test_the_timeout_budget_holds_every_attempt(total, attempts):
    budget = TimeoutBudget.from_settings(Settings(aws_timeout_seconds=total, aws_max_attempts=attempts))
    assert budget.attempts == attempts
    assert budget.connect > 0 and budget.read > 0
    assert attempts * (budget.connect + budget.read) == pytest.approx(total)
