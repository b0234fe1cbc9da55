"""Strict models of what we send to RetailNext's write endpoints (locations, occupancy, users).

Each encodes the reference's rules, so bad input fails before any call with an error
naming the parameter and the rule.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from retail_provider.retailnext.models import Request, iso_z


class LocationCreate(Request):
    """``POST v2/location/create``: sublocations and regions only."""

    name: str = Field(min_length=1)
    parent_uuid: str = Field(min_length=1)
    location_type: Literal["entrance", "fitting_room", "display", "other", "region"]
    area: float | None = Field(default=None, ge=0)
    aggregate_to_parent: bool | None = None
    aggregate_to_store: bool | None = None

    @model_validator(mode="after")
    def _rules(self) -> LocationCreate:
        if self.location_type == "region" and (
            self.area is not None or self.aggregate_to_parent is not None or self.aggregate_to_store is not None
        ):
            raise ValueError("area, aggregate_to_parent and aggregate_to_store apply to sublocations only, not regions")
        return self


class LocationUpdate(Request):
    """``PUT v2/location/<uuid>``; which fields apply depends on the location's type."""

    name: str | None = Field(default=None, min_length=1)
    parent_uuid: str | None = None
    location_type: Literal["entrance", "fitting_room", "display", "other"] | None = None
    area: float | None = Field(default=None, ge=0)
    occupancy_limit: int | None = Field(default=None, ge=0)
    bandwidth_limit_kilobits_per_second: int | None = Field(default=None, ge=0)
    aggregate_to_parent: bool | None = None
    aggregate_to_store: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> LocationUpdate:
        if not self.model_dump(exclude_none=True):
            raise ValueError("an update needs at least one field")
        return self

    def check_applies_to(self, location_type: str | None) -> None:
        """Raise if a field does not apply to a location of ``location_type`` (reference rules)."""
        fields = self.model_dump(exclude_none=True)
        if location_type == "store":
            bad = {"location_type", "aggregate_to_parent", "aggregate_to_store"} & fields.keys()
        elif location_type == "region":
            bad = {"location_type", "area", "occupancy_limit", "bandwidth_limit_kilobits_per_second",
                   "aggregate_to_parent", "aggregate_to_store"} & fields.keys()
        else:  # a sublocation
            bad = {"occupancy_limit", "bandwidth_limit_kilobits_per_second"} & fields.keys()
        if bad:
            raise ValueError(f"{', '.join(sorted(bad))} cannot be set on a location of type {location_type!r}")


class OccupancyAdjust(Request):
    """``POST v1/occupancy/adjust``.

    The reference names the time ``adjustment_date`` in its parameter table and
    ``adjustment_time`` in its example.  Users may give either; the request carries the
    time under **both** names, so neither reading of the API drops it (and uses "now").
    """

    store_uuid: str = Field(min_length=1)
    adjustment_count: int
    adjustment_time: AwareDatetime | None = None
    adjustment_date: AwareDatetime | None = None

    @field_validator("adjustment_count")
    @classmethod
    def _non_zero(cls, v: int) -> int:
        if v == 0:
            raise ValueError("adjustment_count must be non-zero")
        return v

    @model_validator(mode="after")
    def _one_time(self) -> OccupancyAdjust:
        if self.adjustment_time and self.adjustment_date and self.adjustment_time != self.adjustment_date:
            raise ValueError("adjustment_time and adjustment_date name the same time: give one, or the same value")
        self.adjustment_time = self.adjustment_time or self.adjustment_date
        self.adjustment_date = self.adjustment_time
        return self

    def wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"store_uuid": self.store_uuid, "adjustment_count": self.adjustment_count}
        if self.adjustment_time is not None:
            body["adjustment_date"] = body["adjustment_time"] = iso_z(self.adjustment_time)
        return body


class UserCreate(Request):
    """``POST v1/users``: SSO users only."""

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    type: Literal["sso"] = "sso"
    name: str | None = None
    disabled: bool = False
    user_profile_id: str | None = None
    location_profile_id: str | None = None
    location_ids: list[str] | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.lower() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _permissions(self) -> UserCreate:
        if self.location_profile_id and self.location_ids:
            raise ValueError("give either location_profile_id or location_ids (custom locations), not both")
        if self.location_ids is not None and not self.location_ids:
            raise ValueError("location_ids must list at least one location")
        return self

    def wire(self) -> dict[str, Any]:
        return {"user": self.model_dump(exclude_none=True)}


class UserUpdate(Request):
    """``PUT v1/users/<id>``: a user's profiles or custom locations."""

    user_profile_id: str | None = None
    location_profile_id: str | None = None
    location_ids: list[str] | None = None

    @model_validator(mode="after")
    def _rules(self) -> UserUpdate:
        if self.location_profile_id and self.location_ids:
            raise ValueError("give either location_profile_id or location_ids (custom locations), not both")
        if not self.model_dump(exclude_none=True):
            raise ValueError("an update needs user_profile_id, location_profile_id or location_ids")
        if self.location_ids is not None and not self.location_ids:
            raise ValueError("location_ids must list at least one location")
        return self

