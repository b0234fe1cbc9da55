"""Operators that load RetailNext resources into PostgreSQL, one transaction per task.

They are thin: :class:`RetailNextSyncOperator` adds the RetailNext connection and the v1 page
length to the shared :class:`~retail_provider.orchestration.operator.SyncOperator` (inputs
checked before any API call, one transaction, a ``failed`` ledger row after a rollback); each
subclass only checks its own inputs and calls one ``sync_*`` function:

* :class:`RetailNextSnapshotOperator`: locations, users, user/location profiles,
  floorplans, devices (full snapshots, rows the source no longer has are deleted);
* :class:`RetailNextStoreHoursOperator`: a window of days (default 7 back, 31 ahead);
* :class:`RetailNextPredictedTrafficOperator`: the next days (default 31) per store;
* :class:`RetailNextZoneTransitionsOperator`: days (default yesterday per store zone);
* :class:`RetailNextHealthAlertsOperator`: incremental with a
  watermark, reporting new unresolved alerts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from retail_provider.http.errors import InputValidationError
from retail_provider.orchestration.inputs import (
    is_template,
    parse_choice,
    parse_day,
    parse_ids,
    parse_int,
    parse_time,
)
from retail_provider.orchestration.operator import SyncOperator
from retail_provider.orchestration.watermark import backfill_interval, time_watermark
from retail_provider.retailnext.health_alerts import sync_health_alerts
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.models import ID_PATTERN, V1_PAGE_LENGTH
from retail_provider.retailnext.predictions import MAX_DAYS_AHEAD, sync_predicted_traffic
from retail_provider.retailnext.resources import SyncResult, resource_targets
from retail_provider.retailnext.snapshots import SNAPSHOTS, sync_snapshot
from retail_provider.retailnext.store_hours import store_hours_filters, sync_store_hours
from retail_provider.retailnext.tables import SCHEMA
from retail_provider.retailnext.zone_transitions import DWELLS, TRANSITIONS, sync_zone_transitions
from retail_provider.warehouse.tablesync import Target

MAX_WINDOW_DAYS = 366  # v1/storehours answers at most 366 days per request
MAX_ZONE_DAYS = 31  # one request per store and day: larger ranges go through several runs
HEALTH_ALERTS_WATERMARK = "retailnext_watermark__health_alerts"
LOGGED_ALERTS = 50
XCOM_ALERTS = 100


def parse_stores(value: Any) -> list[str] | None:
    """Store uuids from a list, a JSON list or a comma/space separated string; unset: ``None`` (all)."""
    return parse_ids(value, "stores", ID_PATTERN, "a location uuid (letters, digits and '-')")


class RetailNextSyncOperator(SyncOperator):
    """Base of the RetailNext operators: one resource into PostgreSQL in one transaction.

    :param page_length: entries per v1 page, 1 to 100. (templated)
    :param retailnext_conn_id: connection of type ``retailnext``.
    """

    resource: str = ""
    template_fields: Sequence[str] = (*SyncOperator.template_fields, "page_length")
    ui_color = "#d6e9f5"

    def __init__(self, *, page_length: int | str = V1_PAGE_LENGTH,
                 retailnext_conn_id: str = RetailNextHook.default_conn_name, schema: str = SCHEMA,
                 **kwargs: Any) -> None:
        super().__init__(schema=schema, **kwargs)
        self.page_length = page_length
        self.retailnext_conn_id = retailnext_conn_id

    def selection_names(self) -> set[str]:
        return {self.resource}

    def make_hook(self) -> RetailNextHook:
        return RetailNextHook(self.retailnext_conn_id)

    def plan_inputs(self) -> dict[str, Any]:
        return self.plan({})

    def plan(self, context: Any) -> dict[str, Any]:
        """Every input checked and converted before any API call."""
        page_length = V1_PAGE_LENGTH
        if not is_template(self.page_length):
            page_length = parse_int(self.page_length, "page_length", 1, V1_PAGE_LENGTH)
        return {"page_length": page_length}

    def targets(self, plan: dict[str, Any]) -> list[Target]:
        return resource_targets(self.resource, filters=plan.get("filters"), since=plan.get("since"),
                                before=plan.get("before"), schema=self.schema)

    def sync_args(self, plan: dict[str, Any], run_info: dict[str, Any]) -> dict[str, Any]:
        return {"schema": self.schema, "batch_rows": self.batch_rows, "run_info": run_info}


class RetailNextSnapshotOperator(RetailNextSyncOperator):
    """Full snapshot of one resource; rows the source no longer has are deleted.

    :param resource: ``locations`` (plus the ``location_tree`` view), ``users``,
        ``user_profiles``, ``location_profiles``, ``floorplans`` (floorplans, zones, zone
        points) or ``devices`` (cameras, channels, appliances).
    """

    def __init__(self, *, resource: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if resource not in SNAPSHOTS:
            raise InputValidationError(f"resource must be one of {', '.join(SNAPSHOTS)} (got {resource!r})")
        self.resource = resource
        self.check_static(self.template_fields)

    def sync(self, hook: RetailNextHook, conn: Any, plan: dict[str, Any], run_info: dict[str, Any]) -> SyncResult:
        return sync_snapshot(hook, conn, self.resource, page_length=plan["page_length"],
                             **self.sync_args(plan, run_info))


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
        self.first_day, self.last_day = first_day, last_day
        self.days_back, self.days_ahead = days_back, days_ahead
        self.stores = stores
        self.check_static(self.template_fields)

    def plan(self, context: Any) -> dict[str, Any]:
        plan = super().plan(context)
        today = datetime.now(UTC).date()
        start = parse_day(self.first_day, "first_day")
        end = parse_day(self.last_day, "last_day")
        if start is None:
            start = today - timedelta(days=parse_int(self.days_back, "days_back", 0, MAX_WINDOW_DAYS))
        if end is None:
            end = today + timedelta(days=parse_int(self.days_ahead, "days_ahead", 0, MAX_WINDOW_DAYS))
        if end < start:
            raise InputValidationError(f"last_day ({end}) must not be before first_day ({start})")
        if (end - start).days + 1 > MAX_WINDOW_DAYS:
            raise InputValidationError(f"the window from first_day to last_day is limited to {MAX_WINDOW_DAYS} "
                                       f"days (got {(end - start).days + 1})")
        stores = parse_stores(self.stores)
        return {**plan, "start": start, "end": end, "stores": stores,
                "filters": store_hours_filters(start, end, stores)}

    def sync(self, hook: RetailNextHook, conn: Any, plan: dict[str, Any], run_info: dict[str, Any]) -> SyncResult:
        return sync_store_hours(hook, conn, start=plan["start"], end=plan["end"], stores=plan["stores"],
                                page_length=plan["page_length"], **self.sync_args(plan, run_info))


class RetailNextPredictedTrafficOperator(RetailNextSyncOperator):
    """Predicted traffic of the next days per store (7-day requests, at most 3 concurrent).

    :param stores: store uuids (comma separated or a list); default every active store. (templated)
    :param days_ahead: how many days from tomorrow (store time), 1 to 31. (templated)
    """

    resource = "predicted_traffic"
    template_fields: Sequence[str] = (*RetailNextSyncOperator.template_fields, "stores", "days_ahead")

    def __init__(self, *, stores: Any = None, days_ahead: int | str = MAX_DAYS_AHEAD, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stores = stores
        self.days_ahead = days_ahead
        self.check_static(self.template_fields)

    def plan(self, context: Any) -> dict[str, Any]:
        days_ahead = parse_int(self.days_ahead, "days_ahead", 1, MAX_DAYS_AHEAD)
        return {**super().plan(context), "stores": parse_stores(self.stores), "days_ahead": days_ahead,
                "filters": {"days_ahead": days_ahead}}

    def sync(self, hook: RetailNextHook, conn: Any, plan: dict[str, Any], run_info: dict[str, Any]) -> SyncResult:
        return sync_predicted_traffic(hook, conn, stores=plan["stores"], days_ahead=plan["days_ahead"],
                                      **self.sync_args(plan, run_info))


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
        self.first_day, self.last_day = first_day, last_day
        self.stores = stores
        self.transitions, self.dwells = transitions, dwells
        self.check_static(self.template_fields)

    def days(self, context: Any) -> list[date] | None:
        start, end = parse_day(self.first_day, "first_day"), parse_day(self.last_day, "last_day")
        interval = backfill_interval(context)
        if start is None and end is None and interval:
            start = end = interval[0].date()
        if start is None and end is None:
            return None
        start, end = start or end, end or start
        assert start is not None and end is not None
        today = datetime.now(UTC).date()
        if end < start:
            raise InputValidationError(f"last_day ({end}) must not be before first_day ({start})")
        if end > today:
            raise InputValidationError(f"last_day ({end}) must not be after today ({today}, UTC): zone transitions "
                                       "exist only for days that have ended")
        if (end - start).days + 1 > MAX_ZONE_DAYS:
            raise InputValidationError(f"the range from first_day to last_day is limited to {MAX_ZONE_DAYS} days "
                                       f"per run (got {(end - start).days + 1})")
        return [start + timedelta(days=i) for i in range((end - start).days + 1)]

    def plan(self, context: Any) -> dict[str, Any]:
        transitions = parse_choice(self.transitions, "transitions", TRANSITIONS)
        dwells = parse_choice(self.dwells, "dwells", DWELLS)
        return {**super().plan(context), "days": self.days(context), "stores": parse_stores(self.stores),
                "transitions": transitions, "dwells": dwells,
                "filters": {"transitions": transitions, "dwells": dwells}}

    def sync(self, hook: RetailNextHook, conn: Any, plan: dict[str, Any], run_info: dict[str, Any]) -> SyncResult:
        return sync_zone_transitions(hook, conn, days=plan["days"], stores=plan["stores"],
                                     transitions=plan["transitions"], dwells=plan["dwells"],
                                     page_length=plan["page_length"], **self.sync_args(plan, run_info))


class RetailNextHealthAlertsOperator(RetailNextSyncOperator):
    """Health alerts, incremental by creation time, with a watermark Variable.

    Each run reads the alerts created since the watermark minus ``lookback_days`` (a
    resolved alert changes without changing its creation time), upserts them, commits,
    and only then moves the watermark Variable ``retailnext_watermark__health_alerts`` to
    the time the run started reading.  Alerts that are new and unresolved are logged as
    warnings, returned in the XCom (``new_alerts``, at most 100, and ``new_alert_count``)
    and passed to ``on_new_alerts(alerts, context)``.

    :param since: read alerts created at or after this ISO-8601 time (with zone) instead
        of the watermark; the watermark moves only when this leaves no gap. (templated)
    :param lookback_days: days re-read before the watermark. (templated)
    :param on_new_alerts: optional callable ``(alerts: list[dict], context) -> None``
        called after the commit and the watermark when there are new unresolved alerts
        (e.g. :func:`retail_provider.retailnext.data_alerts.notify_new_health_alerts`). If it
        raises, the task fails; the alerts stay in its log and XCom but are not new on the next run.
    """

    resource = "health_alerts"
    template_fields: Sequence[str] = (*RetailNextSyncOperator.template_fields, "since", "lookback_days")

    def __init__(self, *, since: str | datetime | None = None, lookback_days: int | str = 7,
                 on_new_alerts: Callable[[list[dict[str, Any]], Any], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.since = since
        self.lookback_days = lookback_days
        if on_new_alerts is not None and not callable(on_new_alerts):
            raise InputValidationError("on_new_alerts must be callable (alerts, context) -> None")
        self.on_new_alerts = on_new_alerts
        self.check_static(self.template_fields)

    def plan(self, context: Any) -> dict[str, Any]:
        plan = super().plan(context)
        since = parse_time(self.since, "since")
        now = datetime.now(UTC)
        if since is not None and since > now:
            raise InputValidationError(f"since must not be in the future (got {since.isoformat()})")
        return {**plan, "since": since, "before": now,
                "lookback": timedelta(days=parse_int(self.lookback_days, "lookback_days", 0, 365))}

    def sync(self, hook: RetailNextHook, conn: Any, plan: dict[str, Any], run_info: dict[str, Any]) -> SyncResult:
        watermark = time_watermark(HEALTH_ALERTS_WATERMARK).read()
        plan["watermark"] = watermark
        if plan["since"] is None and watermark is not None:
            plan["since"] = watermark - plan["lookback"]
        return sync_health_alerts(hook, conn, start_time=plan["since"], before=plan["before"],
                                  page_length=plan["page_length"], **self.sync_args(plan, run_info))

    def after_commit(self, result: SyncResult, plan: dict[str, Any], context: Any) -> dict[str, Any]:
        out = result.as_dict()
        value = time_watermark(HEALTH_ALERTS_WATERMARK).advance(plan["watermark"], plan["since"], plan["before"])
        out["watermark"] = value.isoformat() if value else None
        alerts = result.details.get("new_alerts", [])
        for alert in alerts[:LOGGED_ALERTS]:
            self.log.warning("New RetailNext health alert: %s %s at %s (%s): %s [%s]", alert["severity"],
                             alert["type"], alert["store_name"], alert["store_uuid"], alert["description"],
                             alert["uuid"])
        if len(alerts) > LOGGED_ALERTS:
            self.log.warning("... and %d more new RetailNext health alerts", len(alerts) - LOGGED_ALERTS)
        out["new_alert_count"] = len(alerts)
        out["new_alerts"] = alerts[:XCOM_ALERTS]
        out["details"] = {k: v for k, v in result.details.items() if k != "new_alerts"}
        if alerts and self.on_new_alerts is not None:
            self.on_new_alerts(alerts, context)
        return out
