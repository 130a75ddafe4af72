"""The embedded AWS sandbox: moto in server mode on loopback, seeded with a small realistic estate.

Real HTTP and real boto3, so everything that works here runs unchanged against AWS.
Nothing in this mode can reach real AWS: the endpoint is loopback and the credentials are fake.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
           "clear_alarm_named", "seed_costs", "seed_estate", "simulate_alarm", "start_private_sandbox"]

SANDBOX_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox"}
DEFAULT_REGION = "us-east-1"


@dataclass
class Sandbox:
    region: str = DEFAULT_REGION
    url: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    seed_seconds: float | None = None
    generation: str | None = None
    attached: bool = False  # a `sandbox start` emulator another process runs: never stopped from here
    _server: object | None = None
    _port: int = 0

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

        install_cost_explorer()  # this process hosts moto: Cost Explorer answers the asked period
        _import_moto_ec2()
        # moto's request log would garble the terminal.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self._port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self.url = f"http://{host}:{port}"
        return self.url

    def seed(self) -> None:
        started = time.perf_counter()
        try:
            seed_estate(self.url, self.region)
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.seed_seconds = time.perf_counter() - started
            self.ready.set()

    def seed_in_background(self, on_done: Callable[[BaseException | None], None] | None = None,
                           start: bool = False) -> None:
        """Seed (and with `start`, first start the server) on a thread; `ready` is set when done."""

        def run() -> None:
            try:
                if start:
                    self.start()
                self.seed()
            except BaseException as exc:  # reported through on_done / self.error
                if on_done:
                    on_done(exc)
                return
            if on_done:
                on_done(None)

        threading.Thread(target=run, name="sandbox-seed", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def _import_moto_ec2() -> None:
    """Import moto's EC2 backend now, with one boto3 Session for its import-time region lists.

    Its module body builds three `boto3.Session()`s only to list regions, each loading the endpoint
    data again: ~0.5 s of a fresh process's ~1.4 s import. One shared session lists the same regions.
    """
    import sys

    if "moto.ec2.models" in sys.modules:
        return
    import boto3

    shared = boto3.Session()
    original = boto3.Session
    boto3.Session = lambda *args, **kwargs: shared if not (args or kwargs) else original(*args, **kwargs)
    try:
        import moto.ec2.models  # noqa: F401
    finally:
        boto3.Session = original


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
    `seed`: "now" (seeded on return), "background" (server up, seeding on a thread) or "deferred"
    (the port is reserved and both start and seed run on a thread; `ready` says when).
    """
    from utils.sandbox_state import generation_dir, new_generation, running_server

    running, _stale = running_server(settings.home)
    if running is not None:  # `sandbox start` runs one: attach at once, its state, its generation
        sandbox = Sandbox(region=settings.region, url=running.url, generation=running.generation, attached=True)
        sandbox.ready.set()
        if on_seeded is not None:
            on_seeded(None)
    else:
        sandbox = Sandbox(region=settings.region, generation=new_generation(settings.home))
        _start(sandbox, seed, on_seeded)
    isolate_process_for_sandbox(sandbox.url, sandbox.region)
    settings.aws_endpoint_url, settings.aws_profile = sandbox.url, None
    settings.use_sandbox_state(generation_dir(settings.home, sandbox.generation))
    return sandbox


def _start(sandbox: Sandbox, seed: str, on_seeded: Callable[[BaseException | None], None] | None) -> None:
    if seed == "deferred":
        sandbox.reserve()
        sandbox.seed_in_background(on_seeded, start=True)
    else:
        sandbox.start()
        if seed == "background":
            sandbox.seed_in_background(on_seeded)
        else:
            sandbox.seed()


def _alarm_client(url: str | None, region: str):
    import boto3

    if url is None:  # the process's own AWS settings (AWS_ENDPOINT_URL included)
        return boto3.client("cloudwatch", region_name=region)
    from utils.sandbox_seed import seed_clients

    return seed_clients(url, region)["cloudwatch"]


def simulate_alarm(url: str | None, kind: str, name: str, region: str = DEFAULT_REGION) -> str:
    """Put the seeded alarm of `kind` (cpu, status, disk) on instance `name` in ALARM, and its metric's
    recent points above the threshold with it (a status check: what get_instance_status reports too,
    through the alarm); returns the alarm's name.

    `url=None` uses this process's AWS settings, for a sandbox another process started.
    """
    return _set_alarm(url, kind, name, "ALARM", region)


def clear_alarm(url: str | None, kind: str, name: str, region: str = DEFAULT_REGION) -> str:
    """Back to OK, the metric's recent points back to normal."""
    return _set_alarm(url, kind, name, "OK", region)


def _set_alarm(url: str | None, kind: str, name: str, state: str, region: str) -> str:
    names = alarm_names(name)
    if kind not in names:
        raise ValueError(f"unknown alarm kind '{kind}'; use one of {', '.join(names)}")
    why = "Simulated: threshold crossed" if state == "ALARM" else "Simulated: back to normal"
    _move(url, names[kind], state, why, region)
    return names[kind]


def clear_alarm_named(url: str | None, alarm: str, region: str = DEFAULT_REGION) -> None:
    """Return one alarm to OK by name: the sandbox's stand-in for a fix that worked."""
    _move(url, alarm, "OK", "Recovered after the approved action", region)


def _move(url: str | None, alarm: str, state: str, why: str, region: str) -> None:
    """Move the alarm's metric first (so the alarm never contradicts it), then the alarm."""
    cloudwatch = _alarm_client(url, region)
    found = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
    if not found:
        raise ValueError(f"no alarm named {alarm!r} in the sandbox")
    raw = found[0]
    kind = next((k for k, spec in ALARM_SPECS.items() if spec[1] == raw.get("MetricName")), None)
    instance_id = next((d["Value"] for d in raw.get("Dimensions") or [] if d["Name"] == "InstanceId"), None)
    if kind is not None and instance_id is not None:
        name = alarm.removesuffix(alarm_names("")[kind])
        move_metric(cloudwatch, instance_id, name, kind, alarming=state == "ALARM")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue=state, StateReason=why)
