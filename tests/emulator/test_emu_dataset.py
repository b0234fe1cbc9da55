"""The generated dataset: determinism, sizes, consistency, field names and formats, control API."""

from __future__ import annotations

import re

import pytest

from include.emulator.ocds.dataset import OcdsDataset
from tests.emulator.helpers import KEYS, SCALE, fetch_all, get

#: Field names of each endpoint's rows as the reference documents them (canonical spellings).
FIELDS = {
    "admin_log": ["logged", "severity", "message", "supplemental"],
    "admin_version": ["version", "hotfix", "installed"],
    "diff": ["action", "diffid", "diffdesc", "difftype", "difftypedesc"],
    "diff_group": ["action", "diffgroupid", "diffgroupdesc", "difftypeid", "diffid"],
    "inventory_future": ["action", "item", "onorderquantity", "receivedquantity", "backorderquantity"],
    "inventory_store": [
        "action",
        "item",
        "location",
        "loctype",
        "availablequantity",
        "stockonhand",
        "standarduom",
        "physicalwarehouse",
    ],
    "item": [
        "action",
        "itemlocation",
        "item",
        "itemparent",
        "itemgrandparent",
        "itemlevel",
        "tranlevel",
        "inventoryind",
        "diff1level",
        "diff1type",
        "diff1",
        "diff2level",
        "diff2type",
        "diff2",
        "diff3level",
        "diff3type",
        "diff3",
        "division",
        "groupid",
        "dept",
        "class",
        "uniqueclass",
        "subclass",
        "uniquesubclass",
        "description",
        "localdescription",
        "merchandiseind",
        "uintype",
        "mfgrecretail",
        "originalunitretail",
        "catchweightind",
        "itemservicelevel",
        "giftwrapind",
        "shipaloneind",
        "standarduom",
        "productclassification",
        "xdiff1desc",
        "xdiff2desc",
        "xdiff3desc",
    ],
    "item_dimensiontype": ["action", "itemaction", "dimensionsystem", "dimension", "description", "seq"],
    "item_dimensionvalue": [
        "action",
        "itemaction",
        "dimensionsystem",
        "dimension",
        "value",
        "description",
        "displayseq",
    ],
    "item_image": [
        "action",
        "item",
        "imagename",
        "imageaddr",
        "imageuri",
        "imagedesc",
        "imagetype",
        "primaryind",
        "displaypriority",
    ],
    "item_itemlocation": [
        "action",
        "loctype",
        "location",
        "item",
        "sellingunitretail",
        "sellinguom",
        "taxableind",
        "localitemdesc",
        "status",
        "qtykeyoptions",
        "manualpriceentry",
        "foodstampind",
        "fixedtarevalue",
        "fixedtareuom",
        "stopsaleind",
        "returnableind",
        "merchandiseind",
        "clearanceind",
        "crosssell",
        "attacheditem",
        "vatcodes",
    ],
    "item_price": [
        "action",
        "loctype",
        "location",
        "item",
        "pricetype",
        "price",
        "effective",
        "source",
        "eventid",
        "resetind",
        "clearanceind",
    ],
    "item_promotion": [
        "promoid",
        "offerid",
        "desc",
        "custdesc",
        "levelcode",
        "typecode",
        "templateid",
        "couponcode",
        "couponcodereq",
        "startdatetime",
        "enddatetime",
        "canceldatetime",
        "rewards",
        "conditions",
        "locations",
    ],
    "item_relateditem": [
        "action",
        "relationshipid",
        "item",
        "relationshiptype",
        "mandatoryind",
        "relateditem",
        "relateditemaction",
        "startdate",
        "enddate",
        "priority",
    ],
    "location_retailstore": [
        "action",
        "storeid",
        "storename",
        "storename10",
        "manager",
        "phonenumber",
        "faxnumber",
        "email",
        "totalsqfeet",
        "sellingsqfeet",
        "currencycode",
        "vatregion",
        "stockholdingind",
        "integratedpos",
        "contactname",
        "address1",
        "address2",
        "address3",
        "city",
        "state",
        "country",
        "postalcode",
    ],
    "location_warehouse": [
        "action",
        "warehouseid",
        "type",
        "warehousename",
        "whnamesecondary",
        "contactname",
        "phonenumber",
        "faxnumber",
        "email",
        "currencycode",
        "physicalwh",
        "vatregion",
        "orghiertype",
        "orghiervalue",
        "orgentitytype",
        "channelid",
        "channelname",
        "address1",
        "address2",
        "address3",
        "city",
        "state",
        "country",
        "postalcode",
    ],
    "merchhier": [
        "action",
        "nodeid",
        "hierarchylevel",
        "nodename",
        "parentlevel",
        "parentnodeid",
        "merchdisplayid",
        "buyer",
    ],
    "orghier": [
        "action",
        "hierarchylevel",
        "hierarchynodeid",
        "hierarchynodename",
        "parentlevel",
        "parentid",
        "mgrname",
        "stockholding",
        "integratedpos",
    ],
    "orghier_descendant": [
        "hierarchylevel",
        "hierarchynodeid",
        "hierarchynodename",
        "parentlevel",
        "parentid",
        "levelorder",
    ],
    "refreshdate": ["entity", "refreshdate"],
    "vat": ["action", "vatregion", "vatregionname", "vatcode", "vatcodedesc", "activedate", "enddate"],
}
FIELDS["inventory_warehouse"] = FIELDS["inventory_store"]
FIELDS["item_upc"] = FIELDS["item"]
SERVER_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}[+-]\d\d:\d\d$")
NAIVE_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


