"""RetailNext DAGs (all but datamine) run through Airflow itself (``dag.test``): real Variables,
real connections, real HTTP to the emulator, real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext.operators import (
    HEALTH_ALERTS_WATERMARK,
    RetailNextHealthAlertsOperator,
    RetailNextPredictedTrafficOperator,
    RetailNextSnapshotOperator,
    RetailNextStoreHoursOperator,
    RetailNextZoneTransitionsOperator,
)
from tests import retailnext_support as t

pytestmark = pytest.mark.airflow
SCHEMA = "retailnext"
DAGS = Path(__file__).resolve().parents[2] / "dags"
OURS = ("retailnext_locations", "retailnext_users", "retailnext_floorplans", "retailnext_devices",
        "retailnext_health_alerts", "retailnext_predicted_traffic", "retailnext_zone_transitions")


def _variable(key):
    from airflow.models.variable import Variable

    return Variable.get(key, default_var=None)


def _delete_variable(key):
    from airflow.models.variable import Variable

    Variable.delete(key)


@pytest.fixture(scope="module")
def dagbag():
    """The DAG folder parsed once (``dag.test()`` writes each DAG to the metadata DB itself), with
    ``RETAIL_TASK_RETRIES=0`` (read at parse time): failures must not wait for Airflow retries."""
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RETAIL_TASK_RETRIES", "0")
        bag = DagBag(dag_folder=str(DAGS))
    assert all(task.retries == 0 for dag_id in OURS for task in bag.dags[dag_id].tasks)
    return bag


@pytest.fixture
def run(dagbag, airflow_connections):
    def _run(dag_id, conf=None, ok=True):
        dag_run = dagbag.dags[dag_id].test(run_conf=conf or None)
        states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
        if ok:
            assert "success" in str(dag_run.state), f"{dag_id} failed: {states}"
        return dag_run, states

    return _run


def _xcom(dag_run, task_id):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(XComModel.get_many(run_id=dag_run.run_id, key="return_value", task_ids=task_id,
                                                 dag_ids=dag_run.dag_id)).first()
        return XComModel.deserialize_value(row)


def _ledger(dsn, table):
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT vendor, mode, status, rows_upserted, rows_deleted, rows_swept, error, before "
            "FROM retail_meta.sync_ledger WHERE target_table = %s ORDER BY id", (f"{SCHEMA}.{table}",)
        ).fetchall()


@pytest.fixture(autouse=True)
def _setup(emulator, monkeypatch):
    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")  # failures must not wait for Airflow retries
    emulator.state.faults.clear()
    emulator.state.retailnext.reset()
    yield
    emulator.state.faults.clear()
    emulator.state.retailnext.reset()


@pytest.fixture
def rn(emulator):
    return emulator.state.retailnext


@pytest.fixture
def db(warehouse_dsn):
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        yield conn


def _drop(db, *tables):
    """Start from an empty table (the DAG creates it again)."""
    for name in tables:
        db.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{name}")


# --- snapshots ---------------------------------------------------------------------------------


def test_locations_dag_snapshot_store_hours_rerun_and_changes(run, rn, db, warehouse_dsn):
    stores = [s["uuid"] for s in rn.stores()]
    gone = rn.add_location(stores[0], "display", name="Pop-up Table")  # the source loses it later
    _, states = run("retailnext_locations")
    assert states == {"sync_locations": "success", "sync_store_hours": "success"}
    locations = lambda: t.table(db, SCHEMA, "locations", t.LOCATION_COLUMNS, ["uuid"])  # noqa: E731
    t.assert_same(t.expected_locations(rn), locations(), "locations")
    today = datetime.now(UTC).date()
    hours = lambda: t.table(db, SCHEMA, "store_hours", ["open", "close"], ["store_uuid", "effective_day"])  # noqa: E731
    t.assert_same(t.expected_store_hours(rn, stores, today - timedelta(days=7), today + timedelta(days=31)),
                  hours(), "store_hours")
    assert db.execute(f"SELECT count(*) FROM {SCHEMA}.location_tree").fetchone()[0] == len(rn.locations())

    # a rerun writes nothing
    before = {n: t.snapshot(db, SCHEMA, n) for n in ("locations", "store_hours")}
    run("retailnext_locations")
    for name in before:
        assert _ledger(warehouse_dsn, name)[-1][:6] == ("retailnext", "snapshot" if name == "locations" else "window",
                                                         "success", 0, 0, 0)
        assert t.snapshot(db, SCHEMA, name) == before[name]

    # source changes: one location is gone (swept), one is new, one archived; store hours by Params
    rn.reset()
    rn.add_location(stores[1], "fitting_room", name="Fitting Rooms 2")
    rn.archive_location(next(x["uuid"] for x in rn.locations() if x["location_type"] == "entrance"))
    run("retailnext_locations", {"first_day": "2024-02-26", "last_day": "2024-03-03", "stores": ",".join(stores[:2])})
    t.assert_same(t.expected_locations(rn), locations(), "locations")
    assert (gone["uuid"],) not in locations()
    assert _ledger(warehouse_dsn, "locations")[-1][3:6] == (2, 0, 1)
    got = {k: v for k, v in hours().items() if k[1] <= date(2024, 3, 3)}
    t.assert_same(t.expected_store_hours(rn, stores[:2], date(2024, 2, 26), date(2024, 3, 3)), got, "store_hours")


def test_users_dag_snapshots_one_resource_and_deletes(run, rn, db, warehouse_dsn):
    gone = rn.add_user("leaving.soon@domain.com", type="sso")
    run("retailnext_users", {"page_length": 7})
    t.assert_same(t.expected_users(rn), t.table(db, SCHEMA, "users", t.USER_COLUMNS, ["id"]), "users")
    for name in ("user_profiles", "location_profiles"):
        t.assert_same(t.expected_profiles(rn, name), t.table(db, SCHEMA, name, t.PROFILE_COLUMNS[name], ["id"]), name)
    before = {n: t.snapshot(db, SCHEMA, n) for n in ("users", "user_profiles", "location_profiles")}
    run("retailnext_users")
    assert {n: t.snapshot(db, SCHEMA, n) for n in before} == before
    assert all(_ledger(warehouse_dsn, n)[-1][3:6] == (0, 0, 0) for n in before)

    rn.reset()
    rn.add_user("store.manager9@domain.com", type="local")
    _, states = run("retailnext_users", {"resource": "users"})
    assert states == {"sync_users": "success", "sync_user_profiles": "skipped", "sync_location_profiles": "skipped"}
    t.assert_same(t.expected_users(rn), t.table(db, SCHEMA, "users", t.USER_COLUMNS, ["id"]), "users")
    assert (gone["id"],) not in t.table(db, SCHEMA, "users", [], ["id"])
    assert _ledger(warehouse_dsn, "users")[-1][3:6] == (1, 0, 1)


def test_floorplans_and_devices_dags(run, rn, db, warehouse_dsn):
    run("retailnext_floorplans", {"page_length": 3})
    run("retailnext_devices", {"page_length": 5})
    expected = {**t.expected_floorplans(rn), **t.expected_devices(rn)}
    layout = {"fpa_floorplans": (t.FLOORPLAN_COLUMNS, ["id"]), "fpa_zones": (t.ZONE_COLUMNS, ["id"]),
              "fpa_zone_points": (["x", "y"], ["zone_id", "seq"]), "cameras": (t.CAMERA_COLUMNS, ["device_id"]),
              "channels": (t.CHANNEL_COLUMNS, ["channel_uuid"]),
              "appliances": (t.APPLIANCE_COLUMNS, ["appliance_id"])}
    for name, (columns, key) in layout.items():
        t.assert_same(expected[name], t.table(db, SCHEMA, name, columns, key), name)
    before = {n: t.snapshot(db, SCHEMA, n) for n in layout}
    run("retailnext_floorplans")
    run("retailnext_devices")
    assert {n: t.snapshot(db, SCHEMA, n) for n in layout} == before
    assert all(_ledger(warehouse_dsn, n)[-1][2:6] == ("success", 0, 0, 0) for n in layout)


# --- predicted traffic, zone transitions ----------------------------------------------------------


def test_predicted_traffic_dag(run, rn, db, warehouse_dsn, emulator):
    _drop(db, "predicted_traffic")
    emulator.state.requests.clear()
    run("retailnext_predicted_traffic")
    stores = [s["uuid"] for s in rn.stores()]
    actual = t.table(db, SCHEMA, "predicted_traffic", ["value"], ["store_uuid", "time"])
    t.assert_same(t.expected_predictions(rn, stores, 31), actual, "predicted_traffic")
    sent = emulator.state.requests.records("/v1/predictedtraffic")
    assert len(sent) == len(stores) * 5 and {r.status for r in sent} == {200}  # 31 days in 7-day requests
    before = t.snapshot(db, SCHEMA, "predicted_traffic")
    run("retailnext_predicted_traffic", {"stores": stores[0], "days_ahead": 3})
    assert t.snapshot(db, SCHEMA, "predicted_traffic") == before
    assert _ledger(warehouse_dsn, "predicted_traffic")[-1][2:6] == ("success", 0, 0, 0)


def test_zone_transitions_dag(run, rn, db, warehouse_dsn):
    _drop(db, "zone_transitions")
    run("retailnext_zone_transitions")
    stores = [s["uuid"] for s in rn.stores()]
    key = ["day", "floorplan_uuid", "metric", "transitions", "dwells", "from_zone_id", "to_zone_id"]
    read = lambda: t.table(db, SCHEMA, "zone_transitions", ["store_uuid", "value", "percentage"], key)  # noqa: E731
    expected = t.expected_zone_transitions(rn, {s: [t.store_yesterday(rn, s)] for s in stores})
    t.assert_same(expected, read(), "zone_transitions")
    days = [date.today() - timedelta(days=6), date.today() - timedelta(days=5)]
    conf = {"first_day": days[0].isoformat(), "last_day": days[1].isoformat(), "stores": ",".join(stores[:2]),
            "transitions": "direct_and_indirect", "dwells": "non_dwells"}
    run("retailnext_zone_transitions", conf)
    more = t.expected_zone_transitions(rn, {s: days for s in stores[:2]}, "direct_and_indirect", "non_dwells")
    t.assert_same({**expected, **more}, read(), "zone_transitions")
    run("retailnext_zone_transitions", conf)
    assert _ledger(warehouse_dsn, "zone_transitions")[-1][2:6] == ("success", 0, 0, 0)


# --- health alerts -------------------------------------------------------------------------------


def test_health_alerts_watermark_moves_after_commit_and_failures_change_nothing(run, rn, db, warehouse_dsn,
                                                                                 emulator):
    _delete_variable(HEALTH_ALERTS_WATERMARK)
    _drop(db, "health_alerts")
    read = lambda: t.table(db, SCHEMA, "health_alerts", t.HEALTH_COLUMNS, ["uuid"])  # noqa: E731
    recent = rn.add_alert(rn.stores()[2]["uuid"], created=datetime.now(UTC) - timedelta(days=2))
    started = datetime.now(UTC)
    dag_run, _ = run("retailnext_health_alerts")
    t.assert_same(t.expected_alerts(rn), read(), "health_alerts")
    first = datetime.fromisoformat(_variable(HEALTH_ALERTS_WATERMARK))
    assert started <= first <= datetime.now(UTC)
    assert _ledger(warehouse_dsn, "health_alerts")[-1][7] == first  # the watermark is the committed window's end
    out = _xcom(dag_run, "sync_health_alerts")
    assert out["new_alert_count"] == len([a for a in rn.alerts() if not a["resolved"]]) == len(out["new_alerts"])
    assert out["watermark"] == first.isoformat()

    # a recent alert is resolved, another appears: both arrive (the lookback re-reads resolutions)
    rn.resolve_alert(recent["uuid"])
    old = next(a for a in rn.alerts() if not a["resolved"] and a["uuid"] != recent["uuid"])
    rn.resolve_alert(old["uuid"])  # created long before the lookback: not re-read by default
    added = rn.add_alert(rn.stores()[3]["uuid"], severity="critical")
    dag_run, _ = run("retailnext_health_alerts")
    out = _xcom(dag_run, "sync_health_alerts")
    assert [a["uuid"] for a in out["new_alerts"]] == [added["uuid"]]
    rows = read()
    assert rows[(recent["uuid"],)][3] is True and rows[(old["uuid"],)][3] is False
    second = datetime.fromisoformat(_variable(HEALTH_ALERTS_WATERMARK))
    assert second > first
    assert _ledger(warehouse_dsn, "health_alerts")[-1][3] == 2
    with psycopg.connect(warehouse_dsn) as conn:
        since = conn.execute("SELECT since FROM retail_meta.sync_ledger WHERE target_table = %s ORDER BY id DESC",
                             (f"{SCHEMA}.health_alerts",)).fetchone()[0]
    assert since == first - timedelta(days=7)

    # the source fails after the first page: table and watermark stay, a failed ledger row is written
    table_before = t.snapshot(db, SCHEMA, "health_alerts")
    rn.add_alert(rn.stores()[0]["uuid"], created=datetime.now(UTC) - timedelta(minutes=1))
    emulator.state.faults.add("status", path=r"^/v1/healthalerts$", status=500, after=1, times=None, retry_after=0)
    _, states = run("retailnext_health_alerts", {"page_length": 2, "since": "2000-01-01T00:00:00Z"}, ok=False)
    assert states["sync_health_alerts"] == "failed"
    assert t.snapshot(db, SCHEMA, "health_alerts") == table_before
    assert _variable(HEALTH_ALERTS_WATERMARK) == second.isoformat()
    failed = _ledger(warehouse_dsn, "health_alerts")[-1]
    assert failed[2] == "failed" and "500" in failed[6]

    # the source recovers: the next run catches up; a longer lookback by hand also re-reads old resolutions
    emulator.state.faults.clear()
    run("retailnext_health_alerts", {"lookback_days": 60})
    t.assert_same(t.expected_alerts(rn), read(), "health_alerts")
    assert datetime.fromisoformat(_variable(HEALTH_ALERTS_WATERMARK)) > second


def test_new_alerts_are_passed_to_on_new_alerts(run, dagbag, rn, db):
    _delete_variable(HEALTH_ALERTS_WATERMARK)
    _drop(db, "health_alerts")
    added = rn.add_alert(rn.stores()[1]["uuid"], alert_type="storagefull", description="Disk almost full")
    received = []
    task = dagbag.dags["retailnext_health_alerts"].get_task("sync_health_alerts")
    task.on_new_alerts = lambda alerts, context: received.append((alerts, context["ti"].task_id))
    try:
        run("retailnext_health_alerts")
    finally:
        task.on_new_alerts = None
    assert len(received) == 1
    alerts, task_id = received[0]
    assert task_id == "sync_health_alerts"
    assert [a["uuid"] for a in alerts] == [a["uuid"] for a in rn.alerts() if not a["resolved"]]
    mine = next(a for a in alerts if a["uuid"] == added["uuid"])
    assert mine["type"] == "storagefull" and mine["store_uuid"] == rn.stores()[1]["uuid"]


# --- inputs ---------------------------------------------------------------------------------------


FUTURE = (date.today() + timedelta(days=3)).isoformat()


@pytest.mark.parametrize(
    ("dag_id", "conf"),
    [
        ("retailnext_zone_transitions", {"first_day": "2024-05-01", "last_day": FUTURE}),
        ("retailnext_locations", {"resource": "store_hours", "first_day": "2024-01-01", "last_day": "2025-06-01"}),
        ("retailnext_predicted_traffic", {"stores": "not a uuid!"}),
        ("retailnext_health_alerts", {"since": "yesterday"}),
        ("retailnext_health_alerts", {"page_length": 500}),
    ],
    ids=lambda v: str(v),
)
def test_bad_params_fail_before_any_api_call(run, emulator, warehouse_dsn, dag_id, conf):
    from airflow.sdk.exceptions import ParamValidationError

    calls = len(emulator.state.requests)
    with psycopg.connect(warehouse_dsn) as conn:
        ledger = conn.execute("SELECT count(*) FROM retail_meta.sync_ledger").fetchone()[0]
    watermark = _variable(HEALTH_ALERTS_WATERMARK)
    try:
        dag_run, states = run(dag_id, conf, ok=False)
    except ParamValidationError as exc:  # Airflow's own Param schema rejects the run outright
        assert "page_length" in str(exc)
    else:
        assert "success" not in str(dag_run.state) and "failed" in states.values()
    assert len(emulator.state.requests) == calls
    with psycopg.connect(warehouse_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM retail_meta.sync_ledger").fetchone()[0] == ledger
    assert _variable(HEALTH_ALERTS_WATERMARK) == watermark


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: RetailNextZoneTransitionsOperator(task_id="x", last_day=FUTURE), "last_day .* must not be after today"),
        (lambda: RetailNextZoneTransitionsOperator(task_id="x", first_day="2024-02-30"),
         "first_day must be a date yyyy-mm-dd"),
        (lambda: RetailNextZoneTransitionsOperator(task_id="x", first_day="2024-01-01", last_day="2024-03-01"),
         "limited to 31 days"),
        (lambda: RetailNextZoneTransitionsOperator(task_id="x", transitions="both"),
         "transitions must be one of direct_only, direct_and_indirect, directionless"),
        (lambda: RetailNextStoreHoursOperator(task_id="x", days_back=-1), "days_back must be an integer from 0 to 366"),
        (lambda: RetailNextStoreHoursOperator(task_id="x", first_day="2024-05-02", last_day="2024-05-01"),
         "last_day .* must not be before first_day"),
        (lambda: RetailNextPredictedTrafficOperator(task_id="x", days_ahead=40), "days_ahead must be an integer from 1"),
        (lambda: RetailNextPredictedTrafficOperator(task_id="x", stores="a/b"), "stores: 'a/b' is not a location uuid"),
        (lambda: RetailNextHealthAlertsOperator(task_id="x", since="2024-05-01"), "since must be an ISO-8601 timestamp"),
        (lambda: RetailNextHealthAlertsOperator(task_id="x", lookback_days="week"), "lookback_days must be an integer"),
        (lambda: RetailNextHealthAlertsOperator(task_id="x", on_new_alerts="mail"), "on_new_alerts must be callable"),
        (lambda: RetailNextSnapshotOperator(task_id="x", resource="stores"), "resource must be one of locations"),
        (lambda: RetailNextSnapshotOperator(task_id="x", resource="users", page_length=0),
         "page_length must be an integer from 1 to 100"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_inputs_are_checked_when_the_dag_is_parsed(build, message):
    with pytest.raises(InputValidationError, match=message):
        build()


# --- conventions --------------------------------------------------------------------------------


def test_our_dags_conventions(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.delenv("RETAIL_TASK_RETRIES")  # the production defaults
    dagbag = DagBag(dag_folder=str(DAGS))
    assert not {k: v for k, v in dagbag.import_errors.items() if "retailnext" in k}
    schedules = {}
    for dag_id in OURS:
        dag = dagbag.dags[dag_id]
        assert "retailnext" in dag.tags and len(dag.tags) > 1
        assert dag.max_active_runs == 1 and dag.params
        assert "| table |" in dag.doc_md.replace("| task | endpoint | table | key | mode |", "| table |")
        for task in dag.tasks:
            assert task.owner == "retail-data" and task.retries >= 1
            assert f"{SCHEMA}." in dag.doc_md
        schedules[dag_id] = dag.timetable.expression
    assert schedules["retailnext_health_alerts"] == "*/15 * * * *"
    assert all(s.split()[2:] == ["*", "*", "*"] for d, s in schedules.items() if d != "retailnext_health_alerts")
    for dag_id, task_id, slots in (("retailnext_predicted_traffic", "sync_predicted_traffic", 3),
                                   ("retailnext_devices", "sync_devices", 1)):
        task = dagbag.dags[dag_id].get_task(task_id)
        assert (task.pool, task.pool_slots) == ("retailnext_api", slots)
    docs = dagbag.dags["retailnext_floorplans"].doc_md
    assert "`retailnext.fpa_zone_points` | zone_id, seq |" in docs
    for path in (DAGS / f"{dag_id}.py" for dag_id in OURS):
        assert "Airflow DAG" in path.read_text().split('"""')[1], path.name
