"""Keys that keep different rows apart: node scopes of items, the hot fix history, log lines
that share a timestamp and message, several price events per item and location."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from retail_provider.http.retry import RetryPolicy
from retail_provider.ocds.catalog import get_endpoint
from retail_provider.ocds.hook import OcdsHook
from retail_provider.ocds.sync import sync_endpoint
from tests.support import assert_table_equals_truth, table_rows

SCHEMA = "ocds_keys_test"
SCOPES = [{"nodelevel": "COMPANY", "nodeid": "1"}, {"nodelevel": "CHAIN", "nodeid": "1"},
          {"nodelevel": "DISTRICT", "nodeid": "1"}]


@pytest.fixture
def hook(airflow_connections):
    h = OcdsHook("ocds_default", retry_policy=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    yield h
    h.close()


def _sync(hook, emulator, dsn, name, filters=None, since=None, sweep=True):
    endpoint = get_endpoint(name)
    before = emulator.state.ocds.now() + timedelta(microseconds=1) if endpoint.windowed else None
    with psycopg.connect(dsn) as conn:
        result = sync_endpoint(hook, conn, endpoint, filters=filters, since=since, before=before, sweep=sweep,
                               schema=SCHEMA)
        conn.commit()
    return result, before


@pytest.mark.parametrize("name", ["item", "item_upc"])
def test_node_scopes_with_the_same_node_id_stay_apart(hook, emulator, warehouse_dsn, name):
    """COMPANY 1, CHAIN 1 and DISTRICT 1 all answer itemlocation "1": the scope keeps them apart."""
    endpoint, ocds = get_endpoint(name), emulator.state.ocds
    for scope in SCOPES:
        _sync(hook, emulator, warehouse_dsn, name, scope)
    _sync(hook, emulator, warehouse_dsn, name)  # and the enterprise ("ent") rows
    with psycopg.connect(warehouse_dsn) as conn:
        for scope in [*SCOPES, {}]:
            assert_table_equals_truth(conn, endpoint, ocds.truth(name, **scope), SCHEMA, scope)
        by_scope = dict(conn.execute(f"SELECT _scope, count(*) FROM {SCHEMA}.{name} GROUP BY 1").fetchall())
    assert len(by_scope) == 4
    # a sweep of one scope leaves the others alone
    ocds.mutate(name, deletes=2, seed=8)
    _sync(hook, emulator, warehouse_dsn, name, SCOPES[1])
    with psycopg.connect(warehouse_dsn) as conn:
        assert_table_equals_truth(conn, endpoint, ocds.truth(name, **SCOPES[1]), SCHEMA, SCOPES[1])
        assert len(table_rows(conn, endpoint, SCHEMA, SCOPES[0])) == by_scope["nodeid=1&nodelevel=COMPANY"]


def test_every_hot_fix_is_a_row(hook, emulator, warehouse_dsn):
    _sync(hook, emulator, warehouse_dsn, "admin_version")
    with psycopg.connect(warehouse_dsn) as conn:
        rows = conn.execute(f"SELECT version, hotfix FROM {SCHEMA}.admin_version ORDER BY installed").fetchall()
        assert_table_equals_truth(conn, get_endpoint("admin_version"), emulator.state.ocds.truth("admin_version"),
                                  SCHEMA)
    assert rows == [("19.1.000", "000"), ("19.1.000", "001"), ("19.1.000", "002")]


def test_log_lines_sharing_logged_and_message_are_all_kept(hook, emulator, warehouse_dsn):
    _sync(hook, emulator, warehouse_dsn, "admin_log")
    truth = emulator.state.ocds.truth("admin_log")
    with psycopg.connect(warehouse_dsn) as conn:
        assert_table_equals_truth(conn, get_endpoint("admin_log"), truth, SCHEMA)
        shared = conn.execute(f"SELECT count(*) FROM (SELECT logged, message FROM {SCHEMA}.admin_log "
                              "GROUP BY 1, 2 HAVING count(*) > 1) t").fetchone()[0]
    assert shared > 0 and shared == len(truth) - len({(r["logged"], r["message"]) for r in truth})


def test_several_price_events_per_item_and_location_are_kept(hook, emulator, warehouse_dsn):
    ocds, f = emulator.state.ocds, {"pricetype": "CLEARANCE"}
    _, t1 = _sync(hook, emulator, warehouse_dsn, "item_price", f)
    query = (f"SELECT count(*) FROM (SELECT 1 FROM {SCHEMA}.item_price WHERE pricetype = 'CLEARANCE' "
             "GROUP BY loctype, location, item HAVING count(*) > 1) t")
    with psycopg.connect(warehouse_dsn) as conn:
        assert conn.execute(query).fetchone()[0] > 0  # successive markdowns
    changes = ocds.mutate("item_price", inserts=3, updates=3, deletes=2, seed=12, pricetype="CLEARANCE")
    _sync(hook, emulator, warehouse_dsn, "item_price", f, since=t1, sweep=False)
    with psycopg.connect(warehouse_dsn) as conn:
        assert_table_equals_truth(conn, get_endpoint("item_price"), ocds.truth("item_price", **f), SCHEMA, f)
        for new in changes["inserted"]:  # a further markdown joins the earlier events of its pair
            events = conn.execute(f"SELECT eventid FROM {SCHEMA}.item_price WHERE pricetype = 'CLEARANCE' AND "
                                  "location = %s AND item = %s", (new["location"], new["item"])).fetchall()
            assert len(events) >= 2 and (new["eventid"],) in events
