"""The RetailNext traffic and occupancy DAGs: plan, fan out over store batches, advance.

Traffic: a planning task turns the watermark (the last day whose points are all final)
into a window ``[watermark + 1, today + 2)`` and batches of stores; one mapped
:class:`DatamineToPostgresOperator` per batch and grain loads it (dynamic task mapping,
so a large estate spreads over Celery workers); a last task moves the watermark to the
last day that every batch reports final.  Days whose points are still ``incomplete`` or
``imputed`` therefore stay in the window and are read again on the next runs, until they
are complete or older than the validity lookback.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import DAG, CronDataIntervalTimetable, Param, get_current_context, task

from retail_provider.http.errors import InputValidationError
from retail_provider.ocds.dags import START, default_args
from retail_provider.retailnext.datamine.operator import DatamineToPostgresOperator, last_final_day

TRAFFIC_WATERMARK = "retailnext_watermark__traffic"
LOCAL_OCCUPANCY = {
    "metrics": ["total_occupancy", "occupancy_limit"],
    "date_ranges": [{"from": {"name": "today"}, "to": {"name": "now"}}],
    "time_ranges": [{"type": "store_hours"}],
    "group_bys": [{"group": "location", "unit": "", "value": 0}],
    "time_zone": "local",
}


def _day(value: Any, name: str) -> date | None:
    if value in (None, "", "None"):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InputValidationError(f"{name} must be a date yyyy-mm-dd (got {value!r})", api="retailnext") from None


def _batches(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _stores(conn_id: str, params: dict[str, Any]) -> list[str]:
    from retail_provider.retailnext.hook import RetailNextHook

    given = [s.strip() for s in str(params.get("stores") or "").split(",") if s.strip()]
    if given:
        return given
    with RetailNextHook(conn_id) as hook:
        return [x.uuid for x in hook.query_locations(location_types=["store"])]


def build_traffic_dag(
    dag_id: str = "retailnext_traffic",
    *,
    cron: str = "0 6 * * *",
    retailnext_conn_id: str = "retailnext_default",
    postgres_conn_id: str = "warehouse_default",
    lookback_days: int = 7,
    initial_days: int = 7,
    location_batch_size: int = 50,
) -> DAG:
    doc = f"""# RetailNext store traffic

Datamine `traffic_in` and `traffic_out` per store at **daily** (`retailnext.traffic_daily`) and
**hourly** (`retailnext.traffic_hourly`) grain, in each store's own time zone, keyed by
location, metric, period start and slot, with the API's `validity`.

* `plan_window`: window `[watermark + 1 day, today + 2 days)` (watermark Variable
  `{TRAFFIC_WATERMARK}` = the last day whose points are all complete), batches of
  {location_batch_size} stores.
* `load_daily` / `load_hourly`: one mapped task per batch (dynamic task mapping); each
  request stays under the 10,000-point cap and the range limits.
* `advance_watermark`: the last day every batch reports complete (days older than the
  {lookback_days}-day validity lookback count once loaded). `incomplete`/`imputed` points
  are therefore re-read on the next runs until complete.
* `report_stale_validity`: a data alert (e-mail/webhook, as configured for failures) for
  points that are still not complete when they leave the lookback.

