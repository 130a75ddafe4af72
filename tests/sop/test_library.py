"""The shipped SOP library follows the product's rules (docs/architecture.md)."""

from __future__ import annotations

import re

import pytest

from mcp_server.server import tool_names
from sop.markdown import parse_sop
from tests.sop.conftest import LIBRARY
from utils.config import load_settings

SOPS = sorted(LIBRARY.glob("*.md"))
CATALOG = frozenset(tool_names(load_settings()))  # the server's own catalog, not a copy of it


def test_enough_sops_ship():
    assert len(SOPS) >= 15


@pytest.mark.parametrize("path", SOPS, ids=lambda p: p.stem)
def test_sop_has_alarms_recovery_and_leads_with_recovery(path):
    text = path.read_text(encoding="utf-8")
    doc = parse_sop(text, path.stem, known_tools=CATALOG)
    assert doc.alarms and doc.recovery and doc.recovery["tool"] in CATALOG
    first_section = re.search(r"^## (.+)$", text, re.MULTILINE)
    assert first_section and first_section.group(1) == "Recovery"  # recovery first
    assert all(len(line) <= 110 for line in text.splitlines())


def test_status_check_sops_propose_a_reboot_and_saturation_ones_a_diagnosis():
    recovery = {p.stem: parse_sop(p.read_text(encoding="utf-8"), p.stem).recovery["tool"] for p in SOPS}
    assert recovery["ec2-status-check-system"] == recovery["ec2-status-check-instance"] == "reboot_instances"
    for saturation in ("ec2-cpu-saturation", "ec2-memory-pressure", "ec2-disk-full", "ebs-burst-balance"):
        assert recovery[saturation] == "get_metric_statistics"
