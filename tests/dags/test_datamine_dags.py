"""Traffic and occupancy DAGs through Airflow: truth, watermark, validity re-reads, ok:false."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from include.devenv import airflow_env
from retail_provider.retailnext.datamine.dags import TRAFFIC_WATERMARK

pytestmark = pytest.mark.airflow


def _variable(key):
    from airflow.models.variable import Variable

    return Variable.get(key, default_var=None)


def _set_variable(key, value):
    from airflow.models.variable import Variable

    if value is None:
        Variable.delete(key)
    else:
        Variable.set(key, value)


def _run(dag_id, conf=None):
    run = airflow_env.run_dag(dag_id, conf)
    return run, {(ti.task_id, ti.map_index): str(ti.state) for ti in run.get_task_instances()}


@pytest.fixture(autouse=True)
def _setup(emulator, monkeypatch):
    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")
    rn = emulator.state.retailnext
    yield
    rn.set_allowed_locations(None)
    rn.clear_validity()
    emulator.state.faults.clear()


def _stores(emulator):
    return emulator.state.retailnext.stores()


def _daily(warehouse_dsn):
    with psycopg.connect(warehouse_dsn) as conn:
        rows = conn.execute(
            "SELECT location_uuid, metric, period_start, value, validity, xmin::text FROM retailnext.traffic_daily"
        ).fetchall()
    return {(r[0], r[1], r[2].date()): (r[3], r[4], r[5]) for r in rows}


def _truth(rn, store, metric, day):
    tz = ZoneInfo(store["time_zone"])
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    value, validity = rn.aggregate(store["uuid"], metric, start.astimezone(UTC),
                                   (start + timedelta(days=1)).astimezone(UTC))
    return (None if value is None else float(value)), validity


def _expected_watermark(rn, stores, start, end, floor):
    """The DAG's rule: a day is final when all its points are complete, or once loaded when it
    is older than the validity lookback (7 days)."""
    last = None
    day = start
    while day < end:
        complete = all(_truth(rn, s, m, day)[1] == "complete" for s in stores for m in ("traffic_in", "traffic_out"))
        if not (complete or day < floor):
            break
        last, day = day, day + timedelta(days=1)
    return last


def test_traffic_dag_loads_truth_and_rereads_until_complete(airflow_connections, emulator, warehouse_dsn):
    rn = emulator.state.retailnext
    stores = _stores(emulator)
    today = datetime.now(UTC).date()
    floor = today - timedelta(days=7)
    start = today - timedelta(days=11)
    _set_variable(TRAFFIC_WATERMARK, (start - timedelta(days=1)).isoformat())
    # one store's data for three days ago is still being collected
    held = stores[0]
    tz = ZoneInfo(held["time_zone"])
    held_day = today - timedelta(days=3)
    day_start = datetime.combine(held_day, datetime.min.time(), tzinfo=tz)
    rn.mark_validity(held["uuid"], day_start.astimezone(UTC), (day_start + timedelta(hours=24)).astimezone(
        UTC), "incomplete")

    run, states = _run("retailnext_traffic")
    assert "success" in str(run.state), states
    assert {k[0] for k in states} == {"plan_window", "batches", "load", "advance_watermark",
                                      "report_stale_validity"}
    daily = _daily(warehouse_dsn)
    for s in stores:
        for m in ("traffic_in", "traffic_out"):
            for d in (start + timedelta(days=i) for i in range(11)):
                assert daily[(s["uuid"], m, d)][:2] == _truth(rn, s, m, d), (s["name"], m, d)
    assert daily[(held["uuid"], "traffic_in", held_day)][1] == "incomplete"
    stale_day = floor - timedelta(days=1)  # left the lookback today: reported once as a data alert
    stale = sum(_truth(rn, s, m, stale_day)[1] != "complete" for s in stores for m in ("traffic_in", "traffic_out"))
    report = [ti for ti in run.get_task_instances() if ti.task_id == "report_stale_validity"][0]
    assert report.xcom_pull(task_ids="report_stale_validity") == stale
    first = _expected_watermark(rn, stores, start, today + timedelta(days=2), floor)
    assert first is not None and floor - timedelta(days=1) <= first < held_day
    assert _variable(TRAFFIC_WATERMARK) == first.isoformat()

    # the data arrives: the next run re-reads from the held day and the points turn complete
    rn.clear_validity()
    run, states = _run("retailnext_traffic")
    assert "success" in str(run.state), states
    daily2 = _daily(warehouse_dsn)
    for m in ("traffic_in", "traffic_out"):
        assert daily2[(held["uuid"], m, held_day)][:2] == _truth(rn, held, m, held_day)
    assert daily2[(held["uuid"], "traffic_in", held_day)][1] != "incomplete"
    second = _expected_watermark(rn, stores, first + timedelta(days=1), today + timedelta(days=2), floor) or first
    assert _variable(TRAFFIC_WATERMARK) == second.isoformat()
    # days up to the first watermark were not read again; unchanged re-read rows were not rewritten
    untouched = [k for k in daily if k[2] <= first]
    assert untouched and all(daily2[k][2] == daily[k][2] for k in untouched)
    same = [k for k in daily if k[2] == held_day and k[0] != held["uuid"]]
    assert same and all(daily2[k][2] == daily[k][2] for k in same)


def test_a_metric_error_fails_the_run_and_commits_nothing(airflow_connections, emulator, warehouse_dsn):
    rn = emulator.state.retailnext
    stores = _stores(emulator)
    before = _daily(warehouse_dsn)
    watermark = _variable(TRAFFIC_WATERMARK)
    assert len(stores) > 1
    rn.set_allowed_locations([])  # the token may no longer read any store (every batch is refused)
    today = datetime.now(UTC).date()
    run, states = _run("retailnext_traffic", {"date_from": str(today - timedelta(days=30)),
                                              "date_to": str(today - timedelta(days=28))})
    assert "success" not in str(run.state)
    assert "failed" in {s for (t, _), s in states.items() if t == "load"}
    assert _daily(warehouse_dsn) == before
    assert _variable(TRAFFIC_WATERMARK) == watermark
    with psycopg.connect(warehouse_dsn) as conn:
        n = conn.execute("SELECT count(*) FROM retailnext.traffic_daily WHERE period_start < %s",
                         (today - timedelta(days=27),)).fetchone()[0]
    assert n == 0
    with psycopg.connect(warehouse_dsn) as conn:  # like every sync, a failed load leaves a ledger row
        failed = conn.execute("SELECT mode, error FROM retail_meta.sync_ledger WHERE endpoint = 'v2/datamine' "
                              "AND status = 'failed' AND target_table = 'retailnext.traffic_daily'").fetchall()
    assert failed and all(mode == "datamine" and "ok=false" in error for mode, error in failed)


def test_a_refused_batch_commits_nothing_while_batches_of_other_zones_load(airflow_connections, emulator,
                                                                           warehouse_dsn):
    """Batches are per time zone and each is one transaction: the refused stores get no rows."""
    rn = emulator.state.retailnext
    stores = _stores(emulator)
    allowed = stores[0]
    assert len({s["time_zone"] for s in stores}) == len(stores)  # one batch per store here
    watermark = _variable(TRAFFIC_WATERMARK)
    rn.set_allowed_locations([allowed["uuid"]])  # the token may no longer read the other stores
    today = datetime.now(UTC).date()
    days = (today - timedelta(days=60), today - timedelta(days=58))
    run, states = _run("retailnext_traffic", {"date_from": str(days[0]), "date_to": str(days[1])})
    assert "success" not in str(run.state)
    loads = [s for (t, _), s in states.items() if t == "load"]
    assert loads.count("failed") == 2 * (len(stores) - 1) and loads.count("success") == 2  # daily + hourly
    with psycopg.connect(warehouse_dsn) as conn:
        rows = conn.execute("SELECT DISTINCT location_uuid FROM retailnext.traffic_daily "
                            "WHERE period_start >= %s AND period_start < %s", days).fetchall()
    assert {r[0] for r in rows} == {allowed["uuid"]}
    assert _variable(TRAFFIC_WATERMARK) == watermark


def _datamine_calls(emulator) -> int:
    return len([r for r in emulator.state.requests.records("/v2/datamine") if r.path == "/v2/datamine"])


def test_a_range_over_the_limits_fails_before_any_call(airflow_connections, emulator):
    calls = len(emulator.state.requests)
    run, states = _run("retailnext_traffic", {"date_from": "2015-01-01", "date_to": "2025-01-01"})
    assert states[("plan_window", -1)] == "failed"
    assert len(emulator.state.requests) == calls  # not even the store listing


def test_an_unknown_store_fails_naming_stores_before_any_datamine_call(airflow_connections, emulator):
    from retail_provider.http.errors import InputValidationError
    from retail_provider.retailnext.datamine.window import plan_traffic_window
    from retail_provider.retailnext.hook import RetailNextHook

    datamine = _datamine_calls(emulator)
    run, states = _run("retailnext_traffic", {"stores": "no-such-store-42"})
    assert states[("plan_window", -1)] == "failed"
    assert _datamine_calls(emulator) == datamine
    context = {"params": {"stores": "no-such-store-42"}, "dag_run": None}
    with pytest.raises(InputValidationError, match=r"^stores: no-such-store-42 is not an active store"):
        plan_traffic_window(context, lambda: RetailNextHook("retailnext_default"), initial_days=7, batch_size=50)


def test_bad_backfill_params_fail_before_any_call(airflow_connections, emulator):
    calls = len(emulator.state.requests)
    run, states = _run("retailnext_traffic", {"date_from": "2026-02-10", "date_to": "2026-02-01"})
    assert states[("plan_window", -1)] == "failed"
    assert len(emulator.state.requests) == calls


def test_occupancy_dag_snapshots_every_store(airflow_connections, emulator, warehouse_dsn):
    stores = _stores(emulator)
    run, states = _run("retailnext_occupancy")
    assert "success" in str(run.state), states
    with psycopg.connect(warehouse_dsn) as conn:
        rows = conn.execute("SELECT location_uuid, metric, period_start, value, time_zone FROM retailnext.occupancy"
                            ).fetchall()
    limits = {(r[0], r[2]): r[3] for r in rows if r[1] == "occupancy_limit"}
    assert {r[0] for r in rows} == {s["uuid"] for s in stores}
    for s in stores:
        got = [v for (loc, _), v in limits.items() if loc == s["uuid"]]
        assert got == [None if s.get("occupancy_limit") is None else float(s["occupancy_limit"])]
    assert {r[4] for r in rows} == {"UTC"}
    observed = {r[2] for r in rows}
    assert len(observed) == 1 and next(iter(observed)).minute % 15 == 0
