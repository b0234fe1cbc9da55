"""``POST /v2/datamine``: validation, bucket selection, grouping and aggregation.

See ``docs/retailnext-emulator.md`` (Datamine) for the rules implemented here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from include.emulator.retailnext.calendar import GREGORIAN, SubscriptionCalendar
from include.emulator.retailnext.dataset import VALIDITIES, VALIDITY_RANK
from include.emulator.retailnext.dates import DateResolver, add_months, uses_name
from include.emulator.retailnext.errors import bad_request
from include.emulator.retailnext.metrics import COMPONENTS, DAY_LEVEL, EXTENDED, FORMULAS, METRICS, WITH_VALIDITY, Sums
from include.emulator.retailnext.traffic import BUCKET, StoreDay, midnight, to_epoch, to_wall
from include.emulator.retailnext.world import WEEKDAYS, Store

if TYPE_CHECKING:
    from include.emulator.retailnext.dataset import RetailNextDataset

MAX_POINTS = 10_000
GROUP_UNITS = {
    "location": ("",),
    "date": ("days", "weeks", "months", "years"),
    "time": ("hours", "minutes"),
    "day_of_week": ("",),
}
LOCAL_METRICS = ("total_occupancy", "occupancy_limit")
REQUIRED = ("locations", "metrics", "date_ranges", "time_ranges", "group_bys")


@dataclass
class Query:
    locations: list[str]
    metrics: list[str]
    date_ranges: list[Any]
    store_hours: bool
    time_ranges: list[tuple[int, int]]
    group_bys: list[tuple[str, str, int]]
    tz_name: str | None  # None: each store's own zone
    local: bool


def _hhmm(text: Any, where: str, allow_24: bool) -> int:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
        raise bad_request(f"{where} must be 'hh:mm' (got {text!r})")
    hours, minutes = int(text[:2]), int(text[3:])
    total = hours * 60 + minutes
    if minutes > 59 or hours > 24 or total > 1440 or (total == 1440 and not allow_24):
        raise bad_request(f"{where}: not a valid time of day {text!r}")
    return total


def parse_query(body: Any) -> Query:
    """Validate a datamine body (every structural problem is a 400)."""
    if not isinstance(body, dict):
        raise bad_request("body must be a JSON object")
    for name in REQUIRED:
        if name not in body or body[name] is None:
            raise bad_request(f"{name} is required")
        if not isinstance(body[name], list):
            raise bad_request(f"{name} must be a list")
        if name != "group_bys" and not body[name]:
            raise bad_request(f"{name} must not be empty")
    locations: list[str] = []
    for i, loc in enumerate(body["locations"]):
        if not isinstance(loc, str) or not loc:
            raise bad_request(f"locations[{i}] must be a location uuid string")
        if loc not in locations:
            locations.append(loc)
    metrics: list[str] = []
    for i, metric in enumerate(body["metrics"]):
        if not isinstance(metric, str) or not metric:
            raise bad_request(f"metrics[{i}] must be a metric name string")
        if metric not in metrics:
            metrics.append(metric)
    group_bys: list[tuple[str, str, int]] = []
    seen_groups: set[str] = set()
    for i, group in enumerate(body["group_bys"]):
        where = f"group_bys[{i}]"
        if not isinstance(group, dict):
            raise bad_request(f"{where} must be an object with group, unit and value")
        name = group.get("group")
        if name not in GROUP_UNITS:
            raise bad_request(f"{where}.group must be one of {', '.join(GROUP_UNITS)} (got {name!r})")
        if name in seen_groups:
            raise bad_request(f"{where}: group {name!r} appears more than once")
        seen_groups.add(name)
        unit = group.get("unit", "")
        if unit not in GROUP_UNITS[name]:
            if GROUP_UNITS[name] == ("",):
                raise bad_request(f'{where}.unit must be "" when grouping by {name} (got {unit!r})')
            raise bad_request(f"{where}.unit must be one of {', '.join(GROUP_UNITS[name])} (got {unit!r})")
        value = group.get("value", 1)
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(f"{where}.value must be an integer (got {value!r})")
        if name in ("date", "time") and value < 1:
            raise bad_request(f"{where}.value must be a positive integer (got {value})")
        group_bys.append((name, unit, value))
    store_hours = False
    time_ranges: list[tuple[int, int]] = []
    for i, tr in enumerate(body["time_ranges"]):
        where = f"time_ranges[{i}]"
        if isinstance(tr, dict) and tr.get("type") == "store_hours" and set(tr) == {"type"}:
            store_hours = True
            continue
        if not isinstance(tr, dict) or set(tr) != {"from", "until"}:
            raise bad_request(f'{where} must be {{"from": "hh:mm", "until": "hh:mm"}} or {{"type": "store_hours"}}')
        start = _hhmm(tr["from"], f"{where}.from", allow_24=False)
        end = _hhmm(tr["until"], f"{where}.until", allow_24=True)
        if start >= end:
            raise bad_request(f"{where}: from must be before until")
        time_ranges.append((start, end))
    if store_hours and (time_ranges or len(body["time_ranges"]) > 1):
        raise bad_request("time_ranges: store_hours cannot be combined with other time ranges")
    for i, dr in enumerate(body["date_ranges"]):
        if not isinstance(dr, dict) or "from" not in dr or "to" not in dr:
            raise bad_request(f"date_ranges[{i}] must be an object with 'from' and 'to'")
    tz_name = body.get("time_zone")
    local = False
    if tz_name is not None:
        if not isinstance(tz_name, str) or not tz_name:
            raise bad_request(f"time_zone must be an IANA time zone name or 'local' (got {tz_name!r})")
        if tz_name == "local":
            local = True
            tz_name = None
        else:
            try:
                ZoneInfo(tz_name)
            except (ZoneInfoNotFoundError, ValueError):
                raise bad_request(f"time_zone: unknown time zone {tz_name!r}") from None
    elif any(uses_name(dr.get("from")) or uses_name(dr.get("to")) for dr in body["date_ranges"]):
        raise bad_request("time_zone is required when a date range uses 'name' dates")
    if local:
        problems = []
        if not all(m in LOCAL_METRICS for m in metrics):
            problems.append("only total_occupancy and occupancy_limit may be requested")
        if [g[0] for g in group_bys] != ["location"]:
            problems.append("group_bys must be exactly one location group")
        if len(body["date_ranges"]) != 1 or body["date_ranges"][0] != {
            "from": {"name": "today"},
            "to": {"name": "now"},
        }:
            problems.append('date_ranges must be one range from {"name": "today"} to {"name": "now"}')
        if not store_hours:
            problems.append('time_ranges must be one {"type": "store_hours"} range')
        if problems:
            raise bad_request('time_zone "local": ' + "; ".join(problems))
    return Query(locations, metrics, list(body["date_ranges"]), store_hours, time_ranges, group_bys, tz_name, local)


# ---------------------------------------------------------------------------- labels


def fmt_offset(minutes: int) -> str:
    """``HH:MM`` of an offset from the day's 00:00, ``-``/``+`` prefixed outside the day."""
    if minutes < 0:
        prefix, minutes = "-", minutes + 1440
    elif minutes >= 1440:
        prefix, minutes = "+", minutes - 1440
    else:
        prefix = ""
    return f"{prefix}{minutes // 60:02d}:{minutes % 60:02d}"


