"""DatamineToPostgresOperator: RetailNext datamine metrics into PostgreSQL.

The request is either the run's window (one point per location, metric and period of
``grain``: 15 minutes, hour, day, week, month or day of week, over ``[date_from,
date_to)`` widened to whole periods) or an explicit, templated datamine body
(``request``).  Before any call the operator validates the request against the
documented rules and the metric catalogue (:mod:`.catalog`), with dates read in the
connection's calendar (:mod:`.calendar`).

Every request carries a ``time_zone``: without one, locations are grouped by their
store's zone and each group is asked in its own zone.  Requests are planned from the true
number of points (store-hours grids included) and every answer is checked before it is
staged (:mod:`.check`): a trimmed answer is split and asked again, never loaded.

All points of a run are staged with COPY and merged by (location, metric, time zone,
period start, slot) in one transaction, keeping ``validity``.  A metric answered with
``ok: false`` fails the task with the API's reason (nothing of the run is committed), or,
with ``on_metric_error="warn"``, skips that whole request with a warning.  A failure writes
a ``failed`` ledger row, like every sync.
"""

from __future__ import annotations

import time as clock
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from retail_provider.http.errors import InputValidationError
from retail_provider.orchestration.inputs import parse_day
from retail_provider.orchestration.operator import SyncOperator
from retail_provider.retailnext.datamine.calendar import Calendar
from retail_provider.retailnext.datamine.catalog import DEFAULT_METRICS
from retail_provider.retailnext.datamine.check import fetch_answers
from retail_provider.retailnext.datamine.facts import by_zone, hours_span, store_facts
from retail_provider.retailnext.datamine.grains import GRAINS, align
from retail_provider.retailnext.datamine.load import ENDPOINT, PointWriter, points_spec
from retail_provider.retailnext.datamine.plan import MAX_POINTS, Chunk, plan, window_request
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.tables import SCHEMA, VENDOR
from retail_provider.warehouse.tablesync import Target, open_tables

PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def parse_metrics(value: Any) -> list[str]:
    """A metric list from a list or a comma-separated string (a rendered Param)."""
    if isinstance(value, str):
        value = value.strip().strip("[]").replace("'", "").replace('"', "").split(",")
    return [str(v).strip() for v in value or [] if str(v).strip()]


