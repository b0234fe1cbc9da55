"""Datamine responses into rows: one per location, metric and period, keeping validity."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from retail_provider.http.errors import InvalidResponseError
from retail_provider.retailnext.datamine.models import DatamineResponse, DataPoint


@dataclass
class PointRow:
    location_uuid: str
    metric: str
    period_start: datetime  # wall-clock time in the query's zone (the store's own when none was given)
    period_end: datetime | None
    slot: str  # the time group ("09:00-10:00", "+00:00-+01:00") or "" ; or the day of week
    value: float | None
    validity: str | None


def _offset(label: str) -> timedelta:
    """``"09:15"`` -> 9h15; ``"-23:00"`` -> 23:00 on the previous day; ``"+00:15"`` -> next day."""
    sign = label[0] if label[:1] in "+-" else ""
    hh, mm = label.lstrip("+-").split(":")
    base = timedelta(hours=int(hh), minutes=int(mm))
    if sign == "-":
        return base - timedelta(days=1)
    if sign == "+":
        return base + timedelta(days=1)
    return base


def _day(side: Any) -> date:
    if isinstance(side, dict) and side.get("gregorian"):
        return date.fromisoformat(str(side["gregorian"])[:10])
    raise InvalidResponseError(f"retailnext datamine: date group without gregorian date: {side!r}", api="retailnext")


def flatten(
    response: DatamineResponse,
    *,
    locations: list[str],
    range_start: datetime,
) -> Iterator[tuple[str, PointRow]]:
    """``(metric, row)`` for every leaf point of every ``ok`` metric.

    A point without a location group belongs to the only requested location.
    """
    for metric in response.metrics:
        if not metric.ok:
            continue
        for point in metric.data:
            yield from _walk(metric.name, point, {}, locations, range_start)


def _walk(metric: str, point: DataPoint, ctx: dict[str, Any], locations: list[str],
          range_start: datetime) -> Iterator[tuple[str, PointRow]]:
    ctx = dict(ctx)
    g = point.group
    if g is not None:
        if g.type == "location":
            ctx["location"] = g.uuid
        elif g.type == "date":
            ctx["date_from"], ctx["date_through"] = _day(g.from_), _day(g.through)
        elif g.type == "time":
            ctx["time"] = (str(g.from_), str(g.until))
        elif g.type == "day_of_week":
            ctx["dow"] = g.day or ""
    if point.data is not None and point.value is None and point.validity is None:
        for child in point.data:
            yield from _walk(metric, child, ctx, locations, range_start)
        return
    location = ctx.get("location")
    if location is None:
        if len(locations) != 1:
            raise InvalidResponseError("retailnext datamine: a point without location group for several locations",
                                       api="retailnext")
        location = locations[0]
    anchor = datetime.combine(ctx["date_from"], datetime.min.time()) if "date_from" in ctx else range_start
    end = (datetime.combine(ctx["date_through"], datetime.min.time()) + timedelta(days=1)
           if "date_through" in ctx else None)
    slot = ""
    if "time" in ctx:
        f, u = ctx["time"]
        start = anchor.replace(hour=0, minute=0) + _offset(f) if "date_from" in ctx else anchor + _offset(f)
        end = (anchor.replace(hour=0, minute=0) if "date_from" in ctx else anchor) + (
            timedelta(days=1) if u == "24:00" else _offset(u))
        slot = f"{f}-{u}"
    else:
        start = anchor
    if "dow" in ctx:
        slot = f"{slot} {ctx['dow']}".strip()
    yield metric, PointRow(location, metric, start, end, slot, point.value, point.validity)
