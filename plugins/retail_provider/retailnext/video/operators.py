"""Video export operators (start, download) and HLS stream links."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator
from pydantic import ValidationError

from retail_provider.http.errors import InputValidationError
from retail_provider.orchestration.failures import fail_fast
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.video.models import VideoExportRequest


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _channels(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()]
    return list(value or [])


def build_export_request(channels: Any, start: Any, end: Any, analytics_overlay: Any = False,
                         info_overlay: Any = False, raw: Any = False, resolution: Any = None) -> VideoExportRequest:
    """Validate the export parameters (1 to 16 channels, end after start, ISO 8601 times with a
    zone, resolution only with several channels) before anything is sent."""
    try:
        return VideoExportRequest(
            channel=_channels(channels), start=start, end=end, analytics_overlay=_flag(analytics_overlay),
            info_overlay=_flag(info_overlay), raw=_flag(raw), resolution=resolution or None,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "request"
        raise InputValidationError(f"video export: {where}: {first.get('msg')}", api="retailnext") from None


class VideoExportStartOperator(BaseOperator):
    """Start a RetailNext video export and return its id.

    :param channels: 1 to 16 video channel uuids of one store appliance (list or comma separated). (templated)
    :param start: export start, ISO 8601 with a zone. (templated)
    :param end: export end, after ``start``. (templated)
    :param analytics_overlay: tracks, lines and zones on the video. (templated)
    :param info_overlay: channel name and time on the video. (templated)
    :param raw: raw video (troubleshooting only). (templated)
    :param resolution: ``WIDTHxHEIGHT``, only with several channels (default 1024x768). (templated)
    """

    template_fields: Sequence[str] = ("channels", "start", "end", "analytics_overlay", "info_overlay", "raw",
                                      "resolution")

    def __init__(self, *, channels: Any, start: Any, end: Any, analytics_overlay: Any = False,
                 info_overlay: Any = False, raw: Any = False, resolution: Any = None,
                 retailnext_conn_id: str = RetailNextHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.channels, self.start, self.end = channels, start, end
        self.analytics_overlay, self.info_overlay, self.raw, self.resolution = (
            analytics_overlay, info_overlay, raw, resolution)
        self.retailnext_conn_id = retailnext_conn_id

    @fail_fast
    def execute(self, context: Any) -> str:
        request = build_export_request(self.channels, self.start, self.end, self.analytics_overlay,
                                       self.info_overlay, self.raw, self.resolution)
        with RetailNextHook(self.retailnext_conn_id) as hook:
            export_id = hook.start_video_export(request)
        self.log.info("started video export %s of %d channel(s)", export_id, len(request.channel))
        return export_id


class VideoExportDownloadOperator(BaseOperator):
    """Stream a ready export to ``destination``, verify its size, then delete the export task.

    :param export_id: the export. (templated)
    :param destination: a local path or an ``ObjectStoragePath`` URL such as ``s3://bucket/key.mp4``;
        ``{export_id}`` in it is replaced. (templated)
    :param delete_after: delete the export task once the file is safely written.
    """

    template_fields: Sequence[str] = ("export_id", "destination")

    def __init__(self, *, export_id: str, destination: str, delete_after: bool = True,
                 retailnext_conn_id: str = RetailNextHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.export_id = export_id
        self.destination = destination
        self.delete_after = delete_after
        self.retailnext_conn_id = retailnext_conn_id

    def _target(self) -> Any:
        text = str(self.destination or "").strip().replace("{export_id}", str(self.export_id))
        if not text:
            raise InputValidationError("destination must be a path or an object storage URL", api="retailnext")
        if "://" in text:
            from airflow.sdk import ObjectStoragePath

            return ObjectStoragePath(text)
        return text

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        target = self._target()
        with RetailNextHook(self.retailnext_conn_id) as hook:
            result = hook.download_video_export(str(self.export_id), target)
            if self.delete_after:
                hook.delete_video_export(str(self.export_id))
        self.log.info("downloaded video export %s: %d bytes to %s", self.export_id, result.bytes, result.path)
        return {"export_id": str(self.export_id), "path": result.path, "bytes": result.bytes,
                "sha256": result.sha256, "deleted": self.delete_after}


class HlsStreamLinksOperator(BaseOperator):
    """Publish the current HLS stream link of every video channel of a store.

    The links go to XCom (and the task log) *without* their token unless
    ``include_tokens`` is set: the token opens the video, so it is a secret (and is masked
    in logs either way).

    :param store_uuid: the store. (templated)
    :param include_tokens: put the token in the published links. (templated)
    """

    template_fields: Sequence[str] = ("store_uuid", "include_tokens")

    def __init__(self, *, store_uuid: str, include_tokens: Any = False,
                 retailnext_conn_id: str = RetailNextHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store_uuid = store_uuid
        self.include_tokens = include_tokens
        self.retailnext_conn_id = retailnext_conn_id

    @fail_fast
    def execute(self, context: Any) -> list[dict[str, Any]]:
        if not str(self.store_uuid or "").strip():
            raise InputValidationError("store_uuid is required", api="retailnext")
        include = _flag(self.include_tokens)
        with RetailNextHook(self.retailnext_conn_id) as hook:
            cameras = [c for page in hook.iter_inventory("cameras", store_uuid=self.store_uuid) for c in page]
            names = {c["channel_uuid"]: c.get("name") for page in hook.iter_inventory(
                "channels", store_uuid=self.store_uuid) for c in page}
            token = hook.hls_token(self.store_uuid)
            links = []
            for camera in cameras:
                for channel in camera.get("video_channel_uuids") or []:
                    links.append({
                        "channel_uuid": channel,
                        "channel_name": names.get(channel),
                        "device_name": camera.get("device_name"),
                        "url": hook.hls_url(channel, token if include else None),
                        "token_included": include,
                    })
        self.log.info("%d stream links for store %s (tokens %s)", len(links), self.store_uuid,
                      "included" if include else "withheld")
        return links
