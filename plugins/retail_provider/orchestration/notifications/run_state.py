"""What a DAG run's alert needs to know, read wherever Airflow runs the callback.

A DAG's callbacks run in the DAG processor, which reaches the metadata only through the Task
SDK's supervisor (``SUPERVISOR_COMMS``: task states, XComs, Variables); ``dag.test()`` and
in-process backfills run them in a process that has the metadata database and no supervisor.
Each function asks the supervisor when there is one, the database otherwise: the same
answer either way.

* :func:`task_states`: the run's task states;
* :func:`record_failure` / :func:`failure_record`: a failed task's error, try and limit, kept
  as the XCom ``retail_failure`` by the task-level notifier (in the task's process, where the
  exception is);
* :func:`alerting_run` / :func:`set_alerting_run`: the failed run a DAG last alerted about,
  in the Variable ``retail_alerting__<dag_id>`` (a "recovered" message clears it);
* :func:`synced_windows`: what each task of the run really synced, from ``retail_meta.sync_ledger``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

FAILURE_KEY = "retail_failure"
ALERTING_PREFIX = "retail_alerting__"


def _comms() -> Any:
    from airflow.sdk.execution_time import task_runner

    return getattr(task_runner, "SUPERVISOR_COMMS", None)


def _session():
    from airflow.utils.session import create_session

    return create_session()


# -- task states ----------------------------------------------------------------------------


def task_states(dag_id: str, run_id: str) -> dict[str, str]:
    """``{task_id: state}`` of one run (mapped tasks as ``task_id`` of their last map index)."""
    if _comms() is not None:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        states = RuntimeTaskInstance.get_task_states(dag_id=dag_id, run_ids=[run_id])
        return {str(k): str(v) for k, v in (states.get(run_id) or {}).items()}
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy import select

    with _session() as session:
        rows = session.execute(select(TaskInstance.task_id, TaskInstance.state)
                               .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id))
        return {task_id: str(getattr(state, "value", state)) for task_id, state in rows}


# -- a failed task's record -----------------------------------------------------------------


def record_failure(context: Any, record: dict[str, Any]) -> None:
    """Keep ``record`` (secret-free) as the failed task's XCom; never raises."""
    ti = context.get("ti") if context else None
    if ti is None:
        return
    try:
        ti.xcom_push(key=FAILURE_KEY, value=record)
    except Exception:  # e.g. a task callback run by the DAG processor, which cannot write XComs
        log.info("Could not keep the failure of %s for the run's alert", getattr(ti, "task_id", "?"), exc_info=True)


def failure_record(dag_id: str, run_id: str, task_id: str) -> dict[str, Any] | None:
    """The record :func:`record_failure` kept for this task of this run, if any."""
    try:
        if _comms() is not None:
            from airflow.sdk.execution_time.xcom import XCom

            value = XCom.get_one(key=FAILURE_KEY, dag_id=dag_id, task_id=task_id, run_id=run_id)
        else:
            from airflow.models.xcom import XComModel

            with _session() as session:
                row = session.scalars(XComModel.get_many(run_id=run_id, key=FAILURE_KEY, dag_ids=dag_id,
                                                         task_ids=task_id).limit(1)).first()
                value = XComModel.deserialize_value(row) if row is not None else None
    except Exception:
        log.info("Could not read the failure record of %s", task_id, exc_info=True)
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


# -- which failed run a DAG alerted about ----------------------------------------------------


def alerting_key(dag_id: str) -> str:
    return f"{ALERTING_PREFIX}{dag_id}"


def alerting_run(dag_id: str) -> str | None:
    """The run id of the failure this DAG last alerted about and has not recovered from."""
    try:
        if _comms() is not None:
            from airflow.sdk import Variable

            value = Variable.get(alerting_key(dag_id), default=None)
        else:
            from airflow.models.variable import Variable as VariableModel

            value = VariableModel.get(alerting_key(dag_id), default_var=None)
    except Exception:
        log.info("Could not read %s", alerting_key(dag_id), exc_info=True)
        return None
    return str(value) if value else None


def set_alerting_run(dag_id: str, run_id: str | None) -> None:
    """Remember the failed run (``None``: the DAG recovered)."""
    key = alerting_key(dag_id)
    try:
        if _comms() is not None:
            from airflow.sdk import Variable

            if run_id:
                Variable.set(key, run_id, description="The failed run this DAG last alerted about (retail alerts)")
            else:
                Variable.delete(key)
            return
        from airflow.models.variable import Variable as VariableModel

        if run_id:
            VariableModel.set(key, run_id, description="The failed run this DAG last alerted about (retail alerts)")
        else:
            VariableModel.delete(key)
    except Exception:
        log.warning("Could not update %s", key, exc_info=True)


# -- what the run synced ---------------------------------------------------------------------


def synced_windows(conn_ids: Iterable[str], dag_id: str, run_id: str) -> dict[str, list[str]]:
    """``{task_id: ["ocds.item [since, before) incremental, failed", ...]}``: the ledger rows of
    each task's last try in this run.  Empty when the ledger cannot be read (the warehouse
    may be why the run failed)."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from retail_provider.orchestration.progress import window_text
    from retail_provider.warehouse.ledger import LEDGER_TABLE

    out: dict[str, list[str]] = {}
    for conn_id in dict.fromkeys(conn_ids):
        try:
            conn = PostgresHook(postgres_conn_id=conn_id).get_conn()
        except Exception:
            log.info("Could not read the sync ledger through %s", conn_id, exc_info=True)
            continue
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT to_regclass(%s)", (LEDGER_TABLE,))
                if cur.fetchone()[0] is None:
                    continue
                cur.execute(
                    f"SELECT task_id, target_table, mode, since, before, status FROM {LEDGER_TABLE} l "
                    "WHERE dag_id = %s AND run_id = %s AND try_number = (SELECT max(try_number) FROM "
                    f"{LEDGER_TABLE} m WHERE m.dag_id = l.dag_id AND m.run_id = l.run_id AND m.task_id = l.task_id) "
                    "ORDER BY id", (dag_id, run_id))
                for task_id, table, mode, since, before, status in cur.fetchall():
                    out.setdefault(task_id, []).append(f"{table} {window_text(since, before)} {mode}, {status}")
        except Exception:
            log.info("Could not read the sync ledger through %s", conn_id, exc_info=True)
        finally:
            conn.close()
    return out
