"""VideoExportSensor: wait for a RetailNext video export.

``202`` keeps waiting, ``302`` succeeds, ``404`` fails as expired, ``424`` fails with the
API's reason; anything else follows the hook's retry rules.  Works in poke mode, in
reschedule mode and deferrable (``deferrable=True``: a :class:`VideoExportTrigger` in the
triggerer), with the sensor's ``timeout``.

The sensor hands on ``{"export_id", "state": "ready"}``.  It does not put the download
URL in XCom: that URL is a signed capability, so the download step asks the task for a
fresh one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from retail_provider.orchestration.failures import fail_fast
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.video.hook import check_export_id
from retail_provider.retailnext.video.trigger import VideoExportTrigger


class VideoExportSensor(BaseSensorOperator):
    """Wait until a video export is ready.

    :param export_id: the export to watch (usually the start task's XCom). (templated)
    :param retailnext_conn_id: connection of type ``retailnext``.
    :param deferrable: wait in the triggerer instead of a worker slot.
    """

    template_fields: Sequence[str] = ("export_id",)
    ui_color = "#e8daef"

    def __init__(self, *, export_id: str, retailnext_conn_id: str = RetailNextHook.default_conn_name,
                 deferrable: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.export_id = export_id
        self.retailnext_conn_id = retailnext_conn_id
        self.deferrable = deferrable

    def _result(self) -> dict[str, str]:
        return {"export_id": str(self.export_id), "state": "ready"}

    @fail_fast
    def poke(self, context: Any) -> bool | PokeReturnValue:
        export_id = check_export_id(self.export_id)
        with RetailNextHook(self.retailnext_conn_id) as hook:
            status = hook.video_export_status(export_id)
        if status.state == "in_progress":
            self.log.info("video export %s is in progress", export_id)
            return False
        if status.state == "ready":
            return PokeReturnValue(is_done=True, xcom_value=self._result())
        raise AirflowFailException(status.reason or f"video export {export_id} {status.state}")

    @fail_fast
    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        check_export_id(self.export_id)
        deadline = time.time() + float(self.timeout) if self.timeout else None
        self.defer(
            trigger=VideoExportTrigger(self.retailnext_conn_id, str(self.export_id), float(self.poke_interval), deadline),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, str]:
        event = event or {}
        status = event.get("status")
        if status == "ready":
            return self._result()
        if status in ("expired", "failed"):
            raise AirflowFailException(event.get("reason") or f"video export {self.export_id} {status}")
        if status == "timeout":
            from airflow.sdk.exceptions import AirflowSensorTimeout

            raise AirflowSensorTimeout(f"video export {self.export_id} not ready before the timeout")
        raise AirflowException(event.get("message") or f"video export {self.export_id}: unexpected event {event}")
