"""Chunking by heading and front-matter parsing."""

from __future__ import annotations

import pytest

from sop.markdown import MAX_CHUNK_CHARS, FrontMatterError, list_steps, parse_sop, split_front_matter

DOC = """---
title: EC2 CPU saturation
tags: [ec2, cpu]
alarms:
  - "*CPUUtilization*"
  - "*cpu*high*"
recovery: {tool: get_metric_statistics, arguments: {metric: CPUUtilization}}
weight: 20
---

# EC2CpuSaturation

Intro paragraph.

## Recovery

Scale out first.

### Burstable types

Check CPU credits.

```shell
# this is a shell comment, not a heading
top -o %CPU
```

## Root cause

Traffic growth.
"""


def test_chunks_follow_headings_and_keep_the_section_path():
    doc = parse_sop(DOC, fallback_title="file")
    assert doc.title == "EC2 CPU saturation"
    sections = [c.section for c in doc.chunks]
    # The H1 spells the title as an identifier, so it is not repeated in the path.
    assert sections == [
        "EC2 CPU saturation",
        "EC2 CPU saturation > Recovery",
        "EC2 CPU saturation > Recovery > Burstable types",
        "EC2 CPU saturation > Root cause",
    ]
    burstable = doc.chunks[2]
    assert "# this is a shell comment" in burstable.text
    assert burstable.embedding_text().startswith("EC2 CPU saturation > Recovery > Burstable types\n")


def test_front_matter_fields_become_metadata():
    doc = parse_sop(DOC, fallback_title="file")
    assert doc.tags == ["ec2", "cpu"]
    assert doc.alarms == ["*CPUUtilization*", "*cpu*high*"]
    assert doc.recovery == {"tool": "get_metric_statistics", "arguments": {"metric": "CPUUtilization"}}


def test_title_falls_back_to_first_h1_then_file_name():
    assert parse_sop("## Only a section\n\ntext\n# Real Title\n\nmore", "stem").title == "Real Title"
    assert parse_sop("plain text, no headings", "my-runbook").title == "my-runbook"
    different = parse_sop("---\ntitle: Short\n---\n# Long Heading\n\nbody\n", "x")
    assert different.chunks[0].section == "Short > Long Heading"


def test_recovery_accepts_a_bare_tool_name():
    doc = parse_sop("---\nrecovery: reboot_instances\n---\nReboot.\n", "x")
    assert doc.recovery == {"tool": "reboot_instances", "arguments": {}}


def test_long_sections_are_split_below_the_model_window():
    paragraph = "The volume fills with rotated logs that nobody compresses. " * 6
    text = "# Big\n\n" + "\n\n".join(paragraph for _ in range(12))
    doc = parse_sop(text, "x")
    assert len(doc.chunks) > 3
    assert all(len(c.text) <= 2 * MAX_CHUNK_CHARS for c in doc.chunks)
    assert all(c.section == "Big" for c in doc.chunks)


def test_one_huge_line_is_still_cut():
    doc = parse_sop("# Dump\n\n" + "x" * 10_000, "x")
    assert len(doc.chunks) >= 5


def test_empty_and_front_matter_only_documents_have_no_chunks():
    assert parse_sop("", "x").chunks == []
    assert parse_sop("---\ntitle: kubernetes\nweight: 10\n---\n", "x").chunks == []


def test_heading_without_body_still_appears_in_paths():
    doc = parse_sop("# T\n\n## Parent\n\n### Child\n\ntext\n", "x")
    assert [c.section for c in doc.chunks] == ["T > Parent > Child"]


def test_bom_and_no_front_matter():
    meta, body = split_front_matter("\ufeff# Title\n\ntext")
    assert meta == {} and body.startswith("# Title")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\ntitle: x\n# never closed\n", "never closed"),
        ("---\ntitle: [unclosed\n---\nbody\n", "not valid YAML at line"),
        ("---\n- a\n- b\n---\nbody\n", "must be a YAML mapping"),
        ("---\nrecovery: {tool: rm_rf}\n---\nbody\n", "unknown tool 'rm_rf'"),
        ("---\nrecovery: {tool: 'rm -rf /'}\n---\nbody\n", "unknown tool 'rm -rf /'"),
        ("---\nrecovery: {arguments: {}}\n---\nbody\n", "must be a mapping like"),
        ("---\nrecovery: {tool: reboot_instances, arguments: [1]}\n---\nbody\n", "arguments"),
        ("---\nalarms: {a: b}\n---\nbody\n", "'alarms' must be a list of strings"),
    ],
)
def test_broken_front_matter_is_one_clear_line(text, message):
    with pytest.raises(FrontMatterError, match=message) as caught:
        parse_sop(text, "x", known_tools={"reboot_instances", "get_metric_statistics"})
    assert "\n" not in str(caught.value)


def test_without_a_catalog_a_recovery_must_still_look_like_a_tool_name():
    assert parse_sop("---\nrecovery: reboot_instances\n---\nx\n", "x").recovery["tool"] == "reboot_instances"
    with pytest.raises(FrontMatterError, match="unknown tool"):
        parse_sop("---\nrecovery: 'Reboot Now!'\n---\nx\n", "x")


def test_comma_separated_tags_are_accepted():
    assert parse_sop("---\ntags: ec2, disk\n---\nbody\n", "x").tags == ["ec2", "disk"]


def test_list_steps_reads_each_numbered_item_with_its_continuation_as_one_line():
    text = ("Do these in order.\n\n1. Check the graph\n   over 3 hours.\n2) Run:\n   ```bash\n   aws rds describe-db-instances\n"
            "   ```\n\n3. Scale up\n   - the writer first\n\nAfter the list, prose that is no step.\n4. Not this one.")
    assert list_steps(text, 8, 200) == ["Check the graph over 3 hours.", "Run: aws rds describe-db-instances",
                                        "Scale up - the writer first"]
    assert list_steps(text, 2, 12) == ["Check the…", "Run: aws…"]


def test_list_steps_falls_back_to_bullets_and_is_empty_for_prose():
    assert list_steps("- Restart the consumer\n- Drain the queue\x07 now\n", 8, 200) == [
        "Restart the consumer", "Drain the queue now"]
    assert list_steps("Reboot it and watch the graph.", 8, 200) == []
