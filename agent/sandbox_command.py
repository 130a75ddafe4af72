"""`sandbox start|stop|status|reset`: a sandbox that lives across commands.

start   runs the emulator detached (state kept until stop); exit 0, also when one already runs
stop    stops it; exit 0, also when none runs
status  one line each: running or not, url, pid, uptime, instances, generation; exit 0 when
        running, 1 when not (a stale server.json is named and ignored)
reset   re-seeds the running one: an empty estate seeded anew, a new generation; exit 1 when none runs
"""

from __future__ import annotations

import argparse
import sys

from utils.config import Settings
from utils.sandbox_state import ServerInfo, remove_server_file, running_server


def run_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    home = settings.home
    info, stale = running_server(home)
    if stale and args.action != "status":
        remove_server_file(home)
        print(f"note: {stale}")
    if args.action == "start":
        return _start(settings, info)
    if args.action == "stop":
        return _stop(home, info)
    if args.action == "reset":
        return _reset(home, info)
    return _status(info, stale)


def _start(settings: Settings, info: ServerInfo | None) -> int:
    from utils.sandbox_server import spawn

    if info is not None:
        print(f"sandbox already running at {info.url} (pid {info.pid}); `sandbox stop` stops it")
        return 0
    info, problem = spawn(settings.home, settings.region)
    if info is None:
        sys.stderr.write(f"error: the sandbox did not start: {problem}\n")
        return 1
    print(f"sandbox running at {info.url} (pid {info.pid}, generation {info.generation}); "
          "every --sandbox command attaches to it until `sandbox stop`")
    return 0


def _stop(home, info: ServerInfo | None) -> int:
    from utils.sandbox_server import stop

    if info is None:
        print("no sandbox is running")
        return 0
    if not stop(info):
        sys.stderr.write(f"error: the sandbox (pid {info.pid}) did not stop; it was sent SIGTERM\n")
        return 1
    remove_server_file(home, pid=info.pid)
    print(f"sandbox stopped (pid {info.pid})")
    return 0


def _reset(home, info: ServerInfo | None) -> int:
    from utils.sandbox_server import reset

    if info is None:
        sys.stderr.write("error: no sandbox is running (start one with `python main.py sandbox start`)\n")
        return 1
    fresh = reset(home, info)
    print(f"sandbox reset: a fresh estate at {fresh.url}, generation {fresh.generation}")
    return 0


def _status(info: ServerInfo | None, stale: str | None) -> int:
    if info is None:
        print("sandbox     not running")
        if stale:
            print(f"note        {stale}; ignored")
        return 1
    import time

    print("sandbox     running")
    print(f"url         {info.url}")
    print(f"pid         {info.pid}")
    print(f"uptime      {_duration(time.time() - info.started)}")
    print(f"instances   {_instances(info)}")
    print(f"generation  {info.generation}")
    return 0


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes}m {secs}s" if hours else f"{minutes}m {secs}s"


def _instances(info: ServerInfo) -> str:
    import boto3
    from botocore.config import Config

    ec2 = boto3.client("ec2", endpoint_url=info.url, region_name=info.region, aws_access_key_id="sandbox",
                       aws_secret_access_key="sandbox", config=Config(retries={"max_attempts": 1},
                                                                      connect_timeout=3, read_timeout=10))
    try:
        rows = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    except Exception as exc:  # a status line, not a traceback
        return f"unknown ({type(exc).__name__})"
    live = [i for i in rows if i["State"]["Name"] != "terminated"]
    running = sum(1 for i in live if i["State"]["Name"] == "running")
    return f"{len(live)} ({running} running)"
