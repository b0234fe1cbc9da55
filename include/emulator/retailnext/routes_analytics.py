"""RetailNext analytics routes: ``POST /v2/datamine``, ``POST /v1/zone_transitions``,
``POST /v1/healthalerts`` and the floorplans (``/v1/fpafloorplans``, by id, by store).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from include.emulator.retailnext.datamine import datamine
from include.emulator.retailnext.dataset import to_epoch_any
from include.emulator.retailnext.errors import bad_request, not_found
from include.emulator.retailnext.routes_common import RnContext, read_json, read_object, rn_json, v1_page
from include.emulator.retailnext.zones import zone_transitions

# -- datamine, zone transitions


async def v2_datamine(ctx: RnContext, request: Request) -> Response:
    body = await read_json(request)
    result = await run_in_threadpool(datamine, ctx.ds(), body)
    return rn_json(result)


async def v1_zone_transitions(ctx: RnContext, request: Request) -> Response:
    body = await read_json(request)
    return rn_json(await run_in_threadpool(zone_transitions, ctx.ds(), body))


# -- health alerts


async def v1_healthalerts(ctx: RnContext, request: Request) -> Response:
    body = await read_object(request, default={})
    start = body.get("start_time")
    if start is not None:
        try:
            if not isinstance(start, str):
                raise TypeError(start)
            to_epoch_any(start)
        except (ValueError, TypeError):
            raise bad_request(f"start_time must be an ISO 8601 date/time (got {start!r})") from None
    return v1_page(request, ctx.ds().alerts(start), lambda page: {"result": page})


# -- floorplans


async def v1_floorplans(ctx: RnContext, request: Request) -> Response:
    return v1_page(request, ctx.ds().floorplans(), lambda page: page)


async def v1_floorplan(ctx: RnContext, request: Request) -> Response:
    fid = request.path_params["floorplan_id"]
    rows = [p for p in ctx.ds().floorplans() if p["id"] == fid]
    if not rows:
        raise not_found(f"floorplan {fid} not found")
    return v1_page(request, rows, lambda page: page)


async def v1_store_floorplans(ctx: RnContext, request: Request) -> Response:
    store_uuid = request.path_params["store_uuid"]
    if store_uuid not in ctx.ds().world.stores:
        raise not_found(f"store {store_uuid} not found")
    return v1_page(request, ctx.ds().floorplans(store_uuid), lambda page: page)
