"""Manually triggered RetailNext DAGs: video export, stream links, and the write endpoints."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from retail_provider.ocds.dags import START, default_args
from retail_provider.retailnext.video.operators import (
    HlsStreamLinksOperator,
    VideoExportDownloadOperator,
    VideoExportStartOperator,
)
from retail_provider.retailnext.video.sensor import VideoExportSensor
from retail_provider.retailnext.writes.operators import (
    RetailNextBulkLocationUpdateOperator,
    RetailNextLocationCreateOperator,
    RetailNextLocationUpdateOperator,
    RetailNextOccupancyAdjustOperator,
    RetailNextUserCreateOperator,
    RetailNextUserUpdateOperator,
)

DEFAULT_EXPORT_DIR = "/tmp/retailnext-exports"
DRY_RUN = Param(True, type="boolean", description="Validate and show what would change, without writing.")


def _manual_dag(dag_id: str, doc: str, tags: list[str], params: dict[str, Param], **kwargs: Any) -> DAG:
    return DAG(dag_id=dag_id, schedule=None, start_date=START, catchup=False, max_active_runs=1,
               tags=["retailnext", *tags], default_args=default_args(**kwargs), doc_md=doc, params=params,
               render_template_as_native_obj=True)


def build_video_export_dag(
    dag_id: str = "retailnext_video_export",
    *,
    poll_seconds: float | None = None,
    timeout_seconds: float | None = None,
    export_dir: str | None = None,
) -> DAG:
    """:param poll_seconds: seconds between polls (default ``RETAIL_VIDEO_POLL_SECONDS`` or 30, read at parse time).
    :param timeout_seconds: the sensors' timeout (default ``RETAIL_VIDEO_TIMEOUT_SECONDS`` or 3600).
    :param export_dir: default download folder (default ``RETAIL_EXPORT_DIR`` or /tmp/retailnext-exports)."""
    poll_seconds = poll_seconds or float(os.environ.get("RETAIL_VIDEO_POLL_SECONDS", "30"))
    timeout_seconds = timeout_seconds or float(os.environ.get("RETAIL_VIDEO_TIMEOUT_SECONDS", "3600"))
    export_dir = export_dir or os.environ.get("RETAIL_EXPORT_DIR", DEFAULT_EXPORT_DIR)
    doc = f"""# RetailNext video export

Trigger with Params: `channels` (1 to 16 channel uuids of one store appliance), `start`/`end`
(ISO 8601 with a zone), overlays, `raw`, `resolution` (several channels only), `destination`
(a local path or an object storage URL such as `s3://bucket/exports/{{export_id}}.mp4`;
default `{export_dir}/{{export_id}}.mp4`) and how to wait (`wait_mode`: `deferrable` frees
the worker slot, `reschedule` frees it between polls, `poke` keeps it).

`start_export` → `wait_<mode>` (202 waits, 302 is ready, 404 fails as expired, 424 fails with
the reason) → `download` (streams the file, checks its size, then deletes the export).
"""
    params = {
        "channels": Param([], type="array", items={"type": "string"}, minItems=1, maxItems=16,
                          description="Video channel uuids (1 to 16, same appliance)."),
        "start": Param("", type="string", description="Export start, ISO 8601 with a zone."),
        "end": Param("", type="string", description="Export end, ISO 8601 with a zone."),
        "analytics_overlay": Param(False, type="boolean"),
        "info_overlay": Param(False, type="boolean"),
        "raw": Param(False, type="boolean"),
        "resolution": Param(None, type=["null", "string"], description="WIDTHxHEIGHT, several channels only."),
        "destination": Param(f"{export_dir}/{{export_id}}.mp4", type="string"),
        "wait_mode": Param("deferrable", enum=["deferrable", "reschedule", "poke"]),
    }
    with _manual_dag(dag_id, doc, ["video"], params, retries=1) as dag:
        start = VideoExportStartOperator(
            task_id="start_export", channels="{{ params.channels }}", start="{{ params.start }}",
            end="{{ params.end }}", analytics_overlay="{{ params.analytics_overlay }}",
            info_overlay="{{ params.info_overlay }}", raw="{{ params.raw }}", resolution="{{ params.resolution }}",
        )

        @task.branch
        def choose_wait(params: dict[str, Any] | None = None) -> str:
            return f"wait_{(params or {}).get('wait_mode', 'deferrable')}"

        sensors = [
            VideoExportSensor(
                task_id=f"wait_{mode}", export_id=start.output, deferrable=mode == "deferrable",
                mode="reschedule" if mode == "reschedule" else "poke",
                poke_interval=poll_seconds, timeout=timeout_seconds,
            )
            for mode in ("deferrable", "reschedule", "poke")
        ]
        download = VideoExportDownloadOperator(
            task_id="download", export_id=start.output, destination="{{ params.destination }}",
            trigger_rule="none_failed_min_one_success",
        )
        branch = choose_wait()
        start >> branch >> sensors >> download
    return dag


def build_stream_links_dag(dag_id: str = "retailnext_stream_links") -> DAG:
    doc = """# RetailNext HLS stream links

