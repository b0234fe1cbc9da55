"""RetailNext store routes: ``POST /v1/storehours``, ``POST /v1/predictedtraffic`` (at most
``concurrency_limit`` in flight) and ``POST /v1/occupancy/adjust``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from include.emulator.retailnext.dataset import to_epoch_any
from include.emulator.retailnext.errors import bad_request
from include.emulator.retailnext.routes_common import RnContext, read_json, read_object, rn_json, v1_page
from include.emulator.retailnext.traffic import to_wall

MAX_STOREHOURS_DAYS = 366
PREDICTION_DAYS = 7
PREDICTION_AHEAD = 31


# -- store hours


async def v1_storehours(ctx: RnContext, request: Request) -> Response:
    body = await read_object(request)
    stores = body.get("stores")
    if isinstance(stores, str):
        stores = [stores]
    if not isinstance(stores, list) or not stores:
        raise bad_request("stores is required (a list of store uuids)")
    for i, uuid in enumerate(stores):
        if uuid not in ctx.ds().world.stores:
            raise bad_request(f"stores[{i}]: {uuid!r} is not a store")
    days = []
    for name in ("start_date", "end_date"):
        value = body.get(name)
        if value is None:
            raise bad_request(f"{name} is required (ISO 8601)")
        try:
            if not isinstance(value, str):
                raise TypeError(value)
            to_epoch_any(value)
            days.append(date.fromisoformat(value[:10]))
        except (ValueError, TypeError):
            raise bad_request(f"{name} must be an ISO 8601 date/time (got {value!r})") from None
    first, last = days
    if last < first:
        raise bad_request("end_date must not be before start_date")
    if (last - first).days + 1 > MAX_STOREHOURS_DAYS:
        raise bad_request(f"the range from start_date to end_date is limited to {MAX_STOREHOURS_DAYS} days")
    entries = ctx.ds().storehours(stores, first, last)
    return v1_page(request, entries, _storehours_result)


def _storehours_result(page: list[dict[str, str]]) -> dict[str, Any]:
    """One page of store hours as ``{"result": {store uuid: {day: entry}}}``."""
    result: dict[str, dict[str, Any]] = {}
    for entry in page:
        result.setdefault(entry["store_uuid"], {})[entry["effective_day"]] = entry
    return {"result": result}


# -- predicted traffic (3 concurrent)


async def v1_predictedtraffic(ctx: RnContext, request: Request) -> Response:
    body = await read_json(request)
    return await ctx.limited("predictedtraffic", lambda: _predictions(ctx, body))


def _predictions(ctx: RnContext, body: Any) -> Response:
    """The predicted traffic response (runs inside the concurrency limit)."""
    rn = ctx.ds()
    if not isinstance(body, dict):
        raise bad_request("body must be a JSON object")
    store = rn.world.stores.get(body.get("store_uuid")) if isinstance(body.get("store_uuid"), str) else None
    if store is None:
        raise bad_request(f"store_uuid: {body.get('store_uuid')!r} is not a store")
    days = []
    for name in ("first_day", "last_day"):
        value = body.get(name)
        try:
            days.append(date.fromisoformat(value))
        except (TypeError, ValueError):
            raise bad_request(f"{name} is required as yyyy-mm-dd (got {value!r})") from None
    first, last = days
    today = to_wall(rn.now_epoch(), store.tz).date()
    if first <= today:
        raise bad_request(f"first_day must be in the future (after {today.isoformat()} in the store's time zone)")
    if last < first:
        raise bad_request("last_day must not be before first_day")
    if (last - first).days + 1 > PREDICTION_DAYS:
        raise bad_request(f"at most {PREDICTION_DAYS} days can be requested per query")
    if last > today + timedelta(days=PREDICTION_AHEAD):
        raise bad_request(
            f"predicted traffic is available up to {PREDICTION_AHEAD} days ahead "
            f"(last_day must be <= {(today + timedelta(days=PREDICTION_AHEAD)).isoformat()})"
        )
    predictions = []
    d = first
    while d <= last:
        predictions.extend(rn.predicted(store.uuid, d))
        d += timedelta(days=1)
    return rn_json({"ok": True, "error": "", "predictions": predictions})


# -- occupancy


async def v1_occupancy_adjust(ctx: RnContext, request: Request) -> Response:
    body = await read_object(request)
    if "store_uuid" not in body:
        raise bad_request("store_uuid is required")
    if "adjustment_count" not in body:
        raise bad_request("adjustment_count is required (a non-zero integer)")
    field = ctx.ds().readings["adjustment_time_field"]
    names = ("adjustment_time", "adjustment_date") if field == "either" else (field,)
    # a single-field reading ignores the other name, as an API that does not know it would
    given = [(n, body[n]) for n in names if body.get(n) is not None]
    if len({v for _, v in given}) > 1:
        raise bad_request("adjustment_time and adjustment_date disagree: give one time")
    when = given[0][1] if given else None
    if when is not None and not isinstance(when, str):
        raise bad_request(f"{given[0][0]} must be an ISO 8601 date/time (got {when!r})")
    return rn_json(ctx.ds().adjust_occupancy(body["store_uuid"], body["adjustment_count"], when))
