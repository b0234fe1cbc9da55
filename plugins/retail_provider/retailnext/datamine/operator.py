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
with ``on_metric_error="warn"``, skips that whole request with a warning.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import BaseOperator
from pydantic import BaseModel

from retail_provider.http.errors import ApiError, InputValidationError
from retail_provider.retailnext.datamine.flatten import flatten
from retail_provider.retailnext.datamine.plan import MAX_POINTS, plan, window_request
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.warehouse.loader import MergeLoader, ensure_ledger, ensure_table, ledger_finish, ledger_start
from retail_provider.warehouse.schema import TableSpec, table_spec

SCHEMA = "retailnext"
DEFAULT_METRICS = ("traffic_in", "traffic_out")


class DataminePoint(BaseModel):
    """One row of a datamine table (periods are wall-clock times in ``time_zone``;
    ``time_zone`` is empty for each store's own zone)."""

    location_uuid: str
    metric: str
    time_zone: str
    period_start: datetime
    slot: str
    period_end: datetime | None = None
    value: float | None = None
    validity: str | None = None


def points_spec(table: str, schema: str = SCHEMA) -> TableSpec:
    return table_spec(DataminePoint, schema=schema, table=table,
                      key=("location_uuid", "metric", "time_zone", "period_start", "slot"))


def _as_date(value: Any, name: str) -> date | None:
    if value in (None, "", "None"):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InputValidationError(f"{name} must be a date yyyy-mm-dd (got {value!r})", api="retailnext") from None


