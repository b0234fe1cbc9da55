"""The text of an alert: what failed, in which run and window, why, and where the log is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from retail_provider.orchestration.notifications.channels import Alert

#: Params that describe the window a run worked on (OCDS ``since``/``before``, datamine dates)
WINDOW_PARAMS = ("endpoint", "since", "before", "full_refresh", "date_from", "date_to", "stores")
ERROR_CHARS = 1500
DEFAULT_BASE_URL = "http://localhost:8080/"


def _text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def log_url(dag_id: str, run_id: str, task_id: str, *, try_number: int | None = None, map_index: int = -1) -> str:
    """The task instance's log in the Airflow 3 UI: ``[api] base_url`` +
    ``/dags/<dag>/runs/<run>/tasks/<task>[/mapped/<i>]?try_number=<n>`` (the UI's route, and
    what ``TaskInstance.log_url`` builds)."""
    from airflow.sdk.configuration import conf

    base = conf.get("api", "base_url", fallback=None) or DEFAULT_BASE_URL
    url = f"{base.rstrip('/')}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}/tasks/{quote(task_id, safe='')}"
    if map_index is not None and map_index >= 0:
        url += f"/mapped/{map_index}"
    if try_number:
        url += f"?try_number={try_number}"
    return url


def dag_run_facts(context: Any) -> list[tuple[str, str]]:
    """``(label, value)`` lines of the run in ``context``: DAG, run (and its type), logical date,
    data interval and the window Params (empty without a context)."""
    if not context:
        return []
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None)
    run_id = getattr(ti, "run_id", None) or context.get("run_id")
    facts: list[tuple[str, str]] = []
    if dag_id:
        facts.append(("DAG", dag_id))
    if run_id:
        run_type = getattr(context.get("dag_run"), "run_type", None)
        facts.append(("Run", run_id + (f" ({getattr(run_type, 'value', run_type)})" if run_type else "")))
    logical = context.get("logical_date")
    facts.append(("Logical date", _text(logical) if logical else "none (manual run)"))
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start or end:
        facts.append(("Data interval", f"{_text(start)} to {_text(end)}"))
    params = context.get("params") or {}
    window = [f"{k}={_text(params[k])}" for k in WINDOW_PARAMS
              if k in params and params[k] not in (None, "", False, "all")]
    if window:
        facts.append(("Window Params", ", ".join(window)))
    return facts


def task_facts(dag_id: str | None, run_id: str | None, task_id: str | None, *, try_number: int | None = None,
               max_tries: int | None = None, map_index: int = -1,
               windows: list[str] | None = None) -> list[tuple[str, str]]:
    """``(label, value)`` lines of one task instance: task, try, what it synced, log link."""
    facts: list[tuple[str, str]] = []
    if task_id:
        facts.append(("Task", task_id + (f" (map index {map_index})" if map_index >= 0 else "")))
    if try_number:
        facts.append(("Try", f"{try_number}" + (f" of {max_tries + 1}" if isinstance(max_tries, int) else "")))
    for window in windows or []:
        facts.append(("Synced window", window))
    if dag_id and run_id and task_id:
        facts.append(("Log", log_url(dag_id, run_id, task_id, try_number=try_number, map_index=map_index)))
    return facts


def run_facts(context: Any) -> list[tuple[str, str]]:
    """The run's facts (:func:`dag_run_facts`) and those of the task instance in ``context``."""
    if not context:
        return []
    ti = context.get("ti") or context.get("task_instance")
    map_index = getattr(ti, "map_index", -1)
    facts = dag_run_facts(context)
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None)
    run_id = getattr(ti, "run_id", None) or context.get("run_id")
    return facts + task_facts(dag_id, run_id,
                              getattr(ti, "task_id", None) or getattr(context.get("task"), "task_id", None),
                              try_number=getattr(ti, "try_number", None), max_tries=getattr(ti, "max_tries", None),
                              map_index=map_index if isinstance(map_index, int) else -1)


