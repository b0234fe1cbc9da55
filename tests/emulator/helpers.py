"""Helpers of the emulator tests: paging through the API like a client would."""

from __future__ import annotations

from typing import Any

import httpx

SCALE = 500
SEED = 7
USER, PASSWORD = "ocds_user", "ocds_password"
CLIENT_ID, CLIENT_SECRET = "ocds_client", "ocds_secret"
API = "/ords/ocds/omnichannel/v2"
KEYS = {
    "admin_log": ("logged", "message", "severity", "supplemental"),
    "admin_version": ("version", "hotfix"),
    "diff": ("diffid",),
    "diff_group": ("diffgroupid", "diffid"),
    "inventory_future": ("item",),
    "inventory_store": ("loctype", "item", "location"),
    "inventory_warehouse": ("location", "loctype", "item"),
    "item": ("itemlocation", "item"),
    "item_dimensiontype": ("dimensionsystem", "dimension"),
    "item_dimensionvalue": ("dimensionsystem", "dimension", "value"),
    "item_image": ("item", "imagename"),
    "item_itemlocation": ("loctype", "location", "item"),
    "item_price": ("pricetype", "loctype", "location", "item", "eventid"),
    "item_promotion": ("promoid", "offerid"),
    "item_relateditem": ("relationshipid", "relateditem"),
    "item_upc": ("itemlocation", "item"),
    "location_retailstore": ("storeid",),
    "location_warehouse": ("warehouseid", "type"),
    "merchhier": ("hierarchylevel", "nodeid"),
    "orghier": ("hierarchylevel", "hierarchynodeid"),
    "orghier_descendant": ("hierarchylevel", "hierarchynodeid"),
    "refreshdate": ("entity",),
    "vat": ("vatregion", "vatcode", "activedate"),
}
PATHS = {
    "admin_log": "admin/log",
    "admin_version": "admin/version",
    "diff": "diff",
    "diff_group": "diff/group",
    "inventory_future": "inventory/future",
    "inventory_store": "inventory/store",
    "inventory_warehouse": "inventory/warehouse",
    "item": "item",
    "item_dimensiontype": "item/dimensiontype",
    "item_dimensionvalue": "item/dimensionvalue",
    "item_image": "item/image",
    "item_itemlocation": "item/itemlocation",
    "item_price": "item/price",
    "item_promotion": "item/promotion",
    "item_relateditem": "item/relateditem",
    "item_upc": "item/upc",
    "location_retailstore": "location/retailstore",
    "location_warehouse": "location/warehouse",
    "merchhier": "merchhier",
    "orghier": "orghier",
    "orghier_descendant": "orghier/descendant",
    "refreshdate": "refreshdate",
    "vat": "vat",
}
NODE_ENDPOINTS = (
    "inventory_future",
    "inventory_store",
    "inventory_warehouse",
    "item",
    "item_image",
    "item_itemlocation",
    "item_price",
    "item_promotion",
    "item_relateditem",
    "item_upc",
    "location_retailstore",
    "orghier",
    "orghier_descendant",
)


def key(name: str, row: dict[str, Any]) -> tuple:
    return tuple(row.get(k) for k in KEYS[name])


def get(client: httpx.Client, name: str, **params: Any) -> httpx.Response:
    return client.get(f"{API}/{PATHS[name]}", params={k: v for k, v in params.items() if v is not None})


def fetch_all(
    client: httpx.Client, name: str, **params: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every item of every page (following ``next`` links verbatim) and the page envelopes."""
    response = get(client, name, **params)
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    for _ in range(100_000):
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        items.extend(page["items"])
        if not page["hasMore"]:
            return items, pages
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        assert len(nxt) == 1
        response = client.get(nxt[0])
    raise AssertionError("paging did not end")


def without_action(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "action"} for r in rows]


def live(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows that are not DELETE, without their action: what a client keeps (promotions: the
    offer with its locations that are not DELETE)."""
    out = without_action([r for r in rows if r.get("action") != "DELETE"])
    for row in out:
        if isinstance(row.get("locations"), list):
            row["locations"] = without_action([loc for loc in row["locations"] if loc.get("action") != "DELETE"])
    return out
