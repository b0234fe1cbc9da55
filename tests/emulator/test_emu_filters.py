"""Query filters: node level/id, price type, severity, entity type and their 400s."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import API, NODE_ENDPOINTS, PATHS, fetch_all, get, key


def _extra(name: str) -> dict:
    return {"pricetype": "REGULAR"} if name == "item_price" else {}


@pytest.mark.parametrize("name", NODE_ENDPOINTS)
@pytest.mark.parametrize("given", [{"nodelevel": "STORE"}, {"nodeid": "1001"}])
def test_nodelevel_and_nodeid_go_together(client, name, given):
    response = get(client, name, **given, **_extra(name))
    assert response.status_code == 400
    message = response.json()["message"]
    assert "nodelevel" in message and "nodeid" in message


@pytest.mark.parametrize("name", NODE_ENDPOINTS)
def test_nodelevel_must_be_documented(client, name):
    response = get(client, name, nodelevel="PLANET", nodeid=1, **_extra(name))
    assert response.status_code == 400
    assert "nodelevel" in response.json()["message"]


@pytest.mark.parametrize("nodeid", ["abc", "1.5", "-3"])
def test_nodeid_must_be_a_non_negative_integer(client, nodeid):
    response = get(client, "item", nodelevel="STORE", nodeid=nodeid)
    assert response.status_code == 400
    assert "nodeid" in response.json()["message"]


def test_promotions_have_no_warehouse_level(client):
    assert get(client, "item_promotion", nodelevel="WAREHOUSE", nodeid=9001).status_code == 400
    assert get(client, "item", nodelevel="WAREHOUSE", nodeid=9001).status_code == 200
    assert get(client, "item_promotion", nodelevel="STORE", nodeid=1001).status_code == 200


def test_node_parameter_names_are_case_insensitive(client):
    upper = client.get(f"{API}/location/retailstore", params={"nodeId": 1, "nodeLevel": "DISTRICT"}).json()
    lower = get(client, "location_retailstore", nodeid=1, nodelevel="DISTRICT").json()
    assert upper["items"] == lower["items"]
    assert upper["items"]


def test_unknown_node_gives_no_rows(client):
    body = get(client, "item", nodelevel="STORE", nodeid=999_999).json()
    assert body["items"] == [] and body["hasMore"] is False


def test_stores_of_a_district_follow_the_org_hierarchy(client):
    children = get(client, "orghier_descendant", nodelevel="DISTRICT", nodeid=1).json()["items"]
    stores = get(client, "location_retailstore", nodelevel="DISTRICT", nodeid=1).json()["items"]
    assert [s["storeid"] for s in stores] == [c["hierarchynodeid"] for c in children]
    assert get(client, "location_retailstore", nodelevel="WAREHOUSE", nodeid=9001).json()["items"] == []


def test_item_by_store_carries_the_node_and_a_local_description(client):
    by_store = get(client, "item", nodelevel="STORE", nodeid=1001).json()["items"]
    assert by_store
    assert {r["itemlocation"] for r in by_store} == {"1001"}
    assert all(r["localdescription"] for r in by_store)
    by_chain = get(client, "item", nodelevel="CHAIN", nodeid=1).json()["items"]
    assert {r["itemlocation"] for r in by_chain} == {"1"}
    assert {r["localdescription"] for r in by_chain} == {None}
    assert {r["itemlocation"] for r in get(client, "item").json()["items"]} == {"ent"}


def test_items_of_a_store_are_the_items_ranged_there(client):
    items = {r["item"] for r in get(client, "item", nodelevel="STORE", nodeid=1003).json()["items"]}
    ranged = {
        r["item"] for r in get(client, "item_itemlocation", nodelevel="STORE", nodeid=1003).json()["items"]
    }
    assert items == ranged
    assert 0 < len(items) < len(get(client, "item").json()["items"])


@pytest.mark.parametrize(
    "name", ["item_itemlocation", "inventory_store", "inventory_warehouse", "item_price"]
)
def test_location_tables_keep_the_locations_under_the_node(client, name):
    stores = {
        c["hierarchynodeid"]
        for c in get(client, "orghier_descendant", nodelevel="DISTRICT", nodeid=1).json()["items"]
    }
    rows, _ = fetch_all(client, name, nodelevel="DISTRICT", nodeid=1, **_extra(name))
    if name == "inventory_warehouse":
        assert rows == []
        rows, _ = fetch_all(client, name, nodelevel="WAREHOUSE", nodeid=9002)
        assert rows and {int(r["location"]) for r in rows} == {9002}
        return
    assert rows
    assert {int(r["location"]) for r in rows} <= stores


def test_item_upc_by_store(client):
    rows = get(client, "item_upc", nodelevel="STORE", nodeid=1002).json()["items"]
    assert rows and {r["itemlocation"] for r in rows} == {"1002"}
    ranged = {
        r["item"] for r in get(client, "item_itemlocation", nodelevel="STORE", nodeid=1002).json()["items"]
    }
    assert {r["itemparent"] for r in rows} <= ranged | {
        r["itemparent"] for r in rows if r["action"] == "DELETE"
    }


def test_future_inventory_per_node_differs_from_the_enterprise(client):
    enterprise = {r["item"]: r for r in get(client, "inventory_future").json()["items"]}
    store = get(client, "inventory_future", nodelevel="STORE", nodeid=1001).json()["items"]
    assert store and len(store) < len(enterprise)
    assert any(r["onorderquantity"] != enterprise[r["item"]]["onorderquantity"] for r in store)


def test_promotions_of_a_store_include_that_store(client):
    rows = get(client, "item_promotion", nodelevel="STORE", nodeid=1002).json()["items"]
    assert rows
    assert all(1002 in {loc["location"] for loc in r["locations"]} for r in rows)


def test_orghier_by_node_is_the_branch(client):
    rows = get(client, "orghier", nodelevel="REGION", nodeid=1).json()["items"]
    levels = [r["hierarchylevel"] for r in rows]
    assert levels[0] == "REGION" and set(levels) <= {"REGION", "DISTRICT", "STORE"}


def test_pricetype_is_required_on_item_price(client):
    response = get(client, "item_price")
    assert response.status_code == 400
    assert "pricetype" in response.json()["message"]


@pytest.mark.parametrize("value", ["BOGUS", "1", "PROMO"])
def test_pricetype_must_be_documented(client, value):
    response = get(client, "item_price", pricetype=value)
    assert response.status_code == 400
    assert "pricetype" in response.json()["message"]


@pytest.mark.parametrize("value", ["INITIAL", "REGULAR", "CLEARANCE", "regular"])
def test_pricetype_selects_one_price_type(client, value):
    rows = get(client, "item_price", pricetype=value, limit=200).json()["items"]
    assert rows and {r["pricetype"] for r in rows} == {value.upper()}


def test_severity_is_validated(client):
    assert get(client, "admin_log", severity="WARN").status_code == 400
    rows = get(client, "admin_log", severity="DEBUG").json()["items"]
    assert rows and {r["severity"] for r in rows} == {"DEBUG"}


def test_entitytype_is_validated(client):
    response = get(client, "refreshdate", entitytype="vat")
    assert response.status_code == 400
    assert "entitytype" in response.json()["message"]
    rows = get(client, "refreshdate", entitytype="merchhier").json()["items"]
    assert [r["entity"] for r in rows] == ["MerchHier"]


@pytest.mark.parametrize("name", sorted(set(PATHS) - set(NODE_ENDPOINTS) - {"admin_log", "refreshdate"}))
def test_node_parameters_are_ignored_where_undocumented(client, name):
    plain = get(client, name).json()["items"]
    assert get(client, name, nodelevel="STORE", nodeid=1001).json()["items"] == plain


def test_filtered_paging_matches_truth(client, state):
    truth = state.ocds.truth("item_price", pricetype="CLEARANCE", nodelevel="DISTRICT", nodeid=1)
    rows, pages = fetch_all(
        client, "item_price", limit=37, pricetype="CLEARANCE", nodelevel="DISTRICT", nodeid=1
    )
    assert len(pages) > 2
    assert [key("item_price", r) for r in rows if r["action"] != "DELETE"] == [
        key("item_price", r) for r in truth
    ]
