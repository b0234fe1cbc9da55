"""The optimised page encoding is byte for byte the straightforward rendering.

The API serves pages through :meth:`OcdsDataset.page_json` (rows glued from pre-encoded
pieces, hashes computed in batches) and :func:`encode.envelope`.  The reference is the
plain path: :meth:`OcdsDataset.page` builds one dict per row and ``orjson.dumps`` encodes
them.  Both must give the same bytes for every table, window, filter, page boundary, and
after changes and bulk reloads.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from include.emulator.ocds import cursor
from include.emulator.ocds.dataset import SNAPSHOTS, OcdsDataset
from include.emulator.ocds.encode import (
    CENTS,
    RAW,
    STR,
    RowFormat,
    amount_text,
    cents_texts,
    envelope,
)
from include.emulator.ocds.endpoints import ENDPOINTS, NODE
from include.emulator.ocds.gen import SPAN, T0, h, h_many
from include.emulator.ocds.tables_items import item_prices
from include.emulator.ocds.tables_ranged import _CLR_FACTOR, _LOC_FACTOR, _REG_FACTOR
from include.emulator.timeutil import us_of
from tests.emulator.helpers import API, PATHS, SCALE, SEED

NAMES = sorted(ENDPOINTS)
BIG = (
    "item",
    "item_upc",
    "item_image",
    "item_price",
    "item_itemlocation",
    "inventory_store",
    "inventory_warehouse",
    "inventory_future",
)
FAR = us_of(2030, 1, 1)
#: [since, before) windows: a first load, mid 2025 (INSERT, UPDATE and DELETE), nothing.
WINDOWS = ((0, FAR), (T0 + SPAN // 3, T0 + 2 * SPAN // 3), (FAR, FAR + 1))


def _filters(name: str) -> list[dict[str, Any]]:
    """Filter sets worth checking on an endpoint (at the test scale: 5 stores, 2 warehouses)."""
    spec = ENDPOINTS[name]
    out: list[dict[str, Any]] = [{}]
    if NODE <= spec.filters:
        out += [
            {"nodelevel": "STORE", "nodeid": 1002},
            {"nodelevel": "DISTRICT", "nodeid": 1},
            {"nodelevel": "COMPANY", "nodeid": 1},
            {"nodelevel": "STORE", "nodeid": 999_999},
        ]
        if "WAREHOUSE" in spec.node_levels:
            out.append({"nodelevel": "WAREHOUSE", "nodeid": 9001})
    if "pricetype" in spec.filters:
        out += [{"pricetype": "REGULAR"}, {"pricetype": "CLEARANCE", "nodelevel": "STORE", "nodeid": 1004}]
    if "severity" in spec.filters:
        out.append({"severity": "ERROR"})
    if "entitytype" in spec.filters:
        out.append({"entitytype": "itemprice"})
    return out


def same_page(
    ds: OcdsDataset,
    name: str,
    params: dict[str, Any],
    limit: int,
    since: int,
    before: int,
    last_key: tuple | None = None,
    start_pos: int = 0,
) -> Any:
    """Check one page both ways; returns the reference :class:`PageResult`."""
    flt = ds.filters(name, params)
    ref = ds.page(name, flt, limit, since, before, last_key, start_pos)
    fast = ds.page_json(name, flt, limit, since, before, last_key, start_pos)
    where = f"{name} {params} limit={limit} window=[{since}, {before}) after {last_key}/{start_pos}"
    got = b"[" + b",".join(fast.parts) + b"]"
    if got != orjson.dumps(ref.items):
        for n, (row, want) in enumerate(zip(orjson.loads(got), ref.items, strict=False)):
            assert orjson.dumps(row) == orjson.dumps(want), f"{where}: row {n} differs"
        raise AssertionError(f"{where}: the pages differ")
    assert fast.count == len(ref.items), where
    assert (fast.has_more, fast.last_key, fast.next_pos) == (ref.has_more, ref.last_key, ref.next_pos), where
    rest = {"hasMore": ref.has_more, "limit": limit, "count": len(ref.items), "links": [{"rel": "self"}]}
    assert envelope(fast.parts, rest) == orjson.dumps({"items": ref.items, **rest}), where
    return ref


def walk(ds: OcdsDataset, name: str, params: dict[str, Any], limit: int, since: int, before: int) -> int:
    """Check every page of a window, following the keyset like the API; returns the row count."""
    last_key, start_pos, rows = None, 0, 0
    for _ in range(100_000):
        ref = same_page(ds, name, params, limit, since, before, last_key, start_pos)
        rows += len(ref.items)
        if not ref.has_more:
            return rows
        last_key, start_pos = ref.last_key, ref.next_pos
    raise AssertionError("paging did not end")


@pytest.fixture(scope="module")
def dataset() -> OcdsDataset:
    return OcdsDataset(SCALE, SEED)


@pytest.mark.parametrize("name", NAMES)
def test_every_page_of_every_window_and_filter(dataset, name):
    for params in _filters(name):
        for since, before in WINDOWS:
            walk(dataset, name, params, 997, since, before)
    walk(dataset, name, {}, 1, *WINDOWS[1])  # one row per page: every boundary


@pytest.mark.parametrize("name", sorted(set(NAMES) - set(SNAPSHOTS)))
def test_pages_after_changes_and_bulk_reloads(name):
    ds = OcdsDataset(SCALE, SEED)
    spec = ENDPOINTS[name]
    t0 = ds.clock.now()
    for kind in ("inserts", "updates", "deletes"):
        try:
            ds.mutate(name, **{kind: 7}, seed=f"{name}:{kind}")
        except ValueError:  # read-only for this kind (admin_log, lists without inserts...)
            pass
    if name == "item_price":
        ds.mutate(name, inserts=3, updates=3, deletes=3, seed=5, pricetype="CLEARANCE")
    t1 = ds.clock.now()
    for params in _filters(name):
        for since, before in (*WINDOWS, (t0, FAR)):
            walk(ds, name, params, 499, since, before)
    walk(ds, name, {}, 3, t0, t1)  # only the changed rows, three a page
    if spec.refresh_entity is None:
        return
    ds.bulk_reload(spec.refresh_entity, drop=4)
    t2 = ds.clock.now()
    ds.mutate(name, updates=2, deletes=2, seed=9)
    for params in _filters(name):
        for since, before in ((0, FAR), (t1, FAR), (t2, FAR), WINDOWS[1]):
            walk(ds, name, params, 499, since, before)


@pytest.mark.parametrize("name", BIG)
def test_sampled_pages_at_a_million_items(name):
    """50 stores and 5 warehouses; pages start anywhere (``start_pos``) with any filter."""
    ds = OcdsDataset(1_000_000, SEED)
    rng = random.Random(name)
    count = ds.tables[name].count
    spec = ENDPOINTS[name]
    filters: list[dict[str, Any]] = [{}]
    if NODE <= spec.filters:
        filters += [{"nodelevel": "STORE", "nodeid": 1037}, {"nodelevel": "DISTRICT", "nodeid": 3}]
        filters += [{"nodelevel": "WAREHOUSE", "nodeid": 9004}, {"nodelevel": "CHAIN", "nodeid": 1}]
    if name == "item_price":
        filters += [{"pricetype": "INITIAL"}, {"pricetype": "REGULAR", "nodelevel": "STORE", "nodeid": 1011}]
    for params in filters:
        for since, before in WINDOWS[:2]:
            for start in (0, rng.randrange(count), rng.randrange(count), count - 150):
                same_page(ds, name, params, 300, since, before, None, start)
    ds.mutate(name, inserts=5, updates=5, deletes=5, seed=3)
    for since, before in WINDOWS[:2]:
        same_page(ds, name, {}, 2_000, since, before, None, rng.randrange(count))


def test_the_http_body_is_the_reference_envelope(client, state):
    """The bytes on the wire: orjson.dumps of the envelope of the reference dicts."""
    ds = state.ocds
    ds.mutate("item", inserts=4, updates=4, deletes=4, seed=2)
    window = {"since": "1970-01-01T00:00:00Z", "before": "2030-01-01T00:00:00Z"}
    for name in NAMES:
        for params in _filters(name)[:3]:
            if name == "item_price" and "pricetype" not in params:
                params = {**params, "pricetype": "INITIAL"}
            query = {**params, "limit": 211, **(window if ENDPOINTS[name].windowed else {})}
            response = client.get(f"{API}/{PATHS[name]}", params=query)
            flt = ds.filters(name, params)
            last_key, start_pos = None, 0
            for _ in range(3):  # the first pages, following the next link
                assert response.status_code == 200, response.text
                links = orjson.loads(response.content)["links"]
                ref = ds.page(name, flt, 211, 0, FAR, last_key, start_pos)
                envelope_dict = {
                    "items": ref.items,
                    "hasMore": ref.has_more,
                    "limit": 211,
                    "count": len(ref.items),
                    "links": links,
                }
                assert response.content == orjson.dumps(envelope_dict), f"{name} {params}"
                nxt = [link["href"] for link in links if link["rel"] == "next"]
                if not nxt:
                    break
                payload = cursor.decode(ds.secret, nxt[0].rsplit("offsetkey=", 1)[1])
                last_key, start_pos = tuple(payload["k"]), payload["p"]
                response = client.get(nxt[0])


# -- the building blocks -------------------------------------------------------------------


def test_row_format_chunks_glue_back_to_the_orjson_text():
    template = {"action": None, "a": 'x"%s', "b": 1.5, "c": None, "d": "é\n", "e": [1, {"f": "%"}]}
    fmt = RowFormat(template, {"action": STR, "c": RAW, "e": RAW})
    assert fmt.fields == ("action", "c", "e")
    row = {**template, "action": "UPDATE", "c": 12.25, "e": {"k": None}}
    assert fmt.render(["UPDATE", "12.25", '{"k":null}']) == orjson.dumps(row).decode()
    with pytest.raises(ValueError):
        RowFormat(template, {"zz": STR})


def test_envelope_is_orjson_dumps_of_the_dicts():
    rows = [{"a": n, "b": "é" * (n % 3), "c": [n, None]} for n in range(150)]
    rest = {"hasMore": True, "limit": 150, "count": 150, "links": [{"rel": "self", "href": "http://x/?a=1&b=2"}]}
    for chunk in (rows[:0], rows[:1], rows[:64], rows[:65], rows):
        for size in (1, 7, 64):
            parts = [b",".join(orjson.dumps(r) for r in chunk[k : k + size]) for k in range(0, len(chunk), size)]
            assert envelope(parts, rest) == orjson.dumps({"items": chunk, **rest})
    assert envelope([], {}) == orjson.dumps({"items": []})


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 1023, 1024, 1025, 3000])
def test_batched_hashes_are_the_hashes(n):
    rng = random.Random(n)
    indices = [rng.randrange(1 << rng.choice((8, 20, 40, 63))) for _ in range(n)]
    salt_value = rng.randrange(1 << 64)
    assert h_many(salt_value, indices) == [h(salt_value, i) for i in indices]


def test_amount_texts_are_what_orjson_writes():
    cents = cents_texts()
    assert len(cents) == CENTS
    assert all(text == orjson.dumps(d / 100).decode() for d, text in enumerate(cents))
    prices, price_texts, mfg_texts = item_prices()
    for price, text, mfg in zip(prices, price_texts, mfg_texts, strict=True):
        assert text == orjson.dumps(price).decode()
        assert mfg == orjson.dumps(round(price * 1.25, 2)).decode()
        for factor in _LOC_FACTOR:  # every selling retail and INITIAL price
            x = price * factor
            assert amount_text(x) == repr(round(x, 2))
    rng = random.Random(1)
    for _ in range(100_000):  # REGULAR and CLEARANCE prices (3.6M combinations: sampled)
        x = rng.choice(prices) * rng.choice(_LOC_FACTOR) * rng.choice(_REG_FACTOR + _CLR_FACTOR)
        assert amount_text(x) == repr(round(x, 2)) == orjson.dumps(round(x, 2)).decode()
    for x in (0.0, 0.004, 0.005, 0.015, 1.005, 2.675, 199.995, 250.0, 1e6 + 0.125):
        assert amount_text(x) == repr(round(x, 2))
