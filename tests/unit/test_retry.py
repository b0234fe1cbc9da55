"""The retry policy: what is retried, how long it waits, and that it stops."""

from __future__ import annotations

import random

import pytest

from retail_provider.http.errors import (
    AuthenticationError,
    BadRequestError,
    RateLimitedError,
    ServerError,
    TransportError,
    parse_retry_after,
)
from retail_provider.http.retry import RetryPolicy


def _failing(errors):
    calls = []

    def fn():
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "ok"

    return fn, calls


def test_retryable_errors_are_retried_until_success():
    waits = []
    fn, calls = _failing([ServerError("x"), TransportError("y"), RateLimitedError("z", retry_after=7)])
    policy = RetryPolicy(max_attempts=5, sleep=waits.append, rng=random.Random(1))
    assert policy.call(fn) == "ok"
    assert len(calls) == 4
    assert waits[2] == 7.0  # Retry-After honoured
    assert 0 <= waits[0] <= 0.5 and 0 <= waits[1] <= 1.0  # full jitter under the doubling ceiling


@pytest.mark.parametrize("error", [AuthenticationError("no"), BadRequestError("bad")])
def test_client_errors_are_not_retried(error):
    fn, calls = _failing([error])
    with pytest.raises(type(error)):
        RetryPolicy(sleep=lambda s: None).call(fn)
    assert len(calls) == 1


def test_non_idempotent_calls_are_never_retried():
    fn, calls = _failing([ServerError("x")])
    with pytest.raises(ServerError):
        RetryPolicy(sleep=lambda s: None).call(fn, idempotent=False)
    assert len(calls) == 1


def test_attempts_and_waits_are_capped():
    waits = []
    fn, calls = _failing([ServerError(str(i)) for i in range(10)])
    policy = RetryPolicy(max_attempts=4, backoff_base=10, backoff_cap=12, max_retry_after=60, sleep=waits.append)
    with pytest.raises(ServerError):
        policy.call(fn)
    assert len(calls) == 4 and len(waits) == 3 and max(waits) <= 12
    assert RetryPolicy(max_retry_after=60).wait_seconds(1, RateLimitedError("r", retry_after=3600)) == 60


def test_retry_after_forms():
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: no wait
