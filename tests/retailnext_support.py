"""RetailNext test helpers: the emulator's truth as the warehouse should hold it, built here
from the raw payloads (independently of the loading code), and warehouse reads to compare.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

STORE_FIELDS = ("time_zone", "store_id", "pos_id", "pos_division_id", "staff_hour_id", "occupancy_limit")


def norm(value: Any) -> Any:
    """Comparable values: numbers as floats, aware times in UTC, JSON without nulls."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal | int | float):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [norm(v) for v in value]
    return value


def utc(text: str | None) -> datetime | None:
    """An aware ISO timestamp from the API (``Z`` or an offset) as a UTC datetime."""
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def wall(text: str) -> datetime:
    """A wall-clock time written with a literal ``Z``: the digits as written, no zone."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def table(conn: psycopg.Connection, schema: str, name: str, columns: list[str], key: list[str]) -> dict[tuple, tuple]:
    """``{key: normalised columns}`` of a warehouse table."""
    query = sql.SQL("SELECT {} FROM {}.{}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in [*key, *columns]), sql.Identifier(schema), sql.Identifier(name)
    )
    out = {}
    for row in conn.execute(query).fetchall():
        out[tuple(row[: len(key)])] = tuple(norm(v) for v in row[len(key):])
    return out


def snapshot(conn: psycopg.Connection, schema: str, name: str) -> list[tuple]:
    """Every column (bookkeeping included) of every row, sorted: equal means nothing was written."""
    query = sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(name))
    return sorted(tuple(map(str, r)) for r in conn.execute(query).fetchall())


def assert_same(expected: dict, actual: dict, what: str) -> None:
    missing = sorted(set(expected) - set(actual), key=str)[:5]
    extra = sorted(set(actual) - set(expected), key=str)[:5]
    assert not missing and not extra, f"{what}: missing keys {missing}, unexpected keys {extra}"
    diffs = [(k, expected[k], actual[k]) for k in expected if expected[k] != actual[k]][:3]
    assert not diffs, f"{what}: rows differ (key, expected, actual): {diffs}"


# --- truth per table -------------------------------------------------------------------------

LOCATION_COLUMNS = ["parent_uuid", "name", "type", "location_type", "area", "archive_date", *STORE_FIELDS]


def expected_locations(rn) -> dict[tuple, tuple]:
    stores = {s["uuid"]: s for s in rn.stores()}
    out = {}
    for loc in rn.locations():
        store = stores.get(loc["uuid"], {})
        values = {**loc, **{f: store.get(f) for f in STORE_FIELDS if loc["location_type"] == "store"}}
        if loc["location_type"] != "store":
            values.update({f: None for f in STORE_FIELDS if f != "time_zone"})
        values["archive_date"] = utc(values["archive_date"])
        out[(loc["uuid"],)] = tuple(norm(values[c]) for c in LOCATION_COLUMNS)
    return out


USER_COLUMNS = ["type", "name", "email", "disabled", "user_profile_id", "location_profile_id", "location_ids",
                "last_sign_in_at", "current_sign_in_at", "invitation_accepted", "invitation_locale"]


def expected_users(rn) -> dict[tuple, tuple]:
    out = {}
    for u in rn.users():
        values = {**u, "last_sign_in_at": utc(u.get("last_sign_in_at")),
                  "current_sign_in_at": utc(u.get("current_sign_in_at"))}
        out[(u["id"],)] = tuple(norm(values.get(c)) for c in USER_COLUMNS)
    return out


PROFILE_COLUMNS = {
    "user_profiles": ["name", "enterprise_groups", "use_idle_timeout", "idle_timeout", "subscription_admin",
                      "visible_dashboard_widgets"],
    "location_profiles": ["name", "enterprise_groups", "location_ids"],
}


def expected_profiles(rn, name: str) -> dict[tuple, tuple]:
    rows = rn.user_profiles() if name == "user_profiles" else rn.location_profiles()
    return {(p["id"],): tuple(norm(p.get(c)) for c in PROFILE_COLUMNS[name]) for p in rows}


FLOORPLAN_COLUMNS = ["name", "store_id", "store_name"]
ZONE_COLUMNS = ["floorplan_id", "name", "type", "location_id", "location_name", "area", "dwell_time_threshold_ms",
                "zone_threshold_mm"]


def expected_floorplans(rn) -> dict[str, dict[tuple, tuple]]:
    plans, zones, points = {}, {}, {}
    for plan in rn.floorplans():
        plans[(plan["id"],)] = tuple(norm(plan[c]) for c in FLOORPLAN_COLUMNS)
        for zone in plan["zones"]:
            zones[(zone["id"],)] = tuple(norm({**zone, "floorplan_id": plan["id"]}[c]) for c in ZONE_COLUMNS)
            for seq, p in enumerate(zone["points"]):
                points[(zone["id"], seq)] = (float(p["x"]), float(p["y"]))
    return {"fpa_floorplans": plans, "fpa_zones": zones, "fpa_zone_points": points}


CAMERA_COLUMNS = ["type", "device_name", "store_uuid", "appliance_id", "vendor", "model", "private_ip", "public_ip",
                  "last_heard", "serial_number", "network_configuration", "video_channel_uuids",
                  "video_channel_count", "configuration_summary", "analytics", "height"]
CHANNEL_COLUMNS = ["name", "device_id", "resolution", "frame_rate", "record_on_motion", "minimum_retention_days",
                   "maximun_retention_days", "blur_video", "recording_enabled", "snapshot_enabled",
                   "snapshot_interval_secs", "snapshot_resolution"]
APPLIANCE_COLUMNS = ["store_uuid", "mac_address", "private_ip", "public_ip", "network_configuration"]


def expected_devices(rn) -> dict[str, dict[tuple, tuple]]:
    cameras = {(c["device_id"],): tuple(norm({**c, "last_heard": utc(c["last_heard"])}.get(k)) for k in CAMERA_COLUMNS)
               for c in rn.cameras()}
    channels = {(c["channel_uuid"],): tuple(norm(c.get(k)) for k in CHANNEL_COLUMNS) for c in rn.channels()}
    appliances = {(a["appliance_id"],): tuple(norm(a.get(k)) for k in APPLIANCE_COLUMNS) for a in rn.appliances()}
    return {"cameras": cameras, "channels": channels, "appliances": appliances}


def expected_store_hours(rn, stores: list[str], start: date, end: date) -> dict[tuple, tuple]:
    return {
        (e["store_uuid"], wall(e["effective_day"]).date()): (wall(e["open"]), wall(e["close"]))
        for e in rn.storehours(stores, start, end)
    }


def expected_predictions(rn, stores: list[str], days_ahead: int, now: datetime | None = None) -> dict[tuple, tuple]:
    now = now or datetime.now(UTC)
    out = {}
    for store in rn.stores():
        if store["uuid"] not in stores:
            continue
        today = now.astimezone(ZoneInfo(store["time_zone"])).date()
        for i in range(1, days_ahead + 1):
            for p in rn.predicted(store["uuid"], today + timedelta(days=i)):
                out[(store["uuid"], wall(p["time"]))] = (float(p["value"]),)
    return out


HEALTH_COLUMNS = ["alert_creation_time", "description", "event_time", "resolved", "resolved_time", "severity",
                  "store_uuid", "store_name", "subject_id", "subject_name", "type", "obsolete"]


def expected_alerts(rn) -> dict[tuple, tuple]:
    out = {}
    for a in rn.alerts():
        values = {**a, **{k: utc(a.get(k)) for k in ("alert_creation_time", "event_time", "resolved_time")}}
        out[(a["uuid"],)] = tuple(norm(values.get(c)) for c in HEALTH_COLUMNS)
    return out


def store_yesterday(rn, store_uuid: str, now: datetime | None = None) -> date:
    tz = ZoneInfo(rn.store(store_uuid).time_zone)
    return (now or datetime.now(UTC)).astimezone(tz).date() - timedelta(days=1)


def expected_zone_transitions(rn, days_by_store: dict[str, list[date]], transitions: str = "direct_only",
                              dwells: str = "dwells_only") -> dict[tuple, tuple]:
    """What ``POST v1/zone_transitions`` answers, one request per store and day (the emulator's own function)."""
    from include.emulator.retailnext.zones import zone_transitions

    out = {}
    for store, days in days_by_store.items():
        locations = [z["location_id"] for p in rn.floorplans(store) for z in p["zones"]]
        for day in days:
            body = {"locations": locations, "date_ranges": [{"start": day.isoformat(),
                                                             "finish": (day + timedelta(days=1)).isoformat()}],
                    "metrics": ["customer", "employee"], "transitions": transitions, "dwells": dwells}
            for metric in zone_transitions(rn, body)["metrics"]:
                for block in metric["data"]:
                    for t in block["transitions"]:
                        key = (day, block["floorplan"]["uuid"], metric["name"], transitions, dwells,
                               t["from_zone_id"], t["to_zone_id"])
                        out[key] = (store, float(t["value"]), float(t["percentage"]))
    return out
