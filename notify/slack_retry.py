"""Retries for Slack HTTP posts, on slack_sdk's own retry handlers, with bounded waits.

429 waits out Retry-After inline only up to a cap (a longer wait is left to a later drain);
every 5xx and connection error is retried with proportional jitter. One RetryState is shared
among the handlers, so `max_retries` bounds all retries of one post.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    HttpResponse,
    RateLimitErrorRetryHandler,
    RetryHandler,
    RetryState,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter

__all__ = ["retry_after_seconds", "retry_handlers"]

class _ProportionalJitter(Jitter):
    """Up to half the interval again; the SDK's flat +0..1 s would dominate small backoffs."""

    def recalculate(self, duration: float) -> float:
        return duration + random.uniform(0, duration / 2)


class _CappedRateLimitHandler(RateLimitErrorRetryHandler):
    """Waits out Retry-After inline only up to `cap` seconds; a longer wait is left to a later drain.

    The SDK's handler sleeps whatever the header says and fails on a
    fractional or HTTP-date value.
    """

    def __init__(self, max_retry_count: int, cap: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.cap = cap

    def _can_retry(self, *, response: HttpResponse | None = None, **_: Any) -> bool:
        return (
            response is not None
            and response.status_code == 429
            and retry_after_seconds(response.headers) <= self.cap
        )

    def prepare_for_next_attempt(
        self, *, state: RetryState, response: HttpResponse | None = None, **_: Any
    ) -> None:
        state.next_attempt_requested = True
        time.sleep(retry_after_seconds(response.headers if response is not None else {}))
        state.increment_current_attempt()


class _AnyServerErrorHandler(ServerErrorRetryHandler):
    """The SDK retries only 500 and 503; a 502 or 504 on the way to Slack is just as transient."""

    def _can_retry(self, *, response: HttpResponse | None = None, **_: Any) -> bool:
        return response is not None and response.status_code >= 500


def retry_after_seconds(headers: Mapping[str, Any]) -> float:
    """Seconds a Retry-After header asks for (number or HTTP date); 1 s when absent or unreadable."""
    for key, value in headers.items():
        if key.lower() != "retry-after":
            continue
        raw = value[0] if isinstance(value, list) else value
        try:
            return max(0.0, float(raw))
        except (TypeError, ValueError):
            pass
        try:
            return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    return 1.0


def retry_handlers(*, max_retries: int, max_retry_after: float, backoff: float) -> list[RetryHandler]:
    interval = BackoffRetryIntervalCalculator(backoff_factor=backoff, jitter=_ProportionalJitter())
    # The SDK shares one RetryState among handlers, so max_retries bounds all retries of one post.
    return [
        ConnectionErrorRetryHandler(max_retry_count=max_retries, interval_calculator=interval),
        _CappedRateLimitHandler(max_retries, max_retry_after),
        _AnyServerErrorHandler(max_retry_count=max_retries, interval_calculator=interval),
    ]
