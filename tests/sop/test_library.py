"""The shipped SOP library follows the product's rules (docs/architecture.md)."""

from __future__ import annotations

import re

import pytest

from mcp_server.server import tool_names
from sop.markdown import parse_sop
from sop.store import SopStore
from tests.sop.conftest import CASES, LIBRARY
from utils.config import load_settings

SOPS = sorted(LIBRARY.glob("*.md"))
CATALOG = frozenset(tool_names(load_settings()))  # the server's own catalog, not a copy of it
# Runbooks for resources the tool catalog cannot act on (issue 11): their recovery is steps for a person.
STEPS_ONLY = ("rds-cpu-high", "rds-connections-high", "rds-storage-low", "rds-replica-lag", "alb-elb-5xx",
              "alb-unhealthy-hosts", "lambda-errors", "lambda-throttles", "sqs-message-age", "dynamodb-throttling")
_STEP = re.compile(r"^\d{1,2}\. (.+)$", re.MULTILINE)


def recovery_section(text: str) -> str:
    return text.split("\n## Recovery\n", 1)[1].split("\n## ", 1)[0]


def test_enough_sops_ship():
    assert len(SOPS) >= 25 and all((LIBRARY / f"{stem}.md").is_file() for stem in STEPS_ONLY)


@pytest.mark.parametrize("path", SOPS, ids=lambda p: p.stem)
def test_sop_has_alarms_and_numbered_recovery_steps_first(path):
    text = path.read_text(encoding="utf-8")
    doc = parse_sop(text, path.stem, known_tools=CATALOG)  # the check `sop add` makes
    assert doc.alarms and doc.chunks
    # A tool call only where the catalog can act; everywhere else the steps are the recovery.
    if path.stem in STEPS_ONLY:
        assert doc.recovery is None
    else:
        assert doc.recovery and doc.recovery["tool"] in CATALOG
    first_section = re.search(r"^## (.+)$", text, re.MULTILINE)
    assert first_section and first_section.group(1) == "Recovery"  # recovery first
    assert len(_STEP.findall(recovery_section(text))) >= 3
    # A URL cannot be wrapped; every other line fits a terminal.
    assert all(len(line) <= 110 for line in text.splitlines() if not line.strip().startswith("https://"))


@pytest.mark.parametrize("stem", STEPS_ONLY)
def test_non_ec2_sops_cite_the_aws_documentation_and_say_when_to_escalate(stem):
    text = (LIBRARY / f"{stem}.md").read_text(encoding="utf-8")
    references = text.split("\n## References\n", 1)[1]
    assert re.search(r"https://(docs\.aws\.amazon\.com|repost\.aws)/\S+", references)
    assert "Escalate" in recovery_section(text)


def test_status_check_sops_propose_a_reboot_and_saturation_ones_a_diagnosis():
    recovery = {p.stem: (parse_sop(p.read_text(encoding="utf-8"), p.stem).recovery or {}).get("tool") for p in SOPS}
    assert recovery["ec2-status-check-system"] == recovery["ec2-status-check-instance"] == "reboot_instances"
    for saturation in ("ec2-cpu-saturation", "ec2-memory-pressure", "ec2-disk-full", "ebs-burst-balance"):
        assert recovery[saturation] == "get_metric_statistics"


@pytest.fixture(scope="module")
def store(corpus_home) -> SopStore:
    return SopStore(corpus_home)


@pytest.mark.parametrize("stem", STEPS_ONLY)
def test_each_non_ec2_sop_is_the_top_hit_for_its_alarm_and_carries_all_its_steps(store, stem):
    # The first tuning case for it: an alarm as the monitor queries it (agent/monitor/signals.py `sop_query`).
    alert = next(c["alert"] for c in CASES["resource"] if c["expect"] == f"library/{stem}.md")
    hit = store.search(alert, k=3)[0]
    assert hit.source == str(LIBRARY / f"{stem}.md") and not hit.weak, (alert, hit.title)
    text = (LIBRARY / f"{stem}.md").read_text(encoding="utf-8")
    assert hit.steps == _numbered_items(recovery_section(text))  # every step, in order, one line each


def _numbered_items(section: str) -> list[str]:
    """Each numbered item with its continuation lines: how a person reads the list."""
    items: list[str] = []
    for line in section.splitlines():
        start = re.match(r"^\d{1,2}\. (.+)$", line)
        if start:
            items.append(start.group(1))
        elif items and line.startswith("   ") and line.strip():
            items[-1] += " " + line.strip()
    return [" ".join(item.split()) for item in items]
