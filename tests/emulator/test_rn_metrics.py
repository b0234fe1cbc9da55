"""RetailNext datamine metrics beyond traffic: every catalogue metric is served, derived
metrics agree with their parts in every cell (never sums of rates), validity only where
documented, day-level metrics, and the minute rules the reference allows.
"Now" is frozen at 2024-05-15T19:07Z (a Wednesday, 12:07 in Los Angeles).
"""

from __future__ import annotations

import math

import pytest

from include.emulator.retailnext.metrics import DAY_LEVEL, FORMULAS, METRICS, WITH_VALIDITY

SINGER_TAP = (
    "traffic_in traffic_out exposure_rate passby_capture_rate dwell_count avg_dwell_duration engagement_rate "
    "wireless_visit_duration net_sales sales_transactions_count return_transactions_count total_transactions_count "
    "avg_transaction_value avg_items_per_transaction sales_transactions_value_per_sq_unit "
    "sales_transactions_count_per_sq_unit average_unit_retail net_items_count male_rate female_rate avg_age "
    "male_avg_age female_avg_age staff_count labor_hours shopper_per_labor_hour staff_productivity staff_traffic_in "
    "staff_traffic_out conversion_rate dwell_conversion_rate shopper_yield new_wifi_users"
).split()
DAY_TAP = "new_visitors_rate repeat_visitors_rate visit_frequency total_wifi_users repeat_wifi_users wifi_uptake".split()
WEEK = {"from": {"gregorian": "2024-05-06T00:00:00"}, "to": {"gregorian": "2024-05-13T00:00:00"}}
DAY = {"from": "00:00", "until": "24:00"}


def ask(client, locations, metrics, group_bys=(), time_ranges=(DAY,), date_range=WEEK, tz="America/Los_Angeles"):
    body = {"locations": list(locations), "metrics": list(metrics), "date_ranges": [date_range],
            "time_ranges": list(time_ranges), "group_bys": list(group_bys), "time_zone": tz}
    response = client.post("/v2/datamine", json=body)
    assert response.status_code == 200, response.text
    return {m["name"]: m for m in response.json()["metrics"]}


def leaves(points):
    for p in points:
        if "data" in p:
            yield from leaves(p["data"])
        else:
            yield p


def values(metric):
    assert metric["ok"] is True, metric
    return [p["value"] for p in leaves(metric["data"])]


@pytest.fixture
def shop(rn):
    """Store 0: Los Angeles, with a floor area (per-square-unit metrics need one)."""
    store = rn.store_list()[0]
    assert rn.location(store.uuid).area
    return store.uuid


def test_every_metric_the_public_client_asked_for_is_served(rn_client, shop):
    assert set(SINGER_TAP + DAY_TAP) <= set(METRICS)
    got = ask(rn_client, [shop], SINGER_TAP + DAY_TAP)
    for name in SINGER_TAP + DAY_TAP:
        (value,) = values(got[name])
        assert value is not None and value >= 0, name
        point = next(leaves(got[name]["data"]))
        assert ("validity" in point) == (name in WITH_VALIDITY), name


HOURLY = [{"group": "date", "unit": "days", "value": 1}, {"group": "time", "unit": "hours", "value": 1}]
PARTS = {
    "conversion_rate": ("sales_transactions_count", "traffic_in"),
    "dwell_conversion_rate": ("sales_transactions_count", "dwell_count"),
    "shopper_yield": ("net_sales", "traffic_in"),
    "avg_transaction_value": ("net_sales", "sales_transactions_count"),
    "avg_items_per_transaction": ("net_items_count", "sales_transactions_count"),
    "average_unit_retail": ("net_sales", "net_items_count"),
    "shopper_per_labor_hour": ("traffic_in", "labor_hours"),
    "staff_productivity": ("net_sales", "labor_hours"),
}


@pytest.mark.parametrize("who", ["store", "region"])
def test_derived_metrics_agree_with_their_parts_in_every_cell(rn_client, rn, shop, who):
    location = shop if who == "store" else rn.location(shop).parent_uuid
    metrics = sorted({*PARTS, *(p for pair in PARTS.values() for p in pair), "total_transactions_count",
                      "return_transactions_count"})
    got = {name: values(m) for name, m in ask(rn_client, [location], metrics, HOURLY).items()}
    cells = len(got["traffic_in"])
    assert cells == 7 * 24
    checked = 0
    for derived, (num, den) in PARTS.items():
        for i in range(cells):
            n, d, v = got[num][i], got[den][i], got[derived][i]
            if not d:
                assert v is None
                continue
            assert v == pytest.approx(n / d, rel=1e-6, abs=0.006), (derived, i)
            checked += 1
    assert checked > 100
    for i in range(cells):
        assert got["total_transactions_count"][i] == got["sales_transactions_count"][i] + got[
            "return_transactions_count"][i]


