"""RetailNext /v1/zone_transitions."""

from __future__ import annotations

import pytest


def zone_locations(rn, store_index=0):
    store = rn.store_list()[store_index].uuid
    plan = rn.floorplans(store)[0]
    return plan, [z["location_id"] for z in plan["zones"]]


def test_reference_shaped_response(rn_client, rn):
    plan, zones = zone_locations(rn)
    body = {
        "locations": zones[:2],
        "date_ranges": [{"start": "2024-05-06", "finish": "2024-05-13"}],
        "metrics": ["customer"],
        "transitions": "direct_and_indirect",
        "dwells": "all_traffic",
        "time_ranges": [{"start": "10:30", "finish": "13:00"}],
        "days_of_week": ["friday", "saturday"],
    }
    response = rn_client.post("/v1/zone_transitions", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert [m["name"] for m in data["metrics"]] == ["customer"]
    entry = data["metrics"][0]["data"][0]
    assert entry["floorplan"] == {
        "uuid": plan["id"], "name": plan["name"], "store_uuid": plan["store_id"], "store_name": plan["store_name"],
    }  # fmt: skip
    assert [z["location_uuid"] for z in entry["zones"]] == zones[:2]
    assert all(set(z) == {"uuid", "name", "location_uuid", "location_name"} for z in entry["zones"])
    ids = [z["uuid"] for z in entry["zones"]]
    pairs = [(t["from_zone_id"], t["to_zone_id"]) for t in entry["transitions"]]
    assert pairs == [(a, b) for a in ids for b in ids]
    for zone in ids:
        leaving = [t for t in entry["transitions"] if t["from_zone_id"] == zone]
        total = sum(t["value"] for t in leaving)
        assert total > 0
        assert all(t["percentage"] == round(100 * t["value"] / total) for t in leaving)
    assert rn_client.post("/v1/zone_transitions", json=body).json() == data, "deterministic"


def test_defaults_and_metric_relations(rn_client, rn):
    _, zones = zone_locations(rn)
    base = {"locations": zones, "date_ranges": [{"start": "2024-05-01", "finish": "2024-05-08"}]}

    def values(**extra):
        data = rn_client.post("/v1/zone_transitions", json={**base, **extra}).json()
        return {m["name"]: {(t["from_zone_id"], t["to_zone_id"]): t["value"] for t in m["data"][0]["transitions"]}
                for m in data["metrics"]}  # fmt: skip

    default = values()
    assert list(default) == ["all"]
    split = values(metrics=["all", "customer", "employee"])
    assert split["all"] == default["all"]
    assert all(split["all"][k] == split["customer"][k] + split["employee"][k] for k in split["all"])
    dwell = values(dwells="dwells_only")["all"]
    non = values(dwells="non_dwells")["all"]
    every = values(dwells="all_traffic")["all"]
    assert dwell == default["all"]
    assert all(dwell[k] + non[k] == every[k] for k in every)
    direct = values(transitions="direct_only")["all"]
    indirect = values(transitions="direct_and_indirect")["all"]
    assert all(indirect[k] >= direct[k] for k in direct) and indirect != direct
    directionless = values(transitions="directionless")["all"]
    assert all(directionless[(a, b)] == directionless[(b, a)] for a, b in directionless)
    fewer_days = values(days_of_week=["monday"])["all"]
    assert sum(fewer_days.values()) < sum(default["all"].values())
    short = values(time_ranges=[{"start": "12:00", "finish": "13:00"}])["all"]
    assert sum(short.values()) < sum(default["all"].values())


def test_future_days_count_nothing(rn_client, rn):
    _, zones = zone_locations(rn)
    body = {"locations": zones, "date_ranges": [{"start": "2024-05-16", "finish": "2024-05-20"}]}
    data = rn_client.post("/v1/zone_transitions", json=body).json()
    assert all(t["value"] == 0 and t["percentage"] == 0 for t in data["metrics"][0]["data"][0]["transitions"])


def test_zones_of_several_floorplans(rn_client, rn):
    _, zones_a = zone_locations(rn, 0)
    _, zones_b = zone_locations(rn, 1)
    body = {"locations": [zones_b[0], zones_a[0], zones_a[1]],
            "date_ranges": [{"start": "2024-05-01", "finish": "2024-05-02"}]}  # fmt: skip
    data = rn_client.post("/v1/zone_transitions", json=body).json()["metrics"][0]["data"]
    assert len(data) == 2
    assert [len(d["zones"]) for d in data] == [2, 1]
    assert len(data[1]["transitions"]) == 1


@pytest.mark.parametrize(
    "change,needle",
    [
        ({"locations": []}, "locations"),
        ({"locations": ["STORE"]}, "FPA zone"),
        ({"date_ranges": []}, "date_ranges"),
        ({"date_ranges": [{"start": "2024-05-08", "finish": "2024-05-01"}]}, "before"),
        ({"date_ranges": [{"start": "May 1", "finish": "2024-05-02"}]}, "start"),
        ({"metrics": ["shoppers"]}, "metrics"),
        ({"transitions": "all"}, "transitions"),
        ({"dwells": "long"}, "dwells"),
        ({"time_ranges": [{"start": "13:00", "finish": "10:00"}]}, "before"),
        ({"time_ranges": [{"from": "10:00", "until": "13:00"}]}, "time_ranges[0]"),
        ({"days_of_week": ["funday"]}, "days_of_week"),
        ({"group_bys": []}, "group_bys"),
    ],
)
def test_zone_transition_errors(rn_client, rn, change, needle):
    _, zones = zone_locations(rn)
    body = {"locations": zones, "date_ranges": [{"start": "2024-05-01", "finish": "2024-05-08"}], **change}
    if body["locations"] == ["STORE"]:
        body["locations"] = [rn.store_list()[0].uuid]
    response = rn_client.post("/v1/zone_transitions", json=body)
    assert response.status_code == 400
    assert response.json()["ok"] is False and needle in response.json()["error"]
