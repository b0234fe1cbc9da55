"""The traffic DAG loads any metric set of the catalogue at any grain (Params ``metrics`` and
``grain``), each store in its own zone, equal to what the API serves for that period; such
a run leaves the watermark alone, and metrics without validity are not held incomplete."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from include.devenv import airflow_env
from include.emulator.retailnext.datamine import datamine as served
from retail_provider.retailnext.datamine.dags import TRAFFIC_WATERMARK
from retail_provider.retailnext.datamine.operator import DatamineToPostgresOperator

pytestmark = pytest.mark.airflow
METRICS = ["traffic_in", "conversion_rate", "net_sales", "avg_dwell_duration"]


def _variable(key):
    from airflow.models.variable import Variable

    return Variable.get(key, default_var=None)


@pytest.fixture(autouse=True)
def _setup(emulator, monkeypatch):
    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")
    emulator.state.retailnext.reset()
    yield
    emulator.state.retailnext.reset()


def _table(dsn, table):
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(f"SELECT location_uuid, metric, time_zone, period_start, period_end, slot, value "
                            f"FROM retailnext.{table}").fetchall()
    return rows


def _truth(rn, store, metric, start: datetime, end: datetime, zone: str, extra_group=None):
    body = {"locations": [store], "metrics": [metric],
            "date_ranges": [{"from": {"gregorian": start.isoformat()}, "to": {"gregorian": end.isoformat()}}],
            "time_ranges": [{"from": "00:00", "until": "24:00"}], "group_bys": extra_group or [], "time_zone": zone}
    return served(rn, body)["metrics"][0]["data"]


def test_any_metric_set_at_every_grain_equals_what_the_api_serves(airflow_connections, emulator, warehouse_dsn):
    rn = emulator.state.retailnext
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=24), today - timedelta(days=17)
    watermark = _variable(TRAFFIC_WATERMARK)
    run = airflow_env.run_dag("retailnext_traffic", {
        "metrics": METRICS, "grain": ["15min", "week", "month", "day_of_week"],
        "date_from": start.isoformat(), "date_to": end.isoformat()})
    states = {(ti.task_id, ti.map_index): str(ti.state) for ti in run.get_task_instances()}
    assert "success" in str(run.state), states
    assert _variable(TRAFFIC_WATERMARK) == watermark  # not the configured metrics: the watermark stays
    stores = {s.uuid: s.time_zone for s in rn.store_list()}

    weekly = _table(warehouse_dsn, "traffic_weekly")
    assert {r[3].weekday() for r in weekly} == {0} and {r[1] for r in weekly} == set(METRICS)
    assert {(r[0], r[2]) for r in weekly} == set(stores.items())
    for loc, metric, zone, period_start, period_end, _slot, value in weekly:
        assert period_end - period_start == timedelta(days=7)
        (point,) = _truth(rn, loc, metric, period_start, period_end, zone)
        assert (None if value is None else float(value)) == pytest.approx(point["value"]), (loc, metric, period_start)

    monthly = _table(warehouse_dsn, "traffic_monthly")
    assert {r[3].day for r in monthly} == {1}
    for loc, metric, zone, period_start, period_end, _slot, value in monthly[:12]:
        (point,) = _truth(rn, loc, metric, period_start, period_end, zone)
        assert float(value) == pytest.approx(point["value"])

    by_weekday = _table(warehouse_dsn, "traffic_day_of_week")
    assert {r[5] for r in by_weekday} == {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                          "sunday"}
    loc = next(iter(stores))
    month = min(r[3] for r in by_weekday if r[0] == loc)
    end_of_month = max(r[4] for r in by_weekday if r[0] == loc and r[3] == month)
    truth = _truth(rn, loc, "traffic_in", month, end_of_month, stores[loc],
                   [{"group": "day_of_week", "unit": "", "value": 1}])
    got = {r[5]: float(r[6]) for r in by_weekday if r[0] == loc and r[1] == "traffic_in" and r[3] == month}
    assert got == {p["group"]["day"]: p["value"] for p in truth}

    quarter = _table(warehouse_dsn, "traffic_15min")
    assert {r[4] - r[3] for r in quarter} == {timedelta(minutes=15)}
    days = (end - start).days
    for loc in stores:
        for metric in ("traffic_in", "net_sales"):
            mine = [float(r[6]) for r in quarter if r[0] == loc and r[1] == metric and r[6] is not None]
            (whole,) = _truth(rn, loc, metric, datetime.combine(start, datetime.min.time()),
                              datetime.combine(end, datetime.min.time()), stores[loc])
            assert sum(mine) == pytest.approx(whole["value"]), (loc, metric)
        assert len({r[3] for r in quarter if r[0] == loc}) == days * 96


def test_a_day_level_metric_at_a_sub_daily_grain_fails_before_any_call(airflow_connections, emulator):
    calls = len(emulator.state.requests)
    run = airflow_env.run_dag("retailnext_traffic", {"metrics": ["wifi_uptake"], "grain": ["hour"]})
    states = {(ti.task_id, ti.map_index): str(ti.state) for ti in run.get_task_instances()}
    assert states[("plan_window", -1)] == "failed"
    assert len(emulator.state.requests) == calls


def test_metrics_without_validity_are_final_once_their_period_ended(airflow_connections, emulator, warehouse_dsn):
    today = datetime.now(UTC).date()
    task = DatamineToPostgresOperator(task_id="no_validity", table="no_validity", metrics=["net_sales", "dwell_count"],
                                      grain="day", date_from=str(today - timedelta(days=4)), date_to=str(today + timedelta(days=2)))
    result = task.execute({})
    days = {date.fromisoformat(d): s for d, s in result["days"].items()}
    assert result["validity"] == {"none": result["points"]}
    for day, status in days.items():
        if day <= today - timedelta(days=2):
            assert status == "complete", day  # no validity: not held as incomplete
        if day > today:
            assert status == "incomplete", day  # not ended yet
