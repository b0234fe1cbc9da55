"""HTTP routes of the RetailNext emulator: ``/v1/...`` and ``/v2/...``.

Every route needs HTTP Basic (access key, secret key) except the HLS playlist (its token)
and the video download URL (its signature).  Errors are ``{"ok": false, "error": ...}``.

The handlers live one module per resource (``routes_locations``, ``routes_users``,
``routes_stores``, ``routes_analytics``, ``routes_devices``, ``routes_video``) on the
plumbing of ``routes_common``; :func:`api_routes` assembles them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

from include.emulator.retailnext import (
    routes_analytics,
    routes_devices,
    routes_locations,
    routes_stores,
    routes_users,
    routes_video,
)
from include.emulator.retailnext.routes_common import RnContext, rn_json

if TYPE_CHECKING:
    from include.emulator.state import EmulatorState


def api_routes(state: EmulatorState) -> list[BaseRoute]:
    """Every RetailNext API route, then a 405/404 fallback for the rest of ``/v1`` and ``/v2``."""
    ctx = RnContext(state)
    ep = ctx.endpoint
    loc, users, stores = routes_locations, routes_users, routes_stores
    ana, dev, video = routes_analytics, routes_devices, routes_video
    routes: list[Route] = [
        Route("/v1/location", ep(loc.v1_location), methods=["GET"]),
        Route("/v1/users", ep(users.v1_users), methods=["GET", "POST"]),
        Route("/v1/users/{user_id}", ep(users.v1_user_update), methods=["PUT"]),
        Route("/v1/user_profiles", ep(users.user_profiles), methods=["GET"]),
        Route("/v1/user_profiles/{profile_id}", ep(users.user_profile), methods=["GET"]),
        Route("/v1/location_profiles", ep(users.location_profiles), methods=["GET"]),
        Route("/v1/location_profiles/{profile_id}", ep(users.location_profile), methods=["GET"]),
        Route("/v1/healthalerts", ep(ana.v1_healthalerts), methods=["POST"]),
        Route("/v1/fpafloorplans", ep(ana.v1_floorplans), methods=["GET"]),
        Route("/v1/fpafloorplans/{floorplan_id}", ep(ana.v1_floorplan), methods=["GET"]),
        Route("/v1/stores/{store_uuid}/fpafloorplans", ep(ana.v1_store_floorplans), methods=["GET"]),
        Route("/v1/storehours", ep(stores.v1_storehours), methods=["POST"]),
        Route("/v1/predictedtraffic", ep(stores.v1_predictedtraffic), methods=["POST"]),
        Route("/v1/zone_transitions", ep(ana.v1_zone_transitions), methods=["POST"]),
        Route("/v1/occupancy/adjust", ep(stores.v1_occupancy_adjust), methods=["POST"]),
        Route("/v1/inventory/{kind}", ep(dev.v1_inventory), methods=["GET"]),
        Route("/v1/hlsapitoken", ep(video.v1_hlsapitoken), methods=["POST"]),
        Route("/v1/hls/{channel}.m3u8", ep(video.v1_hls_playlist, auth=False), methods=["GET"]),
        Route("/v1/hls/{channel}/{seq}.ts", ep(video.v1_hls_segment, auth=False), methods=["GET"]),
        Route("/v1/video/export/start", ep(video.v1_export_start), methods=["POST"]),
        Route("/v1/video/export/task/{export_id}", ep(video.v1_export_task), methods=["GET", "DELETE"]),
        Route("/v1/video/export/download/{export_id}", ep(video.v1_export_download, auth=False), methods=["GET"]),
        Route("/v2/location", ep(loc.v2_location), methods=["POST"]),
        Route("/v2/location/create", ep(loc.v2_location_create), methods=["POST"]),
        Route("/v2/location/{uuid}", ep(loc.v2_location_update), methods=["PUT"]),
        Route("/v2/datamine", ep(ana.v2_datamine), methods=["POST"]),
    ]
    fallback = _fallback(ctx, routes)
    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    return [
        *routes,
        Route("/v1/{rest:path}", fallback, methods=methods),
        Route("/v2/{rest:path}", fallback, methods=methods),
    ]


def _fallback(ctx: RnContext, routes: list[Route]) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of unrouted requests: 401 first, then 405 on a known path, else 404."""

    async def fallback(request: Request) -> Response:
        refused = ctx.refuse(request)
        if refused is not None:
            return refused
        for route in routes:
            match, _ = route.matches({**request.scope, "method": "__none__"})
            if match != Match.NONE:
                return rn_json(
                    {"ok": False, "error": f"method {request.method} not allowed on {request.url.path}"}, 405
                )
        return rn_json({"ok": False, "error": f"not found: {request.url.path}"}, 404)

    return fallback
