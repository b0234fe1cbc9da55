"""A time-based DAG through Airflow's own backfill machinery.

``airflow backfill create`` (and the UI, and ``POST /api/v2/backfills``) call
``airflow.models.backfill._create_backfill``: it reads the DAG from the metadata DB (so
the DAG is serialized there first, as the DAG processor would), and creates one **queued**
``backfill`` DAG run per data interval.  Nothing runs them until a scheduler does:

* ``SchedulerJobRunner._start_queued_dagruns`` moves queued runs to running, honouring the
  backfill's ``max_active_runs`` and its order (the DAG must be unpaused, as for the
  scheduler);
* each running run is then driven by the same loop as ``dag.test()``
  (``DagRun.update_state`` + the Task SDK's in-process task runner), on the backfill's own
  run: ``dag.test()`` / ``airflow dags test`` cannot run an existing run, they delete the
  run of that logical date and create a *manual* one, which would not be a backfill run
  any more (and the OCDS operator takes its window from a backfill run's data interval);
* ``SchedulerJobRunner._mark_backfills_complete`` closes the backfill.

A real scheduler with an executor would need a running API server for its task
processes; this is the scheduler's own logic without one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from include.devenv import airflow_env, warehouse
from retail_provider.ocds.catalog import get_endpoint
from retail_provider.ocds.operators import watermark_key
from tests.support import assert_table_equals_truth, table_rows

pytestmark = pytest.mark.airflow
DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_ID = "ocds_reference"  # daily at 02:30 UTC, CronDataIntervalTimetable
ENDPOINTS = ("diff", "diff_group", "item_dimensiontype", "item_dimensionvalue", "vat")
SCHEMA = "ocds"
MAX_LOOPS = 200


# -- Airflow's backfill machinery, driven in this process --------------------------------


def _sync_dag(dag_id: str):
    """Serialize the DAG into the metadata DB (what the DAG processor does) and unpause it."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import update

    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    bundle = manager.get_bundle("dags-folder")
    bundle.initialize()
    bag = BundleDagBag(dag_folder=str(DAGS / f"{dag_id}.py"), bundle_path=bundle.path, bundle_name=bundle.name)
    assert not bag.import_errors
    sync_bag_to_db(bag, bundle.name, bundle.version)
    with create_session() as session:
        session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(is_paused=False))
    return bag.dags[dag_id]


def _create_backfill(dag_id: str, start: datetime, end: datetime, reprocess: str = "none"):
    """What ``airflow backfill create --dag-id ... --from-date ... --to-date ...`` calls."""
    from airflow.models.backfill import ReprocessBehavior, _create_backfill

    return _create_backfill(dag_id=dag_id, from_date=start, to_date=end, max_active_runs=1, reverse=False,
                            dag_run_conf=None, triggering_user_name="test_backfill",
                            reprocess_behavior=ReprocessBehavior(reprocess))


def _run_dag_run(dag, dag_run, session) -> None:
    """Drive one running DAG run to its end, like ``dag.test()`` does for its own run."""
    from airflow.models.dagbag import DBDagBag
    from airflow.sdk import timezone
    from airflow.sdk.definitions.dag import _run_task
    from airflow.utils.state import DagRunState, TaskInstanceState

    dag_run.dag = DBDagBag().get_dag_for_run(dag_run, session=session)
    # the DAG's callbacks (its run alert), which the serialized DAG lacks: what dag.test() does too
    dag_run.dag.on_success_callback, dag_run.dag.on_failure_callback = dag.on_success_callback, dag.on_failure_callback
    for _ in range(MAX_LOOPS):
        if dag_run.state != DagRunState.RUNNING:
            return
        session.expire_all()
        schedulable, _ = dag_run.update_state(session=session)
        for ti in schedulable:
            if ti.state != TaskInstanceState.UP_FOR_RESCHEDULE:
                ti.try_number += 1
            ti.state = TaskInstanceState.SCHEDULED
            ti.scheduled_dttm = timezone.utcnow()
        session.commit()
        for ti in dag_run.get_task_instances(session=session):
            if ti.state == TaskInstanceState.SCHEDULED:
                _run_task(ti=ti, task=dag.task_dict[ti.task_id])
    raise AssertionError(f"{dag_run.run_id} did not finish")


