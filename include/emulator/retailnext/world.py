"""The generated RetailNext world: locations, stores and their hours, users, profiles,
health alerts, FPA floorplans and the device inventory.

Everything is derived from ``seed`` and the number of stores; :func:`build_world` takes a
few milliseconds for 10 stores.  Traffic is not stored here (see :mod:`.traffic`).
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SUBLOCATION_TYPES = ("entrance", "fitting_room", "display", "other")
LOCATION_TYPES = ("display", "entrance", "fitting_room", "other", "store", "region")
STORE_EXTRA_FIELDS = ("time_zone", "store_id", "pos_id", "pos_division_id", "staff_hour_id", "occupancy_limit")
TIME_ZONES = (
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "America/Chicago",
    "Europe/Paris",
    "Australia/Sydney",
    "Asia/Tokyo",
    "America/Denver",
    "Asia/Kolkata",
    "Europe/Berlin",
)
PLACES = (
    "Caspar",
    "Willow Glen",
    "Garden",
    "San Jose",
    "Harbor",
    "Oak Ridge",
    "Maple",
    "Riverside",
    "Summit",
    "Lakeview",
    "Cedar",
    "Bayfront",
    "Northgate",
    "Elm Park",
)
SUFFIXES = ("Plaza", "Station", "Center", "Mall", "Square", "Commons", "Market")
ZONE_NAMES = ("Entrance", "Denim", "Table 1", "Checkout", "Shoes", "Accessories", "Kids", "Sale")
ALERT_TYPES = (
    ("connectiondown", "Haven't heard from {model} sensor recently"),
    ("cameradown", "Camera {model} stopped sending video"),
    ("trafficdrop", "Traffic from {model} dropped unexpectedly"),
    ("storagefull", "Appliance storage almost full"),
)
PROFILE_PAGES = ("analytics", "reports", "point_of_sale")
PROFILE_DATA_TYPES = (
    "export_analytics_data",
    "guest_wifi",
    "individual_data",
    "mobile_device_detection",
    "pos",
    "pos_exception_data",
    "pos_individual_transactions",
    "pos_transactions_export",
    "access_reports",
    "staffing_data",
    "tracks_and_kinetic_maps",
    "traffic",
)
PROFILE_ADMIN_TASKS = (
    "health_monitoring_alerts",
    "cameras",
    "pos_terminals",
    "security_event_sources",
    "store_appliances",
    "fpa",
    "pos_uploads",
    "sku_map_uploads",
    "staff_hour_uploads",
    "traffic_uploads",
    "store_hours_uploads",
    "goals_uploads",
    "currency_uploads",
    "deleted_items",
    "dwell_uploads",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: Hours of one weekday: (open, close) in minutes from the day's local 00:00 (open may be
#: negative: the day opens the evening before; close may exceed 1440: it closes after
#: midnight), or ``None`` when closed.
Hours = tuple[int, int] | None


class Ids:
    """Deterministic version-1 looking UUIDs and MAC addresses from one RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=1))

    def mac(self, prefix: tuple[int, ...] = (0x20, 0xC3)) -> str:
        tail = [self.rng.randrange(256) for _ in range(6 - len(prefix))]
        return ":".join(f"{b:02X}" for b in (*prefix, *tail))


@dataclass
class Location:
    """One location (region, store or sublocation).

    :param store_uuid: the store a store or sublocation belongs to (``None`` for regions).
    :param order: position in the listing order.
    """

    uuid: str
    parent_uuid: str
    name: str
    location_type: str
    area: float | None = None
    archive_date: str | None = None
    store_uuid: str | None = None
    aggregate_to_parent: bool | None = None
    aggregate_to_store: bool | None = None
    order: int = 0

    @property
    def is_sublocation(self) -> bool:
        return self.location_type in SUBLOCATION_TYPES

    def node(self) -> dict[str, Any]:
        """The wire object of ``/v2/location`` (without extra fields)."""
        return {
            "uuid": self.uuid,
            "parent_uuid": self.parent_uuid,
            "name": self.name,
            "type": "location",
            "location_type": self.location_type,
            "area": self.area,
            "archive_date": self.archive_date,
        }


