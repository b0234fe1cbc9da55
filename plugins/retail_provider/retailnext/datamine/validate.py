"""Check a datamine request against the documented rules before anything is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext.datamine.calendar import GREGORIAN, Calendar
from retail_provider.retailnext.datamine.catalog import METRICS, is_day_level
from retail_provider.retailnext.datamine.dates import add_months, resolve_range, zone_named
from retail_provider.retailnext.datamine.models import DatamineRequest, NameDate

KNOWN_METRICS = tuple(METRICS)
LOCAL_METRICS = {"total_occupancy", "occupancy_limit"}
ONE_LOCATION_YEARS = 5
SEVERAL_LOCATIONS_YEARS = 2


def _err(message: str) -> InputValidationError:
    return InputValidationError(message, api="retailnext")


def _pydantic_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("function-after",))
    return f"datamine request: {where}: {first.get('msg')}"


def parse_request(body: dict[str, Any] | DatamineRequest) -> DatamineRequest:
    if isinstance(body, DatamineRequest):
        return body
    try:
        return DatamineRequest.model_validate(body)
    except ValidationError as exc:
        raise _err(_pydantic_message(exc)) from None


def validate_request(
    body: dict[str, Any] | DatamineRequest,
    *,
    now: datetime,
    extra_metrics: tuple[str, ...] = (),
    stores_per_location: dict[str, int] | None = None,
    calendar: Calendar = GREGORIAN,
) -> DatamineRequest:
    """Validate structure and the documented rules; return the parsed request.

    :param stores_per_location: stores inside each location (a region holds several; an
        unknown location counts as one): the 5-year limit is for one store.
    :raises InputValidationError: naming the parameter and the rule it broke.
    """
    req = parse_request(body)
    _check_metrics(req, extra_metrics)
    groups = [g.group for g in req.group_bys]
    for g in set(groups):
        if groups.count(g) > 1:
            raise _err(f"group_bys: group {g!r} is used twice")
    kinds = {"store_hours" if t.type else "clock" for t in req.time_ranges}
    if len(kinds) > 1:
        raise _err("time_ranges: store_hours cannot be mixed with from/until ranges")
    uses_name = any(isinstance(d, NameDate) for r in req.date_ranges for d in _all_dates(r))
    if uses_name and not req.time_zone:
        raise _err("time_zone is required when a date range uses 'name' (now, today, ...)")
    if req.time_zone == "local":
        _check_local(req)
    zone = zone_named(req.time_zone)
    stores = sum((stores_per_location or {}).get(loc, 1) for loc in set(req.locations))
    limit_years = ONE_LOCATION_YEARS if stores <= 1 else SEVERAL_LOCATIONS_YEARS
    for i, rng in enumerate(req.date_ranges):
        start, end = resolve_range(rng, zone, now, calendar)
        if start >= end:
            raise _err(f"date_ranges[{i}]: from ({start.isoformat()}) must be before to ({end.isoformat()})")
        if end > add_months(start, 12 * limit_years):
            who = "one store" if limit_years == ONE_LOCATION_YEARS else f"several stores ({stores})"
            raise _err(
                f"date_ranges[{i}]: {start.date()} to {end.date()} is longer than {limit_years} years, "
                f"the limit for {who}"
            )
    return req


def _check_metrics(req: DatamineRequest, extra_metrics: tuple[str, ...]) -> None:
    known = (*KNOWN_METRICS, *extra_metrics)
    for metric in req.metrics:
        if metric not in known:
            raise _err(f"metrics: {metric!r} is not a known datamine metric (known: {', '.join(known)})")
    if any(g.group == "time" for g in req.group_bys):
        daily = [m for m in req.metrics if is_day_level(m)]
        if daily:
            raise _err(f"metrics: {', '.join(daily)} {'is a' if len(daily) == 1 else 'are'} day-level metric"
                       f"{'' if len(daily) == 1 else 's'}: they cannot be grouped by time (use a day grain or coarser)")


def _all_dates(rng: Any) -> list[Any]:
    out = []
    for spec in (rng.from_, rng.to):
        out.append(spec)
        rel = getattr(spec, "relative", None)
        while rel is not None and rel.base is not None:
            out.append(rel.base)
            rel = getattr(rel.base, "relative", None)
    return out


def _check_local(req: DatamineRequest) -> None:
    """The documented restrictions of ``"time_zone": "local"`` (occupancy only)."""
    if not set(req.metrics) <= LOCAL_METRICS:
        raise _err("time_zone 'local' allows only the metrics total_occupancy and occupancy_limit")
    if [g.group for g in req.group_bys] != ["location"]:
        raise _err("time_zone 'local' requires group_bys to be exactly one location group")
    if len(req.date_ranges) != 1:
        raise _err("time_zone 'local' requires a single date range")
    rng = req.date_ranges[0]
    if not (isinstance(rng.from_, NameDate) and rng.from_.name == "today"
            and isinstance(rng.to, NameDate) and rng.to.name == "now"):
        raise _err("time_zone 'local' requires the date range from today to now")
    if len(req.time_ranges) != 1 or req.time_ranges[0].type != "store_hours":
        raise _err("time_zone 'local' requires a single store_hours time range")
