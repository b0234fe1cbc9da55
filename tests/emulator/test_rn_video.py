"""RetailNext phase 2 video: HLS tokens and playlists, video exports."""

from __future__ import annotations

import time

import httpx
import pytest


def monocular_channels(rn, store_index=0):
    """Channels of one store appliance (monocular cameras), and an Aurora channel of the same store."""
    store = rn.store_list()[store_index].uuid
    cams = rn.cameras(store)
    by_appliance = {}
    for cam in cams:
        if cam["appliance_id"]:
            by_appliance.setdefault(cam["appliance_id"], []).extend(cam["video_channel_uuids"])
    same = max(by_appliance.values(), key=len)
    aurora = next(c["video_channel_uuids"][0] for c in cams if c["type"] == 1)
    return same, aurora


# ---------------------------------------------------------------------------- HLS


def test_hls_token_and_playlist(rn_client, rn, emu_server):
    store = rn.store_list()[0].uuid
    response = rn_client.post("/v1/hlsapitoken", json={"location_uuid": store})
    assert response.status_code == 200
    token = response.json()["token"]
    assert set(response.json()) == {"token"} and len(token) > 10
    channel = rn.channels(store)[0]["channel_uuid"]
    playlist = httpx.get(f"{emu_server.url}/v1/hls/{channel}.m3u8", params={"token": token})
    assert playlist.status_code == 200
    assert playlist.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    lines = playlist.text.splitlines()
    assert lines[0] == "#EXTM3U" and any(line.startswith("#EXTINF") for line in lines)
    segment = next(line for line in lines if line.startswith("/v1/hls/"))
    assert httpx.get(emu_server.url + segment).status_code == 200


def test_hls_token_scope_and_errors(rn_client, rn, emu_server):
    region = next(
        n["uuid"] for n in rn.nodes() if n["location_type"] == "region" and n["parent_uuid"] != rn.subscription_uuid
    )
    inside = [s["uuid"] for s in rn.stores() if rn.world.is_under(s["uuid"], region)]
    outside = [s["uuid"] for s in rn.stores() if s["uuid"] not in inside]
    token = rn_client.post("/v1/hlsapitoken", json={"location_uuid": region}).json()["token"]

    def get(channel, tok=token):
        return httpx.get(f"{emu_server.url}/v1/hls/{channel}.m3u8", params={"token": tok} if tok else None)

    assert get(rn.channels(inside[0])[0]["channel_uuid"]).status_code == 200
    assert get(rn.channels(outside[0])[0]["channel_uuid"]).status_code == 401
    assert get("no-such-channel").status_code == 404
    assert get(rn.channels(inside[0])[0]["channel_uuid"], "forged").status_code == 401
    assert get(rn.channels(inside[0])[0]["channel_uuid"], None).status_code == 401
    org = rn_client.post("/v1/hlsapitoken", json={"location_uuid": rn.subscription_uuid}).json()["token"]
    assert get(rn.channels(outside[0])[0]["channel_uuid"], org).status_code == 200
    unknown = rn_client.post("/v1/hlsapitoken", json={"location_uuid": "nope"})  # an id in the body: 400
    assert unknown.status_code == 400 and unknown.json()["error"].startswith("location_uuid")
    assert rn_client.post("/v1/hlsapitoken", json={}).status_code == 400


def test_hls_token_expires(rn_client, rn, emu_server):
    rn.hls_token_ttl = 0.2
    store = rn.store_list()[0].uuid
    token = rn_client.post("/v1/hlsapitoken", json={"location_uuid": store}).json()["token"]
    channel = rn.channels(store)[0]["channel_uuid"]
    time.sleep(0.3)
    assert httpx.get(f"{emu_server.url}/v1/hls/{channel}.m3u8", params={"token": token}).status_code == 401


# ---------------------------------------------------------------------------- exports


def start_export(client, channels, **params):
    query = [("channel", c) for c in channels]
    query += [
        ("start", params.pop("start", "2024-05-14T13:00:00Z")),
        ("end", params.pop("end", "2024-05-14T13:05:08Z")),
    ]
    query += list(params.items())
    return client.post("/v1/video/export/start", params=query)


