"""RetailNext locations: /v1/location, /v2/location filters, extra fields, the silent
10,000-node cap, and (phase 2) /v2/location/create and PUT /v2/location/<uuid>.
"""

from __future__ import annotations

import pytest

NODE_KEYS = {"uuid", "parent_uuid", "name", "type", "location_type", "area", "archive_date"}


def nodes(client, body=None):
    response = client.post("/v2/location", json=body) if body is not None else client.post("/v2/location")
    assert response.status_code == 200, response.text
    data = response.json()
    assert set(data) == {"nodes"} and len(data["nodes"]) == 1
    return data["nodes"][0]


def test_hierarchy(rn):
    locs = {loc["uuid"]: loc for loc in rn.locations()}
    org = rn.subscription_uuid
    assert org not in locs
    types = {loc["location_type"] for loc in locs.values()}
    assert types == {"region", "store", "entrance", "fitting_room", "display", "other"}
    tops = [loc for loc in locs.values() if loc["parent_uuid"] == org]
    assert tops and all(loc["location_type"] == "region" for loc in tops)
    nested = [loc for loc in locs.values() if loc["location_type"] == "region" and loc["parent_uuid"] != org]
    assert nested and all(locs[loc["parent_uuid"]]["location_type"] == "region" for loc in nested)
    for loc in locs.values():
        if loc["location_type"] == "store":
            assert locs[loc["parent_uuid"]]["location_type"] == "region"
            assert loc["time_zone"]
        elif loc["location_type"] != "region":
            assert locs[loc["parent_uuid"]]["location_type"] == "store"
            assert loc["time_zone"] == locs[loc["parent_uuid"]]["time_zone"]
        else:
            assert loc["time_zone"] is None
    zone_locations = {z["location_id"] for p in rn.floorplans() for z in p["zones"]}
    assert zone_locations <= set(locs) and all(locs[z]["location_type"] == "other" for z in zone_locations)
    assert len(rn.stores()) == 10


V1_KEYS = {"id", "parent_id", "name", "type", "store_id", "pos_id", "time_zone", "time_zone_abbrev",
           "current_utc_offset", "address"}


def test_v1_location_objects_have_the_public_clients_shape(rn_client, rn):
    """The reference shows no v1 body; the public client reads these fields (v2 keeps uuid/parent_uuid)."""
    v1 = rn_client.get("/v1/location", headers={"X-Page-Length": "100"}).json()["locations"]
    v2 = nodes(rn_client)
    assert all(set(loc) == V1_KEYS for loc in v1)
    assert [(x["id"], x["parent_id"], x["name"], x["type"]) for x in v1] == [
        (n["uuid"], n["parent_uuid"], n["name"], n["location_type"]) for n in v2[:100]]
    assert all(set(node) == NODE_KEYS for node in v2)
    assert all(node["type"] == "location" for node in v2)
    stores = {s["uuid"]: s for s in rn.stores()}
    for loc in v1:
        store = stores.get(loc["id"])
        if store:
            assert (loc["store_id"], loc["pos_id"], loc["time_zone"]) == (store["store_id"], store["pos_id"],
                                                                         store["time_zone"])
            assert loc["address"]["street_address"] and loc["current_utc_offset"][0] in "+-"
        if loc["type"] == "region":
            assert loc["time_zone"] is None and loc["time_zone_abbrev"] is None


def test_v2_without_body_returns_every_location(rn_client, rn):
    assert nodes(rn_client) == rn.nodes()
    assert nodes(rn_client, {}) == rn.nodes()


@pytest.mark.parametrize("types", [["store"], ["region"], ["entrance", "display"], ["fitting_room", "other"]])
def test_v2_location_type_filter(rn_client, rn, types):
    got = nodes(rn_client, {"where": {"and": [{"location_types": types}]}})
    assert got == [n for n in rn.nodes() if n["location_type"] in types] and got
    assert nodes(rn_client, {"where": {"location_types": types}}) == got


