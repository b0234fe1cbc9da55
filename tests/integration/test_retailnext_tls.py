"""HTTPS with certificate verification: the emulator serves TLS with a certificate generated
at start; the hook, the sensor's trigger and the download verify it against the
connection's ``ca_bundle``; a certificate nobody vouched for is refused; a download URL on
another host must be https."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from include.emulator.server import EmulatorServer
from retail_provider.http.errors import InvalidResponseError, TransportError
from retail_provider.http.retry import RetryPolicy
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.video.operators import build_export_request
from retail_provider.retailnext.video.trigger import VideoExportTrigger

CONN = "rn_tls"


@pytest.fixture(scope="module")
def tls_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(retailnext_stores=3, seed=11, ocds_scale=20, tls=True) as server:
        yield server


@pytest.fixture
def connection(tls_emulator, monkeypatch, airflow_connections):
    creds = tls_emulator.state.retailnext_credentials

    def use(conn_id: str = CONN, **extra):
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({
            "conn_type": "retailnext", "host": tls_emulator.url, "login": creds["access_key"],
            "password": creds["secret_key"], "extra": extra}))
        return conn_id

    use(ca_bundle=tls_emulator.ca_file)
    yield use
    tls_emulator.state.retailnext.reset()


@pytest.fixture
def hook(connection):
    h = RetailNextHook(CONN, retry_policy=RetryPolicy(max_attempts=2, sleep=lambda s: None))
    yield h
    h.close()


def _export(hook, rn, polls=1):
    cam = next(c for c in rn.cameras() if c.get("video_channel_uuids"))
    channel = cam["video_channel_uuids"][:1]
    rn.set_export_behaviour(channel[0], ready_after_polls=polls)
    end = datetime.now(UTC) - timedelta(hours=1)
    return hook.start_video_export(build_export_request(channel, (end - timedelta(minutes=5)).isoformat(),
                                                        end.isoformat()))


def test_the_hook_talks_https_with_verification(hook, tls_emulator):
    assert tls_emulator.url.startswith("https://")
    assert hook.base_url().startswith("https://")
    stores = hook.query_locations(location_types=["store"])
    assert len(stores) == 3 and len(hook.list_locations()) == len(tls_emulator.state.retailnext.locations())


def test_a_certificate_nobody_vouched_for_is_refused(connection, tls_emulator):
    connection("rn_tls_untrusted")  # no ca_bundle: the system's CAs do not know the emulator's
    h = RetailNextHook("rn_tls_untrusted", retry_policy=RetryPolicy(max_attempts=1, sleep=lambda s: None))
    with pytest.raises(TransportError):
        h.list_locations()
    h.close()


def test_the_trigger_polls_over_https(hook, tls_emulator):
    rn = tls_emulator.state.retailnext
    export_id = _export(hook, rn, polls=2)
    trigger = VideoExportTrigger(CONN, export_id, poll_interval=0.01, deadline=time.time() + 30)

    async def first_event():
        async for event in trigger.run():
            return event.payload

    assert asyncio.run(first_event())["status"] == "ready"


def test_the_download_over_https_and_from_another_host(hook, tls_emulator, tmp_path):
    rn = tls_emulator.state.retailnext
    export_id = _export(hook, rn, polls=0)
    got = hook.download_video_export(export_id, tmp_path / "same.mp4")
    assert got.sha256 == hashlib.sha256(rn.export_bytes(export_id)).hexdigest()
    # the download URL names another host (localhost, not 127.0.0.1), over https: verified, no credentials
    rn.download_base_url = tls_emulator.url.replace("127.0.0.1", "localhost")
    other = _export(hook, rn, polls=0)
    got = hook.download_video_export(other, tmp_path / "other.mp4")
    assert got.sha256 == hashlib.sha256(rn.export_bytes(other)).hexdigest()
    # ... and over plain http: refused before anything is fetched
    rn.download_base_url = tls_emulator.url.replace("https://127.0.0.1", "http://localhost")
    third = _export(hook, rn, polls=0)
    with pytest.raises(InvalidResponseError, match="must use https"):
        hook.download_video_export(third, tmp_path / "third.mp4")
    assert not (tmp_path / "third.mp4").exists()
