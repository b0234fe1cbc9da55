"""A strictly increasing UTC clock shared by everything the emulator stamps.

Times are integer microseconds since the Unix epoch (UTC).  ``now()`` never returns the
same value twice, so a change stamped after a client read ``before`` is always after it.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

US = 1_000_000


class Clock:
    """``max(real now, last + 1 µs)``: wall-clock time that never repeats or goes back."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def now(self) -> int:
        """Current time in microseconds since the epoch, strictly greater than the last one."""
        with self._lock:
            now = time.time_ns() // 1000
            if now <= self._last:
                now = self._last + 1
            self._last = now
            return now

    def now_datetime(self) -> datetime:
        return us_to_datetime(self.now())


def us_to_datetime(us: int) -> datetime:
    """Microseconds since the epoch as an aware UTC datetime."""
    return datetime.fromtimestamp(us // US, tz=UTC).replace(microsecond=us % US)