def _run_backfill(dag, backfill_id: int) -> list[tuple[str, str]]:
    """Run every run of a backfill as the scheduler would; return (run_id, state) in run order."""
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from sqlalchemy import select

    scheduler = SchedulerJobRunner(job=Job(), num_runs=1)
    done = []
    for _ in range(MAX_LOOPS):
        with create_session() as session:
            scheduler._start_queued_dagruns(session)
        with create_session() as session:
            running = session.scalars(select(DagRun).where(DagRun.backfill_id == backfill_id,
                                                           DagRun.state == DagRunState.RUNNING)).all()
            assert len(running) <= 1, "the backfill's max_active_runs=1 was not honoured"
            if not running:
                break
            for dag_run in running:
                _run_dag_run(dag, dag_run, session)
                done.append((dag_run.run_id, str(dag_run.state)))
    with create_session() as session:
        scheduler._mark_backfills_complete(session=session)
    return done


def _backfill_runs(backfill_id: int) -> list:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        runs = session.scalars(select(DagRun).where(DagRun.backfill_id == backfill_id)
                               .order_by(DagRun.logical_date)).all()
        for run in runs:
            session.expunge(run)
        return runs


def _completed(backfill_id: int) -> bool:
    from airflow.models.backfill import Backfill
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.get(Backfill, backfill_id).completed_at is not None


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def backfill_warehouse(server_dsn, airflow_connections, monkeypatch):
    """An empty warehouse database of its own: after the backfill it holds exactly the windows."""
    name = f"retail_backfill_{uuid.uuid4().hex[:8]}"
    dsn = warehouse.ensure_database(server_dsn, name, recreate=True)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DEFAULT", warehouse.airflow_conn_json(dsn))
    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")
    yield dsn
    warehouse.drop_database(server_dsn, name)


@pytest.fixture
def no_watermarks():
    """The reference endpoints never synced: their watermark Variables are absent (restored after)."""
    from airflow.models.variable import Variable

    keys = [watermark_key(get_endpoint(n), {}) for n in ENDPOINTS]
    saved = {k: Variable.get(k, default_var=None) for k in keys}
    for k in keys:
        Variable.delete(k)
    yield keys
    for k, v in saved.items():
        Variable.delete(k)
        if v is not None:
            Variable.set(k, v)


def _busiest_two_days(emulator) -> datetime:
    """The start (02:30 UTC, the DAG's schedule) of the two days of 2025 with the most source
    changes of the DAG's endpoints, so the backfill has rows to load."""
    best, best_start = -1, None
    for day in range(1, 360):
        start = datetime(2025, 1, 1, 2, 30, tzinfo=UTC) + timedelta(days=day)
        count = sum(len(_window_rows(emulator, name, start, start + timedelta(days=2), with_deletes=True))
                    for name in ENDPOINTS)
        if count > best:
            best, best_start = count, start
    assert best > 0
    return best_start


def _window_rows(emulator, name: str, since: datetime, before: datetime, *, with_deletes: bool = False) -> list[dict]:
    """What the source answers for ``[since, before)``: its last change per key."""
    ocds = emulator.state.ocds
    page = ocds.page(name, ocds.filters(name, {}), 1_000_000, int(since.timestamp() * 1e6),
                     int(before.timestamp() * 1e6))
    return [{k: v for k, v in row.items() if k != "action"} for row in page.items
            if with_deletes or row.get("action") != "DELETE"]


def _assert_warehouse_equals_windows(dsn: str, emulator, since: datetime, before: datetime) -> int:
    rows = 0
    with psycopg.connect(dsn) as conn:
        for name in ENDPOINTS:
            truth = _window_rows(emulator, name, since, before)
            assert_table_equals_truth(conn, get_endpoint(name), truth, SCHEMA)
            rows += len(truth)
    return rows


