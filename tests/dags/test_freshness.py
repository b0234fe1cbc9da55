"""Freshness: the retail_meta.table_freshness view over real syncs, and the data alert of the
``retail_freshness`` DAG (run through Airflow) when a table falls behind its expectation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from include.devenv import airflow_env
from tests.dags import test_alerting as sinks
from tests.dags.watermarks import restored_watermarks

alerting, smtp, webhook = sinks.alerting, sinks.smtp, sinks.webhook  # the real SMTP and webhook sink fixtures

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module", autouse=True)
def _watermarks_as_found():
    with restored_watermarks():
        yield


@pytest.fixture(autouse=True)
def _setup(emulator, monkeypatch):
    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")
    emulator.state.faults.clear()
    yield
    emulator.state.faults.clear()


def _freshness(dsn, table):
    from retail_provider.orchestration.freshness import read_freshness

    with psycopg.connect(dsn) as conn:
        return next(r for r in read_freshness(conn) if r.table_name == table)


def test_the_view_shows_last_sync_watermark_lag_and_last_error(airflow_connections, emulator, warehouse_dsn):
    started = datetime.now(UTC)
    run = airflow_env.run_dag("ocds_reference", {"endpoint": "vat", "safety_lag_seconds": 0})
    assert "success" in str(run.state)
    row = _freshness(warehouse_dsn, "ocds.vat")
    assert row.vendor == "ocds" and row.last_status == "success" and row.last_sync_at >= started
    assert started <= row.watermark <= row.last_sync_at + timedelta(seconds=5)  # the window's end
    assert timedelta(0) <= row.lag < timedelta(minutes=5)

    emulator.state.faults.add("status", path="/v2/vat", status=500, retry_after="0", times=1000)
    run = airflow_env.run_dag("ocds_reference", {"endpoint": "vat", "safety_lag_seconds": 0})
    assert "failed" in str(run.state)
    failed = _freshness(warehouse_dsn, "ocds.vat")
    assert failed.last_status == "failed" and "answered HTTP 500" in failed.last_error
    assert failed.watermark == row.watermark and failed.last_success_at == row.last_success_at  # unchanged


def test_a_table_behind_its_expectation_is_alerted_once(airflow_connections, emulator, warehouse_dsn, alerting):
    mails, posts = alerting
    assert "success" in str(airflow_env.run_dag("ocds_reference", {"endpoint": "diff_group",
                                                                   "safety_lag_seconds": 0}).state)
    mails.messages.clear()  # (a "recovered" message, should the DAG's last run have failed)
    posts.posts.clear()
    expectation = {"*": 10_000, "ocds.diff_group": 0.0001}  # 0.36 s: the table is behind by now
    run = airflow_env.run_dag("retail_freshness", {"max_lag_hours": expectation})
    assert "success" in str(run.state)
    assert len(mails.messages) == 1 and len(posts.posts) == 1
    mail, text = mails.messages[0], posts.posts[0]["json"]["text"]
    assert mail["subject"] == "[Airflow] Freshness: 1 warehouse table behind: ocds.diff_group"
    for body in (mail["text"], text):
        assert "- ocds.diff_group: data up to 20" in body and "(expected at most 0.0 h)" in body
        assert "retail_meta.table_freshness" in body and "DAG:           retail_freshness" in body

    # still behind: not alerted again; caught up and behind again: alerted again
    airflow_env.run_dag("retail_freshness", {"max_lag_hours": expectation})
    assert len(mails.messages) == 1
    airflow_env.run_dag("retail_freshness", {"max_lag_hours": {"*": 10_000}})
    airflow_env.run_dag("retail_freshness", {"max_lag_hours": expectation})
    assert len(mails.messages) == 2 and "ocds.diff_group" in mails.messages[1]["subject"]


def test_the_expectation_is_checked_before_anything_runs():
    from retail_provider.orchestration.freshness import max_lags

    assert max_lags(None) == {"*": 26.0}
    assert max_lags('{"ocds.item": 3}') == {"*": 26.0, "ocds.item": 3.0}
    for bad in ('{"ocds.item": 0}', '{"ocds.item": "3h"}', "[1]"):
        with pytest.raises(ValueError, match="retail_freshness_max_lag_hours"):
            max_lags(bad)
