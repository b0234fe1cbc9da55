"""Video export, HLS links and write endpoints through RetailNextHook against the emulator."""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import UTC, datetime, timedelta

import pytest

from retail_provider.http.errors import ApiError, InputValidationError
from retail_provider.http.retry import RetryPolicy
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.video.operators import build_export_request
from retail_provider.retailnext.video.trigger import VideoExportTrigger


@pytest.fixture
def hook(airflow_connections):
    h = RetailNextHook("retailnext_default", retry_policy=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    yield h
    h.close()


@pytest.fixture
def rn(emulator):
    yield emulator.state.retailnext
    emulator.state.faults.clear()


def _channel(rn, *, multi=False):
    cameras = rn.cameras()
    if multi:
        cam = next(c for c in cameras if c.get("appliance_id") and len(c.get("video_channel_uuids") or []) >= 2)
        return cam["video_channel_uuids"][:2]
    cam = next(c for c in cameras if c.get("video_channel_uuids"))
    return cam["video_channel_uuids"][:1]


def _request(channels, **kw):
    end = datetime.now(UTC) - timedelta(hours=1)
    return build_export_request(channels, (end - timedelta(minutes=5)).isoformat(), end.isoformat(), **kw)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"channels": []}, "at least 1"),
        ({"channels": [f"c{i}" for i in range(17)]}, "at most 16"),
        ({"channels": ["a"], "end": "2021-03-17T13:00:00Z"}, "must be after start"),
        ({"channels": ["a"], "start": "2021-03-17T13:00:00"}, "timezone"),
        ({"channels": ["a"], "resolution": "640x480"}, "only allowed when several channels"),
        ({"channels": ["a", "b"], "resolution": "big"}, "WIDTHxHEIGHT"),
        ({"channels": ["a", "a"]}, "distinct"),
    ],
)
def test_export_input_is_validated_before_any_call(emulator, kwargs, message):
    calls = len(emulator.state.requests)
    args = {"start": "2021-03-17T13:00:00Z", "end": "2021-03-17T13:05:08Z", **kwargs}
    with pytest.raises(InputValidationError, match=message):
        build_export_request(args.pop("channels"), args.pop("start"), args.pop("end"), **args)
    assert len(emulator.state.requests) == calls


def test_export_lifecycle_202_302_download_delete(hook, rn, tmp_path):
    channels = _channel(rn, multi=True)
    for c in channels:
        rn.set_export_behaviour(c, ready_after_polls=2)
    export_id = hook.start_video_export(_request(channels, resolution="640x480", info_overlay=True))
    assert [hook.video_export_status(export_id).state for _ in range(2)] == ["in_progress", "in_progress"]
    assert hook.video_export_status(export_id).state == "ready"
    result = hook.download_video_export(export_id, tmp_path / "sub" / f"{export_id}.mp4")
    expected = rn.export_bytes(export_id)
    assert (tmp_path / "sub" / f"{export_id}.mp4").read_bytes() == expected
    assert result.bytes == len(expected) and result.sha256 == hashlib.sha256(expected).hexdigest()
    hook.delete_video_export(export_id)
    assert hook.video_export_status(export_id).state == "expired"  # deleted: 404


def test_failed_and_expired_exports(hook, rn):
    channel = _channel(rn)
    rn.set_export_behaviour(channel[0], ready_after_polls=0, fail="camera offline during the window")
    failed = hook.start_video_export(_request(channel))
    status = hook.video_export_status(failed)
    assert status.state == "failed" and "camera offline" in status.reason
    rn.set_export_behaviour(channel[0], ready_after_polls=0)
    expired = hook.start_video_export(_request(channel))
    rn.expire_export(expired)
    assert hook.video_export_status(expired).state == "expired"
    with pytest.raises(ApiError, match="expired"):
        hook.download_video_export(expired, "/tmp/never.mp4")


def test_start_is_not_retried_but_polls_are(hook, rn, emulator):
    channel = _channel(rn)
    rn.set_export_behaviour(channel[0], ready_after_polls=0)
    emulator.state.faults.add("status", path=r"^/v1/video/export/start$", status=503, times=1)
    before = len(rn.exports)
    with pytest.raises(ApiError):
        hook.start_video_export(_request(channel))
    assert len(rn.exports) == before  # one attempt only
    export_id = hook.start_video_export(_request(channel))
    emulator.state.faults.add("status", path=r"^/v1/video/export/task/", status=503, times=2)
    assert hook.video_export_status(export_id).state == "ready"


def test_trigger_polls_asynchronously_until_ready(hook, rn):
    channel = _channel(rn)
    rn.set_export_behaviour(channel[0], ready_after_polls=3)
    export_id = hook.start_video_export(_request(channel))
    trigger = VideoExportTrigger("retailnext_default", export_id, poll_interval=0.01, deadline=time.time() + 30)
    classpath, kwargs = trigger.serialize()
    assert classpath == "retail_provider.retailnext.video.trigger.VideoExportTrigger"
    assert VideoExportTrigger(**kwargs).export_id == export_id

    async def first_event():
        async for event in trigger.run():
            return event.payload

    assert asyncio.run(first_event())["status"] == "ready"
    rn.set_export_behaviour(channel[0], ready_after_polls=10_000)
    slow = hook.start_video_export(_request(channel))
    late = VideoExportTrigger("retailnext_default", slow, poll_interval=0.01, deadline=time.time() + 0.2)

    async def late_event():
        async for event in late.run():
            return event.payload

    assert asyncio.run(late_event())["status"] == "timeout"


def test_hls_links_and_token_handling(hook, rn):
    store = rn.stores()[0]
    token = hook.hls_token(store["uuid"])
    channel = next(c for c in rn.cameras(store["uuid"]) if c.get("video_channel_uuids"))["video_channel_uuids"][0]
    url = hook.hls_url(channel, token)
    playlist = hook.get_client().get(url)
    assert playlist.status_code == 200 and "#EXTM3U" in playlist.text
    assert "token" not in hook.hls_url(channel, None)
    assert hook.get_client().get(hook.hls_url(channel, "forged-token")).status_code == 401


def test_plain_http_needs_loopback_or_an_explicit_opt_in(emulator):
    from include.devenv import airflow_env

    conn = {"conn_type": "retailnext", "host": "http://emulator.internal:8765", "login": "k", "password": "s"}
    airflow_env.set_connection("rn_insecure", conn)
    with pytest.raises(InputValidationError, match="requires HTTPS"):
        RetailNextHook("rn_insecure").base_url()
    airflow_env.set_connection("rn_insecure_ok", {**conn, "extra": {"allow_insecure_http": True}})
    assert RetailNextHook("rn_insecure_ok").base_url() == "http://emulator.internal:8765/"
