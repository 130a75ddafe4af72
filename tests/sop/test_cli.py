"""The `sop` commands: exit codes, stdout JSON shapes (docs/architecture.md), one-line errors."""

from __future__ import annotations

import io
import json
import time

from sop.cli import cmd_add, cmd_list, cmd_remove, cmd_search
from tests.sop.conftest import CASES, CORPUS, run_cli

CRASHLOOP = "alertmanager pods in the cluster keep crashing and restarting"


def test_search_json_shape(corpus_home, capsys):
    assert cmd_search(corpus_home, CRASHLOOP, 3, json_out=True) == 0
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert list(document) == ["query", "results"] and document["query"] == CRASHLOOP
    assert len(document["results"]) == 3
    first = document["results"][0]
    assert list(first)[:5] == ["id", "source", "title", "score", "excerpt"]
    assert first["source"] == str(CORPUS / "alertmanager" / "AlertmanagerClusterCrashlooping.md")
    assert isinstance(first["score"], float) and len(first["excerpt"]) <= 300
    assert err == ""


def test_search_batch_reads_stdin_one_json_line_per_query(corpus_home, capsys, monkeypatch):
    queries = [case["alert"] for case in CASES["prometheus"][:40]]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(queries[:20]) + "\n\n" + "\n".join(queries[20:])))
    started = time.perf_counter()
    assert cmd_search(corpus_home, "-", 3, json_out=True) == 0
    elapsed = time.perf_counter() - started
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["query"] for line in lines] == queries
    assert elapsed < 10, f"40 queries took {elapsed:.1f}s"


def test_search_batch_keeps_going_after_a_bad_query(corpus_home, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("etcd has no leader\n" + "y" * 5000 + "\ndisk full\n"))
    assert cmd_search(corpus_home, "-", 2, json_out=True) == 1
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 3 and lines[1]["results"] == [] and "limit" in lines[1]["error"]
    assert lines[2]["results"]
    assert err.count("\n") == 1 and err.startswith("sop: query is 5000 characters")


def test_search_human_output_is_a_table(corpus_home, capsys):
    assert cmd_search(corpus_home, "etcd cluster has no leader", 2, json_out=False) == 0
    out = capsys.readouterr().out
    assert "etcd No Leader" in out or "etcdNoLeader" in out
    assert "score" in out


def test_a_weak_best_match_says_so_in_the_table_and_in_json(corpus_home, capsys):
    assert cmd_search(corpus_home, "오늘 점심 뭐 먹지", 3, json_out=False) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "weak match: the best score 0." in out and "is under 0.35" in out
    assert cmd_search(corpus_home, "오늘 점심 뭐 먹지", 3, json_out=True) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert list(results[0])[:5] == ["id", "source", "title", "score", "excerpt"] and results[0]["weak"] is True
    assert cmd_search(corpus_home, "디스크가 꽉 찼어요 어떻게 하죠", 3, json_out=False) == 0
    assert "weak match" not in capsys.readouterr().out


def test_empty_query_fails_with_one_line(corpus_home, capsys):
    assert cmd_search(corpus_home, "  ", 5, json_out=True) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "sop: empty query: give an alarm name or a description of the problem\n"


def test_list_json_shape(home, capsys):
    assert cmd_list(home, json_out=True) == 0
    documents = json.loads(capsys.readouterr().out)
    assert len(documents) >= 15 + 108
    assert all(list(d)[:4] == ["id", "source", "title", "chunks"] for d in documents)
    assert cmd_list(home, json_out=False) == 0
    assert "EC2 CPU saturation" in capsys.readouterr().out


def test_add_reports_failures_on_stderr_and_still_ingests(home, sops, tmp_path, capsys):
    (sops / "bad.md").write_bytes(b"\xff\xfe\x00binary")
    code = cmd_add(home, [str(sops), str(tmp_path / "nowhere")], json_out=True)
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code == 1 and (report["added"], report["failed"]) == (2, 2)
    assert err.splitlines() == [
        f"sop: {(sops / 'bad.md').resolve()}: binary file, not Markdown text",
        f"sop: {tmp_path / 'nowhere'}: no such file or folder",
    ]
    assert cmd_add(home, [str(sops / "disk.md")], json_out=False) == 0
    assert "unchanged 1" in capsys.readouterr().out


def test_remove(home, sops, capsys):
    cmd_add(home, [str(sops / "disk.md")], json_out=True)
    doc_id = json.loads(capsys.readouterr().out)["files"][0]["id"]
    assert cmd_remove(home, doc_id) == 0
    assert capsys.readouterr().out.startswith(f"removed {doc_id} ")
    assert cmd_remove(home, doc_id) == 1
    assert capsys.readouterr().err.startswith("sop: no SOP with id or path")


def test_the_command_line_in_a_subprocess(home):
    done = run_cli("search", "ALARM: \"web-1-StatusCheckFailed_System\" in EU (Ireland)", "--json", home=home)
    assert done.returncode == 0, done.stderr
    top = json.loads(done.stdout)["results"][0]
    assert top["title"] == "EC2 system status check failed"
    assert top["recovery"] == {"tool": "reboot_instances", "arguments": {}}
    missing = run_cli("add", "/definitely/not/here", home=home)
    assert missing.returncode == 1
    assert missing.stderr == "sop: /definitely/not/here: no such file or folder\n"
    assert "Traceback" not in missing.stderr


def test_sop_add_refuses_a_recovery_the_server_does_not_offer(tmp_path):
    doc = tmp_path / "bad.md"
    doc.write_text("---\nalarms: ['*disk*']\nrecovery: {tool: rm_rf}\n---\n# Disk\n\n## Recovery\nClean up.\n")
    done = run_cli("add", str(doc), home=tmp_path / "home")
    assert done.returncode == 1
    assert "unknown tool 'rm_rf'" in done.stderr and "Traceback" not in done.stderr