**Backfill**: Params `date_from`/`date_to` (yyyy-mm-dd, `date_to` exclusive) and optionally
`stores` (comma separated uuids); or `airflow backfill create` (each data interval is a
window). Re-running a window changes nothing.
"""
    with DAG(
        dag_id=dag_id,
        schedule=CronDataIntervalTimetable(cron, timezone="UTC"),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["retailnext", "traffic", "datamine"],
        default_args=default_args(),
        doc_md=doc,
        params={
            "date_from": Param(None, type=["null", "string"], format="date",
                               description="First day to (re)load, yyyy-mm-dd; default: the day after the watermark."),
            "date_to": Param(None, type=["null", "string"], format="date",
                             description="Day after the last one, yyyy-mm-dd; default: today + 2."),
            "stores": Param(None, type=["null", "string"], description="Comma-separated store uuids; default all."),
        },
    ) as dag:

        @task
        def plan_window() -> dict[str, Any]:
            from airflow.sdk import Variable

            context = get_current_context()
            params = context["params"]
            today = datetime.now(UTC).date()
            start, end = _day(params.get("date_from"), "date_from"), _day(params.get("date_to"), "date_to")
            dag_run = context.get("dag_run")
            if start is None and "backfill" in str(getattr(dag_run, "run_type", "")).lower():
                start = context["data_interval_start"].date()
                end = end or context["data_interval_end"].date()
            stored = Variable.get(TRAFFIC_WATERMARK, default=None)
            watermark = _day(stored, f"Variable {TRAFFIC_WATERMARK}")
            if start is None:
                start = watermark + timedelta(days=1) if watermark else today - timedelta(days=initial_days)
            end = end or today + timedelta(days=2)
            if end <= start:
                raise InputValidationError(f"date_to ({end}) must be after date_from ({start})", api="retailnext")
            stores = _stores(retailnext_conn_id, params)
            batches = [{"locations": b, "date_from": start.isoformat(), "date_to": end.isoformat()}
                       for b in _batches(stores, location_batch_size)]
            return {"start": start.isoformat(), "end": end.isoformat(), "batches": batches,
                    "watermark": watermark.isoformat() if watermark else None}

        @task
        def batches(window: dict[str, Any]) -> list[dict[str, Any]]:
            return window["batches"]

        window = plan_window()
        work = batches(window)
        loads = [
            DatamineToPostgresOperator.partial(
                task_id=f"load_{grain_name}",
                table=f"traffic_{grain_name}",
                grain=grain,
                retailnext_conn_id=retailnext_conn_id,
                postgres_conn_id=postgres_conn_id,
            ).expand_kwargs(work)
            for grain, grain_name in (("day", "daily"), ("hour", "hourly"))
        ]

        @task
        def advance_watermark(window: dict[str, Any], daily: list, hourly: list) -> str | None:
            from airflow.sdk import Variable

            start, end = date.fromisoformat(window["start"]), date.fromisoformat(window["end"])
            current = _day(window.get("watermark"), "watermark")
            if current is not None and start > current + timedelta(days=1):
                print(f"window starts after the watermark {current}: it stays (no gap)")
                return current.isoformat()
            floor = datetime.now(UTC).date() - timedelta(days=lookback_days)
            final = last_final_day([*daily, *hourly], start, end, final_before=floor)
            if final is None or (current is not None and final <= current):
                print(f"watermark stays at {current}")
                return current.isoformat() if current else None
            Variable.set(TRAFFIC_WATERMARK, final.isoformat())
            if Variable.get(TRAFFIC_WATERMARK, default=None) != final.isoformat():
                raise RuntimeError(f"watermark Variable {TRAFFIC_WATERMARK} was not stored")
            print(f"watermark advanced to {final}")
            return final.isoformat()

        @task
        def report_stale_validity() -> int:
            """Data alert: points still not complete once they leave the lookback (each day once)."""
            from airflow.providers.postgres.hooks.postgres import PostgresHook

            from retail_provider.retailnext.data_alerts import check_stale_validity, notify_stale_validity

            conn = PostgresHook(postgres_conn_id=postgres_conn_id).get_conn()
            try:
                rows = check_stale_validity(conn, "traffic_daily", lookback_days, horizon_days=1)
            finally:
                conn.close()
            if rows:
                notify_stale_validity(rows, get_current_context(), table="traffic_daily", lookback_days=lookback_days)
            return sum(r.points for r in rows)

        advance_watermark(window, loads[0].output, loads[1].output) >> report_stale_validity()
    return dag


def build_occupancy_dag(
    dag_id: str = "retailnext_occupancy",
    *,
    cron: str = "*/15 * * * *",
    retailnext_conn_id: str = "retailnext_default",
    postgres_conn_id: str = "warehouse_default",
    location_batch_size: int = 100,
) -> DAG:
    doc = """# RetailNext occupancy

Every 15 minutes: current `total_occupancy` and `occupancy_limit` per store, using the
documented `"time_zone": "local"` form (today to now, store hours, grouped by location),
so no store time zone is needed. Rows land in `retailnext.occupancy` keyed by location,
metric and observation time (UTC, 15-minute bucket): a history of occupancy snapshots.
Stores are batched and the batches run as mapped tasks.
"""
    with DAG(
        dag_id=dag_id,
        schedule=CronDataIntervalTimetable(cron, timezone="UTC"),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["retailnext", "occupancy", "datamine"],
        default_args=default_args(retries=1),
        doc_md=doc,
        params={"stores": Param(None, type=["null", "string"], description="Comma-separated store uuids; default all.")},
    ) as dag:

        @task
        def store_batches() -> list[dict[str, Any]]:
            context = get_current_context()
            stores = _stores(retailnext_conn_id, context["params"])
            return [{"locations": b} for b in _batches(stores, location_batch_size)]

        DatamineToPostgresOperator.partial(
            task_id="load_occupancy",
            table="occupancy",
            request=LOCAL_OCCUPANCY,
            observed_at=True,
            retailnext_conn_id=retailnext_conn_id,
            postgres_conn_id=postgres_conn_id,
        ).expand_kwargs(store_batches())
    return dag