def test_v2_uuid_filter_and_conjunction(rn_client, rn):
    all_nodes = rn.nodes()
    chosen = [all_nodes[2]["uuid"], all_nodes[3]["uuid"], all_nodes[12]["uuid"], "unknown"]
    got = nodes(rn_client, {"where": {"uuids": chosen}})
    assert [n["uuid"] for n in got] == [n["uuid"] for n in all_nodes if n["uuid"] in chosen]
    both = nodes(rn_client, {"where": {"and": [{"uuids": chosen}, {"location_types": ["store"]}]}})
    assert both == [n for n in got if n["location_type"] == "store"] and both


def test_v2_extra_fields_only_on_stores(rn_client, rn):
    body = {
        "extra_fields": [f"store.{f}" for f in ("time_zone", "store_id", "pos_id", "pos_division_id",
                                                "staff_hour_id", "occupancy_limit")],
        "where": {"and": [{"location_types": ["store", "entrance"]}]},
    }  # fmt: skip
    got = nodes(rn_client, body)
    stores = {s["uuid"]: s for s in rn.stores()}
    for node in got:
        if node["location_type"] == "store":
            store = stores[node["uuid"]]
            for field in ("time_zone", "store_id", "pos_id", "pos_division_id", "staff_hour_id", "occupancy_limit"):
                assert node[field] == store[field]
        else:
            assert set(node) == NODE_KEYS
    limits = [s["occupancy_limit"] for s in stores.values()]
    assert None in limits and any(isinstance(v, int) for v in limits)
    assert {s["time_zone"] for s in stores.values()} >= {"America/Los_Angeles", "America/New_York", "Europe/London"}


def test_v2_reference_example_store_query(rn_client, rn):
    body = {
        "extra_fields": ["store.store_id", "store.occupancy_limit"],
        "where": {"and": [{"location_types": ["store"]}]},
    }
    got = nodes(rn_client, body)
    assert len(got) == 10
    assert set(got[0]) == NODE_KEYS | {"store_id", "occupancy_limit"}


@pytest.mark.parametrize(
    "body,needle",
    [
        ({"extra_fields": ["store.color"]}, "extra_fields[0]"),
        ({"extra_fields": ["time_zone"]}, "extra_fields[0]"),
        ({"where": {"location_types": ["kiosk"]}}, "kiosk"),
        ({"where": {"names": ["x"]}}, "names"),
        ({"where": {"and": {"uuids": []}}}, "and"),
        ({"where": {"uuids": "abc"}}, "uuids"),
        ({"select": []}, "select"),
        ([1, 2], "object"),
    ],
)
def test_v2_invalid_queries_are_400(rn_client, body, needle):
    response = rn_client.post("/v2/location", json=body)
    assert response.status_code == 400
    assert response.json()["ok"] is False and needle in response.json()["error"]


def test_v2_silently_caps_at_10000_nodes(rn_client, rn):
    store = rn.store_list()[0].uuid
    total_before = len(rn.nodes())
    rn.add_locations(store, 10_050 - total_before, "display")
    assert len(rn.nodes()) == 10_050
    got = nodes(rn_client)
    assert len(got) == 10_000 and got == rn.nodes()[:10_000]
    displays = nodes(rn_client, {"where": {"location_types": ["display"]}})
    assert displays == [n for n in rn.nodes() if n["location_type"] == "display"][:10_000]
    assert len(displays) < 10_000 or len([n for n in rn.nodes() if n["location_type"] == "display"]) > 10_000
    stores = nodes(rn_client, {"where": {"location_types": ["store"]}})
    assert len(stores) == 10, "a more specific query sees everything"
    # v1 pages through everything (no cap).
    last = rn_client.get("/v1/location", headers={"X-Page-Start": "10000"})
    assert last.status_code == 200 and len(last.json()["locations"]) == 50


