"""The reference's own example payloads (``tests/fixtures/ocds``) parse with the OCDS models.

Each fixture is the "Example Data" block of one section of the OCDS 19.1 v2 reference, repaired
only as far as JSON requires (``tests/fixtures/ocds/README.md`` lists every repair).  A failure
here means a model is stricter than what the vendor documents: fix the model, not the fixture.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from retail_provider.ocds.catalog import ENDPOINTS
from retail_provider.ocds.envelope import Page

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ocds"
ENVELOPE = "envelope_admin_log"
FIXTURE_NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))
CDT = timezone(timedelta(hours=-5))


def endpoint_for(name: str):
    return ENDPOINTS["admin_log" if name == ENVELOPE else name]


def raw(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def parse(name: str) -> Page:
    endpoint = endpoint_for(name)
    text = (FIXTURES / f"{name}.json").read_text(encoding="utf-8")
    try:
        return Page[endpoint.model].model_validate_json(text)
    except ValidationError as exc:
        pytest.fail(
            f"model {endpoint.model.__name__} (endpoint {endpoint.name!r}, v2/{endpoint.path}) rejects "
            f"the reference example payload tests/fixtures/ocds/{name}.json; the model is too strict "
            f"for the documented payload:\n{exc}"
        )


def utc_wall(value: datetime | None) -> datetime | None:
    """An instant as naive UTC wall time, whether the model kept the offset or not."""
    if value is not None and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


# --- spot checks, one per fixture ------------------------------------------------------


def check_envelope(page: Page) -> None:
    assert page.hasMore is True and page.limit == 3 and page.count == 3
    assert [link.rel for link in page.links] == ["self", "describedBy", "next"]
    assert page.link("next").endswith("offsetkey=2020-05-01T13:00:44.028000000-05:00")
    assert page.items[2].message == "OcdsImport_DiffGrp.xferDiffGrp - start"
    assert page.items[0].supplemental == "INFO"


def check_admin_log(page: Page) -> None:
    first = page.items[0]
    # 9-digit fractional seconds with a -05:00 offset
    assert first.logged == datetime(2020, 5, 1, 12, 54, 36, 618000, tzinfo=CDT)
    assert first.logged.utcoffset() == timedelta(hours=-5)
    assert first.severity == "INFO"
    assert page.items[2].supplemental == "beginSeq: 0, endSeq: 103"
    assert page.links == []


def check_admin_version(page: Page) -> None:
    version = page.items[0]
    assert (version.version, version.hotfix) == ("19.1.000", "000")
    assert version.installed == datetime(2020, 5, 1, 12, 50, 19, 45000, tzinfo=CDT)
    assert page.hasMore is False and page.limit == 10000


def check_diff(page: Page) -> None:
    diff = page.items[0]
    assert (diff.action, diff.diffid, diff.difftype, diff.difftypedesc) == (
        "INSERT", "AUTOBLACK", "AUTO_C", "Auto Color",
    )


def check_diff_group(page: Page) -> None:
    group = page.items[0]
    assert (group.diffgroupid, group.difftypeid, group.diffid) == ("AUTO CLRS", "AUTO_C", "1")


def check_inventory_future(page: Page) -> None:
    by_item = {row.item: row for row in page.items}
    assert set(by_item) == {"1", "10", "100"}
    assert by_item["10"].onorderquantity == Decimal("11")
    assert by_item["100"].backorderquantity == Decimal("21")


def check_inventory_store(page: Page) -> None:
    # published under an inventory/warehouse usage line, but it is the store payload
    assert {row.loctype for row in page.items} == {"S"}
    assert page.items[1].item == "1000001" and page.items[1].location == "1"
    assert page.items[0].availablequantity == Decimal("42")
    assert page.items[0].physicalwarehouse is None


def check_inventory_warehouse(page: Page) -> None:
    assert {row.loctype for row in page.items} == {"W"}
    assert all(row.physicalwarehouse is None for row in page.items)
    assert page.items[2].stockonhand == Decimal("51")


def check_item(page: Page) -> None:
    item = page.items[0]
    assert (item.itemlocation, item.item, item.itemlevel, item.tranlevel) == ("ent", "100805000", 1, 2)
    assert item.class_ == 16 and item.uniqueclass == 294  # "class" in the payload
    assert item.originalunitretail == Decimal("9.99")
    assert item.standarduom == "1"  # a number in the payload
    assert item.diff2 == "BASIC CLRS" and item.diff3level is None


def check_item_dimensiontype(page: Page) -> None:
    assert [(row.dimension, row.seq) for row in page.items] == [("COLOR", 1), ("SIZE", 2), ("PATTRN", 3)]
    assert page.items[0].itemaction == "INSERT"


def check_item_dimensionvalue(page: Page) -> None:
    assert [row.value for row in page.items] == ["C00009C", "PINSTRPS", "SIZE_28"]
    assert all(row.displayseq is None for row in page.items)
    assert page.items[0].description == "Duke blue"


def check_item_image(page: Page) -> None:
    assert [(row.imagename, row.primaryind, row.displaypriority) for row in page.items] == [
        ("1_0.png", "Y", 0), ("1_1.png", "N", 1), ("10_0.png", "Y", 0),
    ]
    assert page.items[0].imageuri == "http://www.oracle.com/item/images/1_0.png"


def check_item_itemlocation(page: Page) -> None:
    row = page.items[0]
    assert row.loctype == "S"  # "loc_type" in the payload
    assert (row.location, row.item) == (1151, "100000008")
    assert row.sellingunitretail == Decimal("12")
    assert row.crosssell == "N" and row.merchandiseind == "Y"
    # a string holding JSON in the payload
    assert raw("item_itemlocation")["items"][0]["vatcodes"].startswith('[{"code":"AAA"')
    assert row.vatcodes == [
        {"code": "AAA", "date": "2018-01-01"},
        {"code": "AAB", "date": "2018-03-01"},
        {"code": "AAC", "date": "2018-06-01"},
        {"code": "AAD", "date": "2018-09-01"},
    ]


def check_item_price(page: Page) -> None:
    price = page.items[0]
    assert price.pricetype == "CLEARANCE"
    assert (price.loctype, price.location, price.item) == ("S", 1151, "100000008")
    assert price.price == Decimal("4.63")
    assert price.effective == datetime(2018, 8, 5)
    assert price.eventid == 2000 and price.resetind == "1"
    assert page.count == 5  # as published, with a single item shown


def check_item_promotion(page: Page) -> None:
    offers = {promo.offerid: promo for promo in page.items}
    assert len(offers) == 11 and {promo.promoid for promo in page.items} == {3403}
    # no top-level action: the locations carry the actions
    assert all("action" not in promo.model_fields and not promo.model_extra for promo in page.items)

    first = offers[843]
    assert first.startdatetime == datetime(2018, 2, 7)
    assert first.enddatetime == datetime(2018, 3, 30, 23, 59, 59)
    reward = first.rewards[0]
    assert (reward.rewardid, reward.changetype, reward.changepercent, reward.applyind) == (
        731, 0, Decimal("25"), 2,
    )
    assert [(m.rewardmerchid, m.merchlevel, m.excludeind) for m in reward.rewardsmerch] == [(8401, 8, 0)]
    assert first.conditions == []
    assert [(loc.action, loc.location) for loc in first.locations] == [("INSERT", 1898439643)]

    assert offers[846].rewards[0].rewardsmerch is None
    merch = offers[846].conditions[0].conditionsmerch[0]
    assert (merch.condmerchid, merch.merchlevel, merch.dept, merch.class_, merch.uniquesubclass) == (
        8222, 3, 8993, 9713, 5179,
    )

    cancelled = offers[866].locations[1]
    assert (cancelled.action, cancelled.location) == ("INSERT", 8392141693)
    assert utc_wall(cancelled.canceldatetime) == datetime(2018, 6, 25, 13, 57, 43)
    assert offers[866].locations[0].canceldatetime is None
    condition = offers[866].conditions[0]
    assert (condition.conditionid, condition.buyspendtype, condition.buyspendvalue, condition.buyuom) == (
        251, 0, Decimal("3"), "BG",
    )

    assert utc_wall(offers[872].conditions[0].conditionsmerch[3].canceldatetime) == datetime(
        2018, 6, 25, 14, 8, 35
    )
    rewardsmerch = offers[875].rewards[0].rewardsmerch
    assert [(m.item, m.diffid) for m in rewardsmerch] == [
        ("114800196", "BROWN_5534"), ("114800233", "BROWN_5534"), ("114850290", "BROWN_7343"),
    ]  # numbers in the payload
    assert utc_wall(offers[877].rewards[0].rewardsmerch[6].canceldatetime) == datetime(
        2018, 6, 25, 14, 43, 41
    )
    assert offers[880].rewards[0].changeamount == Decimal("20")
    assert {loc.action for loc in offers[880].locations} == {"DELETE"}
    assert page.count == 12  # as published, with 11 promotions shown


def check_item_relateditem(page: Page) -> None:
    assert [(r.relationshipid, r.relateditem, r.relateditemaction) for r in page.items] == [
        (1, "100600003", None), (402, "101500004", "DELETE"), (402, "101500021", "INSERT"),
    ]
    first = page.items[0]
    assert (first.startdate, first.enddate, first.priority) == (date(2014, 12, 17), date(2014, 12, 31), 1)
    assert page.items[2].mandatoryind == "N" and page.items[2].relationshiptype == "CRSL"


def check_item_upc(page: Page) -> None:
    upc = page.items[0]
    assert "orginalunitretail" in raw("item_upc")["items"][0]
    assert upc.originalunitretail == Decimal("12.94")  # "orginalunitretail" in the payload
    assert (upc.item, upc.itemparent, upc.itemlevel, upc.tranlevel) == ("1000001", "1", 2, 1)
    assert upc.class_ == 1 and upc.standarduom == "EA" and upc.catchweightind == "Y"


def check_location_retailstore(page: Page) -> None:
    store = page.items[0]
    assert "selllingsqfeet" in raw("location_retailstore")["items"][0]
    assert store.sellingsqfeet == Decimal("18000")  # "selllingsqfeet" in the payload
    assert store.totalsqfeet == Decimal("20000")
    assert (store.storeid, store.contactname, store.phonenumber) == (2689, "Sally Smith", "123456")
    # "Valid values are Y or N" in the field table, a region number in the example: kept as sent
    assert (store.vatregion, store.postalcode, store.address2) == ("1000", "55345", None)


def check_location_warehouse(page: Page) -> None:
    wh = page.items[0]
    assert (wh.warehouseid, wh.type, wh.physicalwh, wh.orgentitytype) == (1, "physical", 1, "R")
    assert wh.orghiertype is None and wh.postalcode == "55407"


def check_merchhier(page: Page) -> None:
    node = page.items[0]
    assert (node.nodeid, node.hierarchylevel, node.nodename) == (4, "SUBCLASS", "Mens RMS 15.0")
    assert (node.parentlevel, node.parentnodeid) == ("CLASS", 4)


def check_orghier(page: Page) -> None:
    assert [(n.hierarchylevel, n.hierarchynodeid, n.parentlevel, n.parentid) for n in page.items] == [
        ("CHAIN", 1, "COMPANY", 1), ("COMPANY", 1, None, None), ("DISTRICT", 1, "REGION", 1),
    ]
    assert page.items[0].stockholding is None


def check_orghier_descendant(page: Page) -> None:
    assert [(n.hierarchylevel, n.hierarchynodeid, n.levelorder) for n in page.items] == [
        ("CHAIN", 1, 10), ("REGION", 1, 30), ("REGION", 2, 30),
    ]


def check_refreshdate(page: Page) -> None:
    row = page.items[0]
    assert row.entity == "Item"
    assert row.refreshdate == datetime(2020, 5, 1, 13, 14, 25, 286000, tzinfo=CDT)


def check_vat(page: Page) -> None:
    assert [(v.vatregion, v.vatcode) for v in page.items] == [(1000, "1"), (1000, "10"), (1000, "100")]
    assert page.items[1].activedate == datetime(2019, 11, 26, 12, 26, 57)
    assert page.items[0].enddate is None


CHECKS: dict[str, Callable[[Page], None]] = {
    ENVELOPE: check_envelope,
    **{name: globals()[f"check_{name}"] for name in ENDPOINTS},
}


# --- tests -----------------------------------------------------------------------------


def test_every_catalog_endpoint_has_a_fixture() -> None:
    assert len(ENDPOINTS) == 23
    missing = sorted(set(ENDPOINTS) - set(FIXTURE_NAMES))
    assert not missing, f"no reference example fixture for endpoints: {missing}"
    unknown = sorted(set(FIXTURE_NAMES) - set(ENDPOINTS) - {ENVELOPE})
    assert not unknown, f"fixtures that name no catalog endpoint: {unknown}"
    assert len(FIXTURE_NAMES) == 24


def test_readme_describes_every_fixture() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for name in FIXTURE_NAMES:
        assert f"`{name}.json`" in readme, f"README.md does not describe {name}.json"


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_reference_example_parses(name: str) -> None:
    data = raw(name)
    page = parse(name)
    assert len(page.items) == len(data["items"]) > 0
    assert page.hasMore is data["hasMore"]
    assert (page.limit, page.count) == (data["limit"], data["count"])
    assert all(isinstance(item, endpoint_for(name).model) for item in page.items)
    CHECKS[name](page)
