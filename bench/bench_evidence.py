"""What evidence adds to the time from an alarm firing to its page (issue 11 target: at most 2 s),
written to bench/results/evidence.json.

- Alarm-to-Slack latency on the sandbox estate, the monitor polling every second: `simulate` an alarm,
  wait for the fake Slack webhook to receive its page; once with evidence (the default) and once with
  the evidence step replaced by nothing, same alarms, same machine. The evidence step's own time per
  page is measured too (`Responder.prefetch_evidence`, wrapped).
- A storm: 200 alarms firing at once, opened in one cycle: how long the evidence step took for all of
  them together (bounded by the budget, not by their number), and how many pages got their evidence.

Run: .venv/bin/python bench/bench_evidence.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_monitor import reset_moto, start_moto_process
from common import REPO, save

ALARMS = [("cpu", "api-1"), ("disk", "cache-1"), ("cpu", "api-2"), ("disk", "bastion"), ("cpu", "dev-box-1"),
          ("cpu", "cache-1")]
STORM = 200
INTERVAL = 1.0


def timed_prefetch(responder, spent: list[float], enabled: bool) -> None:
    original = responder.prefetch_evidence

    async def prefetch(signals, cycle):
        if not enabled:
            return
        started = time.perf_counter()
        await original(signals, cycle)
        if signals:
            spent.append(time.perf_counter() - started)

    responder.prefetch_evidence = prefetch


async def latency(url: str, enabled: bool) -> dict:
    from agent.mcp_client import open_session
    from agent.monitor.loop import Monitor
    from notify.slack_webhook import SlackWebhookNotifier
    from tests.notify.slack_server import FakeSlackWebhook
    from utils.config import load_settings
    from utils.sandbox import seed_estate, simulate_alarm

    reset_moto(url)
    seed_estate(url)
    for stale in Path(os.environ["AIOPS_HOME"]).glob("*.sqlite3*"):
        if stale.name.startswith(("incidents.", "outbox.")):
            stale.unlink()
    settings = load_settings()
    samples, spent = [], []
    with FakeSlackWebhook() as slack:
        async with open_session(settings, client_name="bench") as session:
            await session.call("search_sops", {"query": "warm up", "k": 1})
            monitor = Monitor(session, settings, notifier=SlackWebhookNotifier(settings.home, slack.url),
                              interval=INTERVAL)
            timed_prefetch(monitor.responder, spent, enabled)
            monitor.start()
            await asyncio.to_thread(slack.wait_for, 2, 120)  # the seeded incidents first
            spent.clear()
            for kind, name in ALARMS:
                before = len(slack.received)
                await asyncio.sleep(INTERVAL * 0.37)  # land at different points of the poll interval
                t0 = time.monotonic()
                alarm = simulate_alarm(url, kind, name)
                while not any(alarm in (r.json or {}).get("text", "") for r in slack.received[before:]):
                    await asyncio.sleep(0.01)
                arrived = next(r.at for r in slack.received[before:] if alarm in (r.json or {}).get("text", ""))
                samples.append(arrived - t0)
            with_evidence = sum("*Evidence*" in str(r.json or {}) for r in slack.received)
            await monitor.stop()
            monitor.close()
    return {"alarm_to_page_seconds": [round(s, 3) for s in samples],
            "median_seconds": round(statistics.median(samples), 3), "max_seconds": round(max(samples), 3),
            "evidence_step_seconds": [round(s, 3) for s in spent], "pages_with_evidence": with_evidence}


async def storm(url: str) -> dict:
    import boto3

    from agent.mcp_client import open_session
    from agent.monitor.loop import Monitor
    from notify.slack_webhook import SlackWebhookNotifier
    from utils.config import load_settings
    from utils.sandbox import seed_estate

    reset_moto(url)
    ids = seed_estate(url)
    cw = boto3.client("cloudwatch", endpoint_url=url, region_name="us-east-1")
    names = sorted(ids)
    for n in range(STORM):
        name = f"storm-{n:03d}-cpu"
        cw.put_metric_alarm(AlarmName=name, Namespace="AWS/EC2", MetricName="CPUUtilization", Statistic="Average",
                            Period=300, EvaluationPeriods=1, Threshold=80.0, ComparisonOperator="GreaterThanThreshold",
                            Dimensions=[{"Name": "InstanceId", "Value": ids[names[n % len(names)]]}])
        cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="bench: storm")
    for stale in Path(os.environ["AIOPS_HOME"]).glob("*.sqlite3*"):
        if stale.name.startswith(("incidents.", "outbox.")):
            stale.unlink()
    settings = load_settings()
    spent: list[float] = []
    async with open_session(settings, client_name="bench") as session:
        monitor = Monitor(session, settings, notifier=SlackWebhookNotifier(settings.home, None))
        timed_prefetch(monitor.responder, spent, True)
        report = await monitor.run_cycle()
        # get_alarm_evidence's metric names its namespace; a read proposal's own (the fallback) does not.
        gathered = sum(bool(((i.evidence or {}).get("metric") or {}).get("namespace")) for i in report.open_incidents)
        late = sum("not gathered within" in " ".join((i.evidence or {}).get("left_out", []))
                   for i in report.open_incidents)
        monitor.close()
    return {"alarms_opened_at_once": len(report.opened), "evidence_step_seconds": round(spent[0], 3),
            "cycle_seconds": round(report.duration_seconds, 3), "incidents_with_gathered_evidence": gathered,
            "incidents_left_without_it": late,
            "budget_seconds": monitor.options.evidence_seconds}


def main() -> None:
    sys.path.insert(0, str(REPO))
    proc, url = start_moto_process()
    try:
        with tempfile.TemporaryDirectory() as home:
            os.environ["AIOPS_HOME"] = home
            on = asyncio.run(latency(url, True))
            off = asyncio.run(latency(url, False))
            figures = {
                "target": "evidence adds at most 2 s to alarm -> page",
                "with_evidence": on, "without_evidence": off,
                "added_median_seconds": round(on["median_seconds"] - off["median_seconds"], 3),
                "evidence_step_median_seconds": round(statistics.median(on["evidence_step_seconds"]), 3)
                if on["evidence_step_seconds"] else None,
                "storm": asyncio.run(storm(url)),
            }
    finally:
        proc.terminate()
        proc.wait(10)
    save("evidence", figures)


if __name__ == "__main__":
    main()
