"""Every action value the reference lists has a meaning; a record that cannot be applied is set
aside in ``retail_meta.sync_rejects`` (reason and raw record) and the sync goes on."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from include.emulator.ocds.readings import Readings
from retail_provider.http.retry import RetryPolicy
from retail_provider.ocds.catalog import get_endpoint
from retail_provider.ocds.hook import OcdsHook
from retail_provider.ocds.sync import sync_endpoint
from tests.support import assert_table_equals_truth, expected_rows, table_rows

SCHEMA = "ocds_actions_test"


@pytest.fixture
def hook(airflow_connections, emulator):
    h = OcdsHook("ocds_default", retry_policy=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    yield h
    h.close()
    emulator.state.ocds.set_readings(**Readings().as_dict())


def _now(emulator):
    return emulator.state.ocds.now() + timedelta(microseconds=1)


def _sync(hook, dsn, name, since, before, sweep=False):
    with psycopg.connect(dsn) as conn:
        result = sync_endpoint(hook, conn, get_endpoint(name), since=since, before=before, sweep=sweep,
                               schema=SCHEMA, page_size=7)
        conn.commit()
    return result


def _full(hook, emulator, dsn, name):
    t = _now(emulator)
    _sync(hook, dsn, name, None, t, sweep=True)
    return t


def _matches_truth(emulator, dsn, name):
    with psycopg.connect(dsn) as conn:
        assert_table_equals_truth(conn, get_endpoint(name), emulator.state.ocds.truth(name), SCHEMA)


@pytest.mark.parametrize("relabel", [{"INSERT": "UPSERT", "UPDATE": "UPSERT"}, {"UPDATE": "NA", "INSERT": "NA"},
                                     {"INSERT": "insert", "UPDATE": "Update"}], ids=str)
def test_upsert_na_and_any_case_upsert_the_row(hook, emulator, warehouse_dsn, relabel):
    ocds = emulator.state.ocds
    t1 = _full(hook, emulator, warehouse_dsn, "vat")
    ocds.set_readings(actions={"vat": relabel})
    ocds.mutate("vat", inserts=2, updates=3, deletes=1, seed=5)
    result = _sync(hook, warehouse_dsn, "vat", t1, _now(emulator))
    assert result.rejected == 0 and result.deleted == 1
    assert {relabel[a].upper() for a in ("INSERT", "UPDATE")} <= set(result.rows_by_action)
    _matches_truth(emulator, warehouse_dsn, "vat")


def test_no_change_converges_and_writes_nothing(hook, emulator, warehouse_dsn):
    ocds = emulator.state.ocds
    t1 = _full(hook, emulator, warehouse_dsn, "diff_group")
    touched = ocds.mutate("diff_group", touches=3, seed=6)["touched"]
    result = _sync(hook, warehouse_dsn, "diff_group", t1, _now(emulator))
    assert result.rows_by_action == {"NO_CHANGE": len(touched)} and (result.upserted, result.deleted) == (0, 0)
    _matches_truth(emulator, warehouse_dsn, "diff_group")


def test_no_change_of_a_row_missed_before_is_upserted(hook, emulator, warehouse_dsn):
    """NO_CHANGE says the source holds these values: a warehouse that lacks the row gets it."""
    ocds = emulator.state.ocds
    t1 = _full(hook, emulator, warehouse_dsn, "diff")
    touched = ocds.mutate("diff", touches=1, seed=7)["touched"][0]
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute(f"DELETE FROM {SCHEMA}.diff WHERE diffid = %s", (touched["diffid"],))
    result = _sync(hook, warehouse_dsn, "diff", t1, _now(emulator))
    assert result.rows_by_action == {"NO_CHANGE": 1} and result.upserted == 1
    _matches_truth(emulator, warehouse_dsn, "diff")


def _rejects(dsn, sync_id):
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT endpoint, target_table, since, before, reason, record FROM "
                            "retail_meta.sync_rejects WHERE sync_id = %s ORDER BY id", (sync_id,)).fetchall()


@pytest.mark.parametrize(("served", "why"), [("MERGE", "'MERGE'"), (None, "action: Field required")], ids=str)
def test_unknown_or_missing_actions_are_rejected_and_the_sync_goes_on(hook, emulator, warehouse_dsn, served, why):
    ocds, name = emulator.state.ocds, "item_image"  # a fast-path endpoint
    t1 = _full(hook, emulator, warehouse_dsn, name)
    ocds.set_readings(actions={name: {"UPDATE": served}})
    changes = ocds.mutate(name, inserts=3, updates=4, deletes=2, seed=f"rejects {served}")
    t2 = _now(emulator)
    result = _sync(hook, warehouse_dsn, name, t1, t2)
    assert result.rejected == 4 and result.upserted == 3 and result.deleted == 2
    assert set(result.reject_reasons) == {next(iter(result.reject_reasons))} and why in next(iter(result.reject_reasons))
    rows = _rejects(warehouse_dsn, result.sync_id)
    assert len(rows) == 4 and {(r[0], r[1]) for r in rows} == {(name, f"{SCHEMA}.{name}")}
    assert rows[0][2] == t1 and rows[0][3] == t2
    assert {(r[5]["item"], r[5]["imagename"]) for r in rows} == {(k["item"], k["imagename"]) for k in changes["updated"]}
    with psycopg.connect(warehouse_dsn) as conn:
        ledger = conn.execute("SELECT status, rows_rejected FROM retail_meta.sync_ledger WHERE id = %s",
                              (result.sync_id,)).fetchone()
        expected = expected_rows(get_endpoint(name), ocds.truth(name), SCHEMA)
        actual = table_rows(conn, get_endpoint(name), SCHEMA)
    assert ledger == ("success", 4)
    stale = {k for k in expected if expected[k] != actual.get(k)}
    assert stale == {(k["item"], k["imagename"]) for k in changes["updated"]}, "only the rejected rows wait"
    ocds.set_readings(actions={})  # the feed is fixed: replaying the window applies them
    _sync(hook, warehouse_dsn, name, t1, t2)
    _matches_truth(emulator, warehouse_dsn, name)


def test_an_unknown_location_action_rejects_its_offer(hook, emulator, warehouse_dsn):
    ocds = emulator.state.ocds
    t1 = _full(hook, emulator, warehouse_dsn, "item_promotion")
    ocds.set_readings(actions={"item_promotion": {"DELETE": "REMOVE"}})
    deleted = ocds.mutate("item_promotion", deletes=2, updates=2, seed=10)["deleted"]
    result = _sync(hook, warehouse_dsn, "item_promotion", t1, _now(emulator))
    rows = _rejects(warehouse_dsn, result.sync_id)
    assert {(r[5]["promoid"], r[5]["offerid"]) for r in rows} == {(k["promoid"], k["offerid"]) for k in deleted}
    assert all("locations.0.action" in r[4] and "'REMOVE'" in r[4] for r in rows)
