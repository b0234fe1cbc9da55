"""First loads and full refreshes resume after a crash, and readers never see half a table.

The crash is real: a child process syncs ``item`` page by page (the emulator slowed down so
it can be caught) and is killed with SIGKILL once about 80% of the pages are committed;
the re-run carries on from the committed next link, reads no committed page again, and the
table then equals the emulator's truth.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import psycopg
import pytest

from include.emulator.ocds.readings import Readings
from retail_provider.http.retry import RetryPolicy
from retail_provider.ocds.catalog import get_endpoint
from retail_provider.ocds.hook import OcdsHook
from retail_provider.ocds.sync import spec_for, sync_endpoint
from retail_provider.timeutil import EPOCH
from retail_provider.warehouse.resumable import CHECKPOINT_TABLE, ResumableLoad, shadow_name
from retail_provider.warehouse.tablesync import Target
from tests.support import assert_table_equals_truth

SCHEMA = "resumable_test"
PAGE = 10
CHILD = """
import sys
from datetime import datetime

import psycopg

from retail_provider.ocds.catalog import get_endpoint
from retail_provider.ocds.hook import OcdsHook
from retail_provider.ocds.sync import sync_endpoint
from retail_provider.timeutil import EPOCH

dsn, schema, before = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
with psycopg.connect(dsn) as conn:
    sync_endpoint(OcdsHook("ocds_default"), conn, get_endpoint("item"), since=EPOCH, before=before, sweep=True,
                  schema=schema, page_size=int(sys.argv[4]), batch_rows=int(sys.argv[5]), prefetch=0)
    conn.commit()