Publishes the current HLS link (`v1/hls/<channel>.m3u8`) of every video channel of a store,
as this task's XCom. Stream tokens are secrets: they are masked in logs and left out of the
links unless `include_tokens` is set.
"""
    params = {"store_uuid": Param("", type="string", minLength=1),
              "include_tokens": Param(False, type="boolean")}
    with _manual_dag(dag_id, doc, ["video", "hls"], params) as dag:
        HlsStreamLinksOperator(task_id="publish_links", store_uuid="{{ params.store_uuid }}",
                               include_tokens="{{ params.include_tokens }}")
    return dag


def build_location_admin_dag(dag_id: str = "retailnext_location_admin") -> DAG:
    doc = """# RetailNext location changes

* `create`: a sublocation (entrance, fitting_room, display, other) under a store, or a region
  under a region (`fields`: name, parent_uuid, location_type, area, aggregate_to_parent,
  aggregate_to_store);
* `update`: `location_uuid` and `fields` (name, parent_uuid, location_type, area,
  occupancy_limit, bandwidth_limit_kilobits_per_second, aggregation flags);
* `bulk_update`: `csv_path`, a CSV with a `site_uuid` column and one column per field (the
  reference's occupancy-limit example).

`dry_run` (default on) shows the change without making it. Every change is recorded in
`retailnext.write_audit`.
"""
    params = {
        "action": Param("update", enum=["create", "update", "bulk_update"]),
        "location_uuid": Param(None, type=["null", "string"]),
        "fields": Param({}, type="object"),
        "csv_path": Param(None, type=["null", "string"]),
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
(default now). RetailNext accepts it only within store hours and for stores with an
occupancy limit; both are checked first. `dry_run` shows it without sending it.
"""
    params = {"store_uuid": Param("", type="string", minLength=1),
              "adjustment_count": Param(1, type="integer", description="Non-zero; negative lowers occupancy."),
              "adjustment_time": Param(None, type=["null", "string"]),
              "dry_run": DRY_RUN}
    with _manual_dag(dag_id, doc, ["admin", "writes", "occupancy"], params, retries=0) as dag:
        RetailNextOccupancyAdjustOperator(
            task_id="adjust", store_uuid="{{ params.store_uuid }}", adjustment_count="{{ params.adjustment_count }}",
            adjustment_time="{{ params.adjustment_time }}", dry_run="{{ params.dry_run }}")
    return dag


def build_user_admin_dag(dag_id: str = "retailnext_user_admin") -> DAG:
    doc = """# RetailNext users

* `create`: an SSO user (`fields`: email, name, disabled, user_profile_id and either
  location_profile_id or location_ids);
* `update`: `user_id` and `fields` (user_profile_id, location_profile_id or custom location_ids).

`dry_run` (default on) shows the change without making it; changes are audited in
`retailnext.write_audit`.
"""
    params = {"action": Param("update", enum=["create", "update"]),
              "user_id": Param(None, type=["null", "string"]),
              "fields": Param({}, type="object"),
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
