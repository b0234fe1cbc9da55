"""OcdsIncrementalSyncOperator: one OCDS endpoint (and filter combination) into PostgreSQL.

The window is ``[since, before)``:

* ``since``: the ``since`` argument (templated, e.g. from a Param for a manual resync),
  else for a backfill run its data interval start, else the endpoint's watermark Variable,
  else the epoch (first sync);
* ``before``: the ``before`` argument, else for a backfill run its data interval end,
  else now minus ``safety_lag`` (to skip changes still in flight).

A full resync (since the epoch, deleting rows the source no longer has) happens on the
first sync, when ``full_refresh`` is set, when ``v2/refreshdate`` reports a bulk load
newer than the watermark, and when a table was written by an older release in a layout
this one cannot merge into (:mod:`.migrate` moves it aside first).  The watermark follows
the shared rules of :mod:`retail_provider.orchestration.watermark`.

Records the sync could not apply are kept in ``retail_meta.sync_rejects`` and reported by
a data alert after the commit (:mod:`.alerts`); the window still counts as synced.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from retail_provider.http.errors import InputValidationError
from retail_provider.ocds.alerts import notify_rejects
from retail_provider.ocds.catalog import MAX_LIMIT, OcdsEndpoint, get_endpoint
from retail_provider.ocds.hook import OcdsHook
from retail_provider.ocds.migrate import resync_needed, upgrade_tables
from retail_provider.ocds.promotions import state_view
from retail_provider.ocds.sync import SCHEMA, sync_endpoint, targets_for
from retail_provider.orchestration.inputs import flag, is_template, parse_optional_int, parse_seconds, parse_time
from retail_provider.orchestration.operator import SyncOperator
from retail_provider.orchestration.watermark import backfill_interval, time_watermark
from retail_provider.timeutil import EPOCH
from retail_provider.warehouse.tablesync import Target

WATERMARK_PREFIX = "ocds_watermark"
DEFAULT_LAG = timedelta(minutes=5)


def watermark_key(endpoint: OcdsEndpoint, filters: dict[str, str]) -> str:
    """Variable key of an endpoint and filter combination: ``ocds_watermark__item_price__pricetype_regular``."""
    key = f"{WATERMARK_PREFIX}__{endpoint.name}"
    if filters:
        key += "__" + "__".join(f"{k}_{v}" for k, v in sorted(filters.items()))
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key).lower()


class OcdsIncrementalSyncOperator(SyncOperator):
    """Sync one OCDS v2 endpoint window into its PostgreSQL table.

    :param endpoint: catalog name (``item_price``) or path (``item/price``). (templated)
    :param filters: ``nodelevel``/``nodeid``, ``pricetype``, ``severity``, ``entitytype``. (templated)
    :param run_filters: filters of one run (from Params; empty values ignored): those the
        endpoint documents go over ``filters``; when none does, the task skips. (templated)
    :param since: window start override, ISO-8601 with zone; empty means the watermark. (templated)
    :param before: window end override; empty means the run's cutoff. (templated)
    :param full_refresh: resync from the epoch and delete rows the source no longer has. (templated)
    :param safety_lag: how far behind now the cutoff stays (a timedelta or seconds). (templated)
    :param check_refresh_dates: compare ``v2/refreshdate`` with the watermark first.
    :param ocds_conn_id: connection of type ``ocds``.
    :param page_size: ``limit`` per page (server default 10,000). (templated)
    """

    template_fields: Sequence[str] = (
        *SyncOperator.template_fields, "endpoint", "filters", "run_filters", "since", "before", "full_refresh",
        "safety_lag", "page_size",
    )
    template_fields_renderers = {"filters": "json", "run_filters": "json"}
    ui_color = "#f0e4d0"

    def __init__(self, *, endpoint: str, filters: dict[str, Any] | None = None,
                 run_filters: dict[str, Any] | None = None, since: str | datetime | None = None,
                 before: str | datetime | None = None, full_refresh: bool | str = False,
                 safety_lag: timedelta | int | str = DEFAULT_LAG, check_refresh_dates: bool = True,
                 ocds_conn_id: str = OcdsHook.default_conn_name, schema: str = SCHEMA,
                 page_size: int | str | None = None, **kwargs: Any) -> None:
        super().__init__(schema=schema, **kwargs)
        self.endpoint, self.filters, self.run_filters = endpoint, filters or {}, run_filters or {}
        self.since, self.before, self.full_refresh = since, before, full_refresh
        self.safety_lag, self.check_refresh_dates = safety_lag, check_refresh_dates
        self.ocds_conn_id, self.page_size = ocds_conn_id, page_size
        self.check_static(())  # plan_inputs skips what is templated

    def plan_inputs(self) -> dict[str, Any]:
        """Parse-time checks of what is not templated: the endpoint, its filters, the lag."""
        if not is_template(self.safety_lag):
            parse_seconds(self.safety_lag, "safety_lag")
        if is_template(self.endpoint):
            return {}
        endpoint = get_endpoint(self.endpoint)
        if isinstance(self.filters, dict) and not any(is_template(v) for v in self.filters.values()):
            endpoint.validate_filters(self.filters)
        return {"endpoint": endpoint}

    def selection_names(self) -> set[str]:
        return {get_endpoint(self.endpoint).name}

    def make_hook(self) -> OcdsHook:
        return OcdsHook(self.ocds_conn_id)

    # -- plan -----------------------------------------------------------------------------

    def plan(self, context: Any) -> dict[str, Any] | None:
        """Every input checked and the window ``[since, before)`` resolved; ``None`` when it is empty."""
        endpoint = get_endpoint(self.endpoint)
        plan: dict[str, Any] = {"endpoint": endpoint, "filters": endpoint.validate_filters(self.scoped_filters()),
                                "page_size": parse_optional_int(self.page_size, "page_size", 1, MAX_LIMIT),
                                "since": None, "before": None, "full": True, "watermark": None}
        if endpoint.windowed:
            plan.update(self.window(context, endpoint, plan["filters"]))
            if plan["since"] >= plan["before"]:
                if plan["explicit"]:
                    raise InputValidationError(
                        f"since must be earlier than before (since={plan['since'].isoformat()}, "
                        f"before={plan['before'].isoformat()})", api="ocds")
                self.log.info("Nothing to sync: watermark %s is not before the cutoff %s",
                              plan["since"].isoformat(), plan["before"].isoformat())
                return None
        return plan

    def scoped_filters(self) -> dict[str, Any]:
        """``filters`` with this run's filters that the endpoint documents over them.

        :raises AirflowSkipException: the run is scoped, but by nothing this endpoint takes.
        """
        given = {k: v for k, v in (self.run_filters or {}).items() if v not in (None, "")}
        endpoint = get_endpoint(self.endpoint)
        taken = {k: v for k, v in given.items() if k in endpoint.filters}
        if given and not taken:
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException(f"this run is scoped by {', '.join(sorted(given))}, which "
                                       f"v2/{endpoint.path} does not take")
        return {**self.filters, **taken}

    def window(self, context: Any, endpoint: OcdsEndpoint, filters: dict[str, str]) -> dict[str, Any]:
        """Decide ``since``, ``before`` and a full resync (see the module docstring)."""
        mark = time_watermark(watermark_key(endpoint, filters))
        since, before = parse_time(self.since, "since"), parse_time(self.before, "before")
        cutoff = datetime.now(UTC) - parse_seconds(self.safety_lag, "safety_lag")
        interval = backfill_interval(context)
        if interval and since is None and before is None:
            since, before = interval
        explicit = since is not None
        current = mark.read()
        full = flag(self.full_refresh)
        since = EPOCH if full else (since or current or EPOCH)
        before = before or cutoff
        if before > cutoff:
            raise InputValidationError(f"before must not be later than now minus the safety lag "
                                       f"({cutoff.isoformat()}); got {before.isoformat()}", api="ocds")
        return {"watermark_key": mark.key, "watermark": current, "since": since, "before": before,
                "explicit": explicit, "full": since == EPOCH}

    def nothing_to_do(self, plan: dict[str, Any] | None) -> dict[str, Any]:
        endpoint = get_endpoint(self.endpoint)
        return {"endpoint": endpoint.name, "filters": endpoint.validate_filters(self.scoped_filters()),
                "skipped": "window is empty"}

    # -- sync -----------------------------------------------------------------------------

    def targets(self, plan: dict[str, Any]) -> list[Target]:
        return targets_for(plan["endpoint"], filters=plan["filters"], since=plan["since"], before=plan["before"],
                           sweep=plan["full"], schema=self.schema)

    def sync(self, hook: OcdsHook, conn: Any, plan: dict[str, Any], run_info: dict[str, Any]) -> Any:
        endpoint = plan["endpoint"]
        self.upgrade_tables(conn, endpoint, plan)
        if endpoint.windowed:
            self.check_refresh_date(hook, endpoint, plan)
        result = sync_endpoint(hook, conn, endpoint, filters=plan["filters"], since=plan["since"],
                               before=plan["before"], sweep=plan["full"], schema=self.schema,
                               page_size=plan["page_size"], batch_rows=self.batch_rows, run_info=run_info)
        if endpoint.windowed and result.before:  # a resumed full load ends where it began to
            plan["before"] = datetime.fromisoformat(result.before)
        return result

    def upgrade_tables(self, conn: Any, endpoint: OcdsEndpoint, plan: dict[str, Any]) -> None:
        """Tables of an older layout are moved aside; then only a full refresh rebuilds them."""
        views = []
        if endpoint.nested:
            schema, name, _sql = state_view(self.schema, endpoint.table)
            views.append(f'"{schema}"."{name}"')
        targets = self.targets(plan)
        upgrade_tables(conn, [t.spec for t in targets], views)
        aside = resync_needed(conn, targets)
        if aside and not plan["full"]:
            self.log.warning("%s holds %s as written by an older release, and this scope has not been "
                             "resynced since: resyncing %s fully", aside, targets[0].table, endpoint.name)
            plan["since"], plan["full"] = EPOCH, True

    def check_refresh_date(self, hook: OcdsHook, endpoint: OcdsEndpoint, plan: dict[str, Any]) -> None:
        """A bulk load newer than the watermark means deletes may be missing: resync fully."""
        if not (self.check_refresh_dates and endpoint.refresh_entity and plan["watermark"]) or plan["full"]:
            return
        refreshed = hook.get_refresh_dates(endpoint.refresh_entity).get(endpoint.refresh_entity)
        if refreshed is None or refreshed < plan["watermark"]:
            return
        if refreshed >= plan["before"]:
            # the reload is still inside the safety lag: its rows are not in this window yet, and a
            # full resync now would sweep them away.  The next run resyncs fully.
            self.log.warning("OCDS bulk load of %s at %s is newer than the cutoff; the next run resyncs it",
                             endpoint.refresh_entity, refreshed.isoformat())
            return
        self.log.warning("OCDS reports a bulk load of %s at %s, after the watermark %s: resyncing %s fully",
                         endpoint.refresh_entity, refreshed.isoformat(), plan["watermark"].isoformat(), endpoint.name)
        plan["since"], plan["full"] = EPOCH, True

    def after_commit(self, result: Any, plan: dict[str, Any], context: Any) -> dict[str, Any]:
        out = result.as_dict()
        if plan["endpoint"].windowed:
            mark = time_watermark(plan["watermark_key"])
            value = mark.advance(plan["watermark"], plan["since"], plan["before"])
            out["watermark"] = value.isoformat() if value else None
        out["alerted"] = notify_rejects(out, context)
        return out