def test_rates_are_never_summed_over_hours_or_stores(rn_client, rn, shop):
    hourly = {n: values(m) for n, m in ask(rn_client, [shop], ["conversion_rate", "sales_transactions_count",
                                                                "traffic_in"], HOURLY).items()}
    week = {n: values(m)[0] for n, m in ask(rn_client, [shop], ["conversion_rate", "sales_transactions_count",
                                                                 "traffic_in"]).items()}
    assert week["sales_transactions_count"] == sum(hourly["sales_transactions_count"])
    assert week["traffic_in"] == sum(hourly["traffic_in"])
    assert week["conversion_rate"] == pytest.approx(week["sales_transactions_count"] / week["traffic_in"])
    assert not math.isclose(week["conversion_rate"], sum(v for v in hourly["conversion_rate"] if v))
    region = rn.location(shop).parent_uuid
    stores = [s.uuid for s in rn.store_list() if rn.world.is_under(s.uuid, region)]
    assert len(stores) > 1
    per_store = ask(rn_client, stores, ["sales_transactions_count", "traffic_in", "avg_age", "male_rate"],
                    [{"group": "location", "unit": "", "value": 1}])
    whole = {n: values(m)[0] for n, m in ask(rn_client, [region], ["sales_transactions_count", "traffic_in",
                                                                   "conversion_rate"]).items()}
    assert whole["traffic_in"] == sum(values(per_store["traffic_in"]))
    assert whole["conversion_rate"] == pytest.approx(
        sum(values(per_store["sales_transactions_count"])) / sum(values(per_store["traffic_in"])))


def test_staff_count_is_labor_hours_over_the_period(rn_client, shop):
    one_day = {"from": {"gregorian": "2024-05-13T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}}
    got = {n: values(m)[0] for n, m in ask(rn_client, [shop], ["staff_count", "labor_hours"],
                                           date_range=one_day).items()}
    assert got["staff_count"] == pytest.approx(got["labor_hours"] / 24)  # 96 quarter hours in the day


def test_day_level_metrics_refuse_a_time_group(rn_client, shop):
    got = ask(rn_client, [shop], ["traffic_in", *DAY_LEVEL], HOURLY)
    assert got["traffic_in"]["ok"] is True
    for name in DAY_LEVEL:
        assert got[name]["ok"] is False and "day-level" in got[name]["error"] and got[name]["data"] == []
    by_day = ask(rn_client, [shop], ["new_visitors_rate", "repeat_visitors_rate", "total_wifi_users",
                                     "repeat_wifi_users"], [{"group": "date", "unit": "days", "value": 1}])
    for new, repeat in zip(values(by_day["new_visitors_rate"]), values(by_day["repeat_visitors_rate"])):
        assert new + repeat == pytest.approx(1.0)
    assert all(r <= t for r, t in zip(values(by_day["repeat_wifi_users"]), values(by_day["total_wifi_users"])))


def test_future_periods_have_no_value_and_no_area_means_no_per_square_unit(rn_client, rn, shop):
    today = {"from": {"gregorian": "2024-05-15T00:00:00"}, "to": {"gregorian": "2024-05-16T00:00:00"}}
    got = ask(rn_client, [shop], ["net_sales", "conversion_rate"], HOURLY, date_range=today)
    assert values(got["net_sales"])[20] is None and values(got["conversion_rate"])[20] is None  # 20:00 LA
    assert values(got["net_sales"])[10] is not None  # 10:00 LA has ended
    no_area = next(s.uuid for s in rn.store_list() if rn.location(s.uuid).area is None)
    got = ask(rn_client, [no_area], ["sales_transactions_value_per_sq_unit", "net_sales"])
    assert values(got["sales_transactions_value_per_sq_unit"]) == [None] and values(got["net_sales"])[0] > 0


def test_the_catalogue_has_a_formula_for_every_metric_but_traffic_and_occupancy():
    assert set(METRICS) - set(FORMULAS) == {"traffic_in", "traffic_out", "total_occupancy", "occupancy_limit"}


# ---------------------------------------------------------------------------- minutes the reference allows


def test_any_positive_minute_value_and_any_minute_boundary_are_served(rn_client, rn, shop):
    one_day = {"from": {"gregorian": "2024-05-13T00:00:00"}, "to": {"gregorian": "2024-05-14T00:00:00"}}
    got = ask(rn_client, [shop], ["traffic_in"], [{"group": "time", "unit": "minutes", "value": 20}],
              time_ranges=[{"from": "09:10", "until": "11:00"}], date_range=one_day)
    points = list(leaves(got["traffic_in"]["data"]))
    assert [(p["group"]["from"], p["group"]["until"]) for p in points] == [
        ("09:10", "09:30"), ("09:30", "09:50"), ("09:50", "10:10"), ("10:10", "10:30"), ("10:30", "10:50")]
    # (10:50-11:00 holds no quarter-hour start: slots without a bucket are not listed)
    # a quarter hour counts in the slot and the range its start lies in: 09:15 .. 10:45
    day = [b for b in rn.store_day(shop, "2024-05-13") if 555 <= b["offset"] < 660]
    assert sum(p["value"] for p in points) == sum(b["traffic_in"] for b in day)