def _ledger(dsn: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT endpoint, mode, status, since, before, rows_upserted, rows_deleted, run_id "
                            "FROM retail_meta.sync_ledger ORDER BY id").fetchall()


def _snapshot(dsn: str) -> dict:
    with psycopg.connect(dsn) as conn:
        return {name: table_rows(conn, get_endpoint(name), SCHEMA) for name in ENDPOINTS}


# -- tests ------------------------------------------------------------------------------


def test_backfill_create_loads_each_interval_and_a_rerun_changes_nothing(emulator, backfill_warehouse):
    dsn = backfill_warehouse
    start = _busiest_two_days(emulator)
    end = start + timedelta(days=2)
    dag = _sync_dag(DAG_ID)

    # `airflow backfill create --dag-id ocds_reference --from-date <day 1> --to-date <day 2 03:00>`
    backfill = _create_backfill(DAG_ID, start - timedelta(hours=2), start + timedelta(days=1, minutes=30))
    runs = _backfill_runs(backfill.id)
    assert [r.logical_date for r in runs] == [start, start + timedelta(days=1)]
    assert [(r.data_interval_start, r.data_interval_end) for r in runs] == [
        (start, start + timedelta(days=1)), (start + timedelta(days=1), end)]
    assert {str(r.run_type) for r in runs} == {"backfill"} and {str(r.state) for r in runs} == {"queued"}

    done = _run_backfill(dag, backfill.id)
    assert done == [(r.run_id, "success") for r in runs]  # one at a time, in order
    assert _completed(backfill.id)
    ledger = _ledger(dsn)
    assert len(ledger) == 2 * len(ENDPOINTS)
    windows = {(row[3], row[4]) for row in ledger}
    assert windows == {(start, start + timedelta(days=1)), (start + timedelta(days=1), end)}
    assert {(row[1], row[2]) for row in ledger} == {("incremental", "success")}
    assert {row[7] for row in ledger} == {r.run_id for r in runs}
    loaded = _assert_warehouse_equals_windows(dsn, emulator, start, end)
    assert loaded > 0 and sum(row[5] for row in ledger) >= loaded

    # re-running the window: `--reprocess-behavior completed` clears and re-runs the same runs
    before = _snapshot(dsn)
    again = _create_backfill(DAG_ID, start - timedelta(hours=2), start + timedelta(days=1, minutes=30),
                             reprocess="completed")
    assert [r.run_id for r in _backfill_runs(again.id)] == [r.run_id for r in runs]
    assert _run_backfill(dag, again.id) == [(r.run_id, "success") for r in runs]
    assert _completed(again.id)
    rerun = _ledger(dsn)[len(ledger):]
    assert len(rerun) == 2 * len(ENDPOINTS)
    assert all(row[5:7] == (0, 0) for row in rerun), "a re-run wrote rows"
    assert _snapshot(dsn) == before
    _assert_warehouse_equals_windows(dsn, emulator, start, end)


def test_a_backfill_before_the_first_sync_leaves_no_gap(emulator, backfill_warehouse, no_watermarks):
    from airflow.models.variable import Variable

    dsn = backfill_warehouse
    start = _busiest_two_days(emulator)
    dag = _sync_dag(DAG_ID)
    backfill = _create_backfill(DAG_ID, start - timedelta(hours=2), start + timedelta(hours=1), reprocess="completed")
    assert [state for _, state in _run_backfill(dag, backfill.id)] == ["success"]
    assert {k: Variable.get(k, default_var=None) for k in no_watermarks} == dict.fromkeys(no_watermarks)
    # the first scheduled-style run then loads everything
    run = airflow_env.run_dag(DAG_ID, {"safety_lag_seconds": 0})
    assert "success" in str(run.state)
    with psycopg.connect(dsn) as conn:
        for name in ENDPOINTS:
            assert_table_equals_truth(conn, get_endpoint(name), emulator.state.ocds.truth(name), SCHEMA)


