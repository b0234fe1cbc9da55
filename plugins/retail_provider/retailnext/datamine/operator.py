"""DatamineToPostgresOperator: RetailNext datamine metrics into PostgreSQL.

The request is either the run's window (``grain`` day or hour over ``[date_from,
date_to)``, one point per location, metric and period) or an explicit, templated datamine
body (``request``).  Before any call the operator validates the request against the
documented rules (metric names, group-by units, ``name`` dates need a time zone, the
``local`` restrictions, the 5-year / 2-year range limits) and splits it into requests the
API answers in full (at most 10,000 points each, locations batched, date ranges cut at
date-group boundaries).

All points of a run are staged with COPY and merged by (location, metric, time zone,
period start, slot) in one transaction, keeping ``validity``.  A metric answered with
``ok: false`` fails the task with the API's reason (nothing of the run is committed), or,
with ``on_metric_error="warn"``, skips that whole request with a warning.  A failure writes
a ``failed`` ledger row, like every sync.
"""

from __future__ import annotations

import time as clock
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from retail_provider.http.errors import InputValidationError
from retail_provider.orchestration.inputs import parse_day
from retail_provider.orchestration.operator import SyncOperator
from retail_provider.retailnext.datamine.load import ENDPOINT, PointWriter, points_spec
from retail_provider.retailnext.datamine.plan import MAX_POINTS, Chunk, plan, window_request
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.tables import SCHEMA, VENDOR
from retail_provider.warehouse.tablesync import Target, open_tables

DEFAULT_METRICS = ("traffic_in", "traffic_out")
GRAINS = {"day": 1, "hour": 24}  # points per location, metric and day
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


