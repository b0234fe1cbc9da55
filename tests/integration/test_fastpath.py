"""The fast decoder gives exactly the rows pydantic gives, and hands odd pages to pydantic."""

from __future__ import annotations

from decimal import Decimal

import orjson
import psycopg
import pytest

from retail_provider.ocds.catalog import ENDPOINTS, get_endpoint
from retail_provider.ocds.decode import fast_decoder
from retail_provider.ocds.rows import to_rows
from retail_provider.ocds.sync import spec_for
from retail_provider.warehouse.ddl import ensure_table
from retail_provider.warehouse.loader import MergeLoader

FAST = [n for n, e in ENDPOINTS.items() if fast_decoder(e, spec_for(e, "x")) is not None]


def _page(emulator, name, **params):
    import httpx

    path = get_endpoint(name).path
    r = httpx.get(f"{emulator.url}/ords/ocds/omnichannel/v2/{path}", params={"limit": 200, **params},
                  auth=("ocds_user", "ocds_password"))
    r.raise_for_status()
    return r.content


def _slow_rows(endpoint, content):
    from retail_provider.ocds.envelope import Page

    page = Page[endpoint.model].model_validate_json(content)
    return list(to_rows(spec_for(endpoint, "x"), page.items))


def _as_db_text(rows):
    """Compare the way COPY would write values: as text."""
    return [tuple(None if v is None else str(v) for v in r) for r in rows]


def test_the_big_endpoints_have_a_fast_path():
    assert {"item", "item_upc", "item_image", "item_itemlocation", "item_price", "inventory_store",
            "inventory_warehouse", "inventory_future"} <= set(FAST)
    assert "item_promotion" not in FAST and "item_relateditem" not in FAST


@pytest.mark.parametrize("name", FAST)
def test_fast_rows_equal_pydantic_rows(emulator, name):
    endpoint = get_endpoint(name)
    params = {"pricetype": "REGULAR"} if name == "item_price" else {}
    content = _page(emulator, name, **params)
    fast = fast_decoder(endpoint, spec_for(endpoint, "x"))(content)
    slow = _slow_rows(endpoint, content)
    assert len(fast.records) == len(slow) > 0
    spec = spec_for(endpoint, "x")
    for f, s in zip(fast.records, slow):
        for v_fast, v_slow, col in zip(f[1:-1], s[1:-1], spec.columns):
            if col.pg_type in ("timestamp", "timestamptz") and v_slow is not None:
                continue  # text for PostgreSQL to parse vs. datetime: both land as the same value
            if col.pg_type == "numeric" and v_slow is not None:
                assert Decimal(str(v_fast)) == v_slow, col.name
                continue
            assert (None if v_fast is None else str(v_fast)) == (None if v_slow is None else str(v_slow)), col.name
        assert f[0] == s[0]


def _mutated(content, fn):
    body = orjson.loads(content)
    fn(body["items"][0])
    return orjson.dumps(body)


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("item", lambda r: r.update({"giftwrapind": True})),  # a boolean indicator: pydantic maps it to "Y"
        ("item", lambda r: r.update({"brand_new_field": "x"})),  # kept in _extra by pydantic
        ("item_upc", lambda r: r.update({"orginalunitretail": r.pop("originalunitretail")})),  # reference spelling
        ("item_price", lambda r: r.update({"effective": "2025-03-01T10:00:00-05:00"})),  # an offset on a local time
    ],
)
def test_odd_pages_go_through_pydantic(emulator, name, change):
    endpoint = get_endpoint(name)
    params = {"pricetype": "REGULAR"} if name == "item_price" else {}
    content = _mutated(_page(emulator, name, **params), change)
    fast = fast_decoder(endpoint, spec_for(endpoint, "x"))(content)
    assert fast.records == _slow_rows(endpoint, content)


def test_invalid_values_still_fail_clearly(emulator):
    """A value of the wrong type cannot be applied: its record is rejected with the reason, the others load."""
    endpoint = get_endpoint("item")
    page = orjson.loads(_page(emulator, "item"))
    page["items"][3]["itemlevel"] = "first"
    decoded = fast_decoder(endpoint, spec_for(endpoint, "x"))(orjson.dumps(page))
    assert [r.record["item"] for r in decoded.rejects] == [page["items"][3]["item"]]
    assert "itemlevel" in decoded.rejects[0].reason and "'first'" in decoded.rejects[0].reason
    assert len(decoded.records) == len(page["items"]) - 1


def test_first_load_copies_directly_and_survives_a_repeated_key(warehouse_dsn):
    from pydantic import BaseModel

    from retail_provider.warehouse.schema import table_spec

    class Thing(BaseModel):
        k: int
        v: str | None = None

    spec = table_spec(Thing, schema="fast_test", table="thing", key=("k",))
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute("DROP SCHEMA IF EXISTS fast_test CASCADE")
        conn.commit()
        ensure_table(conn, spec)
        loader = MergeLoader(conn, spec, sync_id=7, sweep=True)
        loader.prepare()
        assert loader.direct
        loader.stage([("INSERT", 1, "a", None), ("INSERT", 2, "b", None), ("DELETE", 3, None, None)])
        loader.stage([("UPDATE", 2, "b2", None), ("INSERT", 4, "d", None)])  # key 2 again
        assert not loader.direct
        merged = loader.finish()
        conn.commit()
        rows = conn.execute("SELECT k, v FROM fast_test.thing ORDER BY k").fetchall()
    assert rows == [(1, "a"), (2, "b2"), (4, "d")]
    assert merged["swept"] == 0
