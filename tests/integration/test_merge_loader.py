"""MergeLoader on real PostgreSQL: last change per key wins, deletes, no-op upserts, sweeps."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from pydantic import BaseModel

from retail_provider.warehouse.ddl import ensure_table
from retail_provider.warehouse.loader import MergeLoader
from retail_provider.warehouse.schema import table_spec

SCHEMA = "merge_test"


class Thing(BaseModel):
    loc: int
    item: str
    qty: Decimal | None = None
    tags: list[str] | None = None


class ThingV2(Thing):
    colour: str | None = None


def _spec(model=Thing, table="thing", scope_in_key=False):
    return table_spec(model, schema=SCHEMA, table=table, key=("loc", "item"), scope_in_key=scope_in_key)


def _rows(conn, table="thing"):
    return {
        (r[0], r[1]): r[2:]
        for r in conn.execute(f'SELECT loc, item, qty, _action, _scope FROM {SCHEMA}."{table}" ORDER BY 1, 2')
    }


def _load(conn, rows, *, spec=None, sweep=False, scope="", batch_rows=50_000):
    spec = spec or _spec()
    ensure_table(conn, spec)
    loader = MergeLoader(conn, spec, scope=scope, sync_id=1, sweep=sweep, batch_rows=batch_rows)
    loader.prepare()
    loader.stage(rows)
    merged = loader.finish()
    conn.commit()
    return loader, merged


@pytest.fixture
def conn(warehouse_dsn):
    with psycopg.connect(warehouse_dsn) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        c.commit()
        yield c


def test_last_change_per_key_wins_and_deletes_apply(conn):
    _, merged = _load(conn, [
        ("INSERT", 1, "a", Decimal("1"), None, None),
        ("INSERT", 1, "b", Decimal("2"), None, None),
        ("UPDATE", 1, "a", Decimal("3"), None, None),  # later in the same batch: wins
        ("INSERT", 2, "c", Decimal("4"), '["x"]', None),
        ("DELETE", 2, "c", None, None, None),  # inserted then deleted within the batch
    ], batch_rows=2)  # several merges inside one transaction
    assert _rows(conn) == {(1, "a"): (Decimal("3"), "UPDATE", ""), (1, "b"): (Decimal("2"), "INSERT", "")}
    _, merged = _load(conn, [("DELETE", 1, "b", None, None, None), ("NO_CHANGE", 1, "a", Decimal("3"), None, None)])
    assert merged["deleted"] == 1 and merged["upserted"] == 0  # an unchanged row is not rewritten
    assert list(_rows(conn)) == [(1, "a")]


def test_unchanged_rows_are_not_rewritten(conn):
    _load(conn, [("INSERT", 1, "a", Decimal("1.50"), '["x", "y"]', None)])
    xmin = conn.execute(f"SELECT xmin::text, _loaded_at FROM {SCHEMA}.thing").fetchone()
    _, merged = _load(conn, [("UPSERT", 1, "a", Decimal("1.5"), '["x", "y"]', None)])
    assert merged["upserted"] == 0
    assert conn.execute(f"SELECT xmin::text, _loaded_at FROM {SCHEMA}.thing").fetchone() == xmin


def test_sweep_deletes_only_unseen_rows_of_its_scope(conn):
    _load(conn, [("INSERT", 1, "a", 1, None, None), ("INSERT", 1, "b", 1, None, None)], scope="nodeid=1")
    _load(conn, [("INSERT", 2, "z", 1, None, None)], scope="nodeid=2")
    _, merged = _load(conn, [("INSERT", 1, "a", 1, None, None)], scope="nodeid=1", sweep=True)
    assert merged["swept"] == 1
    assert set(_rows(conn)) == {(1, "a"), (2, "z")}
    _, merged = _load(conn, [("INSERT", 1, "a", 1, None, None)], sweep=True)  # unfiltered: authoritative
    assert set(_rows(conn)) == {(1, "a")} and merged["swept"] == 1


def test_scope_in_key_keeps_one_row_per_scope(conn):
    spec = _spec(table="per_scope", scope_in_key=True)
    _load(conn, [("INSERT", 1, "a", 1, None, None)], spec=spec, scope="nodeid=1")
    _load(conn, [("INSERT", 1, "a", 2, None, None)], spec=spec, scope="nodeid=2")
    _load(conn, [("DELETE", 1, "a", None, None, None)], spec=spec, scope="nodeid=1")
    rows = conn.execute(f"SELECT _scope, qty FROM {SCHEMA}.per_scope").fetchall()
    assert rows == [("nodeid=2", Decimal("2"))]


def test_a_new_model_field_adds_its_column(conn):
    _load(conn, [("INSERT", 1, "a", 1, None, None)])
    _load(conn, [("UPDATE", 1, "a", 1, None, "red", None)], spec=_spec(ThingV2))
    assert conn.execute(f"SELECT colour FROM {SCHEMA}.thing").fetchone() == ("red",)


def test_nothing_is_visible_before_commit_and_rollback_discards(conn, warehouse_dsn):
    _load(conn, [("INSERT", 1, "a", 1, None, None)])
    ensure_table(conn, _spec())
    loader = MergeLoader(conn, _spec(), sync_id=2)
    loader.prepare()
    loader.stage([("DELETE", 1, "a", None, None, None), ("INSERT", 5, "e", 1, None, None)])
    loader.finish()
    with psycopg.connect(warehouse_dsn) as other:
        assert [r[0] for r in other.execute(f"SELECT loc FROM {SCHEMA}.thing")] == [1]
    conn.rollback()
    assert list(_rows(conn)) == [(1, "a")]
