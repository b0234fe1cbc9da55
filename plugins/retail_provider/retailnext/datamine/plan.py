"""Split datamine work into requests the API answers in full.

A response holds at most 10,000 points (more are silently dropped), a date range may span
5 years for one store and 2 years for several.  A plan therefore batches locations and
cuts date ranges at the boundaries of their date groups, so that every request stays
under the cap and the union of the answers equals the one logical query.

The points of a request are counted from the true grid: with ``{"type": "store_hours"}``
and a time group, a day's grid runs from the earliest opening to the latest closing of the
stores in the query (hours may start the evening before and end after midnight), so the
caller passes that span (:func:`store_hours_span`).  Every chunk also carries the group
counts its answer must have, so :mod:`.check` can tell a trimmed answer from a whole one,
and :func:`split` can cut a chunk whose answer was trimmed anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext.datamine.calendar import GREGORIAN, Calendar
from retail_provider.retailnext.datamine.dates import resolve_range, zone_named
from retail_provider.retailnext.datamine.models import DatamineRequest
from retail_provider.retailnext.datamine.validate import validate_request
from retail_provider.retailnext.models import V2_MAX_ENTRIES

MAX_POINTS = V2_MAX_ENTRIES  # a response holds at most this many points
#: a store-hours day grid when the stores' hours are unknown: 48 hours (from 12:00 the day
#: before to 12:00 the day after); :func:`store_hours_span` gives the true one.
UNKNOWN_SPAN = (-720, 2160)


@dataclass
class Chunk:
    """One request of a plan, what it covers and the group counts its answer must have.

    :param layers: ``(group, expected count or None)`` per group layer, outermost first.
    """

    body: dict[str, Any]
    locations: list[str]
    start: datetime  # wall-clock, inclusive
    end: datetime  # wall-clock, exclusive
    range_index: int = 0
    points: int = 0
    days: list[date] = field(default_factory=list)
    periods: list[tuple[datetime, datetime]] = field(default_factory=list)
    layers: list[tuple[str, int | None]] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    splittable: bool = True


def store_hours_span(opens: list[int], closes: list[int]) -> tuple[int, int] | None:
    """``(earliest opening, latest closing)`` in minutes from the store day's 00:00
    (negative: the evening before; over 1440: after midnight)."""
    if not opens or not closes:
        return None
    return min(opens), max(closes)


def slots_per_day(req: DatamineRequest, span: tuple[int, int] | None = None) -> int:
    """Time-layer slots of one day (1 without a time group)."""
    time_group = next((g for g in req.group_bys if g.group == "time"), None)
    if time_group is None:
        return 1
    minutes = time_group.value * (60 if time_group.unit == "hours" else 1)
    if req.time_ranges[0].type == "store_hours":
        lo, hi = span or UNKNOWN_SPAN
        if minutes > 1440:
            return 1
        aligned = (lo // minutes) * minutes
        return max(1, math.ceil((hi - aligned) / minutes))
    total = 0
    for t in req.time_ranges:
        total += math.ceil((_minutes(t.until) - _minutes(t.from_)) / minutes)
    return total


def _minutes(text: str | None) -> int:
    assert text is not None
    return int(text[:2]) * 60 + int(text[3:])


def periods(start: datetime, end: datetime, req: DatamineRequest,
            calendar: Calendar = GREGORIAN) -> list[tuple[datetime, datetime]]:
    """The date groups of ``[start, end)``: consecutive chunks from ``start``."""
    group = next((g for g in req.group_bys if g.group == "date"), None)
    if group is None:
        return [(start, end)]
    out = []
    cursor = start
    while cursor < end:
        if group.unit == "days":
            nxt = cursor + timedelta(days=group.value)
        elif group.unit == "weeks":
            nxt = cursor + timedelta(weeks=group.value)
        else:
            months = group.value * (12 if group.unit == "years" else 1)
            nxt = calendar.add_months(start, months * (len(out) + 1))
        out.append((cursor, min(nxt, end)))
        cursor = nxt
    return out


def _wall(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _days(start: datetime, end: datetime) -> list[date]:
    extra = 1 if end.time() != datetime.min.time() else 0
    return [(start + timedelta(days=d)).date() for d in range((end - start).days + extra)]


@dataclass
class _Query:
    """What the planner derives once from the validated request."""

    req: DatamineRequest
    base: dict[str, Any]
    per_period: int  # points of one location in one date period
    by_location: bool
    stores: dict[str, int]

    def store_count(self, locations: list[str]) -> int:
        return sum(self.stores.get(loc, 1) for loc in locations)


def make_chunk(q: _Query, locs: list[str], group: list[tuple[datetime, datetime]], index: int,
               splittable: bool = True) -> Chunk:
    """The request for ``locs`` over ``group`` (consecutive periods of date range ``index``)."""
    c_start, c_end = group[0][0], group[-1][1]
    body = dict(q.base)
    body["locations"] = locs
    if splittable:
        body["date_ranges"] = [{"from": {"gregorian": _wall(c_start)}, "to": {"gregorian": _wall(c_end)}}]
    else:
        body["date_ranges"] = [q.base["date_ranges"][index]]
    layers: list[tuple[str, int | None]] = []
    for g in q.req.group_bys:
        if g.group == "location":
            layers.append(("location", len(locs)))
        elif g.group == "date":
            layers.append(("date", len(group) if splittable else None))
        elif g.group == "day_of_week":
            last = (c_end - timedelta(microseconds=1)).date()
            layers.append(("day_of_week", min(7, (last - c_start.date()).days + 1) if splittable else None))
        else:
            layers.append((g.group, None))
    points = q.per_period * (len(locs) if q.by_location else 1) * len(group)
    metrics = list(dict.fromkeys(q.req.metrics))
    return Chunk(body, locs, c_start, c_end, index, points, _days(c_start, c_end), list(group), layers, metrics,
                 splittable)


def split(chunk: Chunk) -> list[Chunk]:
    """Two halves of a chunk (by location first, then by date period); ``[]`` when it is one
    location and one period already."""
    by_location = any(name == "location" for name, _ in chunk.layers)
    if by_location and len(chunk.locations) > 1:
        half = len(chunk.locations) // 2
        parts = [chunk.locations[:half], chunk.locations[half:]]
        return [_with(chunk, locations=p) for p in parts]
    if chunk.splittable and len(chunk.periods) > 1:
        half = len(chunk.periods) // 2
        return [_with(chunk, periods=p) for p in (chunk.periods[:half], chunk.periods[half:])]
    return []


def _with(chunk: Chunk, *, locations: list[str] | None = None,
          periods: list[tuple[datetime, datetime]] | None = None) -> Chunk:
    locs = locations if locations is not None else chunk.locations
    group = periods if periods is not None else chunk.periods
    body = {**chunk.body, "locations": locs}
    if periods is not None:
        body["date_ranges"] = [{"from": {"gregorian": _wall(group[0][0])}, "to": {"gregorian": _wall(group[-1][1])}}]
    layers = []
    for name, count in chunk.layers:
        if name == "location":
            count = len(locs)
        elif name == "date" and periods is not None:
            count = len(group)
        elif name == "day_of_week" and periods is not None:
            last = (group[-1][1] - timedelta(microseconds=1)).date()
            count = min(7, (last - group[0][0].date()).days + 1)
        layers.append((name, count))
    share = (len(locs) / len(chunk.locations)) * (len(group) / max(1, len(chunk.periods)))
    return replace(chunk, body=body, locations=locs, start=group[0][0], end=group[-1][1], periods=list(group),
                   days=_days(group[0][0], group[-1][1]), layers=layers, points=math.ceil(chunk.points * share))


def plan(
    body: dict[str, Any] | DatamineRequest,
    *,
    now: datetime,
    max_points: int = MAX_POINTS,
    location_batch_size: int = 100,
    extra_metrics: tuple[str, ...] = (),
    span: tuple[int, int] | None = None,
    stores_per_location: dict[str, int] | None = None,
    calendar: Calendar = GREGORIAN,
) -> list[Chunk]:
    """Validate ``body`` and split it into requests the API answers in full.

    :param max_points: points per request; never more than 9,999 (an answer of exactly
        10,000 points cannot be told from a trimmed one).
    :param span: the store-hours day grid (:func:`store_hours_span`), for store-hours queries.
    :param stores_per_location: stores inside each location (a region holds several): the
        5-year rule is for one store, the 2-year rule for several.
    """
    stores = stores_per_location or {}
    req = validate_request(body, now=now, extra_metrics=extra_metrics, stores_per_location=stores, calendar=calendar)
    if max_points < 1 or location_batch_size < 1:
        raise InputValidationError("max_points and location_batch_size must be positive", api="retailnext")
    budget = min(max_points, MAX_POINTS - 1)
    locations = list(dict.fromkeys(req.locations))
    by_location = any(g.group == "location" for g in req.group_bys)
    if len(locations) > location_batch_size and not by_location:
        raise InputValidationError(
            "a request over several locations without a location group cannot be split by location "
            "(the API would sum them): add a location group_by or request fewer locations", api="retailnext")
    dow = 7 if any(g.group == "day_of_week" for g in req.group_bys) else 1
    per_period = len(set(req.metrics)) * slots_per_day(req, span) * dow
    base = req.wire() if isinstance(body, DatamineRequest) else dict(body)
    q = _Query(req, base, per_period, by_location, stores)
    zone = zone_named(req.time_zone)
    chunks: list[Chunk] = []
    for index, rng in enumerate(req.date_ranges):
        start, end = resolve_range(rng, zone, now, calendar)
        splittable = req.time_zone != "local"
        groups = periods(start, end, req, calendar) if splittable else [(start, end)]
        batch = len(locations) if not by_location else max(1, min(location_batch_size, budget // max(per_period, 1)))
        for i in range(0, len(locations), batch):
            chunks += _chunks_of(q, locations[i:i + batch], groups, index, budget, splittable)
    return chunks


def _chunks_of(q: _Query, locs: list[str], groups: list[tuple[datetime, datetime]], index: int, budget: int,
               splittable: bool) -> list[Chunk]:
    per_req_period = q.per_period * (len(locs) if q.by_location else 1)
    if per_req_period > budget:
        raise InputValidationError(
            f"one {groups[0][1] - groups[0][0]} period of this query already has {per_req_period} points "
            f"for one location, over the {budget} a request can hold: use a coarser time group", api="retailnext")
    limit_days = 365 * (5 if q.store_count(locs) <= 1 else 2)
    step = max(1, budget // per_req_period)
    out: list[Chunk] = []
    j = 0
    while j < len(groups):
        group = groups[j:j + step]
        while len(group) > 1 and (group[-1][1] - group[0][0]).days > limit_days:
            group = group[:-1]
        out.append(make_chunk(q, locs, group, index, splittable))
        j += len(group)
    return out


def window_request(
    *,
    locations: list[str],
    metrics: list[str],
    date_from: date,
    date_to: date,
    grain: str,
    time_zone: str | None = None,
    time_ranges: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The datamine request of a run window: one point per location, metric and period of
    ``grain`` (see :data:`~.grains.GRAINS`).  ``date_to`` is exclusive."""
    from retail_provider.retailnext.datamine.grains import grain_group_bys

    if date_to <= date_from:
        raise InputValidationError(
            f"date_to ({date_to}) must be after date_from ({date_from})", api="retailnext")
    body: dict[str, Any] = {
        "locations": locations,
        "metrics": metrics,
        "date_ranges": [{"from": {"gregorian": date_from.isoformat()}, "to": {"gregorian": date_to.isoformat()}}],
        "time_ranges": time_ranges or [{"from": "00:00", "until": "24:00"}],
        "group_bys": grain_group_bys(grain),
    }
    if time_zone:
        body["time_zone"] = time_zone
    return body
