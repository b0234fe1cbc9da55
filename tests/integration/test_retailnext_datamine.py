"""Datamine as the API answers: no trimmed answer is ever loaded, every request carries the
stores' own time zone (rows identical under both readings of an omitted ``time_zone``).

Real HTTP to the emulator, real PostgreSQL, the operator run as Airflow runs it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from include.emulator.retailnext.datamine import datamine as served
from retail_provider.http.errors import InvalidResponseError
from retail_provider.http.retry import RetryPolicy
from retail_provider.retailnext.datamine.check import fetch_answers, incompleteness
from retail_provider.retailnext.datamine.flatten import flatten
from retail_provider.retailnext.datamine.operator import DatamineToPostgresOperator
from retail_provider.retailnext.datamine.plan import plan
from retail_provider.retailnext.hook import RetailNextHook

SCHEMA = "rn_dm"


@pytest.fixture(autouse=True)
def _fresh(emulator):
    emulator.state.retailnext.reset()
    yield
    emulator.state.retailnext.reset()
    emulator.state.faults.clear()


@pytest.fixture
def rn(emulator):
    return emulator.state.retailnext


@pytest.fixture
def hook(airflow_connections):
    h = RetailNextHook("retailnext_default", retry_policy=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    yield h
    h.close()


def _rows(dsn: str, table: str) -> dict[tuple, tuple]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(f"SELECT location_uuid, metric, time_zone, period_start, slot, value, validity "
                            f"FROM {SCHEMA}.{table}").fetchall()
    return {r[:5]: (None if r[5] is None else float(r[5]), r[6]) for r in rows}


def _drop(dsn: str, table: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{table}")


def _store_hours_body(stores: list[str], start: date, end: date, minutes: int = 15) -> dict:
    return {
        "locations": stores, "metrics": ["traffic_in", "traffic_out"],
        "date_ranges": [{"from": {"gregorian": start.isoformat()}, "to": {"gregorian": end.isoformat()}}],
        "time_ranges": [{"type": "store_hours"}],
        "group_bys": [{"group": "location", "unit": "", "value": 1}, {"group": "date", "unit": "days", "value": 1},
                      {"group": "time", "unit": "minutes", "value": minutes}],
        "time_zone": "America/New_York",
    }


def _served_total(rn, store: str, metric: str, body: dict) -> float:
    """The emulator's own answer for one store over the whole range, one point (nothing to trim)."""
    one = {**body, "locations": [store], "metrics": [metric], "group_bys": []}
    return float(served(rn, one)["metrics"][0]["data"][0]["value"])


# ---------------------------------------------------------------------------- no trimmed answer


def test_a_store_hours_grid_wider_than_a_day_is_planned_from_its_true_size(airflow_connections, rn, warehouse_dsn):
    """Stores of three zones asked in New York time: the day grid runs from 17:00 the evening
    before (London opening at 22:00 on Saturdays) to 02:00 after midnight: 132 quarter hours,
    not 98.  Every point of every store day lands; none was trimmed."""
    la, late, early = (rn.store_list()[i].uuid for i in (0, 1, 2))  # LA, New York 16:00-02:00, London Sat 22:00
    today = datetime.now(UTC).date()
    body = _store_hours_body([la, late, early], today - timedelta(days=45), today - timedelta(days=5))
    _drop(warehouse_dsn, "sh_grid")
    task = DatamineToPostgresOperator(task_id="sh_grid", table="sh_grid", request=body, schema=SCHEMA)
    result = task.execute({})
    rows = _rows(warehouse_dsn, "sh_grid")
    assert {k[4][:1] for k in rows} >= {"-", "+"}  # both neighbouring days are in the grid
    slots = {k[4] for k in rows}
    assert len(slots) == 132
    for store in (la, late, early):
        for metric in ("traffic_in", "traffic_out"):
            loaded = sum(v for (loc, m, *_), (v, _) in rows.items() if loc == store and m == metric and v)
            assert loaded == _served_total(rn, store, metric, body), (store, metric)
    assert result["points"] == len(rows) > 3 * 2 * 40 * 98  # more than the old 98-slot estimate held
    assert result["requests"] >= 4


def test_an_answer_that_is_not_whole_is_split_and_asked_again(hook, rn):
    """The plan believes the grid is 2 slots a day; the answers come back trimmed at 10,000
    points, are recognised and re-asked in parts: the union equals the whole answer."""
    la, late, early = (rn.store_list()[i].uuid for i in (0, 1, 2))
    today = datetime.now(UTC).date()
    body = _store_hours_body([la, late, early], today - timedelta(days=40), today - timedelta(days=10))
    now = datetime.now(UTC)
    wrong = plan(body, now=now, span=(600, 630))
    assert len(wrong) == 1 and wrong[0].points < 10_000
    trimmed = hook.datamine(wrong[0].body)
    assert incompleteness(trimmed, wrong[0]) is not None  # the API said nothing, the check did
    asked = []

    def ask(b):
        asked.append(b)
        return hook.datamine(b)

    got = {}
    for chunk, answer in fetch_answers(ask, wrong):
        assert incompleteness(answer, chunk) is None
        for _, p in flatten(answer, locations=chunk.locations, range_start=chunk.start):
            key = (p.location_uuid, p.metric, p.period_start, p.slot)
            assert key not in got
            got[key] = p.value
    assert len(asked) > 2
    for store in (la, late, early):
        total = sum(v for (loc, m, *_), v in got.items() if loc == store and m == "traffic_in" and v)
        assert total == _served_total(rn, store, "traffic_in", body)


