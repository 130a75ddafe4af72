"""Tier rules: unit cases, the [tiers] table, and tiers as a real monitor cycle assigns them."""

from __future__ import annotations

import pytest

from agent.mcp_client import open_session
from agent.monitor.loop import Monitor
from agent.monitor.tiers import TierRules, classify
from notify.slack_webhook import SlackWebhookNotifier
from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from utils.config import ConfigError, load_settings
from utils.sandbox import simulate_alarm

DEFAULT = TierRules()


@pytest.mark.parametrize(
    ("alarm", "metric", "env", "tags", "tier"),
    [
        # Tier 0 is production down: a status check on prod, not on staging or an untagged instance.
        ("web-status-check-failed", "StatusCheckFailed", "prod", {}, 0),
        ("anything", "StatusCheckFailed_System", "production", {}, 0),
        ("StatusCheckFailed_Instance-api", None, "prod", {}, 0),
        ("worker-1-status-check-failed", "StatusCheckFailed", "staging", {}, 2),
        ("anything", "StatusCheckFailed_System", None, {}, 2),
        ("StatusCheckFailed_Instance-api", None, "dev", {"critical": "true"}, 1),
        ("checkout-p0-latency", "Latency", None, {}, 0),
        ("SEV0 payments down", None, None, {}, 0),
        ("disk-emergency", None, "dev", {}, 0),
        ("web-cpu-high", "CPUUtilization", "dev", {"severity": "sev0"}, 0),
        ("web-cpu-high", "CPUUtilization", "prod", {}, 1),
        ("web-cpu-high", "CPUUtilization", "Production", {}, 1),
        ("web-cpu-high", "CPUUtilization", "dev", {"critical": "true"}, 1),
        ("web-cpu-high", "CPUUtilization", "dev", {"criticality": "Critical"}, 1),
        ("web-cpu-high", "CPUUtilization", "dev", {"critical": "false"}, 2),
        ("web-cpu-high", "CPUUtilization", "staging", {}, 2),
        ("web-cpu-high", "CPUUtilization", None, {}, 2),
        # Words that merely contain the markers are not markers.
        ("p01-cache-evictions", None, None, {}, 2),
        ("step0-job-slow", None, None, {}, 2),
    ],
)
def test_default_rules(alarm, metric, env, tags, tier):
    assert classify(DEFAULT, alarm, metric, env, tags).tier == tier


def test_unreachable_instance_is_tier0_on_production_only():
    decision = classify(DEFAULT, "StatusCheckFailed:web", None, "prod", {}, unreachable=True)
    assert decision.tier == 0 and "unreachable" in decision.reason
    decision = classify(DEFAULT, "StatusCheckFailed:web", None, "dev", {}, unreachable=True)
    assert decision.tier == 2 and "not production" in decision.reason


def test_stopped_without_us_is_tier0_on_production():
    assert classify(DEFAULT, "InstanceStopped:web", None, "prod", {}, down="stopped without us").tier == 0
    assert classify(DEFAULT, "InstanceStopped:w", None, "staging", {}, down="stopped without us").tier == 2


def test_configured_patterns_raise_and_lower_before_the_defaults():
    rules = TierRules.from_config({"tier0": ["*payment*"], "tier2": ["*status-check*"], "prod_envs": ["live"]})
    assert classify(rules, "Payment-API-5xx", None, "dev", {}).tier == 0
    assert classify(rules, "db-status-check-failed", "StatusCheckFailed", "prod", {}).tier == 2
    assert classify(rules, "web-cpu-high", None, "live", {}).tier == 1
    assert classify(rules, "web-cpu-high", None, "prod", {}).tier == 2  # prod_envs replaced, not extended


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"tier0": "*x*", "tier9": ["*"]}, "unknown key 'tier9'"),
        ({"tier1": [1, 2]}, "tier1 must be a list of non-empty strings"),
        ({"tier0": [""]}, "tier0 must be a list"),
        ({"prod_envs": {"a": 1}}, "prod_envs must be a list"),
    ],
)
def test_a_broken_tiers_table_is_a_config_error(table, message):
    with pytest.raises(ConfigError, match=message):
        TierRules.from_config(table)


def test_a_single_string_pattern_is_accepted():
    assert TierRules.from_config({"tier0": "*pay*"}).patterns == ((0, "*pay*"),)


@pytest.mark.usefixtures("indexed_sops")
async def test_tiers_through_a_cycle(estate, ec2, aws_env):
    ec2.create_tags(Resources=[estate["dev-box-1"]], Tags=[{"Key": "critical", "Value": "yes"}])
    for kind, name in [("cpu", "worker-1"), ("cpu", "dev-box-1"), ("disk", "cache-1"), ("disk", "api-1"),
                       ("status", "api-2")]:
        simulate_alarm(aws_env.url, kind, name)
    settings = load_settings(tiers={"tier0": ["cache-1-*"]})
    async with open_session(settings) as session:
        monitor = Monitor(session, settings, notifier=SlackWebhookNotifier(settings.home, None))
        report = await monitor.run_cycle()
    tiers = {i.alarm: i.tier for i in report.open_incidents}
    assert tiers == {
        "worker-1-status-check-failed": 2,  # seeded firing: a status check, but on staging (not production down)
        "web-server-cpu-high": 1,  # seeded firing: prod
        "worker-1-cpu-high": 2,  # staging
        "dev-box-1-cpu-high": 1,  # dev, but tagged critical
        "cache-1-disk-full": 0,  # [tiers] tier0 pattern
        "api-1-disk-full": 1,  # prod
        "api-2-status-check-failed": 0,  # production down
    }
