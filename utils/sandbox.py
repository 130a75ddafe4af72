"""The embedded AWS sandbox: moto in server mode on loopback, seeded with a small realistic estate.

Real HTTP and real boto3, so everything that works here runs unchanged against AWS.
Nothing in this mode can reach real AWS: the endpoint is loopback and the credentials are fake.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from utils.sandbox_costs import COST_BY_SERVICE, seed_costs
from utils.sandbox_seed import (
    ALARM_SPECS,
    ESTATE,
    LOG_LINES,
    SeedInstance,
    alarm_names,
    move_metric,
    seed_estate,
)

if TYPE_CHECKING:
    from utils.config import Settings

__all__ = ["COST_BY_SERVICE", "ESTATE", "LOG_LINES", "Sandbox", "SeedInstance", "alarm_names", "clear_alarm",
           "clear_alarm_named", "seed_costs", "seed_estate", "simulate_alarm", "simulate_alarm_named",
           "start_private_sandbox"]

SANDBOX_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox"}
DEFAULT_REGION = "us-east-1"


@dataclass
class Sandbox:
    region: str = DEFAULT_REGION
    url: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    # The instances exist (seeded before alarms, metrics, logs and costs): EC2 requests need no more.
    fleet_ready: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    seed_seconds: float | None = None
    generation: str | None = None
    attached: bool = False  # a `sandbox start` emulator another process runs: never stopped from here
    _server: object | None = None
    _port: int = 0
    _child: object | None = None  # the private sandbox's process (spawn)
    _listeners: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def when_ready(self, callback: Callable[[BaseException | None], None] | None) -> None:
        """Call `callback(error or None)` once seeded (at once if it already is)."""
        if callback is None:
            return
        with self._lock:
            if not self.ready.is_set():
                self._listeners.append(callback)
                return
        callback(self.error)

    def _done(self, error: BaseException | None) -> None:
        with self._lock:
            self.error = error
            self.fleet_ready.set()
            self.ready.set()
            listeners, self._listeners = self._listeners, []
        for callback in listeners:
            callback(error)

    def reserve(self) -> str:
        """Pick a free loopback port now, so children can be pointed at the sandbox before it runs."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            self._port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self._port}"
        return self.url

    def start(self) -> str:
        """Start moto on loopback (the reserved port, else a free one); ~0.25 s. Seeding is separate."""
        from moto.server import ThreadedMotoServer

        from utils.sandbox_costs import install_cost_explorer
        from utils.sandbox_moto import prepare_moto_host

        install_cost_explorer()  # this process hosts moto: Cost Explorer answers the asked period
        prepare_moto_host()
        # moto's request log would garble the terminal.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self._port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self.url = f"http://{host}:{port}"
        return self.url

    def seed(self, on_fleet: Callable[[], None] | None = None) -> None:
        """Every place's estate (utils/sandbox_places.py): the first region's, a second region's, prod's."""
        from utils.sandbox_places import seed_sandbox

        started = time.perf_counter()

        def fleet() -> None:
            self.fleet_ready.set()
            if on_fleet:
                on_fleet()

        try:
            seed_sandbox(self.url, self.region, on_fleet=fleet)
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.seed_seconds = time.perf_counter() - started
            self.fleet_ready.set()
            self.ready.set()

    def keep_history_current(self, stopping: threading.Event, every: float = 30.0) -> None:
        """On a thread in the process that hosts moto: new 5-minute points as time passes, so a
        sandbox that lives for hours still answers "the last 30 minutes"."""
        from utils.sandbox_places import tick_places
        from utils.sandbox_seed import seed_clients, tick

        def run() -> None:
            now = time.time()
            last = now - now % 300  # the seeded history's last point
            while not stopping.wait(every):
                try:
                    tick_places(self.url, self.region, last)
                    last = tick(seed_clients(self.url, self.region), last)
                except Exception:  # noqa: BLE001 - a missed tick is filled by the next one
                    logging.getLogger(__name__).debug("sandbox history tick failed", exc_info=True)

        threading.Thread(target=run, name="sandbox-history", daemon=True).start()

    def spawn(self) -> str:
        """Run moto and the seeding in a child process, on the reserved port; returns the url at once.

        A child, not a thread: moto's import and the seeding (~2 s of CPU) run on another core while
        this process imports what it needs, and no moto backend is shared with this process. `ready`
        is set when the child says it is seeded (or died: then `error` says why). The child leaves
        when this process does, even without stop().
        """
        import subprocess
        import sys
        import tempfile

        url = self.url or self.reserve()
        repo = Path(__file__).resolve().parent.parent
        errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the reader thread when the child ends
        path = os.pathsep.join(p for p in (str(repo), os.environ.get("PYTHONPATH")) if p)
        started = time.perf_counter()
        self._child = subprocess.Popen(
            [sys.executable, "-m", "utils.sandbox_server", "--private", str(self._port), self.region, str(os.getpid())],
            cwd=repo, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, text=True,
            env={**os.environ, "PYTHONPATH": path},
        )

        def reader() -> None:
            for line in self._child.stdout:
                if line.strip() == "fleet":
                    self.fleet_ready.set()
                elif line.strip() == "ready":
                    self.seed_seconds = time.perf_counter() - started
                    self._done(None)
                    break
            finish()

        def finish() -> None:
            if not self.ready.is_set():  # the child died before it was seeded
                errors.seek(0)
                last = [line for line in errors.read().decode(errors="replace").splitlines() if line.strip()]
                self._done(RuntimeError(last[-1] if last else f"the sandbox process exited ({self._child.wait()})"))
            else:
                for _line in self._child.stdout:
                    pass
            errors.close()

        threading.Thread(target=reader, name="sandbox-child", daemon=True).start()
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        child = self._child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=5)
            except Exception:  # noqa: BLE001 - it must go either way
                child.kill()


