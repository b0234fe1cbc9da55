"""Build the RetailNext DAGs (everything but datamine): one small builder per DAG file.

Every DAG shares the provider's task defaults (:func:`retail_provider.orchestration.dag_defaults.default_args`:
owner, retries with the ``RETAIL_TASK_RETRIES`` override, timeouts), runs one at a time,
carries Params for manual runs and a ``doc_md`` with its tables and keys.  Tasks whose
endpoint allows only 3 concurrent requests per subscription (predicted traffic, cameras)
run in the Airflow pool ``retailnext_api`` (3 slots, ``config/pools.json``; by hand:
``airflow pools set retailnext_api 3 "RetailNext API"``), taking one slot per request they
run at once: predicted traffic 3, devices 1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param

from retail_provider.orchestration.dag_defaults import selection_param, sync_dag, time_param
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.models import V1_PAGE_LENGTH
from retail_provider.retailnext.operators import (
    MAX_ZONE_DAYS,
    RetailNextHealthAlertsOperator,
    RetailNextPredictedTrafficOperator,
    RetailNextSnapshotOperator,
    RetailNextStoreHoursOperator,
    RetailNextZoneTransitionsOperator,
)
from retail_provider.retailnext.tables import MODES as RESOURCE_MODES
from retail_provider.retailnext.tables import RESOURCES, SCHEMA, TABLES
from retail_provider.retailnext.zone_transitions import DWELLS, TRANSITIONS
from retail_provider.warehouse import WAREHOUSE_CONN_ID

POOL = "retailnext_api"
#: slots of the predicted-traffic task: it runs as many requests at once as the hook's cap (3),
#: and docs/operations.md sizes pool slots by concurrent requests
PREDICTION_SLOTS = 3
RN_CONN = RetailNextHook.default_conn_name
PG_CONN = WAREHOUSE_CONN_ID
MODES = {
    "snapshot": "full snapshot; rows the source no longer has are deleted",
    "window": "upsert by key; rows of the window the source no longer returns are deleted",
    "upsert": "upsert by key",
    "incremental": "incremental by creation time (watermark), upsert by key",
}
ENDPOINTS = {
    "locations": "GET v1/location + POST v2/location (store extra fields)",
    "users": "GET v1/users",
    "user_profiles": "GET v1/user_profiles",
    "location_profiles": "GET v1/location_profiles",
    "floorplans": "GET v1/fpafloorplans",
    "devices": "GET v1/inventory/cameras, channels, appliances",
    "store_hours": "POST v1/storehours",
    "predicted_traffic": "POST v1/predictedtraffic",
    "zone_transitions": "POST v1/zone_transitions",
    "health_alerts": "POST v1/healthalerts",
}


def page_length_param() -> Param:
    return Param(V1_PAGE_LENGTH, type="integer", minimum=1, maximum=V1_PAGE_LENGTH,
                 description="Entries per page of the v1 endpoints (at most 100).")


def stores_param() -> Param:
    return Param(None, type=["null", "string"],
                 description="Comma separated store uuids; empty: every active (not archived) store.")


def resource_param(names: list[str]) -> Param:
    return selection_param(names, what="resource")


def date_param(description: str) -> Param:
    return Param(None, type=["null", "string"], format="date", description=description)


def doc_md(title: str, summary: str, resources: list[str], cron: str, notes: list[str] | None = None) -> str:
    """The DAG's documentation: what it loads, its tables and keys, how to run it by hand."""
    rows = []
    for resource in resources:
        for table in RESOURCES[resource]:
            key = ", ".join(TABLES[table][1])
            rows.append(f"| `sync_{resource}` | `{ENDPOINTS[resource]}` | `{SCHEMA}.{table}` | {key} | "
                        f"{MODES[RESOURCE_MODES[resource]]} |")
    lines = [
        f"# {title}",
        "",
        summary,
        "",
        f"Schedule: `{cron}` (UTC). One transaction per task; every run is recorded in "
        "`retail_meta.sync_ledger` (vendor `retailnext`), one row per table.",
        "",
        "| task | endpoint | table | key | mode |",
        "| --- | --- | --- | --- | --- |",
        *rows,
    ]
    if notes:
        lines += ["", *notes]
    lines += ["", "Tables and keys: `docs/retailnext-tables.md`."]
    return "\n".join(lines)


