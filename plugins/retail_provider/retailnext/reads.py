"""The typed reads of :class:`~retail_provider.retailnext.hook.RetailNextHook`: one method per endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from retail_provider.http.errors import ApiError, BadRequestError, InputValidationError, NotFoundError
from retail_provider.retailnext import models as m
from retail_provider.retailnext.datamine.models import DatamineResponse
from retail_provider.timeutil import parse_aware


@contextmanager
def naming(param: str, value: Any) -> Iterator[None]:
    """An id RetailNext does not know (a 404 for an id in the path, a 400 for one in a body
    or query parameter) as a :class:`NotFoundError` that starts with the parameter's name."""
    try:
        yield
    except (NotFoundError, BadRequestError) as exc:
        raise NotFoundError(f"{param} {value!r} is not known to RetailNext ({exc})", api="retailnext",
                            status_code=exc.status_code, url=exc.url) from None


class RetailNextReadsMixin:
    """Locations, store hours, datamine, predictions, zones, floorplans, users, profiles, health alerts."""


    def list_locations(self, *, page_length: int = m.V1_PAGE_LENGTH) -> list[m.Location]:
        """Every location, complete (v1 paging has no 10,000 cap)."""
        return [m.Location.model_validate(x)
                for x in self.iter_v1("GET", "v1/location", "locations", page_length=page_length)]  # type: ignore[attr-defined]

    def query_locations(self, *, extra_fields: list[str] | None = None, location_types: list[str] | None = None,
                        uuids: list[str] | None = None) -> list[m.Location]:
        """``v2/location``; a query that would be trimmed at 10,000 nodes is split by uuid batches."""
        nodes = self._query(extra_fields=extra_fields, location_types=location_types, uuids=uuids)
        if len(nodes) < m.V2_MAX_ENTRIES:
            return nodes
        # possibly trimmed: enumerate with v1 paging, then ask v2 in batches below the cap
        wanted = [x.uuid for x in self.list_locations()
                  if (not location_types or x.location_type in location_types) and (not uuids or x.uuid in uuids)]
        batch = m.V2_MAX_ENTRIES // 2
        return [node for i in range(0, len(wanted), batch)
                for node in self._query(extra_fields=extra_fields, uuids=wanted[i:i + batch])]

    def _query(self, **kwargs: Any) -> list[m.Location]:
        _, body = self.call_json("POST", "v2/location", json=m.LocationQuery.build(**kwargs))  # type: ignore[attr-defined]
        return m.LocationNodes.model_validate(body).flat()

    def store_hours(self, stores: list[str], start: date, end: date, *,
                    page_length: int = m.V1_PAGE_LENGTH) -> list[m.StoreHours]:
        body = m.StoreHoursRequest(stores=stores, start_date=start, end_date=end).wire()
        pages = self.iter_v1_pages("POST", "v1/storehours", json=body, page_length=page_length)  # type: ignore[attr-defined]
        return [e for page in pages for e in m.StoreHoursResponse.model_validate(page).entries()]

    def datamine(self, request: dict[str, Any]) -> DatamineResponse:
        """One ``v2/datamine`` call (validate and split requests with :mod:`retail_provider.retailnext.datamine`)."""
        _, body = self.call_json("POST", "v2/datamine", json=request)  # type: ignore[attr-defined]
        return DatamineResponse.model_validate(body)

    def predicted_traffic(self, store_uuid: str, first_day: date, last_day: date) -> m.PredictedTraffic:
        req = m.PredictedTrafficRequest(store_uuid=store_uuid, first_day=first_day, last_day=last_day)
        _, body = self.call_json("POST", "v1/predictedtraffic", json=req.wire())  # type: ignore[attr-defined]
        result = m.PredictedTraffic.model_validate(body)
        if not result.ok:
            raise ApiError(f"retailnext predictedtraffic for {store_uuid}: {result.error}", api=self.api)
        return result

    def zone_transitions(self, request: m.ZoneTransitionsRequest) -> m.ZoneTransitionsResponse:
        _, body = self.call_json("POST", "v1/zone_transitions", json=request.wire())  # type: ignore[attr-defined]
        return m.ZoneTransitionsResponse.model_validate(body)

    def floorplans(self, store_uuid: str | None = None, *, page_length: int = m.V1_PAGE_LENGTH) -> list[m.Floorplan]:
        path = f"v1/stores/{m.check_id(store_uuid, 'store_uuid')}/fpafloorplans" if store_uuid else "v1/fpafloorplans"
        with naming("store_uuid", store_uuid):
            return [m.Floorplan.model_validate(x) for x in self.iter_v1("GET", path, None, page_length=page_length)]  # type: ignore[attr-defined]

    def floorplan(self, floorplan_id: str) -> m.Floorplan | None:
        path = f"v1/fpafloorplans/{m.check_id(floorplan_id, 'floorplan_id')}"
        with naming("floorplan_id", floorplan_id):
            items = [m.Floorplan.model_validate(x) for x in self.iter_v1("GET", path, None)]  # type: ignore[attr-defined]
        return items[0] if items else None

    def users(self, *, type: str | None = None, email: str | None = None,
              page_length: int = m.V1_PAGE_LENGTH) -> list[m.User]:
        params = {k: v for k, v in (("type", type), ("email", email)) if v}
        return [m.User.model_validate(x) for x in self.iter_v1(  # type: ignore[attr-defined]
            "GET", "v1/users", "users", params=params or None, page_length=page_length)]

    def user_profiles(self, profile_id: str | None = None, *,
                      page_length: int = m.V1_PAGE_LENGTH) -> list[m.UserProfile]:
        path = f"v1/user_profiles/{m.check_id(profile_id, 'profile_id')}" if profile_id else "v1/user_profiles"
        with naming("profile_id", profile_id):
            return [m.UserProfile.model_validate(x)
                    for x in self.iter_v1("GET", path, "user_profiles", page_length=page_length)]  # type: ignore[attr-defined]

    def location_profiles(self, profile_id: str | None = None, *,
                          page_length: int = m.V1_PAGE_LENGTH) -> list[m.LocationProfile]:
        path = f"v1/location_profiles/{m.check_id(profile_id, 'profile_id')}" if profile_id else "v1/location_profiles"
        with naming("profile_id", profile_id):
            return [m.LocationProfile.model_validate(x)
                    for x in self.iter_v1("GET", path, "location_profiles", page_length=page_length)]  # type: ignore[attr-defined]

    def health_alerts(self, start_time: datetime | str | None = None, *,
                      page_length: int = m.V1_PAGE_LENGTH) -> list[m.HealthAlert]:
        body: dict[str, Any] = {}
        if start_time is not None:
            try:
                body["start_time"] = m.iso_z(parse_aware(start_time, name="start_time"))
            except ValueError as exc:
                raise InputValidationError(str(exc), api=self.api) from None
        return [m.HealthAlert.model_validate(x) for x in self.iter_v1(  # type: ignore[attr-defined]
            "POST", "v1/healthalerts", "result", json=body, page_length=page_length)]
