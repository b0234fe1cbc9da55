"""Check a datamine request against the documented rules before anything is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext.datamine.dates import add_months, resolve_range, zone_named
from retail_provider.retailnext.datamine.models import DatamineRequest, NameDate

KNOWN_METRICS = ("traffic_in", "traffic_out", "total_occupancy", "occupancy_limit")
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
) -> DatamineRequest:
    """Validate structure and the documented rules; return the parsed request.

    :raises InputValidationError: naming the parameter and the rule it broke.
    """
    req = parse_request(body)
    known = (*KNOWN_METRICS, *extra_metrics)
    for metric in req.metrics:
        if metric not in known:
            raise _err(f"metrics: {metric!r} is not a known datamine metric (known: {', '.join(known)})")
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
    limit_years = ONE_LOCATION_YEARS if len(set(req.locations)) == 1 else SEVERAL_LOCATIONS_YEARS
    for i, rng in enumerate(req.date_ranges):
        start, end = resolve_range(rng, zone, now)
        if start >= end:
            raise _err(f"date_ranges[{i}]: from ({start.isoformat()}) must be before to ({end.isoformat()})")
        if end > add_months(start, 12 * limit_years):
            who = "one location" if limit_years == ONE_LOCATION_YEARS else "several locations"
            raise _err(
                f"date_ranges[{i}]: {start.date()} to {end.date()} is longer than {limit_years} years, "
                f"the limit for {who}"
            )
    return req


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