def isolate_process_for_sandbox(url: str, region: str = DEFAULT_REGION) -> None:
    """Point this process's boto3 at the sandbox with fake credentials; a real profile must not leak in."""
    os.environ.update({**SANDBOX_CREDENTIALS, "AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": region,
                       "AWS_REGION": region})
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)


def start_private_sandbox(settings: Settings, *, seed: str = "now",
                          on_seeded: Callable[[BaseException | None], None] | None = None) -> Sandbox:
    """Start a sandbox for this process's lifetime and point the process and `settings` at it.

    The endpoint is set before any AWS client exists, so nothing in this process can reach real AWS.
    A running `sandbox start` emulator is attached to at once. Otherwise a child process runs moto on
    a reserved port and seeds it: `seed="now"` returns once seeded, "fleet" once the instances exist
    (calls that need more wait through `agent.runtime.SeedingGate`); "background" and "deferred"
    return at once (`ready` says when, `on_seeded` is called then).
    """
    from utils.sandbox_state import generation_dir

    sandbox = _prestarted.pop(settings.home, None) or _spawn_or_attach(settings)
    sandbox.when_ready(on_seeded)
    if seed == "fleet":  # the instances exist; the rest of the estate follows (`ready`)
        sandbox.fleet_ready.wait(120)
        if sandbox.ready.is_set() and sandbox.error is not None:
            sandbox.stop()
            raise RuntimeError(f"the AWS sandbox did not start: {sandbox.error}")
    if seed == "now":
        sandbox.ready.wait(120)
        if not sandbox.attached and (sandbox.error is not None or sandbox.seed_seconds is None):
            sandbox.stop()
            raise RuntimeError(f"the AWS sandbox did not start: {sandbox.error or 'no answer in 120 s'}")
    isolate_process_for_sandbox(sandbox.url, sandbox.region)
    settings.aws_endpoint_url, settings.aws_profile = sandbox.url, None
    settings.use_sandbox_state(generation_dir(settings.home, sandbox.generation))
    return sandbox


_prestarted: dict = {}  # AIOPS_HOME -> the Sandbox `prestart` began for this process


def prestart(settings: Settings) -> None:
    """Attach to a running `sandbox start` emulator, else spawn this process's private sandbox, now.

    The command line calls this first thing (before its heavy imports), so the child's moto import
    and seeding overlap them; start_private_sandbox then takes this one.
    """
    sandbox = _spawn_or_attach(settings)
    isolate_process_for_sandbox(sandbox.url, sandbox.region)  # from now on, not only once it is taken
    settings.aws_endpoint_url, settings.aws_profile = sandbox.url, None
    _prestarted[settings.home] = sandbox


def _spawn_or_attach(settings: Settings) -> Sandbox:
    import atexit

    from utils.sandbox_state import new_generation, running_server

    running, _stale = running_server(settings.home)
    if running is not None:  # attach at once: its state, its generation
        sandbox = Sandbox(region=settings.region, url=running.url, generation=running.generation, attached=True)
        sandbox._done(None)
    else:
        sandbox = Sandbox(region=settings.region, generation=new_generation(settings.home))
        sandbox.spawn()
        atexit.register(sandbox.stop)
    return sandbox


