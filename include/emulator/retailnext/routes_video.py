"""RetailNext video routes: the HLS token, playlist and segments (``/v1/hlsapitoken``,
``/v1/hls/...``; the latter two take the token, not HTTP Basic) and the video export
(``/v1/video/export/start``, ``.../task/{id}``, ``.../download/{id}``; the download takes
its signature, not HTTP Basic).
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from include.emulator.retailnext.dataset import Export, ExportBehaviour, to_epoch_any
from include.emulator.retailnext.errors import RnError, bad_request, not_found
from include.emulator.retailnext.routes_common import RnContext, read_json, rn_json

if TYPE_CHECKING:
    from include.emulator.retailnext.dataset import RetailNextDataset

MAX_EXPORT_CHANNELS = 16


# -- HLS


async def v1_hlsapitoken(ctx: RnContext, request: Request) -> Response:
    body = await read_json(request)
    rn = ctx.ds()
    uuid = body.get("location_uuid") if isinstance(body, dict) else None
    if not isinstance(uuid, str) or not uuid:
        raise bad_request("location_uuid is required")
    if uuid not in rn.world.locations and uuid != rn.subscription_uuid:
        raise bad_request(f"location_uuid: location {uuid} not found")
    token = secrets.token_urlsafe(20)
    rn.hls_tokens[token] = (uuid, time.time() + rn.hls_token_ttl)
    return rn_json({"token": token})


def hls_check(ctx: RnContext, request: Request) -> dict[str, Any]:
    """The channel of an HLS request, once its ``token`` is checked against the channel's location."""
    rn = ctx.ds()
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


async def v1_hls_playlist(ctx: RnContext, request: Request) -> Response:
    channel = hls_check(ctx, request)
    token = request.query_params["token"]
    seq = int(time.time()) // 6
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6", f"#EXT-X-MEDIA-SEQUENCE:{seq}"]
    for n in range(seq, seq + 3):
        lines += ["#EXTINF:6.000,", f"/v1/hls/{channel['channel_uuid']}/{n}.ts?token={token}"]
    return Response("\n".join(lines) + "\n", media_type="application/vnd.apple.mpegurl")


async def v1_hls_segment(ctx: RnContext, request: Request) -> Response:
    channel = hls_check(ctx, request)
    seq = request.path_params["seq"]
    payload = (f"{channel['channel_uuid']}:{seq}".encode() * 200)[: 188 * 40]
    return Response(payload, media_type="video/mp2t")


# -- video export


async def v1_export_start(ctx: RnContext, request: Request) -> Response:
    rn = ctx.ds()
    params = request.query_params
    channels = params.getlist("channel")
    _check_export_channels(rn, channels)
    _check_export_times(params)
    flags = _export_flags(params)
    resolution = _export_resolution(params, channels)
    behaviour = _export_behaviour(rn, channels)
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


def _check_export_channels(rn: RetailNextDataset, channels: list[str]) -> None:
    """1 to 16 known channels; several ones must share one store appliance."""
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


def _check_export_times(params: QueryParams) -> None:
    """``start`` and ``end``: ISO 8601 (a space stands for the ``+`` of an offset), end after start."""
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


def _export_flags(params: QueryParams) -> dict[str, int]:
    flags = {}
    for name in ("analytics_overlay", "info_overlay", "raw"):
        value = params.get(name, "0")
        if value not in ("0", "1"):
            raise bad_request(f"{name} must be 0 or 1 (got {value!r})")
        flags[name] = int(value)
    return flags


def _export_resolution(params: QueryParams, channels: list[str]) -> str | None:
    """``WIDTHxHEIGHT``, only with several channels (then ``1024x768`` by default)."""
    resolution = params.get("resolution")
    if resolution is not None:
        if len(channels) < 2:
            raise bad_request("resolution is only accepted with several channels")
        w, sep, h = resolution.partition("x")
        if not (sep and w.isdigit() and h.isdigit() and int(w) > 0 and int(h) > 0):
            raise bad_request(f"resolution must be WIDTHxHEIGHT (got {resolution!r})")
    elif len(channels) > 1:
        resolution = "1024x768"
    return resolution


def _export_behaviour(rn: RetailNextDataset, channels: list[str]) -> ExportBehaviour:
    """The channels' scripted export behaviours merged: the slowest, first failure, first expiry."""
    behaviours = [rn.export_behaviour.get(c, ExportBehaviour()) for c in channels]
    fails = [b.fail for b in behaviours if b.fail]
    expiries = [b.expire_after_polls for b in behaviours if b.expire_after_polls is not None]
    seconds = [b.ready_after_seconds for b in behaviours if b.ready_after_seconds is not None]
    return ExportBehaviour(
        ready_after_polls=max(b.ready_after_polls for b in behaviours),
        ready_after_seconds=max(seconds) if seconds else None,
        fail=fails[0] if fails else None,
        expire_after_polls=min(expiries) if expiries else None,
    )


async def v1_export_task(ctx: RnContext, request: Request) -> Response:
    rn = ctx.ds()
    export = rn.exports.get(request.path_params["export_id"])
    if export is None or export.deleted:
        raise not_found("export not found")
    if request.method == "DELETE":
        export.deleted = True
        return Response(status_code=204)
    expired = int(rn.readings["export_expired_status"])
    if export.expired:
        raise RnError(expired, "export has expired")
    b = export.behaviour
    export.polls += 1
    if b.ready_after_seconds is not None:
        ready = time.time() - export.created >= b.ready_after_seconds
    else:
        ready = export.polls > b.ready_after_polls
    if not ready:  # the status list says 202 Accepted; the reference's transcript shows 201 {"ok":true}
        status = int(rn.readings["export_in_progress_status"])
        headers = {"location": f"/v1/video/export/task/{export.export_id}"} if status != 202 else None
        return rn_json({"ok": True}, status, headers=headers)
    if b.fail:
        raise RnError(424, b.fail)
    if b.expire_after_polls is not None and export.served_after_ready >= b.expire_after_polls:
        export.expired = True
        raise RnError(expired, "export has expired")
    export.served_after_ready += 1
    url = f"/v1/video/export/download/{export.export_id}?sig={rn.export_signature(export.export_id)}"
    if rn.download_base_url:  # served from another origin (a CDN): an absolute URL
        url = rn.download_base_url.rstrip("/") + url
    return Response(b"", status_code=302, headers={"location": url})


async def v1_export_download(ctx: RnContext, request: Request) -> Response:
    rn = ctx.ds()
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