LABEL_WIDTH = len("Window Params:")


def format_facts(facts: list[tuple[str, str]], width: int = LABEL_WIDTH) -> str:
    """One ``Label:  value`` line per fact, the values aligned."""
    width = max([width - 1, *(len(label) for label, _ in facts)]) + 1
    return "\n".join(f"{(label + ':').ljust(width)} {value}" for label, value in facts)


def error_text(error: Any) -> str:
    """The exception as ``Type: message``, on one screen (not scrubbed yet: :func:`deliver` does)."""
    if error is None:
        return "unknown (no exception in the context)"
    kind = getattr(error, "reported_type", type(error).__name__)
    text = f"{kind}: {error}" if isinstance(error, BaseException) else str(error)
    return text if len(text) <= ERROR_CHARS else text[:ERROR_CHARS] + " [...]"


def failure_alert(context: Any) -> Alert:
    """The alert for a task that failed for good (its retries are spent)."""
    facts = run_facts(context)
    values = dict(facts)
    where = ".".join(v for v in (values.get("DAG"), (values.get("Task") or "").split(" ")[0]) if v)
    run = (values.get("Run") or "").split(" ")[0]
    subject = f"[Airflow] Task failed: {where or 'unknown task'}" + (f" ({run})" if run else "")
    error = context.get("exception") if context else None
    text = "\n".join([
        f"Task failed: {where or 'unknown task'}",
        "",
        format_facts(facts),
        "",
        "Error:",
        error_text(error),
    ])
    return Alert(subject=subject, text=text)


@dataclass
class FailedTask:
    """One failed task of a run, as its alert names it.

    :param error: ``Type: message`` kept by the task when it failed (``None``: see its log).
    :param windows: what it really synced, from the sync ledger.
    """

    task_id: str
    try_number: int | None = None
    max_tries: int | None = None
    error: str | None = None
    windows: list[str] = field(default_factory=list)


def run_failure_alert(context: Any, failed: list[FailedTask], *, not_run: int = 0) -> Alert:
    """One alert for a failed DAG run, naming every failed task (its try, window, log and error).

    :param not_run: tasks that did not run because an upstream task failed.
    """
    facts = dag_run_facts(context)
    values = dict(facts)
    dag_id, run = values.get("DAG") or "unknown DAG", (values.get("Run") or "").split(" ")[0]
    names = ", ".join(t.task_id for t in failed)
    if len(failed) == 1:
        headline = subject = f"Task failed: {dag_id}.{failed[0].task_id}"
    else:
        subject = f"DAG run failed: {dag_id}, {len(failed) or 'no'} tasks failed"
        headline = subject + (f": {names}" if failed else " (see the run's log)")
    subject = f"[Airflow] {subject}" + (f" ({run})" if run else "")
    lines = [headline + (f"; {not_run} more did not run (upstream failed)" if not_run else ""), "",
             format_facts(facts)]
    for n, task in enumerate(failed, start=1):
        lines += ["", *([f"Failed task {n} of {len(failed)}:"] if len(failed) > 1 else []),
                  format_facts(task_facts(values.get("DAG"), run, task.task_id, try_number=task.try_number,
                                          max_tries=task.max_tries, windows=task.windows)),
                  "Error:", task.error or "not recorded (see the task's log)"]
    return Alert(subject=subject, text="\n".join(lines))


def recovered_alert(context: Any, failed_run: str) -> Alert:
    """The message when a DAG that alerted about a failed run succeeds again."""
    facts = dag_run_facts(context)
    values = dict(facts)
    dag_id, run = values.get("DAG") or "unknown DAG", (values.get("Run") or "").split(" ")[0]
    subject = f"[Airflow] Recovered: {dag_id}" + (f" ({run})" if run else "")
    text = "\n".join([f"Recovered: {dag_id} succeeded again in run {run or '?'}, after the failed run {failed_run}.",
                      "", format_facts(facts)])
    return Alert(subject=subject, text=text)
