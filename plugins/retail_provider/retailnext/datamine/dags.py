"""The RetailNext traffic and occupancy DAGs: plan, fan out over store batches, advance.

Traffic: a planning task turns the watermark (the last day whose points are all final)
into a window ``[watermark + 1, today + 2)`` and batches of stores of one time zone, per
chosen grain, after checking every input (:mod:`.window`); one mapped
:class:`DatamineToPostgresOperator` per batch and grain loads it (dynamic task mapping, so a
large estate spreads over Celery workers); a last task moves the watermark to the last day
that every batch reports final.  Days whose points are still ``incomplete`` or ``imputed``
therefore stay in the window and are read again on the next runs, until they are complete
or older than the validity lookback.  The metrics (``metrics`` Param, a multi-select of the
catalogue) and grains (``grain`` Param) default to the builder's configured sets.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, get_current_context, task

from retail_provider.orchestration.assets import table_asset, table_assets
from retail_provider.orchestration.dag_defaults import sync_dag
from retail_provider.orchestration.failures import fail_fast
from retail_provider.retailnext.datamine.catalog import DEFAULT_METRICS, WINDOW_METRICS
from retail_provider.retailnext.datamine.grains import DEFAULT_GRAINS, GRAINS
from retail_provider.retailnext.datamine.load import last_final_day
from retail_provider.retailnext.datamine.operator import DatamineToPostgresOperator
from retail_provider.retailnext.datamine.window import TRAFFIC_WATERMARK, plan_traffic_window, traffic_watermark
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.operators import parse_stores
from retail_provider.retailnext.stores import batches, store_zones
from retail_provider.warehouse import WAREHOUSE_CONN_ID

log = logging.getLogger(__name__)
RN_CONN = RetailNextHook.default_conn_name
LOCAL_OCCUPANCY = {
    "metrics": ["total_occupancy", "occupancy_limit"],
    "date_ranges": [{"from": {"name": "today"}, "to": {"name": "now"}}],
    "time_ranges": [{"type": "store_hours"}],
    "group_bys": [{"group": "location", "unit": "", "value": 0}],
    "time_zone": "local",
}
STORES_PARAM = Param(None, type=["null", "string"], description="Comma-separated store uuids; default all.")


def traffic_doc(lookback_days: int, location_batch_size: int, metrics: list[str], grains: list[str]) -> str:
    return TRAFFIC_DOC.format(watermark=TRAFFIC_WATERMARK, lookback_days=lookback_days,
                              location_batch_size=location_batch_size, metrics=", ".join(metrics),
                              grains=", ".join(grains), tables=", ".join(GRAINS[g].table for g in grains))


def traffic_params(metrics: list[str], grains: list[str]) -> dict[str, Param]:
    return {
        "date_from": Param(None, type=["null", "string"], format="date",
                           description="First day to (re)load, yyyy-mm-dd; default: the day after the watermark."),
        "date_to": Param(None, type=["null", "string"], format="date",
                         description="Day after the last one, yyyy-mm-dd; default: today + 2."),
        "stores": STORES_PARAM,
        "metrics": Param(metrics, type="array", examples=list(WINDOW_METRICS),
                         items={"type": "string", "enum": list(WINDOW_METRICS)}, minItems=1,
                         description="Datamine metrics to load (the catalogue); default: the configured set. "
                                     "Only a run of the configured metrics and grains moves the watermark."),
        "grain": Param(grains, type="array", examples=list(GRAINS), items={"type": "string", "enum": list(GRAINS)},
                       minItems=1, description="Grains: 15min, hour, day, week, month, day_of_week (one table each)."),
    }


def build_traffic_dag(dag_id: str = "retailnext_traffic", *, cron: str = "0 6 * * *",
                      retailnext_conn_id: str = RN_CONN, postgres_conn_id: str = WAREHOUSE_CONN_ID,
                      lookback_days: int = 7, initial_days: int = 7, location_batch_size: int = 50,
                      metrics: list[str] | tuple[str, ...] = DEFAULT_METRICS,
                      grains: list[str] | tuple[str, ...] = DEFAULT_GRAINS) -> DAG:
    metrics, grains = list(metrics), list(grains)
    params = traffic_params(metrics, grains)
    with sync_dag(dag_id, cron=cron, tags=["retailnext", "traffic", "datamine"],
                  doc_md=traffic_doc(lookback_days, location_batch_size, metrics, grains), params=params) as dag:

        @task
        @fail_fast
        def plan_window() -> dict[str, Any]:
            return plan_traffic_window(get_current_context(), lambda: RetailNextHook(retailnext_conn_id),
                                       initial_days=initial_days, batch_size=location_batch_size,
                                       metrics=metrics, grains=grains)

        @task(task_id="batches")
        def batches_of(window: dict[str, Any]) -> list[dict[str, Any]]:
            return window["batches"]

        window = plan_window()
        loads = DatamineToPostgresOperator.partial(
            task_id="load", retailnext_conn_id=retailnext_conn_id, postgres_conn_id=postgres_conn_id,
            outlets=table_assets([f"retailnext.{g.table}" for g in GRAINS.values()], postgres_conn_id),
        ).expand_kwargs(batches_of(window))

        @task
        def advance_watermark(window: dict[str, Any], results: list) -> str | None:
            start, end = date.fromisoformat(window["start"]), date.fromisoformat(window["end"])
            current = date.fromisoformat(window["watermark"]) if window.get("watermark") else None
            if not window.get("scheduled", True):
                log.info("this run loaded other metrics or grains than the configured ones: watermark stays at %s",
                         current)
                return current.isoformat() if current else None
            floor = datetime.now(UTC).date() - timedelta(days=lookback_days)
            final = last_final_day(list(results), start, end, final_before=floor)
            value = traffic_watermark(initial_days).advance(current, start, final)
            return value.isoformat() if value else None

        @task
        def report_stale_validity() -> int:
            """Data alert: points still not complete once they leave the lookback (each day once)."""
            from retail_provider.retailnext.data_alerts import report_stale_validity as report

            return report(postgres_conn_id, "traffic_daily", lookback_days, get_current_context())

        advance_watermark(window, loads.output) >> report_stale_validity()
    return dag


def build_occupancy_dag(dag_id: str = "retailnext_occupancy", *, cron: str = "*/15 * * * *",
                        retailnext_conn_id: str = RN_CONN, postgres_conn_id: str = WAREHOUSE_CONN_ID,
                        location_batch_size: int = 100) -> DAG:
    with sync_dag(dag_id, cron=cron, tags=["retailnext", "occupancy", "datamine"], doc_md=OCCUPANCY_DOC,
                  params={"stores": STORES_PARAM}, task_defaults={"retries": 1}) as dag:

        @task
        @fail_fast
        def store_batches() -> list[dict[str, Any]]:
            given = parse_stores(get_current_context()["params"].get("stores"))
            with RetailNextHook(retailnext_conn_id) as hook:
                stores = list(store_zones(hook, given))
            return [{"locations": b} for b in batches(stores, location_batch_size)]

        DatamineToPostgresOperator.partial(
            task_id="load_occupancy", table="occupancy", request=LOCAL_OCCUPANCY, observed_at=True,
            retailnext_conn_id=retailnext_conn_id, postgres_conn_id=postgres_conn_id,
            outlets=[table_asset("retailnext.occupancy", postgres_conn_id)],
        ).expand_kwargs(store_batches())
    return dag


TRAFFIC_DOC = """# RetailNext store traffic

