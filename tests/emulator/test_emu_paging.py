"""Keyset paging: every row exactly once, in the documented order, stable under changes."""

from __future__ import annotations

import math

import httpx
import pytest

from tests.emulator.helpers import API, KEYS, fetch_all, get, key, live

MERCH = ("DIVISION", "GROUP", "DEPT", "CLASS", "SUBCLASS")
ORG = ("COMPANY", "CHAIN", "AREA", "REGION", "DISTRICT", "STORE", "WAREHOUSE")


def documented_order(name: str, row: dict) -> tuple:
    """The reference's sort order, written independently of the emulator."""
    if name == "merchhier":
        return (MERCH.index(row["hierarchylevel"]), row["nodeid"])
    if name in ("orghier", "orghier_descendant"):
        return (ORG.index(row["hierarchylevel"]), row["hierarchynodeid"])
    return key(name, row)


@pytest.mark.parametrize("name", sorted(KEYS))
def test_paging_to_the_end_returns_every_truth_row_once_in_order(client, state, name):
    params = {"pricetype": "CLEARANCE"} if name == "item_price" else {}
    truth = state.ocds.truth(name, **params)
    limit = max(1, math.ceil(len(truth) / 4))
    items, pages = fetch_all(client, name, limit=limit, **params)
    assert live(items) == truth
    keys = [key(name, r) for r in items]
    assert len(set(keys)) == len(keys), "a key was served twice"
    order = [documented_order(name, r) for r in items]
    assert order == sorted(order)
    assert all(p["count"] == len(p["items"]) <= limit for p in pages)
    assert [p["hasMore"] for p in pages] == [True] * (len(pages) - 1) + [False]
    if len(truth) > limit:
        assert len(pages) > 1


@pytest.mark.parametrize(
    "name", ["item", "item_price", "item_itemlocation", "inventory_store", "orghier", "vat"]
)
def test_paging_after_changes_still_matches_truth(client, state, name):
    params = {"pricetype": "REGULAR"} if name == "item_price" else {}
    state.ocds.mutate(name, inserts=7, updates=9, deletes=5, seed=3, **params)
    truth = state.ocds.truth(name, **params)
    items, pages = fetch_all(client, name, limit=max(1, len(truth) // 5), **params)
    assert live(items) == truth
    assert len({key(name, r) for r in items}) == len(items)


def test_next_link_carries_window_and_filters(client, state):
    params = {
        "pricetype": "INITIAL",
        "nodelevel": "STORE",
        "nodeid": 1002,
        "since": "2025-02-01T00:00:00Z",
        "before": "2025-11-01T00:00:00Z",
    }
    items, pages = fetch_all(client, "item_price", limit=40, **params)
    assert len(pages) > 2
    assert {r["pricetype"] for r in items} == {"INITIAL"}
    assert {r["location"] for r in items} == {1002}
    one_shot = get(client, "item_price", **params).json()["items"]
    assert items == one_shot


def test_limit_of_a_next_request_may_change(client):
    first = get(client, "vat", limit=4).json()
    nxt = httpx.URL(next(link["href"] for link in first["links"] if link["rel"] == "next"))
    second = client.get(nxt.copy_set_param("limit", "2")).json()
    assert second["count"] == 2
    assert second["limit"] == 2
    everything = get(client, "vat").json()["items"]
    assert second["items"] == everything[4:6]


def _next(body: dict) -> httpx.URL:
    return httpx.URL(next(link["href"] for link in body["links"] if link["rel"] == "next"))


@pytest.mark.parametrize("mangle", ["payload", "signature", "garbage", "empty-signature"])
def test_altered_offsetkey_is_400(client, mangle):
    nxt = _next(get(client, "item", limit=5).json())
    offsetkey = nxt.params["offsetkey"]
    body, _, mac = offsetkey.partition(".")
    flip = lambda s: s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1]  # noqa: E731
    altered = {
        "payload": f"{flip(body)}.{mac}",
        "signature": f"{body}.{flip(mac)}",
        "garbage": "not-a-key",
        "empty-signature": f"{body}.",
    }[mangle]
    response = client.get(nxt.copy_set_param("offsetkey", altered))
    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest"
    assert "offsetkey" in response.json()["message"]


def test_offsetkey_of_another_endpoint_is_400(client):
    nxt = _next(get(client, "diff", limit=5).json())
    response = client.get(f"{API}/vat", params={"limit": 5, "offsetkey": nxt.params["offsetkey"]})
    assert response.status_code == 400
    assert "offsetkey" in response.json()["message"]


@pytest.mark.parametrize("explicit_before", [True, False])
def test_changes_while_paging_neither_duplicate_nor_skip_unchanged_rows(client, state, explicit_before):
    before = state.ocds.now().isoformat() if explicit_before else None
    start = {key("item", r) for r in state.ocds.truth("item")}
    first = get(client, "item", limit=60, before=before).json()
    seen = [key("item", r) for r in first["items"]]
    changed = state.ocds.mutate("item", inserts=15, updates=40, deletes=20, seed=9)
    touched = {("ent", k["item"]) for kind in ("updated", "deleted") for k in changed[kind]}
    inserted = {("ent", k["item"]) for k in changed["inserted"]}
    response = client.get(_next(first))
    while True:
        page = response.json()
        seen.extend(key("item", r) for r in page["items"])
        if not page["hasMore"]:
            break
        response = client.get(_next(page))
    assert len(seen) == len(set(seen)), "a row was served twice"
    assert (start - touched) <= set(seen), "an unchanged row was skipped"
    assert not inserted & set(seen), "a row created after 'before' was served"
