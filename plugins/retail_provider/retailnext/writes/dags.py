"""Manually triggered RetailNext write DAGs: locations, occupancy adjustments, users.

Writes are never retried by Airflow (a lost answer could mean the change happened) and
``dry_run`` is on by default.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from retail_provider.orchestration.dag_defaults import sync_dag
from retail_provider.retailnext.writes.operators import (
    RetailNextBulkLocationUpdateOperator,
    RetailNextLocationCreateOperator,
    RetailNextLocationUpdateOperator,
    RetailNextOccupancyAdjustOperator,
    RetailNextUserCreateOperator,
    RetailNextUserUpdateOperator,
)

DRY_RUN = Param(True, type="boolean", description="Validate and show what would change, without writing.")


def _manual_dag(dag_id: str, doc: str, tags: list[str], params: dict[str, Param], **kwargs: Any) -> DAG:
    return sync_dag(dag_id, cron=None, tags=["retailnext", *tags], doc_md=doc, params=params, task_defaults=kwargs,
                    native=True)


def build_location_admin_dag(dag_id: str = "retailnext_location_admin") -> DAG:
    doc = """# RetailNext location changes

* `create`: a sublocation (entrance, fitting_room, display, other) under a store, or a region
  under a region or at the top (`parent_uuid`: the subscription uuid, or `"organization"`)
  (`fields`: name, parent_uuid, location_type, area, aggregate_to_parent, aggregate_to_store);
* `update`: `location_uuid` and `fields` (name, parent_uuid, location_type, area,
  occupancy_limit, bandwidth_limit_kilobits_per_second, aggregation flags);
* `bulk_update`: `csv_path`, a CSV with a `site_uuid` column and one column per field (the
  reference's occupancy-limit example).

`dry_run` (default on) shows the change without making it. Every change is recorded in
`retailnext.write_audit`.
"""
    params = {
        "action": Param("update", enum=["create", "update", "bulk_update"], description="Which change to make."),
        "location_uuid": Param(None, type=["null", "string"], description="The location to update (update)."),
        "fields": Param({}, type="object", description="The location's fields to set (create, update)."),
        "csv_path": Param(None, type=["null", "string"],
                          description="CSV with site_uuid and one column per field (bulk_update)."),
        "dry_run": DRY_RUN,
    }
    with _manual_dag(dag_id, doc, ["admin", "writes", "locations"], params, retries=0) as dag:

        @task.branch
        def choose(params: dict[str, Any] | None = None) -> str:
            return (params or {}).get("action", "update")

        choose() >> [
            RetailNextLocationCreateOperator(task_id="create", location="{{ params.fields }}",
                                             dry_run="{{ params.dry_run }}"),
            RetailNextLocationUpdateOperator(task_id="update", location_uuid="{{ params.location_uuid }}",
                                             fields="{{ params.fields }}", dry_run="{{ params.dry_run }}"),
            RetailNextBulkLocationUpdateOperator(task_id="bulk_update", csv_path="{{ params.csv_path }}",
                                                 dry_run="{{ params.dry_run }}"),
        ]
    return dag


def build_occupancy_adjust_dag(dag_id: str = "retailnext_occupancy_adjust") -> DAG:
    doc = """# RetailNext occupancy adjustment

Adjusts a store's current occupancy by `adjustment_count` (non-zero) at `adjustment_time`
(or `adjustment_date`, the reference's other name for it; default now). The request
carries the time under both names, so it is not dropped whichever one RetailNext reads. RetailNext accepts it only within store hours and for stores with an
occupancy limit; both are checked first. `dry_run` shows it without sending it.
"""
    params = {"store_uuid": Param("", type="string", minLength=1, description="The store to adjust."),
              "adjustment_count": Param(1, type="integer", description="Non-zero; negative lowers occupancy."),
              "adjustment_time": Param(None, type=["null", "string"], format="date-time",
                                       description="When the adjustment applies (within store hours); default now."),
              "adjustment_date": Param(None, type=["null", "string"],
                                       description="The same time under the reference's other name (give one)."),
              "dry_run": DRY_RUN}
    with _manual_dag(dag_id, doc, ["admin", "writes", "occupancy"], params, retries=0) as dag:
        RetailNextOccupancyAdjustOperator(
            task_id="adjust", store_uuid="{{ params.store_uuid }}", adjustment_count="{{ params.adjustment_count }}",
            adjustment_time="{{ params.adjustment_time }}", adjustment_date="{{ params.adjustment_date }}",
            dry_run="{{ params.dry_run }}")
    return dag


def build_user_admin_dag(dag_id: str = "retailnext_user_admin") -> DAG:
    doc = """# RetailNext users

* `create`: an SSO user (`fields`: email, name, disabled, user_profile_id and either
  location_profile_id or location_ids);
* `update`: `user_id` and `fields` (user_profile_id, location_profile_id or custom location_ids).

`dry_run` (default on) shows the change without making it; changes are audited in
`retailnext.write_audit`.
"""
    params = {"action": Param("update", enum=["create", "update"], description="Which change to make."),
              "user_id": Param(None, type=["null", "string"], description="The user to update (update)."),
              "fields": Param({}, type="object", description="The user's fields to set (create, update)."),
              "dry_run": DRY_RUN}
    with _manual_dag(dag_id, doc, ["admin", "writes", "users"], params, retries=0,
                     execution_timeout=timedelta(minutes=10)) as dag:

        @task.branch
        def choose(params: dict[str, Any] | None = None) -> str:
            return (params or {}).get("action", "update")

        choose() >> [
            RetailNextUserCreateOperator(task_id="create", user="{{ params.fields }}", dry_run="{{ params.dry_run }}"),
            RetailNextUserUpdateOperator(task_id="update", user_id="{{ params.user_id }}",
                                         fields="{{ params.fields }}", dry_run="{{ params.dry_run }}"),
        ]
    return dag
