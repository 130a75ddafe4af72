"""The outbox keyed by destination, on real SQLite files (and, for the tests taking `outbox_factory`, on
DynamoDB too): alerts stored neutral, lanes apart, old files adopted."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from notify.base import Alert
from notify.outbox import TABLE, Outbox
from notify.slack_message import build_message
from notify.slack_webhook import LEGACY_OUTBOX_TABLE, NAME, OUTBOX_FILE, SlackWebhookNotifier
from tests.helpers import REPO
from tests.notify.slack_server import FakeSlackWebhook, Reply, no_proxy_fixture, slack_fixture  # noqa: F401

OLD_SCHEMA = """
CREATE TABLE slack_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created_at REAL NOT NULL, tier INTEGER NOT NULL,
    incident_id TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, claimed_by TEXT, claimed_at REAL, last_error TEXT
)
"""


def alert(n: int, *, tier: int = 2, kind: str = "open") -> Alert:
    return Alert(kind=kind, tier=tier, incident_id=f"INC-{n}", alarm=f"HighCPU-{n}", resource_name="web-1",
                 resource_id="i-0abc123", proposal="reboot_instances web-1 (i-0abc123)", risk="HIGH")


def notifier(home: Path, url: str) -> SlackWebhookNotifier:
    return SlackWebhookNotifier(home, url, max_retries=0, timeout=5.0, backoff=0.01)


def old_outbox_file(home: Path, alerts: list[Alert]) -> Path:
    """An outbox as the version before destinations wrote it: Slack messages rendered at queue time."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / OUTBOX_FILE
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_SCHEMA)
        conn.executemany("INSERT INTO slack_outbox (created_at, tier, incident_id, kind, payload) VALUES (?, ?, ?, ?, ?)",
                         [(1.0 + n, a.tier, a.incident_id, a.kind, json.dumps(build_message(a)))
                          for n, a in enumerate(alerts)])
    return path


def test_a_row_holds_the_neutral_alert_and_is_rendered_when_sent(tmp_path, slack):
    slack.always(Reply.server_error())
    sender = notifier(tmp_path, slack.url)
    assert sender.notify(alert(1, tier=0)).status == "queued"

    with sqlite3.connect(tmp_path / OUTBOX_FILE) as conn:
        ((destination, stored, rendered),) = conn.execute(f"SELECT destination, alert, rendered FROM {TABLE}")
    assert destination == NAME and rendered is None
    assert Alert.model_validate_json(stored) == alert(1, tier=0)  # no Slack blocks, no mention: just the alert
    assert "blocks" not in stored and "<!channel>" not in stored

    slack.always(Reply.ok())
    assert sender.drain() == 1
    assert slack.delivered == [build_message(alert(1, tier=0))]


def test_destinations_keep_their_own_lanes_and_counts(outbox_factory):
    slack_box, pager_box = outbox_factory(NAME), outbox_factory("PagerDuty")
    for n in (1, 2, 3):
        slack_box.put(alert(n))
    pager_box.put(alert(9, tier=0))
    pager_box.put(alert(9, tier=0, kind="repage"))  # folded into the waiting page of its own lane
    slack_box.put(alert(9, tier=0, kind="repage"))  # not into another destination's page

    assert (slack_box.count(), pager_box.count()) == (4, 1)
    claimed = pager_box.claim_next(lambda tier: tier, set())
    assert claimed is not None and claimed[0].alert.incident_id == "INC-9"
    pager_box.complete(claimed[0].id)
    assert pager_box.claim_next(lambda tier: tier, set()) is None  # Slack's rows are not PagerDuty's to send
    order = []
    while (got := slack_box.claim_next(lambda tier: "webhook", set())) is not None:
        order.append(got[0].alert.incident_id)
        slack_box.complete(got[0].id)
    assert order == ["INC-1", "INC-2", "INC-3", "INC-9"]


def test_an_old_outbox_file_is_adopted_and_delivered_in_order(tmp_path, slack):
    path = old_outbox_file(tmp_path, [alert(1, tier=0), alert(2)])
    sender = notifier(tmp_path, slack.url)

    assert sender.pending() == 2
    assert sender.notify(alert(3)).status == "sent"

    assert [body["text"] for body in slack.delivered] == [build_message(alert(n, tier=0 if n == 1 else 2))["text"]
                                                          for n in (1, 2, 3)]
    with sqlite3.connect(path) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert LEGACY_OUTBOX_TABLE not in tables and TABLE in tables
    assert sender.pending() == 0


def test_an_old_file_is_left_alone_by_other_destinations_and_never_crashes(tmp_path):
    path = old_outbox_file(tmp_path, [alert(1)])
    other = Outbox(path, "PagerDuty", lease_seconds=60)

    assert other.count() == 0 and other.claim_next(lambda tier: tier, set()) is None
    other.put(alert(2))
    assert other.count() == 1
    with sqlite3.connect(path) as conn:
        (waiting,) = conn.execute(f"SELECT COUNT(*) FROM {LEGACY_OUTBOX_TABLE}").fetchone()
    assert waiting == 1  # still Slack's, for the Slack notifier to adopt