def _dag(dag_id: str, *, cron: str, title: str, summary: str, resources: list[str], params: dict[str, Param],
         tags: list[str], notes: list[str] | None = None, task_defaults: dict[str, Any] | None = None,
         **dag_kwargs: Any) -> DAG:
    return sync_dag(dag_id, cron=cron, tags=["retailnext", *tags], doc_md=doc_md(title, summary, resources, cron, notes),
                    params=params, task_defaults=task_defaults, **{"description": summary, **dag_kwargs})


def _conns(retailnext_conn_id: str, postgres_conn_id: str) -> dict[str, str]:
    return {"retailnext_conn_id": retailnext_conn_id, "postgres_conn_id": postgres_conn_id}


STORE_HOURS_NOTES = [
    "**Store hours** are stored as the store's local wall-clock times (`timestamp`): the API writes "
    "them with a literal `Z` that does not mean UTC. Each run loads `first_day`..`last_day` "
    "(default 7 days back to 31 days ahead of today, UTC) for every active store.",
]


def build_locations_dag(dag_id: str = "retailnext_locations", *, cron: str = "0 3 * * *",
                        retailnext_conn_id: str = RN_CONN, postgres_conn_id: str = PG_CONN) -> DAG:
    """Locations (snapshot, plus the ``location_tree`` view) and store hours (a window of days)."""
    with _dag(
        dag_id, cron=cron, title="RetailNext locations and store hours",
        summary="Every location (regions, stores, sublocations, FPA zone locations) with the store fields "
                "(time zone, store id, POS ids, occupancy limit), the view `retailnext.location_tree` "
                "(depth, path of names, store of each sublocation), and store hours.",
        resources=["locations", "store_hours"], tags=["locations", "store-hours"],
        notes=[*STORE_HOURS_NOTES,
               "**Manual runs**: Params `resource` (one task or `all`), `first_day`/`last_day` "
               "(`yyyy-mm-dd`, store hours), `days_back`/`days_ahead`, `stores`, `page_length`."],
        params={
            "resource": resource_param(["locations", "store_hours"]),
            "first_day": date_param("Store hours from this day (default: today minus days_back)."),
            "last_day": date_param("Store hours through this day (default: today plus days_ahead)."),
            "days_back": Param(7, type="integer", minimum=0, maximum=366, description="Default window start."),
            "days_ahead": Param(31, type="integer", minimum=0, maximum=366, description="Default window end."),
            "stores": stores_param(),
            "page_length": page_length_param(),
        },
    ) as dag:
        conns = _conns(retailnext_conn_id, postgres_conn_id)
        RetailNextSnapshotOperator(task_id="sync_locations", resource="locations", selected="{{ params.resource }}",
                                   page_length="{{ params.page_length }}", **conns)
        RetailNextStoreHoursOperator(
            task_id="sync_store_hours", selected="{{ params.resource }}", page_length="{{ params.page_length }}",
            first_day="{{ params.first_day or '' }}", last_day="{{ params.last_day or '' }}",
            days_back="{{ params.days_back }}", days_ahead="{{ params.days_ahead }}",
            stores="{{ params.stores or '' }}", **conns,
        )
    return dag


