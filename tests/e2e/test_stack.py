"""The native Airflow topology (`make airflow`) used as a user would: REST API and the UI.

Starts api-server, scheduler, dag-processor, triggerer and (with Redis) a Celery worker on
a PostgreSQL metadata database, plus the emulator; triggers DAGs through Airflow's REST
API, waits for them, checks the warehouse; and drives the UI in headless Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's hook name
        self.server.posts.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))["text"])
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def alerts():
    """A Slack-compatible webhook the stack's alerts go to (the stack reads the environment)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    server.posts = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["RETAIL_ALERT_WEBHOOK_URL"] = f"http://127.0.0.1:{server.server_address[1]}/hooks/e2e"
    yield server.posts
    os.environ.pop("RETAIL_ALERT_WEBHOOK_URL", None)
    server.shutdown()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, alerts):
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
    return _run_and_wait(api, dag_id, conf, timeout)[1:]


def _run_and_wait(api, dag_id, conf, timeout=300):
    """Unpause, trigger and wait: ``(run_id, state, {task_id: state})``."""
    assert api.patch(f"/dags/{dag_id}", json={"is_paused": False}).status_code == 200
    response = api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
    assert response.status_code == 200, response.text
    run_id = response.json()["dag_run_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"]
        if state in ("success", "failed"):
            tasks = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
            return run_id, state, {t["task_id"]: t["state"] for t in tasks}
        time.sleep(2)
    raise AssertionError(f"{dag_id} run {run_id} did not finish in {timeout}s")


def _wait_for(condition, timeout=120, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"{what} did not happen in {timeout}s")


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


def test_connections_are_stored_listed_and_testable(stack, api):
    """``make airflow`` stores its connections in the metadata DB: the REST API (and so the UI)
    lists them, and their Test button (``test_connection`` of the hooks) works."""
    listed = {c["connection_id"]: c["conn_type"] for c in api.get("/connections", params={"limit": 100}).json()
              ["connections"]}
    assert {"ocds_default": "ocds", "retailnext_default": "retailnext", "warehouse_default": "postgres"}.items() \
        <= listed.items()
    for conn_id, conn_type in (("ocds_default", "ocds"), ("retailnext_default", "retailnext")):
        result = api.post("/connections/test", json={"connection_id": conn_id, "conn_type": conn_type}).json()
        assert result["status"] is True, result


def test_a_wrong_password_fails_at_once_alerts_once_and_recovers(stack, api, alerts):
    """The DAG keeps its Airflow retries; a 401 does not use them. One alert for the failed run
    (sent by the DAG processor), then "recovered" when the next run succeeds."""
    def set_password(password):
        response = api.patch("/connections/ocds_default", params={"update_mask": "password"},
                             json={"connection_id": "ocds_default", "conn_type": "ocds", "password": password})
        assert response.status_code == 200, response.text

    def idle():  # unpausing created the scheduled run of the last interval: let it finish first
        runs = api.get("/dags/ocds_admin/dagRuns", params={"limit": 50}).json()["dag_runs"]
        return all(r["state"] in ("success", "failed") for r in runs)

    assert _trigger_and_wait(api, "ocds_admin", {"endpoint": ["admin_version"]})[0] == "success"
    _wait_for(idle, what="ocds_admin's runs to finish")
    set_password("wr0ng-e2e-Passw0rd")
    try:
        tested = api.post("/connections/test", json={"connection_id": "ocds_default", "conn_type": "ocds"}).json()
        assert tested["status"] is False and "401" in tested["message"] and "wr0ng" not in tested["message"]
        failed_run, state, tasks = _run_and_wait(api, "ocds_admin", {"endpoint": ["admin_version"]})
        assert state == "failed" and tasks["sync_admin_version"] == "failed"
        ti = api.get(f"/dags/ocds_admin/dagRuns/{failed_run}/taskInstances/sync_admin_version").json()
        assert ti["try_number"] == 1 and ti["max_tries"] >= 1  # failed on its first try, retries left unused
        (alert,) = _wait_for(lambda: [p for p in alerts if f"({failed_run})" in p.splitlines()[0]],
                             what="the run's alert")
        assert "Task failed: ocds_admin.sync_admin_version" in alert and "AuthenticationError" in alert
        assert "Try:           1 of " in alert and "wr0ng" not in alert
    finally:
        set_password("ocds_password")
    run_id, state, _ = _run_and_wait(api, "ocds_admin", {"endpoint": ["admin_version"]})
    assert state == "success"
    recovered = _wait_for(lambda: [p for p in alerts if "Recovered: ocds_admin" in p and run_id in p],
                          what="the recovered message")
    assert len(recovered) == 1 and f"after the failed run {failed_run}" in recovered[0]
    assert len([p for p in alerts if f"({failed_run})" in p.splitlines()[0]]) == 1  # alerted once


