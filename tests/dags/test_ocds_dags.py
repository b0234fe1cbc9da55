"""OCDS DAGs run through Airflow itself (``dag.test``) with real Variables and connections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from include.devenv import airflow_env
from retail_provider.ocds.catalog import get_endpoint
from retail_provider.ocds.operators import watermark_key
from tests.support import assert_table_equals_truth, table_rows

pytestmark = pytest.mark.airflow
SCHEMA = "ocds"
NOW = {"safety_lag_seconds": 0}  # tests change the source and sync right away


def _variable(key):
    from airflow.models.variable import Variable

    return Variable.get(key, default_var=None)


def _run(dag_id, conf=None):
    run = airflow_env.run_dag(dag_id, conf)
    return run, {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def _run_ok(dag_id, conf=None):
    run, states = _run(dag_id, conf)
    assert "success" in str(run.state), f"{dag_id} failed: {states}"
    return states


def _ledger(warehouse_dsn, endpoint):
    with psycopg.connect(warehouse_dsn) as conn:
        return conn.execute(
            "SELECT mode, status, rows_upserted, rows_deleted, error FROM retail_meta.sync_ledger "
            "WHERE endpoint = %s ORDER BY id", (endpoint,)
        ).fetchall()


@pytest.fixture(autouse=True)
def _setup(emulator, monkeypatch):
    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")  # failures must not wait for Airflow retries
    emulator.state.faults.clear()
    yield
    emulator.state.faults.clear()


REFERENCE = ("diff", "diff_group", "item_dimensiontype", "item_dimensionvalue", "vat")


def _assert_reference_tables_match(warehouse_dsn, emulator):
    with psycopg.connect(warehouse_dsn) as conn:
        for name in REFERENCE:
            assert_table_equals_truth(conn, get_endpoint(name), emulator.state.ocds.truth(name), SCHEMA)


def test_reference_dag_initial_incremental_and_rerun(airflow_connections, emulator, warehouse_dsn):
    # scheduled-style run: default safety lag, the watermark lands 5 minutes before now
    states = _run_ok("ocds_reference")
    assert set(states.values()) == {"success"}
    _assert_reference_tables_match(warehouse_dsn, emulator)
    key = watermark_key(get_endpoint("vat"), {})
    first = datetime.fromisoformat(_variable(key))
    assert datetime.now(UTC) - timedelta(minutes=6) < first <= datetime.now(UTC) - timedelta(minutes=5)
    assert _ledger(warehouse_dsn, "vat")[-1][:2] == ("full", "success")

    # a batch of inserts, updates and deletes, then an incremental run
    for name in ("diff", "vat", "item_dimensionvalue"):
        emulator.state.ocds.mutate(name, inserts=2, updates=2, deletes=1, seed=3)
    _run_ok("ocds_reference", NOW)
    _assert_reference_tables_match(warehouse_dsn, emulator)
    mode, status, upserted, deleted, _ = _ledger(warehouse_dsn, "vat")[-1]
    assert (mode, status) == ("incremental", "success") and upserted >= 4 and deleted >= 1
    second = datetime.fromisoformat(_variable(key))
    assert second > first

    # nothing changed: a rerun writes nothing and only moves the watermark
    with psycopg.connect(warehouse_dsn) as conn:
        snapshot = {n: table_rows(conn, get_endpoint(n), SCHEMA) for n in REFERENCE}
    _run_ok("ocds_reference", NOW)
    assert all(row[2:4] == (0, 0) for row in (_ledger(warehouse_dsn, n)[-1] for n in REFERENCE))
    with psycopg.connect(warehouse_dsn) as conn:
        assert {n: table_rows(conn, get_endpoint(n), SCHEMA) for n in REFERENCE} == snapshot
    assert datetime.fromisoformat(_variable(key)) > second


def test_params_resync_one_endpoint_from_a_given_since(airflow_connections, emulator, warehouse_dsn):
    _run_ok("ocds_admin", NOW)
    key = watermark_key(get_endpoint("admin_log"), {})
    watermark = _variable(key)
    states = _run_ok("ocds_admin", {**NOW, "endpoint": "admin_log", "since": "2025-06-01T00:00:00Z"})
    assert states == {"sync_admin_log": "success", "sync_admin_version": "skipped", "sync_refreshdate": "skipped"}
    assert _variable(key) > watermark  # the window started before the watermark: no gap, so it advances
    with psycopg.connect(warehouse_dsn) as conn:
        since = conn.execute(
            "SELECT since FROM retail_meta.sync_ledger WHERE endpoint = 'admin_log' ORDER BY id DESC"
        ).fetchone()[0]
        assert_table_equals_truth(conn, get_endpoint("admin_log"), emulator.state.ocds.truth("admin_log"), SCHEMA)
    assert since == datetime(2025, 6, 1, tzinfo=UTC)


def test_failure_midway_keeps_table_and_watermark(airflow_connections, emulator, warehouse_dsn):
    _run_ok("ocds_promotions", {**NOW, "page_size": 3})
    endpoint = get_endpoint("item_promotion")
    key = watermark_key(endpoint, {})
    watermark = _variable(key)
    with psycopg.connect(warehouse_dsn) as conn:
        before = table_rows(conn, endpoint, SCHEMA)
    emulator.state.ocds.mutate("item_promotion", inserts=3, updates=3, deletes=2, seed=9)
    emulator.state.faults.add("status", path="/v2/item/promotion", status=503, after=2, times=1000)
    run, states = _run("ocds_promotions", {**NOW, "page_size": 3, "full_refresh": True})
    assert states["sync_item_promotion"] == "failed"
    with psycopg.connect(warehouse_dsn) as conn:
        assert table_rows(conn, endpoint, SCHEMA) == before
    mode, status, *_, error = _ledger(warehouse_dsn, "item_promotion")[-1]
    assert status == "failed" and "503" in error
    assert mode == "full"  # the failed row names the sync that really ran: a full refresh
    assert _variable(key) == watermark
    # the source recovers: the next run catches up
    emulator.state.faults.clear()
    _run_ok("ocds_promotions", NOW)
    with psycopg.connect(warehouse_dsn) as conn:
        assert_table_equals_truth(conn, endpoint, emulator.state.ocds.truth("item_promotion"), SCHEMA)


def test_bulk_reload_triggers_a_full_resync(airflow_connections, emulator, warehouse_dsn):
    _run_ok("ocds_locations", NOW)
    emulator.state.ocds.bulk_reload("retailstore", drop=1)
    _run_ok("ocds_locations", {**NOW, "endpoint": "location_retailstore"})
    mode, status, upserted, deleted, _ = _ledger(warehouse_dsn, "location_retailstore")[-1]
    assert (mode, status) == ("full", "success")
    with psycopg.connect(warehouse_dsn) as conn:
        assert_table_equals_truth(conn, get_endpoint("location_retailstore"),
                                  emulator.state.ocds.truth("location_retailstore"), SCHEMA)
        swept = conn.execute("SELECT rows_swept FROM retail_meta.sync_ledger WHERE endpoint = "
                             "'location_retailstore' ORDER BY id DESC").fetchone()[0]
    assert swept == 1


def test_prices_dag_loads_each_price_type(airflow_connections, emulator, warehouse_dsn):
    _run_ok("ocds_prices", NOW)
    with psycopg.connect(warehouse_dsn) as conn:
        for price_type in ("INITIAL", "REGULAR", "CLEARANCE"):
            f = {"pricetype": price_type}
            assert_table_equals_truth(conn, get_endpoint("item_price"),
                                      emulator.state.ocds.truth("item_price", **f), SCHEMA, f)
            assert _variable(watermark_key(get_endpoint("item_price"), f))


@pytest.mark.parametrize("conf", [{"since": "2025-13-45"}, {"since": "2030-01-01T00:00:00Z"}, {"page_size": 0}])
def test_bad_params_fail_before_any_api_call(airflow_connections, emulator, warehouse_dsn, conf):
    calls = len(emulator.state.requests)
    ledger = len(_ledger(warehouse_dsn, "admin_log"))
    from airflow.sdk.exceptions import ParamValidationError

    try:
        run, states = _run("ocds_admin", {"endpoint": "admin_log", **conf})
    except ParamValidationError as exc:  # Airflow's own Param schema rejects the run outright
        assert "page_size" in str(exc)
    else:
        assert "success" not in str(run.state) and states["sync_admin_log"] == "failed"
    assert len(emulator.state.requests) == calls
    assert len(_ledger(warehouse_dsn, "admin_log")) == ledger


def test_a_bulk_load_inside_the_safety_lag_waits_for_the_next_run(airflow_connections, emulator, warehouse_dsn):
    from airflow.models.variable import Variable

    endpoint = get_endpoint("location_warehouse")
    key = watermark_key(endpoint, {})
    _run_ok("ocds_locations", {**NOW, "endpoint": "location_warehouse"})
    Variable.set(key, (datetime.now(UTC) - timedelta(hours=1)).isoformat())
    emulator.state.ocds.bulk_reload("warehouse", drop=1)  # now: newer than the cutoff (now - 300 s)
    _run_ok("ocds_locations", {"endpoint": "location_warehouse"})
    mode, status, _, _, _ = _ledger(warehouse_dsn, "location_warehouse")[-1]
    assert (mode, status) == ("incremental", "success")  # a sweep now would miss the reloaded rows
    with psycopg.connect(warehouse_dsn) as conn:
        assert len(table_rows(conn, endpoint, SCHEMA)) == len(emulator.state.ocds.truth("location_warehouse")) + 1
    _run_ok("ocds_locations", {**NOW, "endpoint": "location_warehouse"})  # the reload is behind the cutoff now
    assert _ledger(warehouse_dsn, "location_warehouse")[-1][:2] == ("full", "success")
    with psycopg.connect(warehouse_dsn) as conn:
        assert_table_equals_truth(conn, endpoint, emulator.state.ocds.truth("location_warehouse"), SCHEMA)