@dataclass
class Store:
    """Store attributes beyond its :class:`Location`.

    :param hours: :data:`Hours` per weekday (Monday first) in the store's time zone.
    :param peak: mean traffic in per 15 minutes at the busiest time of day.
    """

    uuid: str
    index: int
    time_zone: str
    hours: tuple[Hours, ...]
    store_id: str
    pos_id: str
    pos_division_id: str
    staff_hour_id: str
    occupancy_limit: int | None
    peak: float
    bandwidth_limit_kilobits_per_second: int | None = None
    tz: ZoneInfo = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.time_zone)

    def day_hours(self, day: date) -> Hours:
        return self.hours[day.weekday()]

    def extras(self) -> dict[str, Any]:
        return {
            "time_zone": self.time_zone,
            "store_id": self.store_id,
            "pos_id": self.pos_id,
            "pos_division_id": self.pos_division_id,
            "staff_hour_id": self.staff_hour_id,
            "occupancy_limit": self.occupancy_limit,
        }


@dataclass
class World:
    """The mutable state of one RetailNext subscription."""

    subscription_uuid: str
    locations: dict[str, Location]
    stores: dict[str, Store]
    users: list[dict[str, Any]]
    user_profiles: list[dict[str, Any]]
    location_profiles: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    floorplans: list[dict[str, Any]]
    cameras: list[dict[str, Any]]
    channels: list[dict[str, Any]]
    appliances: list[dict[str, Any]]
    next_order: int = 0
    ids: Ids | None = None

    def ordered_locations(self) -> list[Location]:
        return sorted(self.locations.values(), key=lambda loc: loc.order)

    def store_list(self) -> list[Store]:
        return sorted(self.stores.values(), key=lambda s: s.index)

    def store_location(self, store: Store) -> Location:
        return self.locations[store.uuid]

    def stores_under(self, location_uuid: str) -> list[Store]:
        """The stores at or under a location (the organization: every store)."""
        if location_uuid == self.subscription_uuid:
            return self.store_list()
        loc = self.locations.get(location_uuid)
        if loc is None:
            return []
        if loc.store_uuid is not None:
            return [self.stores[loc.store_uuid]] if loc.location_type == "store" else []
        return [s for s in self.store_list() if self.is_under(s.uuid, location_uuid)]

    def is_under(self, location_uuid: str, ancestor_uuid: str) -> bool:
        """Whether ``ancestor_uuid`` is the location itself or one of its ancestors."""
        current: str | None = location_uuid
        seen = 0
        while current is not None and seen < 10_000:
            if current == ancestor_uuid:
                return True
            loc = self.locations.get(current)
            current = loc.parent_uuid if loc is not None else None
            seen += 1
        return False

    def add_location(self, loc: Location) -> Location:
        loc.order = self.next_order
        self.next_order += 1
        self.locations[loc.uuid] = loc
        return loc


def _hours_for(index: int, rng: random.Random) -> tuple[Hours, ...]:
    if index == 1:  # crosses midnight every day but Sunday
        return ((960, 1560),) * 6 + ((720, 1200),)
    shift = (index % 3) * 30
    weekday: Hours = (540 + shift, 1260 + shift)
    sunday: Hours = None if index % 5 == 4 else (600, 1080)
    if index == 2:  # Saturday opens on Friday at 22:00, Friday closes at 20:00
        return (weekday, weekday, weekday, weekday, (540, 1200), (-120, 1080), sunday)
    return (weekday,) * 6 + (sunday,)


