"""Points the reference leaves open, each played both ways by the emulator: the client is
right under every reading (or detects which one it faces and says so).

* health alerts ``start_time``: "created before" (the reference's words) or "at or after";
* video export status: in progress as 202 or as the transcript's 201/200 ``{"ok":true}``,
  expired as 404 or 410, a 5xx retried and then an error (never "in progress");
* occupancy adjustment: ``adjustment_date`` (parameter table) or ``adjustment_time``
  (example): the time is never dropped;
* unknown ids: one rule in the emulator (404 in the path, 400 in a body or query
  parameter), one error naming the parameter in the client.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from retail_provider.http.errors import NotFoundError, ServerError
from retail_provider.http.retry import RetryPolicy
from retail_provider.retailnext.health_alerts import sync_health_alerts
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.video.operators import build_export_request
from retail_provider.retailnext.video.trigger import VideoExportTrigger
from retail_provider.retailnext.writes.models import OccupancyAdjust, UserUpdate
from tests import retailnext_support as t

SCHEMA = "rn_amb"


@pytest.fixture(autouse=True)
def _fresh(emulator):
    emulator.state.retailnext.reset()
    emulator.state.faults.clear()
    yield
    emulator.state.retailnext.reset()
    emulator.state.faults.clear()


@pytest.fixture
def rn(emulator):
    return emulator.state.retailnext


@pytest.fixture
def rn_raw(emulator):
    """A plain httpx client with the emulator's RetailNext key pair (to see raw answers)."""
    import httpx

    creds = emulator.state.retailnext_credentials
    with httpx.Client(base_url=emulator.url, auth=(creds["access_key"], creds["secret_key"]), timeout=30) as c:
        yield c


