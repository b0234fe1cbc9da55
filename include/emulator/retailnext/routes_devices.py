"""RetailNext device inventory: ``GET /v1/inventory/{cameras,channels,appliances}``, paged by
string cursor; ``cameras`` has at most ``concurrency_limit`` requests in flight.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from include.emulator.retailnext.errors import bad_request, not_found
from include.emulator.retailnext.routes_common import RnContext, cursor_page, rn_json


async def v1_inventory(ctx: RnContext, request: Request) -> Response:
    kind = request.path_params["kind"]
    if kind not in ("cameras", "channels", "appliances"):
        raise not_found(f"not found: {request.url.path}")
    store_uuid = request.query_params.get("store_uuid")
    if kind == "cameras":
        return await ctx.limited("cameras", lambda: _inventory_page(ctx, request, kind, store_uuid))
    return _inventory_page(ctx, request, kind, store_uuid)


def _inventory_page(ctx: RnContext, request: Request, kind: str, store_uuid: str | None) -> Response:
    rn = ctx.ds()
    if store_uuid is not None and store_uuid not in rn.world.stores:
        raise bad_request(f"store_uuid: store {store_uuid} not found")
    if kind == "cameras":
        page, nxt = cursor_page(request, rn.cameras(store_uuid), "device_id")
        return rn_json({"ok": True, "next_page": nxt, "cameras": page})
    if kind == "channels":
        page, nxt = cursor_page(request, rn.channels(store_uuid), "channel_uuid")
        return rn_json({"ok": True, "next_page": nxt, "channels": page})
    page, nxt = cursor_page(request, rn.appliances(store_uuid), "appliance_id")
    return rn_json({"ok": True, "next_page": nxt, "store_appliances": page})
