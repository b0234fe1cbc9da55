"""Split datamine work into requests the API answers in full.

A response holds at most 10,000 points (more are silently dropped), a date range may span
5 years for one location and 2 years for several.  A plan therefore batches locations and
cuts date ranges at the boundaries of their date groups, so that every request stays
under ``max_points`` and the union of the answers equals the one logical query.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext.datamine.dates import add_months, resolve_range, zone_named
from retail_provider.retailnext.datamine.models import DatamineRequest
from retail_provider.retailnext.datamine.validate import validate_request
from retail_provider.retailnext.models import V2_MAX_ENTRIES

MAX_POINTS = V2_MAX_ENTRIES  # a response holds at most this many points


@dataclass
class Chunk:
    """One request of a plan and what it covers."""

    body: dict[str, Any]
    locations: list[str]
    start: datetime  # wall-clock, inclusive
    end: datetime  # wall-clock, exclusive
    range_index: int = 0
    points: int = 0
    days: list[date] = field(default_factory=list)


def _slots_per_day(req: DatamineRequest) -> int:
    time_group = next((g for g in req.group_bys if g.group == "time"), None)
    if time_group is None:
        return 1
    minutes = time_group.value * (60 if time_group.unit == "hours" else 1)
    if req.time_ranges[0].type == "store_hours":
        return math.ceil(24 * 60 / minutes) + 2  # store days may reach into the neighbouring days
    total = 0
    for t in req.time_ranges:
        f = int(t.from_[:2]) * 60 + int(t.from_[3:])  # type: ignore[index]
        u = int(t.until[:2]) * 60 + int(t.until[3:])  # type: ignore[index]
        total += math.ceil((u - f) / minutes)
    return total


def _periods(start: datetime, end: datetime, req: DatamineRequest) -> list[tuple[datetime, datetime]]:
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
        elif group.unit == "months":
            nxt = add_months(start, group.value * (len(out) + 1))
        else:
            nxt = add_months(start, 12 * group.value * (len(out) + 1))
        out.append((cursor, min(nxt, end)))
        cursor = nxt
    return out


def _wall(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def plan(
    body: dict[str, Any] | DatamineRequest,
    *,
    now: datetime,
    max_points: int = MAX_POINTS,
    location_batch_size: int = 100,
    extra_metrics: tuple[str, ...] = (),
) -> list[Chunk]:
    """Validate ``body`` and split it into requests of at most ``max_points`` points each."""
    req = validate_request(body, now=now, extra_metrics=extra_metrics)
    if max_points < 1 or location_batch_size < 1:
        raise InputValidationError("max_points and location_batch_size must be positive", api="retailnext")
    locations = list(dict.fromkeys(req.locations))
    grouped_by_location = any(g.group == "location" for g in req.group_bys)
    if len(locations) > 1 and not grouped_by_location and len(locations) > location_batch_size:
        raise InputValidationError(
            "a request over several locations without a location group cannot be split by location "
            "(the API would sum them): add a location group_by or request fewer locations", api="retailnext")
    per_period = len(req.metrics) * _slots_per_day(req) * (7 if any(g.group == "day_of_week" for g in req.group_bys)
                                                            else 1)
    zone = zone_named(req.time_zone)
    base = req.wire()
    chunks: list[Chunk] = []
    for index, rng in enumerate(req.date_ranges):
        start, end = resolve_range(rng, zone, now)
        splittable = req.time_zone != "local"
        periods = _periods(start, end, req) if splittable else [(start, end)]
        per_location = per_period  # points of one location in one date period
        if not grouped_by_location:
            batch = len(locations)
        else:
            batch = max(1, min(location_batch_size, max_points // max(per_location, 1)))
        for i in range(0, len(locations), batch):
            locs = locations[i:i + batch]
            per_req_period = per_location * (len(locs) if grouped_by_location else 1)
            if per_req_period > max_points:
                raise InputValidationError(
                    f"one {periods[0][1] - periods[0][0]} period of this query already has {per_req_period} points "
                    f"for one location, over the {max_points} the API returns: use a coarser time group",
                    api="retailnext")
            limit_days = 365 * (5 if len(locs) == 1 else 2)
            step = max(1, max_points // per_req_period)
            j = 0
            while j < len(periods):
                group = periods[j:j + step]
                while len(group) > 1 and (group[-1][1] - group[0][0]).days > limit_days:
                    group = group[:-1]
                c_start, c_end = group[0][0], group[-1][1]
                body_i = dict(base)
                body_i["locations"] = locs
                if splittable:
                    body_i["date_ranges"] = [{"from": {"gregorian": _wall(c_start)}, "to": {"gregorian": _wall(c_end)}}]
                else:
                    body_i["date_ranges"] = [base["date_ranges"][index]]
                days = [(c_start + timedelta(days=d)).date() for d in range((c_end - c_start).days + (1 if c_end.time() != datetime.min.time() else 0))]
                chunks.append(Chunk(body_i, locs, c_start, c_end, index, per_req_period * len(group), days))
                j += len(group)
    return chunks


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
    """The datamine request of a run window: one point per location, metric and day or hour.

    ``date_to`` is exclusive.  Without ``time_zone`` each store's own zone is used.
    """
    if grain not in ("day", "hour"):
        raise InputValidationError(f"grain must be 'day' or 'hour' (got {grain!r})", api="retailnext")
    if date_to <= date_from:
        raise InputValidationError(
            f"date_to ({date_to}) must be after date_from ({date_from})", api="retailnext")
    group_bys = [{"group": "location", "unit": "", "value": 1}, {"group": "date", "unit": "days", "value": 1}]
    if grain == "hour":
        group_bys.append({"group": "time", "unit": "hours", "value": 1})
    body: dict[str, Any] = {
        "locations": locations,
        "metrics": metrics,
        "date_ranges": [{"from": {"gregorian": date_from.isoformat()}, "to": {"gregorian": date_to.isoformat()}}],
        "time_ranges": time_ranges or [{"from": "00:00", "until": "24:00"}],
        "group_bys": group_bys,
    }
    if time_zone:
        body["time_zone"] = time_zone
    return body