class DatamineToPostgresOperator(SyncOperator):
    """Load RetailNext datamine metrics into ``retailnext.<table>``.

    :param table: target table in schema ``retailnext`` (for example ``traffic_daily``). (templated)
    :param locations: location uuids; empty means every store. (templated)
    :param metrics: metric names from the catalogue (default traffic_in, traffic_out). (templated)
    :param grain: ``15min``, ``hour``, ``day``, ``week``, ``month`` or ``day_of_week`` for window requests.
    :param date_from: first local day of the window, ``yyyy-mm-dd``. (templated)
    :param date_to: day after the last one (exclusive). (templated)
    :param time_zone: IANA zone of the dates; empty means each store's own zone (stores are
        then asked per zone, always with a ``time_zone``). (templated)
    :param request: an explicit datamine body instead of the window (templated); its
        ``locations`` may be omitted to mean every store.
    :param observed_at: key rows by the observation time (now, 15-minute bucket, UTC)
        instead of the period: for current occupancy snapshots.
    :param on_metric_error: ``fail`` (default) or ``warn`` when a metric answers ``ok: false``.
    :param extra_metrics: metric names to accept beyond the catalogue.
    :param max_points: points per request (the API's cap is 10,000).
    :param location_batch_size: most locations per request.
    """

    template_fields: Sequence[str] = ("table", "locations", "metrics", "date_from", "date_to", "time_zone", "request")
    template_fields_renderers = {"request": "json"}
    ui_color = "#d6eaf8"

    def __init__(self, *, table: str, locations: list[str] | str | None = None,
                 metrics: list[str] | Sequence[str] | str = DEFAULT_METRICS, grain: str = "day",
                 date_from: str | date | None = None, date_to: str | date | None = None, time_zone: str | None = None,
                 request: dict[str, Any] | None = None, observed_at: bool = False, on_metric_error: str = "fail",
                 extra_metrics: Sequence[str] = (), max_points: int = MAX_POINTS, location_batch_size: int = 100,
                 retailnext_conn_id: str = RetailNextHook.default_conn_name, schema: str = SCHEMA,
                 **kwargs: Any) -> None:
        super().__init__(schema=schema, **kwargs)
        if on_metric_error not in ("fail", "warn"):
            raise InputValidationError(f"on_metric_error must be 'fail' or 'warn' (got {on_metric_error!r})")
        if grain not in GRAINS:
            raise InputValidationError(f"grain must be one of {', '.join(GRAINS)} (got {grain!r})")
        if not 1 <= max_points <= MAX_POINTS:
            raise InputValidationError(f"max_points must be from 1 to {MAX_POINTS}")
        self.table, self.locations, self.metrics, self.grain = table, locations, metrics, grain
        self.date_from, self.date_to, self.time_zone, self.request = date_from, date_to, time_zone, request
        self.observed_at, self.on_metric_error = observed_at, on_metric_error
        self.extra_metrics, self.max_points = tuple(extra_metrics), max_points
        self.location_batch_size = location_batch_size
        self.retailnext_conn_id = retailnext_conn_id

    def make_hook(self) -> RetailNextHook:
        return RetailNextHook(self.retailnext_conn_id)

    # -- plan -----------------------------------------------------------------------------

    def _window(self, calendar: Calendar) -> tuple[date, date]:
        date_from, date_to = parse_day(self.date_from, "date_from"), parse_day(self.date_to, "date_to")
        if date_from is None or date_to is None:
            raise InputValidationError("date_from and date_to are required without an explicit request")
        if date_to <= date_from:
            raise InputValidationError(f"date_to ({date_to}) must be after date_from ({date_from})")
        return align(self.grain, date_from, date_to, calendar)

    def _body(self, locations: list[str], calendar: Calendar, time_zone: str | None) -> dict[str, Any]:
        if self.request:
            body = {**self.request, "locations": self.request.get("locations") or locations}
            if time_zone and not body.get("time_zone"):
                body["time_zone"] = time_zone
            return body
        date_from, date_to = self._window(calendar)
        return window_request(locations=locations, metrics=parse_metrics(self.metrics), date_from=date_from,
                              date_to=date_to, grain=self.grain, time_zone=self.time_zone or time_zone)

    def _chunks(self, body: dict[str, Any], now: datetime, calendar: Calendar, **facts: Any) -> list[Chunk]:
        return plan(body, now=now, max_points=self.max_points, location_batch_size=self.location_batch_size,
                    extra_metrics=self.extra_metrics, calendar=calendar, **facts)

    def plan(self, context: Any) -> dict[str, Any]:
        """Everything that does not need the location list is checked before any call."""
        value = self.locations
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        locations = list(value) if value else None
        now = datetime.now(UTC)
        calendar = self.make_hook().calendar()  # a connection setting: no API call
        self._chunks(self._body(locations or [PLACEHOLDER], calendar, None), now, calendar)
        metrics = self.request.get("metrics") if self.request else parse_metrics(self.metrics)
        window = (None, None) if self.request else self._window(calendar)
        return {"locations": locations, "now": now, "metrics": metrics, "calendar": calendar,
                "since": _midnight(window[0]), "before": _midnight(window[1])}

    def targets(self, plan: dict[str, Any]) -> list[Target]:
        return [Target(vendor=VENDOR, endpoint=ENDPOINT, spec=points_spec(self.table, self.schema), mode="datamine",
                       filters={"metrics": plan["metrics"], "locations": len(plan["locations"] or [])},
                       since=plan["since"], before=plan["before"])]

    # -- sync -----------------------------------------------------------------------------

    def _planned(self, hook: RetailNextHook, plan: dict[str, Any]) -> list[Chunk]:
        """Chunks of every zone group, planned from the stores' true grids."""
        if not plan["locations"]:
            plan["locations"] = [x.uuid for x in hook.query_locations(location_types=["store"])]
        facts = store_facts(hook, plan["locations"])
        given = (self.request or {}).get("time_zone") or self.time_zone
        groups = {given: plan["locations"]} if given else by_zone(plan["locations"], facts)
        chunks: list[Chunk] = []
        for zone, locs in groups.items():
            body = self._body(locs, plan["calendar"], zone)
            span = None
            if body["time_ranges"][0].get("type") == "store_hours" and any(
                    g.get("group") == "time" for g in body.get("group_bys") or []):
                first = self._chunks(body, plan["now"], plan["calendar"], stores_per_location=facts.stores)
                span = hours_span(hook, locs, facts, zone, first[0].start.date(),
                                  (first[-1].end - timedelta(microseconds=1)).date()) if first else None
            chunks += self._chunks(body, plan["now"], plan["calendar"], span=span, stores_per_location=facts.stores)
        return chunks

    def sync(self, hook: RetailNextHook, conn: Any, plan: dict[str, Any], run_info: dict[str, Any]) -> dict[str, Any]:
        now, started = plan["now"], clock.perf_counter()
        chunks = self._planned(hook, plan)
        if chunks and not self.request:
            plan["since"] = _midnight(min(c.start for c in chunks).date())
            plan["before"] = _midnight(max(c.end for c in chunks).date())
        (table,) = open_tables(conn, self.targets(plan), run_info=run_info, batch_rows=self.batch_rows)
        observed = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0, tzinfo=None)
        writer = PointWriter(table, zone_label="UTC" if self.observed_at else "",
                             observed=observed if self.observed_at else None, on_metric_error=self.on_metric_error,
                             now=now)
        asked: list[int] = []

        def ask(body: dict[str, Any]) -> Any:
            asked.append(1)
            return hook.datamine(body)

        for chunk, response in fetch_answers(ask, chunks):
            writer.write(chunk, response)
        requests = len(asked)
        load = table.finish()
        table.record(pages=requests, duration_s=round(clock.perf_counter() - started, 3))
        summary = {"table": load.table, "requests": requests, **writer.load.summary(), "upserted": load.upserted}
        self.log.info("datamine into %s: %d requests, %d points %s, %d rows written", load.table, requests,
                      summary["points"], summary["validity"], load.upserted)
        return summary

    def after_commit(self, result: dict[str, Any], plan: dict[str, Any], context: Any) -> dict[str, Any]:
        return result
