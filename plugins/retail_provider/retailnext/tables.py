"""The ``retailnext`` warehouse tables: row models, keys, which tables each resource writes.

Column layouts come from the row models (:func:`~retail_provider.warehouse.schema.table_spec`);
``docs/retailnext-tables.md`` lists every table and key.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, field_validator

from retail_provider.retailnext import models as m
from retail_provider.warehouse.schema import TableSpec, quote, table_spec

SCHEMA = "retailnext"
VENDOR = "retailnext"


# --- values --------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    """An ISO text as a datetime; empty text is a missing value; anything else is left to pydantic."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return text  # pydantic reports it


def assume_utc(value: Any) -> Any:
    """An ISO timestamp without offset is read as UTC; empty strings are missing values."""
    value = _iso(value)
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


# a timestamp column: an offset is kept, a missing one means UTC
UtcDatetime = Annotated[AwareDatetime, BeforeValidator(assume_utc)]


def wall_time(value: Any) -> Any:
    """A local wall-clock time written with a literal ``Z`` (store hours, predicted traffic).

    The ``Z`` does not mean UTC here (``docs/retailnext-emulator.md``): the time is kept as
    written, without a zone: ``2021-01-15T10:00:00Z`` -> ``2021-01-15 10:00``.
    """
    value = _iso(value)
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


# a local wall-clock time written with a literal ``Z`` (a ``timestamp`` column)
WallTime = Annotated[datetime, BeforeValidator(wall_time)]


# --- table models ----------------------------------------------------------------------------


class Row(BaseModel):
    """A warehouse row built by this module; unknown vendor fields land in ``_extra``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class LocationRow(m.Location):
    """``/v1/location`` entry plus the store fields of ``/v2/location`` extra fields."""

    archive_date: UtcDatetime | None = None


class UserRow(m.User):
    last_sign_in_at: UtcDatetime | None = None
    current_sign_in_at: UtcDatetime | None = None


class CameraRow(m.Camera):
    last_heard: UtcDatetime | None = None


class HealthAlertRow(m.HealthAlert):
    alert_creation_time: UtcDatetime
    event_time: UtcDatetime | None = None
    resolved_time: UtcDatetime | None = None


class StoreHoursRow(Row):
    """One open store day; ``open``/``close`` are local wall-clock times (``timestamp``)."""

    store_uuid: str
    effective_day: date
    open: WallTime | None = None
    close: WallTime | None = None

    @field_validator("effective_day", mode="before")
    @classmethod
    def _day(cls, v: Any) -> Any:
        v = wall_time(v)
        return v.date() if isinstance(v, datetime) else v


class FloorplanRow(m.FloorplanFields):
    """A floorplan without its zones (they have their own table)."""


class ZoneRow(m.ZoneFields):
    """A zone without its points (they have their own table)."""

    floorplan_id: str


class ZonePointRow(Row):
    zone_id: str
    seq: int
    x: float
    y: float


class PredictedTrafficRow(Row):
    """One 15-minute bucket; ``time`` is the store's local wall-clock time."""

    store_uuid: str
    time: WallTime
    value: float | None = None
    predicted_at: AwareDatetime  # when this value was first fetched


class ZoneTransitionRow(Row):
    day: date
    store_uuid: str | None = None
    floorplan_uuid: str
    metric: str
    transitions: str
    dwells: str
    from_zone_id: str
    to_zone_id: str
    value: float | None = None
    percentage: float | None = None


#: table -> (row model, key)
TABLES: dict[str, tuple[type[BaseModel], tuple[str, ...]]] = {
    "locations": (LocationRow, ("uuid",)),
    "store_hours": (StoreHoursRow, ("store_uuid", "effective_day")),
    "users": (UserRow, ("id",)),
    "user_profiles": (m.UserProfile, ("id",)),
    "location_profiles": (m.LocationProfile, ("id",)),
    "fpa_floorplans": (FloorplanRow, ("id",)),
    "fpa_zones": (ZoneRow, ("id",)),
    "fpa_zone_points": (ZonePointRow, ("zone_id", "seq")),
    "cameras": (CameraRow, ("device_id",)),
    "channels": (m.Channel, ("channel_uuid",)),
    "appliances": (m.Appliance, ("appliance_id",)),
    "health_alerts": (HealthAlertRow, ("uuid",)),
    "predicted_traffic": (PredictedTrafficRow, ("store_uuid", "time")),
    "zone_transitions": (
        ZoneTransitionRow,
        ("day", "floorplan_uuid", "metric", "transitions", "dwells", "from_zone_id", "to_zone_id"),
    ),
}

#: resource -> how it is synced (``docs/retailnext-tables.md``)
MODES = {
    "locations": "snapshot", "users": "snapshot", "user_profiles": "snapshot", "location_profiles": "snapshot",
    "floorplans": "snapshot", "devices": "snapshot", "store_hours": "window", "predicted_traffic": "window",
    "zone_transitions": "upsert", "health_alerts": "incremental",
}

#: resource -> its tables (one transaction per resource)
RESOURCES: dict[str, tuple[str, ...]] = {
    "locations": ("locations",),
    "users": ("users",),
    "user_profiles": ("user_profiles",),
    "location_profiles": ("location_profiles",),
    "floorplans": ("fpa_floorplans", "fpa_zones", "fpa_zone_points"),
    "devices": ("cameras", "channels", "appliances"),
    "store_hours": ("store_hours",),
    "predicted_traffic": ("predicted_traffic",),
    "zone_transitions": ("zone_transitions",),
    "health_alerts": ("health_alerts",),
}


def spec_for(table: str, schema: str = SCHEMA) -> TableSpec:
    model, key = TABLES[table]
    return table_spec(model, schema=schema, table=table, key=key)


# --- location tree view ----------------------------------------------------------------------


def location_tree_sql(schema: str = SCHEMA) -> str:
    s = quote(schema)
    return f"""CREATE OR REPLACE VIEW {s}.location_tree AS
WITH RECURSIVE tree AS (
    SELECT l.uuid, l.parent_uuid, l.name, l.location_type, l.archive_date, 0 AS depth,
           ARRAY[l.name] AS path, ARRAY[l.uuid] AS uuid_path,
           CASE WHEN l.location_type = 'store' THEN l.uuid END AS store_uuid
    FROM {s}.locations l
    WHERE l.parent_uuid IS NULL
       OR NOT EXISTS (SELECT 1 FROM {s}.locations p WHERE p.uuid = l.parent_uuid)
    UNION ALL
    SELECT c.uuid, c.parent_uuid, c.name, c.location_type, c.archive_date, t.depth + 1,
           t.path || c.name, t.uuid_path || c.uuid,
           CASE WHEN c.location_type = 'store' THEN c.uuid ELSE t.store_uuid END
    FROM {s}.locations c
    JOIN tree t ON c.parent_uuid = t.uuid
    WHERE c.uuid <> ALL (t.uuid_path)
)
SELECT uuid, parent_uuid, name, location_type, archive_date, depth, path,
       array_to_string(path, ' > ') AS qualified_name, store_uuid
FROM tree"""
