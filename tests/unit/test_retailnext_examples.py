"""The reference's own example payloads (``tests/fixtures/retailnext``) parse with the RetailNext models.

Each fixture is one example block of the RetailNext API reference, repaired only as far as JSON
requires (``tests/fixtures/retailnext/README.md``).  Every fixture is classified below: an API
response (parsed with its response model, and with the warehouse row model where one exists), a
request (parsed with its strict request model where one exists), a request fragment, or a wire
fact that is not a payload.  A failure means a model is stricter than what the vendor documents:
fix the model, not the fixture.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from retail_provider.retailnext import models as m
from retail_provider.retailnext import tables as rn
from retail_provider.retailnext.datamine import models as dm
from retail_provider.retailnext.health_alerts import alert_summary
from retail_provider.retailnext.video import models as vm
from retail_provider.warehouse.schema import table_spec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "retailnext"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))
PST = timezone(timedelta(hours=-8))


def raw(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def each(model: type, key: str | None = None) -> Callable[[Any], list]:
    """A list payload (``body[key]``, or the body itself) parsed entry by entry."""
    return lambda body: [model.model_validate(x) for x in (body if key is None else body[key])]


def fragment(**parts: type) -> Callable[[dict], dict]:
    """A request fragment: each shown key parsed with its model (lists entry by entry)."""

    def parse(body: dict) -> dict:
        assert set(body) <= set(parts) | {"time_zone"}, f"unexpected keys {set(body) - set(parts)}"
        return {k: [parts[k].model_validate(x) for x in v] for k, v in body.items() if k in parts}

    return parse


#: responses: fixture -> parser (the vendor's model; lenient)
RESPONSES: dict[str, Callable[[Any], Any]] = {
    "location_query_response": m.LocationNodes.model_validate,
    "time_zone_location_response": m.LocationNodes.model_validate,
    "location_create_response": m.Location.model_validate,
    "location_update_response": m.Location.model_validate,
    "storehours_response": m.StoreHoursResponse.model_validate,
    "datamine_traffic_response": dm.DatamineResponse.model_validate,
    "occupancy_response": dm.DatamineResponse.model_validate,
    "occupancy_local_time_zone_response": dm.DatamineResponse.model_validate,
    "users_list_response": each(m.User, "users"),
    "user_create_response": lambda body: m.User.model_validate(body["user"]),
    "user_update_response": lambda body: m.User.model_validate(body["user"]),
    "user_custom_locations_response": lambda body: m.User.model_validate(body["user"]),
    "user_profiles_response": each(m.UserProfile, "user_profiles"),
    "location_profiles_response": each(m.LocationProfile, "location_profiles"),
    "healthalerts_response": each(m.HealthAlert, "result"),
    "predictedtraffic_response": m.PredictedTraffic.model_validate,
    "zone_transitions_response": m.ZoneTransitionsResponse.model_validate,
    "fpafloorplans_response": each(m.Floorplan),
    "inventory_cameras_response": lambda body: (m.InventoryPage.model_validate(body), each(m.Camera, "cameras")(body)),
    "inventory_channels_response": lambda body: (m.InventoryPage.model_validate(body),
                                                 each(m.Channel, "channels")(body)),
    "inventory_appliances_response": lambda body: (m.InventoryPage.model_validate(body),
                                                   each(m.Appliance, "store_appliances")(body)),
    "hlsapitoken_response": vm.HlsToken.model_validate,
}

#: requests with a request model (strict: unknown fields are refused)
REQUESTS: dict[str, Callable[[Any], Any]] = {
    "location_query_request": m.LocationQuery.model_validate,
    "time_zone_location_request": m.LocationQuery.model_validate,
    "storehours_request": m.StoreHoursRequest.model_validate,
    "datamine_traffic_request": dm.DatamineRequest.model_validate,
    "occupancy_request": dm.DatamineRequest.model_validate,
    "occupancy_local_time_zone_request": dm.DatamineRequest.model_validate,
    "predictedtraffic_request": m.PredictedTrafficRequest.model_validate,
    "zone_transitions_request": m.ZoneTransitionsRequest.model_validate,
    # fragments of a datamine request, and the documented option sets
    "date_range_name_request": fragment(date_ranges=dm.DateRange),
    "date_range_gregorian_request": fragment(date_ranges=dm.DateRange),
    "date_range_absolute_request": fragment(date_ranges=dm.DateRange),
    "date_range_relative_request": fragment(date_ranges=dm.DateRange),
    "date_range_mixed_june_2020_plus_4_months_request": fragment(date_ranges=dm.DateRange),
    "date_range_mixed_last_week_request": fragment(date_ranges=dm.DateRange),
    "date_range_mixed_month_to_date_request": fragment(date_ranges=dm.DateRange),
    "date_range_last_24_hours_request": fragment(date_ranges=dm.DateRange, time_ranges=dm.TimeRange,
                                                 group_bys=dm.GroupBy),
    "group_bys_single_date_request": fragment(group_bys=dm.GroupBy),
    "group_bys_layered_location_time_request": fragment(group_bys=dm.GroupBy),
    "group_bys_supported_options": fragment(group_bys=dm.GroupBy),
    "date_range_absolute_supported_options": dm.AbsoluteDate.model_validate,
    "date_range_relative_supported_options": dm.RelativeDate.model_validate,
}

#: requests the provider does not send (write endpoints of later issues): no request model yet
NO_REQUEST_MODEL = {
    "location_create_request", "location_update_request", "occupancy_adjust_request", "user_create_request",
    "user_update_request", "user_custom_locations_request", "healthalerts_request", "hlsapitoken_request",
}

#: not payloads: wire facts written by hand, a response body that is a bare acknowledgement
NOT_PAYLOADS = {"paging_headers", "video_export_start", "hls_url", "video_export_start_response_body"}


def test_every_fixture_is_classified_once():
    groups = [set(RESPONSES), set(REQUESTS), NO_REQUEST_MODEL, NOT_PAYLOADS]
    assert sum(len(g) for g in groups) == len(set().union(*groups)), "a fixture is in two groups"
    assert set().union(*groups) == set(NAMES)


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_responses_parse(name):
    try:
        RESPONSES[name](raw(name))
    except ValidationError as exc:
        pytest.fail(f"the response model rejects the reference example tests/fixtures/retailnext/{name}.json:\n{exc}")


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_requests_parse_with_the_strict_request_models(name):
    try:
        REQUESTS[name](raw(name))
    except ValidationError as exc:
        pytest.fail(f"the request model rejects the reference example tests/fixtures/retailnext/{name}.json:\n{exc}")


@pytest.mark.parametrize("name", sorted(NO_REQUEST_MODEL))
def test_requests_without_a_model_are_json_objects(name):
    body = raw(name)
    assert isinstance(body, dict) and body


def test_request_models_write_what_the_reference_shows():
    assert m.StoreHoursRequest.model_validate(raw("storehours_request")).wire() == raw("storehours_request")
    assert m.PredictedTrafficRequest.model_validate(raw("predictedtraffic_request")).wire() == \
        raw("predictedtraffic_request")
    assert m.ZoneTransitionsRequest.model_validate(raw("zone_transitions_request")).wire() == \
        raw("zone_transitions_request")
    assert m.LocationQuery.build(extra_fields=["store.store_id", "store.occupancy_limit"],
                                 location_types=["store"]) == raw("location_query_request")


# --- spot checks: the reference's values as the warehouse rows hold them ---------------------------


def test_location_rows_carry_the_store_extra_fields():
    nodes = m.LocationNodes.model_validate(raw("location_query_response")).flat()
    rows = [rn.LocationRow.model_validate(n.model_dump()) for n in nodes]
    assert [(r.store_id, r.occupancy_limit, r.archive_date) for r in rows] == [("50", 50, None), ("101", 15, None)]
    zone = m.LocationNodes.model_validate(raw("time_zone_location_response")).flat()[0]
    assert zone.time_zone == "America/Los_Angeles"
    created = rn.LocationRow.model_validate(raw("location_create_response"))
    assert created.area == 53.1 and created.__pydantic_extra__ == {"aggregate_to_parent": True,
                                                                    "aggregate_to_store": False}
    assert rn.LocationRow.model_validate({"uuid": "x", "archive_date": "2021-03-01T10:00:00"}).archive_date == \
        datetime(2021, 3, 1, 10, tzinfo=UTC)  # no offset: UTC


def test_store_hours_rows_keep_the_local_wall_clock():
    entries = m.StoreHoursResponse.model_validate(raw("storehours_response")).entries()
    rows = [rn.StoreHoursRow.model_validate(e.model_dump()) for e in entries]
    assert [(r.effective_day, r.open, r.close) for r in rows] == [
        (date(2021, 1, 15), datetime(2021, 1, 15, 10), datetime(2021, 1, 15, 21)),
        (date(2021, 1, 22), datetime(2021, 1, 22, 9), datetime(2021, 1, 22, 21)),
    ]
    assert rows[1].store_uuid == "aec5c886-9e2c-11e5-9bb7-0e5ba9bee1b9"


def test_predicted_traffic_rows_keep_the_local_wall_clock():
    predictions = m.PredictedTraffic.model_validate(raw("predictedtraffic_response")).predictions
    now = datetime(2021, 3, 16, 12, tzinfo=UTC)
    rows = [rn.PredictedTrafficRow.model_validate({**p.model_dump(), "store_uuid": "s", "predicted_at": now})
            for p in predictions]
    assert [(r.time, r.value) for r in rows] == [(datetime(2021, 3, 17, 9), 10), (datetime(2021, 3, 17, 9, 15), 10),
                                                  (datetime(2021, 3, 23, 20, 45), 3)]


def test_health_alert_rows_are_aware():
    alert = rn.HealthAlertRow.model_validate(raw("healthalerts_response")["result"][0].copy())
    assert alert.alert_creation_time == datetime(2021, 1, 11, 11, 38, 34, 942000, tzinfo=PST)
    assert alert.resolved_time.astimezone(UTC) == datetime(2021, 1, 12, 22, 11, 33, 522000, tzinfo=UTC)
    assert alert.resolved is True and alert.severity == "resolved"
    summary = alert_summary(alert)
    assert summary["alert_creation_time"] == "2021-01-11T11:38:34.942000-08:00"
    assert summary["subject_name"] == "CCP Aurora (20:C3:A4:80:09:69)"


def test_user_rows_parse_sign_in_times():
    user = rn.UserRow.model_validate(raw("users_list_response")["users"][0])
    assert user.current_sign_in_at == datetime(2020, 3, 4, 12, 1, 6, 200000, tzinfo=UTC)
    custom = rn.UserRow.model_validate(raw("user_custom_locations_response")["user"])
    assert custom.location_ids == ["3749e26c-a7da-11e8-9eae-40007c493637", "64b13bf4-35af-11e7-9c1c-c000609b0f52"]
    assert custom.location_profile_id is None


def test_floorplan_zone_and_point_rows():
    plans = [m.Floorplan.model_validate(x) for x in raw("fpafloorplans_response")]
    plan = plans[0]
    zone = plan.zones[0]
    row = rn.ZoneRow.model_validate({**zone.model_dump(exclude={"points"}), "floorplan_id": plan.id})
    assert row.location_id == zone.location_id and row.area == zone.area
    assert len(zone.points) >= 3 and all(isinstance(p.x, float) for p in zone.points)


def test_inventory_rows():
    camera = rn.CameraRow.model_validate(raw("inventory_cameras_response")["cameras"][0])
    assert camera.last_heard == datetime(2020, 1, 14, 22, 30, 18, 363000, tzinfo=UTC)
    assert camera.video_channel_uuids == ["d86d75e2-3338-11ea-95e3-000071946766"]
    channel = m.Channel.model_validate(raw("inventory_channels_response")["channels"][0])
    assert channel.maximum_retention_days == 0  # the reference's misspelled maximun_retention_days
    assert raw("inventory_cameras_response")["next_page"] == "CAC:13:37:D0:86:77"


def test_zone_transition_rows():
    response = m.ZoneTransitionsResponse.model_validate(raw("zone_transitions_response"))
    block = response.metrics[0].data[0]
    rows = [rn.ZoneTransitionRow.model_validate({**t.model_dump(), "day": date(2021, 2, 15),
                                                 "store_uuid": block.floorplan.store_uuid,
                                                 "floorplan_uuid": block.floorplan.uuid, "metric": "customer",
                                                 "transitions": "direct_and_indirect", "dwells": "all_traffic"})
            for t in block.transitions]
    assert [(r.value, r.percentage) for r in rows] == [(170, 54), (147, 46), (42, 69), (19, 31)]


def test_every_table_has_a_layout_and_its_key_columns():
    for name, (model, key) in rn.TABLES.items():
        spec = table_spec(model, schema="retailnext", table=name, key=key)
        assert set(key) <= set(spec.column_names), name
    types = {c.name: c.pg_type for c in rn.spec_for("store_hours").columns}
    assert types == {"store_uuid": "text", "effective_day": "date", "open": "timestamp", "close": "timestamp"}
    types = {c.name: c.pg_type for c in rn.spec_for("health_alerts").columns}
    assert types["alert_creation_time"] == types["resolved_time"] == "timestamptz"
    types = {c.name: c.pg_type for c in rn.spec_for("predicted_traffic").columns}
    assert (types["time"], types["predicted_at"]) == ("timestamp", "timestamptz")
