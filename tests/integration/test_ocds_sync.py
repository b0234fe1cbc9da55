"""Every OCDS endpoint through the sync engine into real PostgreSQL, compared with ground truth.

For each endpoint: an initial sync equals the emulator's truth; after a batch of inserts,
updates and deletes an incremental sync equals it again; re-running either window, or a
window without changes, changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from retail_provider.http.errors import ServerError
from retail_provider.http.retry import RetryPolicy
from retail_provider.ocds.catalog import ENDPOINTS, get_endpoint
from retail_provider.ocds.hook import OcdsHook
from retail_provider.ocds.sync import spec_for, sync_endpoint
from tests.support import assert_table_equals_truth, table_rows

SCHEMA = "ocds_sync_test"

# the filter combination each endpoint is synced with in this module
CASES = {name: {} for name in ENDPOINTS}
CASES["item_price"] = {"pricetype": "REGULAR"}
EXTRA_CASES = [
    ("item_price", {"pricetype": "CLEARANCE"}),
    ("item", {"nodelevel": "STORE", "nodeid": None}),
    ("inventory_future", {"nodelevel": "COMPANY", "nodeid": 1}),
]


@pytest.fixture
def hook(airflow_connections):
    h = OcdsHook("ocds_default", retry_policy=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    yield h
    h.close()


def _now(emulator) -> datetime:
    return emulator.state.ocds.now() + timedelta(microseconds=1)


def _sync(hook, warehouse_dsn, endpoint, filters, since, before, sweep=False, page_size=None):
    with psycopg.connect(warehouse_dsn) as conn:
        result = sync_endpoint(hook, conn, endpoint, filters=filters, since=since, before=before, sweep=sweep,
                               schema=SCHEMA, page_size=page_size)
        conn.commit()
    return result


def _table(warehouse_dsn, endpoint, filters):
    with psycopg.connect(warehouse_dsn) as conn:
        return table_rows(conn, endpoint, SCHEMA, filters)


def _loaded_at(warehouse_dsn, endpoint):
    with psycopg.connect(warehouse_dsn) as conn:
        return conn.execute(f"SELECT count(*), max(_loaded_at) FROM {spec_for(endpoint, SCHEMA).qualified}").fetchone()


def _actions(result, endpoint) -> dict[str, int]:
    """The change actions a sync applied (a promotion's are its locations')."""
    if endpoint.nested:
        return result.children[f"{SCHEMA}.{endpoint.table}_location"]["rows_by_action"]
    return result.rows_by_action


def _first_store(emulator) -> int:
    stores = emulator.state.ocds.truth("location_retailstore")
    return int(stores[0]["storeid"])


@pytest.mark.parametrize(
    ("name", "filters"), [(n, f) for n, f in CASES.items()] + EXTRA_CASES, ids=lambda v: str(v)
)
def test_initial_incremental_and_repeat_sync_match_truth(hook, emulator, warehouse_dsn, name, filters):
    endpoint = get_endpoint(name)
    ocds = emulator.state.ocds
    filters = dict(filters)
    if filters.get("nodeid", 0) is None:
        filters["nodeid"] = _first_store(emulator)
    truth_filters = {k: str(v) for k, v in filters.items()}
    page = 37 if name in ("item", "item_price", "item_image", "item_itemlocation") else None

    # 1. initial sync: everything up to now
    t1 = _now(emulator)
    first = _sync(hook, warehouse_dsn, endpoint, filters, None, t1 if endpoint.windowed else None, sweep=True,
                  page_size=page)
    with psycopg.connect(warehouse_dsn) as conn:
        assert_table_equals_truth(conn, endpoint, ocds.truth(name, **truth_filters), SCHEMA, truth_filters)
    if endpoint.mode == "incremental":
        assert _actions(first, endpoint).get("INSERT", 0) > 0

    if not endpoint.windowed:
        # current-state endpoints: a second snapshot changes nothing
        before = _loaded_at(warehouse_dsn, endpoint)
        again = _sync(hook, warehouse_dsn, endpoint, filters, None, None)
        assert (again.upserted, again.deleted, again.swept) == (0, 0, 0)
        assert _loaded_at(warehouse_dsn, endpoint) == before
        return

    # 2. a batch of inserts, updates and deletes, then the incremental window
    if endpoint.mode == "incremental":
        small = len(ocds.truth(name)) < 20
        changes = ocds.mutate(name, inserts=2 if small else 3, updates=1 if small else 4, deletes=1 if small else 2,
                              seed=11, pricetype=truth_filters.get("pricetype"))
        assert changes["inserted"] and changes["updated"] and changes["deleted"]
    else:  # the admin log only grows
        ocds.mutate(name, inserts=3, seed=11)
    t2 = _now(emulator)
    second = _sync(hook, warehouse_dsn, endpoint, filters, t1, t2, page_size=page)
    with psycopg.connect(warehouse_dsn) as conn:
        assert_table_equals_truth(conn, endpoint, ocds.truth(name, **truth_filters), SCHEMA, truth_filters)
    if endpoint.mode == "incremental":
        assert _actions(second, endpoint).get("DELETE", 0) >= 1
        deleted = second.children[f"{SCHEMA}.{endpoint.table}_location"]["deleted"] if endpoint.nested else second.deleted
        assert deleted >= 1 and second.upserted >= 1

    # 3. re-running the same window and an empty window change nothing
    snapshot = _table(warehouse_dsn, endpoint, filters)
    marks = _loaded_at(warehouse_dsn, endpoint)
    rerun = _sync(hook, warehouse_dsn, endpoint, filters, t1, t2, page_size=page)
    assert rerun.upserted == 0 and rerun.deleted == 0
    empty = _sync(hook, warehouse_dsn, endpoint, filters, t2, _now(emulator))
    assert empty.pages == 1 and sum(empty.rows_by_action.values()) == 0
    assert _table(warehouse_dsn, endpoint, filters) == snapshot
    assert _loaded_at(warehouse_dsn, endpoint) == marks


def test_a_failure_midway_leaves_the_table_as_it_was(hook, emulator, warehouse_dsn):
    endpoint = get_endpoint("item_image")
    t1 = _now(emulator)
    _sync(hook, warehouse_dsn, endpoint, {}, None, t1, sweep=True)
    before = _table(warehouse_dsn, endpoint, {})
    emulator.state.ocds.mutate("item_image", inserts=20, updates=20, deletes=20, seed=5)
    emulator.state.faults.add("status", path="/v2/item/image", status=500, after=2, times=100)
    try:
        with pytest.raises(ServerError):
            _sync(hook, warehouse_dsn, endpoint, {}, t1, _now(emulator), page_size=10)
    finally:
        emulator.state.faults.clear()
    assert _table(warehouse_dsn, endpoint, {}) == before
    with psycopg.connect(warehouse_dsn) as conn:
        statuses = conn.execute(
            "SELECT status FROM retail_meta.sync_ledger WHERE endpoint = 'item_image' ORDER BY id"
        ).fetchall()
    assert all(s == ("success",) for s in statuses)  # the engine leaves failure records to its caller


def test_full_resync_after_bulk_reload_removes_silently_dropped_rows(hook, emulator, warehouse_dsn):
    endpoint = get_endpoint("diff")
    ocds = emulator.state.ocds
    t1 = _now(emulator)
    _sync(hook, warehouse_dsn, endpoint, {}, None, t1, sweep=True)
    ocds.bulk_reload("diff", drop=2)
    t2 = _now(emulator)
    # an incremental window sees the reloaded rows as INSERTs but never the dropped ones
    _sync(hook, warehouse_dsn, endpoint, {}, t1, t2)
    assert len(_table(warehouse_dsn, endpoint, {})) == len(ocds.truth("diff")) + 2
    # the full resync sweeps them
    result = _sync(hook, warehouse_dsn, endpoint, {}, None, _now(emulator), sweep=True)
    assert result.swept == 2
    with psycopg.connect(warehouse_dsn) as conn:
        assert_table_equals_truth(conn, endpoint, ocds.truth("diff"), SCHEMA)
    refreshed = hook.get_refresh_dates("diff")["diff"]
    assert t1 < refreshed < t2 + timedelta(seconds=1)


def test_rows_changed_while_paging_are_neither_lost_nor_duplicated(hook, emulator, warehouse_dsn):
    endpoint = get_endpoint("item_dimensionvalue")
    ocds = emulator.state.ocds
    t0 = datetime(1970, 1, 1, tzinfo=UTC)
    before = _now(emulator)
    pages = hook.iter_pages(endpoint, since=t0, before=before, limit=5)
    first = next(pages)
    ocds.mutate("item_dimensionvalue", inserts=5, updates=5, deletes=5, seed=3)  # stamped after `before`
    rest = [r for p in pages for r in p.records]
    keys = [(r.dimensionsystem, r.dimension, r.value) for r in [*first.records, *rest]]
    assert len(keys) == len(set(keys))
    assert keys == sorted(keys)