def fmt_until(minutes: int) -> str:
    """Like :func:`fmt_offset`, but the end of the day is ``24:00`` and 0 is ``00:00``."""
    return "24:00" if minutes == 1440 else fmt_offset(minutes)


def date_label(day: date, calendar: SubscriptionCalendar = GREGORIAN) -> dict[str, Any]:
    """A date group side: the Gregorian date and year/month/day in the subscription's calendar."""
    return calendar.label(day)


@dataclass
class RangeInZone:
    """One date range resolved in one zone."""

    tz: ZoneInfo
    start: int
    end: int
    first_day: date
    last_day: date


#: One selected bucket: (start epoch, day, offset minutes, in, out, occupancy after it,
#: validity rank, ended, (store day, index) of an open bucket or None).
Bucket = tuple[int, date, int, int, int, int, int, bool, Any]


class Datamine:
    """One datamine request against a dataset."""

    def __init__(self, ds: RetailNextDataset, query: Query) -> None:
        self.ds = ds
        self.q = query
        self.now = ds.now_epoch()
        self._resolved: dict[tuple[int, str], RangeInZone] = {}
        self.single_slot: tuple[int, int] | None = None
        self.time_group = next(((unit, value) for name, unit, value in query.group_bys if name == "time"), None)

    # ------------------------------------------------------------ locations and errors

    def _location_stores(self) -> tuple[list[list[Store]], str | None]:
        w = self.ds.world
        allowed = self.ds.allowed_locations
        out: list[list[Store]] = []
        for uuid in self.q.locations:
            loc = w.locations.get(uuid)
            is_org = uuid == w.subscription_uuid
            if allowed is not None and not any(w.is_under(uuid, a) for a in allowed):
                return [], f"location {uuid} is not in the API token's location profile"
            if loc is None and not is_org:
                return [], f"location {uuid} is not in the API token's location profile"
            if not is_org and loc.location_type not in ("store", "region"):  # type: ignore[union-attr]
                return [], f"location {uuid} ({loc.location_type}) has no traffic data"  # type: ignore[union-attr]
            out.append(w.stores_under(uuid))
        return out, None

    def location_group(self, index: int) -> dict[str, Any]:
        uuid = self.q.locations[index]
        w = self.ds.world
        name = w.locations[uuid].name if uuid in w.locations else "Organization"
        return {"type": "location", "uuid": uuid, "name": name, "qualified_name": name}

    # ------------------------------------------------------------ date ranges

    def resolve(self, k: int, tz: ZoneInfo) -> RangeInZone:
        key = (k, tz.key)
        if key in self._resolved:
            return self._resolved[key]
        where = f"date_ranges[{k}]"
        start, end = DateResolver(tz, self.now, self.ds.calendar).resolve_range(self.q.date_ranges[k], where)
        if start >= end:
            raise bad_request(f"{where}: from ({start.isoformat()}) must be before to ({end.isoformat()})")
        if start < datetime(1970, 1, 2) or end > datetime(3000, 1, 1):
            raise bad_request(f"{where}: dates must lie between 1970-01-02 and 3000-01-01")
        limit_years = 5 if self.single else 2
        if end > add_months(start, 12 * limit_years):
            raise bad_request(
                f"{where}: the range is longer than {limit_years} years (the limit when "
                + ("one store is" if self.single else "several stores are")
                + " queried)"
            )
        start_e, end_e = to_epoch(start, tz), to_epoch(end, tz)
        last = to_wall(end_e - 1, tz).date() if end_e > start_e else start.date()
        result = RangeInZone(tz, start_e, end_e, start.date(), last)
        self._resolved[key] = result
        return result

    # ------------------------------------------------------------ buckets

    def buckets(self, store: Store, rz: RangeInZone) -> list[Bucket]:
        """The store's buckets selected by the range and time ranges, as :data:`Bucket` tuples."""
        ds, tz = self.ds, rz.tz
        out: list[Bucket] = []
        now = self.now
        lag_cut = now - ds.completeness_lag
        marks = ds.marks.get(store.uuid)

        def rank(s: int, imputed: bool) -> int:
            if s + BUCKET > lag_cut:
                return 2
            if marks:
                return VALIDITY_RANK[ds.validity(store.uuid, s, imputed, now)]
            return 1 if imputed else 0

        if self.q.store_hours:
            same_zone = tz.key == store.tz.key
            for sd in ds.days.days_between(store, rz.start - 2 * 86400, rz.end + 2 * 86400):
                d00 = to_epoch(midnight(sd.day), tz)
                d24 = to_epoch(midnight(sd.day + timedelta(days=1)), tz)
                occ = ds.occupancy(store, sd)
                for k, s in enumerate(sd.starts):
                    anchor = d00 if s < d00 else (d24 - BUCKET if s >= d24 else s)
                    if not rz.start <= anchor < rz.end:
                        continue
                    if same_zone:
                        offset = sd.offsets[k]
                    else:
                        offset = int((to_wall(s, tz) - midnight(sd.day)).total_seconds() // 60)
                    out.append(
                        (s, sd.day, offset, sd.ins[k], sd.outs[k], occ[k], rank(s, sd.imputed[k]), s + BUCKET <= now,
                         (sd, k))
                    )
            return out
        open_map: dict[int, tuple[StoreDay, int, tuple[int, ...]]] = {}
        for sd in ds.days.days_between(store, rz.start, rz.end):
            occ = ds.occupancy(store, sd)
            for k, s in enumerate(sd.starts):
                open_map[s] = (sd, k, occ)
        # a quarter hour belongs to a time range when it starts inside [from, until)
        minutes = sorted({m for f, u in self.q.time_ranges for m in range(-(-f // 15) * 15, u, 15)})
        wanted = set(minutes)

        def add(s: int, day: date, m: int) -> None:
            hit = open_map.get(s)
            if hit is None:
                out.append((s, day, m, 0, 0, 0, rank(s, False), s + BUCKET <= now, None))
            else:
                sd, k, occ = hit
                out.append((s, day, m, sd.ins[k], sd.outs[k], occ[k], rank(s, sd.imputed[k]), s + BUCKET <= now,
                            (sd, k)))

        day = to_wall(rz.start, tz).date()
        last = to_wall(rz.end - 1, tz).date()
        while day <= last:
            d00 = to_epoch(midnight(day), tz)
            d24 = to_epoch(midnight(day + timedelta(days=1)), tz)
            if d24 - d00 == 86400 and d00 % BUCKET == 0:
                for m in minutes:
                    s = d00 + 60 * m
                    if rz.start <= s < rz.end:
                        add(s, day, m)
            else:  # a DST change: walk the day's real quarter hours
                s = max(-(-rz.start // BUCKET) * BUCKET, -(-d00 // BUCKET) * BUCKET)
                while s < min(d24, rz.end):
                    wall = to_wall(s, tz)
                    m = wall.hour * 60 + wall.minute
                    if m in wanted and wall.date() == day:
                        add(s, day, m)
                    s += BUCKET
            day += timedelta(days=1)
        return out

    # ------------------------------------------------------------ grouping keys

    def date_chunk(self, rz: RangeInZone, day: date, unit: str, value: int) -> tuple[date, date]:
        first = rz.first_day
        span = (rz.last_day - first).days + 1
        if unit in ("days", "weeks"):
            length = min(value * (7 if unit == "weeks" else 1), span)
            index = (day - first).days // length
            start = first + timedelta(days=index * length)
            nxt = start + timedelta(days=length)
        else:
            cal = self.ds.calendar

            def plus(months: int) -> date:
                return cal.add_months(datetime(first.year, first.month, first.day), months).date()

            months = min(value * (12 if unit == "years" else 1), span // 28 + 1)
            diff = (day.year - first.year) * 12 + day.month - first.month
            index = diff // months
            start = plus(index * months)
            while start > day:
                index -= 1
                start = plus(index * months)
            nxt = plus((index + 1) * months)
            while nxt <= day:
                index += 1
                start, nxt = nxt, plus((index + 1) * months)
        return start, min(nxt - timedelta(days=1), rz.last_day)

    def time_slot(self, offset: int, unit: str, value: int) -> tuple[int, int] | None:
        length = value * (60 if unit == "hours" else 1)
        if self.q.store_hours:
            if self.single_slot is not None:  # a slot longer than a day: one slot for everything
                return self.single_slot
            start = (offset // length) * length
            return start, start + length
        for f, u in self.q.time_ranges:
            if f <= offset < u:
                start = f + ((offset - f) // length) * length
                return start, min(start + length, u)
        return None

    # ------------------------------------------------------------ run

    def run(self) -> dict[str, Any]:
        q = self.q
        loc_stores, loc_error = self._location_stores()
        distinct = {s.uuid for stores in loc_stores for s in stores}
        self.single = len(q.locations) == 1 and len(distinct) <= 1
        served_stores = {s.uuid: s for stores in loc_stores for s in stores}
        zones: list[ZoneInfo]
        fixed = ZoneInfo(q.tz_name) if q.tz_name else None
        if fixed is None and not q.local and self.ds.omitted_time_zone == "utc":
            fixed = ZoneInfo("UTC")  # the other reading of a request without time_zone
        if fixed is not None:
            zones = [fixed]
        else:
            zones = sorted({s.tz.key: s.tz for s in served_stores.values()}.values(), key=lambda z: z.key) or [
                ZoneInfo("UTC")
            ]
        for k in range(len(q.date_ranges)):  # validation of every range in every zone used
            for tz in zones:
                self.resolve(k, tz)
        metric_errors = {}
        for m in q.metrics:
            if loc_error is not None:
                metric_errors[m] = loc_error
            elif m not in METRICS:
                metric_errors[m] = f"unknown metric {m!r} (known: {', '.join(METRICS)})"
            elif m in DAY_LEVEL and self.time_group is not None:
                metric_errors[m] = f"{m} is a day-level metric: it cannot be grouped by time"
        served = [m for m in q.metrics if m not in metric_errors]
        self.extended = any(m in EXTENDED for m in served)
        budget = [MAX_POINTS]
        per_range: list[tuple[list[list[tuple[Any, dict[str, Any]]]], dict[tuple, dict[str, Any]]]] = []
        if served:
            for k in range(len(q.date_ranges)):
                per_range.append(self.compute(k, loc_stores, fixed))
        out_metrics = []
        several = len(q.date_ranges) > 1
        for m in q.metrics:
            for k in range(len(q.date_ranges)):
                if m in metric_errors:
                    entry: dict[str, Any] = {"name": m, "ok": False, "error": metric_errors[m], "data": []}
                else:
                    grids, cells = per_range[k]
                    entry = {"name": m, "ok": True, "data": self.build(m, grids, cells, loc_stores, budget)}
                if several:
                    entry["date_range_index"] = k
                out_metrics.append(entry)
        return {"ok": True, "metrics": out_metrics}

    def compute(
        self, k: int, loc_stores: list[list[Store]], fixed: ZoneInfo | None
    ) -> tuple[list[list[tuple[Any, dict[str, Any]]]], dict[tuple, dict[str, Any]]]:
        """Grids of every group layer and the accumulated cells of date range ``k``."""
        q = self.q
        groups = q.group_bys
        stores = {s.uuid: s for ss in loc_stores for s in ss}
        per_store: dict[str, tuple[RangeInZone, list[Bucket]]] = {}
        for uuid, store in stores.items():
            rz = self.resolve(k, fixed or store.tz)
            per_store[uuid] = (rz, self.buckets(store, rz))
        # Grids.
        grids: list[list[tuple[Any, dict[str, Any]]]] = []
        for name, unit, value in groups:
            if name == "location":
                grids.append([(i, self.location_group(i)) for i in range(len(q.locations))])
            elif name == "date":
                chunks: dict[date, date] = {}
                rzs = [rz for rz, _ in per_store.values()] or [self.resolve(k, fixed or ZoneInfo("UTC"))]
                for rz in rzs:
                    day = rz.first_day
                    while day <= rz.last_day:
                        start, through = self.date_chunk(rz, day, unit, value)
                        chunks[start] = max(through, chunks.get(start, through))
                        day = through + timedelta(days=1)
                grids.append(
                    [
                        (start, {"type": "date", "from": date_label(start, self.ds.calendar),
                                 "through": date_label(chunks[start], self.ds.calendar)})
                        for start in sorted(chunks)
                    ]
                )
            elif name == "time":
                length = value * (60 if unit == "hours" else 1)
                slots: dict[int, int] = {}
                if q.store_hours:
                    offsets = {b[2] for _, bs in per_store.values() for b in bs}
                    if offsets and length > 1440:
                        self.single_slot = (min(offsets), max(offsets) + 15)
                        slots[min(offsets)] = max(offsets) + 15
                    elif offsets:
                        s = (min(offsets) // length) * length
                        while s <= max(offsets):
                            slots[s] = s + length
                            s += length
                else:
                    hit = {self.time_slot(m, unit, value) for m in {b[2] for _, bs in per_store.values() for b in bs}}
                    for f, u in q.time_ranges:
                        s = f
                        while s < u:
                            if (s, min(s + length, u)) in hit:
                                slots.setdefault(s, min(s + length, u))
                            s += length
                grids.append(
                    [
                        ((s, slots[s]), {"type": "time", "from": fmt_offset(s), "until": fmt_until(slots[s])})
                        for s in sorted(slots)
                    ]
                )
            else:
                days: set[int] = set()
                rzs = [rz for rz, _ in per_store.values()] or [self.resolve(k, fixed or ZoneInfo("UTC"))]
                for rz in rzs:
                    day = rz.first_day
                    while day <= rz.last_day and len(days) < 7:
                        days.add(day.weekday())
                        day += timedelta(days=1)
                grids.append([(d, {"type": "day_of_week", "day": WEEKDAYS[d]}) for d in sorted(days)])
        # Cells.
        cells: dict[tuple, dict[str, Any]] = {}
        for li, ss in enumerate(loc_stores):
            for store in ss:
                rz, bucket_list = per_store[store.uuid]
                day_keys: dict[date, tuple] = {}
                slot_keys: dict[int, Any] = {}
                for b in bucket_list:
                    start, day, offset, ins, outs, occ, rank, ended, ref = b
                    day_key = day_keys.get(day)
                    if day_key is None:
                        day_key = day_keys[day] = tuple(
                            self.date_chunk(rz, day, unit, value)[0] if name == "date" else day.weekday()
                            for name, unit, value in groups
                            if name in ("date", "day_of_week")
                        )
                    slot = None
                    if self.time_group is not None:
                        slot = slot_keys.get(offset, False)
                        if slot is False:
                            slot = slot_keys[offset] = self.time_slot(offset, *self.time_group)
                        if slot is None:
                            continue
                    key_parts = []
                    day_index = 0
                    for name, _, _ in groups:
                        if name == "location":
                            key_parts.append(li)
                        elif name == "time":
                            key_parts.append(slot)
                        else:
                            key_parts.append(day_key[day_index])
                            day_index += 1
                    key = tuple(key_parts)
                    cell = cells.get(key)
                    if cell is None:
                        cell = cells[key] = {"in": 0, "out": 0, "ended": 0, "total": 0, "rank": 0, "last": {}}
                        if self.extended:
                            cell.update(parts=[0] * len(COMPONENTS), instants=set(), days=set())
                    cell["total"] += 1
                    if rank > cell["rank"]:
                        cell["rank"] = rank
                    if ended:
                        cell["ended"] += 1
                        cell["in"] += ins
                        cell["out"] += outs
                        last = cell["last"].get((li, store.uuid))
                        if last is None or start > last[0]:
                            cell["last"][(li, store.uuid)] = (start, occ)
                        if self.extended:
                            self._add_parts(cell, store, start, ref)
        return grids, cells

    def _add_parts(self, cell: dict[str, Any], store: Store, start: int, ref: Any) -> None:
        """Accumulate the metric components of one ended bucket (see :mod:`.metrics`)."""
        cell["instants"].add(start)
        if ref is None:  # a closed quarter hour: no activity
            return
        sd, k = ref
        md = self.ds.metric_days.get(store, sd)
        parts = cell["parts"]
        for i, v in enumerate(md.rows[k]):
            parts[i] += v
        cell["days"].add((store.uuid, sd.day, tuple(sorted(md.day.items()))))

    def _stores_of(self, key: tuple, loc_stores: list[list[Store]]) -> list[Store]:
        if any(g[0] == "location" for g in self.q.group_bys):
            li = key[[g[0] for g in self.q.group_bys].index("location")]
            return list(loc_stores[li])
        return [s for ss in loc_stores for s in ss]

    def extended_value(self, metric: str, key: tuple, cells: dict[tuple, dict[str, Any]],
                       loc_stores: list[list[Store]]) -> tuple[Any, str]:
        cell = cells.get(key)
        validity = VALIDITIES[cell["rank"]] if cell else "complete"
        if cell is not None and not cell["ended"]:
            return None, validity
        stores = self._stores_of(key, loc_stores)
        areas = [self.ds.world.locations[s.uuid].area for s in stores]
        day = {"users": 0, "repeat": 0, "visits": 0, "traffic_in": 0}
        for _, _, items in (cell or {}).get("days", ()):
            for name, v in items:
                day[name] += v
        sums = Sums(cell["in"] if cell else 0, cell["out"] if cell else 0,
                    cell["parts"] if cell else [0] * len(COMPONENTS), len(cell["instants"]) if cell else 0, day,
                    None if any(a is None for a in areas) else float(sum(areas)))  # type: ignore[arg-type]
        return FORMULAS[metric](sums), validity

    def cell_value(
        self, metric: str, key: tuple, cells: dict[tuple, dict[str, Any]], loc_stores: list[list[Store]]
    ) -> tuple[Any, str]:
        if metric in FORMULAS:
            return self.extended_value(metric, key, cells, loc_stores)
        if metric == "occupancy_limit":
            limits = [s.occupancy_limit for s in self._stores_of(key, loc_stores)]
            if any(v is None for v in limits):
                return None, "complete"
            return sum(limits), "complete"  # type: ignore[arg-type]
        cell = cells.get(key)
        if cell is None:
            return 0, "complete"
        validity = VALIDITIES[cell["rank"]]
        if not cell["ended"]:
            return None, validity
        if metric == "traffic_in":
            return cell["in"], validity
        if metric == "traffic_out":
            return cell["out"], validity
        return sum(occ for _, occ in cell["last"].values()), validity

    def build(
        self,
        metric: str,
        grids: list[list[tuple[Any, dict[str, Any]]]],
        cells: dict[tuple, dict[str, Any]],
        loc_stores: list[list[Store]],
        budget: list[int],
    ) -> list[dict[str, Any]]:
        if not grids:
            if budget[0] <= 0:
                return []
            budget[0] -= 1
            value, validity = self.cell_value(metric, (), cells, loc_stores)
            return [point(metric, value, validity, None, 0)]

        def layer(depth: int, prefix: tuple) -> list[dict[str, Any]]:
            points: list[dict[str, Any]] = []
            last = depth == len(grids) - 1
            for i, (key, group) in enumerate(grids[depth]):
                if budget[0] <= 0:
                    break
                if last:
                    value, validity = self.cell_value(metric, (*prefix, key), cells, loc_stores)
                    budget[0] -= 1
                    points.append(point(metric, value, validity, group, i))
                else:
                    inner = layer(depth + 1, (*prefix, key))
                    if not inner and budget[0] <= 0:
                        break
                    points.append({"group": group, "index": i, "data": inner})
            return points

        return layer(0, ())


def point(metric: str, value: Any, validity: str, group: dict[str, Any] | None, index: int) -> dict[str, Any]:
    """A leaf point; ``validity`` only for the metrics that carry it (traffic and what is computed from it)."""
    out: dict[str, Any] = {"value": value}
    if metric in WITH_VALIDITY:
        out["validity"] = validity
    if group is not None:
        out["group"] = group
    out["index"] = index
    return out


def datamine(ds: RetailNextDataset, body: Any) -> dict[str, Any]:
    """The response of ``POST /v2/datamine`` (raises :class:`~.errors.RnError` 400)."""
    return Datamine(ds, parse_query(body)).run()


__all__ = ["Datamine", "Query", "datamine", "fmt_offset", "fmt_until", "parse_query"]