def test_archived_locations_are_listed_with_archive_date(rn_client, rn):
    victim = rn.nodes()[5]["uuid"]
    rn.archive_location(victim, "2024-05-01T10:00:00Z")
    node = next(n for n in nodes(rn_client) if n["uuid"] == victim)
    assert node["archive_date"] == "2024-05-01T10:00:00Z"


# ---------------------------------------------------------------------------- phase 2: create


def test_create_sublocation(rn_client, rn):
    store = rn.store_list()[0].uuid
    body = {"name": "Front Table", "parent_uuid": store, "location_type": "display", "area": 53.1,
            "aggregate_to_parent": True, "aggregate_to_store": False}  # fmt: skip
    response = rn_client.post("/v2/location/create", json=body)
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["name"] == "Front Table" and created["parent_uuid"] == store
    assert created["location_type"] == "display" and created["area"] == 53.1
    assert created["aggregate_to_parent"] is True and created["aggregate_to_store"] is False
    assert created["type"] == "location" and created["archive_date"] is None
    assert rn.nodes()[-1] == {k: v for k, v in created.items() if not k.startswith("aggregate")}


def test_create_entrance_defaults_and_parent_UUID_spelling(rn_client, rn):
    store = rn.store_list()[1].uuid
    created = rn_client.post(
        "/v2/location/create", json={"name": "Door 3", "parent_UUID": store, "location_type": "entrance"}
    ).json()
    assert created["aggregate_to_parent"] is True and created["aggregate_to_store"] is True
    other = rn_client.post(
        "/v2/location/create", json={"name": "Nook", "parent_uuid": store, "location_type": "other"}
    ).json()
    assert other["aggregate_to_parent"] is False and other["aggregate_to_store"] is False


def test_create_regions_under_organization_and_region(rn_client, rn):
    top = rn_client.post(
        "/v2/location/create", json={"name": "North", "parent_uuid": rn.subscription_uuid, "location_type": "region"}
    )
    assert top.status_code == 200
    sub = rn_client.post(
        "/v2/location/create", json={"name": "North-1", "parent_uuid": top.json()["uuid"], "location_type": "region"}
    )
    assert sub.status_code == 200 and sub.json()["parent_uuid"] == top.json()["uuid"]
    assert "aggregate_to_parent" not in sub.json()


@pytest.mark.parametrize(
    "body,needle",
    [
        ({"parent_uuid": "STORE", "location_type": "display"}, "name"),
        ({"name": "x", "location_type": "display"}, "parent_uuid"),
        ({"name": "x", "parent_uuid": "STORE"}, "location_type"),
        ({"name": "x", "parent_uuid": "STORE", "location_type": "store"}, "not supported"),
        ({"name": "x", "parent_uuid": "STORE", "location_type": "kiosk"}, "location_type"),
        ({"name": "x", "parent_uuid": "nope", "location_type": "display"}, "not found"),
        ({"name": "x", "parent_uuid": "REGION", "location_type": "display"}, "must be a store"),
        ({"name": "x", "parent_uuid": "STORE", "location_type": "region"}, "region or the organization"),
        ({"name": "x", "parent_uuid": "REGION", "location_type": "region", "area": 3}, "area"),
        ({"name": "x", "parent_uuid": "STORE", "location_type": "display", "area": "big"}, "area"),
        ({"name": "x", "parent_uuid": "STORE", "location_type": "display", "aggregate_to_store": "yes"}, "aggregate"),
        ({"name": "x", "parent_uuid": "STORE", "location_type": "display", "color": "red"}, "color"),
    ],
)
def test_create_refusals(rn_client, rn, body, needle):
    store = rn.store_list()[0].uuid
    region = next(n["uuid"] for n in rn.nodes() if n["location_type"] == "region")
    body = {k: (store if v == "STORE" else region if v == "REGION" else v) for k, v in body.items()}
    response = rn_client.post("/v2/location/create", json=body)
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]


# ---------------------------------------------------------------------------- phase 2: update


