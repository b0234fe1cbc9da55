"""RetailNext /v2/datamine against the generator's truth: date forms, time ranges, group bys,
several date ranges, metric errors, 400 rules, the local time zone, store hours crossing
midnight, validity and the 10,000-point cap.  "Now" is frozen at 2024-05-15T19:07Z.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

LA = ZoneInfo("America/Los_Angeles")
DAY = {"from": "00:00", "until": "24:00"}


def at(tz, y, m, d, h=0, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=tz)


def query(client, body, status=200):
    response = client.post("/v2/datamine", json=body)
    assert response.status_code == status, response.text
    return response.json()


def body_for(store, date_range, metrics=("traffic_in",), time_ranges=(DAY,), group_bys=(), tz="America/Los_Angeles"):
    body = {
        "locations": [store] if isinstance(store, str) else list(store),
        "metrics": list(metrics),
        "date_ranges": [date_range] if isinstance(date_range, dict) else list(date_range),
        "time_ranges": list(time_ranges),
        "group_bys": list(group_bys),
    }
    if tz is not None:
        body["time_zone"] = tz
    return body


def only(data):
    metric = data["metrics"][0]
    assert metric["ok"] is True, metric
    assert len(metric["data"]) == 1 and metric["data"][0]["index"] == 0
    point = metric["data"][0]
    return point["value"], point["validity"]


def greg(moment):
    return {"gregorian": moment.isoformat()}


@pytest.fixture
def s0(rn):
    return rn.store_list()[0].uuid  # Los Angeles, 09:00-21:00 Mon-Sat


# ---------------------------------------------------------------------------- basics


def test_one_point_without_group_bys(rn_client, rn, s0):
    start, end = at(LA, 2024, 5, 13), at(LA, 2024, 5, 14)
    data = query(rn_client, body_for(s0, {"from": greg(start.replace(tzinfo=None)), "to": greg(end.replace(tzinfo=None))},
                                     metrics=["traffic_in", "traffic_out"]))  # fmt: skip
    assert data["ok"] is True
    assert [m["name"] for m in data["metrics"]] == ["traffic_in", "traffic_out"]
    for metric in data["metrics"]:
        value, validity = rn.aggregate(s0, metric["name"], start, end)
        assert metric["data"] == [{"value": value, "validity": validity, "index": 0}]
        assert value > 50
    assert "date_range_index" not in data["metrics"][0]


def test_traffic_is_zero_outside_store_hours(rn, s0):
    assert rn.aggregate(s0, "traffic_in", at(LA, 2024, 5, 13, 0), at(LA, 2024, 5, 13, 9)) == (0, "complete")
    assert rn.aggregate(s0, "traffic_in", at(LA, 2024, 5, 13, 21), at(LA, 2024, 5, 14, 9))[0] == 0
    day = rn.store_day(s0, "2024-05-13")
    assert day[0]["offset"] == 540 and day[-1]["offset"] == 1245
    assert day[-1]["total_occupancy"] == 0 and all(b["total_occupancy"] >= 0 for b in day)
    assert rn.bucket(s0, "traffic_in", day[10]["start"]) == (day[10]["traffic_in"], day[10]["validity"])


def test_gregorian_with_z_is_utc(rn_client, rn, s0):
    body = body_for(s0, {"from": {"gregorian": "2024-05-13T00:00:00Z"}, "to": {"gregorian": "2024-05-14T00:00:00Z"}})
    value, _ = only(query(rn_client, body))
    assert value == rn.aggregate(s0, "traffic_in", "2024-05-13T00:00:00Z", "2024-05-14T00:00:00Z")[0]
    assert value != rn.aggregate(s0, "traffic_in", at(LA, 2024, 5, 13), at(LA, 2024, 5, 14))[0]


def test_dates_default_to_the_store_time_zone(rn_client, rn):
    tokyo = next(s for s in rn.store_list() if s.time_zone == "Asia/Tokyo").uuid
    body = body_for(tokyo, {"from": {"gregorian": "2024-05-13"}, "to": {"gregorian": "2024-05-14"}}, tz=None)
    value, _ = only(query(rn_client, body))
    tz = ZoneInfo("Asia/Tokyo")
    assert value == rn.aggregate(tokyo, "traffic_in", at(tz, 2024, 5, 13), at(tz, 2024, 5, 14))[0]


# ---------------------------------------------------------------------------- date forms


def check_window(client, rn, store, date_range, start, end, tz="America/Los_Angeles"):
    """The range resolves to [start, end): same value as the truth; date labels match."""
    value, validity = only(query(client, body_for(store, date_range, tz=tz)))
    assert (value, validity) == rn.aggregate(store, "traffic_in", start, end)
    data = query(client, body_for(store, date_range, group_bys=[{"group": "date", "unit": "days", "value": 1}], tz=tz))
    points = data["metrics"][0]["data"]
    assert points[0]["group"]["from"]["gregorian"] == start.date().isoformat()
    assert points[-1]["group"]["through"]["gregorian"] == (end - timedelta(microseconds=1)).date().isoformat()
    return value


@pytest.mark.parametrize(
    "date_range,start,end",
    [
        ({"from": {"name": "yesterday"}, "to": {"name": "today"}}, at(LA, 2024, 5, 14), at(LA, 2024, 5, 15)),
        ({"from": {"name": "today"}, "to": {"name": "tomorrow"}}, at(LA, 2024, 5, 15), at(LA, 2024, 5, 16)),
        (
            {"from": {"absolute": {"year": 2024, "week": 2, "day": 3}}, "to": {"absolute": {"year": 2024, "week": 3}}},
            at(LA, 2024, 1, 10),
            at(LA, 2024, 1, 15),
        ),
        (
            {"from": {"absolute": {"year": 2023, "month": 13}}, "to": {"relative": {"add_days": 1}}},
            at(LA, 2024, 1, 1),
            at(LA, 2024, 1, 2),
        ),
        (
            {"from": {"absolute": {"year": 2024, "day": 60}}, "to": {"absolute": {"year": 2024, "day": 62}}},
            at(LA, 2024, 2, 29),
            at(LA, 2024, 3, 2),
        ),
        (
            {
                "from": {"absolute": {"year": 2024, "quarter": 2, "month": 2, "day": 3, "hour": 10, "minute": 30}},
                "to": {"relative": {"add_hours": 5}},
            },
            at(LA, 2024, 5, 3, 10, 30),
            at(LA, 2024, 5, 3, 15, 30),
        ),
        (
            {
                "from": {"relative": {"base": {"gregorian": "2024-01-31T12:00:00"}, "add_months": 1}},
                "to": {"relative": {"add_hours": 3}},
            },
            at(LA, 2024, 2, 29, 12),
            at(LA, 2024, 2, 29, 15),
        ),
        (
            {
                "from": {"relative": {"base": {"gregorian": "2023-01-31T12:00:00"}, "add_months": 1}},
                "to": {"relative": {"add_hours": 3}},
            },
            at(LA, 2023, 2, 28, 12),
            at(LA, 2023, 2, 28, 15),
        ),
        (
            {
                "from": {"relative": {"base": {"gregorian": "2024-02-29T10:00:00"}, "add_years": -1}},
                "to": {"relative": {"add_days": 1}},
            },
            at(LA, 2023, 2, 28, 10),
            at(LA, 2023, 3, 1, 10),
        ),
        (
            {
                "from": {"relative": {"add_weeks": -1}},
                "to": {"relative": {"base": {"name": "now"}, "truncate_to": "week"}},
            },
            at(LA, 2024, 5, 6),
            at(LA, 2024, 5, 13),
        ),
        (
            {"from": {"relative": {"base": {"name": "now"}, "truncate_to": "month"}}, "to": {"name": "now"}},
            at(LA, 2024, 5, 1),
            at(LA, 2024, 5, 15, 12),
        ),
        (
            {
                "from": {"relative": {"add_days": -1}},
                "to": {"relative": {"base": {"name": "now"}, "truncate_to": "minute"}},
            },
            at(LA, 2024, 5, 14, 12),
            at(LA, 2024, 5, 15, 12),
        ),
        (
            {
                "from": {"relative": {"base": {"gregorian": "2024-02-15T13:47:12"}, "truncate_to": "quarter"}},
                "to": {"relative": {"add_quarters": 1, "add_days": -75}},
            },
            at(LA, 2024, 1, 1),
            at(LA, 2024, 1, 17),
        ),
        (
            {
                "from": {
                    "relative": {
                        "base": {"gregorian": "2024-03-14T13:47:12"},
                        "truncate_to": "year",
                        "add_months": 2,
                        "add_days": 3,
                        "add_hours": -2,
                        "add_minutes": 30,
                    }
                },
                "to": {"relative": {"base": {"gregorian": "2024-03-05T13:47:12"}, "truncate_to": "day"}},
            },
            at(LA, 2024, 3, 3, 22, 30),
            at(LA, 2024, 3, 5),
        ),
        (
            {"from": {"absolute": {"year": 2024, "month": 5}}, "to": {"relative": {"add_days": 2, "add_seconds": 0}}},
            at(LA, 2024, 5, 1),
            at(LA, 2024, 5, 3),
        ),
        (
            {"from": {"gregorian": "2024-05-08T17:00:00Z"}, "to": {"absolute": {"year": 2024, "month": 5, "day": 9}}},
            at(LA, 2024, 5, 8, 10),
            at(LA, 2024, 5, 9),
        ),
    ],
    ids=[
        "yesterday-today",
        "today-tomorrow",
        "absolute-week-day",
        "absolute-month-13",
        "absolute-day-of-year",
        "absolute-quarter-month",
        "relative-month-end-leap",
        "relative-month-end",
        "relative-years",
        "last-week",
        "month-to-date",
        "last-24-hours",
        "truncate-quarter",
        "truncate-year-adds",
        "absolute-relative",
        "gregorian-absolute",
    ],  # fmt: skip
)
def test_date_forms(rn_client, rn, s0, date_range, start, end):
    check_window(rn_client, rn, s0, date_range, start, end)


def test_now_is_truncated_to_the_last_complete_bucket(rn_client, rn, s0):
    rn.completeness_lag = 0
    to_now = body_for(s0, {"from": {"name": "today"}, "to": {"name": "now"}})
    to_tomorrow = body_for(s0, {"from": {"name": "today"}, "to": {"relative": {"add_days": 1}}})
    value_now, validity_now = only(query(rn_client, to_now))
    value_next, validity_next = only(query(rn_client, to_tomorrow))
    assert value_now == value_next == rn.aggregate(s0, "traffic_in", at(LA, 2024, 5, 15), at(LA, 2024, 5, 15, 12))[0]
    assert validity_now in ("complete", "imputed"), "only complete buckets before now"
    assert validity_next == "incomplete", "the running bucket and the rest of the day are not complete"


# ---------------------------------------------------------------------------- time ranges


def test_time_ranges(rn_client, rn, s0):
    day = {"from": {"gregorian": "2024-05-13T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}}
    one = only(query(rn_client, body_for(s0, day, time_ranges=[{"from": "10:00", "until": "12:00"}])))
    assert one == rn.aggregate(s0, "traffic_in", at(LA, 2024, 5, 13, 10), at(LA, 2024, 5, 13, 12))
    two = only(query(rn_client, body_for(s0, day, time_ranges=[{"from": "10:00", "until": "11:00"},
                                                                {"from": "15:00", "until": "16:30"}])))  # fmt: skip
    expected = (
        rn.aggregate(s0, "traffic_in", at(LA, 2024, 5, 13, 10), at(LA, 2024, 5, 13, 11))[0]
        + rn.aggregate(s0, "traffic_in", at(LA, 2024, 5, 13, 15), at(LA, 2024, 5, 13, 16, 30))[0]
    )
    assert two[0] == expected
    hours = only(query(rn_client, body_for(s0, day, time_ranges=[{"type": "store_hours"}])))
    assert hours == rn.aggregate(s0, "traffic_in", at(LA, 2024, 5, 13), at(LA, 2024, 5, 14), store_hours_only=True)


def test_time_ranges_over_several_days(rn_client, rn, s0):
    week = {"from": {"gregorian": "2024-05-06T00:00:00"}, "to": {"gregorian": "2024-05-13T00:00:00"}}
    value, _ = only(query(rn_client, body_for(s0, week, time_ranges=[{"from": "12:00", "until": "13:00"}])))
    assert value == sum(
        rn.aggregate(s0, "traffic_in", at(LA, 2024, 5, d, 12), at(LA, 2024, 5, d, 13))[0] for d in range(6, 13)
    )


# ---------------------------------------------------------------------------- group bys


def test_group_by_location(rn_client, rn):
    stores = rn.store_list()
    a, b = stores[0].uuid, stores[4].uuid
    day = {"from": {"gregorian": "2024-05-13T00:00:00Z"}, "to": {"gregorian": "2024-05-14T00:00:00Z"}}
    data = query(rn_client, body_for([a, b], day, tz="UTC", group_bys=[{"group": "location", "unit": "", "value": 0}]))
    points = data["metrics"][0]["data"]
    names = {s["uuid"]: s["name"] for s in rn.stores()}
    for i, (point, uuid) in enumerate(zip(points, [a, b], strict=True)):
        assert point["index"] == i
        assert point["group"] == {"type": "location", "uuid": uuid, "name": names[uuid], "qualified_name": names[uuid]}
        value, validity = rn.aggregate(uuid, "traffic_in", "2024-05-13T00:00:00Z", "2024-05-14T00:00:00Z")
        assert (point["value"], point["validity"]) == (value, validity)
    total = only(query(rn_client, body_for([a, b], day, tz="UTC")))[0]
    assert total == points[0]["value"] + points[1]["value"]


def test_region_is_the_sum_of_its_stores(rn_client, rn):
    region = next(n for n in rn.nodes() if n["location_type"] == "region" and n["parent_uuid"] != rn.subscription_uuid)
    stores = [s["uuid"] for s in rn.stores() if s["parent_uuid"] == region["uuid"]]
    assert len(stores) >= 2
    day = {"from": {"gregorian": "2024-05-13T00:00:00Z"}, "to": {"gregorian": "2024-05-14T00:00:00Z"}}
    value, _ = only(query(rn_client, body_for(region["uuid"], day, tz="UTC")))
    assert value == sum(
        rn.aggregate(s, "traffic_in", "2024-05-13T00:00:00Z", "2024-05-14T00:00:00Z")[0] for s in stores
    )


def test_group_by_date_days(rn_client, rn, s0):
    rng = {"from": {"gregorian": "2024-05-10T00:00:00"}, "to": {"gregorian": "2024-05-13T00:00:00"}}
    points = query(rn_client, body_for(s0, rng, group_bys=[{"group": "date", "unit": "days", "value": 1}]))["metrics"][
        0
    ]["data"]
    assert len(points) == 3
    for i, point in enumerate(points):
        day = 10 + i
        label = {"gregorian": f"2024-05-{day}", "year": 2024, "month": 5, "day": day}
        assert point["group"] == {"type": "date", "from": label, "through": label}
        assert point["index"] == i
        assert (point["value"], point["validity"]) == rn.aggregate(
            s0, "traffic_in", at(LA, 2024, 5, day), at(LA, 2024, 5, day + 1)
        )


@pytest.mark.parametrize(
    "unit,value,labels",
    [
        ("days", 2, [("2024-01-15", "2024-01-16"), ("2024-01-17", "2024-01-18"), ("2024-01-19", "2024-01-19")]),
        ("weeks", 1, [("2024-01-15", "2024-01-19")]),
        ("months", 1, [("2024-01-15", "2024-01-19")]),
    ],
)
def test_group_by_date_units(rn_client, rn, s0, unit, value, labels):
    rng = {"from": {"gregorian": "2024-01-15T00:00:00"}, "to": {"gregorian": "2024-01-20T00:00:00"}}
    points = query(rn_client, body_for(s0, rng, group_bys=[{"group": "date", "unit": unit, "value": value}]))
    got = [(p["group"]["from"]["gregorian"], p["group"]["through"]["gregorian"]) for p in points["metrics"][0]["data"]]
    assert got == labels


def test_group_by_months_and_years(rn_client, rn, s0):
    rng = {"from": {"gregorian": "2024-01-31T00:00:00"}, "to": {"gregorian": "2024-04-10T00:00:00"}}
    data = query(rn_client, body_for(s0, rng, group_bys=[{"group": "date", "unit": "months", "value": 1}]))
    points = data["metrics"][0]["data"]
    got = [(p["group"]["from"]["gregorian"], p["group"]["through"]["gregorian"]) for p in points]
    assert got == [("2024-01-31", "2024-02-28"), ("2024-02-29", "2024-03-30"), ("2024-03-31", "2024-04-09")]
    for point, (a, b) in zip(points, got, strict=True):
        start = datetime.fromisoformat(a).replace(tzinfo=LA)
        end = datetime.fromisoformat(b).replace(tzinfo=LA) + timedelta(days=1)
        assert point["value"] == rn.aggregate(s0, "traffic_in", start, end)[0]
    years = query(rn_client, body_for(s0, rng, group_bys=[{"group": "date", "unit": "years", "value": 1}]))
    assert [p["group"]["through"]["gregorian"] for p in years["metrics"][0]["data"]] == ["2024-04-09"]


def test_group_by_time_hours(rn_client, rn, s0):
    day = {"from": {"gregorian": "2024-05-13T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}}
    data = query(rn_client, body_for(s0, day, group_bys=[{"group": "time", "unit": "hours", "value": 1}]))
    points = data["metrics"][0]["data"]
    assert len(points) == 24
    for h, point in enumerate(points):
        assert point["group"] == {
            "type": "time",
            "from": f"{h:02d}:00",
            "until": f"{h + 1:02d}:00" if h < 23 else "24:00",
        }
        assert (point["value"], point["validity"]) == rn.aggregate(
            s0, "traffic_in", at(LA, 2024, 5, 13, h), at(LA, 2024, 5, 13, h) + timedelta(hours=1)
        )


def test_group_by_time_minutes_and_clipped_last_slot(rn_client, rn, s0):
    day = {"from": {"gregorian": "2024-05-13T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}}
    body = body_for(s0, day, time_ranges=[{"from": "10:00", "until": "11:45"}],
                    group_bys=[{"group": "time", "unit": "minutes", "value": 30}])  # fmt: skip
    points = query(rn_client, body)["metrics"][0]["data"]
    assert [(p["group"]["from"], p["group"]["until"]) for p in points] == [
        ("10:00", "10:30"), ("10:30", "11:00"), ("11:00", "11:30"), ("11:30", "11:45"),
    ]  # fmt: skip
    assert (
        points[3]["value"]
        == rn.aggregate(s0, "traffic_in", at(LA, 2024, 5, 13, 11, 30), at(LA, 2024, 5, 13, 11, 45))[0]
    )
    hours = body_for(s0, day, time_ranges=[{"from": "10:00", "until": "11:45"}],
                     group_bys=[{"group": "time", "unit": "hours", "value": 1}])  # fmt: skip
    points = query(rn_client, hours)["metrics"][0]["data"]
    assert [(p["group"]["from"], p["group"]["until"]) for p in points] == [("10:00", "11:00"), ("11:00", "11:45")]


def test_group_by_day_of_week(rn_client, rn, s0):
    two_weeks = {"from": {"gregorian": "2024-04-22T00:00:00"}, "to": {"gregorian": "2024-05-06T00:00:00"}}
    body = body_for(s0, two_weeks, group_bys=[{"group": "day_of_week", "unit": "", "value": 1}])
    points = query(rn_client, body)["metrics"][0]["data"]
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    assert [p["group"] for p in points] == [{"type": "day_of_week", "day": n} for n in names]
    for i, point in enumerate(points):
        expected = sum(
            rn.aggregate(s0, "traffic_in", at(LA, 2024, 4, 22) + timedelta(days=i + 7 * w),
                         at(LA, 2024, 4, 23) + timedelta(days=i + 7 * w))[0]
            for w in range(2)
        )  # fmt: skip
        assert point["value"] == expected
    short = body_for(s0, {"from": {"gregorian": "2024-05-03T00:00:00"}, "to": {"gregorian": "2024-05-05T00:00:00"}},
                     group_bys=[{"group": "day_of_week", "unit": "", "value": 0}])  # fmt: skip
    assert [p["group"]["day"] for p in query(rn_client, short)["metrics"][0]["data"]] == ["friday", "saturday"]


def test_layered_location_date_time(rn_client, rn):
    stores = [rn.store_list()[0].uuid, rn.store_list()[3].uuid]
    rng = {"from": {"gregorian": "2024-05-13T00:00:00Z"}, "to": {"gregorian": "2024-05-15T00:00:00Z"}}
    groups = [
        {"group": "location", "unit": "", "value": 1},
        {"group": "date", "unit": "days", "value": 1},
        {"group": "time", "unit": "hours", "value": 6},
    ]
    data = query(rn_client, body_for(stores, rng, tz="UTC", group_bys=groups, metrics=["traffic_in", "traffic_out"]))
    for metric in data["metrics"]:
        outer = metric["data"]
        assert [p["group"]["uuid"] for p in outer] == stores
        for li, loc_point in enumerate(outer):
            assert set(loc_point) == {"group", "index", "data"} and loc_point["index"] == li
            assert len(loc_point["data"]) == 2
            for di, day_point in enumerate(loc_point["data"]):
                assert set(day_point) == {"group", "index", "data"} and day_point["index"] == di
                assert [p["group"]["from"] for p in day_point["data"]] == ["00:00", "06:00", "12:00", "18:00"]
                for ti, leaf in enumerate(day_point["data"]):
                    assert set(leaf) == {"value", "validity", "group", "index"} and leaf["index"] == ti
                    start = datetime(2024, 5, 13 + di, 6 * ti, tzinfo=ZoneInfo("UTC"))
                    expected = rn.aggregate(stores[li], metric["name"], start, start + timedelta(hours=6))
                    assert (leaf["value"], leaf["validity"]) == expected


def test_several_date_ranges(rn_client, rn, s0):
    ranges = [
        {"from": {"gregorian": "2024-05-06T00:00:00"}, "to": {"gregorian": "2024-05-07T00:00:00"}},
        {"from": {"gregorian": "2024-05-13T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}},
    ]
    data = query(rn_client, body_for(s0, ranges, metrics=["traffic_in", "traffic_out"]))
    assert [(m["name"], m["date_range_index"]) for m in data["metrics"]] == [
        ("traffic_in", 0), ("traffic_in", 1), ("traffic_out", 0), ("traffic_out", 1),
    ]  # fmt: skip
    for metric in data["metrics"]:
        day = 6 + 7 * metric["date_range_index"]
        expected = rn.aggregate(s0, metric["name"], at(LA, 2024, 5, day), at(LA, 2024, 5, day + 1))
        assert (metric["data"][0]["value"], metric["data"][0]["validity"]) == expected


# ---------------------------------------------------------------------------- ok: false metrics


def test_unknown_metric_is_ok_false(rn_client, s0):
    day = {"from": {"gregorian": "2024-05-13T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}}
    data = query(rn_client, body_for(s0, day, metrics=["traffic_in", "footfall_index"]))
    assert data["ok"] is True
    assert data["metrics"][0]["ok"] is True
    bad = data["metrics"][1]
    assert bad["name"] == "footfall_index" and bad["ok"] is False and bad["data"] == []
    assert "footfall_index" in bad["error"]


def test_location_outside_the_token_profile_is_ok_false(rn_client, rn):
    a, b = rn.store_list()[0].uuid, rn.store_list()[1].uuid
    rn.set_allowed_locations([a])
    day = {"from": {"gregorian": "2024-05-13T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}}
    assert query(rn_client, body_for(a, day))["metrics"][0]["ok"] is True
    data = query(rn_client, body_for([a, b], day, metrics=["traffic_in", "traffic_out"]))
    for metric in data["metrics"]:
        assert metric["ok"] is False and b in metric["error"] and "location profile" in metric["error"]
        assert metric["data"] == []
    region = next(n["uuid"] for n in rn.nodes() if n["location_type"] == "region")
    rn.set_allowed_locations([region])
    under = [s["uuid"] for s in rn.stores() if rn.world.is_under(s["uuid"], region)]
    assert query(rn_client, body_for(under[0], day))["metrics"][0]["ok"] is True
    unknown = query(rn_client, body_for("00000000-0000-0000-0000-000000000000", day))["metrics"][0]
    assert unknown["ok"] is False


def test_sublocation_has_no_traffic(rn_client, rn):
    sub = next(n["uuid"] for n in rn.nodes() if n["location_type"] == "entrance")
    day = {"from": {"gregorian": "2024-05-13T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}}
    metric = query(rn_client, body_for(sub, day))["metrics"][0]
    assert metric["ok"] is False and "no traffic data" in metric["error"]


# ---------------------------------------------------------------------------- 400 rules

GOOD_RANGE = {"from": {"gregorian": "2024-05-13T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}}


def _bad(**changes):
    body = {
        "locations": ["S0"],
        "metrics": ["traffic_in"],
        "date_ranges": [GOOD_RANGE],
        "time_ranges": [DAY],
        "group_bys": [],
        "time_zone": "America/Los_Angeles",
    }
    for key, value in changes.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    return body


BAD_BODIES = {
    "missing-locations": (_bad(locations=None), "locations"),
    "missing-metrics": (_bad(metrics=None), "metrics"),
    "missing-date_ranges": (_bad(date_ranges=None), "date_ranges"),
    "missing-time_ranges": (_bad(time_ranges=None), "time_ranges"),
    "missing-group_bys": (_bad(group_bys=None), "group_bys"),
    "empty-locations": (_bad(locations=[]), "locations"),
    "empty-metrics": (_bad(metrics=[]), "metrics"),
    "metrics-not-list": (_bad(metrics="traffic_in"), "metrics"),
    "unknown-group": (_bad(group_bys=[{"group": "weather", "unit": "", "value": 1}]), "group"),
    "unknown-date-unit": (_bad(group_bys=[{"group": "date", "unit": "fortnights", "value": 1}]), "unit"),
    "unknown-time-unit": (_bad(group_bys=[{"group": "time", "unit": "seconds", "value": 1}]), "unit"),
    "location-unit": (_bad(group_bys=[{"group": "location", "unit": "days", "value": 1}]), "unit"),
    "day-of-week-unit": (_bad(group_bys=[{"group": "day_of_week", "unit": "x", "value": 1}]), "unit"),
    "date-value-zero": (_bad(group_bys=[{"group": "date", "unit": "days", "value": 0}]), "positive"),
    "time-value-negative": (_bad(group_bys=[{"group": "time", "unit": "hours", "value": -1}]), "positive"),
    "date-value-float": (_bad(group_bys=[{"group": "date", "unit": "days", "value": 1.5}]), "integer"),
    "time-minutes-zero": (_bad(group_bys=[{"group": "time", "unit": "minutes", "value": 0}]), "positive"),
    "group-twice": (_bad(group_bys=[{"group": "date", "unit": "days", "value": 1}] * 2), "more than once"),
    "name-without-time-zone": (
        _bad(time_zone=None, date_ranges=[{"from": {"name": "today"}, "to": {"name": "now"}}]), "time_zone"),
    "name-in-base-without-time-zone": (
        _bad(time_zone=None, date_ranges=[{"from": {"relative": {"base": {"name": "now"}, "add_days": -1}},
                                           "to": {"gregorian": "2024-05-14T00:00:00Z"}}]), "time_zone"),
    "unknown-time-zone": (_bad(time_zone="Mars/Olympus_Mons"), "time_zone"),
    "from-after-to": (_bad(date_ranges=[{"from": GOOD_RANGE["to"], "to": GOOD_RANGE["from"]}]), "before"),
    "from-equals-to": (_bad(date_ranges=[{"from": GOOD_RANGE["from"], "to": GOOD_RANGE["from"]}]), "before"),
    "over-5-years": (_bad(date_ranges=[{"from": {"gregorian": "2019-01-01T00:00:00"},
                                        "to": {"gregorian": "2024-01-02T00:00:00"}}]), "5 years"),
    "over-2-years-several": (_bad(locations=["S0", "S1"], date_ranges=[{"from": {"gregorian": "2021-01-01T00:00:00"},
                                                                        "to": {"gregorian": "2023-01-02T00:00:00"}}]),
                             "2 years"),
    "both-relative-without-base": (
        _bad(date_ranges=[{"from": {"relative": {"add_days": -1}}, "to": {"relative": {"add_days": 1}}}]), "base"),
    "unknown-date-form": (_bad(date_ranges=[{"from": {"julian": 5}, "to": GOOD_RANGE["to"]}]), "from"),
    "two-date-forms": (_bad(date_ranges=[{"from": {"gregorian": "2024-05-13", "name": "today"},
                                          "to": GOOD_RANGE["to"]}]), "exactly one"),
    "unknown-name": (_bad(date_ranges=[{"from": {"name": "last_tuesday"}, "to": GOOD_RANGE["to"]}]), "last_tuesday"),
    "bad-gregorian": (_bad(date_ranges=[{"from": {"gregorian": "13/05/2024"}, "to": GOOD_RANGE["to"]}]), "ISO"),
    "absolute-without-year": (_bad(date_ranges=[{"from": {"absolute": {"month": 3}}, "to": GOOD_RANGE["to"]}]), "year"),
    "absolute-month-zero": (_bad(date_ranges=[{"from": {"absolute": {"year": 2024, "month": 0}},
                                               "to": GOOD_RANGE["to"]}]), "month"),
    "relative-bad-truncate": (_bad(date_ranges=[{"from": {"relative": {"base": GOOD_RANGE["from"],
                                                                       "truncate_to": "decade"}},
                                                 "to": GOOD_RANGE["to"]}]), "truncate_to"),
    "relative-float-add": (_bad(date_ranges=[{"from": GOOD_RANGE["from"], "to": {"relative": {"add_days": 0.5}}}]),
                           "add_days"),
    "missing-to": (_bad(date_ranges=[{"from": GOOD_RANGE["from"]}]), "to"),
    "time-range-format": (_bad(time_ranges=[{"from": "9am", "until": "17:00"}]), "hh:mm"),
    "time-range-order": (_bad(time_ranges=[{"from": "17:00", "until": "09:00"}]), "before"),
    "time-range-24-30": (_bad(time_ranges=[{"from": "09:00", "until": "24:30"}]), "24:30"),
    "time-range-from-24": (_bad(time_ranges=[{"from": "24:00", "until": "24:00"}]), "24:00"),
    "time-range-type": (_bad(time_ranges=[{"type": "opening_hours"}]), "store_hours"),
    "store-hours-mixed": (_bad(time_ranges=[{"type": "store_hours"}, DAY]), "combined"),
    "body-not-object": ([1, 2, 3], "object"),
    "before-1970": (_bad(date_ranges=[{"from": {"absolute": {"year": 1}}, "to": {"relative": {"add_days": 1}}}]), "1970"),
    "date-overflow": (_bad(date_ranges=[{"from": {"relative": {"base": GOOD_RANGE["from"], "add_days": -10**9}},
                                         "to": GOOD_RANGE["to"]}]), "out of range"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_structural_problems_are_400(rn_client, rn, name):
    body, needle = BAD_BODIES[name]
    if isinstance(body, dict):
        stores = {"S0": rn.store_list()[0].uuid, "S1": rn.store_list()[1].uuid}
        body = (
            {**body, "locations": [stores.get(x, x) for x in body.get("locations", [])]}
            if "locations" in body
            else body
        )
    response = rn_client.post("/v2/datamine", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["ok"] is False and needle in error["error"], error


def test_limits_that_are_fine(rn_client, rn, s0):
    five = {"from": {"gregorian": "2019-05-14T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}}
    assert query(rn_client, body_for(s0, five, time_ranges=[{"from": "12:00", "until": "12:15"}]))["ok"]
    body = body_for(s0, GOOD_RANGE, group_bys=[{"group": "location", "unit": "", "value": -4},
                                               {"group": "day_of_week", "unit": "", "value": 0}])  # fmt: skip
    assert query(rn_client, body)["ok"]


def test_invalid_json_is_400(rn_client):
    response = rn_client.post("/v2/datamine", content=b"{not json")
    assert response.status_code == 400 and response.json()["ok"] is False


# ---------------------------------------------------------------------------- local time zone

LOCAL = {
    "date_ranges": [{"from": {"name": "today"}, "to": {"name": "now"}}],
    "group_bys": [{"group": "location", "unit": "", "value": 0}],
    "metrics": ["total_occupancy", "occupancy_limit"],
    "time_ranges": [{"type": "store_hours"}],
    "time_zone": "local",
}


def test_local_time_zone_current_occupancy(rn_client, rn):
    la, chicago_no_limit, tokyo = rn.store_list()[0], rn.store_list()[3], rn.store_list()[6]
    assert chicago_no_limit.occupancy_limit is None
    rn.freeze("2024-05-15T19:37:00Z")  # 12:37 LA, 14:37 Chicago, 04:37 Tokyo (closed)
    data = query(rn_client, {**LOCAL, "locations": [la.uuid, chicago_no_limit.uuid, tokyo.uuid]})
    occupancy, limit = data["metrics"]
    assert [p["group"]["uuid"] for p in occupancy["data"]] == [la.uuid, chicago_no_limit.uuid, tokyo.uuid]
    chicago = ZoneInfo("America/Chicago")
    expected = [
        rn.aggregate(la.uuid, "total_occupancy", at(LA, 2024, 5, 15), at(LA, 2024, 5, 15, 12, 30), True)[0],
        rn.aggregate(chicago_no_limit.uuid, "total_occupancy", at(chicago, 2024, 5, 15),
                     at(chicago, 2024, 5, 15, 14, 30), True)[0],
        0,
    ]  # fmt: skip
    assert [p["value"] for p in occupancy["data"]] == expected
    assert expected[0] > 0
    assert [p["value"] for p in limit["data"]] == [la.occupancy_limit, None, tokyo.occupancy_limit]
    assert all(p["validity"] == "complete" for p in limit["data"])


@pytest.mark.parametrize(
    "change",
    [
        {"metrics": ["traffic_in"]},
        {"metrics": ["total_occupancy", "traffic_out"]},
        {"group_bys": [{"group": "date", "unit": "days", "value": 1}]},
        {"group_bys": [{"group": "location", "unit": "", "value": 0}, {"group": "time", "unit": "hours", "value": 1}]},
        {"group_bys": []},
        {"date_ranges": [{"from": {"name": "yesterday"}, "to": {"name": "now"}}]},
        {"date_ranges": [{"from": {"name": "today"}, "to": {"relative": {"add_days": 1}}}]},
        {"date_ranges": [{"from": {"name": "today"}, "to": {"name": "now"}}] * 2},
        {"time_ranges": [DAY]},
    ],
)
def test_local_time_zone_restrictions(rn_client, rn, change):
    response = rn_client.post("/v2/datamine", json={**LOCAL, "locations": [rn.store_list()[0].uuid], **change})
    assert response.status_code == 400
    assert "local" in response.json()["error"]


# ---------------------------------------------------------------------------- midnight


def test_store_hours_crossing_midnight_use_plus_prefix(rn_client, rn):
    night = rn.store_list()[1]  # New York, 16:00-02:00
    ny = ZoneInfo("America/New_York")
    rng = {"from": {"gregorian": "2024-05-14T00:00:00"}, "to": {"gregorian": "2024-05-15T00:00:00"}}
    body = body_for(night.uuid, rng, tz="America/New_York", time_ranges=[{"type": "store_hours"}],
                    group_bys=[{"group": "time", "unit": "hours", "value": 1}])  # fmt: skip
    points = query(rn_client, body)["metrics"][0]["data"]
    labels = [(p["group"]["from"], p["group"]["until"]) for p in points]
    assert labels == [
        ("16:00", "17:00"), ("17:00", "18:00"), ("18:00", "19:00"), ("19:00", "20:00"), ("20:00", "21:00"),
        ("21:00", "22:00"), ("22:00", "23:00"), ("23:00", "24:00"), ("+00:00", "+01:00"), ("+01:00", "+02:00"),
    ]  # fmt: skip
    for i, point in enumerate(points):
        start = at(ny, 2024, 5, 14, 16) + timedelta(hours=i)
        assert (point["value"], point["validity"]) == rn.aggregate(night.uuid, "traffic_in", start,
                                                                   start + timedelta(hours=1))  # fmt: skip
    quarter = body_for(night.uuid, rng, tz="America/New_York", time_ranges=[{"type": "store_hours"}],
                       group_bys=[{"group": "time", "unit": "minutes", "value": 15}])  # fmt: skip
    labels = [p["group"]["from"] for p in query(rn_client, quarter)["metrics"][0]["data"]]
    assert labels[:2] == ["16:00", "16:15"] and labels[-2:] == ["+01:30", "+01:45"] and "+00:15" in labels


def test_store_days_own_their_after_midnight_buckets(rn_client, rn):
    night = rn.store_list()[1]
    rng = {"from": {"gregorian": "2024-05-12T00:00:00"}, "to": {"gregorian": "2024-05-15T00:00:00"}}
    body = body_for(night.uuid, rng, tz="America/New_York", time_ranges=[{"type": "store_hours"}],
                    group_bys=[{"group": "date", "unit": "days", "value": 1}], metrics=["traffic_in", "total_occupancy"])  # fmt: skip
    traffic, occupancy = query(rn_client, body)["metrics"]
    for i, point in enumerate(traffic["data"]):
        buckets = rn.store_day(night.uuid, f"2024-05-{12 + i}")
        assert point["value"] == sum(b["traffic_in"] for b in buckets)
        assert point["group"]["from"]["gregorian"] == f"2024-05-{12 + i}"
    assert [p["value"] for p in occupancy["data"]] == [0, 0, 0], "the last bucket empties the store"


def test_day_opening_the_evening_before_uses_minus_prefix(rn_client, rn):
    london = rn.store_list()[2]  # Saturday opens Friday 22:00
    tz = ZoneInfo("Europe/London")
    rng = {"from": {"gregorian": "2024-05-11T00:00:00"}, "to": {"gregorian": "2024-05-12T00:00:00"}}
    body = body_for(london.uuid, rng, tz="Europe/London", time_ranges=[{"type": "store_hours"}],
                    group_bys=[{"group": "time", "unit": "hours", "value": 1}])  # fmt: skip
    points = query(rn_client, body)["metrics"][0]["data"]
    assert [(p["group"]["from"], p["group"]["until"]) for p in points[:3]] == [
        ("-22:00", "-23:00"), ("-23:00", "00:00"), ("00:00", "01:00"),
    ]  # fmt: skip
    assert points[-1]["group"] == {"type": "time", "from": "17:00", "until": "18:00"}
    assert (
        points[0]["value"]
        == rn.aggregate(london.uuid, "traffic_in", at(tz, 2024, 5, 10, 22), at(tz, 2024, 5, 10, 23))[0]
    )
    friday = body_for(london.uuid, {"from": {"gregorian": "2024-05-10T00:00:00"}, "to": {"gregorian": "2024-05-11T00:00:00"}},
                      tz="Europe/London", time_ranges=[{"type": "store_hours"}])  # fmt: skip
    assert only(query(rn_client, friday))[0] == sum(b["traffic_in"] for b in rn.store_day(london.uuid, "2024-05-10"))


# ---------------------------------------------------------------------------- occupancy


def test_total_occupancy_is_the_running_occupancy_at_the_end_of_each_group(rn_client, rn, s0):
    day = {"from": {"gregorian": "2024-05-13T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}}
    body = body_for(s0, day, metrics=["total_occupancy", "traffic_in", "traffic_out"],
                    time_ranges=[{"type": "store_hours"}], group_bys=[{"group": "time", "unit": "hours", "value": 1}])  # fmt: skip
    occupancy, ins, outs = query(rn_client, body)["metrics"]
    buckets = rn.store_day(s0, "2024-05-13")
    running = 0
    for point, tin, tout in zip(occupancy["data"], ins["data"], outs["data"], strict=True):
        hour = int(point["group"]["from"][:2])
        last = [b for b in buckets if b["offset"] // 60 == hour][-1]
        assert point["value"] == last["total_occupancy"]
        running += tin["value"] - tout["value"]
        assert point["value"] == running >= 0
    assert running == 0


def test_occupancy_limit(rn_client, rn):
    la, no_limit = rn.store_list()[0], rn.store_list()[3]
    body = body_for([la.uuid, no_limit.uuid], GOOD_RANGE, metrics=["occupancy_limit"],
                    group_bys=[{"group": "location", "unit": "", "value": 1}])  # fmt: skip
    points = query(rn_client, body)["metrics"][0]["data"]
    assert [(p["value"], p["validity"]) for p in points] == [(la.occupancy_limit, "complete"), (None, "complete")]


# ---------------------------------------------------------------------------- validity


def test_validity_turns_complete_after_the_lag(rn_client, rn, s0):
    rng = {"from": {"gregorian": "2024-05-15T10:00:00"}, "to": {"gregorian": "2024-05-15T11:00:00"}}
    body = body_for(s0, rng, group_bys=[{"group": "time", "unit": "minutes", "value": 15}])
    before = query(rn_client, body)["metrics"][0]["data"]
    assert [p["validity"] for p in before] == ["incomplete"] * 4  # ends after now - 2 h
    assert all(isinstance(p["value"], int) for p in before)
    rn.advance(3600)
    after = query(rn_client, body)["metrics"][0]["data"]
    assert [p["value"] for p in after] == [p["value"] for p in before]
    for point, minute in zip(after, (0, 15, 30, 45), strict=True):
        start = at(LA, 2024, 5, 15, 10, minute)
        assert point["validity"] == rn.aggregate(s0, "traffic_in", start, start + timedelta(minutes=15))[1]
        assert point["validity"] in ("complete", "imputed")


def test_completeness_lag_is_configurable(rn_client, rn, s0):
    rng = {"from": {"gregorian": "2024-05-15T11:00:00"}, "to": {"gregorian": "2024-05-15T12:00:00"}}
    assert only(query(rn_client, body_for(s0, rng)))[1] == "incomplete"
    rn.completeness_lag = 0
    assert only(query(rn_client, body_for(s0, rng)))[1] in ("complete", "imputed")


def test_future_buckets_have_no_value(rn_client, rn, s0):
    rng = {"from": {"gregorian": "2024-05-15T14:00:00"}, "to": {"gregorian": "2024-05-15T16:00:00"}}
    value, validity = only(query(rn_client, body_for(s0, rng)))
    assert (value, validity) == (None, "incomplete")


def test_marks_make_buckets_incomplete_until_cleared(rn_client, rn, s0):
    rng = {"from": {"gregorian": "2024-05-13T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}}
    body = body_for(s0, rng, group_bys=[{"group": "time", "unit": "hours", "value": 1}])
    clean = query(rn_client, body)["metrics"][0]["data"]
    rn.mark_validity(s0, at(LA, 2024, 5, 13, 14), at(LA, 2024, 5, 13, 15, 30), "incomplete")
    marked = query(rn_client, body)["metrics"][0]["data"]
    assert [p["validity"] for p in marked[14:16]] == ["incomplete", "incomplete"]
    assert marked[:14] == clean[:14] and marked[16:] == clean[16:]
    assert only(query(rn_client, body_for(s0, rng)))[1] == "incomplete"
    rn.clear_validity(s0)
    assert query(rn_client, body)["metrics"][0]["data"] == clean
    rn.mark_validity(s0, at(LA, 2024, 5, 13, 3), at(LA, 2024, 5, 13, 4), "imputed")
    assert query(rn_client, body)["metrics"][0]["data"][3]["validity"] == "imputed"


def test_generated_imputed_buckets(rn_client, rn, s0):
    found = None
    for d in range(1, 14):
        for b in rn.store_day(s0, f"2024-05-{d:02d}"):
            if b["validity"] == "imputed":
                found = b
                break
        if found:
            break
    assert found is not None
    start = datetime.fromisoformat(found["start"])
    rng = {"from": {"gregorian": found["start"]}, "to": {"gregorian": (start + timedelta(hours=1)).isoformat()}}
    body = body_for(s0, rng, tz="UTC", group_bys=[{"group": "time", "unit": "minutes", "value": 15}])
    points = query(rn_client, body)["metrics"][0]["data"]
    assert points[0]["validity"] == "imputed"
    assert only(query(rn_client, body_for(s0, rng, tz="UTC")))[1] == "imputed"


# ---------------------------------------------------------------------------- cap


def test_responses_are_capped_at_10000_points(rn_client, rn, s0):
    rng = {"from": {"gregorian": "2024-01-01T00:00:00"}, "to": {"gregorian": "2024-05-01T00:00:00"}}
    body = body_for(s0, rng, tz="UTC", metrics=["traffic_in", "traffic_out"],
                    group_bys=[{"group": "date", "unit": "days", "value": 1},
                               {"group": "time", "unit": "minutes", "value": 15}])  # fmt: skip
    data = query(rn_client, body)
    first, second = data["metrics"]
    leaves = [leaf for day in first["data"] for leaf in day["data"]]
    assert len(leaves) == 10_000
    assert len(first["data"]) == -(-10_000 // 96) and len(first["data"][-1]["data"]) == 10_000 % 96
    assert second["ok"] is True and second["data"] == []
    assert first["data"][0]["data"][0]["group"]["from"] == "00:00"


@pytest.mark.parametrize("day,slots", [("2024-03-10", 23), ("2023-11-05", 24)])
@pytest.mark.parametrize("index", [0, 1])
def test_daylight_saving_days(rn_client, rn, index, day, slots):
    store = rn.store_list()[index]
    tz = ZoneInfo(store.time_zone)
    start = datetime.fromisoformat(day).replace(tzinfo=tz)
    end = (start.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=tz)
    assert end.timestamp() - start.timestamp() != 86400
    rng = {"from": {"gregorian": day}, "to": {"relative": {"add_days": 1}}}
    total = only(query(rn_client, body_for(store.uuid, rng, tz=store.time_zone)))
    assert total == rn.aggregate(store.uuid, "traffic_in", start, end)
    hours = body_for(store.uuid, rng, tz=store.time_zone, group_bys=[{"group": "time", "unit": "hours", "value": 1}])
    points = query(rn_client, hours)["metrics"][0]["data"]
    assert len(points) == slots and sum(p["value"] for p in points) == total[0]
    shop = body_for(store.uuid, rng, tz=store.time_zone, time_ranges=[{"type": "store_hours"}])
    assert only(query(rn_client, shop))[0] == sum(b["traffic_in"] for b in rn.store_day(store.uuid, day))


def test_huge_group_values_give_one_group(rn_client, rn, s0):
    for group in ({"group": "date", "unit": "days", "value": 10**9}, {"group": "date", "unit": "years", "value": 10**6},
                  {"group": "time", "unit": "hours", "value": 10**9}):  # fmt: skip
        points = query(rn_client, body_for(s0, GOOD_RANGE, group_bys=[group]))["metrics"][0]["data"]
        assert len(points) == 1 and points[0]["value"] == only(query(rn_client, body_for(s0, GOOD_RANGE)))[0]
    shop = body_for(s0, GOOD_RANGE, time_ranges=[{"type": "store_hours"}],
                    group_bys=[{"group": "time", "unit": "hours", "value": 10**9}])  # fmt: skip
    points = query(rn_client, shop)["metrics"][0]["data"]
    assert [(p["group"]["from"], p["group"]["until"]) for p in points] == [("09:00", "21:00")]
