"""The RetailNext dataset: the generated world, lazily computed traffic, the settings and
every mutation and ground-truth accessor of the control API (``state.retailnext``).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from include.emulator.clock import Clock
from include.emulator.retailnext.calendar import GREGORIAN, calendar_named
from include.emulator.retailnext.errors import RnError, bad_request, not_found
from include.emulator.retailnext.metrics import MetricCache
from include.emulator.retailnext.traffic import BUCKET, DayCache, StoreDay, midnight, predicted_day
from include.emulator.retailnext.world import (
    SUBLOCATION_TYPES,
    WEEKDAYS,
    Location,
    Store,
    World,
    build_world,
    make_alert,
)

VALIDITIES = ("complete", "imputed", "incomplete")
VALIDITY_RANK = {v: i for i, v in enumerate(VALIDITIES)}
METRICS = ("traffic_in", "traffic_out", "total_occupancy", "occupancy_limit")
#: Readings of points the reference leaves open (control API ``/settings``; see
#: ``docs/retailnext-emulator.md``, *Ambiguous points*), the first of each is the default.
READINGS = {
    # a datamine request without time_zone: each store's own zone, or UTC
    "omitted_time_zone": ("store", "utc"),
    # healthalerts start_time: alerts created at or after it, or (the reference's words) before it
    "healthalerts_start_time": ("at_or_after", "before"),
    # an export task in progress: 202 (Accepted, the status list) or 201/200 {"ok":true} (the transcript)
    "export_in_progress_status": (202, 201, 200),
    # an expired export: 404, or 410 Gone
    "export_expired_status": (404, 410),
    # the occupancy adjustment's time field: either name, or only the parameter table's / the example's
    "adjustment_time_field": ("either", "adjustment_date", "adjustment_time"),
}
OMITTED_TIME_ZONE = READINGS["omitted_time_zone"]
DEFAULTS = {
    "completeness_lag": 7200.0,
    "service_delay": 0.05,
    "concurrency_limit": 3,
    "hls_token_ttl": 3600.0,
}


def to_epoch_any(moment: datetime | str | int | float) -> int:
    """Epoch seconds of a datetime (naive = UTC), an ISO string or a number."""
    if isinstance(moment, (int, float)) and not isinstance(moment, bool):
        return int(moment)
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.strip())
    if not isinstance(moment, datetime):
        raise ValueError(f"not a time: {moment!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def worst(validities: list[str]) -> str:
    """incomplete if any incomplete, else imputed if any imputed, else complete."""
    rank = max((VALIDITY_RANK[v] for v in validities), default=0)
    return VALIDITIES[rank]


def wall_z(moment: datetime) -> str:
    """A wall-clock time written with a literal ``Z`` (as the reference's examples)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ExportBehaviour:
    """How exports of a channel behave (control API).

    :param ready_after_polls: status polls answered 202 before the export is ready.
    :param ready_after_seconds: or: seconds after the start before it is ready.
    :param fail: a failure reason: the export fails (424) instead of becoming ready.
    :param expire_after_polls: polls/downloads answered after it is ready before it expires.
    """

    ready_after_polls: int = 1
    ready_after_seconds: float | None = None
    fail: str | None = None
    expire_after_polls: int | None = None


@dataclass
class Export:
    export_id: str
    channels: list[str]
    start: str
    end: str
    analytics_overlay: int
    info_overlay: int
    raw: int
    resolution: str | None
    created: float
    behaviour: ExportBehaviour
    polls: int = 0
    served_after_ready: int = 0
    expired: bool = False
    deleted: bool = False
    params: dict[str, Any] = field(default_factory=dict)


class RetailNextDataset:
    """One RetailNext subscription.

    :param stores: number of generated stores (``retailnext_stores``).
    :param seed: seed of every generated value.
    :param clock: the emulator clock (RetailNext's "now" unless :meth:`freeze` is used).
    """

    def __init__(self, stores: int = 10, seed: int = 7, clock: Clock | None = None) -> None:
        self.scale = max(1, int(stores))
        self.seed = int(seed)
        self.clock = clock or Clock()
        self.days = DayCache(self.seed)
        self.metric_days = MetricCache(self.seed)
        self.secret = hashlib.sha256(f"retailnext-secret:{self.seed}".encode()).digest()
        self._lock = threading.RLock()
        #: In-flight requests of the concurrency-limited endpoints (runtime state, kept by reset).
        self.inflight: dict[str, int] = {}
        self.reset()

    # ------------------------------------------------------------------ settings, clock

    def reset(self, now: datetime | str | float | None = None) -> None:
        """Back to the generated dataset and default settings; the real clock, or ``now`` frozen.

        Generated alerts, sign-ins and ``last_heard`` times lie before the (UTC) day of "now"
        at reset time, so reset with ``now`` to freeze the clock with a consistent dataset.
        """
        with self._lock:
            self._frozen: float | None = None if now is None else float(to_epoch_any(now))
            self.completeness_lag = DEFAULTS["completeness_lag"]
            self.service_delay = DEFAULTS["service_delay"]
            self.concurrency_limit = int(DEFAULTS["concurrency_limit"])
            self.hls_token_ttl = DEFAULTS["hls_token_ttl"]
            self.allowed_locations: set[str] | None = None
            self.readings: dict[str, Any] = {name: values[0] for name, values in READINGS.items()}
            self.calendar = GREGORIAN
            #: where ready exports are downloaded: ``None`` = this server (a relative URL), or
            #: another origin (e.g. a CDN: ``https://localhost:<port>``) for an absolute URL
            self.download_base_url: str | None = None
            self.marks: dict[str, list[tuple[int, int, str]]] = {}
            self.adjustments: dict[str, list[tuple[int, int]]] = {}
            self.hls_tokens: dict[str, tuple[str, float]] = {}
            self.exports: dict[str, Export] = {}
            self.export_behaviour: dict[str, ExportBehaviour] = {}
            self._counter = 0
            anchor = datetime.fromtimestamp(self.now(), UTC).date()
            self.world: World = build_world(self.scale, self.seed, anchor)

    def now(self) -> float:
        """RetailNext's now in epoch seconds (the frozen time when frozen)."""
        if self._frozen is not None:
            return self._frozen
        return self.clock.now() / 1_000_000

    def now_epoch(self) -> int:
        return int(self.now())

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def freeze(self, moment: datetime | str | float | None) -> None:
        """Pin "now" (a datetime, ISO string or epoch seconds); ``None`` unfreezes."""
        self._frozen = None if moment is None else float(to_epoch_any(moment))

    def advance(self, seconds: float) -> float:
        """Move a frozen clock forward (freezes at the current time first)."""
        self._frozen = self.now() + float(seconds)
        return self._frozen

    def set_allowed_locations(self, uuids: list[str] | None) -> None:
        """The API token's location profile for datamine (``None``: every location)."""
        self.allowed_locations = None if uuids is None else set(uuids)

    def set_calendar(self, kind: str = "gregorian", week_start: str | None = None) -> None:
        """The subscription's calendar: ``gregorian`` or ``retail_454``, and its first weekday."""
        self.calendar = calendar_named(kind, week_start)

    def set_reading(self, name: str, value: Any) -> None:
        """Play one reading of an ambiguous point (see :data:`READINGS`)."""
        if name not in READINGS:
            raise ValueError(f"unknown reading {name!r} (known: {', '.join(READINGS)})")
        if isinstance(READINGS[name][0], int) and isinstance(value, str) and value.isdigit():
            value = int(value)
        if value not in READINGS[name]:
            raise ValueError(f"{name} must be one of {', '.join(map(str, READINGS[name]))} (got {value!r})")
        self.readings[name] = value

    @property
    def omitted_time_zone(self) -> str:
        return str(self.readings["omitted_time_zone"])

    def set_omitted_time_zone(self, reading: str) -> None:
        """How a datamine request without ``time_zone`` is read: ``store`` (each store's zone) or ``utc``."""
        self.set_reading("omitted_time_zone", reading)

    def set_service_delay(self, seconds: float) -> None:
        """Seconds the concurrency-limited endpoints hold their slot."""
        self.service_delay = float(seconds)

    def settings(self) -> dict[str, Any]:
        return {
            "completeness_lag": self.completeness_lag,
            "service_delay": self.service_delay,
            "concurrency_limit": self.concurrency_limit,
            "hls_token_ttl": self.hls_token_ttl,
            "allowed_locations": sorted(self.allowed_locations) if self.allowed_locations is not None else None,
            **self.readings,
            "calendar": {"kind": self.calendar.kind, "week_start": WEEKDAYS[self.calendar.week_start]},
            "download_base_url": self.download_base_url,
            "frozen": datetime.fromtimestamp(self._frozen, UTC).isoformat() if self._frozen is not None else None,
        }

    def info(self) -> dict[str, Any]:
        w = self.world
        return {
            "subscription_uuid": w.subscription_uuid,
            "stores": len(w.stores),
            "locations": len(w.locations),
            "users": len(w.users),
            "alerts": len(w.alerts),
            "floorplans": len(w.floorplans),
            "cameras": len(w.cameras),
            "channels": len(w.channels),
            "appliances": len(w.appliances),
            "now": self.now_datetime().isoformat(),
            **self.settings(),
        }

    def new_id(self, kind: str) -> str:
        """A fresh deterministic-looking uuid (v1 layout) for created objects."""
        with self._lock:
            self._counter += 1
            digest = hashlib.sha256(f"{self.seed}:{kind}:{self._counter}:{time.time_ns()}".encode()).hexdigest()
        return f"{digest[:8]}-{digest[8:12]}-1{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"

    # ------------------------------------------------------------------ ground truth

    @property
    def subscription_uuid(self) -> str:
        return self.world.subscription_uuid

    def location(self, uuid: str) -> Location:
        loc = self.world.locations.get(uuid)
        if loc is None:
            raise KeyError(uuid)
        return loc

    def store(self, uuid: str) -> Store:
        store = self.world.stores.get(uuid)
        if store is None:
            raise KeyError(uuid)
        return store

    def store_list(self) -> list[Store]:
        return self.world.store_list()

    def time_zone_of(self, loc: Location) -> str | None:
        return self.world.stores[loc.store_uuid].time_zone if loc.store_uuid else None

    def nodes(self, extra_fields: tuple[str, ...] | list[str] = ()) -> list[dict[str, Any]]:
        """Every location as ``/v2/location`` returns it (listing order), with extra fields."""
        out = []
        for loc in self.world.ordered_locations():
            node = loc.node()
            if extra_fields and loc.location_type == "store":
                extras = self.world.stores[loc.uuid].extras()
                for name in extra_fields:
                    node[name] = extras[name]
            out.append(node)
        return out

    def locations(self) -> list[dict[str, Any]]:
        """Every location as a v2 node plus its ``time_zone`` (the store's; none for regions),
        in listing order: the truth of the location tree (``/v1/location`` serves
        :meth:`v1_locations`)."""
        out = []
        for loc in self.world.ordered_locations():
            node = loc.node()
            node["time_zone"] = self.time_zone_of(loc)
            out.append(node)
        return out

    def v1_locations(self) -> list[dict[str, Any]]:
        """Every location as ``GET /v1/location`` lists it: the fields the public client reads
        (``id``, ``parent_id``, ``name``, ``type`` = the location type, ``store_id``, ``pos_id``,
        ``time_zone``, ``time_zone_abbrev``, ``current_utc_offset``, ``address.street_address``)."""
        now = self.now_datetime()
        out = []
        for loc in self.world.ordered_locations():
            store = self.world.stores.get(loc.store_uuid) if loc.store_uuid else None
            local = now.astimezone(store.tz) if store else None
            offset = local.strftime("%z") if local else None
            out.append({
                "id": loc.uuid,
                "parent_id": loc.parent_uuid,
                "name": loc.name,
                "type": loc.location_type,
                "store_id": store.store_id if store and loc.location_type == "store" else None,
                "pos_id": store.pos_id if store and loc.location_type == "store" else None,
                "time_zone": store.time_zone if store else None,
                "time_zone_abbrev": local.tzname() if local else None,
                "current_utc_offset": f"{offset[:3]}:{offset[3:]}" if offset else None,
                "address": {"street_address": f"{100 + store.index} {loc.name}" if loc.location_type == "store"
                            and store else None},
            })
        return out

    def stores(self) -> list[dict[str, Any]]:
        """Stores with their attributes and weekly hours (``[open, close]`` minutes or null)."""
        out = []
        for s in self.store_list():
            loc = self.world.locations[s.uuid]
            out.append(
                {
                    "uuid": s.uuid,
                    "name": loc.name,
                    "index": s.index,
                    "parent_uuid": loc.parent_uuid,
                    **s.extras(),
                    "bandwidth_limit_kilobits_per_second": s.bandwidth_limit_kilobits_per_second,
                    "hours": {WEEKDAYS[d]: (list(h) if h else None) for d, h in enumerate(s.hours)},
                }
            )
        return out

    def users(self) -> list[dict[str, Any]]:
        return [dict(u) for u in self.world.users]

    def user_profiles(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self.world.user_profiles]

    def location_profiles(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self.world.location_profiles]

    def alerts(self, start_time: datetime | str | None = None, reading: str | None = None) -> list[dict[str, Any]]:
        """Alerts selected by ``start_time`` (``at_or_after`` it, or created ``before`` it: the
        ``healthalerts_start_time`` reading unless given), by creation time then uuid."""
        start = to_epoch_any(start_time) if start_time is not None else None
        before = (reading or self.readings["healthalerts_start_time"]) == "before"
        rows = []
        for a in self.world.alerts:
            created = datetime.fromisoformat(a["alert_creation_time"]).timestamp()
            if start is None or (created < start if before else created >= start):
                rows.append((created, a["uuid"], a))
        rows.sort(key=lambda r: (r[0], r[1]))
        return [dict(r[2]) for r in rows]

    def floorplans(self, store_uuid: str | None = None) -> list[dict[str, Any]]:
        return [p for p in self.world.floorplans if store_uuid is None or p["store_id"] == store_uuid]

    def cameras(self, store_uuid: str | None = None) -> list[dict[str, Any]]:
        return self._by_store(self.world.cameras, store_uuid)

    def channels(self, store_uuid: str | None = None) -> list[dict[str, Any]]:
        rows = [c for c in self.world.channels if store_uuid is None or c["_store_uuid"] == store_uuid]
        return [{k: v for k, v in c.items() if not k.startswith("_")} for c in rows]

    def appliances(self, store_uuid: str | None = None) -> list[dict[str, Any]]:
        return self._by_store(self.world.appliances, store_uuid)

    def _by_store(self, rows: list[dict[str, Any]], store_uuid: str | None) -> list[dict[str, Any]]:
        order = {s.uuid: s.index for s in self.store_list()}
        chosen = [r for r in rows if store_uuid is None or r["store_uuid"] == store_uuid]
        return sorted(chosen, key=lambda r: order.get(r["store_uuid"], 1 << 30))

    def truth(self, name: str) -> list[dict[str, Any]]:
        """Any listing by name (``locations``, ``nodes``, ``stores``, ``users``, ...)."""
        getters = {
            "locations": self.locations,
            "v1_locations": self.v1_locations,
            "nodes": self.nodes,
            "stores": self.stores,
            "users": self.users,
            "user_profiles": self.user_profiles,
            "location_profiles": self.location_profiles,
            "alerts": lambda: self.alerts(reading="at_or_after"),
            "healthalerts": lambda: self.alerts(reading="at_or_after"),
            "floorplans": self.floorplans,
            "fpafloorplans": self.floorplans,
            "cameras": self.cameras,
            "channels": self.channels,
            "appliances": self.appliances,
        }
        if name not in getters:
            raise KeyError(f"unknown truth {name!r} (known: {', '.join(sorted(getters))})")
        return getters[name]()

    # ------------------------------------------------------------------ store hours

    def store_hours(self, store_uuid: str, day: date | str) -> dict[str, str] | None:
        """The ``/v1/storehours`` entry of one local day (``None`` when closed)."""
        store = self.store(store_uuid)
        if isinstance(day, str):
            day = date.fromisoformat(day[:10])
        hours = store.day_hours(day)
        if hours is None:
            return None
        base = midnight(day)
        return {
            "store_uuid": store.uuid,
            "effective_day": wall_z(base),
            "open": wall_z(base + timedelta(minutes=hours[0])),
            "close": wall_z(base + timedelta(minutes=hours[1])),
        }

    def storehours(self, stores: list[str], start_day: date | str, end_day: date | str) -> list[dict[str, str]]:
        """Entries of every open (store, day), stores in the given order, ``end_day`` included."""
        first = date.fromisoformat(start_day[:10]) if isinstance(start_day, str) else start_day
        last = date.fromisoformat(end_day[:10]) if isinstance(end_day, str) else end_day
        out = []
        seen: set[str] = set()
        for uuid in stores:
            if uuid in seen:
                continue
            seen.add(uuid)
            d = first
            while d <= last:
                entry = self.store_hours(uuid, d)
                if entry is not None:
                    out.append(entry)
                d += timedelta(days=1)
        return out

    def store_day(self, store_uuid: str, day: date | str) -> list[dict[str, Any]]:
        """Every open bucket of a store day: start (UTC ISO), offset, in, out, occupancy, validity."""
        store = self.store(store_uuid)
        if isinstance(day, str):
            day = date.fromisoformat(day[:10])
        sd = self.days.get(store, day)
        if sd is None:
            return []
        now = self.now_epoch()
        occ = self.occupancy(store, sd)
        return [
            {
                "start": datetime.fromtimestamp(s, UTC).isoformat(),
                "offset": sd.offsets[k],
                "traffic_in": sd.ins[k],
                "traffic_out": sd.outs[k],
                "total_occupancy": occ[k],
                "validity": self.validity(store.uuid, s, sd.imputed[k], now),
                "ended": s + BUCKET <= now,
            }
            for k, s in enumerate(sd.starts)
        ]

    # ------------------------------------------------------------------ traffic truth

    def validity(self, store_uuid: str, start: int, imputed: bool, now: int | None = None) -> str:
        """Validity of one bucket (lag, then marks, then the generated imputed flag)."""
        now = self.now_epoch() if now is None else now
        if start + BUCKET > now - self.completeness_lag:
            return "incomplete"
        for m_start, m_end, validity in reversed(self.marks.get(store_uuid, ())):
            if m_start < start + BUCKET and start < m_end:
                return validity
        return "imputed" if imputed else "complete"

    def occupancy(self, store: Store, sd: StoreDay) -> tuple[int, ...]:
        """Running occupancy after each bucket of a store day, adjustments included."""
        adjustments = self.adjustments.get(store.uuid)
        if not adjustments:
            return sd.occ
        relevant = [(t, c) for t, c in adjustments if sd.starts[0] <= t < sd.close_epoch]
        if not relevant:
            return sd.occ
        out = []
        current = 0
        for k, s in enumerate(sd.starts):
            adj = sum(c for t, c in relevant if s <= t < s + BUCKET)
            current = max(0, current + sd.ins[k] - sd.outs[k] + adj)
            out.append(current)
        return tuple(out)

    def bucket(self, store_uuid: str, metric: str, start: datetime | str | int) -> tuple[int | None, str]:
        """(value, validity) of one 15-minute bucket of a store (value ``None`` if not ended)."""
        store = self.store(store_uuid)
        s = to_epoch_any(start)
        if s % BUCKET:
            raise ValueError("bucket start must be on a 15-minute boundary")
        now = self.now_epoch()
        found = self.days.locate(store, s)
        validity = self.validity(store.uuid, s, found[0].imputed[found[1]] if found else False, now)
        if metric == "occupancy_limit":
            return store.occupancy_limit, "complete"
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}")
        if s + BUCKET > now:
            return None, validity
        if found is None:
            return 0, validity
        sd, k = found
        if metric == "traffic_in":
            return sd.ins[k], validity
        if metric == "traffic_out":
            return sd.outs[k], validity
        return self.occupancy(store, sd)[k], validity

    def aggregate(
        self,
        store_uuid: str,
        metric: str,
        start: datetime | str | int,
        end: datetime | str | int,
        store_hours_only: bool = False,
    ) -> tuple[int | None, str]:
        """Expected datamine (value, validity) of one store over buckets starting in ``[start, end)``.

        Matches a datamine cell holding exactly these buckets: traffic sums the ended buckets
        (``None`` if none ended but some exist, 0 if there is no bucket); total_occupancy is
        the occupancy after the last ended bucket; ``store_hours_only`` keeps open buckets only
        (like ``{"type": "store_hours"}`` without the store-day anchoring).
        """
        store = self.store(store_uuid)
        if metric == "occupancy_limit":
            return store.occupancy_limit, "complete"
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}")
        lo, hi = to_epoch_any(start), to_epoch_any(end)
        now = self.now_epoch()
        open_map: dict[int, tuple[StoreDay, int]] = {}
        for sd in self.days.days_between(store, lo, hi):
            for k, s in enumerate(sd.starts):
                if lo <= s < hi:
                    open_map[s] = (sd, k)
        starts = sorted(open_map) if store_hours_only else list(range(-(-lo // BUCKET) * BUCKET, hi, BUCKET))
        total, ended, last_occ = 0, 0, 0
        validities = []
        for s in starts:
            hit = open_map.get(s)
            validities.append(self.validity(store.uuid, s, hit[0].imputed[hit[1]] if hit else False, now))
            if s + BUCKET > now:
                continue
            ended += 1
            if hit is None:
                last_occ = 0
                continue
            sd, k = hit
            if metric == "traffic_in":
                total += sd.ins[k]
            elif metric == "traffic_out":
                total += sd.outs[k]
            else:
                last_occ = self.occupancy(store, sd)[k]
        if not starts:
            return 0, "complete"
        if not ended:
            return None, worst(validities)
        return (last_occ if metric == "total_occupancy" else total), worst(validities)

    def predicted(self, store_uuid: str, day: date | str) -> list[dict[str, Any]]:
        """Predicted traffic of one day as ``/v1/predictedtraffic`` lists it."""
        store = self.store(store_uuid)
        if isinstance(day, str):
            day = date.fromisoformat(day)
        return [{"time": wall_z(t), "value": v} for t, v in predicted_day(store, day, self.seed)]

    # ------------------------------------------------------------------ validity marks

    def mark_validity(
        self, store_uuid: str, start: datetime | str | int, end: datetime | str | int, validity: str = "incomplete"
    ) -> dict[str, Any]:
        """Force the validity of a store's buckets overlapping ``[start, end)`` (later marks win)."""
        self.store(store_uuid)
        if validity not in VALIDITIES:
            raise ValueError(f"validity must be one of {', '.join(VALIDITIES)}")
        lo, hi = to_epoch_any(start), to_epoch_any(end)
        if hi <= lo:
            raise ValueError("end must be after start")
        with self._lock:
            self.marks.setdefault(store_uuid, []).append((lo, hi, validity))
        return {"store_uuid": store_uuid, "start": lo, "end": hi, "validity": validity}

    def clear_validity(self, store_uuid: str | None = None) -> int:
        """Remove the marks of one store (or all); returns how many were removed."""
        with self._lock:
            if store_uuid is None:
                n = sum(len(v) for v in self.marks.values())
                self.marks.clear()
                return n
            return len(self.marks.pop(store_uuid, []))

    # ------------------------------------------------------------------ location mutations

    def add_location(
        self,
        parent_uuid: str,
        location_type: str,
        name: str | None = None,
        area: float | None = None,
        aggregate_to_parent: bool | None = None,
        aggregate_to_store: bool | None = None,
    ) -> dict[str, Any]:
        """Create a sublocation or region with the API's rules (raises :class:`RnError` 400)."""
        w = self.world
        if location_type == "store":
            raise bad_request("location_type: creating store locations is not supported through the API")
        if location_type not in (*SUBLOCATION_TYPES, "region"):
            raise bad_request(
                f"location_type must be one of {', '.join((*SUBLOCATION_TYPES, 'region'))} (got {location_type!r})"
            )
        if not isinstance(name, str) or not name.strip():
            raise bad_request("name is required (a non-empty string)")
        parent = w.locations.get(parent_uuid) if isinstance(parent_uuid, str) else None
        is_org = parent_uuid == w.subscription_uuid
        if parent is None and not is_org:
            raise bad_request(f"parent_uuid: location {parent_uuid!r} not found")
        if parent is not None and parent.archive_date is not None:
            raise bad_request(f"parent_uuid: location {parent_uuid} is archived")
        if location_type == "region":
            if not (is_org or parent.location_type == "region"):  # type: ignore[union-attr]
                raise bad_request("parent_uuid: the parent of a region must be a region or the organization")
            for key, value in (
                ("area", area),
                ("aggregate_to_parent", aggregate_to_parent),
                ("aggregate_to_store", aggregate_to_store),
            ):
                if value is not None:
                    raise bad_request(f"{key} is only applicable to sublocations")
            loc = Location(self.new_id("location"), parent_uuid, name, "region")
        else:
            if is_org or parent.location_type != "store":  # type: ignore[union-attr]
                raise bad_request("parent_uuid: the parent of a sublocation must be a store")
            if area is not None and (isinstance(area, bool) or not isinstance(area, (int, float)) or area < 0):
                raise bad_request(f"area must be a non-negative number (got {area!r})")
            for key, value in (
                ("aggregate_to_parent", aggregate_to_parent),
                ("aggregate_to_store", aggregate_to_store),
            ):
                if value is not None and not isinstance(value, bool):
                    raise bad_request(f"{key} must be true or false (got {value!r})")
            default = location_type == "entrance"
            loc = Location(
                self.new_id("location"),
                parent_uuid,
                name,
                location_type,
                area=area,
                store_uuid=parent.store_uuid,  # type: ignore[union-attr]
                aggregate_to_parent=default if aggregate_to_parent is None else aggregate_to_parent,
                aggregate_to_store=default if aggregate_to_store is None else aggregate_to_store,
            )
        with self._lock:
            w.add_location(loc)
        return self.location_response(loc)

    def location_response(self, loc: Location) -> dict[str, Any]:
        """What create/update answer: the node plus store or sublocation specific fields."""
        node = loc.node()
        if loc.location_type == "store":
            store = self.world.stores[loc.uuid]
            node["occupancy_limit"] = store.occupancy_limit
            node["bandwidth_limit_kilobits_per_second"] = store.bandwidth_limit_kilobits_per_second
        elif loc.is_sublocation:
            node["aggregate_to_parent"] = loc.aggregate_to_parent
            node["aggregate_to_store"] = loc.aggregate_to_store
        return node

    UPDATABLE = (
        "name",
        "parent_uuid",
        "location_type",
        "area",
        "occupancy_limit",
        "bandwidth_limit_kilobits_per_second",
        "aggregate_to_parent",
        "aggregate_to_store",
    )

    def update_location(self, uuid: str, **fields: Any) -> dict[str, Any]:
        """``PUT /v2/location/<uuid>`` (raises :class:`RnError` 400/404)."""
        w = self.world
        loc = w.locations.get(uuid)
        if loc is None:
            raise not_found(f"location {uuid} not found")
        if "parent_UUID" in fields and "parent_uuid" not in fields:
            fields["parent_uuid"] = fields.pop("parent_UUID")
        unknown = sorted(set(fields) - set(self.UPDATABLE))
        if unknown:
            raise bad_request(f"unknown field(s): {', '.join(unknown)} (updatable: {', '.join(self.UPDATABLE)})")
        if not fields:
            raise bad_request("nothing to update: give at least one of " + ", ".join(self.UPDATABLE))
        kind = "store" if loc.location_type == "store" else ("region" if loc.location_type == "region" else "sub")
        changes: dict[str, Any] = {}
        if "name" in fields:
            if not isinstance(fields["name"], str) or not fields["name"].strip():
                raise bad_request("name must be a non-empty string")
            changes["name"] = fields["name"]
        if "parent_uuid" in fields:
            parent_uuid = fields["parent_uuid"]
            parent = w.locations.get(parent_uuid) if isinstance(parent_uuid, str) else None
            is_org = parent_uuid == w.subscription_uuid
            if parent is None and not is_org:
                raise bad_request(f"parent_uuid: location {parent_uuid!r} not found")
            if kind in ("store", "region"):
                if not (is_org or parent.location_type == "region"):  # type: ignore[union-attr]
                    raise bad_request(
                        f"parent_uuid: the parent of a {loc.location_type} must be a region or the organization"
                    )
                if kind == "region" and not is_org and w.is_under(parent_uuid, uuid):
                    raise bad_request("parent_uuid: a region cannot move under itself or one of its descendants")
            elif is_org or parent.location_type != "store":  # type: ignore[union-attr]
                raise bad_request("parent_uuid: the parent of a sublocation must be a store")
            changes["parent_uuid"] = parent_uuid
        if "location_type" in fields:
            new_type = fields["location_type"]
            if kind != "sub":
                raise bad_request(f"location_type can only be changed on sublocations (this is a {loc.location_type})")
            if new_type not in SUBLOCATION_TYPES:
                raise bad_request(f"location_type must be one of {', '.join(SUBLOCATION_TYPES)} (got {new_type!r})")
            changes["location_type"] = new_type
        if "area" in fields:
            area = fields["area"]
            if kind == "region":
                raise bad_request("area is only applicable to stores and sublocations")
            if area is not None and (isinstance(area, bool) or not isinstance(area, (int, float)) or area < 0):
                raise bad_request(f"area must be a non-negative number (got {area!r})")
            changes["area"] = area
        store_changes: dict[str, Any] = {}
        for key in ("occupancy_limit", "bandwidth_limit_kilobits_per_second"):
            if key in fields:
                value = fields[key]
                if kind != "store":
                    raise bad_request(f"{key} is only applicable to stores")
                if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                    raise bad_request(f"{key} must be a non-negative integer (got {value!r})")
                if key == "bandwidth_limit_kilobits_per_second" and value == 0:
                    value = None
                store_changes[key] = value
        for key in ("aggregate_to_parent", "aggregate_to_store"):
            if key in fields:
                if kind != "sub":
                    raise bad_request(f"{key} is only applicable to sublocations")
                if not isinstance(fields[key], bool):
                    raise bad_request(f"{key} must be true or false (got {fields[key]!r})")
                changes[key] = fields[key]
        with self._lock:
            for key, value in changes.items():
                setattr(loc, key, value)
            if store_changes:
                store = w.stores[loc.uuid]
                for key, value in store_changes.items():
                    setattr(store, key, value)
            if "name" in changes and kind == "store":
                for plan in w.floorplans:
                    if plan["store_id"] == uuid:
                        plan["store_name"] = changes["name"]
        return self.location_response(loc)

    def archive_location(self, uuid: str, when: datetime | str | None = None) -> dict[str, Any]:
        """Set a location's ``archive_date`` (default now)."""
        loc = self.location(uuid)
        moment = datetime.fromtimestamp(to_epoch_any(when), UTC) if when is not None else self.now_datetime()
        loc.archive_date = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        return loc.node()

    def add_locations(self, parent_uuid: str, count: int, location_type: str = "other", prefix: str = "Bulk") -> int:
        """Add ``count`` sublocations (or regions) quickly, e.g. to exceed the 10,000-node cap."""
        parent = self.world.locations.get(parent_uuid)
        if parent is None and parent_uuid != self.subscription_uuid:
            raise KeyError(parent_uuid)
        store_uuid = parent.store_uuid if parent is not None and location_type != "region" else None
        with self._lock:
            for i in range(int(count)):
                self.world.add_location(
                    Location(
                        self.new_id("bulk"),
                        parent_uuid,
                        f"{prefix} {i + 1}",
                        location_type,
                        store_uuid=store_uuid,
                        aggregate_to_parent=False if location_type != "region" else None,
                        aggregate_to_store=False if location_type != "region" else None,
                    )
                )
        return int(count)

    # ------------------------------------------------------------------ alerts, users

    def add_alert(
        self,
        store_uuid: str,
        alert_type: str = "connectiondown",
        description: str = "Haven't heard from sensor recently",
        created: datetime | str | None = None,
        severity: str = "critical",
        subject_id: str | None = None,
    ) -> dict[str, Any]:
        """A new unresolved health alert (created now unless given)."""
        store = self.store(store_uuid)
        when = datetime.fromtimestamp(to_epoch_any(created), UTC) if created is not None else self.now_datetime()
        subject = subject_id or (self.cameras(store_uuid)[0]["device_id"] if self.cameras(store_uuid) else "")
        alert = make_alert(
            store,
            self.world.locations[store.uuid].name,
            uuid_=self.new_id("alert"),
            alert_type=alert_type,
            description=description,
            created=when,
            event=when - timedelta(minutes=60),
            subject_id=subject,
            subject_name=f"Device ({subject})",
            severity=severity,
        )
        with self._lock:
            self.world.alerts.append(alert)
        return dict(alert)

    def resolve_alert(self, uuid: str, when: datetime | str | None = None) -> dict[str, Any]:
        """Resolve an alert (its creation time does not change)."""
        for alert in self.world.alerts:
            if alert["uuid"] == uuid:
                store = self.store(alert["store_uuid"])
                moment = datetime.fromtimestamp(to_epoch_any(when), UTC) if when is not None else self.now_datetime()
                alert.update(
                    resolved=True,
                    resolved_time=moment.astimezone(store.tz).isoformat(timespec="milliseconds"),
                    severity="resolved",
                )
                return dict(alert)
        raise KeyError(uuid)

    def add_user(
        self,
        email: str,
        type: str = "local",  # noqa: A002
        name: str | None = None,
        user_profile_id: str | None = None,
        location_profile_id: str | None = None,
        location_ids: list[str] | None = None,
        disabled: bool = False,
    ) -> dict[str, Any]:
        """Add a user without the API's checks (any type)."""
        user: dict[str, Any] = {
            "type": type,
            "name": name or email,
            "email": email,
            "id": self.new_id("user"),
            "disabled": bool(disabled),
            "user_profile_id": user_profile_id or self.world.user_profiles[0]["id"],
        }
        if location_ids is not None:
            user["location_ids"] = list(location_ids)
        else:
            user["location_profile_id"] = location_profile_id or self.world.location_profiles[0]["id"]
        user.update(last_sign_in_at=None, current_sign_in_at=None, invitation_accepted=False, invitation_locale="en_US")
        with self._lock:
            self.world.users.append(user)
        return dict(user)

    def create_user(self, body: Any) -> dict[str, Any]:
        """``POST /v1/users`` with the API's rules (raises :class:`RnError`)."""
        if not isinstance(body, dict) or not isinstance(body.get("user"), dict):
            raise bad_request('body must be {"user": {...}}')
        u = body["user"]
        allowed = {"email", "type", "name", "disabled", "user_profile_id", "location_profile_id", "location_ids"}
        unknown = sorted(set(u) - allowed)
        if unknown:
            raise bad_request(f"user: unknown field(s) {', '.join(unknown)}")
        email = u.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise bad_request("user.email is required (an email address)")
        utype = u.get("type")
        if not isinstance(utype, str) or utype.lower() != "sso":
            raise bad_request(f"user.type is required and must be 'sso' (got {utype!r})")
        if any(x["email"].lower() == email.lower() for x in self.world.users):
            raise RnError(409, f"user.email: a user with email {email} already exists")
        name = u.get("name", email)
        if not isinstance(name, str) or not name:
            raise bad_request("user.name must be a non-empty string")
        disabled = u.get("disabled", False)
        if not isinstance(disabled, bool):
            raise bad_request("user.disabled must be true or false")
        perms = self._permissions(u, "user.", require=True)
        user: dict[str, Any] = {
            "type": "sso",
            "name": name,
            "email": email,
            "id": self.new_id("user"),
            "disabled": disabled,
            **perms,
            "last_sign_in_at": None,
            "current_sign_in_at": None,
            "invitation_accepted": False,
            "invitation_locale": "en_US",
        }
        with self._lock:
            self.world.users.append(user)
        return dict(user)

    def _permissions(self, u: dict[str, Any], where: str, require: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "user_profile_id" in u:
            if not isinstance(u["user_profile_id"], str) or u["user_profile_id"] not in {
                p["id"] for p in self.world.user_profiles
            }:
                raise bad_request(f"{where}user_profile_id: user profile {u['user_profile_id']!r} not found")
            out["user_profile_id"] = u["user_profile_id"]
        elif require:
            raise bad_request(f"{where}user_profile_id is required (permissions are managed on the Users page)")
        if "location_profile_id" in u and "location_ids" in u:
            raise bad_request(f"{where}location_profile_id and {where}location_ids are mutually exclusive")
        if "location_profile_id" in u:
            if not isinstance(u["location_profile_id"], str) or u["location_profile_id"] not in {
                p["id"] for p in self.world.location_profiles
            }:
                raise bad_request(
                    f"{where}location_profile_id: location profile {u['location_profile_id']!r} not found"
                )
            out["location_profile_id"] = u["location_profile_id"]
        elif "location_ids" in u:
            ids = u["location_ids"]
            if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
                raise bad_request(f"{where}location_ids must be a non-empty list of location uuids")
            missing = [i for i in ids if i not in self.world.locations and i != self.subscription_uuid]
            if missing:
                raise bad_request(f"{where}location_ids: location(s) not found: {', '.join(missing)}")
            out["location_ids"] = list(ids)
        elif require:
            raise bad_request(f"{where}location_profile_id or {where}location_ids is required")
        return out

    def update_user(self, user_id: str, body: Any) -> dict[str, Any]:
        """``PUT /v1/users/<id>`` (raises :class:`RnError`)."""
        user = next((u for u in self.world.users if u["id"] == user_id), None)
        if user is None:
            raise not_found(f"user {user_id} not found")
        if not isinstance(body, dict):
            raise bad_request("body must be a JSON object")
        allowed = {"user_profile_id", "location_profile_id", "location_ids"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise bad_request(
                f"unknown field(s) {', '.join(unknown)}: only user_profile_id, location_profile_id "
                "and location_ids can be updated"
            )
        if not body:
            raise bad_request("give at least one of user_profile_id, location_profile_id, location_ids")
        perms = self._permissions(body, "", require=False)
        with self._lock:
            if "location_profile_id" in perms:
                user.pop("location_ids", None)
            if "location_ids" in perms:
                user.pop("location_profile_id", None)
            rest = {
                k: v
                for k, v in user.items()
                if k not in ("last_sign_in_at", "current_sign_in_at", "invitation_accepted", "invitation_locale")
            }
            tail = {
                k: user[k]
                for k in ("last_sign_in_at", "current_sign_in_at", "invitation_accepted", "invitation_locale")
                if k in user
            }
            rest.update(perms)
            user.clear()
            user.update(rest)
            user.update(tail)
        return dict(user)

    # ------------------------------------------------------------------ occupancy

    def adjust_occupancy(self, store_uuid: str, count: int, when: datetime | str | int | None = None) -> dict[str, Any]:
        """``POST /v1/occupancy/adjust`` rules; raises :class:`RnError` 400."""
        store = self.world.stores.get(store_uuid) if isinstance(store_uuid, str) else None
        if store is None:
            raise bad_request(f"store_uuid: store {store_uuid!r} not found")
        if isinstance(count, bool) or not isinstance(count, int) or count == 0:
            raise bad_request(f"adjustment_count must be a non-zero integer (got {count!r})")
        now = self.now_epoch()
        try:
            moment = to_epoch_any(when) if when is not None else now
        except (ValueError, TypeError):
            raise bad_request(f"adjustment_time: not an ISO 8601 date/time: {when!r}") from None
        if moment > now:
            raise bad_request("adjustment_time must not be in the future")
        if store.occupancy_limit is None:
            raise bad_request("occupancy updates are only accepted when the store's occupancy limit is defined")
        bucket_start = moment - moment % BUCKET
        if self.days.locate(store, bucket_start) is None:
            raise bad_request("occupancy updates are only accepted within store hours")
        with self._lock:
            self.adjustments.setdefault(store.uuid, []).append((moment, count))
        return {"ok": True}

    # ------------------------------------------------------------------ video

    def set_export_behaviour(
        self,
        channel_uuid: str,
        ready_after_polls: int = 1,
        ready_after_seconds: float | None = None,
        fail: str | None = None,
        expire_after_polls: int | None = None,
    ) -> dict[str, Any]:
        """How exports including this channel behave (see :class:`ExportBehaviour`)."""
        behaviour = ExportBehaviour(int(ready_after_polls), ready_after_seconds, fail, expire_after_polls)
        self.export_behaviour[channel_uuid] = behaviour
        return behaviour.__dict__.copy()

    def expire_export(self, export_id: str) -> None:
        self.exports[export_id].expired = True

    def export_signature(self, export_id: str) -> str:
        return hmac.new(self.secret, export_id.encode(), hashlib.sha256).hexdigest()[:32]

    def export_size(self, export: Export) -> int:
        start, end = to_epoch_any(export.start), to_epoch_any(export.end)
        seconds = max(1, end - start)
        return min(4 << 20, 4096 + seconds * 96 * len(export.channels) * (4 if export.raw else 1))

    def export_bytes(self, export_id: str) -> bytes:
        """The exact bytes the download URL of an export serves."""
        export = self.exports[export_id]
        size = self.export_size(export)
        seed = "|".join(
            [
                export.export_id,
                *export.channels,
                export.start,
                export.end,
                str(export.analytics_overlay),
                str(export.info_overlay),
                str(export.raw),
                export.resolution or "",
            ]
        ).encode()
        header = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
        return (header + hashlib.shake_256(seed).digest(size))[:size]

    def channel_record(self, channel_uuid: str) -> dict[str, Any] | None:
        return next((c for c in self.world.channels if c["channel_uuid"] == channel_uuid), None)
