"""Operators that load RetailNext resources into PostgreSQL, one transaction per task.

They are thin: :class:`RetailNextSyncOperator` validates its inputs before any API call
(:class:`~retail_provider.http.errors.InputValidationError` naming the parameter and
the rule), opens the warehouse connection, runs one ``sync_*`` function of
:mod:`retail_provider.retailnext.sync`, commits, and records a ``failed`` ledger row
after a rollback.  The subclasses only add their parameters:

* :class:`RetailNextSnapshotOperator`: locations, users, user/location profiles,
  floorplans, devices (full snapshots, rows the source no longer has are deleted);
* :class:`RetailNextStoreHoursOperator`: a window of days (default 7 back, 31 ahead);
* :class:`RetailNextPredictedTrafficOperator`: the next days (default 31) per store;
* :class:`RetailNextZoneTransitionsOperator`: days (default yesterday per store zone);
* :class:`RetailNextHealthAlertsOperator`: incremental with a watermark Variable that
  moves only after the commit, reporting new unresolved alerts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import BaseOperator

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext import sync as rn
from retail_provider.retailnext.hook import V1_PAGE_LENGTH, RetailNextHook
from retail_provider.timeutil import parse_aware

API = "retailnext"
HEALTH_ALERTS_WATERMARK = "retailnext_watermark__health_alerts"
MAX_WINDOW_DAYS = 366  # v1/storehours answers at most 366 days per request
MAX_ZONE_DAYS = 31  # one request per store and day: larger ranges go through several runs
XCOM_ALERTS = 100
TRANSITIONS = ("direct_only", "direct_and_indirect", "directionless")
DWELLS = ("dwells_only", "non_dwells", "all_traffic")
_UUID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,63}$")


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "None", "null"))


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _fail(message: str) -> InputValidationError:
    return InputValidationError(message, api=API)


def parse_day(value: Any, name: str) -> date | None:
    """``yyyy-mm-dd`` (or a date); unset values are ``None``."""
    if _unset(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise _fail(f"{name} must be a date yyyy-mm-dd (got {value!r})") from None


def parse_int(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise _fail(f"{name} must be an integer from {low} to {high} (got {value!r})") from None
    if not low <= number <= high:
        raise _fail(f"{name} must be an integer from {low} to {high} (got {number})")
    return number


def parse_time(value: Any, name: str) -> datetime | None:
    if _unset(value):
        return None
    try:
        return parse_aware(value if isinstance(value, datetime) else str(value), name=name)
    except ValueError as exc:
        raise _fail(str(exc)) from None


def parse_choice(value: Any, name: str, options: Sequence[str]) -> str:
    text = str(value).strip()
    if text not in options:
        raise _fail(f"{name} must be one of {', '.join(options)} (got {value!r})")
    return text


def parse_stores(value: Any) -> list[str] | None:
    """Store uuids from a list, a JSON list or a comma/space separated string; unset: ``None`` (all)."""
    if _unset(value):
        return None
    items: Any = value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                items = json.loads(text.replace("'", '"'))
            except ValueError:
                raise _fail(f"stores must be store uuids separated by commas or a JSON list (got {value!r})") from None
        else:
            items = [s for s in re.split(r"[,\s]+", text) if s]
    if not isinstance(items, list | tuple) or not items:
        raise _fail(f"stores must be a non-empty list of store uuids (got {value!r})")
    out = []
    for item in items:
        if not isinstance(item, str) or not _UUID.match(item.strip()):
            raise _fail(f"stores: {item!r} is not a location uuid (letters, digits and '-')")
        out.append(item.strip())
    return list(dict.fromkeys(out))


class RetailNextSyncOperator(BaseOperator):
    """Base of the RetailNext operators: one resource into PostgreSQL in one transaction.

    :param selected: when set to other resource or task names (comma separated) and not
        ``all``, this task skips: one manual run can resync a single resource. (templated)
    :param page_length: entries per v1 page, 1 to 100. (templated)
    :param retailnext_conn_id: connection of type ``retailnext``.
    :param postgres_conn_id: the warehouse connection.
    :param schema: warehouse schema of the tables.
    :param batch_rows: staged rows per merge.
    """

    resource: str = ""
    template_fields: Sequence[str] = ("selected", "page_length")
    ui_color = "#d6e9f5"

    def __init__(
        self,
        *,
        selected: str | None = None,
        page_length: int | str = V1_PAGE_LENGTH,
        retailnext_conn_id: str = RetailNextHook.default_conn_name,
        postgres_conn_id: str = "warehouse_default",
        schema: str = rn.SCHEMA,
        batch_rows: int = 50_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.selected = selected
        self.page_length = page_length
        self.retailnext_conn_id = retailnext_conn_id
        self.postgres_conn_id = postgres_conn_id
        self.schema = schema
        self.batch_rows = batch_rows

    def check_static(self) -> None:
        """Fail at DAG parse time when no input is templated and one breaks a rule."""
        if not any(_is_template(getattr(self, name, None)) for name in self.template_fields):
            self.validate({})

    # -- what subclasses provide ----------------------------------------------------------

    def validate(self, context: Any) -> dict[str, Any]:
        """Every input checked and converted before any API call."""
        page_length = V1_PAGE_LENGTH
        if not _is_template(self.page_length):
            page_length = parse_int(self.page_length, "page_length", 1, V1_PAGE_LENGTH)
        return {"page_length": page_length}

    def sync(self, hook: RetailNextHook, conn: Any, config: dict[str, Any], run_info: dict[str, Any]) -> rn.SyncResult:
        raise NotImplementedError  # pragma: no cover

    def after_commit(self, result: rn.SyncResult, config: dict[str, Any], context: Any) -> dict[str, Any]:
        return result.as_dict()

    def failure_fields(self, config: dict[str, Any]) -> dict[str, Any]:
        return {}

    # -- run ------------------------------------------------------------------------------

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        self._skip_unless_selected()
        config = self.validate(context)
        run_info = self._run_info(context)
        hook = RetailNextHook(self.retailnext_conn_id)
        conn = PostgresHook(postgres_conn_id=self.postgres_conn_id).get_conn()
        try:
            conn.autocommit = False
            try:
                result = self.sync(hook, conn, config, run_info)
                conn.commit()
            except BaseException as exc:
                conn.rollback()
                rn.record_failure(conn, self.resource, error=f"{type(exc).__name__}: {exc}", schema=self.schema,
                                  run_info=run_info, **self.failure_fields(config))
                raise
        finally:
            conn.close()
            hook.close()
        return self.after_commit(result, config, context)

    def _skip_unless_selected(self) -> None:
        chosen = {s.strip() for s in str(self.selected or "").split(",") if s.strip() and s.strip() != "None"}
        if chosen and "all" not in chosen and not chosen & {self.resource, self.task_id}:
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException(f"this run syncs {', '.join(sorted(chosen))} only")

    @staticmethod
    def _run_info(context: Any) -> dict[str, Any]:
        ti = context.get("ti") if context else None
        return {k: getattr(ti, k, None) for k in rn.RUN_INFO_KEYS}


class RetailNextSnapshotOperator(RetailNextSyncOperator):
    """Full snapshot of one resource; rows the source no longer has are deleted.

    :param resource: ``locations`` (plus the ``location_tree`` view), ``users``,
        ``user_profiles``, ``location_profiles``, ``floorplans`` (floorplans, zones, zone
        points) or ``devices`` (cameras, channels, appliances).
    """

    def __init__(self, *, resource: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if resource not in rn.SNAPSHOTS:
            raise _fail(f"resource must be one of {', '.join(rn.SNAPSHOTS)} (got {resource!r})")
        self.resource = resource
        self.check_static()

    def sync(self, hook: RetailNextHook, conn: Any, config: dict[str, Any], run_info: dict[str, Any]) -> rn.SyncResult:
        return rn.sync_snapshot(hook, conn, self.resource, schema=self.schema, page_length=config["page_length"],
                                batch_rows=self.batch_rows, run_info=run_info)

    def failure_fields(self, config: dict[str, Any]) -> dict[str, Any]:
        return {"mode": "snapshot"}


class RetailNextStoreHoursOperator(RetailNextSyncOperator):
    """Store hours of a window of days, upserted by store and day.

    :param first_day: first day (``yyyy-mm-dd``); default today (UTC) minus ``days_back``. (templated)
    :param last_day: last day, included; default today (UTC) plus ``days_ahead``. (templated)
    :param days_back: default window start, days before today. (templated)
    :param days_ahead: default window end, days after today. (templated)
    :param stores: store uuids (comma separated or a list); default every active store. (templated)
    """

    resource = "store_hours"
    template_fields: Sequence[str] = (*RetailNextSyncOperator.template_fields, "first_day", "last_day",
                                      "days_back", "days_ahead", "stores")

    def __init__(self, *, first_day: str | date | None = None, last_day: str | date | None = None,
                 days_back: int | str = 7, days_ahead: int | str = 31, stores: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.first_day = first_day
        self.last_day = last_day
        self.days_back = days_back
        self.days_ahead = days_ahead
        self.stores = stores
        self.check_static()

    def validate(self, context: Any) -> dict[str, Any]:
        config = super().validate(context)
        today = datetime.now(UTC).date()
        start = parse_day(self.first_day, "first_day")
        end = parse_day(self.last_day, "last_day")
        if start is None:
            start = today - timedelta(days=parse_int(self.days_back, "days_back", 0, MAX_WINDOW_DAYS))
        if end is None:
            end = today + timedelta(days=parse_int(self.days_ahead, "days_ahead", 0, MAX_WINDOW_DAYS))
        if end < start:
            raise _fail(f"last_day ({end}) must not be before first_day ({start})")
        if (end - start).days + 1 > MAX_WINDOW_DAYS:
            raise _fail(f"the window from first_day to last_day is limited to {MAX_WINDOW_DAYS} days "
                        f"(got {(end - start).days + 1})")
        return {**config, "start": start, "end": end, "stores": parse_stores(self.stores)}

    def sync(self, hook: RetailNextHook, conn: Any, config: dict[str, Any], run_info: dict[str, Any]) -> rn.SyncResult:
        return rn.sync_store_hours(hook, conn, start=config["start"], end=config["end"], stores=config["stores"],
                                   schema=self.schema, page_length=config["page_length"], batch_rows=self.batch_rows,
                                   run_info=run_info)

    def failure_fields(self, config: dict[str, Any]) -> dict[str, Any]:
        return {"mode": "window", "filters": {"first_day": config["start"].isoformat(),
                                              "last_day": config["end"].isoformat()}}


class RetailNextPredictedTrafficOperator(RetailNextSyncOperator):
    """Predicted traffic of the next days per store (7-day requests, at most 3 concurrent).

    :param stores: store uuids (comma separated or a list); default every active store. (templated)
    :param days_ahead: how many days from tomorrow (store time), 1 to 31. (templated)
    """

    resource = "predicted_traffic"
    template_fields: Sequence[str] = (*RetailNextSyncOperator.template_fields, "stores", "days_ahead")

    def __init__(self, *, stores: Any = None, days_ahead: int | str = 31, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stores = stores
        self.days_ahead = days_ahead
        self.check_static()

    def validate(self, context: Any) -> dict[str, Any]:
        config = super().validate(context)
        return {**config, "stores": parse_stores(self.stores),
                "days_ahead": parse_int(self.days_ahead, "days_ahead", 1, 31)}

    def sync(self, hook: RetailNextHook, conn: Any, config: dict[str, Any], run_info: dict[str, Any]) -> rn.SyncResult:
        return rn.sync_predicted_traffic(hook, conn, stores=config["stores"], days_ahead=config["days_ahead"],
                                         schema=self.schema, batch_rows=self.batch_rows, run_info=run_info)

    def failure_fields(self, config: dict[str, Any]) -> dict[str, Any]:
        return {"mode": "window", "filters": {"days_ahead": config["days_ahead"]}}


class RetailNextZoneTransitionsOperator(RetailNextSyncOperator):
    """FPA zone transitions (customer and employee) per store and day.

    Days: ``first_day``..``last_day`` when given (one alone means that single day), else a
    backfill run's data interval start day, else yesterday in each store's time zone.

    :param first_day: first day ``yyyy-mm-dd``. (templated)
    :param last_day: last day, included; not after today (UTC). (templated)
    :param stores: store uuids; default every active store with FPA zones. (templated)
    :param transitions: ``direct_only`` (default), ``direct_and_indirect`` or ``directionless``. (templated)
    :param dwells: ``dwells_only`` (default), ``non_dwells`` or ``all_traffic``. (templated)
    """

    resource = "zone_transitions"
    template_fields: Sequence[str] = (*RetailNextSyncOperator.template_fields, "first_day", "last_day", "stores",
                                      "transitions", "dwells")

    def __init__(self, *, first_day: str | date | None = None, last_day: str | date | None = None,
                 stores: Any = None, transitions: str = "direct_only", dwells: str = "dwells_only",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.first_day = first_day
        self.last_day = last_day
        self.stores = stores
        self.transitions = transitions
        self.dwells = dwells
        self.check_static()

    def validate(self, context: Any) -> dict[str, Any]:
        config = super().validate(context)
        start = parse_day(self.first_day, "first_day")
        end = parse_day(self.last_day, "last_day")
        days: list[date] | None = None
        if start is None and end is None:
            dag_run = context.get("dag_run") if context else None
            interval_start = context.get("data_interval_start") if context else None
            if "backfill" in str(getattr(dag_run, "run_type", "") or "").lower() and interval_start is not None:
                start = end = interval_start.date()
        if start is not None or end is not None:
            start, end = start or end, end or start
            assert start is not None and end is not None
            today = datetime.now(UTC).date()
            if end < start:
                raise _fail(f"last_day ({end}) must not be before first_day ({start})")
            if end > today:
                raise _fail(f"last_day ({end}) must not be after today ({today}, UTC): zone transitions exist "
                            "only for days that have ended")
            if (end - start).days + 1 > MAX_ZONE_DAYS:
                raise _fail(f"the range from first_day to last_day is limited to {MAX_ZONE_DAYS} days per run "
                            f"(got {(end - start).days + 1})")
            days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        return {
            **config,
            "days": days,
            "stores": parse_stores(self.stores),
            "transitions": parse_choice(self.transitions, "transitions", TRANSITIONS),
            "dwells": parse_choice(self.dwells, "dwells", DWELLS),
        }

    def sync(self, hook: RetailNextHook, conn: Any, config: dict[str, Any], run_info: dict[str, Any]) -> rn.SyncResult:
        return rn.sync_zone_transitions(hook, conn, days=config["days"], stores=config["stores"],
                                        transitions=config["transitions"], dwells=config["dwells"],
                                        schema=self.schema, page_length=config["page_length"],
                                        batch_rows=self.batch_rows, run_info=run_info)

    def failure_fields(self, config: dict[str, Any]) -> dict[str, Any]:
        return {"mode": "upsert", "filters": {"transitions": config["transitions"], "dwells": config["dwells"]}}


class RetailNextHealthAlertsOperator(RetailNextSyncOperator):
    """Health alerts, incremental by creation time, with a watermark Variable.

    Each run reads the alerts created since the watermark minus ``lookback_days`` (a
    resolved alert changes without changing its creation time), upserts them, commits,
    and only then moves the watermark Variable ``retailnext_watermark__health_alerts`` to
    the time the run started reading (read back to confirm).  Alerts that are new and
    unresolved are logged as warnings, returned in the XCom (``new_alerts``, at most
    100, and ``new_alert_count``) and passed to ``on_new_alerts(alerts, context)``.

    :param since: read alerts created at or after this ISO-8601 time (with zone) instead
        of the watermark; the watermark moves only when this leaves no gap. (templated)
    :param lookback_days: days re-read before the watermark. (templated)
    :param on_new_alerts: optional callable ``(alerts: list[dict], context) -> None``
        called after the commit and the watermark when there are new unresolved alerts
        (e.g. :func:`retail_provider.orchestration.notifications.notify_new_health_alerts`). If it raises,
        the task fails; the alerts stay in its log and XCom but are not new on the next run.
    """

    resource = "health_alerts"
    template_fields: Sequence[str] = (*RetailNextSyncOperator.template_fields, "since", "lookback_days")

    def __init__(self, *, since: str | datetime | None = None, lookback_days: int | str = 7,
                 on_new_alerts: Callable[[list[dict[str, Any]], Any], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.since = since
        self.lookback_days = lookback_days
        if on_new_alerts is not None and not callable(on_new_alerts):
            raise _fail("on_new_alerts must be callable (alerts, context) -> None")
        self.on_new_alerts = on_new_alerts
        self.check_static()

    def validate(self, context: Any) -> dict[str, Any]:
        config = super().validate(context)
        since = parse_time(self.since, "since")
        now = datetime.now(UTC)
        if since is not None and since > now:
            raise _fail(f"since must not be in the future (got {since.isoformat()})")
        return {**config, "since": since,
                "lookback": timedelta(days=parse_int(self.lookback_days, "lookback_days", 0, 365))}

    def window(self, config: dict[str, Any]) -> dict[str, Any]:
        """``start_time`` (``None``: everything), ``before`` (now) and the current watermark."""
        from airflow.sdk import Variable

        stored = Variable.get(HEALTH_ALERTS_WATERMARK, default=None)
        watermark = parse_time(stored, f"Variable {HEALTH_ALERTS_WATERMARK}") if stored else None
        start = config["since"]
        if start is None and watermark is not None:
            start = watermark - config["lookback"]
        return {"watermark": watermark, "start": start, "before": datetime.now(UTC)}

    def sync(self, hook: RetailNextHook, conn: Any, config: dict[str, Any], run_info: dict[str, Any]) -> rn.SyncResult:
        config.update(self.window(config))
        return rn.sync_health_alerts(hook, conn, start_time=config["start"], before=config["before"],
                                     schema=self.schema, page_length=config["page_length"],
                                     batch_rows=self.batch_rows, run_info=run_info)

    def failure_fields(self, config: dict[str, Any]) -> dict[str, Any]:
        return {"mode": "incremental", "since": config.get("start"), "before": config.get("before")}

    def after_commit(self, result: rn.SyncResult, config: dict[str, Any], context: Any) -> dict[str, Any]:
        out = result.as_dict()
        out["watermark"] = self._advance_watermark(config)
        alerts = result.details.get("new_alerts", [])
        for alert in alerts[:50]:
            self.log.warning("New RetailNext health alert: %s %s at %s (%s): %s [%s]", alert["severity"],
                             alert["type"], alert["store_name"], alert["store_uuid"], alert["description"],
                             alert["uuid"])
        if len(alerts) > 50:
            self.log.warning("... and %d more new RetailNext health alerts", len(alerts) - 50)
        out["new_alert_count"] = len(alerts)
        out["new_alerts"] = alerts[:XCOM_ALERTS]
        out["details"] = {k: v for k, v in result.details.items() if k != "new_alerts"}
        if alerts and self.on_new_alerts is not None:
            self.on_new_alerts(alerts, context)
        return out

    def _advance_watermark(self, config: dict[str, Any]) -> str | None:
        """Forward only, and only when the window started at or before the watermark (no gap)."""
        from airflow.sdk import Variable

        current, start, before = config["watermark"], config["start"], config["before"]
        if current is not None and ((start is not None and start > current) or before <= current):
            self.log.info("Watermark %s stays at %s (the window from %s leaves a gap or does not extend it)",
                          HEALTH_ALERTS_WATERMARK, current.isoformat(), start.isoformat() if start else None)
            return current.isoformat()
        value = before.isoformat()
        Variable.set(HEALTH_ALERTS_WATERMARK, value)
        read_back = Variable.get(HEALTH_ALERTS_WATERMARK, default=None)
        if read_back != value:
            raise RuntimeError(
                f"watermark Variable {HEALTH_ALERTS_WATERMARK} was not stored: wrote {value!r}, read back "
                f"{read_back!r}. The warehouse is committed; the next run re-reads the window idempotently."
            )
        self.log.info("Watermark %s advanced to %s", HEALTH_ALERTS_WATERMARK, value)
        return value
