"""The subscription's calendar: Gregorian with any first weekday, or a 4-5-4 retail calendar.
The reference's two examples are the fixed points: year 2021, week 5, day 1 with Saturday
weeks is Saturday 30 January 2021; 21 February 2021 is labelled year 2021, month 1, day 22.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from include.emulator.retailnext.calendar import calendar_named


def ask(client, store, date_range, group_bys=()):
    body = {"locations": [store], "metrics": ["traffic_in"], "date_ranges": [date_range],
            "time_ranges": [{"from": "00:00", "until": "24:00"}], "group_bys": list(group_bys),
            "time_zone": "America/Los_Angeles"}
    response = client.post("/v2/datamine", json=body)
    assert response.status_code == 200, response.text
    return response.json()["metrics"][0]["data"]


DAYS = [{"group": "date", "unit": "days", "value": 1}]


def test_saturday_weeks_the_reference_example(rn_client, rn):
    rn.set_calendar("gregorian", "saturday")
    store = rn.store_list()[0].uuid
    points = ask(rn_client, store, {"from": {"absolute": {"year": 2021, "week": 5, "day": 1}},
                                    "to": {"relative": {"add_days": 2}}}, DAYS)
    assert points[0]["group"]["from"]["gregorian"] == "2021-01-30"
    rn.set_calendar("gregorian")  # Monday weeks: the first Monday on or after 1 Jan 2021 is 4 Jan
    points = ask(rn_client, store, {"from": {"absolute": {"year": 2021, "week": 5, "day": 1}},
                                    "to": {"relative": {"add_days": 2}}}, DAYS)
    assert points[0]["group"]["from"]["gregorian"] == "2021-02-01"


def test_retail_labels_match_the_reference_answer(rn_client, rn):
    rn.set_calendar("retail_454")
    store = rn.store_list()[0].uuid
    points = ask(rn_client, store, {"from": {"gregorian": "2021-02-21"}, "to": {"gregorian": "2021-02-22"}}, DAYS)
    assert points[0]["group"]["from"] == {"gregorian": "2021-02-21", "year": 2021, "month": 1, "day": 22}


@pytest.mark.parametrize("year,start", [(2021, date(2021, 1, 31)), (2023, date(2023, 1, 29)),
                                        (2024, date(2024, 2, 4))])
def test_retail_years_start_on_the_sunday_nearest_february_first(year, start):
    assert calendar_named("retail_454").year_start_day(year) == start


def test_retail_months_are_4_5_4_weeks_and_a_long_year_gives_its_last_month_a_fifth(rn_client, rn):
    rn.set_calendar("retail_454")
    store = rn.store_list()[0].uuid
    points = ask(rn_client, store, {"from": {"absolute": {"year": 2023}}, "to": {"absolute": {"year": 2024}}},
                 [{"group": "date", "unit": "months", "value": 1}])
    weeks = [(date.fromisoformat(p["group"]["through"]["gregorian"]) -
              date.fromisoformat(p["group"]["from"]["gregorian"]) + timedelta(days=1)).days // 7 for p in points]
    assert weeks == [4, 5, 4] * 3 + [4, 5, 5]  # FY2023: 29 Jan 2023 to 3 Feb 2024, 53 weeks
    assert [p["group"]["from"]["month"] for p in points] == list(range(1, 13))
    assert all(p["group"]["from"]["day"] == 1 and p["group"]["from"]["year"] == 2023 for p in points)


def test_retail_absolute_and_relative_dates(rn_client, rn):
    rn.set_calendar("retail_454")
    store = rn.store_list()[0].uuid
    second_month = ask(rn_client, store, {"from": {"absolute": {"year": 2024, "month": 2}},
                                          "to": {"relative": {"add_months": 1}}}, DAYS)
    assert second_month[0]["group"]["from"]["gregorian"] == "2024-03-03"
    assert second_month[-1]["group"]["through"]["gregorian"] == "2024-04-06"  # a 5-week month
    q2 = ask(rn_client, store, {"from": {"relative": {"base": {"gregorian": "2024-06-12"}, "truncate_to": "quarter"}},
                                "to": {"gregorian": "2024-06-12"}}, DAYS)
    assert q2[0]["group"]["from"] == {"gregorian": "2024-05-05", "year": 2024, "month": 4, "day": 1}
