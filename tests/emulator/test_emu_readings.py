"""Readings: switches for what the reference leaves open or contradicts (``state.ocds.set_readings``)."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import API, fetch_all, get


def test_readings_are_listed_validated_and_reset(client, state, emu_server):
    assert client.get("/_emulator/ocds/readings").json()["spelling"] == "canonical"
    assert client.post("/_emulator/ocds/readings", json={"spelling": "alternate"}).json()["spelling"] == "alternate"
    assert client.post("/_emulator/ocds/readings", json={"spelling": "odd"}).status_code == 400
    assert client.post("/_emulator/ocds/readings", json={"nope": 1}).status_code == 400
    state.ocds.reset()
    assert state.ocds.readings.spelling == "canonical"


@pytest.mark.parametrize(
    ("name", "names"),
    [
        ("item_itemlocation", {"loctype": "loc_type"}),
        ("item_upc", {"originalunitretail": "orginalunitretail"}),
        ("location_retailstore", {"sellingsqfeet": "selllingsqfeet"}),
        ("inventory_future", {"onorderquantity": "onorderquqntity"}),
        ("item_dimensionvalue", {"displayseq": "displayseg"}),
        ("location_warehouse", {"warehouseid": "warehouseId", "orgentitytype": "ordentitytype"}),
    ],
)
def test_alternate_spellings_are_the_references_other_spelling(client, state, name, names):
    plain = get(client, name, limit=3).json()["items"]
    state.ocds.set_readings(spelling="alternate")
    other = get(client, name, limit=3).json()["items"]
    assert [list(r) for r in other] == [[names.get(k, k) for k in r] for r in plain]
    assert [list(r.values()) for r in other] == [list(r.values()) for r in plain]


def test_alternate_promotion_spellings(client, state):
    state.ocds.set_readings(spelling="alternate")
    rewards = [r for o in fetch_all(client, "item_promotion")[0] for r in o["rewards"]]
    assert all({"appyind", "pricestrictvalue1", "rwardsmerch"} <= set(r) for r in rewards)
    assert all({"mrchlevel", "unisubclass"} <= set(m) for r in rewards for m in r["rwardsmerch"] or ())


def test_vatregion_as_a_flag(client, state):
    assert {type(r["vatregion"]) for r in get(client, "location_retailstore").json()["items"]} == {int}
    state.ocds.set_readings(vatregion="flag")
    assert {r["vatregion"] for r in get(client, "location_retailstore").json()["items"]} == {"Y"}


def test_local_date_times_with_the_server_offset(client, state):
    plain = get(client, "vat", limit=5).json()["items"]
    state.ocds.set_readings(local_datetimes="offset")
    shown = get(client, "vat", limit=5).json()["items"]
    assert [r["activedate"] for r in shown] == [f"{r['activedate']}-05:00" for r in plain]
    price = get(client, "item_price", pricetype="REGULAR", limit=1).json()["items"][0]
    assert price["effective"].endswith("T00:00:00-05:00")


@pytest.mark.parametrize("served", ["UPSERT", "NA", "update", "MERGE", None])
def test_actions_can_be_relabelled(client, state, served):
    state.ocds.set_readings(actions={"diff": {"INSERT": served}})
    rows = get(client, "diff").json()["items"]
    if served is None:
        assert all("action" not in r for r in rows)
    else:
        assert {r["action"] for r in rows} == {served} and list(rows[0])[0] == "action"


def test_promotion_location_actions_can_be_relabelled(client, state):
    state.ocds.set_readings(actions={"item_promotion": {"INSERT": "UPSERT"}})
    offers = fetch_all(client, "item_promotion")[0]
    assert {loc["action"] for o in offers for loc in o["locations"]} == {"UPSERT", "DELETE"}
    assert client.get(f"{API}/item/promotion").status_code == 200
