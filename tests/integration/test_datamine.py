"""Datamine against the emulator: date forms and groupings equal the generator's truth,
chunked queries equal one logical query, ok:false handling, validity re-reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from retail_provider.http.retry import RetryPolicy
from retail_provider.retailnext.datamine.flatten import flatten
from retail_provider.retailnext.datamine.plan import plan, window_request
from retail_provider.retailnext.hook import RetailNextHook


@pytest.fixture
def hook(airflow_connections):
    h = RetailNextHook("retailnext_default", retry_policy=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    yield h
    h.close()


@pytest.fixture
def rn(emulator):
    return emulator.state.retailnext


@pytest.fixture
def stores(hook):
    return hook.query_locations(location_types=["store"], extra_fields=["store.time_zone"])


def _rows(hook, body, **plan_kwargs):
    now = datetime.now(UTC)
    out = {}
    for chunk in plan(body, now=now, **plan_kwargs):
        for _, p in flatten(hook.datamine(chunk.body), locations=chunk.locations, range_start=chunk.start):
            key = (p.location_uuid, p.metric, p.period_start, p.slot)
            assert key not in out, f"point {key} returned twice"
            out[key] = (p.value, p.validity)
    return out


def _truth(rn, store, metric, local_start, local_end, store_hours=False):
    tz = ZoneInfo(store.time_zone)
    return rn.aggregate(store.uuid, metric, local_start.replace(tzinfo=tz).astimezone(UTC),
                        local_end.replace(tzinfo=tz).astimezone(UTC), store_hours_only=store_hours)


def test_daily_and_hourly_windows_equal_truth(hook, rn, stores):
    today = datetime.now(UTC).date()
    for grain in ("day", "hour"):
        body = window_request(locations=[s.uuid for s in stores], metrics=["traffic_in", "traffic_out"],
                              date_from=today - timedelta(days=3), date_to=today, grain=grain)
        rows = _rows(hook, body)
        per_day = 24 if grain == "hour" else 1
        assert len(rows) == len(stores) * 2 * 3 * per_day
        for store in stores[:3]:
            for (loc, metric, start, _slot), (value, validity) in rows.items():
                if loc != store.uuid:
                    continue
                end = start + (timedelta(hours=1) if grain == "hour" else timedelta(days=1))
                assert (value, validity) == _truth(rn, store, metric, start, end), (grain, metric, start)


@pytest.mark.parametrize(
    "rng",
    [
        {"from": {"name": "yesterday"}, "to": {"name": "today"}},
        {"from": {"gregorian": "{d2}T00:00:00"}, "to": {"gregorian": "{d0}T00:00:00"}},
        {"from": {"absolute": {"year": "{y}", "month": "{m}", "day": "{d}"}}, "to": {"relative": {"add_days": 2}}},
        {"from": {"relative": {"base": {"name": "today"}, "add_days": -2}}, "to": {"relative": {"add_days": 2}}},
        {"from": {"relative": {"add_days": -2}}, "to": {"relative": {"base": {"name": "now"}, "truncate_to": "day"}}},
    ],
    ids=["name", "gregorian", "absolute+relative", "relative-base", "relative-to-base"],
)
def test_each_date_form_against_truth(hook, rn, stores, rng):
    store = stores[0]
    tz = ZoneInfo(store.time_zone)
    today = datetime.now(UTC).astimezone(tz).date()
    d2 = today - timedelta(days=2)
    text = (str(rng).replace("'{d2}", f"'{d2}").replace("{d2}", str(d2)).replace("{d0}", str(today))
            .replace("'{y}'", str(d2.year)).replace("'{m}'", str(d2.month)).replace("'{d}'", str(d2.day)))
    body = {
        "locations": [store.uuid], "metrics": ["traffic_in"], "date_ranges": [eval(text)],  # noqa: S307
        "time_ranges": [{"from": "00:00", "until": "24:00"}],
        "group_bys": [{"group": "date", "unit": "days", "value": 1}], "time_zone": store.time_zone,
    }
    rows = _rows(hook, body)
    assert rows, "no points"
    for (_, metric, start, _), got in rows.items():
        assert got == _truth(rn, store, metric, start, start + timedelta(days=1)), start


def test_layered_groups_location_date_time_against_truth(hook, rn, stores):
    today = datetime.now(UTC).date()
    pick = stores[:2]
    body = {
        "locations": [s.uuid for s in pick], "metrics": ["traffic_in", "traffic_out"],
        "date_ranges": [{"from": {"gregorian": str(today - timedelta(days=2))}, "to": {"gregorian": str(today)}}],
        "time_ranges": [{"from": "08:00", "until": "20:00"}],
        "group_bys": [{"group": "location", "unit": "", "value": 1}, {"group": "date", "unit": "days", "value": 1},
                      {"group": "time", "unit": "hours", "value": 2}],
    }
    rows = _rows(hook, body)
    assert len(rows) == 2 * 2 * 2 * 6
    by_uuid = {s.uuid: s for s in pick}
    for (loc, metric, start, slot), got in rows.items():
        assert slot.count(":") == 2
        assert got == _truth(rn, by_uuid[loc], metric, start, start + timedelta(hours=2)), (loc, metric, start)


def test_chunked_long_many_store_range_equals_one_logical_query(hook, stores):
    today = datetime.now(UTC).date()
    body = window_request(locations=[s.uuid for s in stores], metrics=["traffic_in", "traffic_out"],
                          date_from=today - timedelta(days=40), date_to=today, grain="day")
    whole = _rows(hook, body)  # one request: under the cap
    chunked = _rows(hook, body, max_points=37, location_batch_size=2)  # many small requests
    assert len(whole) == len(stores) * 2 * 40
    assert chunked == whole


def test_more_points_than_the_cap_are_split_not_lost(hook, stores):
    today = datetime.now(UTC).date()
    body = window_request(locations=[s.uuid for s in stores], metrics=["traffic_in", "traffic_out"],
                          date_from=today - timedelta(days=40), date_to=today, grain="hour")
    rows = _rows(hook, body)
    assert len(rows) == len(stores) * 2 * 40 * 24 > 10_000


def test_store_hours_crossing_midnight_land_on_their_store_day(hook, rn, stores):
    late = next(s for s in stores if s.time_zone == "America/New_York")  # open 16:00-02:00
    today = datetime.now(ZoneInfo(late.time_zone)).date()
    body = {
        "locations": [late.uuid], "metrics": ["traffic_in"],
        "date_ranges": [{"from": {"gregorian": str(today - timedelta(days=3))}, "to": {"gregorian": str(today)}}],
        "time_ranges": [{"type": "store_hours"}],
        "group_bys": [{"group": "date", "unit": "days", "value": 1}, {"group": "time", "unit": "hours", "value": 1}],
    }
    rows = _rows(hook, body)
    plus = [k for k in rows if k[3].startswith("+")]
    assert plus, "no bucket after midnight"
    for key in plus:
        start = key[2]
        assert start.hour < 3 and (start - timedelta(days=1)).date() >= today - timedelta(days=3)


def test_ok_false_metric_is_reported(hook, rn, stores):
    try:
        rn.set_allowed_locations([stores[0].uuid])
        response = hook.datamine(window_request(locations=[stores[1].uuid], metrics=["traffic_in"],
                                                date_from=date.today() - timedelta(days=1), date_to=date.today(),
                                                grain="day"))
    finally:
        rn.set_allowed_locations(None)
    assert response.metrics[0].ok is False and "profile" in response.metrics[0].error
