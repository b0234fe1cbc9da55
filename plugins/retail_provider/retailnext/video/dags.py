"""Manually triggered RetailNext video DAGs: a video export and the HLS stream links of a store."""

from __future__ import annotations

import os
from typing import Any

from airflow.sdk import DAG, Param, task

from retail_provider.orchestration.dag_defaults import sync_dag
from retail_provider.retailnext.video.operators import (
    HlsStreamLinksOperator,
    VideoExportDownloadOperator,
    VideoExportStartOperator,
)
from retail_provider.retailnext.video.sensor import VideoExportSensor

DEFAULT_EXPORT_DIR = "/tmp/retailnext-exports"


def _manual_dag(dag_id: str, doc: str, tags: list[str], params: dict[str, Param], **kwargs: Any) -> DAG:
    return sync_dag(dag_id, cron=None, tags=["retailnext", *tags], doc_md=doc, params=params, task_defaults=kwargs,
                    native=True)


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
    doc = EXPORT_DOC.format(export_dir=export_dir)
    params = {
        "channels": Param([], type="array", items={"type": "string"}, minItems=1, maxItems=16,
                          description="Video channel uuids (1 to 16, same appliance)."),
        "start": Param("", type="string", format="date-time", description="Export start, ISO 8601 with a zone."),
        "end": Param("", type="string", format="date-time", description="Export end, ISO 8601 with a zone."),
        "analytics_overlay": Param(False, type="boolean", description="Draw the analytics overlay on the video."),
        "info_overlay": Param(False, type="boolean", description="Draw the information overlay on the video."),
        "raw": Param(False, type="boolean", description="Export the raw stream instead of an MP4 file."),
        "resolution": Param(None, type=["null", "string"], description="WIDTHxHEIGHT, several channels only."),
        "destination": Param(f"{export_dir}/{{export_id}}.mp4", type="string",
                             description="Local path or object storage URL; {export_id} is replaced."),
        "wait_mode": Param("deferrable", enum=["deferrable", "reschedule", "poke"],
                           description="How to wait: deferrable frees the worker, reschedule between polls, "
                                       "poke keeps it."),
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
    params = {"store_uuid": Param("", type="string", minLength=1, description="The store whose channels to list."),
              "include_tokens": Param(False, type="boolean",
                                      description="Put the stream tokens (secrets) in the links.")}
    with _manual_dag(dag_id, doc, ["video", "hls"], params) as dag:
        HlsStreamLinksOperator(task_id="publish_links", store_uuid="{{ params.store_uuid }}",
                               include_tokens="{{ params.include_tokens }}")
    return dag


EXPORT_DOC = """# RetailNext video export

Trigger with Params: `channels` (1 to 16 channel uuids of one store appliance), `start`/`end`
(ISO 8601 with a zone), overlays, `raw`, `resolution` (several channels only), `destination`
(a local path or an object storage URL such as `s3://bucket/exports/{{export_id}}.mp4`;
default `{export_dir}/{{export_id}}.mp4`) and how to wait (`wait_mode`: `deferrable` frees
the worker slot, `reschedule` frees it between polls, `poke` keeps it).

`start_export` → `wait_<mode>` (202 waits, 302 is ready, 404 fails as expired, 424 fails with
the reason) → `download` (streams the file, checks its size, then deletes the export).
"""
