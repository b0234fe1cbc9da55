"""RetailNext inventory (string cursors), predicted traffic, and the 3-concurrent-request
limit of cameras and predicted traffic.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.emulator.conftest import RN_KEY, RN_SECRET

KINDS = [("cameras", "cameras", "device_id"), ("channels", "channels", "channel_uuid"),
         ("appliances", "store_appliances", "appliance_id")]  # fmt: skip


def walk(client, kind, key, length=None, store_uuid=None):
    items, cursors = [], []
    cursor = None
    for _ in range(1000):
        headers = {}
        if length is not None:
            headers["X-Page-Length"] = str(length)
        if cursor is not None:
            headers["X-Page-Start"] = cursor
        params = {"store_uuid": store_uuid} if store_uuid else None
        response = client.get(f"/v1/inventory/{kind}", headers=headers, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ok"] is True and set(body) == {"ok", "next_page", key}
        items.extend(body[key])
        cursor = body["next_page"]
        cursors.append(cursor)
        if cursor == "end":
            return items, cursors
    raise AssertionError("no end")


@pytest.mark.parametrize("kind,key,id_field", KINDS)
@pytest.mark.parametrize("length", [None, 1, 4, 500])
def test_inventory_cursor_to_end(rn_client, rn, kind, key, id_field, length):
    rn.set_service_delay(0)
    items, cursors = walk(rn_client, kind, key, length)
    assert items == getattr(rn, kind)()
    size = min(length or 100, 100)
    assert len(cursors) == max(1, -(-len(items) // size))
    for cursor, page_start in zip(cursors[:-1], range(size, len(items), size), strict=True):
        assert cursor == items[page_start][id_field] and isinstance(cursor, str)


@pytest.mark.parametrize("kind,key,id_field", KINDS)
def test_inventory_by_store(rn_client, rn, kind, key, id_field):
    rn.set_service_delay(0)
    store = rn.store_list()[4].uuid
    items, cursors = walk(rn_client, kind, key, 1, store_uuid=store)
    assert items == getattr(rn, kind)(store) and items
    if kind != "channels":
        assert all(i["store_uuid"] == store for i in items)


def test_inventory_fields_as_in_the_reference(rn):
    camera = rn.cameras()[0]
    assert {
        "type", "device_id", "device_name", "store_uuid", "appliance_id", "vendor", "model", "private_ip",
        "public_ip", "last_heard", "serial_number", "network_configuration", "video_channel_uuids",
        "video_channel_count", "configuration_summary", "analytics",
    } <= set(camera)  # fmt: skip
    assert {c["type"] for c in rn.cameras()} == {0, 1, 2}
    channel = rn.channels()[0]
    assert set(channel) == {
        "channel_uuid", "name", "device_id", "resolution", "frame_rate", "record_on_motion",
        "minimum_retention_days", "maximun_retention_days", "blur_video", "recording_enabled",
        "snapshot_enabled", "snapshot_interval_secs", "snapshot_resolution",
    }  # fmt: skip
    channel_ids = {c["channel_uuid"] for c in rn.channels()}
    assert channel_ids == {u for c in rn.cameras() for u in c["video_channel_uuids"]}
    assert all(c["video_channel_count"] == len(c["video_channel_uuids"]) for c in rn.cameras())
    appliance = rn.appliances()[0]
    assert set(appliance) == {"appliance_id", "store_uuid", "mac_address", "private_ip", "network_configuration",
                              "public_ip"}  # fmt: skip


def test_inventory_errors(rn_client):
    response = rn_client.get("/v1/inventory/cameras", headers={"X-Page-Start": "not-a-cursor"})
    assert response.status_code == 400 and "X-Page-Start" in response.json()["error"]
    response = rn_client.get("/v1/inventory/channels", headers={"X-Page-Length": "0"})
    assert response.status_code == 400
    response = rn_client.get("/v1/inventory/appliances", params={"store_uuid": "nope"})
    # the unknown-id rule: an id in a query parameter that names nothing is a 400 naming it
    assert response.status_code == 400 and response.json()["ok"] is False
    assert response.json()["error"].startswith("store_uuid")
    assert rn_client.get("/v1/inventory/robots").status_code == 404


# ---------------------------------------------------------------------------- predicted traffic


def test_predicted_traffic(rn_client, rn):
    store = rn.store_list()[0]  # Los Angeles: today is 2024-05-15
    body = {"store_uuid": store.uuid, "first_day": "2024-05-16", "last_day": "2024-05-22"}
    response = rn_client.post("/v1/predictedtraffic", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["ok"] is True and data["error"] == ""
    expected = [p for d in range(16, 23) for p in rn.predicted(store.uuid, f"2024-05-{d}")]
    assert data["predictions"] == expected
    first = data["predictions"][0]
    open_min = store.hours[3][0]  # Thursday
    assert first["time"] == f"2024-05-16T{open_min // 60:02d}:{open_min % 60:02d}:00Z"
    times = [p["time"] for p in data["predictions"]]
    assert times == sorted(times) and all(t[14:16] in ("00", "15", "30", "45") for t in times)
    assert all(isinstance(p["value"], int) and p["value"] >= 0 for p in data["predictions"])
    assert rn_client.post("/v1/predictedtraffic", json=body).json() == data, "deterministic"


def test_predicted_traffic_night_store_runs_past_midnight(rn_client, rn):
    store = rn.store_list()[1]
    data = rn_client.post(
        "/v1/predictedtraffic", json={"store_uuid": store.uuid, "first_day": "2024-05-16", "last_day": "2024-05-16"}
    ).json()
    assert data["predictions"][0]["time"] == "2024-05-16T16:00:00Z"
    assert data["predictions"][-1]["time"] == "2024-05-17T01:45:00Z"
    assert len(data["predictions"]) == 40


@pytest.mark.parametrize(
    "first,last,needle",
    [
        ("2024-05-15", "2024-05-16", "future"),
        ("2024-05-10", "2024-05-12", "future"),
        ("2024-05-17", "2024-05-16", "last_day"),
        ("2024-05-16", "2024-05-23", "7 days"),
        ("2024-06-14", "2024-06-16", "31 days"),
        ("2024/05/16", "2024-05-17", "first_day"),
        ("2024-05-16", None, "last_day"),
    ],
)
def test_predicted_traffic_rules(rn_client, rn, first, last, needle):
    body = {"store_uuid": rn.store_list()[0].uuid, "first_day": first, "last_day": last}
    response = rn_client.post("/v1/predictedtraffic", json=body)
    assert response.status_code == 400
    assert response.json()["ok"] is False and needle in response.json()["error"]


def test_predicted_traffic_up_to_31_days_ahead(rn_client, rn):
    body = {"store_uuid": rn.store_list()[0].uuid, "first_day": "2024-06-13", "last_day": "2024-06-15"}
    assert rn_client.post("/v1/predictedtraffic", json=body).status_code == 200


def test_predicted_traffic_today_depends_on_the_store_time_zone(rn_client, rn):
    rn.freeze("2024-05-15T23:30:00Z")  # already May 16 in Tokyo, still May 15 in Los Angeles
    tokyo = next(s for s in rn.store_list() if s.time_zone == "Asia/Tokyo")
    la = rn.store_list()[0]
    body = {"first_day": "2024-05-16", "last_day": "2024-05-16"}
    assert rn_client.post("/v1/predictedtraffic", json={**body, "store_uuid": la.uuid}).status_code == 200
    assert rn_client.post("/v1/predictedtraffic", json={**body, "store_uuid": tokyo.uuid}).status_code == 400


def test_predicted_traffic_unknown_store(rn_client):
    response = rn_client.post("/v1/predictedtraffic", json={"store_uuid": "x", "first_day": "2024-05-16",
                                                             "last_day": "2024-05-16"})  # fmt: skip
    assert response.status_code == 400 and "store_uuid" in response.json()["error"]


# ---------------------------------------------------------------------------- concurrency


async def _burst(url, n, method, path, **kwargs):
    async with httpx.AsyncClient(base_url=url, auth=(RN_KEY, RN_SECRET), timeout=30) as client:
        return await asyncio.gather(*(client.request(method, path, **kwargs) for _ in range(n)))


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("GET", "/v1/inventory/cameras", None),
        ("POST", "/v1/predictedtraffic", "PREDICT"),
    ],
)
def test_fourth_concurrent_request_gets_429(emu_server, rn, method, path, body):
    rn.set_service_delay(0.4)
    kwargs = {}
    if body == "PREDICT":
        kwargs["json"] = {"store_uuid": rn.store_list()[0].uuid, "first_day": "2024-05-16", "last_day": "2024-05-16"}
    responses = asyncio.run(_burst(emu_server.url, 4, method, path, **kwargs))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 200, 429]
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["retry-after"] == "1" and refused.json()["ok"] is False
    three = asyncio.run(_burst(emu_server.url, 3, method, path, **kwargs))
    assert [r.status_code for r in three] == [200, 200, 200]


def test_limits_are_per_endpoint_and_channels_are_unlimited(emu_server, rn):
    rn.set_service_delay(0.3)

    async def mixed():
        async with httpx.AsyncClient(base_url=emu_server.url, auth=(RN_KEY, RN_SECRET), timeout=30) as client:
            predict = {"store_uuid": rn.store_list()[0].uuid, "first_day": "2024-05-16", "last_day": "2024-05-16"}
            calls = [client.get("/v1/inventory/cameras") for _ in range(3)]
            calls += [client.post("/v1/predictedtraffic", json=predict) for _ in range(3)]
            calls += [client.get("/v1/inventory/channels") for _ in range(6)]
            return await asyncio.gather(*calls)

    assert all(r.status_code == 200 for r in asyncio.run(mixed()))


def test_concurrency_limit_is_configurable(emu_server, rn):
    rn.set_service_delay(0.3)
    rn.concurrency_limit = 1
    statuses = sorted(r.status_code for r in asyncio.run(_burst(emu_server.url, 2, "GET", "/v1/inventory/cameras")))
    assert statuses == [200, 429]