def test_update_store_as_in_the_reference(rn_client, rn):
    store = rn.store_list()[0].uuid
    region = [n["uuid"] for n in rn.nodes() if n["location_type"] == "region"][-1]
    body = {"name": "Willow Glen Updated", "parent_uuid": region, "area": 270.8, "occupancy_limit": 20}
    response = rn_client.put(f"/v2/location/{store}", json=body)
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["name"] == "Willow Glen Updated" and got["parent_uuid"] == region
    assert got["area"] == 270.8 and got["occupancy_limit"] == 20 and got["location_type"] == "store"
    assert next(s for s in rn.stores() if s["uuid"] == store)["occupancy_limit"] == 20
    assert all(p["store_name"] == "Willow Glen Updated" for p in rn.floorplans(store))


def test_update_bandwidth_zero_clears(rn_client, rn):
    store = rn.store_list()[2].uuid
    assert (
        rn_client.put(f"/v2/location/{store}", json={"bandwidth_limit_kilobits_per_second": 512}).json()[
            "bandwidth_limit_kilobits_per_second"
        ]
        == 512
    )
    cleared = rn_client.put(f"/v2/location/{store}", json={"bandwidth_limit_kilobits_per_second": 0}).json()
    assert cleared["bandwidth_limit_kilobits_per_second"] is None


def test_update_sublocation(rn_client, rn):
    store0, store1 = rn.store_list()[0].uuid, rn.store_list()[1].uuid
    sub = next(n for n in rn.nodes() if n["location_type"] == "display" and n["parent_uuid"] == store0)
    body = {"location_type": "other", "parent_uuid": store1, "aggregate_to_parent": True, "aggregate_to_store": True}
    got = rn_client.put(f"/v2/location/{sub['uuid']}", json=body).json()
    assert got["location_type"] == "other" and got["parent_uuid"] == store1
    assert got["aggregate_to_parent"] is True and got["aggregate_to_store"] is True


@pytest.mark.parametrize(
    "target,body,needle",
    [
        ("STORE", {"occupancy_limit": -1}, "occupancy_limit"),
        ("STORE", {"location_type": "display"}, "only be changed on sublocations"),
        ("STORE", {"aggregate_to_parent": True}, "only applicable to sublocations"),
        ("STORE", {"parent_uuid": "STORE2"}, "region or the organization"),
        ("SUB", {"occupancy_limit": 5}, "only applicable to stores"),
        ("SUB", {"bandwidth_limit_kilobits_per_second": 5}, "only applicable to stores"),
        ("SUB", {"location_type": "store"}, "location_type"),
        ("SUB", {"parent_uuid": "REGION"}, "must be a store"),
        ("REGION", {"area": 4}, "stores and sublocations"),
        ("REGION", {"parent_uuid": "CHILD"}, "descendants"),
        ("STORE", {"name": ""}, "name"),
        ("STORE", {"colour": "red"}, "colour"),
        ("STORE", {}, "nothing to update"),
    ],
)
def test_update_refusals(rn_client, rn, target, body, needle):
    stores = rn.store_list()
    regions = [n for n in rn.nodes() if n["location_type"] == "region"]
    top = next(r for r in regions if r["parent_uuid"] == rn.subscription_uuid)
    child = next(r for r in regions if r["parent_uuid"] == top["uuid"])
    sub = next(n for n in rn.nodes() if n["location_type"] == "display")
    names = {"STORE": stores[0].uuid, "STORE2": stores[1].uuid, "SUB": sub["uuid"], "REGION": top["uuid"],
             "CHILD": child["uuid"]}  # fmt: skip
    body = {k: names.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = rn_client.put(f"/v2/location/{names[target]}", json=body)
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]


def test_update_unknown_location_is_404(rn_client):
    response = rn_client.put("/v2/location/00000000-0000-0000-0000-000000000000", json={"name": "x"})
    assert response.status_code == 404 and response.json()["ok"] is False
