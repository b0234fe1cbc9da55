"""RetailNext location routes: ``GET /v1/location``, ``POST /v2/location``,
``POST /v2/location/create`` and ``PUT /v2/location/{uuid}``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from include.emulator.retailnext.errors import bad_request, not_found
from include.emulator.retailnext.routes_common import RnContext, read_object, rn_json, v1_page
from include.emulator.retailnext.world import LOCATION_TYPES, STORE_EXTRA_FIELDS

MAX_V2 = 10_000


async def v1_location(ctx: RnContext, request: Request) -> Response:
    return v1_page(request, ctx.ds().v1_locations(), lambda page: {"locations": page})


async def v2_location(ctx: RnContext, request: Request) -> Response:
    body = await read_object(request, default={})
    unknown = sorted(set(body) - {"extra_fields", "where"})
    if unknown:
        raise bad_request(f"unknown parameter(s): {', '.join(unknown)}")
    names = _extra_fields(body.get("extra_fields") or [])
    conds = _conditions(body.get("where"))
    nodes = ctx.ds().nodes(tuple(dict.fromkeys(names)))
    for kind, values in conds:
        if kind == "location_types":
            nodes = [n for n in nodes if n["location_type"] in values]
        else:
            nodes = [n for n in nodes if n["uuid"] in values]
    return rn_json({"nodes": [nodes[:MAX_V2]]})


def _extra_fields(extra: Any) -> list[str]:
    """``extra_fields`` of ``/v2/location`` (``store.<field>``) as store field names."""
    if not isinstance(extra, list):
        raise bad_request("extra_fields must be a list")
    names = []
    for i, field in enumerate(extra):
        if not isinstance(field, str) or not field.startswith("store.") or field[6:] not in STORE_EXTRA_FIELDS:
            raise bad_request(
                f"extra_fields[{i}]: unknown extra field {field!r} (supported: "
                + ", ".join(f"store.{f}" for f in STORE_EXTRA_FIELDS)
                + ")"
            )
        names.append(field[6:])
    return names


def _conditions(where: Any) -> list[tuple[str, set[str]]]:
    """``where`` of ``/v2/location`` as a list of (kind, values) conditions (all must hold)."""
    if where is None:
        return []
    if not isinstance(where, dict):
        raise bad_request("where must be an object")
    if "and" in where:
        if set(where) != {"and"} or not isinstance(where["and"], list):
            raise bad_request('where: "and" must be the only key and hold a list of conditions')
        out: list[tuple[str, set[str]]] = []
        for cond in where["and"]:
            out.extend(_conditions(cond))
        return out
    out = []
    for key, values in where.items():
        if key not in ("location_types", "uuids"):
            raise bad_request(f"where: unknown condition {key!r} (supported: and, location_types, uuids)")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise bad_request(f"where.{key} must be a list of strings")
        if key == "location_types":
            bad = [v for v in values if v not in LOCATION_TYPES]
            if bad:
                raise bad_request(
                    f"where.location_types: unknown location type(s) {', '.join(bad)} "
                    f"(supported: {', '.join(LOCATION_TYPES)})"
                )
        out.append((key, set(values)))
    return out


async def v2_location_create(ctx: RnContext, request: Request) -> Response:
    body = await read_object(request)
    if "parent_UUID" in body and "parent_uuid" not in body:
        body["parent_uuid"] = body.pop("parent_UUID")
    allowed = {"name", "parent_uuid", "location_type", "area", "aggregate_to_parent", "aggregate_to_store"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad_request(f"unknown parameter(s): {', '.join(unknown)}")
    for required in ("name", "parent_uuid", "location_type"):
        if body.get(required) in (None, ""):
            raise bad_request(f"{required} is required")
    return rn_json(
        ctx.ds().add_location(
            body["parent_uuid"],
            body["location_type"],
            name=body["name"],
            area=body.get("area"),
            aggregate_to_parent=body.get("aggregate_to_parent"),
            aggregate_to_store=body.get("aggregate_to_store"),
        )
    )


async def v2_location_update(ctx: RnContext, request: Request) -> Response:
    uuid = request.path_params["uuid"]
    if uuid not in ctx.ds().world.locations:
        raise not_found(f"location {uuid} not found")
    body = await read_object(request)
    return rn_json(ctx.ds().update_location(uuid, **body))
