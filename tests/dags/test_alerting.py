"""Alerts through a real local SMTP server (aiosmtpd) and a real local HTTP webhook sink.

Failure alerts come from DAG runs that fail for real (an OCDS DAG against the emulator with
a fault injected, ``RETAIL_TASK_RETRIES=0``); data alerts from real PostgreSQL rows.
"""

from __future__ import annotations

import email
import html
import json
import re
import socket
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from include.devenv import airflow_env

pytestmark = pytest.mark.airflow
DAGS = Path(__file__).resolve().parents[2] / "dags"
BASE_URL = "https://airflow.example.com/"
WEBHOOK_TOKEN = "xoxWebhookT0kenDoNotLeak42"
OCDS_PASSWORD = "ocds_password"  # the emulator's, in the ocds_default connection of conftest


# -- sinks ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        body = message.get_body(("html", "plain")).get_content()
        self.messages.append({
            "from": envelope.mail_from,
            "to": sorted(envelope.rcpt_tos),
            "subject": str(message["Subject"]),
            "text": html.unescape(re.sub(r"<[^>]+>", "", body)),
        })
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(monkeypatch):
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "airflow@example.com",
                  "retry_limit": 0, "timeout": 5},
    }))
    yield sink
    controller.stop()


class WebhookSink(ThreadingHTTPServer):
    """A Slack-compatible incoming webhook: keeps the JSON bodies POSTed to it."""

    daemon_threads = True

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.status = 200
        super().__init__(("127.0.0.1", 0), _WebhookHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/services/T0001/B0001/{WEBHOOK_TOKEN}"


class _WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's hook name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.posts.append({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                  "json": json.loads(body)})
        self.send_response(self.server.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    sink = WebhookSink()
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    yield sink
    sink.shutdown()
    sink.server_close()


@pytest.fixture
def alerting(smtp, webhook, monkeypatch):
    """Both channels configured through the environment, as the compose file does."""
    monkeypatch.setenv("RETAIL_ALERT_EMAIL_TO", "ops@example.com, data@example.com")
    monkeypatch.setenv("RETAIL_ALERT_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", BASE_URL)
    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")
    return smtp, webhook


@pytest.fixture(autouse=True)
def _faults(emulator):
    emulator.state.faults.clear()
    yield
    emulator.state.faults.clear()


def _run(dag_id, conf, logical_date=None):
    run = airflow_env.run_dag(dag_id, conf, logical_date=logical_date)
    return run, {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def _assert_no_secret(text: str) -> None:
    for secret in (OCDS_PASSWORD, WEBHOOK_TOKEN, "/services/T0001/B0001", "hunter2hunter2"):
        assert secret not in text, f"{secret!r} leaked into the alert:\n{text}"


# -- failure alerts ---------------------------------------------------------------------


def test_a_failed_task_alerts_by_email_and_webhook(airflow_connections, emulator, alerting):
    smtp, webhook = alerting
    # the source fails for good (Retry-After: 0 so the hook's own retries do not wait)
    emulator.state.faults.add("status", path="/v2/admin/log", status=500, retry_after="0", times=1000)
    run, states = _run("ocds_admin", {"endpoint": "admin_log", "safety_lag_seconds": 0})
    assert states["sync_admin_log"] == "failed" and "success" not in str(run.state)
    assert states["sync_admin_version"] == "skipped"  # skipped tasks do not alert

    assert len(smtp.messages) == 1 and len(webhook.posts) == 1
    mail, post = smtp.messages[0], webhook.posts[0]
    assert mail["to"] == ["data@example.com", "ops@example.com"]
    assert mail["from"] == "airflow@example.com"
    assert mail["subject"] == f"[Airflow] Task failed: ocds_admin.sync_admin_log ({run.run_id})"
    assert post["content_type"] == "application/json" and set(post["json"]) == {"text"}
    log_link = (f"{BASE_URL}dags/ocds_admin/runs/{quote(run.run_id, safe='')}/tasks/sync_admin_log"
                "?try_number=1")
    for text in (mail["text"], post["json"]["text"]):
        assert "DAG:" in text and "ocds_admin" in text
        assert "Task:" in text and "sync_admin_log" in text
        assert f"Run:           {run.run_id} (manual)" in text
        assert "Try:           1 of 1" in text
        assert "Logical date:  none (manual run)" in text  # a manual run without a logical date
        assert "Window Params: endpoint=admin_log" in text
        assert re.search(r"ServerError: ocds GET http://127\.0\.0\.1:\d+/\S*/v2/admin/log answered HTTP 500", text)
        assert f"Log:           {log_link}" in text
        _assert_no_secret(text)


def test_an_alert_never_contains_a_secret(airflow_connections, emulator, alerting):
    """The error text carries the connection password, the webhook URL with its token and a
    ``password=`` pair (here through the ``since`` Param, which the error quotes back)."""
    smtp, webhook = alerting
    since = f"{OCDS_PASSWORD} {webhook.url} token {WEBHOOK_TOKEN} password=hunter2hunter2"
    logical = datetime(2025, 6, 1, 5, 0, tzinfo=UTC)
    run, states = _run("ocds_admin", {"endpoint": "admin_log", "since": since}, logical_date=logical)
    assert states["sync_admin_log"] == "failed"
    assert len(smtp.messages) == 1 and len(webhook.posts) == 1
    for text in (smtp.messages[0]["text"], webhook.posts[0]["json"]["text"], smtp.messages[0]["subject"]):
        _assert_no_secret(text)
    text = webhook.posts[0]["json"]["text"]
    # a run with a logical date names it and its data interval
    assert "Logical date:  2025-06-01T05:00:00+00:00" in text
    assert f"Data interval: {run.data_interval_start.isoformat()} to {run.data_interval_end.isoformat()}" in text
    assert "InputValidationError: since must be an ISO-8601 timestamp" in text
    assert "(got '*** *** token *** password=***" in text  # what was there, masked


def test_settings_are_read_when_the_alert_fires_and_variables_work_too(airflow_connections, emulator, smtp,
                                                                        webhook, monkeypatch):
    """Nothing configured while the DAG file is parsed; the webhook comes from an Airflow
    Variable set afterwards; e-mail stays off."""
    from retail_provider.orchestration.notifications import RetailFailureNotifier

    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")
    notifier = RetailFailureNotifier()
    monkeypatch.setenv("AIRFLOW_VAR_RETAIL_ALERT_WEBHOOK_URL", webhook.url)
    notifier({"exception": RuntimeError("boom"), "params": {}})
    assert len(webhook.posts) == 1 and not smtp.messages
    assert "RuntimeError: boom" in webhook.posts[0]["json"]["text"]


def test_one_channel_down_does_not_silence_the_other(airflow_connections, alerting):
    from retail_provider.orchestration.notifications import Alert, AlertDeliveryError, AlertSettings, deliver

    smtp, webhook = alerting
    webhook.status = 500
    assert deliver(Alert("subject", "text")) == ["email"]
    assert len(smtp.messages) == 1 and len(webhook.posts) == 1
    # nothing takes it: an error that names the channel, not the webhook URL or its token
    settings = AlertSettings(webhook_url=webhook.url)
    with pytest.raises(AlertDeliveryError) as failure:
        deliver(Alert("subject", "text"), settings)
    assert "webhook answered HTTP 500" in str(failure.value)
    _assert_no_secret(str(failure.value))


def test_no_channel_configured_only_logs(monkeypatch):
    from retail_provider.orchestration.notifications import Alert, deliver

    for name in ("RETAIL_ALERT_EMAIL_TO", "RETAIL_ALERT_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    assert deliver(Alert("subject", "text")) == []


def test_every_task_of_every_dag_alerts_on_failure():
    from airflow.dag_processing.dagbag import DagBag

    from retail_provider.orchestration.notifications import RetailFailureNotifier

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.dags and not bag.import_errors
    for dag in bag.dags.values():
        for task in dag.tasks:
            callbacks = task.on_failure_callback or []
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert any(isinstance(c, RetailFailureNotifier) for c in callbacks), f"{dag.dag_id}.{task.task_id}"


def _alerting_variable(dag_id):
    from airflow.models.variable import Variable

    return Variable.get(f"retail_alerting__{dag_id}", default_var=None)


def test_one_alert_per_failed_run_names_every_failed_task_then_one_recovered(airflow_connections, emulator,
                                                                             alerting):
    smtp, webhook = alerting
    for path in ("/v2/admin/log", "/v2/admin/version"):
        emulator.state.faults.add("status", path=path, status=500, retry_after="0", times=1000)
    run, states = _run("ocds_admin", {"safety_lag_seconds": 0})
    assert states["sync_admin_log"] == states["sync_admin_version"] == "failed"
    assert states["sync_refreshdate"] == "success"

    assert len(smtp.messages) == 1 and len(webhook.posts) == 1  # one alert for the run, not one per task
    mail, text = smtp.messages[0], webhook.posts[0]["json"]["text"]
    assert mail["subject"] == f"[Airflow] DAG run failed: ocds_admin, 2 tasks failed ({run.run_id})"
    assert text.startswith("*[Airflow] DAG run failed: ocds_admin, 2 tasks failed")
    for body in (mail["text"], text):
        assert "DAG run failed: ocds_admin, 2 tasks failed: sync_admin_log, sync_admin_version" in body
        assert "Failed task 1 of 2:" in body and "Failed task 2 of 2:" in body
        for task, path in (("sync_admin_log", "admin/log"), ("sync_admin_version", "admin/version")):
            assert f"Task:          {task}\n" in body
            assert re.search(rf"ServerError: ocds GET \S+/v2/{path} answered HTTP 500", body)
        # the window each task really synced, from the sync ledger (admin/version has none: current state)
        assert re.search(r"Synced window: ocds\.admin_log \[\S+, \S+\) \w+, failed", body)
        assert "Synced window: ocds.admin_version all (current state) snapshot, failed" in body
        assert "sync_refreshdate" not in body
        _assert_no_secret(body)
    assert _alerting_variable("ocds_admin") == run.run_id

    # the next run succeeds: one "recovered" message; the one after says nothing
    emulator.state.faults.clear()
    again, states = _run("ocds_admin", {"safety_lag_seconds": 0})
    assert set(states.values()) == {"success"}
    assert len(smtp.messages) == 2 and len(webhook.posts) == 2
    assert smtp.messages[1]["subject"] == f"[Airflow] Recovered: ocds_admin ({again.run_id})"
    assert f"succeeded again in run {again.run_id}, after the failed run {run.run_id}" in smtp.messages[1]["text"]
    assert _alerting_variable("ocds_admin") is None
    _run("ocds_admin", {"safety_lag_seconds": 0})
    assert len(smtp.messages) == 2 and len(webhook.posts) == 2


def test_a_wrong_password_fails_at_once_without_retries_and_alerts_once(airflow_connections, emulator, alerting,
                                                                        monkeypatch):
    """The DAG keeps its 3 Airflow retries; a 401 does not use them."""
    smtp, webhook = alerting
    monkeypatch.delenv("RETAIL_TASK_RETRIES")
    wrong = airflow_env.ocds_connection(emulator.url, password="wr0ng-Passw0rd-42")
    monkeypatch.setenv("AIRFLOW_CONN_OCDS_DEFAULT", json.dumps(wrong))
    run, states = _run("ocds_admin", {"endpoint": "admin_version"})
    assert states["sync_admin_version"] == "failed" and "success" not in str(run.state)
    ti = next(t for t in run.get_task_instances() if t.task_id == "sync_admin_version")
    assert ti.try_number == 1 and ti.max_tries == 3  # failed on its first try; 3 retries were allowed
    assert len(smtp.messages) == 1 and len(webhook.posts) == 1
    for body in (smtp.messages[0]["text"], webhook.posts[0]["json"]["text"]):
        assert "Task failed: ocds_admin.sync_admin_version" in body
        assert "Try:           1 of 4" in body
        assert re.search(r"AuthenticationError: ocds GET \S+/v2/admin/version answered HTTP 401", body), body
        assert "wr0ng-Passw0rd-42" not in body
        _assert_no_secret(body)


# -- data alerts ------------------------------------------------------------------------


def test_new_unresolved_health_alerts_are_sent(airflow_connections, emulator, warehouse_dsn, alerting):
    from retail_provider.retailnext.data_alerts import notify_new_health_alerts
    from retail_provider.retailnext.health_alerts import sync_health_alerts
    from retail_provider.retailnext.hook import RetailNextHook

    smtp, webhook = alerting
    schema = f"alerts_{uuid.uuid4().hex[:8]}"
    started = datetime.now(UTC) - timedelta(minutes=1)
    store = emulator.state.retailnext.stores()[0]
    created = emulator.state.retailnext.add_alert(store["uuid"], description="Camera 3 offline")
    with RetailNextHook("retailnext_default") as hook, psycopg.connect(warehouse_dsn) as conn:
        new = sync_health_alerts(hook, conn, start_time=started, schema=schema).details["new_alerts"]
        conn.commit()
        again = sync_health_alerts(hook, conn, start_time=started, schema=schema).details["new_alerts"]
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.commit()
    assert [a["uuid"] for a in new] == [created["uuid"]] and again == []

    assert notify_new_health_alerts(new, None) == ["email", "webhook"]
    assert notify_new_health_alerts(again, None) == []  # nothing new: nothing sent
    mail, text = smtp.messages[0], webhook.posts[0]["json"]["text"]
    assert mail["subject"].startswith("[Airflow] RetailNext: 1 new unresolved health alert at ")
    for body in (mail["text"], text):
        assert "Camera 3 offline" in body and created["uuid"] in body and store["uuid"] in body
        assert "[critical] connectiondown" in body
        _assert_no_secret(body)
    assert len(smtp.messages) == 1 and len(webhook.posts) == 1


@pytest.fixture
def traffic_table(warehouse_dsn):
    """A datamine table with points that are complete, still incomplete past the lookback,
    imputed, without validity, and recent (still inside the lookback)."""
    from retail_provider.retailnext.datamine.load import points_spec
    from retail_provider.warehouse.ddl import ensure_table

    schema = f"stale_{uuid.uuid4().hex[:8]}"
    today = date(2025, 6, 20)
    old, older, recent = datetime(2025, 6, 10), datetime(2025, 6, 2), datetime(2025, 6, 18)
    rows = [
        ("store-a", "traffic_in", old, "complete"),
        ("store-a", "traffic_in", old + timedelta(hours=1), "incomplete"),
        ("store-a", "traffic_in", older, "incomplete"),
        ("store-a", "traffic_out", old, "imputed"),
        ("store-b", "traffic_in", old, None),
        ("store-b", "traffic_in", recent, "incomplete"),  # inside the lookback: still re-read
        ("store-c", "traffic_in", older, "complete"),
    ]
    with psycopg.connect(warehouse_dsn) as conn:
        spec = points_spec("traffic_daily", schema=schema)
        ensure_table(conn, spec)
        conn.commit()
        for location, metric, start, validity in rows:
            conn.execute(
                f'INSERT INTO "{schema}".traffic_daily (location_uuid, metric, time_zone, period_start, slot, '
                "period_end, value, validity) VALUES (%s, %s, '', %s, '', %s, 1, %s)",
                (location, metric, start, start + timedelta(days=1), validity),
            )
        conn.commit()
    yield schema, today
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_stale_validity_is_found_in_the_table(warehouse_dsn, traffic_table):
    from retail_provider.retailnext.data_alerts import check_stale_validity

    schema, today = traffic_table
    with psycopg.connect(warehouse_dsn) as conn:
        rows = check_stale_validity(conn, "traffic_daily", 7, schema=schema, today=today)
        assert [(r.location_uuid, r.metric, r.validity, r.points) for r in rows] == [
            ("store-a", "traffic_in", "incomplete", 2),
            ("store-a", "traffic_out", "imputed", 1),
            ("store-b", "traffic_in", "incomplete", 1),
        ]
        assert rows[0].first_period == datetime(2025, 6, 2) and rows[0].last_period == datetime(2025, 6, 10, 1)
        # only the days that just crossed the lookback (a daily DAG reports each once)
        recent = check_stale_validity(conn, "traffic_daily", 7, schema=schema, today=today, horizon_days=4)
        assert {(r.location_uuid, r.points) for r in recent} == {("store-a", 1), ("store-b", 1)}
        assert all(r.first_period >= datetime(2025, 6, 9) for r in recent)
        # a longer lookback: nothing is stale yet; no table yet: nothing either
        assert check_stale_validity(conn, "traffic_daily", 30, schema=schema, today=today) == []
        assert check_stale_validity(conn, "traffic_hourly", 7, schema=schema, today=today) == []
        with pytest.raises(ValueError):
            check_stale_validity(conn, "traffic_daily; DROP TABLE x", 7, schema=schema)


def test_stale_validity_is_sent(warehouse_dsn, traffic_table, alerting):
    from retail_provider.retailnext.data_alerts import check_stale_validity, notify_stale_validity

    smtp, webhook = alerting
    schema, today = traffic_table
    with psycopg.connect(warehouse_dsn) as conn:
        rows = check_stale_validity(conn, "traffic_daily", 7, schema=schema, today=today)
    context = {"ti": _FakeTi(), "run_id": "scheduled__2025-06-20T06:00:00+00:00",
               "logical_date": datetime(2025, 6, 19, 6, tzinfo=UTC), "params": {}}
    assert notify_stale_validity(rows, context, table="traffic_daily", lookback_days=7, schema=schema) == [
        "email", "webhook"]
    assert notify_stale_validity([], context) == []
    mail, text = smtp.messages[0], webhook.posts[0]["json"]["text"]
    assert mail["subject"] == ("[Airflow] RetailNext traffic_daily: 4 points at 2 locations still not complete "
                               "after 7 days")
    for body in (mail["text"], text):
        assert f"{schema}.traffic_daily" in body
        assert "- store-a traffic_in: 2 incomplete points, 2025-06-02T00:00:00 to 2025-06-10T01:00:00" in body
        assert "- store-b traffic_in: 1 incomplete point," in body
        assert "DAG:" in body and "retailnext_traffic" in body
        assert (f"{BASE_URL}dags/retailnext_traffic/runs/{quote(context['run_id'], safe='')}"
                "/tasks/alert_stale_validity?try_number=1") in body


def test_data_alerts_name_the_stores(warehouse_dsn, traffic_table, alerting):
    """Once the locations are synced, a stale-validity alert names each store, not only its uuid."""
    from retail_provider.retailnext.data_alerts import check_stale_validity, notify_stale_validity
    from retail_provider.retailnext.tables import spec_for
    from retail_provider.warehouse.ddl import ensure_table

    smtp, webhook = alerting
    schema, today = traffic_table
    with psycopg.connect(warehouse_dsn) as conn:
        ensure_table(conn, spec_for("locations", schema))
        conn.execute(f'INSERT INTO "{schema}".locations (uuid, name, _scope, _action) VALUES '
                     "('store-a', 'Downtown Boston', '', 'UPSERT')")
        conn.commit()
        rows = check_stale_validity(conn, "traffic_daily", 7, schema=schema, today=today)
    assert [(r.location_uuid, r.location_name) for r in rows] == [
        ("store-a", "Downtown Boston"), ("store-a", "Downtown Boston"), ("store-b", None)]
    notify_stale_validity(rows, None, table="traffic_daily", lookback_days=7, schema=schema)
    for body in (smtp.messages[0]["text"], webhook.posts[0]["json"]["text"]):
        assert "- Downtown Boston (store-a) traffic_in: 2 incomplete points, 2025-06-02T00:00:00" in body
        assert "- store-b traffic_in: 1 incomplete point," in body  # not synced: the uuid alone


class _FakeTi:
    """The few task instance attributes an alert reads (a data alert sent from a task)."""

    dag_id = "retailnext_traffic"
    task_id = "alert_stale_validity"
    run_id = "scheduled__2025-06-20T06:00:00+00:00"
    try_number = 1
    map_index = -1
    max_tries = 3