def test_an_asset_event_triggers_the_example_mart(stack, api):
    """``sync_locations`` publishes ``retailnext.locations``; the example DAG scheduled on it runs."""
    assert api.patch("/dags/example_store_directory", json={"is_paused": False}).status_code == 200
    state, _ = _trigger_and_wait(api, "retailnext_locations", {"resource": ["locations"]})
    assert state == "success"

    def mart_run():
        runs = api.get("/dags/example_store_directory/dagRuns", params={"limit": 10}).json()["dag_runs"]
        return [r for r in runs if r["run_type"] == "asset_triggered" and r["state"] in ("success", "failed")]

    (run,) = _wait_for(mart_run, timeout=180, what="an asset-triggered run of example_store_directory")
    assert run["state"] == "success"
    with psycopg.connect(stack.warehouse_dsn) as conn:
        stores = conn.execute("SELECT count(*) FROM marts.store_directory").fetchone()[0]
    truth = _emulator(stack, "retailnext/truth/stores")
    assert stores == len(truth.get("rows", truth) if isinstance(truth, dict) else truth)


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


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs it where it can)")
def test_ui_connections_test_button_and_params_form(stack):
    """Admin > Connections lists the stored connections with their Test button enabled; the OCDS
    dropdowns offer only real choices; the trigger form has titled Params, a multi-select of
    endpoints (each once) and date-time pickers."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(f"{stack.url}/", wait_until="networkidle")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill("admin")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/auth/" not in url, timeout=30_000)

        page.goto(f"{stack.url}/connections", wait_until="networkidle")
        page.wait_for_selector("text=ocds_default", timeout=30_000)
        body = page.inner_text("body")
        assert all(c in body for c in ("ocds_default", "retailnext_default", "warehouse_default"))
        row = page.locator("tr", has_text="retailnext_default")
        button = row.get_by_role("button", name="Test Connection")
        assert button.is_enabled()  # what it runs is shown through the REST API in the test above

        page.locator("tr", has_text="ocds_default").get_by_role("button", name="Edit Connection").click()
        page.get_by_text("Extra Fields", exact=True).first.click()
        page.wait_for_timeout(800)
        page.get_by_role("dialog").get_by_role("combobox").nth(1).click(force=True)  # Protocol
        page.wait_for_timeout(500)
        assert page.get_by_role("option").all_inner_texts() == ["https", "http"]  # no "null"
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")

        page.goto(f"{stack.url}/dags/ocds_items", wait_until="networkidle")
        page.get_by_role("button", name="Trigger").first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Run Parameters").wait_for(timeout=30_000)
        form = dialog.inner_text()
        for text in ("Endpoints", "Sync only these endpoints (several allowed)", "Since", "Before",
                     "Safety lag seconds", "Page size"):
            assert text in form, f"the trigger form lacks {text!r}"
        assert form.count("Select date and time") == 2  # since and before: date-time pickers
        dialog.get_by_text("Select one or multiple values").click(force=True)
        page.wait_for_timeout(500)
        assert page.get_by_role("option").all_inner_texts() == ["item", "item_image", "item_itemlocation",
                                                                "item_relateditem", "item_upc"]
        browser.close()
