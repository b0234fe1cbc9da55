"""What every DAG of this provider shares: owner, start date, retries, alerts, one run at a time.

``RETAIL_TASK_RETRIES`` (environment, read at parse time) overrides the number of Airflow
retries of every DAG that retries at all, e.g. 0 in tests that make tasks fail on purpose;
DAGs that never retry (the writes) keep 0.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, CronDataIntervalTimetable, Param

from retail_provider.orchestration.notifications.notifier import failure_notifiers, run_notifiers

OWNER = "retail-data"
START = datetime(2025, 1, 1, tzinfo=UTC)
RETRIES_ENV = "RETAIL_TASK_RETRIES"


def default_args(**overrides: Any) -> dict[str, Any]:
    """Task defaults; ``on_failure_callback`` keeps a failed task's error for its run's alert
    (see :mod:`retail_provider.orchestration.notifications`)."""
    args: dict[str, Any] = {
        "owner": OWNER,
        "retries": int(os.environ.get(RETRIES_ENV, "3")),
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(hours=6),
        "on_failure_callback": failure_notifiers(),
    }
    args.update(overrides)
    if RETRIES_ENV in os.environ and args.get("retries"):
        args["retries"] = int(os.environ[RETRIES_ENV])  # the environment wins (tests)
    return args


def sync_dag(dag_id: str, *, cron: str | None, tags: list[str], doc_md: str, params: dict[str, Param],
             task_defaults: dict[str, Any] | None = None, native: bool = False, assets: Any = None,
             **dag_kwargs: Any) -> DAG:
    """A DAG on a data-interval schedule (``cron`` in UTC; ``None``: manual only), one run at a time,
    with one alert per failed run and a "recovered" message after it (e-mail and/or webhook).

    :param native: render templates as native Python objects (lists, dicts) instead of text.
    :param assets: schedule on data instead: Assets (or an ``|``/``&`` expression of them), e.g.
        :func:`~retail_provider.orchestration.assets.table_asset` of the tables the DAG reads.
    """
    schedule = assets if assets is not None else CronDataIntervalTimetable(cron, timezone="UTC") if cron else None
    return DAG(
        dag_id=dag_id,
        schedule=schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=tags,
        default_args=default_args(**(task_defaults or {})),
        doc_md=doc_md,
        params=params,
        render_template_as_native_obj=native,
        **{**run_notifiers(), **dag_kwargs},
    )
