"""RetailNext control API over HTTP (``/_emulator/retailnext``), scale, determinism, CLI."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from include.emulator.retailnext import RetailNextDataset

ROOT = Path(__file__).resolve().parents[2]
CTL = "/_emulator/retailnext"


@pytest.fixture
def ctl(emu_server, rn):
    with httpx.Client(base_url=emu_server.url + CTL, timeout=30) as c:
        yield c


def test_info_and_truth(ctl, rn):
    info = ctl.get("/info").json()
    assert info["stores"] == 10 and info["subscription_uuid"] == rn.subscription_uuid
    assert info["frozen"].startswith("2024-05-15T19:07")
    for name in ("locations", "nodes", "stores", "users", "user_profiles", "location_profiles", "alerts",
                 "floorplans", "cameras", "channels", "appliances"):  # fmt: skip
        assert ctl.get(f"/truth/{name}").json() == rn.truth(name)
    assert ctl.get("/truth/weather").status_code == 404


def test_traffic_truth_routes(ctl, rn):
    store = rn.store_list()[0].uuid
    day = ctl.get("/store_day", params={"store": store, "day": "2024-05-13"}).json()
    assert day == rn.store_day(store, "2024-05-13")
    b = day[5]
    assert ctl.get("/bucket", params={"store": store, "metric": "traffic_in", "start": b["start"]}).json() == {
        "value": b["traffic_in"], "validity": b["validity"],
    }  # fmt: skip
    params = {"store": store, "metric": "traffic_out", "start": "2024-05-13T00:00:00Z", "end": "2024-05-14T12:00:00Z"}
    value, validity = rn.aggregate(store, "traffic_out", params["start"], params["end"])
    assert ctl.get("/aggregate", params=params).json() == {"value": value, "validity": validity}
    hours = ctl.get("/storehours", params={"store": store, "start": "2024-05-13", "end": "2024-05-14"}).json()
    assert hours == rn.storehours([store], "2024-05-13", "2024-05-14")
    assert ctl.get("/bucket", params={"store": "nope", "metric": "traffic_in", "start": b["start"]}).status_code == 404
    bad = ctl.get("/bucket", params={"store": store, "metric": "traffic_in", "start": "2024-05-13T10:07:00Z"})
    assert bad.status_code == 400


def test_settings(ctl, rn):
    store = rn.store_list()[0].uuid
    got = ctl.post("/settings", json={"completeness_lag": 60, "service_delay": 0, "allowed_locations": [store],
                                      "now": "2024-06-01T12:00:00Z", "hls_token_ttl": 5})  # fmt: skip
    assert got.status_code == 200
    assert rn.completeness_lag == 60 and rn.service_delay == 0 and rn.allowed_locations == {store}
    assert rn.now_datetime().isoformat() == "2024-06-01T12:00:00+00:00"
    assert ctl.get("/settings").json()["allowed_locations"] == [store]
    assert ctl.post("/settings", json={"colour": 1}).status_code == 400


def test_location_mutations(ctl, rn, rn_client):
    store = rn.store_list()[0].uuid
    created = ctl.post("/locations", json={"parent_uuid": store, "location_type": "display", "name": "Kiosk"})
    assert created.status_code == 200 and created.json()["name"] == "Kiosk"
    assert ctl.post("/locations", json={"parent_uuid": store, "location_type": "store", "name": "x"}).status_code == 400
    uuid = created.json()["uuid"]
    assert ctl.put(f"/locations/{uuid}", json={"name": "Kiosk 2"}).json()["name"] == "Kiosk 2"
    archived = ctl.post(f"/locations/{uuid}/archive", json={"when": "2024-05-15T00:00:00Z"}).json()
    assert archived["archive_date"] == "2024-05-15T00:00:00Z"
    before = len(rn.nodes())
    assert ctl.post("/locations/bulk", json={"parent_uuid": store, "count": 25}).json() == {"added": 25}
    assert len(rn.nodes()) == before + 25
    assert rn_client.post("/v2/location", json={"where": {"uuids": [uuid]}}).json()["nodes"][0][0]["name"] == "Kiosk 2"


def test_alert_user_validity_occupancy_and_export_routes(ctl, rn, rn_client):
    store = rn.store_list()[0].uuid
    alert = ctl.post("/alerts", json={"store_uuid": store, "alert_type": "cameradown"}).json()
    assert alert["resolved"] is False and rn.alerts()[-1]["uuid"] == alert["uuid"]
    assert ctl.post(f"/alerts/{alert['uuid']}/resolve", json={}).json()["resolved"] is True
    assert ctl.post("/alerts/nope/resolve", json={}).status_code == 404
    user = ctl.post("/users", json={"email": "ctl@domain.com"}).json()
    assert rn.users()[-1]["id"] == user["id"]
    mark = {
        "store_uuid": store,
        "start": "2024-05-13T18:00:00Z",
        "end": "2024-05-13T19:00:00Z",
        "validity": "incomplete",
    }
    assert ctl.post("/validity", json=mark).status_code == 200
    assert rn.aggregate(store, "traffic_in", "2024-05-13T18:00:00Z", "2024-05-13T19:00:00Z")[1] == "incomplete"
    assert ctl.request("DELETE", "/validity", json={"store_uuid": store}).json() == {"cleared": 1}
    assert ctl.post("/validity", json={**mark, "validity": "weird"}).status_code == 400
    assert ctl.post("/occupancy", json={"store_uuid": store, "count": 2}).json() == {"ok": True}
    channel = rn.channels(store)[0]["channel_uuid"]
    got = ctl.post("/exports/behaviour", json={"channel_uuid": channel, "ready_after_polls": 4}).json()
    assert got["ready_after_polls"] == 4


def test_reset_route(ctl, rn):
    rn.add_user("gone@domain.com")
    assert ctl.post("/reset").json() == {"reset": True}
    assert all(u["email"] != "gone@domain.com" for u in rn.users())
    assert rn.settings()["frozen"] is None


def test_state_reset_restores_retailnext(state, rn):
    users = rn.users()
    rn.add_user("gone@domain.com")
    rn.completeness_lag = 5
    state.reset()
    assert [u["id"] for u in rn.users()] == [u["id"] for u in users]
    assert rn.completeness_lag == 7200 and rn.settings()["frozen"] is None


def test_scale_and_determinism():
    a = RetailNextDataset(stores=40, seed=3)
    b = RetailNextDataset(stores=40, seed=3)
    a.freeze(b.now())
    b.freeze(a.now())
    assert len(a.stores()) == 40
    assert a.nodes() == b.nodes() and a.users() == b.users() and a.cameras() == b.cameras()
    store = a.store_list()[7].uuid
    assert a.store_day(store, "2024-05-13") == b.store_day(store, "2024-05-13")
    other = RetailNextDataset(stores=40, seed=4)
    assert other.nodes() != a.nodes()
    small = RetailNextDataset(stores=1, seed=3)
    assert len(small.stores()) == 1 and len([n for n in small.nodes() if n["location_type"] == "region"]) >= 2


def test_cli_retailnext_options():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "include.emulator", "--port", "0", "--ocds-scale", "100", "--retailnext-stores", "3",
         "--rn-access-key", "ak", "--rn-secret-key", "sk"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=30), "no ready line within 30 s"
        url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        stores = httpx.post(f"{url}/v2/location", json={"where": {"location_types": ["store"]}}, auth=("ak", "sk"))
        assert stores.status_code == 200 and len(stores.json()["nodes"][0]) == 3
        assert httpx.get(f"{url}/v1/location", auth=("rn_access_key", "rn_secret_key")).status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
