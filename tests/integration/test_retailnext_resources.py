"""RetailNext resources into PostgreSQL (loading functions, real HTTP to the emulator, real PostgreSQL).

Each sync is compared with the emulator's truth built independently in ``tests/retailnext_support.py``;
reruns must write nothing; source changes (including deletions) must arrive.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from retail_provider.http.errors import InputValidationError, InvalidResponseError
from retail_provider.http.retry import RetryPolicy
from retail_provider.retailnext.health_alerts import sync_health_alerts
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.predictions import sync_predicted_traffic
from retail_provider.retailnext.resources import SyncResult
from retail_provider.retailnext.snapshots import sync_snapshot
from retail_provider.retailnext.store_hours import sync_store_hours
from retail_provider.retailnext.zone_transitions import sync_zone_transitions
from tests import retailnext_support as t

SCHEMA = "rn_it"


@pytest.fixture(autouse=True)
def _fresh(emulator):
    emulator.state.retailnext.reset()
    emulator.state.faults.clear()
    yield
    emulator.state.retailnext.reset()
    emulator.state.faults.clear()


@pytest.fixture
def hook(airflow_connections):
    h = RetailNextHook("retailnext_default", retry_policy=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    yield h
    h.close()


@pytest.fixture
def data(emulator):
    return emulator.state.retailnext


def _commit(pg, fn, *args, **kwargs) -> SyncResult:
    result = fn(*args, **kwargs)
    pg.commit()
    return result


def _ledger(pg, table: str) -> tuple:
    return pg.execute(
        "SELECT vendor, mode, status, rows_upserted, rows_deleted, rows_swept FROM retail_meta.sync_ledger "
        "WHERE target_table = %s ORDER BY id DESC LIMIT 1", (f"{SCHEMA}.{table}",)
    ).fetchone()


def test_locations_snapshot_tree_rerun_and_changes(hook, pg, data):
    result = _commit(pg, sync_snapshot, hook, pg, "locations", schema=SCHEMA, page_length=37)
    key = ["uuid"]
    t.assert_same(t.expected_locations(data), t.table(pg, SCHEMA, "locations", t.LOCATION_COLUMNS, key), "locations")
    assert result.table("locations").rows == len(data.locations())
    assert _ledger(pg, "locations")[:3] == ("retailnext", "snapshot", "success")
    # every store carries the v2 extra fields, including the unset occupancy limit of every 4th store
    stores = pg.execute(f"SELECT store_id, occupancy_limit, time_zone FROM {SCHEMA}.locations "
                        "WHERE location_type = 'store' ORDER BY store_id").fetchall()
    assert [s[0] for s in stores] == [str(101 + i) for i in range(len(data.stores()))]
    assert [s[1] is None for s in stores] == [i % 4 == 3 for i in range(len(stores))]

    # the tree: depth, names from the top, the store of each sublocation
    by_uuid = {x["uuid"]: x for x in data.locations()}

    def chain(uuid):
        out = []
        while uuid in by_uuid:
            out.insert(0, by_uuid[uuid])
            uuid = by_uuid[uuid]["parent_uuid"]
        return out

    tree = {r[0]: r[1:] for r in pg.execute(
        f"SELECT uuid, depth, path, qualified_name, store_uuid FROM {SCHEMA}.location_tree").fetchall()}
    assert set(tree) == set(by_uuid)
    for uuid in by_uuid:
        names = [x["name"] for x in chain(uuid)]
        store = next((x["uuid"] for x in chain(uuid) if x["location_type"] == "store"), None)
        assert tree[uuid] == (len(names) - 1, names, " > ".join(names), store)

    # nothing changed: nothing is written
    before = t.snapshot(pg, SCHEMA, "locations")
    again = _commit(pg, sync_snapshot, hook, pg, "locations", schema=SCHEMA)
    assert (again.table("locations").upserted, again.table("locations").swept) == (0, 0)
    assert _ledger(pg, "locations")[3:] == (0, 0, 0)
    assert t.snapshot(pg, SCHEMA, "locations") == before

    # a new location and an archived one arrive; a location the source lost is deleted
    store = data.stores()[0]["uuid"]
    added = data.add_location(store, "display", name="Pop-up Table")
    archived = next(x["uuid"] for x in data.locations() if x["location_type"] == "entrance")
    data.archive_location(archived)
    changed = _commit(pg, sync_snapshot, hook, pg, "locations", schema=SCHEMA)
    assert (changed.table("locations").upserted, changed.table("locations").swept) == (2, 0)
    t.assert_same(t.expected_locations(data), t.table(pg, SCHEMA, "locations", t.LOCATION_COLUMNS, key), "locations")
    assert pg.execute(f"SELECT store_uuid, depth FROM {SCHEMA}.location_tree WHERE uuid = %s",
                      (added["uuid"],)).fetchone() == (store, 3)
    data.reset()  # the added location is gone, the archived one is back
    swept = _commit(pg, sync_snapshot, hook, pg, "locations", schema=SCHEMA)
    assert (swept.table("locations").upserted, swept.table("locations").swept) == (1, 1)
    t.assert_same(t.expected_locations(data), t.table(pg, SCHEMA, "locations", t.LOCATION_COLUMNS, key), "locations")


def test_users_and_profiles(hook, pg, data):
    for resource in ("users", "user_profiles", "location_profiles"):
        _commit(pg, sync_snapshot, hook, pg, resource, schema=SCHEMA, page_length=5)
    t.assert_same(t.expected_users(data), t.table(pg, SCHEMA, "users", t.USER_COLUMNS, ["id"]), "users")
    for name in ("user_profiles", "location_profiles"):
        t.assert_same(t.expected_profiles(data, name), t.table(pg, SCHEMA, name, t.PROFILE_COLUMNS[name], ["id"]), name)
    assert pg.execute(f"SELECT pg_typeof(last_sign_in_at)::text, pg_typeof(location_ids)::text FROM {SCHEMA}.users "
                      "LIMIT 1").fetchone() == ("timestamp with time zone", "jsonb")

    data.add_user("new.person@domain.com", type="sso", location_ids=[data.stores()[1]["uuid"]])
    result = _commit(pg, sync_snapshot, hook, pg, "users", schema=SCHEMA)
    assert (result.table("users").upserted, result.table("users").swept) == (1, 0)
    t.assert_same(t.expected_users(data), t.table(pg, SCHEMA, "users", t.USER_COLUMNS, ["id"]), "users")
    data.reset()
    result = _commit(pg, sync_snapshot, hook, pg, "users", schema=SCHEMA)
    assert (result.table("users").upserted, result.table("users").swept) == (0, 1)


def test_floorplans_zones_and_points(hook, pg, data):
    result = _commit(pg, sync_snapshot, hook, pg, "floorplans", schema=SCHEMA, page_length=2)
    expected = t.expected_floorplans(data)
    t.assert_same(expected["fpa_floorplans"], t.table(pg, SCHEMA, "fpa_floorplans", t.FLOORPLAN_COLUMNS, ["id"]),
                  "fpa_floorplans")
    t.assert_same(expected["fpa_zones"], t.table(pg, SCHEMA, "fpa_zones", t.ZONE_COLUMNS, ["id"]), "fpa_zones")
    t.assert_same(expected["fpa_zone_points"], t.table(pg, SCHEMA, "fpa_zone_points", ["x", "y"], ["zone_id", "seq"]),
                  "fpa_zone_points")
    assert [x.table for x in result.tables] == [f"{SCHEMA}.fpa_floorplans", f"{SCHEMA}.fpa_zones",
                                                f"{SCHEMA}.fpa_zone_points"]
    again = _commit(pg, sync_snapshot, hook, pg, "floorplans", schema=SCHEMA)
    assert all((x.upserted, x.swept) == (0, 0) for x in again.tables)


def test_devices(hook, pg, data):
    _commit(pg, sync_snapshot, hook, pg, "devices", schema=SCHEMA, page_length=4)
    expected = t.expected_devices(data)
    t.assert_same(expected["cameras"], t.table(pg, SCHEMA, "cameras", t.CAMERA_COLUMNS, ["device_id"]), "cameras")
    t.assert_same(expected["channels"], t.table(pg, SCHEMA, "channels", t.CHANNEL_COLUMNS, ["channel_uuid"]),
                  "channels")
    t.assert_same(expected["appliances"], t.table(pg, SCHEMA, "appliances", t.APPLIANCE_COLUMNS, ["appliance_id"]),
                  "appliances")
    again = _commit(pg, sync_snapshot, hook, pg, "devices", schema=SCHEMA)
    assert all((x.upserted, x.swept) == (0, 0) for x in again.tables)


def test_store_hours_are_local_wall_times_and_closed_days_leave(hook, pg, data):
    stores = [s["uuid"] for s in data.stores()]
    start, end = date(2024, 5, 6), date(2024, 5, 19)  # Monday to Sunday, two weeks
    _commit(pg, sync_store_hours, hook, pg, start=start, end=end, schema=SCHEMA, page_length=9)
    expected = t.expected_store_hours(data, stores, start, end)
    actual = t.table(pg, SCHEMA, "store_hours", ["open", "close"], ["store_uuid", "effective_day"])
    t.assert_same(expected, actual, "store_hours")
    # store 1 closes after midnight; store 2 opens on Saturday at Friday 22:00 (local wall time)
    assert actual[(stores[1], date(2024, 5, 6))] == (datetime(2024, 5, 6, 16), datetime(2024, 5, 7, 2))
    assert actual[(stores[2], date(2024, 5, 11))] == (datetime(2024, 5, 10, 22), datetime(2024, 5, 11, 18))
    assert (stores[4], date(2024, 5, 12)) not in actual  # closed on Sundays

    # a day that became closed (here: a row the source does not have) is removed; outside the window it stays
    pg.execute(f"INSERT INTO {SCHEMA}.store_hours (store_uuid, effective_day, open, close) VALUES "
               "(%s, '2024-05-12', '2024-05-12 10:00', '2024-05-12 18:00'), "
               "(%s, '2024-04-28', '2024-04-28 10:00', '2024-04-28 18:00')", (stores[4], stores[4]))
    pg.commit()
    result = _commit(pg, sync_store_hours, hook, pg, start=start, end=end, schema=SCHEMA)
    assert (result.table("store_hours").upserted, result.table("store_hours").swept) == (0, 1)
    actual = t.table(pg, SCHEMA, "store_hours", ["open", "close"], ["store_uuid", "effective_day"])
    assert set(actual) - set(expected) == {(stores[4], date(2024, 4, 28))}


def test_store_hours_of_given_stores_and_unknown_store(hook, pg, data):
    stores = [s["uuid"] for s in data.stores()][:2]
    result = _commit(pg, sync_store_hours, hook, pg, start=date(2024, 6, 1), end=date(2024, 6, 3),
                     stores=stores, schema=SCHEMA)
    assert result.filters["stores"] == stores and result.table("store_hours").rows == 6
    region = next(x["uuid"] for x in data.locations() if x["location_type"] == "region")
    with pytest.raises(InputValidationError, match="stores: .* not an active store"):
        sync_store_hours(hook, pg, start=date(2024, 6, 1), end=date(2024, 6, 3), stores=[region], schema=SCHEMA)
    pg.rollback()


def test_predicted_traffic_future_days_rerun_and_stale_buckets(hook, pg, data, emulator):
    stores = [s["uuid"] for s in data.stores()][:3]
    emulator.state.requests.clear()
    result = _commit(pg, sync_predicted_traffic, hook, pg, stores=stores, days_ahead=10, schema=SCHEMA)
    assert result.requests == 3 * 2  # 10 days in 7-day requests
    sent = [r for r in emulator.state.requests.records("/v1/predictedtraffic")]
    assert len(sent) == 6 and all(r.status == 200 for r in sent)
    expected = t.expected_predictions(data, stores, 10)
    actual = t.table(pg, SCHEMA, "predicted_traffic", ["value"], ["store_uuid", "time"])
    t.assert_same(expected, actual, "predicted_traffic")
    # every bucket is in the future of its store: after its local midnight tonight
    for store, tz in ((s["uuid"], s["time_zone"]) for s in data.stores()[:3]):
        tomorrow = datetime.now(ZoneInfo(tz)).date() + timedelta(days=1)
        first = min(k[1] for k in actual if k[0] == store)
        assert first.date() in (tomorrow, tomorrow - timedelta(days=1))  # a Saturday may open on Friday night
    stamps = dict(pg.execute(f"SELECT store_uuid || time::text, predicted_at FROM {SCHEMA}.predicted_traffic"))

    # a rerun writes nothing: unchanged values keep when they were first fetched
    again = _commit(pg, sync_predicted_traffic, hook, pg, stores=stores, days_ahead=10, schema=SCHEMA)
    assert (again.table("predicted_traffic").upserted, again.table("predicted_traffic").swept) == (0, 0)
    assert dict(pg.execute(f"SELECT store_uuid || time::text, predicted_at FROM {SCHEMA}.predicted_traffic")) == stamps

    # a bucket inside the fetched span that the API no longer returns goes; a past one stays
    some = sorted(k[1] for k in actual if k[0] == stores[0])
    inside = some[len(some) // 2].replace(hour=4, minute=7)
    past = some[0] - timedelta(days=3)
    pg.execute(f"INSERT INTO {SCHEMA}.predicted_traffic (store_uuid, time, value, predicted_at) VALUES "
               "(%s, %s, 5, now()), (%s, %s, 5, now())", (stores[0], inside, stores[0], past))
    pg.execute(f"UPDATE {SCHEMA}.predicted_traffic SET value = value + 1 WHERE store_uuid = %s AND time = %s",
               (stores[1], min(k[1] for k in actual if k[0] == stores[1])))
    pg.commit()
    fixed = _commit(pg, sync_predicted_traffic, hook, pg, stores=stores, days_ahead=10, schema=SCHEMA)
    assert (fixed.table("predicted_traffic").upserted, fixed.table("predicted_traffic").swept) == (1, 1)
    actual = t.table(pg, SCHEMA, "predicted_traffic", ["value"], ["store_uuid", "time"])
    assert set(actual) - set(expected) == {(stores[0], past)}
    assert {k: v for k, v in actual.items() if k in expected} == expected


def test_predicted_traffic_rejects_days_beyond_31(hook, pg, emulator):
    calls = len(emulator.state.requests)
    with pytest.raises(InputValidationError, match="days_ahead must be from 1 to 31"):
        sync_predicted_traffic(hook, pg, days_ahead=32, schema=SCHEMA)
    assert len(emulator.state.requests) == calls


def test_zone_transitions_per_store_day(hook, pg, data):
    stores = [s["uuid"] for s in data.stores()]
    result = _commit(pg, sync_zone_transitions, hook, pg, schema=SCHEMA)  # yesterday in each store's zone
    expected = t.expected_zone_transitions(data, {s: [t.store_yesterday(data, s)] for s in stores})
    columns = ["store_uuid", "value", "percentage"]
    key = ["day", "floorplan_uuid", "metric", "transitions", "dwells", "from_zone_id", "to_zone_id"]
    t.assert_same(expected, t.table(pg, SCHEMA, "zone_transitions", columns, key), "zone_transitions")
    assert result.requests == len(stores)
    assert {k[2] for k in expected} == {"customer", "employee"} and any(v[1] for v in expected.values())

    # an explicit day range and another mode add rows; a rerun writes nothing
    days = [date.today() - timedelta(days=4), date.today() - timedelta(days=3)]
    _commit(pg, sync_zone_transitions, hook, pg, days=days, stores=stores[:2], transitions="directionless",
            dwells="all_traffic", schema=SCHEMA)
    again = _commit(pg, sync_zone_transitions, hook, pg, days=days, stores=stores[:2],
                    transitions="directionless", dwells="all_traffic", schema=SCHEMA)
    assert again.table("zone_transitions").upserted == 0
    more = t.expected_zone_transitions(data, {s: days for s in stores[:2]}, "directionless", "all_traffic")
    t.assert_same({**expected, **more}, t.table(pg, SCHEMA, "zone_transitions", columns, key), "zone_transitions")


def test_health_alerts_new_unresolved_and_resolutions(hook, pg, data):
    first = _commit(pg, sync_health_alerts, hook, pg, start_time=None, schema=SCHEMA, page_length=7)
    t.assert_same(t.expected_alerts(data), t.table(pg, SCHEMA, "health_alerts", t.HEALTH_COLUMNS, ["uuid"]),
                  "health_alerts")
    unresolved = {a["uuid"] for a in data.alerts() if not a["resolved"]}
    assert {a["uuid"] for a in first.details["new_alerts"]} == unresolved

    open_alert = next(a for a in data.alerts() if not a["resolved"])
    data.resolve_alert(open_alert["uuid"])
    added = data.add_alert(data.stores()[2]["uuid"], alert_type="cameradown", description="Camera offline")
    since = datetime.now(UTC) - timedelta(days=40)
    second = _commit(pg, sync_health_alerts, hook, pg, start_time=since, schema=SCHEMA)
    assert [a["uuid"] for a in second.details["new_alerts"]] == [added["uuid"]]
    assert second.details["new_alerts"][0]["store_name"] == added["store_name"]
    assert second.table("health_alerts").upserted == 2
    t.assert_same(t.expected_alerts(data), t.table(pg, SCHEMA, "health_alerts", t.HEALTH_COLUMNS, ["uuid"]),
                  "health_alerts")
    third = _commit(pg, sync_health_alerts, hook, pg, start_time=since, schema=SCHEMA)
    assert third.details["new_alerts"] == [] and third.table("health_alerts").upserted == 0
    assert _ledger(pg, "health_alerts")[:2] == ("retailnext", "incremental")


def test_an_empty_listing_never_sweeps_a_table(airflow_connections, pg):
    """A 200 with an empty list (a vendor glitch) must not delete every row."""
    pg.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    pg.commit()
    real = RetailNextHook("retailnext_default")
    _commit(pg, sync_snapshot, real, pg, "user_profiles", schema=SCHEMA)
    real.close()
    count = pg.execute(f"SELECT count(*) FROM {SCHEMA}.user_profiles").fetchone()[0]

    empty = RetailNextHook("retailnext_default", transport=httpx.MockTransport(
        lambda request: httpx.Response(200, json={"user_profiles": []})))
    with pytest.raises(InvalidResponseError, match="refusing to delete them all"):
        sync_snapshot(empty, pg, "user_profiles", schema=SCHEMA)
    pg.rollback()
    assert pg.execute(f"SELECT count(*) FROM {SCHEMA}.user_profiles").fetchone()[0] == count > 0


def test_failure_midway_leaves_tables_as_they_were(hook, pg, data, emulator):
    _commit(pg, sync_snapshot, hook, pg, "floorplans", schema=SCHEMA)
    before = {n: t.snapshot(pg, SCHEMA, n) for n in ("fpa_floorplans", "fpa_zones", "fpa_zone_points")}
    pg.execute(f"DELETE FROM {SCHEMA}.fpa_zone_points WHERE seq = 4")
    pg.commit()
    before["fpa_zone_points"] = t.snapshot(pg, SCHEMA, "fpa_zone_points")
    emulator.state.faults.add("status", path=r"^/v1/fpafloorplans$", status=500, after=1, times=None, retry_after=0)
    with pytest.raises(Exception, match="HTTP 500"):
        sync_snapshot(hook, pg, "floorplans", schema=SCHEMA, page_length=2)
    pg.rollback()
    assert {n: t.snapshot(pg, SCHEMA, n) for n in before} == before


def test_a_failing_request_cancels_the_requests_not_started(hook, pg, emulator):
    emulator.state.faults.add("status", path=r"^/v1/predictedtraffic$", status=500, after=2, times=None,
                              retry_after=0)
    emulator.state.requests.clear()
    with pytest.raises(Exception, match="HTTP 500"):
        sync_predicted_traffic(hook, pg, schema=SCHEMA)  # 6 stores x 5 requests
    pg.rollback()
    assert len(emulator.state.requests.records("/v1/predictedtraffic")) < 20


def test_zone_transition_days_not_yet_ended_are_skipped(hook, pg, emulator):
    emulator.state.requests.clear()
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)  # not over in any time zone
    result = _commit(pg, sync_zone_transitions, hook, pg, days=[tomorrow], schema=SCHEMA)
    assert result.requests == 0 and result.details["skipped_store_days"] == len(emulator.state.retailnext.stores())
    assert not emulator.state.requests.records("/v1/zone_transitions")


def test_refused_credentials_fail_the_task_without_airflow_retries(airflow_connections, emulator, monkeypatch):
    """401 is not transient: the operator raises an AirflowFailException (no retries) that is
    still an AuthenticationError, and nothing secret is in it."""
    import json

    from airflow.sdk.exceptions import AirflowFailException

    from retail_provider.http.errors import AuthenticationError
    from retail_provider.retailnext.operators import RetailNextSnapshotOperator

    monkeypatch.setenv("AIRFLOW_CONN_RN_REFUSED", json.dumps({
        "conn_type": "retailnext", "host": emulator.url, "login": "AKIDREFUSED1", "password": "refused-secret-3e"}))
    task = RetailNextSnapshotOperator(task_id="sync_users", resource="users", retailnext_conn_id="rn_refused",
                                      schema=SCHEMA)
    with pytest.raises(AuthenticationError) as info:
        task.execute({})
    assert isinstance(info.value, AirflowFailException) and info.value.status_code == 401
    assert "refused-secret-3e" not in str(info.value)
