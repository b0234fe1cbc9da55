"""RetailNext v1: authentication, integer paging (206/200 + X-Page-Next) through every paged
endpoint, page length rules, users filters, profiles, health alerts, floorplans, store hours.
"""

from __future__ import annotations

import httpx
import pytest

from tests.emulator.conftest import RN_KEY, RN_SECRET

ROUTES = [
    ("GET", "/v1/location"),
    ("GET", "/v1/users"),
    ("POST", "/v1/users"),
    ("PUT", "/v1/users/x"),
    ("GET", "/v1/user_profiles"),
    ("GET", "/v1/user_profiles/x"),
    ("GET", "/v1/location_profiles"),
    ("GET", "/v1/location_profiles/x"),
    ("POST", "/v1/healthalerts"),
    ("GET", "/v1/fpafloorplans"),
    ("GET", "/v1/fpafloorplans/x"),
    ("GET", "/v1/stores/x/fpafloorplans"),
    ("POST", "/v1/storehours"),
    ("POST", "/v1/predictedtraffic"),
    ("POST", "/v1/zone_transitions"),
    ("POST", "/v1/occupancy/adjust"),
    ("GET", "/v1/inventory/cameras"),
    ("GET", "/v1/inventory/channels"),
    ("GET", "/v1/inventory/appliances"),
    ("POST", "/v1/hlsapitoken"),
    ("POST", "/v1/video/export/start"),
    ("GET", "/v1/video/export/task/x"),
    ("DELETE", "/v1/video/export/task/x"),
    ("POST", "/v2/location"),
    ("POST", "/v2/location/create"),
    ("PUT", "/v2/location/x"),
    ("POST", "/v2/datamine"),
    ("GET", "/v1/no_such_thing"),
]


@pytest.mark.parametrize("method,path", ROUTES)
@pytest.mark.parametrize("auth", [None, (RN_KEY, "wrong"), ("ocds_user", "ocds_password")])
def test_every_route_needs_the_api_key_pair(emu_server, rn, method, path, auth):
    response = httpx.request(method, emu_server.url + path, auth=auth, json={})
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error": "unauthorized"}
    assert response.headers["www-authenticate"].startswith("Basic")


def test_configured_key_pair(emu_server):
    from include.emulator import EmulatorServer

    with EmulatorServer(retailnext_access_key="k", retailnext_secret_key="s", retailnext_stores=2) as other:
        assert other.state.retailnext_credentials == {"access_key": "k", "secret_key": "s"}
        assert httpx.get(other.url + "/v1/location", auth=("k", "s")).status_code == 200
        assert httpx.get(other.url + "/v1/location", auth=(RN_KEY, RN_SECRET)).status_code == 401


def test_unknown_route_and_wrong_method(rn_client):
    response = rn_client.get("/v1/no_such_thing")
    assert response.status_code == 404 and response.json()["ok"] is False
    response = rn_client.delete("/v1/location")
    assert response.status_code == 405 and "DELETE" in response.json()["error"]


def test_default_page_length_is_100_with_206_and_x_page_next(rn_client, rn):
    truth = rn.v1_locations()
    assert len(truth) > 100
    first = rn_client.get("/v1/location")
    assert first.status_code == 206
    assert first.headers["x-page-next"] == "100"
    assert first.json()["locations"] == truth[:100]
    last = rn_client.get("/v1/location", headers={"X-Page-Start": "100"})
    assert last.status_code == 200 and "x-page-next" not in last.headers
    assert last.json()["locations"] == truth[100:]


def test_page_length_is_clamped_to_100(rn_client):
    response = rn_client.get("/v1/location", headers={"X-Page-Length": "500"})
    assert response.status_code == 206
    assert len(response.json()["locations"]) == 100
    assert response.headers["x-page-next"] == "100"


@pytest.mark.parametrize("value", ["0", "-3", "abc", "1.5"])
def test_invalid_page_length_is_400(rn_client, value):
    response = rn_client.get("/v1/location", headers={"X-Page-Length": value})
    assert response.status_code == 400
    assert response.json()["ok"] is False and "X-Page-Length" in response.json()["error"]


@pytest.mark.parametrize("value", ["-1", "abc"])
def test_invalid_page_start_is_400(rn_client, value):
    response = rn_client.get("/v1/location", headers={"X-Page-Start": value})
    assert response.status_code == 400 and "X-Page-Start" in response.json()["error"]


def test_page_start_past_the_end_is_an_empty_last_page(rn_client):
    response = rn_client.get("/v1/location", headers={"X-Page-Start": "100000"})
    assert response.status_code == 200 and response.json() == {"locations": []}


def _unwrap(pages, key):
    out = []
    for page in pages:
        out.extend(page[key] if key else page)
    return out