def test_export_lifecycle(rn_client, rn):
    same, _ = monocular_channels(rn)
    response = start_export(rn_client, same[:1], analytics_overlay="1", info_overlay="1", raw="0")
    assert response.status_code == 201 and response.json() == {"ok": True}
    location = response.headers["location"]
    assert location.startswith("/v1/video/export/task/")
    export_id = location.rsplit("/", 1)[1]
    assert rn_client.get(location).status_code == 202, "in progress for ready_after_polls (1) poll"
    ready = rn_client.get(location)
    assert ready.status_code == 302
    url = ready.headers["location"]
    download = httpx.get(str(rn_client.base_url) + url)
    assert download.status_code == 200 and download.headers["content-type"] == "video/mp4"
    assert download.content == rn.export_bytes(export_id)
    assert int(download.headers["content-length"]) == len(download.content) > 4096
    assert httpx.get(str(rn_client.base_url) + url.replace("sig=", "sig=x")).status_code == 403
    assert rn_client.delete(location).status_code == 204
    assert rn_client.get(location).status_code == 404
    assert rn_client.delete(location).status_code == 404
    assert httpx.get(str(rn_client.base_url) + url).status_code == 404


def test_export_follow_redirects_like_curl_L(rn_client, rn):
    same, _ = monocular_channels(rn)
    rn.set_export_behaviour(same[0], ready_after_polls=0)
    location = start_export(rn_client, same[:1]).headers["location"]
    response = rn_client.get(location, follow_redirects=True)
    assert response.status_code == 200 and response.content == rn.export_bytes(location.rsplit("/", 1)[1])


def test_export_bytes_depend_on_the_parameters(rn_client, rn):
    same, _ = monocular_channels(rn)
    a = start_export(rn_client, same[:1]).headers["location"].rsplit("/", 1)[1]
    b = start_export(rn_client, same[:1], raw="1").headers["location"].rsplit("/", 1)[1]
    assert rn.export_bytes(a) != rn.export_bytes(b)
    assert len(rn.export_bytes(b)) > len(rn.export_bytes(a))


def test_export_several_channels_with_resolution(rn_client, rn):
    same, _ = monocular_channels(rn)
    assert len(same) >= 2
    response = start_export(rn_client, same, resolution="1280x960")
    assert response.status_code == 201
    export = rn.exports[response.headers["location"].rsplit("/", 1)[1]]
    assert export.resolution == "1280x960" and export.channels == same
    default = start_export(rn_client, same)
    assert rn.exports[default.headers["location"].rsplit("/", 1)[1]].resolution == "1024x768"


def test_export_duration_failure_and_expiry_per_channel(rn_client, rn):
    same, _ = monocular_channels(rn)
    rn.set_export_behaviour(same[0], ready_after_polls=3, expire_after_polls=2)
    location = start_export(rn_client, same[:1]).headers["location"]
    assert [rn_client.get(location).status_code for _ in range(6)] == [202, 202, 202, 302, 302, 404]
    rn.set_export_behaviour(same[0], ready_after_polls=1, fail="no video recorded in the requested period")
    failing = start_export(rn_client, same[:1]).headers["location"]
    assert rn_client.get(failing).status_code == 202
    failed = rn_client.get(failing)
    assert failed.status_code == 424
    assert failed.json() == {"ok": False, "error": "no video recorded in the requested period"}
    rn.set_export_behaviour(same[0], ready_after_polls=0)
    quick = start_export(rn_client, same[:1]).headers["location"]
    rn.expire_export(quick.rsplit("/", 1)[1])
    assert rn_client.get(quick).status_code == 404


def test_export_ready_after_seconds(rn_client, rn):
    same, _ = monocular_channels(rn)
    rn.set_export_behaviour(same[0], ready_after_seconds=0.3)
    location = start_export(rn_client, same[:1]).headers["location"]
    assert rn_client.get(location).status_code == 202
    assert rn_client.get(location).status_code == 202
    time.sleep(0.35)
    assert rn_client.get(location).status_code == 302


@pytest.mark.parametrize(
    "kind,params,needle",
    [
        ("none", {}, "channel"),
        ("unknown", {}, "unknown channel"),
        ("mixed", {}, "same store appliance"),
        ("seventeen", {}, "16"),
        ("one", {"resolution": "800x600"}, "several channels"),
        ("two", {"resolution": "big"}, "resolution"),
        ("one", {"start": "yesterday"}, "start"),
        ("one", {"end": "2024-05-14T12:00:00Z"}, "after start"),
        ("one", {"raw": "yes"}, "raw"),
        ("one", {"analytics_overlay": "2"}, "analytics_overlay"),
    ],
)
def test_export_refusals(rn_client, rn, kind, params, needle):
    same, aurora = monocular_channels(rn)
    channels = {
        "none": [],
        "unknown": ["nope"],
        "mixed": [same[0], aurora],
        "seventeen": same[:1] * 17,
        "one": same[:1],
        "two": same[:2],
    }[kind]
    response = start_export(rn_client, channels, **params)
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]


def test_unknown_export_task_is_404(rn_client):
    assert rn_client.get("/v1/video/export/task/nope").status_code == 404
