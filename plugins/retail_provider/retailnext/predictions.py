"""Predicted traffic: the next days per store and 15-minute bucket, in 7-day requests.

``predicted_at`` is when a bucket's current value was first fetched: an unchanged prediction
keeps it, so a rerun writes nothing.  Buckets of a store between the first and last one
returned that the API no longer returns are deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext import models as m
from retail_provider.retailnext.resources import ResourceWriter, SyncResult, resource_targets
from retail_provider.retailnext.stores import parallel, store_zones
from retail_provider.retailnext.tables import SCHEMA, VENDOR, PredictedTrafficRow
from retail_provider.warehouse.schema import TableSpec

RESOURCE = "predicted_traffic"
MAX_DAYS_AHEAD = 31
REQUEST_DAYS = 7


def prediction_requests(zones: dict[str, ZoneInfo], *, now: datetime, days_ahead: int) -> list[tuple[str, date, date]]:
    """``(store, first_day, last_day)`` chunks of at most 7 days from tomorrow (store time) on."""
    out = []
    for store, tz in zones.items():
        today = now.astimezone(tz).date()
        day, last = today + timedelta(days=1), today + timedelta(days=days_ahead)
        while day <= last:
            chunk_end = min(day + timedelta(days=REQUEST_DAYS - 1), last)
            out.append((store, day, chunk_end))
            day = chunk_end + timedelta(days=1)
    return out


def sync_predicted_traffic(hook: Any, conn: Any, *, stores: Sequence[str] | None = None, days_ahead: int = 31,
                           now: datetime | None = None, schema: str = SCHEMA, batch_rows: int = 50_000,
                           run_info: dict[str, Any] | None = None) -> SyncResult:
    """The next ``days_ahead`` days of predicted traffic per store.

    Requests run on as many threads as the hook's concurrency cap (RetailNext allows 3
    concurrent predicted-traffic requests; a 429 is retried after its ``Retry-After``).
    """
    if not 1 <= days_ahead <= MAX_DAYS_AHEAD:
        raise InputValidationError(f"days_ahead must be from 1 to {MAX_DAYS_AHEAD} (got {days_ahead})", api=VENDOR)
    now = now or datetime.now(UTC)
    zones = store_zones(hook, stores)
    requests = prediction_requests(zones, now=now, days_ahead=days_ahead)
    result = SyncResult(resource=RESOURCE, mode="window", requests=len(requests),
                        filters={"days_ahead": days_ahead, "stores": len(zones) if not stores else list(zones)})
    fetched: dict[str, list[m.Prediction]] = {s: [] for s in zones}
    for (store, _, _), answer in parallel(hook, hook.predicted_traffic, requests):
        fetched[store] += answer.predictions
    writer = ResourceWriter(conn, result, resource_targets(RESOURCE, filters={"days_ahead": days_ahead},
                                                           schema=schema), run_info=run_info, batch_rows=batch_rows)
    previous = _previous_predictions(conn, writer.spec(RESOURCE), list(zones))
    rows = {store: _rows(store, predictions, previous, now) for store, predictions in fetched.items()}
    writer.write(RESOURCE, [r for store_rows in rows.values() for r in store_rows])
    spans = [(store, min(r.time for r in rs), max(r.time for r in rs)) for store, rs in rows.items() if rs]
    if spans:
        _sweep_spans(conn, writer, [(store, r.time) for store, rs in rows.items() for r in rs], spans)
    return writer.close()


def _rows(store: str, predictions: list[m.Prediction], previous: dict[tuple[str, datetime], tuple[Any, Any]],
          now: datetime) -> list[PredictedTrafficRow]:
    """One row per bucket (the last answer wins); an unchanged value keeps its ``predicted_at``."""
    rows: dict[datetime, PredictedTrafficRow] = {}
    for p in predictions:
        row = PredictedTrafficRow.model_validate({**p.model_dump(), "store_uuid": store, "predicted_at": now})
        before = previous.get((store, row.time))
        if before is not None and _same_number(before[0], row.value):
            row.predicted_at = before[1]
        rows[row.time] = row
    return list(rows.values())


def _sweep_spans(conn: Any, writer: ResourceWriter, seen: list[tuple[str, datetime]],
                 spans: list[tuple[str, datetime, datetime]]) -> int:
    """Per store, delete the buckets between the first and last one fetched that were not fetched.

    Only this span: a bucket just before it may belong to a store day that was not requested
    (hours crossing midnight, a day opening the evening before).
    """
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS _spans_predicted_traffic")
        cur.execute("CREATE TEMP TABLE _spans_predicted_traffic (store_uuid text, lo timestamp, hi timestamp) "
                    "ON COMMIT DROP")
        with cur.copy("COPY _spans_predicted_traffic (store_uuid, lo, hi) FROM STDIN") as copy:
            for span in spans:
                copy.write_row(span)
    return writer.sweep_window(RESOURCE, seen, "EXISTS (SELECT 1 FROM _spans_predicted_traffic w WHERE "
                                               "w.store_uuid = t.store_uuid AND t.time BETWEEN w.lo AND w.hi)", {})


def _previous_predictions(conn: Any, spec: TableSpec, stores: list[str]) -> dict[tuple[str, datetime], tuple[Any, Any]]:
    if not stores:
        return {}
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT store_uuid, time, value, predicted_at FROM {spec.qualified} "
            "WHERE store_uuid = ANY(%s) AND time >= (now() AT TIME ZONE 'UTC') - interval '2 days'",
            (stores,),
        )
        return {(r[0], r[1]): (r[2], r[3]) for r in cur.fetchall()}


def _same_number(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return float(a) == float(b)