class DatamineToPostgresOperator(SyncOperator):
    """Load RetailNext datamine metrics into ``retailnext.<table>``.

    :param table: target table in schema ``retailnext`` (for example ``traffic_daily``). (templated)
    :param locations: location uuids; empty means every store. (templated)
    :param metrics: metric names (default traffic_in, traffic_out). (templated)
    :param grain: ``day`` or ``hour`` for window requests.
    :param date_from: first local day of the window, ``yyyy-mm-dd``. (templated)
    :param date_to: day after the last one (exclusive). (templated)
    :param time_zone: IANA zone of the dates; empty means each store's own zone. (templated)
    :param request: an explicit datamine body instead of the window (templated); its
        ``locations`` may be omitted to mean every store.
    :param observed_at: key rows by the observation time (now, 15-minute bucket, UTC)
        instead of the period: for current occupancy snapshots.
    :param on_metric_error: ``fail`` (default) or ``warn`` when a metric answers ``ok: false``.
    :param extra_metrics: metric names to accept beyond the documented ones.
    :param max_points: points per request (the API's cap is 10,000).
    :param location_batch_size: most locations per request.
    """

    template_fields: Sequence[str] = ("table", "locations", "metrics", "date_from", "date_to", "time_zone", "request")
    template_fields_renderers = {"request": "json"}
    ui_color = "#d6eaf8"

    def __init__(self, *, table: str, locations: list[str] | str | None = None,
                 metrics: list[str] | Sequence[str] = DEFAULT_METRICS, grain: str = "day",
                 date_from: str | date | None = None, date_to: str | date | None = None, time_zone: str | None = None,
                 request: dict[str, Any] | None = None, observed_at: bool = False, on_metric_error: str = "fail",
                 extra_metrics: Sequence[str] = (), max_points: int = MAX_POINTS, location_batch_size: int = 100,
                 retailnext_conn_id: str = RetailNextHook.default_conn_name, schema: str = SCHEMA,
                 **kwargs: Any) -> None:
        super().__init__(schema=schema, **kwargs)
        if on_metric_error not in ("fail", "warn"):
            raise InputValidationError(f"on_metric_error must be 'fail' or 'warn' (got {on_metric_error!r})")
        if grain not in GRAINS:
            raise InputValidationError(f"grain must be 'day' or 'hour' (got {grain!r})")
        if not 1 <= max_points <= MAX_POINTS:
            raise InputValidationError(f"max_points must be from 1 to {MAX_POINTS}")
        self.table, self.locations, self.metrics, self.grain = table, locations, list(metrics), grain
        self.date_from, self.date_to, self.time_zone, self.request = date_from, date_to, time_zone, request
        self.observed_at, self.on_metric_error = observed_at, on_metric_error
        self.extra_metrics, self.max_points = tuple(extra_metrics), max_points
        self.location_batch_size = location_batch_size
        self.retailnext_conn_id = retailnext_conn_id

    def make_hook(self) -> RetailNextHook:
        return RetailNextHook(self.retailnext_conn_id)

    # -- plan -----------------------------------------------------------------------------

    def _body(self, locations: list[str]) -> dict[str, Any]:
        if self.request:
            return {**self.request, "locations": self.request.get("locations") or locations}
        date_from, date_to = parse_day(self.date_from, "date_from"), parse_day(self.date_to, "date_to")
        if date_from is None or date_to is None:
            raise InputValidationError("date_from and date_to are required without an explicit request")
        return window_request(locations=locations, metrics=self.metrics, date_from=date_from, date_to=date_to,
                              grain=self.grain, time_zone=self.time_zone or None)

    def _chunks(self, locations: list[str], now: datetime) -> list[Chunk]:
        return plan(self._body(locations), now=now, max_points=self.max_points,
                    location_batch_size=self.location_batch_size, extra_metrics=self.extra_metrics)

    def plan(self, context: Any) -> dict[str, Any]:
        """Everything that does not need the location list is checked before any call."""
        value = self.locations
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        locations = list(value) if value else None
        now = datetime.now(UTC)
        self._chunks(locations or [PLACEHOLDER], now)
        metrics = self.request.get("metrics") if self.request else self.metrics
        return {"locations": locations, "now": now, "metrics": metrics,
                "since": _midnight(parse_day(self.date_from, "date_from")),
                "before": _midnight(parse_day(self.date_to, "date_to"))}

    def targets(self, plan: dict[str, Any]) -> list[Target]:
        return [Target(vendor=VENDOR, endpoint=ENDPOINT, spec=points_spec(self.table, self.schema), mode="datamine",
                       filters={"metrics": plan["metrics"], "locations": len(plan["locations"] or [])},
                       since=plan["since"], before=plan["before"])]

    # -- sync -----------------------------------------------------------------------------

    def sync(self, hook: RetailNextHook, conn: Any, plan: dict[str, Any], run_info: dict[str, Any]) -> dict[str, Any]:
        now, started = plan["now"], clock.perf_counter()
        if not plan["locations"]:
            plan["locations"] = [x.uuid for x in hook.query_locations(location_types=["store"])]
        chunks = self._chunks(plan["locations"], now)
        if chunks:
            plan["since"], plan["before"] = _midnight(chunks[0].start.date()), _midnight(chunks[-1].end.date())
        (table,) = open_tables(conn, self.targets(plan), run_info=run_info, batch_rows=self.batch_rows)
        observed = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0, tzinfo=None)
        writer = PointWriter(
            table, zone_label="UTC" if self.observed_at else (chunks[0].body.get("time_zone") or "") if chunks else "",
            observed=observed if self.observed_at else None, on_metric_error=self.on_metric_error,
            expected_per_day=None if self.request else len(self.metrics) * GRAINS[self.grain])
        for chunk in chunks:
            writer.write(chunk, hook.datamine(chunk.body))
        load = table.finish()
        table.record(pages=len(chunks), duration_s=round(clock.perf_counter() - started, 3))
        summary = {"table": load.table, "requests": len(chunks), **writer.load.summary(), "upserted": load.upserted}
        self.log.info("datamine into %s: %d requests, %d points %s, %d rows written", load.table, len(chunks),
                      summary["points"], summary["validity"], load.upserted)
        return summary

    def after_commit(self, result: dict[str, Any], plan: dict[str, Any], context: Any) -> dict[str, Any]:
        return result
