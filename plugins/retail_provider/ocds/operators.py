"""OcdsIncrementalSyncOperator: one OCDS endpoint (and filter combination) into PostgreSQL.

The window is ``[since, before)``:

* ``since``: the ``since`` argument (templated, e.g. from a Param for a manual resync),
  else the endpoint's watermark Variable, else the epoch (first sync);
* ``before``: the ``before`` argument, else for a backfill run its data interval end,
  else now minus ``safety_lag`` (to skip changes still in flight).

A full resync (since the epoch, deleting rows the source no longer has) happens on the
first sync, when ``full_refresh`` is set, and when ``v2/refreshdate`` reports a bulk
load newer than the watermark.  The watermark Variable moves to ``before`` only after the
warehouse commit, only forward, only when the window started at or before it (no gaps),
and is read back to confirm.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import BaseOperator

from retail_provider.http.errors import InputValidationError
from retail_provider.ocds.catalog import OcdsEndpoint, get_endpoint
from retail_provider.ocds.hook import OcdsHook
from retail_provider.ocds.sync import DEFAULT_SCHEMA, record_failure, sync_endpoint
from retail_provider.timeutil import EPOCH, parse_aware

WATERMARK_PREFIX = "ocds_watermark"


def watermark_key(endpoint: OcdsEndpoint, filters: dict[str, str]) -> str:
    """Variable key of an endpoint and filter combination: ``ocds_watermark__item_price__pricetype_regular``."""
    key = f"{WATERMARK_PREFIX}__{endpoint.name}"
    if filters:
        key += "__" + "__".join(f"{k}_{v}" for k, v in sorted(filters.items()))
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key).lower()


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _optional_time(value: Any, name: str) -> datetime | None:
    if value in (None, "", "None"):
        return None
    try:
        return parse_aware(value, name=name)
    except ValueError as exc:
        raise InputValidationError(str(exc), api="ocds") from None


class OcdsIncrementalSyncOperator(BaseOperator):
    """Sync one OCDS v2 endpoint window into its PostgreSQL table.

    :param endpoint: catalog name (``item_price``) or path (``item/price``). (templated)
    :param filters: ``nodelevel``/``nodeid``, ``pricetype``, ``severity``, ``entitytype``. (templated)
    :param since: window start override, ISO-8601 with zone; empty means the watermark. (templated)
    :param before: window end override; empty means the run's cutoff. (templated)
    :param full_refresh: resync from the epoch and delete rows the source no longer has. (templated)
    :param selected: when set to other endpoint names (comma separated) and not ``all``, this task
        skips: lets one manual run resync a single endpoint of a DAG. (templated)
    :param safety_lag: how far behind now the cutoff stays (a timedelta or seconds). (templated)
    :param check_refresh_dates: compare ``v2/refreshdate`` with the watermark first.
    :param ocds_conn_id: connection of type ``ocds``.
    :param postgres_conn_id: the warehouse connection.
    :param schema: warehouse schema of the endpoint tables.
    :param page_size: ``limit`` per page (server default 10,000). (templated)
    :param batch_rows: staged rows per merge.
    """

    template_fields: Sequence[str] = (
        "endpoint", "filters", "since", "before", "full_refresh", "selected", "safety_lag", "page_size",
    )
    template_fields_renderers = {"filters": "json"}
    ui_color = "#f0e4d0"

    def __init__(
        self,
        *,
        endpoint: str,
        filters: dict[str, Any] | None = None,
        since: str | datetime | None = None,
        before: str | datetime | None = None,
        full_refresh: bool | str = False,
        selected: str | None = None,
        safety_lag: timedelta | int | str = timedelta(minutes=5),
        check_refresh_dates: bool = True,
        ocds_conn_id: str = OcdsHook.default_conn_name,
        postgres_conn_id: str = "warehouse_default",
        schema: str = DEFAULT_SCHEMA,
        page_size: int | str | None = None,
        batch_rows: int = 50_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.filters = filters or {}
        self.since = since
        self.before = before
        self.full_refresh = full_refresh
        self.selected = selected
        self.safety_lag = safety_lag
        self.check_refresh_dates = check_refresh_dates
        self.ocds_conn_id = ocds_conn_id
        self.postgres_conn_id = postgres_conn_id
        self.schema = schema
        self.page_size = page_size
        self.batch_rows = batch_rows
        if not _is_template(safety_lag):
            self._lag()
        # fail at DAG parse time when nothing is templated
        if not _is_template(endpoint):
            ep = get_endpoint(endpoint)
            if isinstance(self.filters, dict) and not any(_is_template(v) for v in self.filters.values()):
                ep.validate_filters(self.filters)

    def _lag(self) -> timedelta:
        value = self.safety_lag
        if not isinstance(value, timedelta):
            try:
                value = timedelta(seconds=float(str(value)))
            except ValueError:
                raise InputValidationError(
                    f"safety_lag must be a number of seconds or a timedelta (got {self.safety_lag!r})", api="ocds"
                ) from None
        if value < timedelta(0):
            raise InputValidationError("safety_lag must not be negative", api="ocds")
        return value

    def _page_size(self) -> int | None:
        if self.page_size in (None, "", "None"):
            return None
        try:
            size = int(str(self.page_size))
        except ValueError:
            size = 0
        if not 1 <= size <= 10_000:
            raise InputValidationError(f"page_size must be an integer from 1 to 10000 (got {self.page_size!r})",
                                       api="ocds")
        return size

    # -- window -------------------------------------------------------------------------

    def resolve_window(self, context: Any, endpoint: OcdsEndpoint, filters: dict[str, str]) -> dict[str, Any]:
        """Decide ``since``, ``before``, full resync and whether the watermark may move."""
        from airflow.sdk import Variable

        key = watermark_key(endpoint, filters)
        stored = Variable.get(key, default=None)
        watermark = _optional_time(stored, f"Variable {key}") if stored else None
        since = _optional_time(self.since, "since")
        before = _optional_time(self.before, "before")
        full = str(self.full_refresh).strip().lower() in ("true", "1", "yes")
        now = datetime.now(UTC)
        cutoff = now - self._lag()
        dag_run = context.get("dag_run") if context else None
        run_type = str(getattr(dag_run, "run_type", "") or "").lower()
        if "backfill" in run_type and since is None and before is None:
            since = context.get("data_interval_start")
            before = context.get("data_interval_end")
        explicit = since is not None
        if full:
            since = EPOCH
        elif since is None:
            since = watermark or EPOCH
        if before is None:
            before = cutoff
        if before > cutoff:
            raise InputValidationError(
                f"before must not be later than now minus the safety lag ({cutoff.isoformat()}); "
                f"got {before.isoformat()}",
                api="ocds",
            )
        return {
            "key": key,
            "watermark": watermark,
            "since": since,
            "before": before,
            "explicit": explicit,
            "full": full or since == EPOCH,
        }

    # -- run ----------------------------------------------------------------------------

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from airflow.sdk import Variable

        endpoint = get_endpoint(self.endpoint)
        filters = endpoint.validate_filters(self.filters)
        page_size = self._page_size()
        chosen = {s.strip() for s in str(self.selected or "").split(",") if s.strip()}
        if chosen and "all" not in chosen and not chosen & {endpoint.name, self.task_id}:
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException(f"this run resyncs {', '.join(sorted(chosen))} only")
        hook = OcdsHook(self.ocds_conn_id)
        window: dict[str, Any] = {"since": None, "before": None, "full": True, "key": None, "watermark": None}
        if endpoint.windowed:
            window = self.resolve_window(context, endpoint, filters)
            if window["since"] >= window["before"]:
                if window["explicit"]:
                    raise InputValidationError(
                        f"since must be earlier than before (since={window['since'].isoformat()}, "
                        f"before={window['before'].isoformat()})",
                        api="ocds",
                    )
                self.log.info("Nothing to sync: watermark %s is not before the cutoff %s",
                              window["since"].isoformat(), window["before"].isoformat())
                return {"endpoint": endpoint.name, "filters": filters, "skipped": "window is empty"}
            self._check_refresh_date(hook, endpoint, window)
        run_info = self._run_info(context)
        conn = PostgresHook(postgres_conn_id=self.postgres_conn_id).get_conn()
        try:
            conn.autocommit = False
            try:
                result = sync_endpoint(
                    hook,
                    conn,
                    endpoint,
                    filters=filters,
                    since=window["since"],
                    before=window["before"],
                    sweep=window["full"] and window["since"] == EPOCH if endpoint.windowed else True,
                    schema=self.schema,
                    page_size=page_size,
                    batch_rows=self.batch_rows,
                    run_info=run_info,
                )
                conn.commit()
            except BaseException as exc:
                conn.rollback()
                record_failure(conn, endpoint, filters=filters, since=window["since"], before=window["before"],
                               error=f"{type(exc).__name__}: {exc}", schema=self.schema, run_info=run_info)
                raise
        finally:
            conn.close()
            hook.close()
        out = result.as_dict()
        if endpoint.windowed:
            out["watermark"] = self._advance_watermark(Variable, window)
        return out

    def _check_refresh_date(self, hook: OcdsHook, endpoint: OcdsEndpoint, window: dict[str, Any]) -> None:
        """A bulk load newer than the watermark means deletes may be missing: resync fully."""
        if not (self.check_refresh_dates and endpoint.refresh_entity and window["watermark"]):
            return
        if window["full"]:
            return
        refreshed = hook.get_refresh_dates(endpoint.refresh_entity).get(endpoint.refresh_entity)
        if refreshed is not None and refreshed >= window["before"]:
            # the reload is still inside the safety lag: its rows are not in this window yet, and a
            # full resync now would sweep them away.  The next run resyncs fully.
            self.log.warning("OCDS bulk load of %s at %s is newer than the cutoff; the next run resyncs it",
                             endpoint.refresh_entity, refreshed.isoformat())
            return
        if refreshed is not None and refreshed >= window["watermark"]:
            self.log.warning(
                "OCDS reports a bulk load of %s at %s, after the watermark %s: resyncing %s fully",
                endpoint.refresh_entity, refreshed.isoformat(), window["watermark"].isoformat(), endpoint.name,
            )
            window["since"], window["full"] = EPOCH, True

    def _advance_watermark(self, variable: Any, window: dict[str, Any]) -> str | None:
        """Move the watermark to ``before`` after the commit: forward only and without gaps."""
        key, current, since, before = window["key"], window["watermark"], window["since"], window["before"]
        # no watermark means nothing was synced yet: only a window from the epoch may start one
        if since > (current or EPOCH) or (current is not None and before <= current):
            self.log.info("Watermark %s stays at %s (window [%s, %s) does not extend it without a gap)",
                          key, current.isoformat() if current else None, since.isoformat(), before.isoformat())
            return current.isoformat() if current else None
        value = before.isoformat()
        variable.set(key, value)
        read_back = variable.get(key, default=None)
        if read_back != value:
            raise RuntimeError(
                f"watermark Variable {key} was not stored: wrote {value!r}, read back {read_back!r}. "
                "The warehouse is committed; the next run re-reads this window idempotently."
            )
        self.log.info("Watermark %s advanced to %s", key, value)
        return value

    @staticmethod
    def _run_info(context: Any) -> dict[str, Any]:
        ti = context.get("ti") if context else None
        return {
            "dag_id": getattr(ti, "dag_id", None),
            "run_id": getattr(ti, "run_id", None),
            "task_id": getattr(ti, "task_id", None),
            "try_number": getattr(ti, "try_number", None),
        }
