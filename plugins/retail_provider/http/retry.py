"""Retry policy shared by both vendors: one predicate decides what is retried.

Retried, and only for idempotent requests (GETs, PUTs, DELETEs and the read-only POSTs such
as datamine and location queries): transport errors (connection refused or dropped,
timeouts, truncated bodies), HTTP 429 and 5xx, and 2xx bodies that cannot be decoded.  The wait is exponential, capped and
fully jittered, except that a server's ``Retry-After`` is honoured (up to
``max_retry_after``).  Tests pass ``sleep=lambda s: None`` instead of waiting.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from retail_provider.http.errors import RETRYABLE, ApiError

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class RetryPolicy:
    """How often and how long to retry.

    :param max_attempts: total attempts including the first one.
    :param backoff_base: first backoff in seconds; doubles per attempt.
    :param backoff_cap: upper bound of one backoff.
    :param max_retry_after: upper bound honoured for a server's ``Retry-After``.
    """

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 300.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @staticmethod
    def is_retryable(exc: BaseException, *, idempotent: bool = True) -> bool:
        """The one predicate: a transient error of a request that is safe to send again."""
        return idempotent and isinstance(exc, RETRYABLE)

    def wait_seconds(self, attempt: int, exc: BaseException) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(float(retry_after), self.max_retry_after)
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))
        return self.rng.uniform(0, ceiling)

    def call(
        self,
        fn: Callable[[], T],
        *,
        idempotent: bool = True,
        what: str = "request",
    ) -> T:
        """Run ``fn`` and retry it according to the policy.

        :param idempotent: only idempotent calls are retried.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except ApiError as exc:
                if not self.is_retryable(exc, idempotent=idempotent) or attempt >= self.max_attempts:
                    raise
                wait = self.wait_seconds(attempt, exc)
                log.warning(
                    "%s failed (attempt %d of %d): %s; retrying in %.2fs",
                    what, attempt, self.max_attempts, exc, wait,
                )
                self.sleep(wait)