@pytest.mark.parametrize("name", sorted(KEYS))
def test_rows_use_the_canonical_field_names(client, name):
    params = {"pricetype": "REGULAR"} if name == "item_price" else {}
    rows = get(client, name, limit=50, **params).json()["items"]
    assert rows
    for row in rows:
        assert set(row) == set(FIELDS[name]), sorted(set(row) ^ set(FIELDS[name]))


def test_value_types_and_formats(client):
    item = get(client, "item", limit=20).json()["items"]
    assert all(isinstance(r["item"], str) and len(r["item"]) == 9 and r["item"].isdigit() for r in item)
    assert all(
        isinstance(r[f], int) for r in item for f in ("division", "groupid", "dept", "class", "subclass")
    )
    assert all(isinstance(r["originalunitretail"], float) for r in item)
    for row in get(client, "admin_log", limit=20).json()["items"]:
        assert SERVER_TS.match(row["logged"]), row["logged"]
    assert SERVER_TS.match(get(client, "admin_version").json()["items"][0]["installed"])
    assert all(SERVER_TS.match(r["refreshdate"]) for r in get(client, "refreshdate").json()["items"])
    prices = get(client, "item_price", pricetype="REGULAR", limit=20).json()["items"]
    assert all(NAIVE_TS.match(r["effective"]) and isinstance(r["location"], int) for r in prices)
    assert all(NAIVE_TS.match(r["activedate"]) for r in get(client, "vat").json()["items"])
    related = get(client, "item_relateditem").json()["items"]
    dates = [r[f] for r in related for f in ("startdate", "enddate") if r[f] is not None]
    assert dates and all(DATE.match(d) for d in dates)
    promos = get(client, "item_promotion").json()["items"]
    assert all(NAIVE_TS.match(p["startdatetime"]) and NAIVE_TS.match(p["enddatetime"]) for p in promos)
    assert any(p["conditions"] for p in promos) and any(
        r["rewardsmerch"] for p in promos for r in p["rewards"]
    )
    stock = get(client, "inventory_store", limit=5).json()["items"]
    assert all(isinstance(r["location"], str) and r["loctype"] == "S" for r in stock)
    ranging = get(client, "item_itemlocation", limit=5).json()["items"]
    assert all(isinstance(r["vatcodes"], str) and r["vatcodes"].startswith("[{") for r in ranging)


def test_item_ids_sort_as_numbers(state):
    ids = [r["item"] for r in state.ocds.truth("item")]
    assert ids == sorted(ids) == sorted(ids, key=int)
    assert len({len(i) for i in ids}) == 1


def test_same_seed_gives_the_same_rows():
    a, b, c = OcdsDataset(300, 11), OcdsDataset(300, 11), OcdsDataset(300, 12)
    for name in ("item", "item_price", "item_promotion", "vat", "admin_log", "inventory_store"):
        assert a.truth(name) == b.truth(name)
    assert a.truth("item") != c.truth("item")
    assert a.mutate("item", inserts=2, updates=3, deletes=1, seed=4) == b.mutate(
        "item", inserts=2, updates=3, deletes=1, seed=4
    )
    assert a.truth("item") == b.truth("item")


def test_the_served_dataset_is_the_seeded_one(client):
    assert get(client, "item_image").json()["items"][:50] == [
        {**r, "action": r["action"]} for r in get(client, "item_image").json()["items"][:50]
    ]
    fresh = OcdsDataset(SCALE, 7)
    assert [r["item"] for r in get(client, "item").json()["items"] if r["action"] != "DELETE"] == [
        r["item"] for r in fresh.truth("item")
    ]