def test_an_answer_still_trimmed_for_one_location_and_one_day_fails_loudly(airflow_connections, hook, rn):
    la = rn.store_list()[0].uuid
    day = datetime.now(UTC).date() - timedelta(days=9)
    while day.weekday() == 6:
        day -= timedelta(days=1)
    body = {**_store_hours_body([la], day, day + timedelta(days=1), minutes=1),
            "metrics": ["traffic_in", "traffic_out", "dwell_count", "net_sales", "sales_transactions_count",
                        "net_items_count", "labor_hours", "staff_traffic_in", "staff_traffic_out", "new_wifi_users",
                        "return_transactions_count", "total_transactions_count", "conversion_rate",
                        "avg_dwell_duration", "male_rate"],
            "time_zone": rn.store_list()[0].time_zone}
    chunks = plan(body, now=datetime.now(UTC), span=(540, 560))
    with pytest.raises(InvalidResponseError, match="not whole .* cannot be split further"):
        list(fetch_answers(hook.datamine, chunks))


# ---------------------------------------------------------------------------- store time zones


@pytest.mark.parametrize("grain", ["day", "hour"])
def test_rows_are_the_same_under_both_readings_of_an_omitted_time_zone(airflow_connections, rn, warehouse_dsn,
                                                                        grain):
    """The window names no zone: stores are asked in their own zones, each request carries it."""
    today = datetime.now(UTC).date()
    out = {}
    for reading in ("store", "utc"):
        rn.set_omitted_time_zone(reading)
        _drop(warehouse_dsn, f"tz_{grain}")
        task = DatamineToPostgresOperator(task_id="tz", table=f"tz_{grain}", grain=grain,
                                          date_from=str(today - timedelta(days=6)),
                                          date_to=str(today - timedelta(days=3)), schema=SCHEMA)
        task.execute({})
        out[reading] = _rows(warehouse_dsn, f"tz_{grain}")
    assert out["store"] == out["utc"] and out["store"]
    zones = {s.uuid: s.time_zone for s in rn.store_list()}
    assert {(k[0], k[2]) for k in out["store"]} == set(zones.items())  # each store in its own zone


# ---------------------------------------------------------------------------- calendars


def test_a_retail_calendar_subscription_loads_retail_months(airflow_connections, emulator, rn, warehouse_dsn,
                                                            monkeypatch):
    """The connection says the subscription uses a 4-5-4 calendar: the window is aligned to
    retail months, and each row is the served value of that retail month."""
    import json

    rn.set_calendar("retail_454", "sunday")
    creds = emulator.state.retailnext_credentials
    monkeypatch.setenv("AIRFLOW_CONN_RN_RETAIL", json.dumps({
        "conn_type": "retailnext", "host": emulator.url, "login": creds["access_key"],
        "password": creds["secret_key"], "extra": {"calendar": "retail_454", "week_start": "sunday"}}))
    today = datetime.now(UTC).date()
    _drop(warehouse_dsn, "retail_months")
    store = rn.store_list()[0]
    task = DatamineToPostgresOperator(task_id="rm", table="retail_months", grain="month", locations=[store.uuid],
                                      metrics=["traffic_in", "net_sales"], retailnext_conn_id="rn_retail",
                                      date_from=str(today - timedelta(days=70)), date_to=str(today - timedelta(days=40)),
                                      schema=SCHEMA)
    task.execute({})
    rows = _rows(warehouse_dsn, "retail_months")
    starts = sorted({k[3] for k in rows})
    assert starts and all(s.weekday() == 6 for s in starts)  # retail months start on Sundays
    for (loc, metric, zone, start, _slot), (value, _) in rows.items():
        end = next((s for s in starts if s > start), None)
        body = {"locations": [loc], "metrics": [metric], "time_zone": zone,
                "date_ranges": [{"from": {"gregorian": start.isoformat()},
                                 "to": {"relative": {"add_months": 1}}}],
                "time_ranges": [{"from": "00:00", "until": "24:00"}], "group_bys": []}
        assert value == pytest.approx(served(rn, body)["metrics"][0]["data"][0]["value"])
        if end is not None:
            assert (end - start).days in (28, 35)