def build_users_dag(dag_id: str = "retailnext_users", *, cron: str = "15 3 * * *",
                    retailnext_conn_id: str = RN_CONN, postgres_conn_id: str = PG_CONN) -> DAG:
    """Users, user profiles and location profiles (full snapshots)."""
    resources = ["users", "user_profiles", "location_profiles"]
    with _dag(
        dag_id, cron=cron, title="RetailNext users and profiles",
        summary="Users (local and SSO) with their user profile and location profile or custom locations, "
                "user profiles (permissions) and location profiles (the stores they grant).",
        resources=resources, tags=["users"],
        notes=["**Manual runs**: Params `resource` (one task or `all`) and `page_length`."],
        params={"resource": resource_param(resources), "page_length": page_length_param()},
    ) as dag:
        for resource in resources:
            RetailNextSnapshotOperator(task_id=f"sync_{resource}", resource=resource, selected="{{ params.resource }}",
                                       page_length="{{ params.page_length }}",
                                       **_conns(retailnext_conn_id, postgres_conn_id))
    return dag


def build_floorplans_dag(dag_id: str = "retailnext_floorplans", *, cron: str = "30 3 * * *",
                         retailnext_conn_id: str = RN_CONN, postgres_conn_id: str = PG_CONN) -> DAG:
    """FPA floorplans, their zones and the zones' polygon points (one snapshot, one transaction)."""
    with _dag(
        dag_id, cron=cron, title="RetailNext FPA floorplans",
        summary="FPA floorplans per store, their zones (type, zone location, area in cm², thresholds) "
                "and each zone's polygon as ordered points.",
        resources=["floorplans"], tags=["floorplans", "fpa"],
        notes=["**Manual runs**: Param `page_length`."],
        params={"page_length": page_length_param()},
    ) as dag:
        RetailNextSnapshotOperator(task_id="sync_floorplans", resource="floorplans",
                                   page_length="{{ params.page_length }}",
                                   **_conns(retailnext_conn_id, postgres_conn_id))
    return dag


def build_devices_dag(dag_id: str = "retailnext_devices", *, cron: str = "45 3 * * *",
                      retailnext_conn_id: str = RN_CONN, postgres_conn_id: str = PG_CONN) -> DAG:
    """Cameras, channels and appliances (one snapshot, one transaction, pool ``retailnext_api``)."""
    with _dag(
        dag_id, cron=cron, title="RetailNext devices",
        summary="The device inventory: cameras and sensors, their video channels, and store appliances.",
        resources=["devices"], tags=["devices", "inventory"],
        notes=[f"The cameras endpoint allows 3 concurrent requests: the task runs in the pool `{POOL}`.",
               "**Manual runs**: Param `page_length` (entries per inventory page)."],
        params={"page_length": page_length_param()},
    ) as dag:
        RetailNextSnapshotOperator(task_id="sync_devices", resource="devices", page_length="{{ params.page_length }}",
                                   pool=POOL, pool_slots=1, **_conns(retailnext_conn_id, postgres_conn_id))
    return dag


def build_health_alerts_dag(dag_id: str = "retailnext_health_alerts", *, cron: str = "*/15 * * * *",
                            retailnext_conn_id: str = RN_CONN, postgres_conn_id: str = PG_CONN,
                            on_new_alerts: Callable[[list[dict[str, Any]], Any], None] | None = None) -> DAG:
    """Health alerts every 15 minutes: incremental with a watermark, new unresolved alerts reported."""
    with _dag(
        dag_id, cron=cron, title="RetailNext health alerts",
        summary="Device and store health alerts, incremental by creation time. Each run re-reads "
                "`lookback_days` before the watermark Variable `retailnext_watermark__health_alerts` "
                "(resolving an alert does not change its creation time), and the watermark moves only "
                "after the warehouse commit. New unresolved alerts are logged as warnings and returned "
                "in the XCom (`new_alerts`).",
        resources=["health_alerts"], tags=["health", "alerts"],
        notes=["**Manual runs**: Params `since` (ISO-8601 with zone, re-read from then), `lookback_days`, "
               "`page_length`."],
        params={
            "since": time_param("Since", "Read alerts created at or after this time instead of the watermark."),
            "lookback_days": Param(7, type="integer", minimum=0, maximum=365,
                                   description="Days re-read before the watermark (to pick up resolutions)."),
            "page_length": page_length_param(),
        },
        task_defaults={"execution_timeout": timedelta(minutes=30)},
    ) as dag:
        RetailNextHealthAlertsOperator(
            task_id="sync_health_alerts", since="{{ params.since or '' }}", lookback_days="{{ params.lookback_days }}",
            page_length="{{ params.page_length }}", on_new_alerts=on_new_alerts,
            **_conns(retailnext_conn_id, postgres_conn_id),
        )
    return dag


