"""Load planned datamine requests into one table, and judge which days are final.

Rows are ``(location, metric, time zone, period start, slot)`` with the API's ``validity``.
Each day's worst status across the run is reported: ``missing`` (a skipped request),
``incomplete``, ``imputed`` or ``complete`` (a metric without validity is complete once its
period has ended); :func:`last_final_day` turns those into the watermark.  Answers reach
the writer whole (:mod:`.check`): a trimmed answer is never staged.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from retail_provider.http.errors import ApiError
from retail_provider.retailnext.datamine.flatten import flatten
from retail_provider.retailnext.datamine.plan import Chunk
from retail_provider.retailnext.tables import SCHEMA, VENDOR
from retail_provider.warehouse.schema import TableSpec, table_spec
from retail_provider.warehouse.tablesync import TableSync

log = logging.getLogger(__name__)
ENDPOINT = "v2/datamine"
SEVERITY = ("missing", "incomplete", "imputed")


class DataminePoint(BaseModel):
    """One row of a datamine table (periods are wall-clock times in ``time_zone``;
    ``time_zone`` is empty for each store's own zone)."""

    location_uuid: str
    metric: str
    time_zone: str
    period_start: datetime
    slot: str
    period_end: datetime | None = None
    value: float | None = None
    validity: str | None = None


def points_spec(table: str, schema: str = SCHEMA) -> TableSpec:
    return table_spec(DataminePoint, schema=schema, table=table,
                      key=("location_uuid", "metric", "time_zone", "period_start", "slot"))


def worst(statuses: set[str]) -> str:
    return next((s for s in SEVERITY if s in statuses), "complete")


@dataclass
class PointLoad:
    """What one run loaded: points by validity, each day's worst status, skipped requests."""

    validity: Counter[str] = field(default_factory=Counter)
    days: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"points": sum(self.validity.values()), "validity": dict(self.validity), "skipped": self.skipped,
                "days": {d: worst(s) for d, s in sorted(self.days.items())}}


@dataclass
class PointWriter:
    """Stage the points of each answered request into ``table``.

    A day's status is the worst of its points: their ``validity``; for a metric that
    carries none, ``complete`` once the point's period has ended (``incomplete`` before).

    :param observed: key rows by this observation time instead of the period (occupancy snapshots).
    :param on_metric_error: ``fail`` or ``warn`` when a metric answers ``ok: false``.
    :param now: the run's time (what "ended" means).
    """

    table: TableSync
    zone_label: str
    observed: datetime | None = None
    on_metric_error: str = "fail"
    now: datetime | None = None
    load: PointLoad = field(default_factory=PointLoad)

    def write(self, chunk: Chunk, response: Any) -> None:
        failed = [mt for mt in response.metrics if not mt.ok]
        if not response.ok or failed:
            self._refused(chunk, "; ".join(f"{mt.name}: {mt.error}" for mt in failed) or str(response.error))
            return
        zone = _zone(chunk.body.get("time_zone") or self.zone_label)
        now = self.now or datetime.now(UTC)
        label = self.zone_label or str(chunk.body.get("time_zone") or "")
        rows = []
        for _, p in flatten(response, locations=chunk.locations, range_start=chunk.start):
            rows.append(("UPSERT", p.location_uuid, p.metric, label, self.observed or p.period_start,
                         p.slot, None if self.observed else p.period_end, p.value, p.validity, None))
            self.load.validity[p.validity or "none"] += 1
            status = p.validity or _ended(p.period_start, p.period_end, zone, now)
            for day in _period_days(p.period_start, p.period_end):
                self.load.days[day.isoformat()].add(status)
        self.table.stage(rows)

    def _refused(self, chunk: Chunk, reason: str) -> None:
        if self.on_metric_error == "fail":
            raise ApiError(f"retailnext datamine answered ok=false ({reason})", api=VENDOR)
        log.warning("Skipping a datamine request of %d locations %s..%s: %s", len(chunk.locations), chunk.start,
                    chunk.end, reason)
        self.load.skipped.append({"start": chunk.start.isoformat(), "end": chunk.end.isoformat(),
                                  "locations": len(chunk.locations), "reason": reason})
        for d in chunk.days:
            self.load.days[d.isoformat()].add("missing")


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name and name != "local" else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _ended(start: datetime, end: datetime | None, zone: ZoneInfo, now: datetime) -> str:
    """Status of a point without validity: complete once its period has ended."""
    last = end or start + timedelta(days=1)
    return "complete" if last.replace(tzinfo=zone) <= now else "incomplete"


def _period_days(start: datetime, end: datetime | None) -> list[date]:
    """The days a point's period covers (a week or month point covers all of its days)."""
    if end is None or end - start <= timedelta(days=1):
        return [start.date()]
    last = (end - timedelta(microseconds=1)).date()
    return [start.date() + timedelta(days=i) for i in range((last - start.date()).days + 1)]


def last_final_day(results: list[dict[str, Any]], start: date, end: date, *, final_before: date) -> date | None:
    """The watermark: the last day D in ``[start, end)`` such that every day from ``start`` to D
    is final in every result.  A day is final when all its points are ``complete``; days
    before ``final_before`` (the validity lookback) are final once loaded, whatever their
    validity, so one sensor that never recovers cannot hold the watermark back forever.
    A day with missing points is never final."""
    days: dict[str, str] = {}
    for r in results:
        for d, s in (r or {}).get("days", {}).items():
            days[d] = worst({days.get(d, "complete"), s})
    last = None
    day = start
    while day < end:
        status = days.get(day.isoformat(), "missing")
        if status == "missing" or (status != "complete" and day >= final_before):
            break
        last = day
        day += timedelta(days=1)
    return last
