"""Two monitors ("workers") on one DynamoDB table (`AIOPS_STORE=dynamodb:TABLE`), moto over HTTP: each incident
opened and paged once between them, the auto action audited in the table, and the audit log's own methods on both
backends."""

from __future__ import annotations

import pytest

from agent.mcp_client import open_session
from agent.monitor.loop import Monitor
from tests.agent.monitor.monitor_fixtures import indexed_sops, sop_store_template  # noqa: F401 - fixtures
from tests.agent.monitor.test_monitor import by_alarm, notifier
from tests.notify.slack_server import FakeSlackWebhook, no_proxy_fixture, slack_fixture  # noqa: F401
from tests.store_backends import dynamo_settings
from utils.audit_store import open_audit

pytestmark = pytest.mark.usefixtures("indexed_sops")


async def test_two_workers_on_one_table_open_and_page_each_incident_once(estate, slack, aws_env):
    settings = dynamo_settings(aws_env.url, aws_env.home)
    settings.auto_remediation = {"rules": [{"alarm": "*status-check*", "action": "reboot_instances"}]}
    async with open_session(settings) as one, open_session(settings) as two:
        first = Monitor(one, settings, notifier=notifier(settings, slack.url))
        second = Monitor(two, settings, notifier=notifier(settings, slack.url))
        for worker in (first, second):  # the registry does this for AIOPS_STORE; these notifiers are the test's
            from notify.dynamo_outbox import DynamoOutbox
            from utils.dynamo import table_for

            worker.notifier.use_outbox(DynamoOutbox(table_for(settings), worker.notifier.name, home=settings.home,
                                                    lease_seconds=60))
        reports = [await first.run_cycle(), await second.run_cycle(), await first.run_cycle()]
        counts = second.counts_today()
        history = second.history(10)
        first.close()
        second.close()
    opened = [i for r in reports for i in r.opened]
    assert len(opened) == len(set(opened)) == 2  # the second worker found them open
    assert reports[1].opened == [] and reports[1].notified == []
    assert len(slack.texts()) == 2
    status = by_alarm(reports[0].open_incidents)["worker-1-status-check-failed"]
    assert reports[0].auto_actions == [status.id]
    (audited,) = open_audit(settings).recent()  # in the table, whichever worker acted
    assert audited.tool == "reboot_instances" and audited.decision == "allowed"
    assert audited.targets == [{"instance_id": estate["worker-1"], "name": "worker-1", "account": "default",
                               "region": "us-east-1"}]
    assert not (aws_env.home / "audit.sqlite3").exists() and not (aws_env.home / "incidents.sqlite3").exists()
    assert counts.open == 2 and counts.auto_handled == 1
    assert {h.incident.id for h in history} == set(opened)
    assert [e.kind for e in next(h for h in history if h.incident.id == status.id).timeline][:1] == ["opened"]


@pytest.mark.parametrize("shared", [False, True], ids=["sqlite", "dynamodb"])
def test_the_audit_log_keeps_attempts_endings_and_order(shared, tmp_path, moto_url, aws_credentials):
    from utils.config import Settings

    settings = dynamo_settings(moto_url, tmp_path) if shared else Settings(home=tmp_path)
    audit = open_audit(settings)
    first = audit.begin("stop_instances", {"instances": ["web-1"]}, "repl")
    audit.finish(first, "allowed", "stopped web-1", targets=[{"instance_id": "i-1", "name": "web-1"}])
    second = audit.begin("reboot_instances", {"instances": ["web-2"]}, "slack:U1")
    assert audit.expire_attempts(-1) == 1  # the second one never ended
    rows = open_audit(settings).recent(5)  # another worker reads the same log
    assert [(r.id, r.tool, r.decision) for r in rows] == [(second, "reboot_instances", "unconfirmed"),
                                                          (first, "stop_instances", "allowed")]
    assert rows[1].targets == [{"instance_id": "i-1", "name": "web-1"}] and rows[0].caller == "slack:U1"


def test_incidents_and_history_read_the_table_and_never_create_it(aws_env, capsys, monkeypatch):
    import boto3

    from main import main

    monkeypatch.setenv("AIOPS_STORE", "dynamodb:aiops-readers")
    assert main(["incidents"]) == 0 and "no incidents yet" in capsys.readouterr().out
    assert main(["history"]) == 0 and "no actions recorded yet" in capsys.readouterr().out
    dynamodb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=aws_env.url)
    assert "aiops-readers" not in dynamodb.list_tables()["TableNames"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    assert main(["incidents"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "aiops-readers" in err and len(err.strip().splitlines()) == 1