class DatamineToPostgresOperator(BaseOperator):
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

    def __init__(
        self,
        *,
        table: str,
        locations: list[str] | str | None = None,
        metrics: list[str] | Sequence[str] = DEFAULT_METRICS,
        grain: str = "day",
        date_from: str | date | None = None,
        date_to: str | date | None = None,
        time_zone: str | None = None,
        request: dict[str, Any] | None = None,
        observed_at: bool = False,
        on_metric_error: str = "fail",
        extra_metrics: Sequence[str] = (),
        max_points: int = MAX_POINTS,
        location_batch_size: int = 100,
        retailnext_conn_id: str = RetailNextHook.default_conn_name,
        postgres_conn_id: str = "warehouse_default",
        schema: str = SCHEMA,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if on_metric_error not in ("fail", "warn"):
            raise InputValidationError(f"on_metric_error must be 'fail' or 'warn' (got {on_metric_error!r})",
                                       api="retailnext")
        if grain not in ("day", "hour"):
            raise InputValidationError(f"grain must be 'day' or 'hour' (got {grain!r})", api="retailnext")
        if not 1 <= max_points <= MAX_POINTS:
            raise InputValidationError(f"max_points must be from 1 to {MAX_POINTS}", api="retailnext")
        self.table = table
        self.locations = locations
        self.metrics = list(metrics)
        self.grain = grain
        self.date_from = date_from
        self.date_to = date_to
        self.time_zone = time_zone
        self.request = request
        self.observed_at = observed_at
        self.on_metric_error = on_metric_error
        self.extra_metrics = tuple(extra_metrics)
        self.max_points = max_points
        self.location_batch_size = location_batch_size
        self.retailnext_conn_id = retailnext_conn_id
        self.postgres_conn_id = postgres_conn_id
        self.schema = schema

    # -- request ------------------------------------------------------------------------

    def _body(self, locations: list[str]) -> dict[str, Any]:
        if self.request:
            body = dict(self.request)
            body["locations"] = body.get("locations") or locations
            return body
        date_from = _as_date(self.date_from, "date_from")
        date_to = _as_date(self.date_to, "date_to")
        if date_from is None or date_to is None:
            raise InputValidationError("date_from and date_to are required without an explicit request",
                                       api="retailnext")
        return window_request(locations=locations, metrics=self.metrics, date_from=date_from, date_to=date_to,
                              grain=self.grain, time_zone=self.time_zone or None)

    def _locations(self) -> list[str] | None:
        value = self.locations
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        return list(value) if value else None

    # -- run ----------------------------------------------------------------------------

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        now = datetime.now(UTC)
        locations = self._locations()
        # validate everything that does not need the location list before any call
        plan(self._body(locations or ["00000000-0000-0000-0000-000000000000"]), now=now,
             max_points=self.max_points, location_batch_size=self.location_batch_size,
             extra_metrics=self.extra_metrics)
        hook = RetailNextHook(self.retailnext_conn_id)
        if not locations:
            locations = [x.uuid for x in hook.query_locations(location_types=["store"])]
        chunks = plan(self._body(locations), now=now, max_points=self.max_points,
                      location_batch_size=self.location_batch_size, extra_metrics=self.extra_metrics)
        spec = points_spec(self.table, self.schema)
        observed = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0, tzinfo=None)
        zone_label = "UTC" if self.observed_at else (chunks[0].body.get("time_zone") or "") if chunks else ""
        started = time.perf_counter()
        conn = PostgresHook(postgres_conn_id=self.postgres_conn_id).get_conn()
        summary: dict[str, Any] = {"table": f"{self.schema}.{self.table}", "requests": len(chunks), "skipped": []}
        validity: Counter[str] = Counter()
        day_status: dict[str, set[str]] = defaultdict(set)
        try:
            conn.autocommit = False
            ensure_ledger(conn)
            ensure_table(conn, spec)
            ti = context.get("ti") if context else None
            sync_id = ledger_start(
                conn, vendor="retailnext", endpoint="v2/datamine", target_table=summary["table"],
                filters={"metrics": self.metrics if not self.request else self.request.get("metrics"),
                         "locations": len(locations)},
                mode="datamine",
                since=datetime.combine(chunks[0].start.date(), datetime.min.time(), tzinfo=UTC) if chunks else None,
                before=datetime.combine(chunks[-1].end.date(), datetime.min.time(), tzinfo=UTC) if chunks else None,
                dag_id=getattr(ti, "dag_id", None), run_id=getattr(ti, "run_id", None),
                task_id=getattr(ti, "task_id", None), try_number=getattr(ti, "try_number", None),
            )
            loader = MergeLoader(conn, spec, scope="", sync_id=sync_id)
            loader.prepare()
            for chunk in chunks:
                response = hook.datamine(chunk.body)
                failed = [mt for mt in response.metrics if not mt.ok]
                if not response.ok or failed:
                    reason = "; ".join(f"{mt.name}: {mt.error}" for mt in failed) or str(response.error)
                    if self.on_metric_error == "fail":
                        raise ApiError(f"retailnext datamine answered ok=false ({reason})", api="retailnext")
                    self.log.warning("Skipping a datamine request of %d locations %s..%s: %s",
                                     len(chunk.locations), chunk.start, chunk.end, reason)
                    summary["skipped"].append({"start": chunk.start.isoformat(), "end": chunk.end.isoformat(),
                                               "locations": len(chunk.locations), "reason": reason})
                    for d in chunk.days:
                        day_status[d.isoformat()].add("missing")
                    continue
                rows = []
                counts: dict[str, int] = defaultdict(int)
                for _, p in flatten(response, locations=chunk.locations, range_start=chunk.start):
                    start = observed if self.observed_at else p.period_start
                    rows.append(("UPSERT", p.location_uuid, p.metric, zone_label, start, p.slot,
                                 None if self.observed_at else p.period_end, p.value, p.validity, None))
                    validity[p.validity or "none"] += 1
                    day = p.period_start.date().isoformat()
                    day_status[day].add(p.validity or "incomplete")
                    counts[day] += 1
                if not self.request:
                    expected = len(chunk.locations) * len(self.metrics) * (24 if self.grain == "hour" else 1)
                    for d in chunk.days:
                        if d < chunk.end.date() and counts.get(d.isoformat(), 0) < expected:
                            day_status[d.isoformat()].add("missing")
                loader.stage(rows)
            merged = loader.finish()
            ledger_finish(conn, sync_id, status="success", rows_by_action={"points": sum(validity.values())},
                          rows_upserted=merged["upserted"], pages=len(chunks),
                          duration_s=round(time.perf_counter() - started, 3))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()
            hook.close()
        summary.update(points=sum(validity.values()), validity=dict(validity), upserted=merged["upserted"],
                       days={d: _worst(s) for d, s in sorted(day_status.items())})
        self.log.info("datamine into %s: %d requests, %d points %s, %d rows written",
                      summary["table"], len(chunks), summary["points"], dict(validity), merged["upserted"])
        return summary


def _worst(statuses: set[str]) -> str:
    for s in ("missing", "incomplete", "imputed"):
        if s in statuses:
            return s
    return "complete"


def last_final_day(results: list[dict[str, Any]], start: date, end: date, *, final_before: date) -> date | None:
    """The watermark: the last day D in ``[start, end)`` such that every day from ``start`` to D
    is final in every result.  A day is final when all its points are ``complete``; days
    before ``final_before`` (the validity lookback) are final once loaded, whatever their
    validity, so one sensor that never recovers cannot hold the watermark back forever.
    A day with missing points is never final."""
    worst: dict[str, str] = {}
    for r in results:
        for d, s in (r or {}).get("days", {}).items():
            worst[d] = _worst({worst.get(d, "complete"), s})
    last = None
    day = start
    while day < end:
        status = worst.get(day.isoformat(), "missing")
        if status == "missing" or (status != "complete" and day >= final_before):
            break
        last = day
        day += timedelta(days=1)
    return last
