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
