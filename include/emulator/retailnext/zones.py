"""``POST /v1/zone_transitions``: FPA zone transition counts (deterministic)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from include.emulator.retailnext.errors import bad_request
from include.emulator.retailnext.traffic import to_wall
from include.emulator.retailnext.world import WEEKDAYS

if TYPE_CHECKING:
    from include.emulator.retailnext.dataset import RetailNextDataset

METRICS = ("all", "employee", "customer")
TRANSITIONS = ("direct_only", "direct_and_indirect", "directionless")
DWELLS = ("dwells_only", "non_dwells", "all_traffic")
MAX_DAYS = 366


def _h(*parts: Any) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=4).digest(), "big")


def _hhmm(text: Any, where: str) -> int:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
        raise bad_request(f"{where} must be 'hh:mm' (got {text!r})")
    total = int(text[:2]) * 60 + int(text[3:])
    if int(text[3:]) > 59 or total > 1440:
        raise bad_request(f"{where}: not a valid time of day {text!r}")
    return total


def _day(text: Any, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise bad_request(f"{where} must be a date yyyy-mm-dd (got {text!r})") from None


def zone_transitions(ds: RetailNextDataset, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("body must be a JSON object")
    allowed = {"locations", "date_ranges", "metrics", "transitions", "dwells", "time_ranges", "days_of_week"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad_request(f"unknown parameter(s): {', '.join(unknown)}")
    zones_by_location: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for plan in ds.world.floorplans:
        for zone in plan["zones"]:
            zones_by_location[zone["location_id"]] = (plan, zone)
    locations = body.get("locations")
    if not isinstance(locations, list) or not locations:
        raise bad_request("locations is required (a non-empty list of FPA zone location uuids)")
    for i, uuid in enumerate(locations):
        if uuid not in zones_by_location:
            raise bad_request(f"locations[{i}]: {uuid!r} is not an FPA zone location")
    ranges = body.get("date_ranges")
    if not isinstance(ranges, list) or not ranges:
        raise bad_request('date_ranges is required (a non-empty list of {"start": ..., "finish": ...})')
    days: list[date] = []
    for i, dr in enumerate(ranges):
        if not isinstance(dr, dict) or set(dr) != {"start", "finish"}:
            raise bad_request(f'date_ranges[{i}] must be {{"start": "yyyy-mm-dd", "finish": "yyyy-mm-dd"}}')
        start, finish = _day(dr["start"], f"date_ranges[{i}].start"), _day(dr["finish"], f"date_ranges[{i}].finish")
        if start >= finish:
            raise bad_request(f"date_ranges[{i}]: start must be before finish")
        if (finish - start).days > MAX_DAYS:
            raise bad_request(f"date_ranges[{i}]: at most {MAX_DAYS} days")
        d = start
        while d < finish:
            days.append(d)
            d += timedelta(days=1)
    metrics = body.get("metrics", ["all"])
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, list) or not metrics or any(m not in METRICS for m in metrics):
        raise bad_request(f"metrics must be a list of {', '.join(METRICS)} (got {metrics!r})")
    transitions = body.get("transitions", "direct_only")
    if transitions not in TRANSITIONS:
        raise bad_request(f"transitions must be one of {', '.join(TRANSITIONS)} (got {transitions!r})")
    dwells = body.get("dwells", "dwells_only")
    if dwells not in DWELLS:
        raise bad_request(f"dwells must be one of {', '.join(DWELLS)} (got {dwells!r})")
    time_ranges = body.get("time_ranges", [{"type": "store_hours"}])
    windows: list[tuple[int, int]] | None = []
    if not isinstance(time_ranges, list) or not time_ranges:
        raise bad_request("time_ranges must be a non-empty list")
    for i, tr in enumerate(time_ranges):
        if tr == {"type": "store_hours"}:
            windows = None
            continue
        if not isinstance(tr, dict) or set(tr) != {"start", "finish"}:
            raise bad_request(
                f'time_ranges[{i}] must be {{"start": "hh:mm", "finish": "hh:mm"}} or {{"type": "store_hours"}}'
            )
        a, b = _hhmm(tr["start"], f"time_ranges[{i}].start"), _hhmm(tr["finish"], f"time_ranges[{i}].finish")
        if a >= b:
            raise bad_request(f"time_ranges[{i}]: start must be before finish")
        if windows is not None:
            windows.append((a, b))
    dows = body.get("days_of_week", list(WEEKDAYS))
    if not isinstance(dows, list) or not dows or any(d not in WEEKDAYS for d in dows):
        raise bad_request(f"days_of_week must be a list of {', '.join(WEEKDAYS)} (got {dows!r})")
    weekday_set = {WEEKDAYS.index(d) for d in dows}

    # Group the requested zones by floorplan, in floorplan order.
    plans: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for plan in ds.world.floorplans:
        chosen = [zones_by_location[u][1] for u in dict.fromkeys(locations) if zones_by_location[u][0] is plan]
        if chosen:
            plans.append((plan, chosen))
    now = ds.now_epoch()

    def day_factor(store_uuid: str, day: date) -> float:
        store = ds.world.stores[store_uuid]
        if day >= to_wall(now, store.tz).date() or day.weekday() not in weekday_set:
            return 0.0
        hours = store.day_hours(day)
        if hours is None:
            return 0.0
        if windows is None:
            return 1.0
        span = hours[1] - hours[0]
        covered = sum(max(0, min(b, hours[1]) - max(a, hours[0])) for a, b in windows)
        return min(1.0, covered / span)

    def directed(a: str, b: str, kind: str, factors: list[tuple[date, float]]) -> int:
        total = 0
        scale = 60 if kind == "customer" else 8
        for day, factor in factors:
            if factor <= 0:
                continue
            direct = _h(ds.seed, "direct", kind, a, b, day) % scale
            value = direct + (
                _h(ds.seed, "indirect", kind, a, b, day) % (scale // 3 + 1)
                if transitions == "direct_and_indirect"
                else 0
            )
            dwell_part = (value * 3) // 5
            value = {"dwells_only": dwell_part, "non_dwells": value - dwell_part, "all_traffic": value}[dwells]
            total += int(value * factor)
        return total

    def value_of(a: str, b: str, metric: str, factors: list[tuple[date, float]]) -> int:
        kinds = ("customer", "employee") if metric == "all" else (metric,)
        total = 0
        for kind in kinds:
            total += directed(a, b, kind, factors)
            if transitions == "directionless" and a != b:
                total += directed(b, a, kind, factors)
        return total

    out_metrics = []
    for metric in dict.fromkeys(metrics):
        data = []
        for plan, zones in plans:
            factors = [(d, day_factor(plan["store_id"], d)) for d in days]
            values = {
                (za["id"], zb["id"]): value_of(za["id"], zb["id"], metric, factors) for za in zones for zb in zones
            }
            sums: dict[str, int] = {}
            for (za, _), v in values.items():
                sums[za] = sums.get(za, 0) + v
            data.append(
                {
                    "floorplan": {
                        "uuid": plan["id"],
                        "name": plan["name"],
                        "store_uuid": plan["store_id"],
                        "store_name": plan["store_name"],
                    },
                    "zones": [
                        {
                            "uuid": z["id"],
                            "name": z["name"],
                            "location_uuid": z["location_id"],
                            "location_name": z["location_name"],
                        }
                        for z in zones
                    ],
                    "transitions": [
                        {
                            "from_zone_id": za,
                            "to_zone_id": zb,
                            "value": v,
                            "percentage": round(100 * v / sums[za]) if sums[za] else 0,
                        }
                        for (za, zb), v in values.items()
                    ],
                }
            )
        out_metrics.append({"name": metric, "data": data})
    return {"metrics": out_metrics}
