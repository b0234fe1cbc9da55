"""Datamine date ranges resolve like the reference describes; requests are checked locally."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext.datamine.dates import resolve, resolve_range
from retail_provider.retailnext.datamine.models import DATE_SPEC, DatamineRequest, DateRange
from retail_provider.retailnext.datamine.plan import plan
from retail_provider.retailnext.datamine.validate import validate_request

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "retailnext"
LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2021, 3, 17, 20, 7, 30, tzinfo=UTC)  # 13:07:30 in Los Angeles


def spec(d):
    return DATE_SPEC.validate_python(d)


@pytest.mark.parametrize(
    ("absolute", "expected"),
    [
        ({"year": 2017}, datetime(2017, 1, 1)),
        ({"year": 2017, "day": 150}, datetime(2017, 5, 30)),
        ({"year": 2017, "week": 12}, datetime(2017, 3, 20)),  # weeks start on Monday
        ({"year": 2017, "month": 13}, datetime(2018, 1, 1)),  # the reference: "beginning of 2018"
        ({"year": 2017, "quarter": 2, "month": 3, "week": 2, "day": 5, "hour": 12, "minute": 45},
         datetime(2017, 6, 16, 12, 45)),
    ],
)
def test_absolute_dates(absolute, expected):
    assert resolve(spec({"absolute": absolute}), LA, NOW) == expected


def test_names_are_wall_clock_in_the_time_zone_and_now_is_truncated():
    assert resolve(spec({"name": "now"}), LA, NOW) == datetime(2021, 3, 17, 13, 0)
    assert resolve(spec({"name": "today"}), LA, NOW) == datetime(2021, 3, 17)
    assert resolve(spec({"name": "yesterday"}), LA, NOW) == datetime(2021, 3, 16)


def test_gregorian_forms():
    assert resolve(spec({"gregorian": "2021-02-27T00:00:00Z"}), LA, NOW) == datetime(2021, 2, 26, 16, 0)
    assert resolve(spec({"gregorian": "2021-02-27T00:00:00"}), LA, NOW) == datetime(2021, 2, 27)
    assert resolve(spec({"gregorian": "2021-02-27"}), LA, NOW) == datetime(2021, 2, 27)


@pytest.mark.parametrize(
    ("rng", "expected"),
    [
        # reference: June 2020 plus 4 months
        ({"from": {"absolute": {"year": 2020, "month": 6}}, "to": {"relative": {"add_months": 4}}},
         (datetime(2020, 6, 1), datetime(2020, 10, 1))),
        # reference: last week
        ({"from": {"relative": {"add_weeks": -1}}, "to": {"relative": {"base": {"name": "now"}, "truncate_to": "week"}}},
         (datetime(2021, 3, 8), datetime(2021, 3, 15))),
        # reference: month to date
        ({"from": {"relative": {"base": {"name": "now"}, "truncate_to": "month"}}, "to": {"name": "now"}},
         (datetime(2021, 3, 1), datetime(2021, 3, 17, 13, 0))),
        # reference: five days from a base
        ({"from": {"relative": {"base": {"gregorian": "2021-02-27T00:00:00"}}}, "to": {"relative": {"add_days": 5}}},
         (datetime(2021, 2, 27), datetime(2021, 3, 4))),
        # month-end clamping: Jan 31 + 1 month = Feb 28 (Feb 29 in a leap year)
        ({"from": {"gregorian": "2021-01-31"}, "to": {"relative": {"add_months": 1}}},
         (datetime(2021, 1, 31), datetime(2021, 2, 28))),
        ({"from": {"gregorian": "2020-01-31"}, "to": {"relative": {"add_quarters": 1}}},
         (datetime(2020, 1, 31), datetime(2020, 4, 30))),
        ({"from": {"gregorian": "2020-02-29"}, "to": {"relative": {"add_years": 1}}},
         (datetime(2020, 2, 29), datetime(2021, 2, 28))),
    ],
)
def test_relative_and_mixed_ranges(rng, expected):
    assert resolve_range(DateRange.model_validate(rng), LA, NOW) == expected


def _request(**overrides):
    body = {
        "locations": ["a"],
        "metrics": ["traffic_in"],
        "date_ranges": [{"from": {"gregorian": "2021-01-01"}, "to": {"gregorian": "2021-01-08"}}],
        "time_ranges": [{"type": "store_hours"}],
        "group_bys": [{"group": "date", "unit": "days", "value": 1}],
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"metrics": ["traffic_inn"]}, "'traffic_inn' is not a known datamine metric"),
        ({"group_bys": [{"group": "date", "unit": "fortnights", "value": 1}]}, "unit 'fortnights' is not valid"),
        ({"group_bys": [{"group": "location", "unit": "days", "value": 1}]}, "unit 'days' is not valid for group 'location'"),
        ({"group_bys": [{"group": "time", "unit": "hours", "value": 0}]}, "must be a positive integer"),
        ({"date_ranges": [{"from": {"gregorian": "2021-02-01"}, "to": {"gregorian": "2021-01-01"}}]}, "must be before to"),
        ({"date_ranges": [{"from": {"name": "today"}, "to": {"name": "now"}}]}, "time_zone is required"),
        ({"time_zone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"date_ranges": [{"from": {"gregorian": "2015-01-01"}, "to": {"gregorian": "2020-01-02"}}]},
         "longer than 5 years"),
        ({"locations": ["a", "b"], "date_ranges": [{"from": {"gregorian": "2018-01-01"},
                                                    "to": {"gregorian": "2020-01-02"}}]}, "longer than 2 years"),
        ({"date_ranges": [{"from": {"relative": {"add_days": -1}}, "to": {"relative": {"add_days": 1}}}]},
         "needs a 'base'"),
        ({"time_ranges": [{"from": "10:00", "until": "09:00"}]}, "must be before until"),
        ({"time_ranges": [{"from": "09:00", "until": "24:30"}]}, "time_ranges.0.until"),  # only 24:00 may end a day
        ({"time_ranges": [{"from": "24:00", "until": "24:00"}]}, "time_ranges.0.from"),
        ({"metrics": ["wifi_uptake"], "group_bys": [{"group": "time", "unit": "hours", "value": 1}]}, "day-level"),
        ({"time_ranges": [{"type": "store_hours"}, {"from": "10:00", "until": "12:00"}]}, "cannot be mixed"),
        ({"time_zone": "local"}, "time_zone 'local' allows only the metrics"),
        ({"metrics": ["total_occupancy"], "time_zone": "local"}, "exactly one location group"),
        ({"locations": []}, "locations"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_requests_fail_locally_with_the_rule(overrides, message):
    with pytest.raises(InputValidationError, match=message):
        validate_request(_request(**overrides), now=NOW)


def test_limits_are_inclusive_of_exactly_five_and_two_years():
    validate_request(_request(date_ranges=[{"from": {"gregorian": "2015-01-01"}, "to": {"gregorian": "2020-01-01"}}]),
                     now=NOW)
    validate_request(_request(locations=["a", "b"], date_ranges=[{"from": {"gregorian": "2018-01-01"},
                                                                  "to": {"gregorian": "2020-01-01"}}]), now=NOW)


def test_every_reference_request_example_is_valid():
    for name in ("datamine_traffic_request", "occupancy_request", "occupancy_local_time_zone_request"):
        body = json.loads((FIXTURES / f"{name}.json").read_text())
        req = validate_request(body, now=NOW)
        assert isinstance(req, DatamineRequest)


def test_a_long_many_store_range_is_split_under_the_cap():
    stores = [f"s{i}" for i in range(40)]
    body = _request(locations=stores, metrics=["traffic_in", "traffic_out"],
                    date_ranges=[{"from": {"gregorian": "2019-01-01"}, "to": {"gregorian": "2020-12-31"}}],
                    group_bys=[{"group": "location", "unit": "", "value": 1},
                               {"group": "date", "unit": "days", "value": 1}])
    chunks = plan(body, now=NOW, location_batch_size=25)
    assert all(c.points <= 10_000 for c in chunks)
    covered = {(loc, c.start + __import__("datetime").timedelta(days=d)) for c in chunks for loc in c.locations
               for d in range((c.end - c.start).days)}
    assert len(covered) == 40 * 730  # every store-day exactly once
    assert sum(len(c.locations) * (c.end - c.start).days for c in chunks) == 40 * 730


# --- the subscription's calendar (a connection setting) ----------------------------------------

from retail_provider.retailnext.datamine.calendar import Calendar, calendar_from_extras  # noqa: E402
from retail_provider.retailnext.datamine.grains import align  # noqa: E402


def test_saturday_weeks_give_the_reference_example():
    saturday = calendar_from_extras({"calendar": "gregorian", "week_start": "Saturday"})
    got = resolve(spec({"absolute": {"year": 2021, "week": 5, "day": 1}}), LA, NOW, calendar=saturday)
    assert got == datetime(2021, 1, 30)


def test_a_retail_calendar_places_the_reference_answer_and_its_months():
    retail = calendar_from_extras({"calendar": "retail_454"})
    assert retail.retail_position(datetime(2021, 2, 21).date()) == (2021, 1, 22)  # the reference's example answer
    assert resolve(spec({"absolute": {"year": 2024, "month": 2}}), LA, NOW, calendar=retail) == datetime(2024, 3, 3)
    assert retail.add_months(datetime(2024, 3, 30), 1) == datetime(2024, 5, 4)  # day 28 of month 2 -> of month 3
    assert retail.add_months(datetime(2024, 4, 6), 1) == datetime(2024, 5, 4)  # day 35 clamped to the 4-week month
    first, nxt = align("month", datetime(2024, 3, 10).date(), datetime(2024, 3, 11).date(), retail)
    assert (first.isoformat(), nxt.isoformat()) == ("2024-03-03", "2024-04-07")
    first, nxt = align("week", datetime(2024, 3, 13).date(), datetime(2024, 3, 14).date(), retail)
    assert (first.isoformat(), nxt.isoformat()) == ("2024-03-10", "2024-03-17")  # Sunday weeks


@pytest.mark.parametrize("extras,message", [({"calendar": "julian"}, "calendar must be one of"),
                                            ({"week_start": "someday"}, "week_start")])
def test_a_bad_calendar_setting_names_the_extra(extras, message):
    with pytest.raises(InputValidationError, match=message):
        calendar_from_extras(extras)


@pytest.mark.parametrize("kind,start", [("gregorian", "monday"), ("gregorian", "saturday"), ("retail_454", "sunday")])
def test_the_client_reads_dates_as_the_emulator_does_in_every_calendar(kind, start):
    """Two implementations of the same written rules (client and emulator) agree."""
    from include.emulator.retailnext.calendar import calendar_named
    from include.emulator.retailnext.dates import DateResolver

    client = Calendar(kind, ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday").index(start))
    server = DateResolver(LA, int(NOW.timestamp()), calendar_named(kind, start))
    ranges = [
        {"from": {"absolute": {"year": 2023, "quarter": 3}}, "to": {"relative": {"add_months": 2}}},
        {"from": {"absolute": {"year": 2024, "week": 7, "day": 3}}, "to": {"relative": {"add_weeks": 1}}},
        {"from": {"relative": {"base": {"gregorian": "2024-08-19"}, "truncate_to": "month"}},
         "to": {"relative": {"base": {"gregorian": "2024-08-19"}, "truncate_to": "year", "add_years": 1}}},
        {"from": {"relative": {"base": {"name": "now"}, "truncate_to": "week", "add_weeks": -2}},
         "to": {"relative": {"base": {"name": "now"}, "truncate_to": "quarter"}}},
        {"from": {"gregorian": "2024-01-31"}, "to": {"relative": {"add_months": 1, "add_quarters": 1}}},
    ]
    for rng in ranges:
        mine = resolve_range(DateRange.model_validate(rng), LA, NOW, client)
        assert mine == server.resolve_range(rng, "date_ranges[0]"), rng
