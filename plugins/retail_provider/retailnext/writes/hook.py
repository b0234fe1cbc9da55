"""Write endpoints of :class:`~retail_provider.retailnext.hook.RetailNextHook`.

POSTs that create something (locations, users, occupancy adjustments) are never retried
blindly: a lost response could mean the change happened.  PUTs are idempotent and follow
the usual retry rules.
"""

from __future__ import annotations

from typing import Any

from retail_provider.retailnext.models import check_id
from retail_provider.retailnext.reads import naming
from retail_provider.retailnext.writes.models import (
    LocationCreate,
    LocationUpdate,
    OccupancyAdjust,
    UserCreate,
    UserUpdate,
)


class RetailNextAdminMixin:
    def create_location(self, request: LocationCreate) -> dict[str, Any]:
        _, body = self.call_json("POST", "v2/location/create", json=request.wire(),  # type: ignore[attr-defined]
                                 idempotent=False)
        return body or {}

    def update_location(self, location_uuid: str, request: LocationUpdate) -> dict[str, Any]:
        with naming("location_uuid", location_uuid):
            _, body = self.call_json("PUT", f"v2/location/{check_id(location_uuid, 'location_uuid')}",  # type: ignore[attr-defined]
                                     json=request.wire())
        return body or {}

    def adjust_occupancy(self, request: OccupancyAdjust) -> dict[str, Any]:
        _, body = self.call_json("POST", "v1/occupancy/adjust", json=request.wire(),  # type: ignore[attr-defined]
                                 idempotent=False)
        return body or {}

    def create_user(self, request: UserCreate) -> dict[str, Any]:
        _, body = self.call_json("POST", "v1/users", json=request.wire(), idempotent=False)  # type: ignore[attr-defined]
        return (body or {}).get("user") or {}

    def update_user(self, user_id: str, request: UserUpdate) -> dict[str, Any]:
        with naming("user_id", user_id):
            _, body = self.call_json("PUT", f"v1/users/{check_id(user_id, 'user_id')}",  # type: ignore[attr-defined]
                                     json=request.wire())
        return (body or {}).get("user") or {}