def simulate_alarm(url: str | None, kind: str, name: str, region: str = DEFAULT_REGION,
                   place: tuple[str, str] | None = None) -> str:
    """Put the seeded alarm of `kind` (cpu, status, disk) on instance `name` in ALARM, and its metric's
    recent points above the threshold with it (a status check: what get_instance_status reports too,
    through the alarm); returns the alarm's name.

    `url=None` uses this process's AWS settings, for a sandbox another process started. `region` is the
    sandbox's first region; `place` (account, region) picks an instance whose name is in several places.
    """
    return _set_alarm(url, kind, name, "ALARM", region, place)


def clear_alarm(url: str | None, kind: str, name: str, region: str = DEFAULT_REGION,
                place: tuple[str, str] | None = None) -> str:
    """Back to OK, the metric's recent points back to normal."""
    return _set_alarm(url, kind, name, "OK", region, place)


def _set_alarm(url: str | None, kind: str, name: str, state: str, region: str,
               place: tuple[str, str] | None) -> str:
    names = alarm_names(name)
    if kind not in names:
        raise ValueError(f"unknown alarm kind '{kind}'; use one of {', '.join(names)}")
    why = "Simulated: threshold crossed" if state == "ALARM" else "Simulated: back to normal"
    _move(url, names[kind], state, why, region, place)
    return names[kind]


def simulate_alarm_named(url: str | None, alarm: str, region: str = DEFAULT_REGION,
                         place: tuple[str, str] | None = None) -> None:
    """Put any seeded alarm in ALARM by name, in whichever place has it (`simulate alarm orders-db-eu-cpu-high`)."""
    _move(url, alarm, "ALARM", "Simulated: threshold crossed", region, place)


def clear_alarm_named(url: str | None, alarm: str, region: str = DEFAULT_REGION,
                      place: tuple[str, str] | None = None) -> None:
    """Return one alarm to OK by name: the sandbox's stand-in for a fix that worked."""
    _move(url, alarm, "OK", "Recovered after the approved action", region, place)


def _move(url: str | None, alarm: str, state: str, why: str, region: str,
          place: tuple[str, str] | None = None) -> None:
    """Move the alarm's metric first (so the alarm never contradicts it), then the alarm."""
    from utils.sandbox_places import find_alarm
    from utils.sandbox_services import move_service_metric

    cloudwatch, raw = find_alarm(url, alarm, region, place)
    kind = next((k for k, spec in ALARM_SPECS.items() if spec[1] == raw.get("MetricName")
                 and spec[0] == raw.get("Namespace")), None)
    instance_id = next((d["Value"] for d in raw.get("Dimensions") or [] if d["Name"] == "InstanceId"), None)
    if kind is not None and instance_id is not None:
        name = alarm.removesuffix(alarm_names("")[kind])
        move_metric(cloudwatch, instance_id, name, kind, alarming=state == "ALARM")
    else:
        move_service_metric(cloudwatch, raw, alarming=state == "ALARM", now=time.time())
    previous = raw.get("StateValue")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue=state, StateReason=why)
    publish_state_change(cloudwatch, raw, previous, state, why)


def publish_state_change(cloudwatch, raw: dict, previous: str | None, state: str, why: str) -> None:
    """What AWS does on every alarm state change and moto does not: the EventBridge event, so a rule made by
    `setup events` delivers it to the queue and `monitor --queue` sees the push path end to end."""
    from datetime import UTC, datetime

    import boto3

    credentials = cloudwatch._request_signer._credentials.get_frozen_credentials()
    events = boto3.client("events", region_name=cloudwatch.meta.region_name,
                          endpoint_url=cloudwatch.meta.endpoint_url, aws_access_key_id=credentials.access_key,
                          aws_secret_access_key=credentials.secret_key, aws_session_token=credentials.token)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    metric = {"namespace": raw.get("Namespace"), "name": raw.get("MetricName"),
              "dimensions": {d["Name"]: d["Value"] for d in raw.get("Dimensions") or []}}
    detail = {"alarmName": raw["AlarmName"], "state": {"value": state, "reason": why, "timestamp": now},
              "previousState": {"value": previous or "INSUFFICIENT_DATA"},
              "configuration": {"description": raw.get("AlarmDescription", ""),
                                "metrics": [{"id": "m1", "returnData": True, "metricStat": {
                                    "metric": metric, "period": raw.get("Period", 300),
                                    "stat": raw.get("Statistic", "Average")}}]}}
    events.put_events(Entries=[{"Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change",
                                "Resources": [raw.get("AlarmArn", "")], "Detail": json.dumps(detail)}])
