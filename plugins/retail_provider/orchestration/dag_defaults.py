"""What every DAG of this provider shares: owner, start date, retries, alerts, one run at a time.

``RETAIL_TASK_RETRIES`` (environment, read at parse time) overrides the number of Airflow
retries of every DAG that retries at all, e.g. 0 in tests that make tasks fail on purpose;
DAGs that never retry (the writes) keep 0.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
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
    dag_kwargs.setdefault("description", _heading(doc_md))
    return DAG(
        dag_id=dag_id,
        schedule=schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=tags,
        default_args=default_args(**(task_defaults or {})),
        doc_md=doc_md,
        params=titled(params),
        render_template_as_native_obj=native,
        **{**run_notifiers(), **dag_kwargs},
    )


# -- Params ---------------------------------------------------------------------------------

_WORDS = {"uuid": "UUID", "uuids": "UUIDs", "id": "ID", "csv": "CSV", "hls": "HLS"}


def _heading(doc_md: str) -> str | None:
    """The DAG's description (the list of DAGs shows it): the first heading of its docs."""
    match = re.search(r"^#+\s*(.+)$", doc_md or "", re.MULTILINE)
    return match.group(1).strip() if match else None


def titled(params: dict[str, Param]) -> dict[str, Param]:
    """``params`` with a title on each Param that has none: its name in words (``page_length``:
    "Page length", ``store_uuid``: "Store UUID")."""
    for name, param in params.items():
        if isinstance(param, Param) and "title" not in param.schema:
            words = [_WORDS.get(w, w) for w in name.split("_")]
            param.schema["title"] = " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])
    return params


def selection_param(names: Iterable[str], *, what: str = "endpoint") -> Param:
    """Which tasks a manual run syncs: any of ``names`` (each listed once, a multi-select in the
    trigger form), or none (or ``all``) for all of them.  A single name as text works too
    (``{"endpoint": "item"}`` in a run's configuration)."""
    choices = sorted(dict.fromkeys(names))
    return Param([], anyOf=[{"type": "array", "items": {"type": "string", "enum": ["all", *choices]},
                             "uniqueItems": True},
                            {"type": "string", "enum": ["all", *choices]}],
                 examples=choices, title=f"{what.capitalize()}s",
                 description=f"Sync only these {what}s (several allowed); leave empty to sync every {what}.")


def time_param(title: str, description: str) -> Param:
    """An optional point in time (a date-time picker in the trigger form); ISO 8601 with a zone."""
    return Param(None, type=["null", "string"], format="date-time", title=title, description=description)
