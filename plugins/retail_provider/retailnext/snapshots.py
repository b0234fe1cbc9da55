"""Full snapshots: locations, users, user and location profiles, floorplans, devices.

The whole listing is read before anything is written; every table of the resource is then
merged with a sweep, so rows the source no longer has are deleted.  An empty listing of a
table that holds rows is refused (it would delete them all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext import models as m
from retail_provider.retailnext.models import V1_PAGE_LENGTH
from retail_provider.retailnext.resources import ResourceWriter, SyncResult, resource_targets
from retail_provider.retailnext.tables import (
    RESOURCES,
    SCHEMA,
    VENDOR,
    CameraRow,
    FloorplanRow,
    LocationRow,
    UserRow,
    ZonePointRow,
    ZoneRow,
)

STORE_FIELDS = ("time_zone", "store_id", "pos_id", "pos_division_id", "staff_hour_id", "occupancy_limit")


def fetch_locations(hook: Any, page_length: int = V1_PAGE_LENGTH) -> dict[str, list[BaseModel]]:
    """The complete v1 listing (every id, and each location's ``time_zone``), with the fields
    of ``v2/location`` merged on (type, area, ``archive_date``, and the stores' extra fields).

    v1 is complete (paged, no cap) but its shape is the public client's (``id``,
    ``parent_id``, ``type``...; the model accepts both shapes); v2 adds what v1 does not
    carry and is split by the hook when it may have been trimmed at 10,000 nodes.
    """
    listing = hook.list_locations(page_length=page_length)
    nodes = {n.uuid: n for n in hook.query_locations(extra_fields=list(m.EXTRA_FIELDS))}
    rows: list[BaseModel] = []
    for loc in listing:
        data = loc.model_dump()
        node = nodes.get(loc.uuid)
        if node is not None:
            for name, value in node.model_dump(exclude_none=True).items():
                if name not in STORE_FIELDS or node.location_type == "store":
                    data[name] = value
            if node.location_type == "store":
                data.update({f: getattr(node, f) for f in STORE_FIELDS if f != "time_zone"})
        rows.append(LocationRow.model_validate(data))
    return {"locations": rows}


def fetch_users(hook: Any, page_length: int = V1_PAGE_LENGTH) -> dict[str, list[BaseModel]]:
    return {"users": [UserRow.model_validate(u.model_dump()) for u in hook.users(page_length=page_length)]}


def fetch_user_profiles(hook: Any, page_length: int = V1_PAGE_LENGTH) -> dict[str, list[BaseModel]]:
    return {"user_profiles": hook.user_profiles(page_length=page_length)}


def fetch_location_profiles(hook: Any, page_length: int = V1_PAGE_LENGTH) -> dict[str, list[BaseModel]]:
    return {"location_profiles": hook.location_profiles(page_length=page_length)}


def fetch_floorplans(hook: Any, page_length: int = V1_PAGE_LENGTH) -> dict[str, list[BaseModel]]:
    """Floorplans, their zones and the zones' polygon points (``seq`` from 0)."""
    plans: list[BaseModel] = []
    zones: list[BaseModel] = []
    points: list[BaseModel] = []
    for plan in hook.floorplans(page_length=page_length):
        plans.append(FloorplanRow.model_validate(plan.model_dump(exclude={"zones"})))
        for zone in plan.zones:
            zones.append(ZoneRow.model_validate({**zone.model_dump(exclude={"points"}), "floorplan_id": plan.id}))
            for seq, point in enumerate(zone.points):
                points.append(ZonePointRow.model_validate({**point.model_dump(), "zone_id": zone.id, "seq": seq}))
    return {"fpa_floorplans": plans, "fpa_zones": zones, "fpa_zone_points": points}


def fetch_devices(hook: Any, page_length: int = V1_PAGE_LENGTH) -> dict[str, list[BaseModel]]:
    """Cameras, channels and appliances of every store (inventory cursors to ``end``)."""
    out: dict[str, list[BaseModel]] = {}
    for kind, table, model in (("cameras", "cameras", CameraRow), ("channels", "channels", m.Channel),
                               ("appliances", "appliances", m.Appliance)):
        out[table] = [model.model_validate(x) for page in hook.iter_inventory(kind, page_length=page_length)
                      for x in page]
    return out


SNAPSHOTS: dict[str, Callable[..., dict[str, list[BaseModel]]]] = {
    "locations": fetch_locations,
    "users": fetch_users,
    "user_profiles": fetch_user_profiles,
    "location_profiles": fetch_location_profiles,
    "floorplans": fetch_floorplans,
    "devices": fetch_devices,
}


def sync_snapshot(hook: Any, conn: Any, resource: str, *, schema: str = SCHEMA, page_length: int = V1_PAGE_LENGTH,
                  batch_rows: int = 50_000, run_info: dict[str, Any] | None = None) -> SyncResult:
    """Load the full listing of ``resource`` and delete the rows the source no longer has.

    The API is read completely before the data transaction starts writing; all tables of
    the resource are merged in the caller's one transaction.
    """
    if resource not in SNAPSHOTS:
        raise InputValidationError(f"resource must be one of {', '.join(SNAPSHOTS)} (got {resource!r})", api=VENDOR)
    data = SNAPSHOTS[resource](hook, page_length)
    writer = ResourceWriter(conn, SyncResult(resource=resource, mode="snapshot"), resource_targets(resource, schema=schema),
                            run_info=run_info, batch_rows=batch_rows)
    primary = RESOURCES[resource][0]
    if not data[primary]:
        writer.refuse_empty(primary)
    for table in RESOURCES[resource]:
        writer.write(table, data[table])
    return writer.close()