def build_predicted_traffic_dag(dag_id: str = "retailnext_predicted_traffic", *, cron: str = "0 5 * * *",
                                retailnext_conn_id: str = RN_CONN, postgres_conn_id: str = PG_CONN) -> DAG:
    """Predicted traffic of the next 31 days per store (pool ``retailnext_api``)."""
    with _dag(
        dag_id, cron=cron, title="RetailNext predicted traffic",
        summary="Predicted traffic per store and 15-minute bucket for the next `days_ahead` days "
                "(from tomorrow in the store's time zone), in 7-day requests. `time` is the store's local "
                "wall-clock time; `predicted_at` is when the bucket's current value was first fetched.",
        resources=["predicted_traffic"], tags=["traffic", "predictions"],
        notes=[f"At most 3 concurrent requests per subscription: the hook caps them at 3 and the task takes "
               f"{PREDICTION_SLOTS} slots of the pool `{POOL}`.",
               "**Manual runs**: Params `stores` (comma separated uuids) and `days_ahead` (1 to 31)."],
        params={"stores": stores_param(),
                "days_ahead": Param(31, type="integer", minimum=1, maximum=31, description="Days from tomorrow.")},
    ) as dag:
        RetailNextPredictedTrafficOperator(
            task_id="sync_predicted_traffic", stores="{{ params.stores or '' }}",
            days_ahead="{{ params.days_ahead }}", pool=POOL, pool_slots=PREDICTION_SLOTS,
            **_conns(retailnext_conn_id, postgres_conn_id),
        )
    return dag


def build_zone_transitions_dag(dag_id: str = "retailnext_zone_transitions", *, cron: str = "0 12 * * *",
                               retailnext_conn_id: str = RN_CONN, postgres_conn_id: str = PG_CONN) -> DAG:
    """Zone transitions per store and day (default yesterday in each store's zone)."""
    with _dag(
        dag_id, cron=cron, title="RetailNext zone transitions",
        summary="Customer and employee transitions between the FPA zones of each store, per day "
                "(default: yesterday in each store's time zone; a backfill run loads its data interval's "
                "day), during store hours.",
        resources=["zone_transitions"], tags=["zones", "fpa"],
        notes=[f"**Manual runs**: Params `first_day`/`last_day` (`yyyy-mm-dd`, at most {MAX_ZONE_DAYS} days, "
               "not after today), `stores`, `transitions`, `dwells`. Days that have not ended yet in a "
               "store's zone are skipped for that store."],
        params={
            "first_day": date_param("First day (default: yesterday in each store's time zone)."),
            "last_day": date_param("Last day, included (default: first_day)."),
            "stores": stores_param(),
            "transitions": Param("direct_only", type="string", enum=list(TRANSITIONS),
                                 description="Which transitions are counted."),
            "dwells": Param("dwells_only", type="string", enum=list(DWELLS), description="Dwell filter."),
            "page_length": page_length_param(),
        },
    ) as dag:
        RetailNextZoneTransitionsOperator(
            task_id="sync_zone_transitions", first_day="{{ params.first_day or '' }}",
            last_day="{{ params.last_day or '' }}", stores="{{ params.stores or '' }}",
            transitions="{{ params.transitions }}", dwells="{{ params.dwells }}",
            page_length="{{ params.page_length }}", **_conns(retailnext_conn_id, postgres_conn_id),
        )
    return dag
