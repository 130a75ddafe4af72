"""The shared-store fixtures: the same store tests run on SQLite files and on DynamoDB (moto over HTTP).

A DynamoDB table per test (created on first use, as a worker would), on the session's one moto
server; `dynamo_settings` points a Settings object at it without touching the environment of the
tests that do not ask for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_tables = itertools.count(1)


def dynamo_settings(moto_url: str, home: Path, table: str | None = None) -> Any:
    from utils.config import Settings

    return Settings(aws_endpoint_url=moto_url, aws_region="us-east-1", home=home,
                    store=f"dynamodb:{table or f'aiops-test-{next(_tables)}'}")


@pytest.fixture
def aws_credentials(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(params=["sqlite", "dynamodb"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def store_factory(backend, request, tmp_path) -> Callable[..., Any]:
    """`make(clock=None)` -> a store on this test's one SQLite file or DynamoDB table (a new object per call,
    as another process would hold)."""
    from agent.monitor.stores import open_store
    from utils.config import Settings

    if backend == "sqlite":
        settings = Settings(home=tmp_path)
    else:
        request.getfixturevalue("aws_credentials")
        settings = dynamo_settings(request.getfixturevalue("moto_url"), tmp_path)

    def make(clock: Callable[[], float] | None = None) -> Any:
        return open_store(settings, **({"clock": clock} if clock is not None else {}))

    make.settings = settings  # type: ignore[attr-defined]
    return make


@pytest.fixture
def outbox_factory(backend, request, tmp_path) -> Callable[..., Any]:
    """`make(destination, lease_seconds=60)` -> a lane of this test's one outbox (a new object per call: another
    process); `make.share(notifier)` moves a notifier's lanes onto it (identity for SQLite, whose file is the home's)."""
    from notify.outbox import Outbox

    if backend == "sqlite":
        def make(destination: str, lease_seconds: float = 60) -> Any:
            return Outbox(tmp_path / "outbox.sqlite3", destination, lease_seconds=lease_seconds)

        make.share = lambda notifier: notifier  # type: ignore[attr-defined]
        make.settings = None  # type: ignore[attr-defined]
        return make
    from notify.dynamo_outbox import DynamoOutbox
    from utils.dynamo import table_for

    request.getfixturevalue("aws_credentials")
    settings = dynamo_settings(request.getfixturevalue("moto_url"), tmp_path)
    table = table_for(settings)

    def make_dynamo(destination: str, lease_seconds: float = 60) -> Any:
        return DynamoOutbox(table, destination, home=tmp_path, lease_seconds=lease_seconds)

    def share(notifier: Any) -> Any:
        notifier.use_outbox(make_dynamo(notifier.name, notifier.lease_seconds))
        return notifier

    make_dynamo.share = share  # type: ignore[attr-defined]
    make_dynamo.settings = settings  # type: ignore[attr-defined]
    return make_dynamo
