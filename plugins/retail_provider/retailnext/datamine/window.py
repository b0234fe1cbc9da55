"""The traffic DAG's window: which days, metrics and grains to (re)load, for which stores,
and the watermark.

Everything the user can get wrong is checked before the first datamine call: the dates
(format, order, the 5-year rule for one store and the 2-year rule for several), the
``metrics`` and ``grain`` Params (names from the catalogue; a day-level metric is only
loaded at day grain or coarser) and the ``stores`` Param (an unknown or archived store is
refused naming ``stores``).  Listing the stores is the only call made first.

Stores are batched **by their own time zone** and every batch is asked in that zone, so
the rows do not depend on what the API does with a request without ``time_zone``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from retail_provider.http.errors import InputValidationError
from retail_provider.orchestration.inputs import parse_day
from retail_provider.orchestration.watermark import Watermark, backfill_interval, day_watermark
from retail_provider.retailnext.datamine.catalog import METRICS, WINDOW_METRICS, is_day_level
from retail_provider.retailnext.datamine.grains import GRAINS, align, grain_named
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


def _names(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.replace(";", ",").split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def choose_metrics(value: Any, default: Sequence[str]) -> list[str]:
    """The ``metrics`` Param (a list, or names separated by commas); empty: ``default``."""
    names = list(dict.fromkeys(_names(value) or list(default)))
    unknown = [n for n in names if n not in WINDOW_METRICS]
    if unknown:
        raise InputValidationError(
            f"metrics: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in the catalogue of "
            f"loadable datamine metrics ({', '.join(WINDOW_METRICS)})", api="retailnext")
    return names


def choose_grains(value: Any, default: Sequence[str], metrics: list[str]) -> dict[str, list[str]]:
    """``{grain: metrics loaded at it}``: day-level metrics skip the 15-minute and hourly grains."""
    names = list(dict.fromkeys(_names(value) or list(default)))
    out: dict[str, list[str]] = {}
    for name in names:
        grain = grain_named(name)
        chosen = [m for m in metrics if not (grain.sub_daily and is_day_level(m))]
        if chosen:
            out[name] = chosen
    lost = [m for m in metrics if not any(m in ms for ms in out.values())]
    if lost:
        raise InputValidationError(
            f"metrics: {', '.join(lost)} {'is a day-level metric' if len(lost) == 1 else 'are day-level metrics'}; "
            f"grain {', '.join(names)} cannot load {'it' if len(lost) == 1 else 'them'} (add day, week, month or "
            "day_of_week)", api="retailnext")
    return out


def check_dates(start: date, end: date, locations: list[str], metrics: Sequence[str] = TRAFFIC_METRICS) -> None:
    """The documented range rules for this many stores (raises naming the dates)."""
    if end <= start:
        raise InputValidationError(f"date_to ({end}) must be after date_from ({start})", api="retailnext")
    body = window_request(locations=locations, metrics=list(metrics), date_from=start, date_to=end, grain="day")
    validate_request(body, now=datetime.now(UTC))


def _window(context: Any, initial_days: int) -> tuple[date, date, date | None, Watermark[date]]:
    params = context["params"]
    today = datetime.now(UTC).date()
    start, end = parse_day(params.get("date_from"), "date_from"), parse_day(params.get("date_to"), "date_to")
    interval = backfill_interval(context)
    if start is None and interval:
        start, end = interval[0].date(), end or interval[1].date()
    mark = traffic_watermark(initial_days, today)
    watermark = mark.read()
    start = start or (watermark + timedelta(days=1) if watermark else mark.origin)
    return start, end or today + timedelta(days=2), watermark, mark  # type: ignore[return-value]


def plan_traffic_window(context: Any, hook_factory: Any, *, initial_days: int, batch_size: int,
                        metrics: Sequence[str] = TRAFFIC_METRICS,
                        grains: Sequence[str] = ("day", "hour")) -> dict[str, Any]:
    """``{"start", "end", "watermark", "scheduled", "batches": [{"locations", "time_zone",
    "date_from", "date_to", "grain", "table", "metrics"}]}``.

    ``scheduled`` is true when the run loads the configured metrics and grains: only such a
    run moves the watermark (a run of other metrics must not mark days final for these).
    """
    params = context["params"]
    chosen = choose_metrics(params.get("metrics"), metrics)
    per_grain = choose_grains(params.get("grain"), grains, chosen)
    start, end, watermark, _ = _window(context, initial_days)
    given = parse_stores(params.get("stores"))
    check_dates(start, end, given or [PLACEHOLDER], chosen)  # before any call
    with hook_factory() as hook:
        calendar = hook.calendar()
        stores = store_zones(hook, given)  # names `stores` when one is not an active store
    check_dates(start, end, list(stores) or [PLACEHOLDER], chosen)  # the rule for as many stores as there are
    zones: dict[str, list[str]] = defaultdict(list)
    for uuid, zone in stores.items():
        zones[zone.key].append(uuid)
    work = []
    for name, names in per_grain.items():
        lo, hi = align(name, start, end, calendar)
        for zone, members in sorted(zones.items()):
            work += [{"locations": b, "time_zone": zone, "date_from": lo.isoformat(), "date_to": hi.isoformat(),
                      "grain": name, "table": GRAINS[name].table, "metrics": names}
                     for b in batches(members, batch_size)]
    scheduled = set(chosen) == set(metrics) and set(per_grain) == set(grains)
    return {"start": start.isoformat(), "end": end.isoformat(), "batches": work, "scheduled": scheduled,
            "watermark": watermark.isoformat() if watermark else None}


__all__ = ["METRICS", "TRAFFIC_WATERMARK", "check_dates", "choose_grains", "choose_metrics", "plan_traffic_window",
           "traffic_watermark"]
