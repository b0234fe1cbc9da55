"""OCDS DAGs run through Airflow itself (``dag.test``) with real Variables and connections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from include.devenv import airflow_env
from retail_provider.ocds.catalog import get_endpoint
from retail_provider.ocds.operators import watermark_key
from tests.support import assert_table_equals_truth, expected_rows, table_rows

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


def _as_of(emulator, name, before):
    """The source's live rows as of ``before`` (its last change per key up to then, minus deletes)."""
    ocds = emulator.state.ocds
    page = ocds.page(name, ocds.filters(name, {}), 10_000_000, 0, int(before.timestamp() * 1e6))
    return [{k: v for k, v in row.items() if k != "action"} for row in page.items if row.get("action") != "DELETE"]


def _assert_reference_tables_match(warehouse_dsn, emulator, before=None):
    """Each table equals the source: as it is now, or as of ``before`` (a run with a safety lag
    must not have seen what changed after its window; other tests may have changed the source
    in the last minutes)."""
    with psycopg.connect(warehouse_dsn) as conn:
        for name in REFERENCE:
            truth = emulator.state.ocds.truth(name) if before is None else _as_of(emulator, name, before)
            assert_table_equals_truth(conn, get_endpoint(name), truth, SCHEMA)


def test_reference_dag_initial_incremental_and_rerun(airflow_connections, emulator, warehouse_dsn):
    # scheduled-style run: default safety lag, the watermark lands 5 minutes before now
    states = _run_ok("ocds_reference")
    assert set(states.values()) == {"success"}
    key = watermark_key(get_endpoint("vat"), {})
    first = datetime.fromisoformat(_variable(key))
    _assert_reference_tables_match(warehouse_dsn, emulator, before=first)
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


# -- scoped feeds: per run (Params) and per task (the config file) ------------------------


def test_the_scoped_feeds_file_builds_one_feed_per_store(airflow_connections, emulator, warehouse_dsn):
    states = _run_ok("ocds_inventory_by_store", NOW)
    assert states == {f"sync_{e}_{s}_store": "success" for e in ("inventory_store", "inventory_future")
                      for s in (1001, 1002)}
    with psycopg.connect(warehouse_dsn) as conn:
        for name in ("inventory_store", "inventory_future"):
            for store in ("1001", "1002"):
                scope = {"nodelevel": "STORE", "nodeid": store}
                assert_table_equals_truth(conn, get_endpoint(name), emulator.state.ocds.truth(name, **scope),
                                          SCHEMA, scope)
                assert _variable(watermark_key(get_endpoint(name), scope))


def test_a_bad_scoped_feeds_file_names_the_file_dag_and_rule(tmp_path):
    from retail_provider.http.errors import InputValidationError
    from retail_provider.ocds.feeds import build_feed_dags

    path = tmp_path / "feeds.yaml"
    path.write_text("dags:\n  - dag_id: ocds_x\n    title: t\n    summary: s\n    cron: '@daily'\n    tasks:\n"
                    "      - endpoint: vat\n        filters: {nodelevel: STORE, nodeid: 1}\n")
    with pytest.raises(InputValidationError, match=r"feeds.yaml: DAG 'ocds_x': filter 'nodeid' is not supported"):
        build_feed_dags(path)


def test_run_params_scope_the_tasks_that_take_them(airflow_connections, emulator, warehouse_dsn):
    scope = {"nodelevel": "DISTRICT", "nodeid": "1"}
    states = _run_ok("ocds_locations", {**NOW, "nodelevel": "DISTRICT", "nodeid": 1})
    assert states == {"sync_location_retailstore": "success", "sync_orghier": "success",
                      "sync_orghier_descendant": "success", "sync_location_warehouse": "skipped",
                      "sync_merchhier": "skipped"}
    with psycopg.connect(warehouse_dsn) as conn:
        assert_table_equals_truth(conn, get_endpoint("orghier_descendant"),  # the scope is in its key
                                  emulator.state.ocds.truth("orghier_descendant", **scope), SCHEMA, scope)
        for name in ("location_retailstore", "orghier"):  # rows of the node, whichever sync wrote them last
            expected = expected_rows(get_endpoint(name), emulator.state.ocds.truth(name, **scope), SCHEMA)
            stored = table_rows(conn, get_endpoint(name), SCHEMA)
            assert expected and {k: stored.get(k) for k in expected} == expected
    assert _variable(watermark_key(get_endpoint("orghier"), scope))
    states = _run_ok("ocds_admin", {**NOW, "severity": "ERROR", "entitytype": "itemprice"})
    assert states == {"sync_admin_log": "success", "sync_refreshdate": "success", "sync_admin_version": "skipped"}
    with psycopg.connect(warehouse_dsn) as conn:
        scoped = dict(conn.execute("SELECT DISTINCT ON (endpoint) endpoint, filters FROM retail_meta.sync_ledger "
                                   "WHERE endpoint IN ('admin_log', 'refreshdate') ORDER BY endpoint, id DESC"))
        errors = expected_rows(get_endpoint("admin_log"), emulator.state.ocds.truth("admin_log", severity="ERROR"),
                               SCHEMA)
        stored = table_rows(conn, get_endpoint("admin_log"), SCHEMA)
        entities = conn.execute("SELECT lower(entity) FROM ocds.refreshdate").fetchall()
        assert ("itemprice",) in entities
    assert scoped == {"admin_log": {"severity": "ERROR"}, "refreshdate": {"entitytype": "itemprice"}}
    assert errors and {k: stored.get(k) for k in errors} == errors