def test_two_processes_adopting_one_old_file_move_each_row_once(tmp_path):
    path = old_outbox_file(tmp_path, [alert(n) for n in range(1, 6)])
    first = Outbox(path, NAME, lease_seconds=60, legacy_table=LEGACY_OUTBOX_TABLE)
    second = Outbox(path, NAME, lease_seconds=60, legacy_table=LEGACY_OUTBOX_TABLE)
    assert first.count() == 5 and second.count() == 5


def test_an_unreadable_row_is_set_aside_not_a_blocked_lane(tmp_path):
    path = tmp_path / OUTBOX_FILE
    box = Outbox(path, NAME, lease_seconds=60)
    box.put(alert(1))
    box.put(alert(2))
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE {TABLE} SET alert = '{{\"kind\": \"teleport\"}}' WHERE incident_id = 'INC-1'")

    claimed = box.claim_next(lambda tier: tier, set())
    assert claimed is not None and claimed[0].alert.incident_id == "INC-2"
    assert box.count() == 1


def test_the_same_alert_handed_over_twice_is_sent_once(tmp_path, slack, outbox_factory):
    sender = outbox_factory.share(notifier(tmp_path, slack.url))
    first = alert(1).model_copy(update={"dedup_key": "INC-1@1.0:open"})
    assert sender.notify(first).status == "sent"
    again = sender.notify(first)  # the monitor's orphan path after a crash between hand-over and its record
    assert again.status == "sent" and "already sent" in again.detail
    assert len(slack.delivered) == 1 and sender.pending() == 0
    sender.notify(alert(1, kind="repage"))  # a repeat page has no key: it is a page of its own
    assert len(slack.delivered) == 2


def test_a_row_held_by_a_killed_process_is_taken_over_at_once_and_blocks_only_its_incident(tmp_path, outbox_factory):
    box = outbox_factory(NAME, lease_seconds=600)
    for queued in (alert(1), alert(1, kind="resolved"), alert(2)):
        box.put(queued)
    shared = outbox_factory.settings
    where = [shared.home, shared.aws_endpoint_url, shared.dynamodb_table] if shared else [tmp_path]
    holder = subprocess.Popen(  # on DynamoDB: a worker on this host, sharing its AIOPS_HOME (owners/)
        [sys.executable, "-c", HOLD_ONE_ROW, *map(str, where)], cwd=REPO, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "INC-1"
        blocked: set = set()
        got = box.claim_next(lambda tier: "webhook", blocked)
        assert got is not None and got[0].alert.incident_id == "INC-2"  # INC-1's resolve waits for its page
        assert ("webhook", "INC-1") in blocked and "webhook" not in blocked
        box.complete(got[0].id)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    order = []
    while (got := box.claim_next(lambda tier: "webhook", set())) is not None:  # no lease to wait out
        order.append((got[0].alert.incident_id, got[0].alert.kind))
        box.complete(got[0].id)
    assert order == [("INC-1", "open"), ("INC-1", "resolved")]


def test_an_outbox_file_from_before_dedup_keys_gains_the_columns_and_keeps_its_rows(tmp_path, slack):
    path = tmp_path / OUTBOX_FILE
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, destination TEXT NOT NULL,"
                     " created_at REAL NOT NULL, tier INTEGER NOT NULL, incident_id TEXT NOT NULL, kind TEXT NOT NULL,"
                     " alert TEXT, rendered TEXT, attempts INTEGER NOT NULL DEFAULT 0, claimed_by TEXT,"
                     " claimed_at REAL, last_error TEXT, unreadable INTEGER NOT NULL DEFAULT 0)")
        conn.execute(f"INSERT INTO {TABLE} (destination, created_at, tier, incident_id, kind, alert)"
                     " VALUES (?, 1.0, 2, 'INC-1', 'open', ?)", (NAME, alert(1).model_dump_json()))
    sender = notifier(tmp_path, slack.url)
    assert sender.drain() == 1 and len(slack.delivered) == 1


HOLD_ONE_ROW = """
import sys, time
from pathlib import Path
from notify.outbox import Outbox
if len(sys.argv) == 2:
    box = Outbox(Path(sys.argv[1]) / "outbox.sqlite3", "Slack webhook", lease_seconds=600)
else:
    from notify.dynamo_outbox import DynamoOutbox
    from utils.config import Settings
    from utils.dynamo import table_for
    settings = Settings(home=sys.argv[1], aws_endpoint_url=sys.argv[2], store="dynamodb:" + sys.argv[3])
    box = DynamoOutbox(table_for(settings), "Slack webhook", home=Path(sys.argv[1]), lease_seconds=600)
row, _ = box.claim_next(lambda tier: "webhook", set())
print(row.alert.incident_id, flush=True)
time.sleep(60)
"""