print("finished")
"""


@pytest.fixture
def hook(airflow_connections):
    h = OcdsHook("ocds_default", retry_policy=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    yield h
    h.close()


@pytest.fixture
def fresh(warehouse_dsn):
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"DROP TABLE IF EXISTS {CHECKPOINT_TABLE}")
        conn.commit()


def _now(emulator):
    return emulator.state.ocds.now() + timedelta(microseconds=1)


def _checkpoint(conn, table="item"):
    return conn.execute(f"SELECT pages, next_href, shadow_table, sync_id FROM {CHECKPOINT_TABLE} "
                        "WHERE target_table = %s", (f"{SCHEMA}.{table}",)).fetchone()


def _item_requests(emulator, since=0.0):
    """Requests for ``v2/item`` that started after ``since`` (the killed child's last one may be logged late)."""
    return [r for r in emulator.state.requests.records("/v2/item") if r.path.endswith("/v2/item") and r.started >= since]


def _kill_at(proc, dsn, pages_wanted, timeout=120):
    """Watch the committed checkpoint; SIGKILL the child once it has ``pages_wanted`` pages.
    Meanwhile readers of the target see no row of the load."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"the load ended before it could be killed: {proc.stdout.read()}"
            exists = watcher.execute("SELECT to_regclass(%s)", (CHECKPOINT_TABLE,)).fetchone()[0]
            cp = _checkpoint(watcher) if exists else None
            if cp:
                assert watcher.execute(f"SELECT count(*) FROM {SCHEMA}.item").fetchone()[0] == 0
            if cp and cp[0] >= pages_wanted:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(30)
                return cp
            time.sleep(0.02)
    raise AssertionError("the load never reached the checkpoint to kill it at")


def test_kill_9_at_80_percent_then_the_rerun_finishes_without_rereading(hook, emulator, warehouse_dsn, fresh):
    endpoint = get_endpoint("item")
    before = _now(emulator)
    total = sum(1 for _ in hook.iter_pages(endpoint, since=EPOCH, before=before, limit=PAGE))
    emulator.state.faults.add("slow", path=r"/v2/item$", delay=0.1, times=None)
    emulator.state.requests.clear()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, warehouse_dsn, SCHEMA, before.isoformat(), str(PAGE),
                             str(2 * PAGE)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        pages_done, next_href, _, sync_id = _kill_at(proc, warehouse_dsn, int(0.8 * total))
    finally:
        emulator.state.faults.clear()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert 0.7 * total <= pages_done < total

    rerun_started = time.time()
    with psycopg.connect(warehouse_dsn) as conn:
        result = sync_endpoint(hook, conn, endpoint, since=EPOCH, before=_now(emulator), sweep=True, schema=SCHEMA,
                               page_size=PAGE, batch_rows=2 * PAGE)
        conn.commit()
        assert_table_equals_truth(conn, endpoint, emulator.state.ocds.truth("item"), SCHEMA)
        assert _checkpoint(conn) is None
        ledger = conn.execute("SELECT status, pages, rows_upserted FROM retail_meta.sync_ledger WHERE id = %s",
                              (sync_id,)).fetchone()
    rerun = _item_requests(emulator, rerun_started)
    # the re-run starts at the committed next link and reads each remaining page once
    assert rerun[0].query["offsetkey"] in next_href
    assert len(rerun) == total - pages_done
    assert result.pages == total and result.before == before.isoformat()  # the window it started with
    assert result.sync_id == sync_id and ledger == ("success", total, result.upserted)


def _interrupted(conn, hook, endpoint, before, pages):
    """Load ``pages`` pages of a first load and 'crash' (close the connection without publishing)."""
    spec = spec_for(endpoint, SCHEMA)
    target = Target(vendor="ocds", endpoint=endpoint.name, spec=spec, mode="full", since=EPOCH, before=before,
                    sweep=True)
    load = ResumableLoad(conn, target, batch_rows=PAGE)
    load.start()
    from retail_provider.ocds.decode import fast_decoder

    it = hook.iter_pages(endpoint, since=EPOCH, before=before, limit=PAGE, decode=fast_decoder(endpoint, spec))
    load.load(next(it) for _ in range(pages))
    conn.close()


def test_a_later_successful_sync_makes_a_checkpoint_stale(hook, emulator, warehouse_dsn, fresh):
    endpoint = get_endpoint("item")
    t1 = _now(emulator)
    _interrupted(psycopg.connect(warehouse_dsn), hook, endpoint, t1, pages=3)
    with psycopg.connect(warehouse_dsn) as conn:
        first = _checkpoint(conn)
        assert first[0] == 3
        # an incremental sync of the same table succeeds meanwhile (its rows are newer than the shadow's)
        sync_endpoint(hook, conn, endpoint, since=t1, before=_now(emulator), schema=SCHEMA)
        conn.commit()
        emulator.state.requests.clear()
        result = sync_endpoint(hook, conn, endpoint, since=EPOCH, before=_now(emulator), sweep=True,
                               schema=SCHEMA, page_size=PAGE)
        conn.commit()
        assert "offsetkey" not in _item_requests(emulator)[0].query  # started again from the first page
        assert result.sync_id != first[3] and result.before != t1.isoformat()
        abandoned = conn.execute("SELECT status, error FROM retail_meta.sync_ledger WHERE id = %s",
                                 (first[3],)).fetchone()
        assert abandoned[0] == "failed" and "a later sync of the table succeeded" in abandoned[1]
        assert_table_equals_truth(conn, endpoint, emulator.state.ocds.truth("item"), SCHEMA)


def test_the_first_load_is_swapped_in_and_the_table_keeps_its_shape(hook, emulator, warehouse_dsn, fresh):
    endpoint = get_endpoint("item")
    with psycopg.connect(warehouse_dsn) as conn:
        sync_endpoint(hook, conn, endpoint, since=EPOCH, before=_now(emulator), sweep=True, schema=SCHEMA,
                      page_size=50)
        conn.commit()
        shadow = shadow_name("item", "")
        assert conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.{shadow}",)).fetchone()[0] is None
        assert conn.execute(f"SELECT conname FROM pg_constraint WHERE conrelid = '{SCHEMA}.item'::regclass "
                            "AND contype = 'p'").fetchone() == ("item_pkey",)
        defaults = dict(conn.execute(
            "SELECT column_name, column_default FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = 'item' AND column_name IN ('_scope', '_sync_id')", (SCHEMA,)).fetchall())
        assert defaults == {"_scope": "''::text", "_sync_id": None}
        assert conn.execute(f"SELECT count(DISTINCT _sync_id), min(_scope) FROM {SCHEMA}.item").fetchone()[0] == 1
        options = conn.execute(f"SELECT reloptions FROM pg_class WHERE oid = '{SCHEMA}.item'::regclass").fetchone()
        assert options == (["fillfactor=90"],)  # room for in-place (HOT) updates of later merges


def test_a_full_refresh_of_a_table_with_a_view_merges_and_sweeps(hook, emulator, warehouse_dsn, fresh):
    endpoint = get_endpoint("item_image")
    ocds = emulator.state.ocds
    with psycopg.connect(warehouse_dsn) as conn:
        sync_endpoint(hook, conn, endpoint, since=EPOCH, before=_now(emulator), sweep=True, schema=SCHEMA)
        conn.commit()
        conn.execute(f"CREATE VIEW {SCHEMA}.images AS SELECT * FROM {SCHEMA}.item_image")
        conn.commit()
        ocds.bulk_reload("item_image", drop=2)  # rows vanish without a DELETE
        marks = conn.execute(f"SELECT count(*) FROM {SCHEMA}.item_image").fetchone()[0]
        result = sync_endpoint(hook, conn, endpoint, since=EPOCH, before=_now(emulator), sweep=True, schema=SCHEMA)
        conn.commit()
        assert result.swept == 2
        assert conn.execute(f"SELECT count(*) FROM {SCHEMA}.images").fetchone()[0] == marks - 2
        assert_table_equals_truth(conn, endpoint, ocds.truth("item_image"), SCHEMA)


def test_a_complete_checkpoint_only_publishes(hook, emulator, warehouse_dsn, fresh):
    endpoint = get_endpoint("item_upc")
    before = _now(emulator)
    pages = sum(1 for _ in hook.iter_pages(endpoint, since=EPOCH, before=before, limit=PAGE))
    _interrupted(psycopg.connect(warehouse_dsn), hook, endpoint, before, pages=pages)
    with psycopg.connect(warehouse_dsn) as conn:
        emulator.state.requests.clear()
        result = sync_endpoint(hook, conn, endpoint, since=EPOCH, before=_now(emulator), sweep=True,
                               schema=SCHEMA, page_size=PAGE)
        conn.commit()
        assert not emulator.state.requests.records("/v2/item/upc")
        assert result.pages == pages
        assert_table_equals_truth(conn, endpoint, emulator.state.ocds.truth("item_upc"), SCHEMA)


def test_a_repeated_key_in_the_feed_falls_back_to_merging_into_the_shadow(warehouse_dsn, fresh):
    from dataclasses import dataclass

    from pydantic import BaseModel

    from retail_provider.warehouse.schema import table_spec

    class Thing(BaseModel):
        k: int
        v: str | None = None

    @dataclass
    class FakePage:
        records: list
        next_href: str | None

    spec = table_spec(Thing, schema=SCHEMA, table="thing", key=("k",))
    target = Target(vendor="test", endpoint="thing", spec=spec, mode="full", since=EPOCH, sweep=True)
    with psycopg.connect(warehouse_dsn) as conn:
        load = ResumableLoad(conn, target, batch_rows=2)
        load.start()
        load.load([FakePage([("INSERT", 1, "a", None), ("INSERT", 2, "b", None)], "http://x/next1"),
                   FakePage([("UPDATE", 2, "b2", None), ("DELETE", 1, None, None), ("INSERT", 3, "c", None)], None)])
        done = load.publish()
        conn.commit()
        assert conn.execute(f"SELECT k, v FROM {SCHEMA}.thing ORDER BY k").fetchall() == [(2, "b2"), (3, "c")]
        assert done.sync_id == load.checkpoint.sync_id and load.checkpoint.rows_by_action == {
            "INSERT": 3, "UPDATE": 1, "DELETE": 1}


def test_records_a_full_load_cannot_apply_are_rejected_with_their_page(hook, emulator, warehouse_dsn, fresh):
    ocds, name = emulator.state.ocds, "item_image"
    changed = ocds.mutate(name, deletes=4, seed="resumable rejects")["deleted"]  # from the epoch: DELETEs
    ocds.set_readings(actions={name: {"DELETE": "MERGE"}})  # an action the reference does not know
    try:
        with psycopg.connect(warehouse_dsn) as conn:
            result = sync_endpoint(hook, conn, get_endpoint(name), since=EPOCH, before=_now(emulator), sweep=True,
                                   schema=SCHEMA, page_size=PAGE * 5, batch_rows=PAGE * 10)
            conn.commit()
            rejected = conn.execute("SELECT record FROM retail_meta.sync_rejects WHERE sync_id = %s",
                                    (result.sync_id,)).fetchall()
            ledger = conn.execute("SELECT status, rows_rejected FROM retail_meta.sync_ledger WHERE id = %s",
                                  (result.sync_id,)).fetchone()
    finally:
        ocds.set_readings(**Readings().as_dict())
    assert result.rejected == 4 and ledger == ("success", 4)
    assert {(r[0]["item"], r[0]["imagename"]) for r in rejected} == {(k["item"], k["imagename"]) for k in changed}
