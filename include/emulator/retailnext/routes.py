"""HTTP routes of the RetailNext emulator: ``/v1/...`` and ``/v2/...``.

Every route needs HTTP Basic (access key, secret key) except the HLS playlist (its token)
and the video download URL (its signature).  Errors are ``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

from include.emulator.retailnext.datamine import datamine
from include.emulator.retailnext.dataset import Export, ExportBehaviour, to_epoch_any
from include.emulator.retailnext.errors import RnError, bad_request, not_found
from include.emulator.retailnext.traffic import to_wall
from include.emulator.retailnext.world import LOCATION_TYPES, STORE_EXTRA_FIELDS
from include.emulator.retailnext.zones import zone_transitions

if TYPE_CHECKING:
    from include.emulator.retailnext.dataset import RetailNextDataset
    from include.emulator.state import EmulatorState

log = logging.getLogger(__name__)

MAX_PAGE = 100
MAX_V2 = 10_000
MAX_STOREHOURS_DAYS = 366
PREDICTION_DAYS = 7
PREDICTION_AHEAD = 31
MAX_EXPORT_CHANNELS = 16


def rn_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


def rn_error(exc: RnError) -> Response:
    return rn_json(exc.body(), exc.status, exc.headers or None)


async def read_json(request: Request, default: Any = None) -> Any:
    body = await request.body()
    if not body.strip():
        if default is not None:
            return default
        raise bad_request("body is required (JSON)")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_request("body is not valid JSON") from None


# ---------------------------------------------------------------------------- paging


def _page_length(request: Request) -> int:
    raw = request.headers.get("x-page-length")
    if raw is None or raw.strip() == "":
        return MAX_PAGE
    try:
        value = int(raw.strip())
    except ValueError:
        raise bad_request(f"X-Page-Length must be a positive integer (got {raw!r})") from None
    if value < 1:
        raise bad_request(f"X-Page-Length must be a positive integer (got {raw!r})")
    return min(value, MAX_PAGE)


def _page_start(request: Request) -> int:
    raw = request.headers.get("x-page-start")
    if raw is None or raw.strip() == "":
        return 0
    try:
        value = int(raw.strip())
    except ValueError:
        raise bad_request(f"X-Page-Start must be a non-negative integer offset (got {raw!r})") from None
    if value < 0:
        raise bad_request(f"X-Page-Start must be a non-negative integer offset (got {raw!r})")
    return value


def v1_page(request: Request, entries: list[Any], wrap: Callable[[list[Any]], Any]) -> Response:
    """One v1 page: 206 + ``X-Page-Next`` while entries remain, else 200."""
    length = _page_length(request)
    start = _page_start(request)
    page = entries[start : start + length]
    if start + length < len(entries):
        return rn_json(wrap(page), 206, {"X-Page-Next": str(start + length)})
    return rn_json(wrap(page), 200)


def cursor_page(request: Request, entries: list[dict[str, Any]], key: str) -> tuple[list[dict[str, Any]], str]:
    """One inventory page: entries from the cursor in ``X-Page-Start`` and the next cursor."""
    length = _page_length(request)
    cursor = (request.headers.get("x-page-start") or "").strip()
    start = 0
    if cursor:
        positions = [i for i, e in enumerate(entries) if e[key] == cursor]
        if not positions:
            raise bad_request(f"X-Page-Start: unknown page cursor {cursor!r}")
        start = positions[0]
    page = entries[start : start + length]
    nxt = entries[start + length][key] if start + length < len(entries) else "end"
    return page, nxt


# ---------------------------------------------------------------------------- routes


def api_routes(state: EmulatorState) -> list[BaseRoute]:  # noqa: C901 - one closure per endpoint
    def ds() -> RetailNextDataset:
        return state.retailnext

    def refuse(request: Request) -> Response | None:
        result = state.retailnext_auth.check(request.headers.get("authorization"))
        request.scope.setdefault("emulator", {})["auth"] = result.kind
        if result.ok:
            return None
        return rn_json({"ok": False, "error": "unauthorized"}, 401, {"WWW-Authenticate": 'Basic realm="retailnext"'})

    def endpoint(handler: Callable[[Request], Any], auth: bool = True) -> Callable[[Request], Any]:
        async def wrapped(request: Request) -> Response:
            if auth:
                refused = refuse(request)
                if refused is not None:
                    return refused
            try:
                return await handler(request)
            except RnError as exc:
                return rn_error(exc)
            except Exception as exc:  # an emulator bug: say so in JSON instead of dropping the connection
                log.exception("RetailNext emulator error on %s %s", request.method, request.url.path)
                return rn_json({"ok": False, "error": f"emulator error: {type(exc).__name__}: {exc}"}, 500)

        return wrapped

    async def limited(name: str, work: Callable[[], Response]) -> Response:
        rn = ds()
        if rn.inflight.get(name, 0) >= rn.concurrency_limit:
            return rn_json(
                {
                    "ok": False,
                    "error": f"too many concurrent requests: at most {rn.concurrency_limit} {name} "
                    "requests per subscription",
                },
                429,
                {"Retry-After": "1"},
            )
        rn.inflight[name] = rn.inflight.get(name, 0) + 1
        try:
            await asyncio.sleep(rn.service_delay)
            return work()
        finally:
            rn.inflight[name] -= 1

    # -- locations

    async def v1_location(request: Request) -> Response:
        return v1_page(request, ds().locations(), lambda page: {"locations": page})

    async def v2_location(request: Request) -> Response:
        body = await read_json(request, default={})
        if not isinstance(body, dict):
            raise bad_request("body must be a JSON object")
        unknown = sorted(set(body) - {"extra_fields", "where"})
        if unknown:
            raise bad_request(f"unknown parameter(s): {', '.join(unknown)}")
        extra = body.get("extra_fields") or []
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
        conds = _conditions(body.get("where"))
        nodes = ds().nodes(tuple(dict.fromkeys(names)))
        for kind, values in conds:
            if kind == "location_types":
                nodes = [n for n in nodes if n["location_type"] in values]
            else:
                nodes = [n for n in nodes if n["uuid"] in values]
        return rn_json({"nodes": [nodes[:MAX_V2]]})

    async def v2_location_create(request: Request) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise bad_request("body must be a JSON object")
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
            ds().add_location(
                body["parent_uuid"],
                body["location_type"],
                name=body["name"],
                area=body.get("area"),
                aggregate_to_parent=body.get("aggregate_to_parent"),
                aggregate_to_store=body.get("aggregate_to_store"),
            )
        )

    async def v2_location_update(request: Request) -> Response:
        uuid = request.path_params["uuid"]
        if uuid not in ds().world.locations:
            raise not_found(f"location {uuid} not found")
        body = await read_json(request)
        if not isinstance(body, dict):
            raise bad_request("body must be a JSON object")
        return rn_json(ds().update_location(uuid, **body))

    # -- users and profiles

    async def v1_users(request: Request) -> Response:
        if request.method == "POST":
            body = await read_json(request)
            return rn_json({"user": ds().create_user(body)})
        users = ds().users()
        utype = request.query_params.get("type")
        if utype is not None:
            if utype.lower() not in ("local", "sso"):
                raise bad_request(f"type must be local or SSO (got {utype!r})")
            users = [u for u in users if u["type"] == utype.lower()]
        email = request.query_params.get("email")
        if email is not None:
            users = [u for u in users if u["email"] == email]
        return v1_page(request, users, lambda page: {"users": page})

    async def v1_user_update(request: Request) -> Response:
        body = await read_json(request)
        return rn_json({"user": ds().update_user(request.path_params["user_id"], body)})

    def profiles(key: str, getter: Callable[[], list[dict[str, Any]]], label: str) -> tuple[Any, Any]:
        async def listing(request: Request) -> Response:
            return v1_page(request, getter(), lambda page: {key: page})

        async def one(request: Request) -> Response:
            pid = request.path_params["profile_id"]
            rows = [p for p in getter() if p["id"] == pid]
            if not rows:
                raise not_found(f"{label} {pid} not found")
            return v1_page(request, rows, lambda page: {key: page})

        return listing, one

    user_profiles, user_profile = profiles("user_profiles", lambda: ds().user_profiles(), "user profile")
    location_profiles, location_profile = profiles(
        "location_profiles", lambda: ds().location_profiles(), "location profile"
    )

    # -- health alerts, floorplans

    async def v1_healthalerts(request: Request) -> Response:
        body = await read_json(request, default={})
        if not isinstance(body, dict):
            raise bad_request("body must be a JSON object")
        start = body.get("start_time")
        if start is not None:
            try:
                if not isinstance(start, str):
                    raise TypeError(start)
                to_epoch_any(start)
            except (ValueError, TypeError):
                raise bad_request(f"start_time must be an ISO 8601 date/time (got {start!r})") from None
        return v1_page(request, ds().alerts(start), lambda page: {"result": page})

    async def v1_floorplans(request: Request) -> Response:
        return v1_page(request, ds().floorplans(), lambda page: page)

    async def v1_floorplan(request: Request) -> Response:
        fid = request.path_params["floorplan_id"]
        rows = [p for p in ds().floorplans() if p["id"] == fid]
        if not rows:
            raise not_found(f"floorplan {fid} not found")
        return v1_page(request, rows, lambda page: page)

    async def v1_store_floorplans(request: Request) -> Response:
        store_uuid = request.path_params["store_uuid"]
        if store_uuid not in ds().world.stores:
            raise not_found(f"store {store_uuid} not found")
        return v1_page(request, ds().floorplans(store_uuid), lambda page: page)

    # -- store hours

    async def v1_storehours(request: Request) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise bad_request("body must be a JSON object")
        stores = body.get("stores")
        if isinstance(stores, str):
            stores = [stores]
        if not isinstance(stores, list) or not stores:
            raise bad_request("stores is required (a list of store uuids)")
        for i, uuid in enumerate(stores):
            if uuid not in ds().world.stores:
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
        entries = ds().storehours(stores, first, last)

        def wrap(page: list[dict[str, str]]) -> dict[str, Any]:
            result: dict[str, dict[str, Any]] = {}
            for entry in page:
                result.setdefault(entry["store_uuid"], {})[entry["effective_day"]] = entry
            return {"result": result}

        return v1_page(request, entries, wrap)

    # -- predicted traffic (3 concurrent)

    async def v1_predictedtraffic(request: Request) -> Response:
        body = await read_json(request)

        def work() -> Response:
            rn = ds()
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
                raise bad_request(
                    f"first_day must be in the future (after {today.isoformat()} in the store's time zone)"
                )
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

        return await limited("predictedtraffic", work)

    # -- inventory

    async def v1_inventory(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in ("cameras", "channels", "appliances"):
            raise not_found(f"not found: {request.url.path}")
        store_uuid = request.query_params.get("store_uuid")

        def work() -> Response:
            rn = ds()
            if store_uuid is not None and store_uuid not in rn.world.stores:
                raise not_found(f"store_uuid {store_uuid} not found")
            if kind == "cameras":
                page, nxt = cursor_page(request, rn.cameras(store_uuid), "device_id")
                return rn_json({"ok": True, "next_page": nxt, "cameras": page})
            if kind == "channels":
                page, nxt = cursor_page(request, rn.channels(store_uuid), "channel_uuid")
                return rn_json({"ok": True, "next_page": nxt, "channels": page})
            page, nxt = cursor_page(request, rn.appliances(store_uuid), "appliance_id")
            return rn_json({"ok": True, "next_page": nxt, "store_appliances": page})

        if kind == "cameras":
            return await limited("cameras", work)
        return work()

    # -- datamine, zone transitions, occupancy

    async def v2_datamine(request: Request) -> Response:
        body = await read_json(request)
        result = await run_in_threadpool(datamine, ds(), body)
        return rn_json(result)

    async def v1_zone_transitions(request: Request) -> Response:
        body = await read_json(request)
        return rn_json(await run_in_threadpool(zone_transitions, ds(), body))

    async def v1_occupancy_adjust(request: Request) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise bad_request("body must be a JSON object")
        if "store_uuid" not in body:
            raise bad_request("store_uuid is required")
        if "adjustment_count" not in body:
            raise bad_request("adjustment_count is required (a non-zero integer)")
        when = body.get("adjustment_time", body.get("adjustment_date"))
        if when is not None and not isinstance(when, str):
            raise bad_request(f"adjustment_time must be an ISO 8601 date/time (got {when!r})")
        return rn_json(ds().adjust_occupancy(body["store_uuid"], body["adjustment_count"], when))

    # -- HLS

    async def v1_hlsapitoken(request: Request) -> Response:
        body = await read_json(request)
        rn = ds()
        uuid = body.get("location_uuid") if isinstance(body, dict) else None
        if not isinstance(uuid, str) or not uuid:
            raise bad_request("location_uuid is required")
        if uuid not in rn.world.locations and uuid != rn.subscription_uuid:
            raise not_found(f"location {uuid} not found")
        token = secrets.token_urlsafe(20)
        rn.hls_tokens[token] = (uuid, time.time() + rn.hls_token_ttl)
        return rn_json({"token": token})

    def hls_check(request: Request) -> dict[str, Any]:
        rn = ds()
        token = request.query_params.get("token")
        grant = rn.hls_tokens.get(token or "")
        if grant is None or grant[1] <= time.time():
            raise RnError(401, "token is missing, unknown or expired")
        channel = rn.channel_record(request.path_params["channel"])
        if channel is None:
            raise not_found(f"channel {request.path_params['channel']} not found")
        if not rn.world.is_under(channel["_store_uuid"], grant[0]) and grant[0] != rn.subscription_uuid:
            raise RnError(401, "the token does not grant access to this channel's location")
        return channel

    async def v1_hls_playlist(request: Request) -> Response:
        channel = hls_check(request)
        token = request.query_params["token"]
        seq = int(time.time()) // 6
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6", f"#EXT-X-MEDIA-SEQUENCE:{seq}"]
        for n in range(seq, seq + 3):
            lines += ["#EXTINF:6.000,", f"/v1/hls/{channel['channel_uuid']}/{n}.ts?token={token}"]
        return Response("\n".join(lines) + "\n", media_type="application/vnd.apple.mpegurl")

    async def v1_hls_segment(request: Request) -> Response:
        channel = hls_check(request)
        seq = request.path_params["seq"]
        payload = (f"{channel['channel_uuid']}:{seq}".encode() * 200)[: 188 * 40]
        return Response(payload, media_type="video/mp2t")

    # -- video export

    async def v1_export_start(request: Request) -> Response:
        rn = ds()
        params = request.query_params
        channels = params.getlist("channel")
        if not channels:
            raise bad_request("channel is required (1 to 16 channel parameters)")
        if len(channels) > MAX_EXPORT_CHANNELS:
            raise bad_request(f"at most {MAX_EXPORT_CHANNELS} channel parameters")
        records = []
        for c in channels:
            record = rn.channel_record(c)
            if record is None:
                raise bad_request(f"channel: unknown channel {c!r}")
            records.append(record)
        if len(records) > 1:
            appliances = {r["_appliance_id"] for r in records}
            if len(appliances) != 1 or "" in appliances:
                raise bad_request("channel: several channels must all belong to the same store appliance")
        times = {}
        for name in ("start", "end"):
            value = params.get(name)
            if not value:
                raise bad_request(f"{name} is required (ISO 8601)")
            try:
                times[name] = to_epoch_any(value.replace(" ", "+"))
            except (ValueError, TypeError):
                raise bad_request(f"{name} must be an ISO 8601 date/time (got {value!r})") from None
        if times["end"] <= times["start"]:
            raise bad_request("end must be after start")
        flags = {}
        for name in ("analytics_overlay", "info_overlay", "raw"):
            value = params.get(name, "0")
            if value not in ("0", "1"):
                raise bad_request(f"{name} must be 0 or 1 (got {value!r})")
            flags[name] = int(value)
        resolution = params.get("resolution")
        if resolution is not None:
            if len(channels) < 2:
                raise bad_request("resolution is only accepted with several channels")
            w, sep, h = resolution.partition("x")
            if not (sep and w.isdigit() and h.isdigit() and int(w) > 0 and int(h) > 0):
                raise bad_request(f"resolution must be WIDTHxHEIGHT (got {resolution!r})")
        elif len(channels) > 1:
            resolution = "1024x768"
        behaviours = [rn.export_behaviour.get(c, ExportBehaviour()) for c in channels]
        fails = [b.fail for b in behaviours if b.fail]
        expiries = [b.expire_after_polls for b in behaviours if b.expire_after_polls is not None]
        seconds = [b.ready_after_seconds for b in behaviours if b.ready_after_seconds is not None]
        behaviour = ExportBehaviour(
            ready_after_polls=max(b.ready_after_polls for b in behaviours),
            ready_after_seconds=max(seconds) if seconds else None,
            fail=fails[0] if fails else None,
            expire_after_polls=min(expiries) if expiries else None,
        )
        export_id = rn.new_id("export")
        rn.exports[export_id] = Export(
            export_id,
            list(channels),
            params["start"].replace(" ", "+"),
            params["end"].replace(" ", "+"),
            flags["analytics_overlay"],
            flags["info_overlay"],
            flags["raw"],
            resolution,
            time.time(),
            behaviour,
        )
        return rn_json({"ok": True}, 201, {"location": f"/v1/video/export/task/{export_id}"})

    async def v1_export_task(request: Request) -> Response:
        rn = ds()
        export = rn.exports.get(request.path_params["export_id"])
        if export is None or export.deleted:
            raise not_found("export not found")
        if request.method == "DELETE":
            export.deleted = True
            return Response(status_code=204)
        if export.expired:
            raise not_found("export has expired")
        b = export.behaviour
        export.polls += 1
        if b.ready_after_seconds is not None:
            ready = time.time() - export.created >= b.ready_after_seconds
        else:
            ready = export.polls > b.ready_after_polls
        if not ready:
            return rn_json({"ok": True, "status": "in_progress"}, 202)
        if b.fail:
            raise RnError(424, b.fail)
        if b.expire_after_polls is not None and export.served_after_ready >= b.expire_after_polls:
            export.expired = True
            raise not_found("export has expired")
        export.served_after_ready += 1
        url = f"/v1/video/export/download/{export.export_id}?sig={rn.export_signature(export.export_id)}"
        return Response(b"", status_code=302, headers={"location": url})

    async def v1_export_download(request: Request) -> Response:
        rn = ds()
        export_id = request.path_params["export_id"]
        export = rn.exports.get(export_id)
        if not secrets.compare_digest(request.query_params.get("sig", ""), rn.export_signature(export_id)):
            raise RnError(403, "invalid download signature")
        if export is None or export.deleted or export.expired:
            raise not_found("export not found or expired")
        data = rn.export_bytes(export_id)
        return Response(
            data, media_type="video/mp4", headers={"Content-Disposition": f'attachment; filename="{export_id}.mp4"'}
        )

    routes: list[Route] = [
        Route("/v1/location", endpoint(v1_location), methods=["GET"]),
        Route("/v1/users", endpoint(v1_users), methods=["GET", "POST"]),
        Route("/v1/users/{user_id}", endpoint(v1_user_update), methods=["PUT"]),
        Route("/v1/user_profiles", endpoint(user_profiles), methods=["GET"]),
        Route("/v1/user_profiles/{profile_id}", endpoint(user_profile), methods=["GET"]),
        Route("/v1/location_profiles", endpoint(location_profiles), methods=["GET"]),
        Route("/v1/location_profiles/{profile_id}", endpoint(location_profile), methods=["GET"]),
        Route("/v1/healthalerts", endpoint(v1_healthalerts), methods=["POST"]),
        Route("/v1/fpafloorplans", endpoint(v1_floorplans), methods=["GET"]),
        Route("/v1/fpafloorplans/{floorplan_id}", endpoint(v1_floorplan), methods=["GET"]),
        Route("/v1/stores/{store_uuid}/fpafloorplans", endpoint(v1_store_floorplans), methods=["GET"]),
        Route("/v1/storehours", endpoint(v1_storehours), methods=["POST"]),
        Route("/v1/predictedtraffic", endpoint(v1_predictedtraffic), methods=["POST"]),
        Route("/v1/zone_transitions", endpoint(v1_zone_transitions), methods=["POST"]),
        Route("/v1/occupancy/adjust", endpoint(v1_occupancy_adjust), methods=["POST"]),
        Route("/v1/inventory/{kind}", endpoint(v1_inventory), methods=["GET"]),
        Route("/v1/hlsapitoken", endpoint(v1_hlsapitoken), methods=["POST"]),
        Route("/v1/hls/{channel}.m3u8", endpoint(v1_hls_playlist, auth=False), methods=["GET"]),
        Route("/v1/hls/{channel}/{seq}.ts", endpoint(v1_hls_segment, auth=False), methods=["GET"]),
        Route("/v1/video/export/start", endpoint(v1_export_start), methods=["POST"]),
        Route("/v1/video/export/task/{export_id}", endpoint(v1_export_task), methods=["GET", "DELETE"]),
        Route("/v1/video/export/download/{export_id}", endpoint(v1_export_download, auth=False), methods=["GET"]),
        Route("/v2/location", endpoint(v2_location), methods=["POST"]),
        Route("/v2/location/create", endpoint(v2_location_create), methods=["POST"]),
        Route("/v2/location/{uuid}", endpoint(v2_location_update), methods=["PUT"]),
        Route("/v2/datamine", endpoint(v2_datamine), methods=["POST"]),
    ]

    async def fallback(request: Request) -> Response:
        refused = refuse(request)
        if refused is not None:
            return refused
        for route in routes:
            match, _ = route.matches({**request.scope, "method": "__none__"})
            if match != Match.NONE:
                return rn_json(
                    {"ok": False, "error": f"method {request.method} not allowed on {request.url.path}"}, 405
                )
        return rn_json({"ok": False, "error": f"not found: {request.url.path}"}, 404)

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    return [
        *routes,
        Route("/v1/{rest:path}", fallback, methods=methods),
        Route("/v2/{rest:path}", fallback, methods=methods),
    ]


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
