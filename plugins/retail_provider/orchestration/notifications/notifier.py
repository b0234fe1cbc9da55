"""The alerts every DAG of this project gets: one per failed run, and one when it recovers.

:func:`retail_provider.orchestration.dag_defaults.sync_dag` wires them:

* :class:`RetailFailureNotifier`, task level (``on_failure_callback`` of every task, run in
  the task's process once its last try failed): keeps the error (type and message, secrets
  masked), the try and the retry limit as the task's XCom ``retail_failure``.  Used on a DAG
  without :class:`RunFailureNotifier` it sends the task's own alert instead;
* :class:`RunFailureNotifier`, DAG level (``on_failure_callback`` of the DAG, run by the DAG
  processor once the run has failed): **one** alert naming every failed task, its try,
  error, log link and the window it really synced (from ``retail_meta.sync_ledger``);
* :class:`RunRecoveryNotifier`, DAG level (``on_success_callback``): "recovered" when the
  DAG had alerted about a failed run (the Variable ``retail_alerting__<dag_id>``).

Where and whether to send is decided when they fire, from the environment and Airflow
Variables (see :mod:`retail_provider.orchestration.notifications.channels`), never when the
DAG file is parsed.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import BaseNotifier

from retail_provider.orchestration.notifications import run_state
from retail_provider.orchestration.notifications.channels import AlertSettings, deliver
from retail_provider.orchestration.notifications.message import (
    FailedTask,
    error_text,
    failure_alert,
    recovered_alert,
    run_failure_alert,
)
from retail_provider.orchestration.notifications.redaction import connection_secrets, scrub, task_conn_ids
from retail_provider.warehouse import WAREHOUSE_CONN_ID

log = logging.getLogger(__name__)


def _run_ids(context: Any) -> tuple[str | None, str | None]:
    ti = context.get("ti") if context else None
    dag = context.get("dag") if context else None
    return (getattr(ti, "dag_id", None) or getattr(dag, "dag_id", None),
            getattr(ti, "run_id", None) or (context or {}).get("run_id"))


def alerts_per_run(dag: Any) -> bool:
    """Whether ``dag`` sends one alert per failed run (then its tasks only keep their errors)."""
    callbacks = getattr(dag, "on_failure_callback", None) or []
    callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
    return any(isinstance(c, RunFailureNotifier) for c in callbacks)


class _PlainNotifier(BaseNotifier):
    """A notifier without templates (``dag.test()`` hands DAG callbacks a serialized DAG, which
    cannot render any)."""

    template_fields = ()

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        return None


class RetailFailureNotifier(_PlainNotifier):
    """Keep a failed task's error for its run's alert (or, on a DAG without one, alert for the task).

    Nothing it keeps or sends contains a secret: the passwords of the task's connections (its
    ``*conn_id`` attributes), the webhook URL and the SMTP password are masked, then
    everything Airflow's secrets masker knows, then credential-looking patterns.
    """

    def notify(self, context: Any) -> None:
        secrets = connection_secrets(task_conn_ids(context.get("task"))) if context else []
        ti = context.get("ti") if context else None
        if ti is not None:
            settings = AlertSettings.load()
            run_state.record_failure(context, {
                "error": scrub(error_text(context.get("exception")), [*secrets, *settings.secrets()]),
                "try_number": getattr(ti, "try_number", None), "max_tries": getattr(ti, "max_tries", None)})
        if context and alerts_per_run(context.get("dag")):
            log.info("Failure kept for the alert of run %s", getattr(ti, "run_id", "?"))
            return
        deliver(failure_alert(context), secrets=secrets)


class RunFailureNotifier(_PlainNotifier):
    """One alert per failed DAG run, naming every failed task; remembers the run for "recovered"."""

    def notify(self, context: Any) -> None:
        dag_id, run_id = _run_ids(context)
        if not dag_id or not run_id:
            log.warning("A failed run without a DAG or run id: no alert")
            return
        dag = context.get("dag")
        states = run_state.task_states(dag_id, run_id)
        failed_ids = sorted(t for t, s in states.items() if s == "failed")
        tasks = [dag.task_dict[t] for t in failed_ids if dag is not None and t in dag.task_dict]
        conn_ids = {getattr(t, "postgres_conn_id", None) or WAREHOUSE_CONN_ID for t in tasks} or {WAREHOUSE_CONN_ID}
        windows = run_state.synced_windows(sorted(conn_ids), dag_id, run_id)
        failed = []
        for task_id in failed_ids:
            record = run_state.failure_record(dag_id, run_id, task_id) or {}
            failed.append(FailedTask(task_id, try_number=record.get("try_number"), max_tries=record.get("max_tries"),
                                     error=record.get("error"), windows=windows.get(task_id, [])))
        secrets = [s for t in tasks for s in connection_secrets(task_conn_ids(t))]
        not_run = sum(1 for s in states.values() if s == "upstream_failed")
        deliver(run_failure_alert(context, failed, not_run=not_run), secrets=secrets)
        run_state.set_alerting_run(dag_id, run_id)


class RunRecoveryNotifier(_PlainNotifier):
    """"Recovered" when a DAG that alerted about a failed run succeeds again."""

    def notify(self, context: Any) -> None:
        dag_id, run_id = _run_ids(context)
        failed_run = run_state.alerting_run(dag_id) if dag_id else None
        if not failed_run or failed_run == run_id:
            return
        run_state.set_alerting_run(dag_id, None)
        deliver(recovered_alert(context, failed_run))


def failure_notifiers() -> list[BaseNotifier]:
    """The task-level ``on_failure_callback`` list for task defaults."""
    return [RetailFailureNotifier()]


def run_notifiers() -> dict[str, list[BaseNotifier]]:
    """The DAG-level callbacks: ``on_failure_callback`` and ``on_success_callback``."""
    return {"on_failure_callback": [RunFailureNotifier()], "on_success_callback": [RunRecoveryNotifier()]}
