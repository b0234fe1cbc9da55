"""Build one OCDS DAG per data domain from a list of endpoint tasks."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, CronDataIntervalTimetable, Param

from retail_provider.ocds.catalog import get_endpoint
from retail_provider.ocds.operators import OcdsIncrementalSyncOperator
from retail_provider.ocds.sync import DEFAULT_SCHEMA
from retail_provider.orchestration.notifications.notifier import failure_notifiers

OWNER = "retail-data"
START = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class EndpointTask:
    """One sync task: an endpoint and, optionally, a fixed filter combination."""

    endpoint: str
    filters: dict[str, Any] = field(default_factory=dict)
    task_id: str | None = None

    @property
    def id(self) -> str:
        if self.task_id:
            return self.task_id
        suffix = "_".join(str(v).lower() for _, v in sorted(self.filters.items()))
        return f"sync_{self.endpoint}" + (f"_{suffix}" if suffix else "")


def default_args(**overrides: Any) -> dict[str, Any]:
    """Task defaults. ``RETAIL_TASK_RETRIES`` (environment, read at parse time) overrides the
    number of Airflow retries, e.g. 0 in tests that make tasks fail on purpose.

    ``on_failure_callback`` is the task-level failure alert (e-mail and/or webhook, chosen
    when it fires: see :mod:`retail_provider.orchestration.notifications`)."""
    args: dict[str, Any] = {
        "owner": OWNER,
        "retries": int(os.environ.get("RETAIL_TASK_RETRIES", "3")),
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(hours=6),
        "on_failure_callback": failure_notifiers(),
    }
    args.update(overrides)
    if "RETAIL_TASK_RETRIES" in os.environ and args.get("retries"):
        args["retries"] = int(os.environ["RETAIL_TASK_RETRIES"])  # the environment wins (tests)
    return args


def _doc(title: str, summary: str, tasks: list[EndpointTask], schedule: str) -> str:
    rows = []
    for t in tasks:
        ep = get_endpoint(t.endpoint)
        filters = ", ".join(f"{k}={v}" for k, v in sorted(t.filters.items())) or "-"
        rows.append(f"| `{t.id}` | `v2/{ep.path}` | {filters} | `{DEFAULT_SCHEMA}.{ep.table}` | {', '.join(ep.key)} | {ep.mode} |")
    return "\n".join(
        [
            f"# {title}",
            "",
            summary,
            "",
            f"Schedule: `{schedule}` (UTC). Each task reads the change window `[watermark, now - safety lag)` "
            "from OCDS, merges it into PostgreSQL in one transaction and then advances its watermark "
            "Variable (`ocds_watermark__<endpoint>[__<filters>]`).",
            "",
            "| task | endpoint | filters | table | key | mode |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            "**Manual resync / backfill**: trigger with Params `endpoint` (one endpoint or `all`), `since` "
            "(ISO-8601 with zone, e.g. `2025-03-01T00:00:00Z`), optionally `before`, or `full_refresh` "
            "to reload everything and delete rows the source no longer has. `airflow backfill create` "
            "runs each data interval as its own window.",
        ]
    )


def build_ocds_dag(
    dag_id: str,
    *,
    title: str,
    summary: str,
    tasks: list[EndpointTask],
    cron: str,
    tags: list[str] | None = None,
    ocds_conn_id: str = "ocds_default",
    postgres_conn_id: str = "warehouse_default",
    pool: str | None = "ocds_api",
    **dag_kwargs: Any,
) -> DAG:
    """A DAG with one :class:`OcdsIncrementalSyncOperator` per task, and Params for manual resyncs."""
    names = sorted({get_endpoint(t.endpoint).name for t in tasks} | {t.id for t in tasks})
    with DAG(
        dag_id=dag_id,
        schedule=CronDataIntervalTimetable(cron, timezone="UTC"),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["ocds", "oracle-retail", *(tags or [])],
        default_args=default_args(**({"pool": pool} if pool else {})),
        doc_md=_doc(title, summary, tasks, cron),
        params={
            "endpoint": Param("all", type="string", enum=["all", *names],
                              description="Sync only this endpoint (or task), or all of them."),
            "since": Param(None, type=["null", "string"],
                           description="Resync from this ISO-8601 time (with zone) instead of the watermark."),
            "before": Param(None, type=["null", "string"],
                            description="End of the window (ISO-8601 with zone); default now minus the lag."),
            "full_refresh": Param(False, type="boolean",
                                  description="Reload from the epoch and delete rows the source no longer has."),
            "safety_lag_seconds": Param(300, type="integer", minimum=0,
                                        description="The window ends this many seconds before now, so "
                                        "changes still in flight at the source are left to the next run."),
            "page_size": Param(None, type=["null", "integer"], minimum=1, maximum=10000,
                               description="Rows per OCDS page (server default 10,000)."),
        },
        render_template_as_native_obj=False,
        **dag_kwargs,
    ) as dag:
        for t in tasks:
            OcdsIncrementalSyncOperator(
                task_id=t.id,
                endpoint=t.endpoint,
                filters=t.filters,
                since="{{ params.since or '' }}",
                before="{{ params.before or '' }}",
                full_refresh="{{ params.full_refresh }}",
                selected="{{ params.endpoint }}",
                safety_lag="{{ params.safety_lag_seconds }}",
                page_size="{{ params.page_size or '' }}",
                ocds_conn_id=ocds_conn_id,
                postgres_conn_id=postgres_conn_id,
            )
    return dag