def test_a_node_without_its_level_fails_before_any_api_call(airflow_connections, emulator, warehouse_dsn):
    calls = len(emulator.state.requests)
    run, states = _run("ocds_inventory", {**NOW, "nodeid": 3})
    assert states["sync_inventory_store"] == "failed" and len(emulator.state.requests) == calls


# -- records that cannot be applied, tables of an older release ----------------------------


@pytest.fixture
def webhook(monkeypatch):
    import threading

    from tests.dags.test_alerting import WebhookSink

    sink = WebhookSink()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    monkeypatch.setenv("RETAIL_ALERT_WEBHOOK_URL", sink.url)
    yield sink
    sink.shutdown()
    sink.server_close()


def test_records_that_cannot_be_applied_alert_and_the_feed_goes_on(airflow_connections, emulator,
                                                                  warehouse_dsn, webhook):
    ocds = emulator.state.ocds
    _run_ok("ocds_reference", {**NOW, "endpoint": "diff_group"})
    key = watermark_key(get_endpoint("diff_group"), {})
    watermark = _variable(key)
    ocds.set_readings(actions={"diff_group": {"UPDATE": "MERGE"}})
    try:
        changes = ocds.mutate("diff_group", updates=2, inserts=1, seed=31)
        _run_ok("ocds_reference", {**NOW, "endpoint": "diff_group"})
    finally:
        ocds.set_readings(actions={})
    assert _variable(key) > watermark, "the window counts as synced"
    (post,) = webhook.posts
    text = post["json"]["text"]
    assert "OCDS diff_group: 2 records could not be applied" in text and "'MERGE'" in text
    assert "retail_meta.sync_rejects WHERE sync_id =" in text
    with psycopg.connect(warehouse_dsn) as conn:
        rejected = conn.execute("SELECT record FROM retail_meta.sync_rejects WHERE endpoint = 'diff_group' "
                                "AND reason LIKE '%MERGE%' ORDER BY id DESC LIMIT 2").fetchall()
        ledger = conn.execute("SELECT status, rows_rejected FROM retail_meta.sync_ledger WHERE endpoint = "
                              "'diff_group' ORDER BY id DESC LIMIT 1").fetchone()
        inserted = changes["inserted"][0]
        kept = conn.execute("SELECT 1 FROM ocds.diff_group WHERE diffgroupid = %s AND diffid = %s",
                            (inserted["diffgroupid"], inserted["diffid"])).fetchall()
    assert {(r["diffgroupid"], r["diffid"]) for (r,) in rejected} == {(k["diffgroupid"], k["diffid"])
                                                                       for k in changes["updated"]}
    assert ledger == ("success", 2) and kept == [(1,)]


def test_a_table_of_an_older_layout_is_moved_aside_and_reloaded(airflow_connections, emulator, warehouse_dsn):
    """Prices were keyed without eventid: every price type's feed resyncs fully once, nothing is lost."""
    from airflow.models.variable import Variable

    recent = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute("DROP TABLE IF EXISTS ocds.item_price")
        conn.execute("CREATE SCHEMA IF NOT EXISTS ocds")
        conn.execute("CREATE TABLE ocds.item_price (loctype text NOT NULL, location bigint NOT NULL, item text "
                     "NOT NULL, pricetype text NOT NULL, price numeric, effective timestamp, source text, eventid "
                     "bigint, resetind text, clearanceind text, _scope text NOT NULL DEFAULT '', _action text, "
                     "_loaded_at timestamptz NOT NULL DEFAULT now(), _sync_id bigint, _extra jsonb, "
                     "PRIMARY KEY (pricetype, loctype, location, item))")
        conn.execute("INSERT INTO ocds.item_price (loctype, location, item, pricetype, price, eventid) "
                     "VALUES ('S', 1, 'old', 'REGULAR', 1.5, 7)")
    for price_type in ("INITIAL", "REGULAR", "CLEARANCE"):  # as if each feed were up to date
        Variable.set(watermark_key(get_endpoint("item_price"), {"pricetype": price_type}), recent)
    _run_ok("ocds_prices", NOW)
    with psycopg.connect(warehouse_dsn) as conn:
        for price_type in ("INITIAL", "REGULAR", "CLEARANCE"):
            f = {"pricetype": price_type}
            assert_table_equals_truth(conn, get_endpoint("item_price"),
                                      emulator.state.ocds.truth("item_price", **f), SCHEMA, f)
        modes = conn.execute("SELECT filters->>'pricetype', mode FROM retail_meta.sync_ledger WHERE endpoint = "
                             "'item_price' AND status = 'success' ORDER BY id DESC LIMIT 3").fetchall()
        (aside,) = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'ocds' AND tablename LIKE "
                                "'item\\_price\\_\\_pre\\_%'").fetchall()[-1:]
        old = conn.execute(f'SELECT item, price FROM ocds."{aside[0]}"').fetchall()
    assert sorted(modes) == [("CLEARANCE", "full"), ("INITIAL", "full"), ("REGULAR", "full")]
    assert old == [("old", Decimal("1.5"))]
    _run_ok("ocds_prices", NOW)  # once resynced, the feeds are incremental again
    with psycopg.connect(warehouse_dsn) as conn:
        modes = conn.execute("SELECT mode FROM retail_meta.sync_ledger WHERE endpoint = 'item_price' "
                             "ORDER BY id DESC LIMIT 3").fetchall()
    assert modes == [("incremental",)] * 3
