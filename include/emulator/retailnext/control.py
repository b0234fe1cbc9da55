"""``/_emulator/retailnext/...``: the RetailNext control API over HTTP (no auth, no faults).

Each route calls the matching :class:`~.dataset.RetailNextDataset` method; see
``docs/retailnext-emulator.md`` (Control API).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from include.emulator.control import json_body, json_error, json_response
from include.emulator.retailnext.dataset import READINGS
from include.emulator.retailnext.errors import RnError

if TYPE_CHECKING:
    from include.emulator.state import EmulatorState

PREFIX = "/_emulator/retailnext"
SETTINGS = ("completeness_lag", "service_delay", "concurrency_limit", "hls_token_ttl", "allowed_locations", "now",
            "calendar", "download_base_url", *READINGS)


def control_routes(state: EmulatorState) -> list[BaseRoute]:
    def rn():  # noqa: ANN202
        return state.retailnext

    def handle(fn: Any) -> Any:
        async def wrapped(request: Request) -> Response:
            try:
                body = await json_body(request) if request.method in ("POST", "PUT", "DELETE") else {}
                result = fn(request, body)
            except RnError as exc:
                return json_error(exc.message, exc.status)
            except KeyError as exc:
                return json_error(f"not found: {exc.args[0] if exc.args else exc}", 404)
            except (TypeError, ValueError) as exc:
                return json_error(str(exc))
            if isinstance(result, Response):
                return result
            return json_response(result)

        return wrapped

    def info(request: Request, body: Any) -> Any:
        return rn().info()

    def truth(request: Request, body: Any) -> Any:
        return rn().truth(request.path_params["name"])

    def storehours(request: Request, body: Any) -> Any:
        q = request.query_params
        return rn().storehours(q.getlist("store"), q["start"], q["end"])

    def store_day(request: Request, body: Any) -> Any:
        q = request.query_params
        return rn().store_day(q["store"], q["day"])

    def bucket(request: Request, body: Any) -> Any:
        q = request.query_params
        value, validity = rn().bucket(q["store"], q["metric"], q["start"])
        return {"value": value, "validity": validity}

    def aggregate(request: Request, body: Any) -> Any:
        q = request.query_params
        value, validity = rn().aggregate(
            q["store"], q["metric"], q["start"], q["end"], q.get("store_hours", "0") in ("1", "true")
        )
        return {"value": value, "validity": validity}

    def add_location(request: Request, body: Any) -> Any:
        return rn().add_location(**body)

    def bulk_locations(request: Request, body: Any) -> Any:
        return {"added": rn().add_locations(**body)}

    def update_location(request: Request, body: Any) -> Any:
        return rn().update_location(request.path_params["uuid"], **body)

    def archive_location(request: Request, body: Any) -> Any:
        return rn().archive_location(request.path_params["uuid"], body.get("when"))

    def add_alert(request: Request, body: Any) -> Any:
        return rn().add_alert(**body)

    def resolve_alert(request: Request, body: Any) -> Any:
        return rn().resolve_alert(request.path_params["uuid"], body.get("when"))

    def add_user(request: Request, body: Any) -> Any:
        return rn().add_user(**body)

    def validity(request: Request, body: Any) -> Any:
        if request.method == "DELETE":
            return {"cleared": rn().clear_validity(body.get("store_uuid"))}
        return rn().mark_validity(**body)

    def settings(request: Request, body: Any) -> Any:
        ds = rn()
        if request.method == "POST":
            unknown = sorted(set(body) - set(SETTINGS))
            if unknown:
                raise ValueError(f"unknown setting(s): {', '.join(unknown)} (known: {', '.join(SETTINGS)})")
            if "completeness_lag" in body:
                ds.completeness_lag = float(body["completeness_lag"])
            if "service_delay" in body:
                ds.set_service_delay(body["service_delay"])
            if "concurrency_limit" in body:
                ds.concurrency_limit = int(body["concurrency_limit"])
            if "hls_token_ttl" in body:
                ds.hls_token_ttl = float(body["hls_token_ttl"])
            if "allowed_locations" in body:
                ds.set_allowed_locations(body["allowed_locations"])
            if "now" in body:
                ds.freeze(body["now"])
            if "download_base_url" in body:
                ds.download_base_url = body["download_base_url"] or None
            if "calendar" in body:
                ds.set_calendar(**body["calendar"])
            for name in READINGS:
                if name in body:
                    ds.set_reading(name, body[name])
        return ds.settings()

    def export_behaviour(request: Request, body: Any) -> Any:
        return rn().set_export_behaviour(**body)

    def expire_export(request: Request, body: Any) -> Any:
        rn().expire_export(request.path_params["export_id"])
        return {"expired": True}

    def occupancy(request: Request, body: Any) -> Any:
        return rn().adjust_occupancy(body["store_uuid"], body["count"], body.get("when"))

    def reset(request: Request, body: Any) -> Any:
        rn().reset()
        return {"reset": True}

    return [
        Route(f"{PREFIX}/info", handle(info), methods=["GET"]),
        Route(f"{PREFIX}/truth/{{name}}", handle(truth), methods=["GET"]),
        Route(f"{PREFIX}/storehours", handle(storehours), methods=["GET"]),
        Route(f"{PREFIX}/store_day", handle(store_day), methods=["GET"]),
        Route(f"{PREFIX}/bucket", handle(bucket), methods=["GET"]),
        Route(f"{PREFIX}/aggregate", handle(aggregate), methods=["GET"]),
        Route(f"{PREFIX}/locations", handle(add_location), methods=["POST"]),
        Route(f"{PREFIX}/locations/bulk", handle(bulk_locations), methods=["POST"]),
        Route(f"{PREFIX}/locations/{{uuid}}", handle(update_location), methods=["PUT"]),
        Route(f"{PREFIX}/locations/{{uuid}}/archive", handle(archive_location), methods=["POST"]),
        Route(f"{PREFIX}/alerts", handle(add_alert), methods=["POST"]),
        Route(f"{PREFIX}/alerts/{{uuid}}/resolve", handle(resolve_alert), methods=["POST"]),
        Route(f"{PREFIX}/users", handle(add_user), methods=["POST"]),
        Route(f"{PREFIX}/validity", handle(validity), methods=["POST", "DELETE"]),
        Route(f"{PREFIX}/settings", handle(settings), methods=["GET", "POST"]),
        Route(f"{PREFIX}/exports/behaviour", handle(export_behaviour), methods=["POST"]),
        Route(f"{PREFIX}/exports/{{export_id}}/expire", handle(expire_export), methods=["POST"]),
        Route(f"{PREFIX}/occupancy", handle(occupancy), methods=["POST"]),
        Route(f"{PREFIX}/reset", handle(reset), methods=["POST"]),
    ]