@pytest.mark.parametrize(
    "method,path,body,key,truth",
    [
        ("GET", "/v1/location", None, "locations", lambda rn: rn.v1_locations()),
        ("GET", "/v1/users", None, "users", lambda rn: rn.users()),
        ("GET", "/v1/user_profiles", None, "user_profiles", lambda rn: rn.user_profiles()),
        ("GET", "/v1/location_profiles", None, "location_profiles", lambda rn: rn.location_profiles()),
        ("POST", "/v1/healthalerts", {"start_time": "2000-01-01T00:00:00Z"}, "result", lambda rn: rn.alerts()),
        ("GET", "/v1/fpafloorplans", None, None, lambda rn: rn.floorplans()),
    ],
)
@pytest.mark.parametrize("length", [1, 3, 7, 100])
def test_paging_returns_every_entry_exactly_once(rn_client, rn, rn_pages, method, path, body, key, truth, length):
    pages, statuses = rn_pages(rn_client, method, path, json=body, length=length)
    expected = truth(rn)
    assert _unwrap(pages, key) == expected
    assert statuses[-1] == 200 and all(s == 206 for s in statuses[:-1])
    assert all(len(p[key] if key else p) <= length for p in pages)
    assert len(pages) == max(1, -(-len(expected) // length))


def test_store_floorplans_paging_and_unknown_store(rn_client, rn, rn_pages):
    store = next(s for s in rn.store_list() if len(rn.floorplans(s.uuid)) == 2)
    pages, statuses = rn_pages(rn_client, "GET", f"/v1/stores/{store.uuid}/fpafloorplans", length=1)
    assert _unwrap(pages, None) == rn.floorplans(store.uuid)
    assert statuses == [206, 200]
    assert rn_client.get("/v1/stores/nope/fpafloorplans").status_code == 404


def test_floorplan_by_id_and_404(rn_client, rn):
    plan = rn.floorplans()[3]
    response = rn_client.get(f"/v1/fpafloorplans/{plan['id']}")
    assert response.status_code == 200 and response.json() == [plan]
    zone = plan["zones"][0]
    assert set(zone) == {
        "id", "name", "type", "location_id", "location_name", "area", "dwell_time_threshold_ms",
        "zone_threshold_mm", "points",
    }  # fmt: skip
    assert zone["points"][0] == zone["points"][-1] and len(zone["points"]) == 5
    assert rn.location(zone["location_id"]).name == zone["location_name"]
    missing = rn_client.get("/v1/fpafloorplans/does-not-exist")
    assert missing.status_code == 404 and missing.json()["ok"] is False


@pytest.mark.parametrize("kind,key", [("user_profiles", "user_profiles"), ("location_profiles", "location_profiles")])
def test_profile_by_id_and_404(rn_client, rn, kind, key):
    truth = getattr(rn, kind)()
    response = rn_client.get(f"/v1/{kind}/{truth[1]['id']}")
    assert response.status_code == 200 and response.json() == {key: [truth[1]]}
    missing = rn_client.get(f"/v1/{kind}/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["ok"] is False


def test_user_fields_as_in_the_reference(rn):
    for user in rn.users():
        assert {"type", "name", "email", "id", "disabled", "user_profile_id", "invitation_locale"} <= set(user)
        assert ("location_profile_id" in user) != ("location_ids" in user)
    assert {u["type"] for u in rn.users()} == {"local", "sso"}


@pytest.mark.parametrize("value,expected", [("local", "local"), ("SSO", "sso"), ("sso", "sso"), ("LOCAL", "local")])
def test_users_type_filter_is_case_insensitive(rn_client, rn, rn_pages, value, expected):
    pages, _ = rn_pages(rn_client, "GET", f"/v1/users?type={value}", length=4)
    users = _unwrap(pages, "users")
    assert users == [u for u in rn.users() if u["type"] == expected] and users


def test_users_email_filter_is_exact(rn_client, rn):
    user = rn.users()[5]
    assert rn_client.get("/v1/users", params={"email": user["email"]}).json() == {"users": [user]}
    assert rn_client.get("/v1/users", params={"email": user["email"].upper()}).json() == {"users": []}
    both = rn_client.get(
        "/v1/users", params={"email": user["email"], "type": "local" if user["type"] == "sso" else "sso"}
    )
    assert both.json() == {"users": []}


def test_users_unknown_type_is_400(rn_client):
    response = rn_client.get("/v1/users?type=ldap")
    assert response.status_code == 400 and "type" in response.json()["error"]


def test_healthalerts_start_time_is_at_or_after(rn_client, rn):
    alerts = rn.alerts()
    assert len(alerts) >= 20
    pivot = alerts[10]["alert_creation_time"]
    response = rn_client.post("/v1/healthalerts", json={"start_time": pivot})
    assert response.status_code == 200
    assert response.json()["result"] == alerts[10:]
    keys = [(a["alert_creation_time"], a["uuid"]) for a in response.json()["result"]]
    assert [k[0] for k in keys][0] == pivot


def test_healthalerts_new_and_resolved_alerts(rn_client, rn):
    store = rn.store_list()[0].uuid
    alert = rn.add_alert(store, "cameradown", "Camera offline")
    assert alert["resolved"] is False and alert["resolved_time"] is None
    newest = rn_client.post("/v1/healthalerts", json={"start_time": "2024-05-15T19:00:00Z"}).json()["result"]
    assert [a["uuid"] for a in newest] == [alert["uuid"]]
    rn.advance(600)
    resolved = rn.resolve_alert(alert["uuid"])
    assert resolved["resolved"] is True and resolved["severity"] == "resolved"
    again = rn_client.post("/v1/healthalerts", json={"start_time": "2024-05-15T19:00:00Z"}).json()["result"]
    assert again == [resolved] and again[0]["alert_creation_time"] == alert["alert_creation_time"]


def test_healthalerts_without_start_time_and_bad_start_time(rn_client, rn):
    assert rn_client.post("/v1/healthalerts").json()["result"] == rn.alerts()[:100]
    response = rn_client.post("/v1/healthalerts", json={"start_time": "yesterday"})
    assert response.status_code == 400 and "start_time" in response.json()["error"]


def test_storehours_pages_over_store_then_day(rn_client, rn, rn_pages):
    stores = [s.uuid for s in rn.store_list()[:3]]
    body = {"stores": stores, "start_date": "2024-05-10T00:00:00Z", "end_date": "2024-05-16T00:00:00Z"}
    pages, statuses = rn_pages(rn_client, "POST", "/v1/storehours", json=body, length=4)
    truth = rn.storehours(stores, "2024-05-10", "2024-05-16")
    got = []
    for page in pages:
        entries = [e for per_store in page["result"].values() for e in per_store.values()]
        assert 0 < len(entries) <= 4
        for store, per_store in page["result"].items():
            for day, entry in per_store.items():
                assert entry["store_uuid"] == store and entry["effective_day"] == day
        got.extend(entries)
    assert got == truth
    assert len(truth) == 3 * 7 and statuses[-1] == 200


def test_storehours_are_local_wall_times_with_z(rn_client, rn):
    night = rn.store_list()[1]  # 16:00-02:00
    london = rn.store_list()[2]  # Saturday opens Friday 22:00
    body = {"stores": [night.uuid, london.uuid], "start_date": "2024-05-17", "end_date": "2024-05-18T23:00:00Z"}
    result = rn_client.post("/v1/storehours", json=body).json()["result"]
    assert result[night.uuid]["2024-05-17T00:00:00Z"] == {
        "store_uuid": night.uuid,
        "effective_day": "2024-05-17T00:00:00Z",
        "open": "2024-05-17T16:00:00Z",
        "close": "2024-05-18T02:00:00Z",
    }
    assert result[london.uuid]["2024-05-18T00:00:00Z"]["open"] == "2024-05-17T22:00:00Z"
    assert result[london.uuid]["2024-05-18T00:00:00Z"]["close"] == "2024-05-18T18:00:00Z"


def test_storehours_closed_days_have_no_entry(rn, rn_client):
    closed = next(s for s in rn.store_list() if s.hours[6] is None)
    body = {"stores": [closed.uuid], "start_date": "2024-05-12T00:00:00Z", "end_date": "2024-05-13T00:00:00Z"}
    result = rn_client.post("/v1/storehours", json=body).json()["result"]
    assert list(result[closed.uuid]) == ["2024-05-13T00:00:00Z"]


@pytest.mark.parametrize(
    "body,needle",
    [
        ({"start_date": "2024-05-01", "end_date": "2024-05-02"}, "stores"),
        ({"stores": ["nope"], "start_date": "2024-05-01", "end_date": "2024-05-02"}, "stores[0]"),
        ({"stores": "STORE", "end_date": "2024-05-02"}, "start_date"),
        ({"stores": "STORE", "start_date": "2024-05-01", "end_date": "soon"}, "end_date"),
        ({"stores": "STORE", "start_date": "2024-05-03", "end_date": "2024-05-02"}, "end_date"),
        ({"stores": "STORE", "start_date": "2023-01-01", "end_date": "2024-05-02"}, "366"),
    ],
)
def test_storehours_errors(rn_client, rn, body, needle):
    if body.get("stores") == "STORE":
        body = {**body, "stores": [rn.store_list()[0].uuid]}
    response = rn_client.post("/v1/storehours", json=body)
    assert response.status_code == 400
    assert needle in response.json()["error"]


def test_faults_apply_to_retailnext_routes(rn_client, state):
    state.faults.add("status", path=r"^/v1/location$", status=503)
    assert rn_client.get("/v1/location").status_code == 503
    assert rn_client.get("/v1/location").status_code == 206
    state.faults.add("status", path=r"^/v2/datamine$", status=429, retry_after=2)
    response = rn_client.post("/v2/datamine", json={})
    assert response.status_code == 429 and response.headers["retry-after"] == "2"
    assert state.requests.records("/v2/datamine")[-1].auth is None