@pytest.fixture
def hook(airflow_connections):
    h = RetailNextHook("retailnext_default", retry_policy=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    yield h
    h.close()


# ---------------------------------------------------------------------------- health alerts start_time


def _created(alert) -> datetime:
    return datetime.fromisoformat(alert["alert_creation_time"]).astimezone(UTC)


@pytest.mark.parametrize("reading", ["at_or_after", "before"])
@pytest.mark.parametrize("where", ["middle", "before_all", "after_all"])
def test_health_alerts_since_a_time_under_both_readings(hook, rn, pg, reading, where):
    alerts = sorted(rn.alerts(), key=_created)
    since = {"middle": _created(alerts[len(alerts) // 2]), "before_all": _created(alerts[0]) - timedelta(days=1),
             "after_all": _created(alerts[-1]) + timedelta(minutes=5)}[where]
    rn.set_reading("healthalerts_start_time", reading)
    pg.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    pg.commit()
    result = sync_health_alerts(hook, pg, start_time=since, schema=SCHEMA)
    pg.commit()
    loaded = {r[0] for r in pg.execute(f"SELECT uuid FROM {SCHEMA}.health_alerts")}
    expected = {a["uuid"] for a in alerts if _created(a) >= since}
    assert loaded == expected and (expected or where == "after_all")
    # what the answers told: nothing to tell when no alert was created after `since` and none before it came back
    told = "unknown" if reading == "at_or_after" and where == "after_all" else reading
    assert result.details["start_time_reading"] == told


def test_health_alerts_new_alerts_arrive_under_the_before_reading(hook, rn, pg):
    rn.set_reading("healthalerts_start_time", "before")
    store = rn.stores()[0]["uuid"]
    start = datetime.now(UTC)
    pg.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    pg.commit()
    new = rn.add_alert(store, description="Demo: sensor offline")
    result = sync_health_alerts(hook, pg, start_time=start - timedelta(seconds=2), schema=SCHEMA)
    pg.commit()
    assert [a["uuid"] for a in result.details["new_alerts"]] == [new["uuid"]]
    assert result.details["start_time_reading"] == "before"
    assert {r[0] for r in pg.execute(f"SELECT uuid FROM {SCHEMA}.health_alerts")} == {new["uuid"]}


# ---------------------------------------------------------------------------- video export statuses


def _export(hook, rn, polls=1):
    cam = next(c for c in rn.cameras() if c.get("video_channel_uuids"))
    channel = cam["video_channel_uuids"][:1]
    rn.set_export_behaviour(channel[0], ready_after_polls=polls, expire_after_polls=1)
    end = datetime.now(UTC) - timedelta(hours=1)
    request = build_export_request(channel, (end - timedelta(minutes=5)).isoformat(), end.isoformat())
    return hook.start_video_export(request)


@pytest.mark.parametrize("in_progress", [202, 201, 200])
@pytest.mark.parametrize("expired", [404, 410])
def test_export_status_under_every_reading(hook, rn, emulator, in_progress, expired, tmp_path):
    rn.set_reading("export_in_progress_status", in_progress)
    rn.set_reading("export_expired_status", expired)
    export_id = _export(hook, rn, polls=2)
    assert [hook.video_export_status(export_id).state for _ in range(2)] == ["in_progress", "in_progress"]
    sent = [r.status for r in emulator.state.requests.records(f"/v1/video/export/task/{export_id}")]
    assert sent == [in_progress, in_progress]
    assert hook.video_export_status(export_id).state == "ready"
    status = hook.video_export_status(export_id)
    assert status.state == "expired" and str(expired) in status.reason


def test_an_in_progress_body_carries_only_documented_keys(rn_raw, rn):
    cam = next(c for c in rn.cameras() if c.get("video_channel_uuids"))
    channel = cam["video_channel_uuids"][0]
    rn.set_export_behaviour(channel, ready_after_polls=5)
    end = datetime.now(UTC) - timedelta(hours=1)
    started = rn_raw.post("/v1/video/export/start", params={"channel": channel, "start": (end - timedelta(
        minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"), "end": end.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert started.status_code == 201 and started.json() == {"ok": True}
    for status in (202, 201):
        rn.set_reading("export_in_progress_status", status)
        poll = rn_raw.get(started.headers["location"])
        assert poll.status_code == status and poll.json() == {"ok": True}


def test_a_server_error_is_retried_then_fails_not_polled_until_the_deadline(hook, rn, emulator):
    export_id = _export(hook, rn, polls=0)
    emulator.state.faults.add("status", path=r"^/v1/video/export/task/", status=503, times=None)
    with pytest.raises(ServerError):
        hook.video_export_status(export_id)
    assert len(emulator.state.requests.records(f"/v1/video/export/task/{export_id}")) == 3
    trigger = VideoExportTrigger("retailnext_default", export_id, poll_interval=0.01, deadline=time.time() + 60,
                                 max_transient_errors=3)

    async def first_event():
        async for event in trigger.run():
            return event.payload

    started = time.monotonic()
    event = asyncio.run(first_event())
    assert event["status"] == "error" and "3 times" in event["message"]
    assert time.monotonic() - started < 10


# ---------------------------------------------------------------------------- adjustment_date / adjustment_time


def _open_moment(rn, store) -> datetime:
    day = t.store_yesterday(rn, store["uuid"])
    while rn.store_hours(store["uuid"], day) is None:
        day -= timedelta(days=1)
    return datetime.fromisoformat(rn.store_day(store["uuid"], day)[8]["start"]) + timedelta(minutes=3)


@pytest.mark.parametrize("reading", ["either", "adjustment_date", "adjustment_time"])
@pytest.mark.parametrize("given", ["adjustment_time", "adjustment_date"])
def test_an_adjustment_keeps_its_time_under_either_name(hook, rn, reading, given):
    rn.set_reading("adjustment_time_field", reading)
    store = next(s for s in rn.stores() if s.get("occupancy_limit") is not None)
    when = _open_moment(rn, store)
    request = OccupancyAdjust.model_validate({"store_uuid": store["uuid"], "adjustment_count": 4, given: when})
    assert request.wire()["adjustment_time"] == request.wire()["adjustment_date"]
    hook.adjust_occupancy(request)
    ((moment, count),) = rn.adjustments[store["uuid"]]
    assert (moment, count) == (int(when.timestamp()), 4)  # the given time, not "now"


def test_two_different_adjustment_times_are_refused():
    with pytest.raises(ValueError, match="same time"):
        OccupancyAdjust.model_validate({"store_uuid": "s", "adjustment_count": 1,
                                        "adjustment_time": "2024-05-15T12:00:00Z",
                                        "adjustment_date": "2024-05-15T13:00:00Z"})


# ---------------------------------------------------------------------------- unknown ids


@pytest.mark.parametrize(
    ("call", "param", "status"),
    [
        (lambda h: list(h.iter_inventory("cameras", store_uuid="no-such-store")), "store_uuid", 400),
        (lambda h: h.floorplans("no-such-store"), "store_uuid", 404),
        (lambda h: h.floorplan("no-such-plan"), "floorplan_id", 404),
        (lambda h: h.user_profiles("no-such-profile"), "profile_id", 404),
        (lambda h: h.hls_token("no-such-location"), "location_uuid", 400),
        (lambda h: h.update_user("no-such-user", UserUpdate(location_ids=["x"])), "user_id", 404),
    ],
)
def test_an_unknown_id_is_one_error_naming_the_parameter(hook, call, param, status):
    with pytest.raises(NotFoundError) as info:
        call(hook)
    assert str(info.value).startswith(f"{param} ") and info.value.status_code == status
