"""Monitor figures (issue 5 targets), written to bench/results/monitor.json.

- One cycle over 1,000 alarms (100 firing) and 2,000 instances against a moto server (Slack left
  out: no webhook), with the SOP-search share of it; target < 5 s. `tool_calls_alone` times the
  fleet-wide tool calls by themselves: moto renders and boto3 parses every instance on each, so
  they set the floor of a cycle.
- Memory across 100 cycles: RSS of this process at cycles 1, 50 and 100 (moto runs in its own
  process so its state does not count).
- Alarm-to-Slack latency: set_alarm_state(ALARM) to the fake Slack webhook receiving the post,
  monitor polling every second; expected <= interval + 2 s.

Run: .venv/bin/python bench/bench_monitor.py [--cycles 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import REPO, ms, save

INSTANCES = 2000
ALARMS = 1000
FIRING_EVERY = 10  # 100 of 1,000
KINDS = [("cpu", "AWS/EC2", "CPUUtilization"), ("status", "AWS/EC2", "StatusCheckFailed"),
         ("disk", "CWAgent", "disk_used_percent")]
LATENCY_ALARMS = [("cpu", "api-1"), ("disk", "cache-1"), ("cpu", "api-2"), ("disk", "bastion"), ("cpu", "dev-box-1")]


def start_moto_process() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _ in range(100):
        try:
            opener.open(f"{url}/moto-api/", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    os.environ.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1",
                       "AWS_EC2_METADATA_DISABLED": "true"})
    for name in ("AWS_PROFILE", "SLACK_WEBHOOK_URL", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)
    return proc, url


def reset_moto(url: str) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    opener.open(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30).read()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return -1.0


def build_fleet(url: str) -> dict:
    """2,000 instances (a third prod), 1,000 alarms on every other instance, every tenth alarm firing."""
    import boto3

    ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1")
    cw = boto3.client("cloudwatch", endpoint_url=url, region_name="us-east-1")
    started = time.perf_counter()
    ids: list[str] = []
    for _ in range(INSTANCES // 500):
        reply = ec2.run_instances(ImageId="ami-0abcdef1234567890", MinCount=500, MaxCount=500, InstanceType="t3.micro")
        ids += [i["InstanceId"] for i in reply["Instances"]]
    for n, iid in enumerate(ids):
        env = "prod" if n % 3 == 0 else "staging"
        ec2.create_tags(Resources=[iid], Tags=[{"Key": "Name", "Value": f"bench-{n:04d}"}, {"Key": "env", "Value": env}])
    firing = 0
    for a in range(ALARMS):
        n = 2 * a  # alarms on every other instance, so half of them lie beyond list_instances' cap
        kind, namespace, metric = KINDS[a % len(KINDS)]
        name = f"bench-{n:04d}-{kind}"
        cw.put_metric_alarm(AlarmName=name, AlarmDescription=f"{metric} threshold on bench-{n:04d}",
                            Namespace=namespace, MetricName=metric, Statistic="Average", Period=300,
                            EvaluationPeriods=1, Threshold=90.0, ComparisonOperator="GreaterThanThreshold",
                            Dimensions=[{"Name": "InstanceId", "Value": ids[n]}])
        if a % FIRING_EVERY == 0:
            cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="bench: threshold crossed")
            firing += 1
    return {"instances": len(ids), "alarms": ALARMS, "firing": firing,
            "setup_seconds": round(time.perf_counter() - started, 1)}


async def big_cycle(cycles: int) -> dict:
    from agent.mcp_client import open_session
    from agent.monitor.loop import Monitor
    from notify.slack_webhook import SlackWebhookNotifier
    from utils.config import load_settings

    settings = load_settings()
    async with open_session(settings, client_name="bench") as session:
        started = time.perf_counter()
        await session.call("search_sops", {"query": "warm up", "k": 1})  # first use indexes the SOP library
        warm = time.perf_counter() - started
        searches = []
        for query in ("cpu CPUUtilization", "status StatusCheckFailed", "disk disk_used_percent"):
            t = time.perf_counter()
            await session.call("search_sops", {"query": query, "k": 3})
            searches.append(time.perf_counter() - t)
        monitor = Monitor(session, settings, notifier=SlackWebhookNotifier(settings.home, None))
        first = await monitor.run_cycle()
        memory, durations = {"cycle_1": rss_mb()}, []
        for n in range(2, cycles + 1):
            report = await monitor.run_cycle()
            durations.append(report.duration_seconds)
            if n in (50, cycles):
                memory[f"cycle_{n}"] = rss_mb()
        floor = {}  # the tool calls a cycle cannot avoid, alone: what moto and boto3 cost
        for tool in ("get_instance_status", "list_instances", "list_alarms"):
            samples = []
            for _ in range(3):
                t = time.perf_counter()
                await session.call(tool, {"state": "ALARM", "max": 10_000} if tool == "list_alarms" else {})
                samples.append(time.perf_counter() - t)
            floor[tool] = ms(samples)
    return {
        "first_cycle": {
            "seconds": round(first.duration_seconds, 3), "target_seconds": 5.0,
            "opened": len(first.opened), "alarms_firing": first.alarms_firing, "instances_seen": first.instances,
            "sop_searches": first.sop_searches, "sop_cache_hits": first.sop_cache_hits,
            "sop_search_each": ms(searches), "skipped": first.skipped,
        },
        "sop_library_first_index_seconds": round(warm, 1),
        "steady_cycle": ms(durations) if durations else None,
        "tool_calls_alone": floor,
        "rss_mb": memory,
    }


async def latency(url: str, interval: float) -> dict:
    sys.path.insert(0, str(REPO))
    from agent.mcp_client import open_session
    from agent.monitor.loop import Monitor
    from notify.slack_webhook import SlackWebhookNotifier
    from tests.notify.slack_server import FakeSlackWebhook
    from utils.config import load_settings
    from utils.sandbox import seed_estate, simulate_alarm

    reset_moto(url)
    seed_estate(url)
    settings = load_settings()
    samples = []
    with FakeSlackWebhook() as slack:
        async with open_session(settings, client_name="bench") as session:
            monitor = Monitor(session, settings, notifier=SlackWebhookNotifier(settings.home, slack.url), interval=interval)
            monitor.start()
            await asyncio.to_thread(slack.wait_for, 2, 60)  # the seeded incidents first
            for kind, name in LATENCY_ALARMS:
                before = len(slack.received)
                await asyncio.sleep(interval * 0.37)  # land at different points of the poll interval
                t0 = time.monotonic()
                alarm = simulate_alarm(url, kind, name)
                while not any(alarm in (r.json or {}).get("text", "") for r in slack.received[before:]):
                    await asyncio.sleep(0.01)
                arrived = next(r.at for r in slack.received[before:] if alarm in (r.json or {}).get("text", ""))
                samples.append(arrived - t0)
            await monitor.stop()
    return {"poll_interval_seconds": interval, "expected_max_seconds": interval + 2,
            "seconds": [round(s, 3) for s in samples], "median_seconds": round(statistics.median(samples), 3),
            "max_seconds": round(max(samples), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=100)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    proc, url = start_moto_process()
    try:
        with tempfile.TemporaryDirectory() as home:
            os.environ["AIOPS_HOME"] = home
            fleet = build_fleet(url)
            figures = asyncio.run(big_cycle(args.cycles))
            # Same home, so the indexed SOP library is reused; the incident state starts afresh.
            for stale in Path(home).glob("*.sqlite3*"):
                if stale.name.startswith(("incidents.", "outbox.")):
                    stale.unlink()
            figures["alarm_to_slack"] = asyncio.run(latency(url, 1.0))
    finally:
        proc.terminate()
        proc.wait(10)
    figures["fleet"] = fleet
    figures["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    save("monitor", figures)


if __name__ == "__main__":
    main()