Datamine metrics ({metrics} by default; Param `metrics` picks any set of the catalogue)
per store at the grains {grains} (Param `grain`: 15min, hour, day, week, month,
day_of_week; tables {tables} ...), in each store's own time zone (sent with every request),
keyed by location, metric, period start and slot, with the API's `validity`.

* `plan_window`: window `[watermark + 1 day, today + 2 days)` (watermark Variable
  `{watermark}` = the last day whose points are all final), widened to whole weeks or
  months for those grains; batches of {location_batch_size} stores of one time zone.
* `load`: one mapped task per batch and grain (dynamic task mapping); requests are
  planned from the true number of points, and an answer that is not whole is split and
  asked again, never loaded.
* `advance_watermark`: the last day every batch reports complete (days older than the
  {lookback_days}-day validity lookback count once loaded). `incomplete`/`imputed` points
  are therefore re-read on the next runs until complete.
* `report_stale_validity`: a data alert (e-mail/webhook, as configured for failures) for
  points that are still not complete when they leave the lookback.

**Backfill**: Params `date_from`/`date_to` (yyyy-mm-dd, `date_to` exclusive) and optionally
`stores` (comma separated uuids); or `airflow backfill create` (each data interval is a
window). Re-running a window changes nothing.
"""

OCCUPANCY_DOC = """# RetailNext occupancy

Every 15 minutes: current `total_occupancy` and `occupancy_limit` per store, using the
documented `"time_zone": "local"` form (today to now, store hours, grouped by location),
so no store time zone is needed. Rows land in `retailnext.occupancy` keyed by location,
metric and observation time (UTC, 15-minute bucket): a history of occupancy snapshots.
Stores are batched and the batches run as mapped tasks.
"""
