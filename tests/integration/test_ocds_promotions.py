"""Promotions into PostgreSQL as the reference documents them: the offer, and child tables whose
rows are applied by their own location actions or replaced with the offer's collections."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from include.emulator.ocds.readings import Readings
from retail_provider.http.retry import RetryPolicy
from retail_provider.ocds.catalog import get_endpoint
from retail_provider.ocds.hook import OcdsHook
from retail_provider.ocds.sync import sync_endpoint
from tests.support import assert_table_equals_truth

SCHEMA = "ocds_promo_test"
PROMO = get_endpoint("item_promotion")


@pytest.fixture
def hook(airflow_connections, emulator):
    h = OcdsHook("ocds_default", retry_policy=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    yield h
    h.close()
    emulator.state.ocds.set_readings(**Readings().as_dict())


def _now(emulator) -> datetime:
    return emulator.state.ocds.now() + timedelta(microseconds=1)


def _sync(hook, dsn, since, before, sweep=False):
    with psycopg.connect(dsn) as conn:
        result = sync_endpoint(hook, conn, PROMO, since=since, before=before, sweep=sweep, schema=SCHEMA, page_size=5)
        conn.commit()
    return result


def _query(dsn, sql, *params):
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql.replace("{s}", SCHEMA), params).fetchall()


def _full(hook, emulator, dsn) -> datetime:
    t = _now(emulator)
    _sync(hook, dsn, None, t, sweep=True)
    _check(emulator, dsn)
    return t


def _check(emulator, dsn):
    with psycopg.connect(dsn) as conn:
        assert_table_equals_truth(conn, PROMO, emulator.state.ocds.truth("item_promotion"), SCHEMA)


def _live_locations(dsn, promoid, offerid) -> set[int]:
    rows = _query(dsn, "SELECT location FROM {s}.item_promotion_location WHERE promoid = %s AND offerid = %s",
                  promoid, offerid)
    return {r[0] for r in rows}


def test_a_window_carrying_one_location_keeps_the_others(hook, emulator, warehouse_dsn):
    ocds = emulator.state.ocds
    t1 = _full(hook, emulator, warehouse_dsn)
    before = {(o["promoid"], o["offerid"]): o for o in ocds.truth("item_promotion")}
    for seed in range(100):  # withdraw one location of an offer that has several
        deleted = ocds.mutate("item_promotion", deletes=1, seed=seed)["deleted"][0]
        key = (deleted["promoid"], deleted["offerid"])
        if len(before[key]["locations"]) > 1:
            break
    served = [o for p in hook.iter_pages(PROMO, since=t1, before=_now(emulator)) for o in p.records
              if (o.promoid, o.offerid) == key]
    assert [loc.action for loc in served[0].locations] == ["DELETE"]  # the window carries one location
    _sync(hook, warehouse_dsn, t1, _now(emulator))
    _check(emulator, warehouse_dsn)
    remaining = {loc["location"] for loc in next(o for o in ocds.truth("item_promotion")
                                                 if (o["promoid"], o["offerid"]) == key)["locations"]}
    assert remaining and _live_locations(warehouse_dsn, *key) == remaining


def test_an_offer_whose_locations_are_all_deleted_stays_flagged_withdrawn(hook, emulator, warehouse_dsn):
    ocds = emulator.state.ocds
    t1 = _full(hook, emulator, warehouse_dsn)
    offer = min(ocds.truth("item_promotion"), key=lambda o: len(o["locations"]) or 99)
    key = (offer["promoid"], offer["offerid"])
    for seed in range(500):
        if not next(o for o in ocds.truth("item_promotion") if (o["promoid"], o["offerid"]) == key)["locations"]:
            break
        ocds.mutate("item_promotion", deletes=1, seed=1000 + seed)
    _sync(hook, warehouse_dsn, t1, _now(emulator))
    _check(emulator, warehouse_dsn)
    assert _live_locations(warehouse_dsn, *key) == set()
    state = _query(warehouse_dsn, "SELECT live_locations, withdrawn FROM {s}.item_promotion_state "
                   "WHERE promoid = %s AND offerid = %s", *key)
    assert state == [(0, True)]
    kept = _query(warehouse_dsn, "SELECT count(*) FROM {s}.item_promotion_reward WHERE promoid = %s AND offerid = %s",
                  *key)
    assert kept[0][0] == len(offer["rewards"]) > 0, "its rewards stay queryable"
    live = _query(warehouse_dsn, "SELECT count(*) FROM {s}.item_promotion_state WHERE NOT withdrawn")[0][0]
    assert live == sum(1 for o in ocds.truth("item_promotion") if o["locations"])


def _merch_counts(ocds) -> dict[tuple, int]:
    return {(o["promoid"], o["offerid"]): sum(len(c["conditionsmerch"]) for c in o["conditions"])
            for o in ocds.truth("item_promotion")}


def test_nested_lists_that_change_are_replaced_per_offer(hook, emulator, warehouse_dsn):
    ocds = emulator.state.ocds
    t1 = _full(hook, emulator, warehouse_dsn)
    before = _merch_counts(ocds)
    ocds.mutate("item_promotion", updates=40, inserts=2, seed=21)
    after = _merch_counts(ocds)
    assert any(after[k] < n for k, n in before.items()), "some merchandise left its condition"
    result = _sync(hook, warehouse_dsn, t1, _now(emulator))
    _check(emulator, warehouse_dsn)
    assert result.children[f"{SCHEMA}.item_promotion_condition_merch"]["deleted"] >= 1
    assert _query(warehouse_dsn, "SELECT count(*) FROM {s}.item_promotion_condition_merch")[0][0] == sum(after.values())


def test_every_documented_field_is_a_queryable_column(hook, emulator, warehouse_dsn):
    _full(hook, emulator, warehouse_dsn)
    assert _query(warehouse_dsn, "SELECT count(*) FROM {s}.item_promotion_reward "
                  "WHERE qtytodisc IS NOT NULL AND qtytodiscuom IS NOT NULL")[0][0] > 0
    assert _query(warehouse_dsn, "SELECT count(*) FROM {s}.item_promotion_reward WHERE pricerestrictcode = 'B' "
                  "AND pricerestrictvalue1 < pricerestrictvalue2")[0][0] > 0
    assert _query(warehouse_dsn, "SELECT count(*) FROM {s}.item_promotion_condition_merch "
                  "WHERE item IS NOT NULL AND diffid IS NOT NULL")[0][0] > 0
    assert _query(warehouse_dsn, 'SELECT count(*) FROM {s}.item_promotion_condition_merch '
                  'WHERE "class" IS NOT NULL AND uniquesubclass IS NOT NULL')[0][0] > 0
    types = dict(_query(warehouse_dsn, "SELECT table_name || '.' || column_name, data_type FROM "
                        "information_schema.columns WHERE table_schema = %s AND column_name = 'canceldatetime'",
                        SCHEMA))
    assert types["item_promotion_location.canceldatetime"] == "timestamp with time zone"
    assert types["item_promotion_condition_merch.canceldatetime"] == "timestamp with time zone"


def test_nested_cancel_times_keep_their_zone(hook, emulator, warehouse_dsn):
    ocds = emulator.state.ocds
    t1 = _full(hook, emulator, warehouse_dsn)
    ocds.mutate("item_promotion", updates=30, seed=33)  # some locations get cancelled now
    _sync(hook, warehouse_dsn, t1, _now(emulator))
    cancelled = {(o["offerid"], loc["location"]): loc["canceldatetime"] for o in ocds.truth("item_promotion")
                 for loc in o["locations"] if loc["canceldatetime"]}
    stored = dict(((r[0], r[1]), r[2]) for r in _query(
        warehouse_dsn, "SELECT offerid, location, canceldatetime FROM {s}.item_promotion_location "
        "WHERE canceldatetime IS NOT NULL"))
    assert cancelled and stored.keys() == cancelled.keys()
    for key, text in cancelled.items():
        assert stored[key] == datetime.fromisoformat(text.replace("Z", "+00:00"))  # the instant, not a wall time


@pytest.mark.parametrize("readings", [{"promotion_locations": "all"}, {"spelling": "alternate"},
                                      {"local_datetimes": "offset"}], ids=str)
def test_every_reading_of_the_reference_loads_the_same(hook, emulator, warehouse_dsn, readings):
    ocds = emulator.state.ocds
    ocds.set_readings(**readings)
    t1 = _full(hook, emulator, warehouse_dsn)
    ocds.mutate("item_promotion", updates=5, deletes=3, inserts=1, seed=44)
    _sync(hook, warehouse_dsn, t1, _now(emulator))
    _check(emulator, warehouse_dsn)
