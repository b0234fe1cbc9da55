"""HTTP routes of the OCDS emulator: the 23 v2 endpoints, the metadata catalog, the OAuth2
token endpoint and the ``/_emulator/ocds`` control API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from include.emulator.auth import decode_basic, parse_form, split_authorization
from include.emulator.control import json_body, json_error, json_response
from include.emulator.ocds import cursor
from include.emulator.ocds.encode import envelope
from include.emulator.ocds.endpoints import BY_PATH, Endpoint
from include.emulator.ocds.errors import BadRequest, NotFound, OcdsError, Unauthorized
from include.emulator.ocds.params import lower_keys, parse_filters, parse_limit, parse_window

if TYPE_CHECKING:
    from include.emulator.state import EmulatorState

API_PREFIX = "/ords/ocds/omnichannel/v2"
CATALOG_PREFIX = "/ords/ocds/omnichannel/metadata-catalog/v2"
TOKEN_PATH = "/ords/ocds/oauth/token"


def error_response(exc: OcdsError, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(exc.body()), status_code=exc.status, media_type="application/json", headers=headers
    )


def build_page(state: EmulatorState, spec: Endpoint, path: str, request: Request) -> bytes:
    """The JSON envelope of one page (runs in a worker thread: rows are computed here).

    The rows come pre-encoded (:meth:`OcdsDataset.page_json`) and are glued into the
    envelope as text: the body is byte for byte ``orjson.dumps`` of the envelope of dicts.
    """
    ds = state.ocds
    params = lower_keys(request.query_params.multi_items())
    limit_param = params.get("limit")
    offsetkey = params.get("offsetkey")
    if offsetkey:
        payload = cursor.decode(ds.secret, offsetkey)
        if payload.get("e") != spec.name:
            raise BadRequest(f"Parameter 'offsetkey' was generated for another resource, not v2/{path}")
        flt = parse_filters(ds.world, spec, payload.get("f") or {}, require=False)
        limit = parse_limit(limit_param, ds.readings.max_limit) if limit_param not in (None, "") else int(payload["l"])
        since, before = payload.get("s"), payload.get("b")
        last_key = tuple(payload["k"]) if payload.get("k") is not None else None
        start_pos = int(payload.get("p") or 0)
    else:
        flt = parse_filters(ds.world, spec, params, require=True)
        limit = parse_limit(limit_param, ds.readings.max_limit)
        since, before = parse_window(params, state.clock.now()) if spec.windowed else (None, None)
        last_key, start_pos = None, 0
    if spec.windowed and since >= before:  # type: ignore[operator]
        parts: list[bytes] = []
        count, has_more = 0, False
    else:
        page = ds.page_json(spec.name, flt, limit, since or 0, before, last_key, start_pos)
        parts, count, has_more = page.parts, page.count, page.has_more
    origin = f"{request.url.scheme}://{request.url.netloc}"
    links = [
        {"rel": "self", "href": str(request.url)},
        {"rel": "describedBy", "href": f"{origin}{CATALOG_PREFIX}/{path}"},
    ]
    if has_more:
        key = cursor.encode(
            ds.secret,
            {
                "e": spec.name,
                "s": since,
                "b": before,
                "f": flt.params,
                "l": limit,
                "k": list(page.last_key or ()),
                "p": page.next_pos,
            },
        )
        links.append({"rel": "next", "href": f"{origin}{API_PREFIX}/{path}?limit={limit}&offsetkey={key}"})
    count += ds.readings.count_skew  # the reference's own examples show counts that disagree
    return envelope(parts, {"hasMore": has_more, "limit": limit, "count": count, "links": links})


def _authenticate(state: EmulatorState, request: Request) -> Response | None:
    """``None`` when the request carries valid credentials, else the 401 response."""
    auth = state.ocds_auth
    result = auth.check(request.headers.get("authorization"))
    request.scope.setdefault("emulator", {})["auth"] = result.kind
    if result.ok:
        return None
    reasons = {
        "missing": "Authentication is required (HTTP Basic or an OAuth2 bearer token)",
        "expired": "The access token expired",
        "invalid": "The credentials are not valid",
        "unsupported": "Unsupported authorization scheme: use Basic or Bearer",
    }
    return error_response(
        Unauthorized(reasons.get(result.reason, "Unauthorized")), {"WWW-Authenticate": auth.challenge(result)}
    )


def api_routes(state: EmulatorState) -> list[BaseRoute]:
    """The OCDS REST API: ``/ords/ocds/omnichannel/v2/<path>``, metadata catalog, token."""

    async def api(request: Request) -> Response:
        refused = _authenticate(state, request)
        if refused is not None:
            return refused
        path = request.path_params["path"].strip("/")
        spec = BY_PATH.get(path)
        if spec is None:
            return error_response(
                NotFound(f"The request could not be mapped to any database object: v2/{path}")
            )
        try:
            body = await run_in_threadpool(build_page, state, spec, path, request)
        except OcdsError as exc:
            return error_response(exc)
        return Response(body, media_type="application/json")

    async def catalog(request: Request) -> Response:
        refused = _authenticate(state, request)
        if refused is not None:
            return refused
        path = request.path_params["path"].strip("/")
        spec = BY_PATH.get(path)
        if spec is None:
            return error_response(NotFound(f"No metadata for v2/{path}"))
        sample = state.ocds.page(spec.name, state.ocds.filters(spec.name), 1).items
        origin = f"{request.url.scheme}://{request.url.netloc}"
        members = [
            {"name": name, "type": _json_type(value)} for name, value in (sample[0] if sample else {}).items()
        ]
        return json_response(
            {
                "name": spec.path,
                "primarykey": list(spec.key),
                "members": members,
                "links": [
                    {"rel": "describes", "href": f"{origin}{API_PREFIX}/{path}"},
                    {"rel": "canonical", "href": str(request.url)},
                ],
            }
        )

    async def token(request: Request) -> Response:
        issuer = state.ocds_tokens
        form = parse_form(await request.body())
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, value = split_authorization(request.headers.get("authorization"))
        request.scope.setdefault("emulator", {})["auth"] = scheme or ("form" if client_id else None)
        if scheme == "basic":
            pair = decode_basic(value)
            client_id, client_secret = pair if pair else (None, None)
        if not issuer.client_ok(client_id, client_secret):
            return Response(
                orjson.dumps(
                    {"error": "invalid_client", "error_description": "Client authentication failed"}
                ),
                status_code=401,
                media_type="application/json",
                headers={"WWW-Authenticate": 'Basic realm="ocds"'},
            )
        grant = form.get("grant_type")
        if not grant:
            return json_response(
                {"error": "invalid_request", "error_description": "grant_type is required"}, 400
            )
        if grant != "client_credentials":
            return json_response(
                {
                    "error": "unsupported_grant_type",
                    "error_description": f"grant_type {grant!r} is not supported",
                },
                400,
            )
        access_token, ttl = issuer.issue()
        return Response(
            orjson.dumps(
                {
                    "access_token": access_token,
                    "token_type": "bearer",
                    "expires_in": int(ttl) if float(ttl).is_integer() else ttl,
                }
            ),
            media_type="application/json",
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    return [
        Route(API_PREFIX + "/{path:path}", api, methods=["GET"]),
        Route(CATALOG_PREFIX + "/{path:path}", catalog, methods=["GET"]),
        Route(TOKEN_PATH, token, methods=["POST"]),
    ]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, dict)):
        return "array" if isinstance(value, list) else "object"
    return "string"


def control_routes(state: EmulatorState) -> list[BaseRoute]:
    """``/_emulator/ocds/...``: truth, mutate, reload, reset, now, info, log, token settings, readings."""
    ds = state.ocds

    async def truth(request: Request) -> Response:
        try:
            rows = await run_in_threadpool(
                ds.truth, request.path_params["name"], **dict(request.query_params)
            )
        except (ValueError, OcdsError) as exc:
            return json_error(getattr(exc, "message", str(exc)))
        return json_response(rows)

    async def mutate(request: Request) -> Response:
        try:
            body = await json_body(request)
            name = body.pop("endpoint", None) or body.pop("name", None)
            if not name:
                raise ValueError("body must name the 'endpoint'")
            result = ds.mutate(name, **body)
        except (TypeError, ValueError) as exc:
            return json_error(str(exc))
        return json_response(result)

    async def reload(request: Request) -> Response:
        try:
            body = await json_body(request)
            result = ds.bulk_reload(body["entity"], int(body.get("drop", 0)))
        except KeyError:
            return json_error("body must name the 'entity'")
        except (TypeError, ValueError) as exc:
            return json_error(str(exc))
        return json_response(result)

    async def reset(request: Request) -> Response:
        ds.reset()
        return json_response({"reset": True})

    async def now(request: Request) -> Response:
        return json_response({"now": ds.now().isoformat()})

    async def info(request: Request) -> Response:
        return json_response(ds.info())

    async def log(request: Request) -> Response:
        try:
            body = await json_body(request)
            row = ds.log(
                str(body["message"]), str(body.get("severity", "INFO")).upper(), body.get("supplemental")
            )
        except (KeyError, TypeError, ValueError) as exc:
            return json_error(f"body must carry a 'message': {exc}")
        return json_response(row)

    async def readings(request: Request) -> Response:
        if request.method == "GET":
            return json_response(ds.readings.as_dict())
        try:
            body = await json_body(request)
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object of readings")
            return json_response(ds.set_readings(**body))
        except (TypeError, ValueError) as exc:
            return json_error(str(exc))

    async def tokens(request: Request) -> Response:
        issuer = state.ocds_tokens
        try:
            body = await json_body(request)
        except ValueError as exc:
            return json_error(str(exc))
        if "ttl" in body:
            issuer.ttl = float(body["ttl"])
        expired = issuer.expire_all() if body.get("expire") else 0
        return json_response({"ttl": issuer.ttl, "expired": expired})

    return [
        Route("/_emulator/ocds/truth/{name:path}", truth, methods=["GET"]),
        Route("/_emulator/ocds/mutate", mutate, methods=["POST"]),
        Route("/_emulator/ocds/reload", reload, methods=["POST"]),
        Route("/_emulator/ocds/reset", reset, methods=["POST"]),
        Route("/_emulator/ocds/now", now, methods=["GET"]),
        Route("/_emulator/ocds/info", info, methods=["GET"]),
        Route("/_emulator/ocds/log", log, methods=["POST"]),
        Route("/_emulator/ocds/tokens", tokens, methods=["POST"]),
        Route("/_emulator/ocds/readings", readings, methods=["GET", "POST"]),
    ]


def routes(state: EmulatorState) -> list[BaseRoute]:
    """Every OCDS route (the vendor's entry point for :func:`include.emulator.app.build_app`)."""
    return [*api_routes(state), *control_routes(state)]
