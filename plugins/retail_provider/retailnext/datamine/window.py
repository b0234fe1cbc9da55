"""The traffic DAG's window: which days to (re)load, for which stores, and the watermark.

Everything the user can get wrong is checked before the first datamine call: the dates
(format, order, the 5-year rule for one location and the 2-year rule for several) and the
``stores`` Param (an unknown or archived store is refused naming ``stores``).  Listing the
stores is the only call made first (when ``stores`` is empty, to know which ones there are).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from retail_provider.http.errors import InputValidationError
from retail_provider.orchestration.inputs import parse_day
from retail_provider.orchestration.watermark import Watermark, backfill_interval, day_watermark
from retail_provider.retailnext.datamine.plan import window_request
from retail_provider.retailnext.datamine.validate import validate_request
from retail_provider.retailnext.operators import parse_stores
from retail_provider.retailnext.stores import batches, store_zones

TRAFFIC_WATERMARK = "retailnext_watermark__traffic"
TRAFFIC_METRICS = ["traffic_in", "traffic_out"]
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def traffic_watermark(initial_days: int, today: date | None = None) -> Watermark[date]:
    """The last day whose points are final; a first run starts ``initial_days`` before today."""
    today = today or datetime.now(UTC).date()
    return day_watermark(TRAFFIC_WATERMARK, origin=today - timedelta(days=initial_days))


def check_dates(start: date, end: date, locations: list[str]) -> None:
    """The documented range rules for this many locations (raises naming the dates)."""
    if end <= start:
        raise InputValidationError(f"date_to ({end}) must be after date_from ({start})", api="retailnext")
    body = window_request(locations=locations, metrics=TRAFFIC_METRICS, date_from=start, date_to=end, grain="day")
    validate_request(body, now=datetime.now(UTC))


def plan_traffic_window(context: Any, hook_factory: Any, *, initial_days: int, batch_size: int) -> dict[str, Any]:
    """``{"start", "end", "watermark", "batches": [{"locations", "date_from", "date_to"}]}``."""
    params = context["params"]
    today = datetime.now(UTC).date()
    start, end = parse_day(params.get("date_from"), "date_from"), parse_day(params.get("date_to"), "date_to")
    interval = backfill_interval(context)
    if start is None and interval:
        start, end = interval[0].date(), end or interval[1].date()
    mark = traffic_watermark(initial_days, today)
    watermark = mark.read()
    start = start or (watermark + timedelta(days=1) if watermark else mark.origin)
    end = end or today + timedelta(days=2)
    given = parse_stores(params.get("stores"))
    check_dates(start, end, given or [PLACEHOLDER])  # before any call
    with hook_factory() as hook:
        stores = list(store_zones(hook, given))  # names `stores` when one is not an active store
    check_dates(start, end, stores or [PLACEHOLDER])  # the rule for as many stores as there are
    work = [{"locations": b, "date_from": start.isoformat(), "date_to": end.isoformat()}
            for b in batches(stores, batch_size)]
    return {"start": start.isoformat(), "end": end.isoformat(), "batches": work,
            "watermark": watermark.isoformat() if watermark else None}
