"""Accounts and regions in settings and on the command line: one clear line for each mistake."""

from __future__ import annotations

import pytest

import main
from utils.config import ConfigError, Place, load_settings

ROLE = "arn:aws:iam::111111111111:role/aiops"


def test_places_default_to_the_session_and_follow_aiops_toml(tmp_path, monkeypatch):
    monkeypatch.setenv("AIOPS_HOME", str(tmp_path))
    monkeypatch.setenv("AWS_REGION", "ap-northeast-2")
    assert load_settings().places() == [Place("default", "ap-northeast-2")]
    (tmp_path / "aiops.toml").write_text(f'regions = ["us-east-1", "eu-west-1"]\n[[accounts]]\nname = "prod"\n'
                                         f'role_arn = "{ROLE}"\nregions = ["us-east-1"]\n')
    settings = load_settings()
    assert settings.places() == [Place("default", "us-east-1"), Place("default", "eu-west-1"), Place("prod", "us-east-1")]
    assert load_settings(only_account="prod").places() == [Place("prod", "us-east-1")]
    # --region narrows every account to the regions named.
    assert load_settings(only_regions=["eu-west-1"]).places() == [Place("default", "eu-west-1"),
                                                                  Place("prod", "eu-west-1")]


def test_the_sandbox_brings_its_own_places_unless_aiops_toml_names_some(tmp_path, monkeypatch):
    monkeypatch.setenv("AIOPS_HOME", str(tmp_path))
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert load_settings(sandbox=True).places() == [Place("default", "us-east-1"), Place("default", "eu-west-1"),
                                                    Place("prod", "us-east-1"), Place("prod", "eu-west-1")]
    (tmp_path / "aiops.toml").write_text('regions = ["us-east-1"]\n')
    assert load_settings(sandbox=True).places() == [Place("default", "us-east-1")]


@pytest.mark.parametrize(("accounts", "says"), [
    ([{"name": "prod", "role_arn": "prod"}], "accounts.0.role_arn: must be an IAM role ARN"),
    ([{"name": "prod", "profile": "p", "role_arn": ROLE}], "has both profile and role_arn"),
    ([{"name": "prod", "profile": "a"}, {"name": "prod", "profile": "b"}], "account 'prod' is configured twice"),
    ([{"name": "prod", "role_arn": ROLE, "regions": ["Frankfurt"]}], "'Frankfurt' is not a region code"),
    ([{"name": "prod", "rolearn": ROLE}], "accounts.0.rolearn: Extra inputs are not permitted"),
])
def test_a_bad_account_is_one_line(tmp_path, monkeypatch, accounts, says):
    monkeypatch.setenv("AIOPS_HOME", str(tmp_path))
    with pytest.raises(ConfigError) as raised:
        load_settings(accounts=accounts)
    assert says in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize(("argv", "says"), [
    (["--region", "Ireland", "history"], "error: invalid setting --region: 'Ireland' is not a region code"),
    (["--account", "prod", "history"], "error: no account named 'prod' is configured (accounts: default)"),
    (["--region", ",", "history"], "error: --region ',' names no region"),
])
def test_bad_places_on_the_command_line_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys, argv, says):
    monkeypatch.setenv("AIOPS_HOME", str(tmp_path))
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(says) and err.count("\n") == 1
