"""Video export, stream links and write DAGs through Airflow against the emulator."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from include.devenv import airflow_env

pytestmark = pytest.mark.airflow


@pytest.fixture(autouse=True)
def _fast(monkeypatch, tmp_path, emulator):
    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")
    monkeypatch.setenv("RETAIL_VIDEO_POLL_SECONDS", "0.2")
    monkeypatch.setenv("RETAIL_VIDEO_TIMEOUT_SECONDS", "4")
    monkeypatch.setenv("RETAIL_EXPORT_DIR", str(tmp_path))
    yield
    emulator.state.faults.clear()


def _run(dag_id, conf):
    run = airflow_env.run_dag(dag_id, conf)
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    return run, {k: str(ti.state) for k, ti in tis.items()}, tis


def _export_conf(rn, mode, **extra):
    cam = next(c for c in rn.cameras() if c.get("video_channel_uuids"))
    channel = cam["video_channel_uuids"][0]
    end = datetime.now(UTC) - timedelta(hours=2)
    conf = {"channels": [channel], "start": (end - timedelta(minutes=3)).isoformat(), "end": end.isoformat(),
            "info_overlay": True, "wait_mode": mode, **extra}
    return channel, conf


@pytest.mark.parametrize("mode", ["deferrable", "reschedule", "poke"])
def test_export_202_then_302_downloads_and_deletes(airflow_connections, emulator, tmp_path, mode, capfd):
    rn = emulator.state.retailnext
    channel, conf = _export_conf(rn, mode)
    rn.set_export_behaviour(channel, ready_after_polls=2)
    run, states, tis = _run("retailnext_video_export", conf)
    assert "success" in str(run.state), states
    assert states[f"wait_{mode}"] == "success"
    assert {states[f"wait_{m}"] for m in ("deferrable", "reschedule", "poke") if m != mode} == {"skipped"}
    result = tis["download"].xcom_pull(task_ids="download")
    export_id = result["export_id"]
    assert (tmp_path / f"{export_id}.mp4").read_bytes() == rn.export_bytes(export_id)
    assert result["bytes"] == len(rn.export_bytes(export_id)) and result["deleted"] is True
    assert rn.exports[export_id].deleted
    sensed = tis[f"wait_{mode}"].xcom_pull(task_ids=f"wait_{mode}")
    assert sensed in (None, {"export_id": export_id, "state": "ready"})
    out = capfd.readouterr()
    for text in (out.out, out.err, json.dumps(result), json.dumps(sensed)):
        assert "sig=" not in text and "rn_secret_key" not in text


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ({"ready_after_polls": 1, "fail": "no recording in that window"}, "no recording in that window"),
        ({"ready_after_polls": 0, "expire_after_polls": 0}, "expired"),
        ({"ready_after_polls": 100_000}, "not ready before the timeout|Sensor has timed out"),
    ],
    ids=["424", "404", "timeout"],
)
@pytest.mark.parametrize("mode", ["deferrable", "poke"])
def test_export_failures_fail_the_sensor(airflow_connections, emulator, mode, behaviour, message, capfd):
    rn = emulator.state.retailnext
    channel, conf = _export_conf(rn, mode)
    rn.set_export_behaviour(channel, **behaviour)
    run, states, _ = _run("retailnext_video_export", conf)
    assert "success" not in str(run.state)
    assert states[f"wait_{mode}"] == "failed"
    assert states["download"] in ("upstream_failed", "skipped")
    out = capfd.readouterr()
    assert re.search(message, out.out + out.err), f"the task log does not give the reason {message!r}"


def test_bad_export_params_fail_before_any_call(airflow_connections, emulator):
    rn = emulator.state.retailnext
    channel, conf = _export_conf(rn, "poke")
    before = len(rn.exports)
    run, states, _ = _run("retailnext_video_export", {**conf, "end": conf["start"]})
    assert states["start_export"] == "failed"
    assert len(rn.exports) == before


def test_stream_links_withhold_tokens_unless_asked(airflow_connections, emulator, capfd):
    rn = emulator.state.retailnext
    store = rn.stores()[0]
    run, states, tis = _run("retailnext_stream_links", {"store_uuid": store["uuid"]})
    assert "success" in str(run.state), states
    links = tis["publish_links"].xcom_pull(task_ids="publish_links")
    channels = {c for cam in rn.cameras(store["uuid"]) for c in cam.get("video_channel_uuids") or []}
    assert {x["channel_uuid"] for x in links} == channels
    assert all("token" not in x["url"] for x in links)
    tokens = [t for t in rn.hls_tokens]
    out = capfd.readouterr()
    assert tokens and not any(t in out.out or t in out.err for t in tokens)
    run, states, tis = _run("retailnext_stream_links", {"store_uuid": store["uuid"], "include_tokens": True})
    assert all("token=" in x["url"] for x in tis["publish_links"].xcom_pull(task_ids="publish_links"))


def _audit(warehouse_dsn):
    with psycopg.connect(warehouse_dsn) as conn:
        return conn.execute("SELECT operation, target, dry_run, status FROM retailnext.write_audit ORDER BY id").fetchall()


def test_location_update_dry_run_then_apply(airflow_connections, emulator, warehouse_dsn):
    rn = emulator.state.retailnext
    store = next(s for s in rn.stores() if s.get("occupancy_limit") is not None)
    conf = {"action": "update", "location_uuid": store["uuid"], "fields": {"occupancy_limit": 77, "name": "Renamed"}}
    run, states, _ = _run("retailnext_location_admin", {**conf, "dry_run": True})
    assert states["update"] == "success" and states["create"] == "skipped"
    assert rn.store(store["uuid"]).occupancy_limit == store["occupancy_limit"]
    assert _audit(warehouse_dsn)[-1] == ("location.update", store["uuid"], True, "dry_run")
    run, states, _ = _run("retailnext_location_admin", {**conf, "dry_run": False})
    assert states["update"] == "success"
    assert rn.store(store["uuid"]).occupancy_limit == 77
    assert _audit(warehouse_dsn)[-1] == ("location.update", store["uuid"], False, "applied")
    # a field that does not apply to a store is refused before any call
    run, states, _ = _run("retailnext_location_admin", {**conf, "fields": {"aggregate_to_parent": True},
                                                        "dry_run": False})
    assert states["update"] == "failed"


def test_bulk_occupancy_limits_from_csv(airflow_connections, emulator, warehouse_dsn, tmp_path):
    rn = emulator.state.retailnext
    stores = rn.stores()[:2]
    path = tmp_path / "occupancy_limit.csv"
    path.write_text("site_uuid, occupancy_limit\n" + "".join(f"{s['uuid']},{40 + i}\n" for i, s in enumerate(stores)))
    run, states, _ = _run("retailnext_location_admin", {"action": "bulk_update", "csv_path": str(path),
                                                        "dry_run": False})
    assert states["bulk_update"] == "success", states
    assert [rn.store(s["uuid"]).occupancy_limit for s in stores] == [40, 41]
    bad = tmp_path / "bad.csv"
    bad.write_text("site_uuid, occupancy_limit\n" + f"{stores[0]['uuid']},lots\n")
    before = len(_audit(warehouse_dsn))
    run, states, _ = _run("retailnext_location_admin", {"action": "bulk_update", "csv_path": str(bad),
                                                        "dry_run": False})
    assert states["bulk_update"] == "failed" and len(_audit(warehouse_dsn)) == before


def test_create_sublocation_and_refusals(airflow_connections, emulator, warehouse_dsn):
    rn = emulator.state.retailnext
    store = rn.stores()[0]
    n = len(rn.locations())
    fields = {"name": "Front Table", "parent_uuid": store["uuid"], "location_type": "display", "area": 53.1}
    run, states, _ = _run("retailnext_location_admin", {"action": "create", "fields": fields, "dry_run": False})
    assert states["create"] == "success" and len(rn.locations()) == n + 1
    run, states, _ = _run("retailnext_location_admin", {"action": "create", "dry_run": False,
                                                        "fields": {**fields, "location_type": "store"}})
    assert states["create"] == "failed" and len(rn.locations()) == n + 1


def test_occupancy_adjust_rules(airflow_connections, emulator, warehouse_dsn):
    rn = emulator.state.retailnext
    no_limit = next(s for s in rn.stores() if s.get("occupancy_limit") is None)
    run, states, _ = _run("retailnext_occupancy_adjust", {"store_uuid": no_limit["uuid"], "adjustment_count": 2,
                                                          "dry_run": False})
    assert states["adjust"] == "failed"
    store = next(s for s in rn.stores() if s.get("occupancy_limit") is not None)
    tz = ZoneInfo(store["time_zone"])
    local_now = datetime.now(tz)
    closed = local_now.replace(hour=4, minute=0, second=0, microsecond=0)
    if closed > local_now:
        closed -= timedelta(days=1)
    run, states, _ = _run("retailnext_occupancy_adjust", {"store_uuid": store["uuid"], "adjustment_count": 2,
                                                          "adjustment_time": closed.isoformat(), "dry_run": False})
    assert states["adjust"] == "failed"
    opened = (local_now - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    if opened.weekday() == 6:
        opened -= timedelta(days=1)
    run, states, _ = _run("retailnext_occupancy_adjust", {"store_uuid": store["uuid"], "adjustment_count": 3,
                                                          "adjustment_time": opened.isoformat(), "dry_run": False})
    assert states["adjust"] == "success", states
    assert _audit(warehouse_dsn)[-1] == ("occupancy.adjust", store["uuid"], False, "applied")


def test_user_create_and_update(airflow_connections, emulator, warehouse_dsn):
    rn = emulator.state.retailnext
    profile = rn.user_profiles()[0]["id"]
    location_profile = rn.location_profiles()[0]["id"]
    fields = {"email": "sandra.bloch@domain.com", "name": "Sandra Bloch", "user_profile_id": profile,
              "location_profile_id": location_profile}
    run, states, _ = _run("retailnext_user_admin", {"action": "create", "fields": fields, "dry_run": True})
    assert states["create"] == "success" and not [u for u in rn.users() if u["email"] == fields["email"]]
    run, states, _ = _run("retailnext_user_admin", {"action": "create", "fields": fields, "dry_run": False})
    created = [u for u in rn.users() if u["email"] == fields["email"]]
    assert states["create"] == "success" and created and created[0]["type"] == "sso"
    run, states, _ = _run("retailnext_user_admin", {"action": "create", "fields": fields, "dry_run": False})
    assert states["create"] == "failed"  # duplicate email, refused before the call
    stores = [s["uuid"] for s in rn.stores()[:2]]
    run, states, _ = _run("retailnext_user_admin", {"action": "update", "user_id": created[0]["id"],
                                                    "fields": {"location_ids": stores}, "dry_run": False})
    assert states["update"] == "success"
    user = next(u for u in rn.users() if u["id"] == created[0]["id"])
    assert user["location_ids"] == stores and "location_profile_id" not in user