def _iso_ms_z(moment: datetime) -> str:
    """``2020-01-14T22:30:18.363Z`` (a UTC moment)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _polygon(rng: random.Random, x0: float, y0: float) -> tuple[list[dict[str, float]], float]:
    w, h = rng.uniform(120, 400), rng.uniform(120, 400)
    corners = [(x0, y0), (x0 + w, y0 + rng.uniform(-3, 3)), (x0 + w, y0 + h), (x0 + rng.uniform(-3, 3), y0 + h)]
    points = [{"x": x, "y": y} for x, y in corners]
    points.append(dict(points[0]))
    return points, w * h


def build_world(stores: int, seed: int, anchor_day: date) -> World:
    """Generate the world of ``stores`` stores; alerts fall in the 30 days before ``anchor_day``."""
    rng = random.Random(f"retailnext:{seed}")
    ids = Ids(rng)
    n_stores = max(1, int(stores))
    world = World(ids.uuid(), {}, {}, [], [], [], [], [], [], [], [], ids=ids)
    org = world.subscription_uuid

    n_leaf = max(2, math.ceil(n_stores / 4))
    n_top = math.ceil(n_leaf / 3)
    tops = [
        world.add_location(Location(ids.uuid(), org, f"Region {chr(65 + t % 26)}{t // 26 or ''}", "region"))
        for t in range(n_top)
    ]
    leaves: list[Location] = []
    by_leaf: dict[int, list[int]] = {i: [] for i in range(n_leaf)}
    for s in range(n_stores):
        by_leaf[s % n_leaf].append(s)
    # Depth first: top region, its leaf regions, their stores and sublocations.
    leaf_parent = {i: tops[i % n_top] for i in range(n_leaf)}
    world.next_order = 0
    world.locations.clear()
    ordered: list[tuple[str, Any]] = []
    for top in tops:
        ordered.append(("loc", top))
        for leaf_i in range(n_leaf):
            if leaf_parent[leaf_i] is not top:
                continue
            leaf = Location(ids.uuid(), top.uuid, f"{top.name}-{leaf_i + 1}", "region")
            leaves.append(leaf)
            ordered.append(("loc", leaf))
            for s in by_leaf[leaf_i]:
                ordered.append(("store", (s, leaf)))
    store_names: set[str] = set()
    for kind, item in ordered:
        if kind == "loc":
            world.add_location(item)
            continue
        s, leaf = item
        name = f"{PLACES[s % len(PLACES)]} {SUFFIXES[(s // len(PLACES) + s) % len(SUFFIXES)]}"
        while name in store_names:
            name += " II"
        store_names.add(name)
        suuid = ids.uuid()
        world.add_location(
            Location(
                suuid,
                leaf.uuid,
                name,
                "store",
                area=None if s % 3 else round(rng.uniform(150, 900), 1),
                store_uuid=suuid,
            )
        )
        store = Store(
            uuid=suuid,
            index=s,
            time_zone=TIME_ZONES[s % len(TIME_ZONES)],
            hours=_hours_for(s, rng),
            store_id=str(101 + s),
            pos_id=f"POS-{101 + s}",
            pos_division_id=f"DIV-{1 + s % 3}",
            staff_hour_id=f"SH{101 + s:05d}",
            occupancy_limit=None if s % 4 == 3 else 20 + 5 * (s % 7) * 3,
            peak=round(rng.uniform(6, 22), 2),
        )
        world.stores[suuid] = store
        subs: list[tuple[str, str]] = [("entrance", "Main Entrance")]
        if s % 2:
            subs.append(("entrance", "Side Entrance"))
        if s % 2 == 0:
            subs.append(("fitting_room", "Fitting Rooms"))
        subs.append(("display", "Front Table"))
        if s % 3 == 1:
            subs.append(("display", "Window Display"))
        subs.append(("other", "Stockroom"))
        subs.append(("other", "Back Office"))
        for ltype, lname in subs:
            world.add_location(
                Location(
                    ids.uuid(),
                    suuid,
                    lname,
                    ltype,
                    area=round(rng.uniform(10, 120), 1),
                    store_uuid=suuid,
                    aggregate_to_parent=ltype == "entrance",
                    aggregate_to_store=ltype == "entrance",
                )
            )
        # FPA floorplans and their zone locations.
        plans = 2 if s % 3 == 0 else 1
        for p in range(plans):
            plan = {
                "id": ids.uuid(),
                "name": f"{name} Floorplan" + (f" {p + 1}" if p else ""),
                "store_id": suuid,
                "store_name": name,
                "zones": [],
            }
            for z in range(3 if p == 0 else 2):
                zname = ZONE_NAMES[(s + z + 3 * p) % len(ZONE_NAMES)]
                zloc = world.add_location(
                    Location(
                        ids.uuid(),
                        suuid,
                        f"{zname} Zone",
                        "other",
                        area=None,
                        store_uuid=suuid,
                        aggregate_to_parent=False,
                        aggregate_to_store=False,
                    )
                )
                points, area = _polygon(rng, rng.uniform(0, 2000), rng.uniform(0, 1000))
                plan["zones"].append(
                    {
                        "id": ids.uuid(),
                        "name": zname,
                        "type": "staff" if (z == 2 and s % 2) else "fpa",
                        "location_id": zloc.uuid,
                        "location_name": zloc.name,
                        "area": area,
                        "dwell_time_threshold_ms": (10, 500, 2000)[z % 3],
                        "zone_threshold_mm": 1000,
                        "points": points,
                    }
                )
            world.floorplans.append(plan)

    stores_list = world.store_list()
    # Inventory.
    for store in stores_list:
        s = store.index
        appliances = []
        for a in range(2 if s % 4 == 0 else 1):
            appliance = {
                "appliance_id": ids.uuid(),
                "store_uuid": store.uuid,
                "mac_address": ids.mac((0x00, 0x0D)),
                "private_ip": f"192.168.{s % 250}.{10 + a}",
                "network_configuration": {"mode": 0, "ip": "", "gateway": "", "dns": "", "ntp": ""},
                "public_ip": f"104.59.{(s * 7) % 250}.{20 + a}",
            }
            appliances.append(appliance)
        world.appliances.extend(sorted(appliances, key=lambda a: a["appliance_id"]))
        cams: list[dict[str, Any]] = []

        def camera(
            kind: int,
            name: str,
            n_channels: int,
            appliance_id: str,
            store: Store = store,
            s: int = s,
            cams: list[dict[str, Any]] = cams,
        ) -> dict[str, Any]:
            device_id = ids.mac()
            channel_ids = [ids.uuid() for _ in range(n_channels)]
            vendor, model = {0: ("Axis", "M3106"), 1: ("RetailNext", "Aurora"), 2: ("Xovis", "PC2S")}[kind]
            cam = {
                "type": kind,
                "device_id": device_id,
                "device_name": name,
                "store_uuid": store.uuid,
                "appliance_id": appliance_id,
                "vendor": vendor,
                "model": model,
                "private_ip": f"10.{s % 250}.10.{len(cams) + 100}",
                "public_ip": f"162.254.{s % 250}.{len(cams) + 20}",
                "last_heard": _iso_ms_z(
                    datetime.combine(anchor_day, datetime.min.time(), UTC) - timedelta(seconds=rng.randrange(1, 86400))
                ),
                "serial_number": str(15290000 + rng.randrange(10000)) if kind == 2 else "",
                "network_configuration": {"mode": 0, "ip": "", "gateway": "", "dns": "", "ntp": ""},
                "video_channel_uuids": channel_ids,
                "video_channel_count": n_channels,
                "configuration_summary": (
                    {"sensor_group": world.locations[store.uuid].name, "sensor_name": name} if kind == 2 else {}
                ),
                "analytics": {
                    "traffic_line_count": 1 if kind else 0,
                    "dwell_zone_count": rng.randrange(3),
                    "direction_line_configured": kind == 2,
                },
                "height": 3860 if kind == 1 else None,
            }
            if kind != 1:
                cam.pop("height")
            for c, cuuid in enumerate(channel_ids):
                world.channels.append(
                    {
                        "channel_uuid": cuuid,
                        "name": f"{name}" + (f" {c + 1}" if n_channels > 1 else ""),
                        "device_id": device_id,
                        "resolution": "1280x960",
                        "frame_rate": 10,
                        "record_on_motion": bool(c % 2 == 0),
                        "minimum_retention_days": 0,
                        "maximun_retention_days": 30 * (1 + s % 3),
                        "blur_video": False,
                        "recording_enabled": True,
                        "snapshot_enabled": c == 0,
                        "snapshot_interval_secs": 300,
                        "snapshot_resolution": "1400x1050",
                        "_store_uuid": store.uuid,
                        "_appliance_id": appliance_id,
                    }
                )
            cams.append(cam)
            return cam

        main_appliance = appliances[0]["appliance_id"]
        camera(0, "Entrance Camera", 1, main_appliance)
        camera(0, "Registration Desk", 2, appliances[-1]["appliance_id"])
        camera(1, "Aisle Camera", 1, "")
        if s % 2 == 0:
            camera(2, "Entrance Counter", 0, "")
        world.cameras.extend(sorted(cams, key=lambda c: c["device_id"]))
    # Channels in store order then channel uuid.
    order = {s.uuid: s.index for s in stores_list}
    world.channels.sort(key=lambda c: (order[c["_store_uuid"]], c["channel_uuid"]))

    # Profiles and users.
    profile_names = ("Subscription Admin", "Store Manager", "Analyst", "API Example")
    for p, pname in enumerate(profile_names):
        world.user_profiles.append(
            {
                "id": ids.uuid(),
                "name": pname,
                "enterprise_groups": [],
                "use_idle_timeout": p % 2 == 1,
                "idle_timeout": 54000,
                "subscription_admin": p == 0,
                "visible_dashboard_widgets": {
                    "pages": list(PROFILE_PAGES[: 3 - p % 2]),
                    "data_types": list(PROFILE_DATA_TYPES[: 12 - 2 * p]),
                    "admin_tasks": list(PROFILE_ADMIN_TASKS[: 15 - 4 * p]),
                    "allow_individual_activity": ["mobile_device_detection"] if p < 2 else [],
                },
            }
        )
    world.location_profiles.append(
        {
            "id": ids.uuid(),
            "name": "All Locations",
            "enterprise_groups": [],
            "location_ids": [s.uuid for s in stores_list],
        }
    )
    for leaf in leaves:
        world.location_profiles.append(
            {
                "id": ids.uuid(),
                "name": f"{leaf.name} Stores",
                "enterprise_groups": [],
                "location_ids": [s.uuid for s in stores_list if world.locations[s.uuid].parent_uuid == leaf.uuid],
            }
        )
    first_names = ("Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Gina", "Hugo", "Ines", "Jon", "Kai", "Lena")
    base = datetime.combine(anchor_day, datetime.min.time(), UTC)
    for u in range(max(12, 2 * n_stores)):
        fname = first_names[u % len(first_names)]
        sso = u % 3 == 1
        signed = u % 4 != 3
        last = base - timedelta(days=1 + u % 20, seconds=rng.randrange(86400), milliseconds=rng.randrange(1000))
        user: dict[str, Any] = {
            "type": "sso" if sso else "local",
            "name": f"{fname} User{u + 1}",
            "email": f"{fname.lower()}.user{u + 1}@domain.com",
            "id": ids.uuid(),
            "disabled": u % 7 == 6,
            "user_profile_id": world.user_profiles[u % len(world.user_profiles)]["id"],
        }
        if u % 5 == 4:
            user["location_ids"] = [stores_list[u % n_stores].uuid]
        else:
            user["location_profile_id"] = world.location_profiles[u % len(world.location_profiles)]["id"]
        user.update(
            {
                "last_sign_in_at": _iso_ms_z(last) if signed else None,
                "current_sign_in_at": _iso_ms_z(last + timedelta(minutes=3)) if signed else None,
                "invitation_accepted": signed,
                "invitation_locale": "en_US",
            }
        )
        world.users.append(user)

    # Health alerts: 3 per store over the 30 days before anchor_day.
    for store in stores_list:
        devices = [c for c in world.cameras if c["store_uuid"] == store.uuid]
        for a in range(3):
            cam = devices[(a + store.index) % len(devices)]
            atype, desc = ALERT_TYPES[(a + store.index) % len(ALERT_TYPES)]
            created = base - timedelta(seconds=rng.randrange(60, 30 * 86400), milliseconds=rng.randrange(1000))
            event = (created - timedelta(minutes=60, seconds=rng.randrange(0, 300))).replace(microsecond=0)
            resolved = rng.random() < 0.5
            resolved_at = created + timedelta(hours=rng.uniform(1, 48)) if resolved else None
            world.alerts.append(
                make_alert(
                    store,
                    world.locations[store.uuid].name,
                    uuid_=ids.uuid(),
                    alert_type=atype,
                    description=desc.format(model=cam["model"]),
                    created=created,
                    event=event,
                    subject_id=cam["device_id"],
                    subject_name=f"{cam['device_name']} ({cam['device_id']})",
                    severity="critical" if a == 0 else "warning",
                    resolved_at=resolved_at,
                )
            )
    return world


def make_alert(
    store: Store,
    store_name: str,
    *,
    uuid_: str,
    alert_type: str,
    description: str,
    created: datetime,
    event: datetime,
    subject_id: str,
    subject_name: str,
    severity: str = "warning",
    resolved_at: datetime | None = None,
) -> dict[str, Any]:
    """A health alert; times carry the store's UTC offset."""
    tz = store.tz
    return {
        "alert_creation_time": created.astimezone(tz).isoformat(timespec="milliseconds"),
        "description": description,
        "event_time": event.astimezone(tz).isoformat(timespec="seconds"),
        "resolved": resolved_at is not None,
        "resolved_time": resolved_at.astimezone(tz).isoformat(timespec="milliseconds") if resolved_at else None,
        "severity": "resolved" if resolved_at is not None else severity,
        "store_uuid": store.uuid,
        "store_name": store_name,
        "subject_id": subject_id,
        "subject_name": subject_name,
        "type": alert_type,
        "uuid": uuid_,
        "obsolete": False,
    }
