"""Traffic of one store: deterministic 15-minute buckets inside store hours.

A *store day* is the period of a local date's store hours (which may start the evening
before or end after midnight).  :func:`generate_day` computes every bucket of a store day
from ``(seed, store index, date)``: traffic in follows a daily curve with noise, traffic out
lags it by about 30 minutes, the running occupancy is never negative and the last bucket
of the day empties the store.  Buckets outside store hours have no traffic.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from include.emulator.retailnext.world import Store

BUCKET = 900  # seconds
BUCKET_MIN = 15
IMPUTED_SHARE = 0.03


def to_epoch(naive: datetime, tz: ZoneInfo) -> int:
    """Epoch seconds of a wall-clock time in ``tz`` (nonexistent/ambiguous: fold 0)."""
    return int(naive.replace(tzinfo=tz).timestamp())


def to_wall(epoch: int, tz: ZoneInfo) -> datetime:
    """The naive wall-clock time in ``tz`` of an epoch second."""
    return datetime.fromtimestamp(epoch, tz).replace(tzinfo=None)


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


@dataclass(frozen=True)
class StoreDay:
    """Every bucket of one store day, in time order.

    :param starts: UTC epoch seconds of each bucket's start.
    :param offsets: minutes from the day's local 00:00 (negative: the evening before;
        1440 and more: after midnight).
    :param occ: running occupancy after each bucket (before occupancy adjustments).
    """

    day: date
    starts: tuple[int, ...]
    offsets: tuple[int, ...]
    ins: tuple[int, ...]
    outs: tuple[int, ...]
    occ: tuple[int, ...]
    imputed: tuple[bool, ...]

    @property
    def open_epoch(self) -> int:
        return self.starts[0]

    @property
    def close_epoch(self) -> int:
        return self.starts[-1] + BUCKET


def _shape(k: int, n: int) -> float:
    x = (k + 0.5) / n
    return math.sin(math.pi * x) ** 1.3 + 0.25 * math.exp(-(((x - 0.35) / 0.08) ** 2))


def generate_day(store: Store, day: date, seed: int) -> StoreDay | None:
    """The buckets of ``store`` on local date ``day`` (``None`` when closed)."""
    hours = store.day_hours(day)
    if hours is None:
        return None
    open_min, close_min = hours
    n = (close_min - open_min) // BUCKET_MIN
    if n <= 0:
        return None
    rng = random.Random(f"traffic:{seed}:{store.index}:{day.isoformat()}")
    base = midnight(day)
    mult = 1.3 if day.weekday() == 5 else (0.8 if day.weekday() == 6 else 1.0)
    mult *= 0.85 + 0.3 * rng.random()
    starts: list[int] = []
    offsets: list[int] = []
    ins: list[int] = []
    outs: list[int] = []
    occ: list[int] = []
    imputed: list[bool] = []
    current = 0
    seen: set[int] = set()
    raw_in = []
    for k in range(n):
        mean = store.peak * mult * _shape(k, n)
        raw_in.append(max(0, int(round(mean + rng.gauss(0.0, math.sqrt(mean + 1.0))))))
    open_epoch = to_epoch(base + timedelta(minutes=open_min), store.tz)
    linear = to_epoch(base + timedelta(minutes=close_min), store.tz) - open_epoch == (close_min - open_min) * 60
    for k in range(n):
        offset = open_min + BUCKET_MIN * k
        if linear:  # no DST change during the day's hours
            start = open_epoch + BUCKET * k
        else:
            start = to_epoch(base + timedelta(minutes=offset), store.tz)
        jitter = rng.choice((-1, 0, 0, 1))
        flag = rng.random() < IMPUTED_SHARE
        if start in seen:  # the repeated/skipped hour of a DST change
            continue
        seen.add(start)
        value_in = raw_in[k]
        if k == n - 1:
            value_out = current + value_in
        else:
            target = (raw_in[k - 2] if k >= 2 else 0) + jitter
            value_out = max(0, min(current + value_in, target))
        current = current + value_in - value_out
        starts.append(start)
        offsets.append(offset)
        ins.append(value_in)
        outs.append(value_out)
        occ.append(current)
        imputed.append(flag)
    if not starts:
        return None
    return StoreDay(day, tuple(starts), tuple(offsets), tuple(ins), tuple(outs), tuple(occ), tuple(imputed))


def predicted_day(store: Store, day: date, seed: int) -> list[tuple[datetime, int]]:
    """Predicted traffic of a future store day: (local wall-clock bucket start, value)."""
    hours = store.day_hours(day)
    if hours is None:
        return []
    open_min, close_min = hours
    n = (close_min - open_min) // BUCKET_MIN
    rng = random.Random(f"predicted:{seed}:{store.index}:{day.isoformat()}")
    base = midnight(day)
    mult = 1.3 if day.weekday() == 5 else (0.8 if day.weekday() == 6 else 1.0)
    out = []
    for k in range(n):
        mean = store.peak * mult * _shape(k, n)
        out.append(
            (base + timedelta(minutes=open_min + BUCKET_MIN * k), max(0, int(round(mean * rng.uniform(0.9, 1.1)))))
        )
    return out


class DayCache:
    """Store days by (store index, date): a pure function of the seed, so kept across resets."""

    def __init__(self, seed: int, maxsize: int = 50_000) -> None:
        self.seed = seed
        self.maxsize = maxsize
        self._days: dict[tuple[int, date], StoreDay | None] = {}

    def get(self, store: Store, day: date) -> StoreDay | None:
        key = (store.index, day)
        try:
            return self._days[key]
        except KeyError:
            pass
        if len(self._days) >= self.maxsize:
            self._days.clear()
        result = generate_day(store, day, self.seed)
        self._days[key] = result
        return result

    def days_between(self, store: Store, start: int, end: int) -> list[StoreDay]:
        """Store days with a bucket starting in ``[start, end)`` (epoch seconds), in order."""
        first = to_wall(start, store.tz).date() - timedelta(days=1)
        last = to_wall(max(start, end - 1), store.tz).date() + timedelta(days=1)
        days = []
        d = first
        while d <= last:
            sd = self.get(store, d)
            if sd is not None and sd.starts[0] < end and sd.close_epoch > start:
                days.append(sd)
            d += timedelta(days=1)
        return days

    def locate(self, store: Store, start: int) -> tuple[StoreDay, int] | None:
        """The store day and index of the open bucket starting at ``start``, if any."""
        for sd in self.days_between(store, start, start + BUCKET):
            for k, s in enumerate(sd.starts):
                if s == start:
                    return sd, k
        return None
