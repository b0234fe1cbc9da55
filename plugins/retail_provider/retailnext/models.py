"""Pydantic models of the RetailNext API: responses (lenient) and requests (strict).

Responses keep unknown fields (``extra="allow"``): a new vendor field must not break a
DAG.  Requests forbid unknown fields and validate the documented rules, so a typo fails
before anything is sent.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Validity = Literal["complete", "incomplete", "imputed"]
#: entries per page of the v1 lists (``X-Page-Length`` at most 100)
V1_PAGE_LENGTH = 100
#: entries a v2 answer holds at most (more are silently dropped): location queries, datamine points
V2_MAX_ENTRIES = 10_000
#: what a RetailNext id (uuid, export id, user id) may look like
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
LOCATION_TYPES = ("display", "entrance", "fitting_room", "other", "store", "region")
EXTRA_FIELDS = (
    "store.time_zone", "store.store_id", "store.pos_id", "store.pos_division_id", "store.staff_hour_id",
    "store.occupancy_limit",
)


def check_id(value: Any, name: str, what: str = "a RetailNext id (letters, digits, '.', '_', '-')") -> str:
    """``value`` as an id for a URL path or a request; raises naming ``name`` otherwise."""
    from retail_provider.http.errors import InputValidationError

    text = str(value or "").strip()
    if not ID_PATTERN.match(text):
        raise InputValidationError(f"{name} must be {what} (got {value!r})", api="retailnext")
    return text


def iso_z(moment: datetime) -> str:
    """``yyyy-mm-ddThh:mm:ssZ`` as the reference writes request times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Response(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


# --- locations ---------------------------------------------------------------------------


class Location(Response):
    """A location of ``v2/location`` (``uuid``, ``parent_uuid``, ``type: "location"``,
    ``location_type``) or of the ``v1/location`` listing, which the public client reads as
    ``id``, ``parent_id``, ``type`` (the location type), ``store_id``, ``pos_id``,
    ``time_zone``, ``time_zone_abbrev``, ``current_utc_offset`` and ``address``: both
    shapes give the same model."""

    uuid: str
    parent_uuid: str | None = None
    name: str | None = None
    type: str | None = None
    location_type: str | None = None
    area: float | None = None
    archive_date: str | None = None
    time_zone: str | None = None
    store_id: str | None = None
    pos_id: str | None = None
    pos_division_id: str | None = None
    staff_hour_id: str | None = None
    occupancy_limit: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _v1_shape(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "uuid" in data or "id" not in data:
            return data
        out = {k: v for k, v in data.items() if k not in ("id", "parent_id")}
        out["uuid"], out["parent_uuid"] = data["id"], data.get("parent_id")
        if data.get("type") in LOCATION_TYPES and "location_type" not in data:
            out["location_type"], out["type"] = data["type"], "location"
        return out

    @field_validator("store_id", "pos_id", "pos_division_id", "staff_hour_id", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


class LocationNodes(Response):
    nodes: list[list[Location]] = Field(default_factory=list)

    def flat(self) -> list[Location]:
        return [n for group in self.nodes for n in group]


class LocationQuery(Request):
    extra_fields: list[str] | None = None
    where: dict[str, Any] | None = None

    @field_validator("extra_fields")
    @classmethod
    def _known_extra(cls, v: list[str] | None) -> list[str] | None:
        for f in v or []:
            if f not in EXTRA_FIELDS:
                raise ValueError(f"extra field {f!r} is not one of {', '.join(EXTRA_FIELDS)}")
        return v

    @classmethod
    def build(cls, *, extra_fields: list[str] | None = None, location_types: list[str] | None = None,
              uuids: list[str] | None = None) -> dict[str, Any]:
        for t in location_types or []:
            if t not in LOCATION_TYPES:
                raise ValueError(f"location type {t!r} is not one of {', '.join(LOCATION_TYPES)}")
        conds: list[dict[str, Any]] = []
        if location_types:
            conds.append({"location_types": list(location_types)})
        if uuids:
            conds.append({"uuids": list(uuids)})
        where = {"and": conds} if conds else None
        return cls(extra_fields=extra_fields or None, where=where).wire()


# --- store hours -------------------------------------------------------------------------


class StoreHoursRequest(Request):
    stores: list[str] = Field(min_length=1)
    start_date: date
    end_date: date

    @model_validator(mode="after")
    def _order(self) -> StoreHoursRequest:
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self

    def wire(self) -> dict[str, Any]:
        return {
            "stores": self.stores,
            "start_date": f"{self.start_date.isoformat()}T00:00:00Z",
            "end_date": f"{self.end_date.isoformat()}T00:00:00Z",
        }


class StoreHours(Response):
    """Open and close are the store's local wall-clock times written with ``Z``."""

    store_uuid: str
    effective_day: str
    open: str | None = None
    close: str | None = None


class StoreHoursResponse(Response):
    result: dict[str, dict[str, StoreHours]] = Field(default_factory=dict)

    def entries(self) -> list[StoreHours]:
        return [e for days in self.result.values() for e in days.values()]


# --- predicted traffic, zone transitions ---------------------------------------------------


class PredictedTrafficRequest(Request):
    store_uuid: str
    first_day: date
    last_day: date

    @model_validator(mode="after")
    def _rules(self) -> PredictedTrafficRequest:
        if self.last_day < self.first_day:
            raise ValueError("last_day must not be before first_day")
        if (self.last_day - self.first_day).days >= 7:
            raise ValueError("predicted traffic allows at most 7 days per request")
        return self


class Prediction(Response):
    time: str
    value: float | None = None


class PredictedTraffic(Response):
    ok: bool = True
    error: str | None = ""
    predictions: list[Prediction] = Field(default_factory=list)


class DayRange(Request):
    start: date
    finish: date


class ClockRange(Request):
    start: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    finish: str | None = Field(default=None, pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")
    type: Literal["store_hours"] | None = None


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ZoneTransitionsRequest(Request):
    locations: list[str] = Field(min_length=1)
    date_ranges: list[DayRange] = Field(min_length=1)
    metrics: list[Literal["all", "employee", "customer"]] | None = None
    transitions: Literal["direct_only", "direct_and_indirect", "directionless"] | None = None
    dwells: Literal["dwells_only", "non_dwells", "all_traffic"] | None = None
    time_ranges: list[ClockRange] | None = None
    days_of_week: list[Weekday] | None = None


class ZoneRef(Response):
    uuid: str
    name: str | None = None
    location_uuid: str | None = None
    location_name: str | None = None


class FloorplanRef(Response):
    uuid: str
    name: str | None = None
    store_uuid: str | None = None
    store_name: str | None = None


class Transition(Response):
    from_zone_id: str
    to_zone_id: str
    value: float | None = None
    percentage: float | None = None


class ZoneTransitionData(Response):
    floorplan: FloorplanRef
    zones: list[ZoneRef] = Field(default_factory=list)
    transitions: list[Transition] = Field(default_factory=list)


class ZoneTransitionMetric(Response):
    name: str
    data: list[ZoneTransitionData] = Field(default_factory=list)


class ZoneTransitionsResponse(Response):
    metrics: list[ZoneTransitionMetric] = Field(default_factory=list)


# --- floorplans ----------------------------------------------------------------------------


class Point(Response):
    x: float
    y: float


class ZoneFields(Response):
    """A zone's own fields (the warehouse row adds its floorplan)."""

    id: str
    name: str | None = None
    type: str | None = None
    location_id: str | None = None
    location_name: str | None = None
    area: float | None = None
    dwell_time_threshold_ms: int | None = None
    zone_threshold_mm: int | None = None


class Zone(ZoneFields):
    points: list[Point] = Field(default_factory=list)


class FloorplanFields(Response):
    """A floorplan's own fields; ``store_id`` is the store's uuid (the vendor's name for it)."""

    id: str
    name: str | None = None
    store_id: str | None = None
    store_name: str | None = None


class Floorplan(FloorplanFields):
    zones: list[Zone] = Field(default_factory=list)


# --- users and profiles --------------------------------------------------------------------


class User(Response):
    id: str
    type: str | None = None
    name: str | None = None
    email: str | None = None
    disabled: bool | None = None
    user_profile_id: str | None = None
    location_profile_id: str | None = None
    location_ids: list[str] | None = None
    last_sign_in_at: str | None = None
    current_sign_in_at: str | None = None
    invitation_accepted: bool | None = None
    invitation_locale: str | None = None


class UserProfile(Response):
    id: str
    name: str | None = None
    enterprise_groups: list[Any] | None = None
    use_idle_timeout: bool | None = None
    idle_timeout: int | None = None
    subscription_admin: bool | None = None
    visible_dashboard_widgets: dict[str, Any] | None = None


class LocationProfile(Response):
    id: str
    name: str | None = None
    enterprise_groups: list[Any] | None = None
    location_ids: list[str] = Field(default_factory=list)


# --- health alerts -------------------------------------------------------------------------


class HealthAlert(Response):
    uuid: str
    alert_creation_time: datetime
    description: str | None = None
    event_time: datetime | None = None
    resolved: bool | None = None
    resolved_time: datetime | None = None
    severity: str | None = None
    store_uuid: str | None = None
    store_name: str | None = None
    subject_id: str | None = None
    subject_name: str | None = None
    type: str | None = None
    obsolete: bool | None = None


# --- inventory -----------------------------------------------------------------------------


class NetworkConfiguration(Response):
    mode: int | None = None
    ip: str | None = None
    gateway: str | None = None
    dns: str | None = None
    ntp: str | None = None


class Camera(Response):
    device_id: str
    type: int | None = None
    device_name: str | None = None
    store_uuid: str | None = None
    appliance_id: str | None = None
    vendor: str | None = None
    model: str | None = None
    private_ip: str | None = None
    public_ip: str | None = None
    last_heard: str | None = None
    serial_number: str | None = None
    network_configuration: NetworkConfiguration | None = None
    video_channel_uuids: list[str] | None = None
    video_channel_count: int | None = None
    configuration_summary: dict[str, Any] | None = None
    analytics: dict[str, Any] | None = None
    height: int | None = None


class Channel(Response):
    channel_uuid: str
    name: str | None = None
    device_id: str | None = None
    resolution: str | None = None
    frame_rate: int | None = None
    record_on_motion: bool | None = None
    minimum_retention_days: int | None = None
    maximum_retention_days: int | None = Field(default=None, alias="maximun_retention_days")
    blur_video: bool | None = None
    recording_enabled: bool | None = None
    snapshot_enabled: bool | None = None
    snapshot_interval_secs: int | None = None
    snapshot_resolution: str | None = None


class Appliance(Response):
    appliance_id: str
    store_uuid: str | None = None
    mac_address: str | None = None
    private_ip: str | None = None
    public_ip: str | None = None
    network_configuration: NetworkConfiguration | None = None


class InventoryPage(Response):
    ok: bool = True
    error: str | None = None
    next_page: str | None = None
