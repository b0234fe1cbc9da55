"""Vendor independent control routes under ``/_emulator`` (no authentication, no faults)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from include.emulator.clock import us_to_datetime

if TYPE_CHECKING:
    from include.emulator.state import EmulatorState


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data, default=str), status_code=status, media_type="application/json")


def json_error(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)


async def json_body(request: Request) -> Any:
    """The request's JSON body (``{}`` when empty).

    :raises ValueError: when the body is not JSON.
    """
    body = await request.body()
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"body is not JSON: {exc}") from None


FAULT_FIELDS = ("kind", "path", "times", "after", "status", "retry_after", "delay", "method")


def control_routes(state: EmulatorState) -> list[BaseRoute]:
    """``/_emulator/health``, ``/_emulator/faults`` and ``/_emulator/requests``."""

    async def health(request: Request) -> Response:
        return json_response({"status": "ok", "now": us_to_datetime(state.clock.now()).isoformat()})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.faults.clear()
            return json_response({"cleared": True})
        if request.method == "POST":
            try:
                body = await json_body(request)
                specs = body if isinstance(body, list) else [body]
                added = []
                for spec in specs:
                    unknown = sorted(set(spec) - set(FAULT_FIELDS))
                    if unknown:
                        raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
                    added.append(state.faults.add(**spec).to_dict())
            except (TypeError, ValueError) as exc:
                return json_error(str(exc))
            return json_response(added if isinstance(body, list) else added[0], 201)
        return json_response([r.to_dict() for r in state.faults.rules()])

    async def fault(request: Request) -> Response:
        removed = state.faults.remove(int(request.path_params["rule_id"]))
        return json_response({"removed": removed}, 200 if removed else 404)

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            state.requests.clear()
            return json_response({"cleared": True})
        path = request.query_params.get("path")
        return json_response([r.to_dict() for r in state.requests.records(path)])

    return [
        Route("/_emulator/health", health, methods=["GET"]),
        Route("/_emulator/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_emulator/faults/{rule_id:int}", fault, methods=["DELETE"]),
        Route("/_emulator/requests", requests, methods=["GET", "DELETE"]),
    ]
