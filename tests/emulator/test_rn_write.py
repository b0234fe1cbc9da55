"""RetailNext phase 2 writes: occupancy adjustments, creating and updating users."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

LA = ZoneInfo("America/Los_Angeles")


def current_occupancy(client, store):
    body = {
        "date_ranges": [{"from": {"name": "today"}, "to": {"name": "now"}}],
        "group_bys": [{"group": "location", "unit": "", "value": 0}],
        "locations": [store],
        "metrics": ["total_occupancy"],
        "time_ranges": [{"type": "store_hours"}],
        "time_zone": "local",
    }
    response = client.post("/v2/datamine", json=body)
    assert response.status_code == 200, response.text
    return response.json()["metrics"][0]["data"][0]["value"]


# ---------------------------------------------------------------------------- occupancy


def test_adjustment_changes_total_occupancy_afterwards(rn_client, rn):
    store = rn.store_list()[0].uuid  # LA: 12:07, open
    before = current_occupancy(rn_client, store)
    response = rn_client.post(
        "/v1/occupancy/adjust",
        json={"store_uuid": store, "adjustment_time": "2024-05-15T18:00:00+00:00", "adjustment_count": 5},  # fmt: skip
    )
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert current_occupancy(rn_client, store) == before + 5
    earlier = rn.aggregate(store, "total_occupancy", datetime(2024, 5, 15, 9, tzinfo=LA),
                           datetime(2024, 5, 15, 10, 45, tzinfo=LA), True)  # fmt: skip
    buckets = rn.store_day(store, "2024-05-15")
    assert earlier[0] == [b for b in buckets if b["offset"] == 630][0]["total_occupancy"]
    at_11 = [b for b in buckets if b["offset"] == 660][0]["total_occupancy"]
    assert at_11 >= 5, "adjustment counted from the bucket containing it"


def test_negative_adjustment_never_goes_below_zero(rn_client, rn):
    store = rn.store_list()[0].uuid
    before = current_occupancy(rn_client, store)
    assert (
        rn_client.post("/v1/occupancy/adjust", json={"store_uuid": store, "adjustment_count": -100000}).status_code
        == 200
    )
    assert current_occupancy(rn_client, store) == before > 0, "the running bucket is not reported yet"
    rn.advance(15 * 60)
    assert current_occupancy(rn_client, store) == 0


@pytest.mark.parametrize(
    "body,needle",
    [
        ({"adjustment_count": 5}, "store_uuid"),
        ({"store_uuid": "STORE"}, "adjustment_count"),
        ({"store_uuid": "STORE", "adjustment_count": 0}, "non-zero"),
        ({"store_uuid": "STORE", "adjustment_count": 2.5}, "non-zero integer"),
        ({"store_uuid": "nope", "adjustment_count": 1}, "store_uuid"),
        ({"store_uuid": "STORE", "adjustment_count": 1, "adjustment_time": "2024-05-15T05:00:00Z"}, "store hours"),
        ({"store_uuid": "STORE", "adjustment_count": 1, "adjustment_date": "2024-05-16T18:00:00Z"}, "future"),
        ({"store_uuid": "STORE", "adjustment_count": 1, "adjustment_time": "noon"}, "ISO"),
        ({"store_uuid": "NOLIMIT", "adjustment_count": 1}, "occupancy limit"),
    ],
)
def test_adjustment_refusals(rn_client, rn, body, needle):
    names = {"STORE": rn.store_list()[0].uuid, "NOLIMIT": rn.store_list()[3].uuid}
    body = {k: names.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = rn_client.post("/v1/occupancy/adjust", json=body)
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]


def test_adjustment_refused_when_closed(rn_client, rn):
    store = rn.store_list()[0].uuid
    rn.freeze("2024-05-15T06:00:00Z")  # 23:00 in Los Angeles
    response = rn_client.post("/v1/occupancy/adjust", json={"store_uuid": store, "adjustment_count": 1})
    assert response.status_code == 400 and "store hours" in response.json()["error"]


# ---------------------------------------------------------------------------- users

SSO_USER = {"email": "sandra.bloch@domain.com", "type": "sso", "name": "Sandra Bloch", "disabled": False}


def test_create_sso_user(rn_client, rn):
    profile, location_profile = rn.user_profiles()[1]["id"], rn.location_profiles()[0]["id"]
    body = {"user": {**SSO_USER, "user_profile_id": profile, "location_profile_id": location_profile}}
    response = rn_client.post("/v1/users", json=body)
    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert user["type"] == "sso" and user["email"] == SSO_USER["email"] and user["name"] == "Sandra Bloch"
    assert user["user_profile_id"] == profile and user["location_profile_id"] == location_profile
    assert user["id"] and user["disabled"] is False and user["last_sign_in_at"] is None
    listed = rn_client.get("/v1/users", params={"email": SSO_USER["email"]}).json()["users"]
    assert listed == [user]
    assert rn.users()[-1] == user


def test_create_user_with_custom_locations_and_default_name(rn_client, rn):
    stores = [rn.store_list()[0].uuid, rn.store_list()[1].uuid]
    body = {"user": {"email": "x@domain.com", "type": "SSO", "user_profile_id": rn.user_profiles()[0]["id"],
                     "location_ids": stores}}  # fmt: skip
    user = rn_client.post("/v1/users", json=body).json()["user"]
    assert user["name"] == "x@domain.com" and user["location_ids"] == stores and "location_profile_id" not in user


@pytest.mark.parametrize(
    "user,status,needle",
    [
        ({"type": "sso"}, 400, "email"),
        ({"email": "a@b.c"}, 400, "type"),
        ({"email": "a@b.c", "type": "local"}, 400, "sso"),
        ({"email": "EXISTING", "type": "sso"}, 409, "already exists"),
        ({"email": "a@b.c", "type": "sso", "location_profile_id": "LP"}, 400, "user_profile_id"),
        ({"email": "a@b.c", "type": "sso", "user_profile_id": "UP"}, 400, "location_profile_id or"),
        ({"email": "a@b.c", "type": "sso", "user_profile_id": "nope", "location_profile_id": "LP"}, 400, "not found"),
        ({"email": "a@b.c", "type": "sso", "user_profile_id": "UP", "location_profile_id": "nope"}, 400, "not found"),
        (
            {
                "email": "a@b.c",
                "type": "sso",
                "user_profile_id": "UP",
                "location_profile_id": "LP",
                "location_ids": ["x"],
            },
            400,
            "mutually exclusive",
        ),
        ({"email": "a@b.c", "type": "sso", "user_profile_id": "UP", "location_ids": ["nope"]}, 400, "not found"),
        ({"email": "a@b.c", "type": "sso", "user_profile_id": "UP", "location_ids": []}, 400, "non-empty"),
        ({"email": "a@b.c", "type": "sso", "role": "admin"}, 400, "role"),
    ],
)
def test_create_user_refusals(rn_client, rn, user, status, needle):
    names = {"EXISTING": rn.users()[0]["email"].upper(), "UP": rn.user_profiles()[0]["id"],
             "LP": rn.location_profiles()[0]["id"]}  # fmt: skip
    user = {k: names.get(v, v) if isinstance(v, str) else v for k, v in user.items()}
    response = rn_client.post("/v1/users", json={"user": user})
    assert response.status_code == status, response.text
    assert needle in response.json()["error"]
    assert rn_client.post("/v1/users", json=user).status_code == 400, "the body must wrap the user"


def test_update_user_permissions(rn_client, rn):
    user = next(u for u in rn.users() if "location_profile_id" in u)
    new_profile = next(p["id"] for p in rn.user_profiles() if p["id"] != user["user_profile_id"])
    new_lp = next(p["id"] for p in rn.location_profiles() if p["id"] != user["location_profile_id"])
    got = rn_client.put(f"/v1/users/{user['id']}", json={"user_profile_id": new_profile, "location_profile_id": new_lp})
    assert got.status_code == 200, got.text
    assert got.json()["user"] == {**user, "user_profile_id": new_profile, "location_profile_id": new_lp}
    custom = [rn.store_list()[2].uuid]
    got = rn_client.put(f"/v1/users/{user['id']}", json={"location_ids": custom}).json()["user"]
    assert got["location_ids"] == custom and "location_profile_id" not in got
    assert got["last_sign_in_at"] == user["last_sign_in_at"]
    back = rn_client.put(f"/v1/users/{user['id']}", json={"location_profile_id": new_lp}).json()["user"]
    assert back["location_profile_id"] == new_lp and "location_ids" not in back
    assert next(u for u in rn.users() if u["id"] == user["id"]) == back


@pytest.mark.parametrize(
    "body,needle",
    [
        ({}, "at least one"),
        ({"name": "New"}, "name"),
        ({"user_profile_id": "nope"}, "not found"),
        ({"location_profile_id": "LP", "location_ids": ["x"]}, "mutually exclusive"),
    ],
)
def test_update_user_refusals(rn_client, rn, body, needle):
    body = {k: (rn.location_profiles()[0]["id"] if v == "LP" else v) for k, v in body.items()}
    response = rn_client.put(f"/v1/users/{rn.users()[0]['id']}", json=body)
    assert response.status_code == 400 and needle in response.json()["error"]


def test_update_unknown_user_is_404(rn_client, rn):
    response = rn_client.put("/v1/users/nope", json={"user_profile_id": rn.user_profiles()[0]["id"]})
    assert response.status_code == 404


def test_control_add_user_any_type(rn):
    user = rn.add_user("local.one@domain.com", type="local")
    assert user["type"] == "local" and rn.users()[-1] == user
    assert user["invitation_accepted"] is False


def test_control_timestamps_are_before_now(rn):
    now = datetime(2024, 5, 15, 19, 7, tzinfo=ZoneInfo("UTC"))
    for alert in rn.alerts():
        created = datetime.fromisoformat(alert["alert_creation_time"])
        assert now - timedelta(days=31) < created < now
        if alert["resolved"]:
            assert datetime.fromisoformat(alert["resolved_time"]) > created
