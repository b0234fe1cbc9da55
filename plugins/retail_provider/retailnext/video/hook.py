"""Video export and HLS stream links: the part of :class:`RetailNextHook` that handles video.

An export is a small asynchronous job: ``POST v1/video/export/start`` answers 201 with a
``location`` header ``/v1/video/export/task/<export_id>``.  Polling that task is read the
way the reference allows: 202 ("Accepted") or a 200/201 ``{"ok":true}`` without a
download location (the reference's own transcript) is in progress, 302 ("Found") carries
the download URL, 404 or 410 means expired (or unknown), 424 failed with a reason; a 5xx is
retried by the hook's policy and then fails (it is not "in progress").  Downloads stream to
a local path or an ``ObjectStoragePath`` and are checked against ``Content-Length``; a
download URL on another host must be HTTPS and gets no credentials.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from retail_provider.http.errors import (
    ApiError,
    InputValidationError,
    InvalidResponseError,
    error_from_response,
)
from retail_provider.orchestration.hook import mask_secret
from retail_provider.retailnext.models import check_id
from retail_provider.retailnext.reads import naming
from retail_provider.retailnext.video.models import HlsTokenRequest, VideoExportRequest

TASK_PATH = "v1/video/export/task/"
STATUS_CODES = (200, 201, 202, 302, 404, 410, 424)
IN_PROGRESS = (200, 201, 202)


@dataclass
class ExportStatus:
    """What polling an export task said."""

    state: Literal["in_progress", "ready", "expired", "failed"]
    download_url: str | None = None
    reason: str | None = None


@dataclass
class Download:
    path: str
    bytes: int
    sha256: str


def check_export_id(export_id: Any) -> str:
    return check_id(export_id, "export_id", "the id from the export's location header (letters, digits, '-', "
                    "'_', '.')")


def export_status_from(response: httpx.Response, export_id: str) -> ExportStatus:
    """Map a task poll: 200/201/202 in progress (unless a 200/201 names a download
    location other than the task itself), 302 ready, 404/410 expired, 424 failed."""
    code = response.status_code
    if code in IN_PROGRESS:
        location = response.headers.get("location") or ""
        if code != 202 and location and TASK_PATH + export_id not in location:
            return ExportStatus("ready", download_url=location)
        return ExportStatus("in_progress")
    if code == 302:
        location = response.headers.get("location")
        if not location:
            raise InvalidResponseError(f"retailnext export {export_id}: 302 without a location header",
                                       api="retailnext")
        return ExportStatus("ready", download_url=location)
    if code in (404, 410):
        return ExportStatus("expired", reason=f"video export {export_id} has expired or is unknown (HTTP {code})")
    if code == 424:
        try:
            reason = str(response.json().get("error") or response.text)
        except ValueError:
            reason = response.text
        return ExportStatus("failed", reason=f"video export {export_id} failed: {reason[:500]}")
    raise error_from_response(response, "retailnext")


class RetailNextVideoMixin:
    """Video export and HLS methods of :class:`~retail_provider.retailnext.hook.RetailNextHook`."""

    def start_video_export(self, request: VideoExportRequest) -> str:
        """Start an export; returns its id.  Not retried: a retry could start a second export."""
        response = self.request("POST", "v1/video/export/start", params=request.query(),  # type: ignore[attr-defined]
                                idempotent=False, ok_statuses=(201,))
        location = response.headers.get("location") or ""
        if TASK_PATH not in location:
            raise InvalidResponseError(
                f"retailnext video export started (HTTP {response.status_code}) without a task location header",
                api="retailnext")
        return check_export_id(location.rsplit("/", 1)[-1])

    def video_export_status(self, export_id: str) -> ExportStatus:
        """Poll the export task once (other statuses follow the retry rules: a 5xx is retried, then raised)."""
        export_id = check_export_id(export_id)
        response = self.request("GET", TASK_PATH + export_id, ok_statuses=STATUS_CODES)  # type: ignore[attr-defined]
        return export_status_from(response, export_id)

    def delete_video_export(self, export_id: str) -> None:
        export_id = check_export_id(export_id)
        self.request("DELETE", TASK_PATH + export_id, ok_statuses=(404,))  # type: ignore[attr-defined]

    def download_video_export(self, export_id: str, destination: Any, *, chunk_size: int = 1 << 20) -> Download:
        """Stream a ready export to ``destination`` (a path or an ``ObjectStoragePath``) and
        check its size; a partial file is removed."""
        status = self.video_export_status(export_id)
        if status.state != "ready":
            raise ApiError(status.reason or f"video export {export_id} is {status.state}, not ready",
                           api="retailnext")
        url = httpx.URL(str(self.get_client().base_url)).join(status.download_url)  # type: ignore[attr-defined]
        base = httpx.URL(self.base_url())  # type: ignore[attr-defined]
        same_origin = (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)
        if not same_origin and url.scheme != "https":
            raise InvalidResponseError(
                f"video export {export_id}: the download URL is on another host ({url.host}) over {url.scheme}; "
                "a download from another host must use https", api="retailnext")
        client = self.get_client() if same_origin else httpx.Client(
            timeout=self.timeout(), verify=self.verify())  # type: ignore[attr-defined]
        path = _as_path(destination)
        digest, written = hashlib.sha256(), 0
        try:
            with client.stream("GET", url) as response:
                if not response.is_success:
                    response.read()
                    raise error_from_response(response, "retailnext")
                expected = response.headers.get("content-length")
                with path.open("wb") as out:
                    for chunk in response.iter_bytes(chunk_size):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
            if expected is not None and int(expected) != written:
                raise InvalidResponseError(
                    f"video export {export_id}: downloaded {written} bytes but Content-Length was {expected}",
                    api="retailnext")
            if written == 0:
                raise InvalidResponseError(f"video export {export_id}: the download is empty", api="retailnext")
        except BaseException:
            _remove(path)
            raise
        finally:
            if not same_origin:
                client.close()
        return Download(str(path), written, digest.hexdigest())

    # -- HLS ------------------------------------------------------------------------------

    def hls_token(self, location_uuid: str) -> str:
        """A token to stream the video channels of a location (``v1/hlsapitoken``); masked in logs."""
        body = HlsTokenRequest(location_uuid=location_uuid).wire()
        with naming("location_uuid", location_uuid):
            _, data = self.call_json("POST", "v1/hlsapitoken", json=body)  # type: ignore[attr-defined]
        token = str((data or {}).get("token") or "")
        if not token:
            raise InvalidResponseError("retailnext hlsapitoken returned no token", api="retailnext")
        mask_secret(token)
        return token

    def hls_url(self, channel_uuid: str, token: str | None) -> str:
        """``.../v1/hls/<channel>.m3u8?token=...`` (without ``token``: the link without its secret)."""
        channel_uuid = check_id(channel_uuid, "channel_uuid")
        url = f"{self.base_url()}v1/hls/{channel_uuid}.m3u8"  # type: ignore[attr-defined]
        return f"{url}?token={token}" if token else url


def _as_path(destination: Any) -> Any:
    if hasattr(destination, "open") and hasattr(destination, "parent"):
        parent = destination.parent
        if hasattr(parent, "mkdir"):
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except Exception:  # object stores have no directories
                pass
        return destination
    from pathlib import Path

    path = Path(str(destination)).expanduser()
    if not str(destination).strip():
        raise InputValidationError("destination must be a path or an ObjectStoragePath", api="retailnext")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _remove(path: Any) -> None:
    try:
        if path.exists():
            path.unlink()
    except Exception:
        pass