def _watermarks() -> dict[str, datetime | None]:
    from airflow.models.variable import Variable

    out = {}
    for name in ENDPOINTS:
        value = Variable.get(watermark_key(get_endpoint(name), {}), default_var=None)
        out[name] = datetime.fromisoformat(value) if value else None
    return out


def test_a_backfill_overlapping_the_scheduled_runs_leaves_warehouse_and_watermark_right(
        emulator, backfill_warehouse, no_watermarks):
    """Backfill runs and scheduled runs of one DAG may overlap (each backfill has its own
    max_active_runs): whatever order their windows are loaded in, the tables end equal to the
    source and no watermark moves back or over a gap."""
    from airflow.models.variable import Variable

    dsn = backfill_warehouse
    dag = _sync_dag(DAG_ID)
    # the scheduled DAG has loaded everything up to now (its watermarks)
    assert "success" in str(airflow_env.run_dag(DAG_ID, {"safety_lag_seconds": 0}).state)
    marks = _watermarks()
    assert all(marks.values())
    loaded = _snapshot(dsn)

    # 1. a backfill of older days, whose windows the scheduled runs already covered: nothing
    #    changes, no watermark moves back
    start = _busiest_two_days(emulator)
    backfill = _create_backfill(DAG_ID, start - timedelta(hours=2), start + timedelta(days=1, minutes=30),
                                reprocess="completed")
    assert [state for _, state in _run_backfill(dag, backfill.id)] == ["success", "success"]
    assert _snapshot(dsn) == loaded and _watermarks() == marks

    # 2. the source changes; the scheduled DAG has stopped at yesterday noon (its watermark) and
    #    a backfill of the last finished day overlaps that run's window: the window starts before
    #    the watermark (no gap), so the watermark moves to the day's end; the data is right
    for name in ENDPOINTS:
        emulator.state.ocds.mutate(name, inserts=2, updates=2, deletes=1, seed=21)
    now = datetime.now(UTC)
    day_end = now.replace(hour=2, minute=30, second=0, microsecond=0)
    day_end -= timedelta(days=1) if day_end > now else timedelta(0)
    stopped = day_end - timedelta(hours=14, minutes=30)  # yesterday noon
    for name in ENDPOINTS:
        Variable.set(watermark_key(get_endpoint(name), {}), stopped.isoformat())
    backfill = _create_backfill(DAG_ID, day_end - timedelta(days=1), day_end - timedelta(days=1), reprocess="completed")
    assert [state for _, state in _run_backfill(dag, backfill.id)] == ["success"]
    assert set(_watermarks().values()) == {day_end}

    # 3. the next scheduled run carries on from there: every table equals the source
    assert "success" in str(airflow_env.run_dag(DAG_ID, {"safety_lag_seconds": 0}).state)
    with psycopg.connect(dsn) as conn:
        for name in ENDPOINTS:
            assert_table_equals_truth(conn, get_endpoint(name), emulator.state.ocds.truth(name), SCHEMA)
    assert all(mark > day_end for mark in _watermarks().values())


def test_backfill_runs_of_a_paused_dag_wait_until_it_is_unpaused(emulator, backfill_warehouse):
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import update

    _sync_dag(DAG_ID)
    start = _busiest_two_days(emulator)

    def pause(paused: bool) -> None:
        with create_session() as session:
            session.execute(update(DagModel).where(DagModel.dag_id == DAG_ID).values(is_paused=paused))

    pause(True)
    backfill = _create_backfill(DAG_ID, start - timedelta(hours=2), start + timedelta(hours=1), reprocess="completed")
    scheduler = SchedulerJobRunner(job=Job(), num_runs=1)
    with create_session() as session:
        scheduler._start_queued_dagruns(session)
    assert {str(r.state) for r in _backfill_runs(backfill.id)} == {"queued"}  # waiting
    pause(False)
    with create_session() as session:
        scheduler._start_queued_dagruns(session)
    assert {str(r.state) for r in _backfill_runs(backfill.id)} == {"running"}
    assert [state for _, state in _run_backfill(_sync_dag(DAG_ID), backfill.id)] == ["success"]
