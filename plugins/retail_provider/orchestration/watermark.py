"""Watermarks: how far a sync has loaded, kept in an Airflow Variable.

One rule for every sync: the watermark is read when the task starts, moves only after the
warehouse commit, only forward, and only over a window with no gap, i.e. a window that
started at or before the first value the watermark does not cover yet (``successor``), or,
when there is no watermark yet, at the origin (the first sync's start).  It is read back
after writing, and a write that did not stick fails loudly (the warehouse is committed; the
next run re-reads the window idempotently).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from retail_provider.http.errors import InputValidationError
from retail_provider.timeutil import EPOCH, parse_aware

T = TypeVar("T", datetime, date)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Watermark(Generic[T]):
    """The high-water mark of one sync in the Variable ``key``.

    :param parse: text of the Variable to a value.
    :param successor: the first value not covered yet (a timestamp watermark is an exclusive
        end: itself; a day watermark is the last loaded day: the next day).
    :param origin: where a first sync starts; only a window from there creates a missing watermark.
    """

    key: str
    parse: Callable[[str], T]
    successor: Callable[[T], T]
    origin: T | None = None

    def read(self) -> T | None:
        from airflow.sdk import Variable

        stored = Variable.get(self.key, default=None)
        if stored in (None, ""):
            return None
        try:
            return self.parse(stored)
        except ValueError as exc:
            raise InputValidationError(f"Variable {self.key} holds {stored!r}, not a watermark: {exc}") from None

    def covers_gap(self, current: T | None, window_start: T | None) -> bool:
        """True when a window starting at ``window_start`` (``None``: the origin) leaves no gap."""
        start = self.origin if window_start is None else window_start
        limit = self.origin if current is None else self.successor(current)
        return start is None or (limit is not None and start <= limit)

    def advance(self, current: T | None, window_start: T | None, value: T | None) -> T | None:
        """Move to ``value`` after the commit when that is forward and leaves no gap; return the watermark."""
        if value is None or (current is not None and value <= current) or not self.covers_gap(current, window_start):
            log.info("Watermark %s stays at %s (window from %s up to %s does not extend it without a gap)",
                     self.key, _text(current), _text(window_start), _text(value))
            return current
        self._write(_text(value))
        log.info("Watermark %s advanced to %s", self.key, _text(value))
        return value

    def _write(self, text: str) -> None:
        from airflow.sdk import Variable

        Variable.set(self.key, text)
        read_back = Variable.get(self.key, default=None)
        if read_back != text:
            raise RuntimeError(
                f"watermark Variable {self.key} was not stored: wrote {text!r}, read back {read_back!r}. "
                "The warehouse is committed; the next run re-reads this window idempotently."
            )


def _text(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, date | datetime) else value


def time_watermark(key: str) -> Watermark[datetime]:
    """An exclusive end timestamp (OCDS windows, health alerts); a first sync starts at the epoch."""
    return Watermark(key, lambda text: parse_aware(text, name=f"Variable {key}"), lambda t: t, EPOCH)


def day_watermark(key: str, origin: date | None) -> Watermark[date]:
    """The last day loaded for good (datamine); a first sync starts at ``origin``."""
    return Watermark(key, lambda text: date.fromisoformat(text.strip()[:10]), lambda d: d + timedelta(days=1),
                     origin)


def backfill_interval(context: Any) -> tuple[datetime, datetime] | None:
    """The data interval of a backfill run (``airflow backfill create``), else ``None``."""
    if not context:
        return None
    run_type = getattr(context.get("dag_run"), "run_type", "")
    if "backfill" not in str(getattr(run_type, "value", run_type) or "").lower():
        return None
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    return (start, end) if start is not None and end is not None else None
