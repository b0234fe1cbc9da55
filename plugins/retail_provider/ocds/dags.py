"""Build one OCDS DAG per data domain from a list of endpoint tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import DAG, Param

from retail_provider.ocds.catalog import MAX_LIMIT, get_endpoint
from retail_provider.ocds.feeds import RUN_FILTER_TEMPLATES, filter_params
from retail_provider.ocds.hook import OcdsHook
from retail_provider.ocds.operators import DEFAULT_LAG, OcdsIncrementalSyncOperator
from retail_provider.ocds.sync import SCHEMA
from retail_provider.orchestration.dag_defaults import selection_param, sync_dag, time_param
from retail_provider.warehouse import WAREHOUSE_CONN_ID

POOL = "ocds_api"


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


def _doc(title: str, summary: str, tasks: list[EndpointTask], schedule: str) -> str:
    rows = []
    for t in tasks:
        ep = get_endpoint(t.endpoint)
        filters = ", ".join(f"{k}={v}" for k, v in sorted(t.filters.items())) or "-"
        rows.append(f"| `{t.id}` | `v2/{ep.path}` | {filters} | `{SCHEMA}.{ep.table}` | {', '.join(ep.key)} | {ep.mode} |")
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
    ocds_conn_id: str = OcdsHook.default_conn_name,
    postgres_conn_id: str = WAREHOUSE_CONN_ID,
    pool: str | None = POOL,
    **dag_kwargs: Any,
) -> DAG:
    """A DAG with one :class:`OcdsIncrementalSyncOperator` per task, and Params for manual resyncs."""
    endpoints = [get_endpoint(t.endpoint).name for t in tasks]
    # each endpoint once; the task ids too where one endpoint has several tasks (item_price per price type)
    names = [*endpoints, *(t.id for t, e in zip(tasks, endpoints) if endpoints.count(e) > 1)]
    run_filters = filter_params([t.endpoint for t in tasks])  # nodelevel/nodeid, severity, entitytype
    with sync_dag(
        dag_id,
        cron=cron,
        tags=["ocds", "oracle-retail", *(tags or [])],
        task_defaults={"pool": pool} if pool else None,
        doc_md=_doc(title, summary, tasks, cron),
        description=dag_kwargs.pop("description", summary),
        params={
            "endpoint": selection_param(names, what="endpoint"),
            "since": time_param("Since", "Resync from this time (with its zone) instead of the watermark."),
            "before": time_param("Before", "End of the window (excluded); default: now minus the safety lag."),
            "full_refresh": Param(False, type="boolean",
                                  description="Reload from the epoch and delete rows the source no longer has."),
            "safety_lag_seconds": Param(int(DEFAULT_LAG.total_seconds()), type="integer", minimum=0,
                                        description="The window ends this many seconds before now, so "
                                        "changes still in flight at the source are left to the next run."),
            "page_size": Param(None, type=["null", "integer"], minimum=1, maximum=MAX_LIMIT,
                               description="Rows per OCDS page (server default 10,000)."),
            **run_filters,
        },
        **dag_kwargs,
    ) as dag:
        for t in tasks:
            OcdsIncrementalSyncOperator(
                task_id=t.id,
                endpoint=t.endpoint,
                filters=t.filters,
                run_filters={name: RUN_FILTER_TEMPLATES[name] for name in run_filters},
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