@pytest.mark.parametrize(
    ("scale", "stores", "warehouses"),
    [(200, 5, 2), (500, 5, 2), (2_000, 20, 2), (100_000, 50, 5), (10_000_000, 50, 5)],
)
def test_sizes_derive_from_the_scale(scale, stores, warehouses):
    ds = OcdsDataset(scale, 1)
    sizes = ds.sizes()
    assert ds.world.n_stores == stores and ds.world.n_warehouses == warehouses
    assert sizes["item"] == scale
    assert sizes["item_image"] == 2 * scale
    # 3 stores per item; 2 clearance markdowns, 1 initial price, 2 regular prices per pair
    assert sizes["item_price"] == 5 * 3 * scale
    assert sizes["location_retailstore"] == stores
    org = {lv: n for lv, n in ds.world.org_counts.items()}
    assert org["STORE"] == stores and org["WAREHOUSE"] == warehouses and org["COMPANY"] == 1


def test_org_hierarchy_is_consistent_with_locations(state):
    nodes = state.ocds.truth("orghier")
    index = {(n["hierarchylevel"], n["hierarchynodeid"]) for n in nodes}
    for n in nodes:
        assert n["parentlevel"] is None or (n["parentlevel"], n["parentid"]) in index
    stores = [r["storeid"] for r in state.ocds.truth("location_retailstore")]
    assert stores == [n["hierarchynodeid"] for n in nodes if n["hierarchylevel"] == "STORE"]
    physical = [r["warehouseid"] for r in state.ocds.truth("location_warehouse") if r["type"] == "physical"]
    assert physical == [n["hierarchynodeid"] for n in nodes if n["hierarchylevel"] == "WAREHOUSE"]


def test_items_belong_to_the_merchandise_hierarchy(state):
    merch = {(n["hierarchylevel"], n["nodeid"]) for n in state.ocds.truth("merchhier")}
    for item in state.ocds.truth("item")[:200]:
        assert ("SUBCLASS", item["uniquesubclass"]) in merch
        assert ("DEPT", item["dept"]) in merch and ("DIVISION", item["division"]) in merch


def test_skus_reference_their_style_and_diffs(state):
    items = {r["item"]: r for r in state.ocds.truth("item")}
    diffs = {r["diffid"] for r in state.ocds.truth("diff")}
    groups = {r["diffgroupid"] for r in state.ocds.truth("diff_group")}
    skus = [r for r in items.values() if r["itemlevel"] == 2]
    assert skus
    for sku in skus:
        assert sku["diff1"] in diffs and sku["diff2"] in diffs
        if sku["itemparent"] in items:
            assert items[sku["itemparent"]]["diff1"] in groups


def test_truth_over_http_with_filters(client, state):
    rows = client.get(
        "/_emulator/ocds/truth/item_price",
        params={"pricetype": "INITIAL", "nodelevel": "STORE", "nodeid": 1001},
    ).json()
    assert rows == state.ocds.truth("item_price", pricetype="INITIAL", nodelevel="STORE", nodeid=1001)
    assert rows and all("action" not in r for r in rows)
    assert client.get("/_emulator/ocds/truth/item/price").json() == state.ocds.truth("item_price")
    assert client.get("/_emulator/ocds/truth/nothing").status_code == 400
    assert client.get("/_emulator/ocds/truth/item", params={"nodelevel": "STORE"}).status_code == 400


def test_mutate_over_http(client, state):
    response = client.post(
        "/_emulator/ocds/mutate",
        json={
            "endpoint": "item_price",
            "inserts": 1,
            "updates": 2,
            "deletes": 1,
            "seed": 5,
            "pricetype": "CLEARANCE",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert [len(body[k]) for k in ("inserted", "updated", "deleted")] == [1, 2, 1]
    assert {k["pricetype"] for kind in body.values() for k in kind} == {"CLEARANCE"}
    assert (
        client.post("/_emulator/ocds/mutate", json={"endpoint": "refreshdate", "updates": 1}).status_code
        == 400
    )
    assert client.post("/_emulator/ocds/mutate", json={"inserts": 1}).status_code == 400
    assert client.post("/_emulator/ocds/mutate", json={"endpoint": "item", "updates": -1}).status_code == 400


def test_now_info_and_log_over_http(client, state):
    first = client.get("/_emulator/ocds/now").json()["now"]
    second = client.get("/_emulator/ocds/now").json()["now"]
    assert first < second
    info = client.get("/_emulator/ocds/info").json()
    assert info["scale"] == SCALE and info["rows"]["item"] == SCALE
    line = client.post("/_emulator/ocds/log", json={"message": "hello", "severity": "error"}).json()
    rows, _ = fetch_all(client, "admin_log", severity="ERROR")
    assert rows[-1] == line


def test_clock_is_strictly_increasing(state):
    stamps = [state.clock.now() for _ in range(10_000)]
    assert all(a < b for a, b in zip(stamps, stamps[1:], strict=False))
