"""VideoExportTrigger: polls a RetailNext video export from the triggerer, asynchronously.

Runs in the triggerer's event loop: the connection comes from ``aget_connection`` and
requests go through an ``httpx.AsyncClient`` (never blocking calls).  Transient errors
(transport errors, 429, 5xx) are retried on the next poll, at most ``max_transient_errors``
times in a row (then the trigger reports the error: a server that keeps failing is not an
export in progress); the deadline ends the wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from airflow.triggers.base import BaseTrigger, TriggerEvent

from retail_provider.http.errors import RETRYABLE, ApiError
from retail_provider.retailnext.video.hook import TASK_PATH, check_export_id, export_status_from


class VideoExportTrigger(BaseTrigger):
    """Fire when the export is ready, failed or expired, or when ``deadline`` (epoch s) passes.

    :param retailnext_conn_id: connection of type ``retailnext``.
    :param export_id: the export to watch.
    :param poll_interval: seconds between polls.
    :param deadline: epoch seconds after which the trigger gives up (``None``: never).
    :param max_transient_errors: consecutive transient failures before it reports an error.
    """

    def __init__(self, retailnext_conn_id: str, export_id: str, poll_interval: float = 30.0,
                 deadline: float | None = None, max_transient_errors: int = 3) -> None:
        super().__init__()
        self.retailnext_conn_id = retailnext_conn_id
        self.export_id = export_id
        self.poll_interval = poll_interval
        self.deadline = deadline
        self.max_transient_errors = max_transient_errors

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "retail_provider.retailnext.video.trigger.VideoExportTrigger",
            {
                "retailnext_conn_id": self.retailnext_conn_id,
                "export_id": self.export_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "max_transient_errors": self.max_transient_errors,
            },
        )

    async def _client(self) -> httpx.AsyncClient:
        from airflow.sdk import BaseHook

        from retail_provider.retailnext.hook import RetailNextHook

        hook = RetailNextHook(self.retailnext_conn_id)
        conn = await BaseHook.aget_connection(self.retailnext_conn_id)
        hook.connection = conn  # the sync hook derives URLs and rules; no I/O happens here
        return httpx.AsyncClient(base_url=hook.base_url(), auth=httpx.BasicAuth(conn.login or "", conn.password or ""),
                                 timeout=hook.timeout(), follow_redirects=False, verify=hook.verify())

    async def run(self) -> AsyncIterator[TriggerEvent]:
        export_id = check_export_id(self.export_id)
        failures = 0
        async with await self._client() as client:
            while True:
                try:
                    response = await client.get(TASK_PATH + export_id)
                    status = export_status_from(response, export_id)
                    failures = 0
                except (httpx.TransportError, *RETRYABLE) as exc:  # transient: poll again, a few times
                    failures += 1
                    self.log.warning("polling video export %s failed transiently (%d of %d): %s", export_id,
                                     failures, self.max_transient_errors, exc)
                    if failures >= self.max_transient_errors:
                        yield TriggerEvent({"status": "error", "export_id": export_id,
                                            "message": f"polling video export {export_id} failed {failures} times "
                                                       f"in a row: {exc}"})
                        return
                    status = None
                except ApiError as exc:
                    yield TriggerEvent({"status": "error", "export_id": export_id, "message": str(exc)})
                    return
                if status is not None and status.state != "in_progress":
                    yield TriggerEvent({"status": status.state, "export_id": export_id, "reason": status.reason})
                    return
                if self.deadline is not None and time.time() >= self.deadline:
                    yield TriggerEvent({"status": "timeout", "export_id": export_id})
                    return
                await asyncio.sleep(self.poll_interval)
