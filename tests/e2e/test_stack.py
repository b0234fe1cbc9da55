"""The native Airflow topology (`make airflow`) used as a user would: REST API and the UI.

Starts api-server, scheduler, dag-processor, triggerer and (with Redis) a Celery worker on
a PostgreSQL metadata database, plus the emulator; triggers DAGs through Airflow's REST
API, waits for them, checks the warehouse; and drives the UI in headless Chromium.
"""

from __future__ import annotations

import shutil
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from include.devenv import warehouse
from include.devenv.stack import Stack

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-stack")
    s = Stack(home=Path(home), port=_free_port(), emulator_port=_free_port(), database_prefix=f"e2e_{_free_port()}")
    s.start(timeout=240)
    yield s
    s.stop()
    server = warehouse.server_dsn()
    for suffix in ("warehouse", "meta"):
        warehouse.drop_database(server, f"{s.database_prefix}_{suffix}")


@pytest.fixture(scope="module")
def api(stack):
    token = httpx.post(f"{stack.url}/auth/token", json={"username": "admin", "password": "admin"}).json()
    client = httpx.Client(base_url=f"{stack.url}/api/v2", headers={"Authorization": f"Bearer {token['access_token']}"},
                          timeout=30)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the dag-processor parses the folder
        if client.get("/dags", params={"limit": 100}).json()["total_entries"] >= 20:
            break
        time.sleep(2)
    yield client
    client.close()


def _trigger_and_wait(api, dag_id, conf, timeout=300):
    assert api.patch(f"/dags/{dag_id}", json={"is_paused": False}).status_code == 200
    response = api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
    assert response.status_code == 200, response.text
    run_id = response.json()["dag_run_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"]
        if state in ("success", "failed"):
            tasks = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
            return state, {t["task_id"]: t["state"] for t in tasks}
        time.sleep(2)
    raise AssertionError(f"{dag_id} run {run_id} did not finish in {timeout}s")


def _emulator(stack, path):
    return httpx.get(f"http://127.0.0.1:{stack.emulator_port}/_emulator/{path}", timeout=30).json()


def test_scheduled_domains_of_both_vendors_through_the_rest_api(stack, api):
    assert stack.executor_used in ("celery", "local")
    state, tasks = _trigger_and_wait(api, "ocds_reference", {"safety_lag_seconds": 0})
    assert state == "success", tasks
    state, tasks = _trigger_and_wait(api, "retailnext_locations", {})
    assert state == "success", tasks
    with psycopg.connect(stack.warehouse_dsn) as conn:
        diffs = {r[0] for r in conn.execute("SELECT diffid FROM ocds.diff")}
        locations = {r[0] for r in conn.execute("SELECT uuid FROM retailnext.locations")}
    assert diffs == {r["diffid"] for r in _emulator(stack, "ocds/truth/diff")}
    truth = _emulator(stack, "retailnext/truth/locations")
    truth = truth.get("rows", truth) if isinstance(truth, dict) else truth
    assert locations == {r["uuid"] for r in truth}


def test_video_export_with_params_through_the_triggerer(stack, api, tmp_path):
    cameras = _emulator(stack, "retailnext/truth/cameras")
    cameras = cameras.get("rows", cameras) if isinstance(cameras, dict) else cameras
    channel = next(c for c in cameras if c.get("video_channel_uuids"))["video_channel_uuids"][0]
    end = datetime.now(UTC) - timedelta(hours=1)
    conf = {"channels": [channel], "start": (end - timedelta(minutes=2)).isoformat(), "end": end.isoformat(),
            "wait_mode": "deferrable", "destination": str(tmp_path / "{export_id}.mp4")}
    state, tasks = _trigger_and_wait(api, "retailnext_video_export", conf)
    assert state == "success", tasks
    assert tasks["wait_deferrable"] == "success" and tasks["download"] == "success"
    files = list(tmp_path.glob("*.mp4"))
    assert len(files) == 1 and files[0].stat().st_size > 0


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs it where it can)")
def test_ui_lists_the_dags_and_shows_the_connection_forms(stack):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{stack.url}/", wait_until="networkidle")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill("admin")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/auth/" not in url, timeout=30_000)
        page.goto(f"{stack.url}/dags?limit=50", wait_until="networkidle")
        page.wait_for_selector("text=ocds_items", timeout=30_000)
        body = page.inner_text("body")
        for dag_id in ("ocds_items", "retailnext_traffic", "retailnext_video_export"):
            assert dag_id in body
        expected = {
            "Oracle Retail OCDS": ["User or OAuth client id", "Password or client secret", "Base path",
                                   "Authentication", "OAuth2 token path"],
            "RetailNext": ["Subscription or base URL", "Access key", "Secret key", "Max concurrent requests"],
        }
        for conn_type, labels in expected.items():
            page.goto(f"{stack.url}/connections", wait_until="networkidle")
            page.get_by_role("button", name="Add Connection").click()
            combo = page.locator("input[role=combobox]").first
            combo.click(force=True)
            combo.fill(conn_type)
            page.wait_for_timeout(500)
            page.keyboard.press("Enter")
            page.wait_for_timeout(800)
            form = page.inner_text("body")  # standard fields (relabelled)
            page.get_by_text("Extra Fields", exact=True).first.click()  # the accordion's other section
            page.wait_for_timeout(800)
            form += page.inner_text("body")
            missing = [label for label in labels if label not in form]
            assert not missing, f"{conn_type} form lacks {missing}"
        browser.close()
