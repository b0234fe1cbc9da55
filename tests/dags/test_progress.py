"""Live progress of real runs (``dag.test`` against the emulator): the log lines every sync
writes at INFO, whatever the vendor, and the metrics it sends through Airflow's own stats."""

from __future__ import annotations

import re

import pytest

from include.devenv import airflow_env
from tests.dags.watermarks import restored_watermarks

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module", autouse=True)
def _watermarks_as_found():
    with restored_watermarks():
        yield
NUMBER = r"[\d,]+"


@pytest.fixture(autouse=True)
def _setup(emulator, monkeypatch):
    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")
    emulator.state.faults.clear()
    yield
    emulator.state.faults.clear()


def _run(dag_id, conf, capfd):
    capfd.readouterr()
    run = airflow_env.run_dag(dag_id, conf)
    out = capfd.readouterr()
    assert "success" in str(run.state), out.out[-3000:]
    return out.out + out.err


def _count(text: str) -> int:
    return int(text.replace(",", ""))


def _recorder():
    from airflow.sdk._shared.observability.metrics.base_stats_logger import NoStatsLogger

    class Recorder(NoStatsLogger):
        """An Airflow stats backend that keeps what it is sent (``stats.initialize`` takes a factory)."""

        def __init__(self):
            self.counts: dict[str, int] = {}
            self.timings: dict[str, float] = {}
            self.tags: dict[str, dict] = {}

        def incr(self, stat, count=1, rate=1, *, tags=None):
            self.counts[stat] = self.counts.get(stat, 0) + count
            self.tags[stat] = tags or {}

        def timing(self, stat, dt, *, tags=None):
            self.timings[stat] = dt
            self.tags[stat] = tags or {}

    return Recorder()


@pytest.fixture
def metrics():
    from airflow.sdk.observability import stats
    from airflow.sdk.observability.metrics.stats_utils import get_stats_factory

    recorder = _recorder()
    stats.initialize(factory=lambda: recorder, export_legacy_names=False)
    yield recorder
    stats.initialize(factory=get_stats_factory(), export_legacy_names=False)


def test_an_ocds_sync_logs_start_progress_and_a_summary_in_words(airflow_connections, emulator, monkeypatch,
                                                                 capfd, metrics):
    monkeypatch.setenv("RETAIL_PROGRESS_SECONDS", "0")  # a progress line at every page
    truth = len(emulator.state.ocds.truth("merchhier"))
    log = _run("ocds_locations", {"endpoint": "merchhier", "full_refresh": True, "safety_lag_seconds": 0,
                                  "page_size": 5}, capfd)
    start = re.search(r"Sync started: ocds merchhier, scope all, window \[1970-01-01T00:00:00\+00:00, (\S+)\), "
                      r"mode full, into ocds\.merchhier", log)
    assert start, log[-3000:]
    progress = re.findall(rf"Progress: ({NUMBER}) pages, ({NUMBER}) rows, {NUMBER} rows/s after [\d.]+ s", log)
    assert len(progress) >= truth // 5  # one per page at least
    assert [_count(p) for p, _ in progress] == sorted(_count(p) for p, _ in progress)  # counts only grow
    summary = re.search(rf"Synced ocds\.merchhier \(full\): ({NUMBER}) rows read in ({NUMBER}) pages, ({NUMBER}) changed, "
                        rf"({NUMBER}) unchanged, 0 deleted", log)
    assert summary, log[-3000:]
    rows, pages, changed, unchanged = map(_count, summary.groups())
    assert rows == truth and changed + unchanged == truth and pages == -(-truth // 5)
    assert re.search(rf"Sync finished in [\d.]+ s: {pages} pages, {rows} rows \({NUMBER} rows/s\), ", log)
    assert log.index(start.group(0)) < log.index("Progress:") < log.index(summary.group(0))

    # the next run applies 3 inserts, 2 updates and 1 delete: said in words, and counted as metrics
    emulator.state.ocds.mutate("merchhier", inserts=3, updates=2, deletes=1, seed=11)
    log = _run("ocds_locations", {"endpoint": "merchhier", "safety_lag_seconds": 0}, capfd)
    assert re.search(r"Sync started: ocds merchhier, scope all, window \[\S+, \S+\), mode incremental, "
                     r"into ocds\.merchhier", log)
    assert re.search(r"Synced ocds\.merchhier \(incremental\): 6 rows read in 1 pages, 5 changed, 0 unchanged, "
                     r"1 deleted", log), log[-3000:]
    metric = "retail_sync.ocds.merchhier."
    assert metrics.counts[metric + "rows.changed"] == changed + 5
    assert metrics.counts[metric + "rows.deleted"] == 1
    assert metrics.counts[metric + "rows.delete"] == 1  # the source's action
    # every page the sync fetched: the second run read v2/refreshdate (one page) before its one page of changes
    assert metrics.counts[metric + "pages"] == pages + 2
    assert metrics.timings[metric + "seconds"] > 0
    assert metrics.tags[metric + "rows.changed"] == {"vendor": "ocds", "endpoint": "merchhier",
                                                     "table": "ocds.merchhier"}


def test_a_retailnext_sync_logs_the_same_lines(airflow_connections, emulator, monkeypatch, capfd):
    """RetailNext reads a whole snapshot first, then writes: pages show while it reads."""
    monkeypatch.setenv("RETAIL_PROGRESS_SECONDS", "0")
    locations = len(emulator.state.retailnext.truth("locations"))
    log = _run("retailnext_locations", {"resource": "locations"}, capfd)
    assert "Sync started: retailnext locations, scope all, window all (current state), mode snapshot, " \
           "into retailnext.locations" in log, log[-3000:]
    assert re.search(r"Progress: [1-9][\d,]* pages, 0 rows, 0 rows/s", log)
    assert re.search(rf"Synced retailnext\.locations \(snapshot\): {locations:,} rows read in {NUMBER} pages, "
                     rf"{NUMBER} changed, {NUMBER} unchanged, 0 deleted", log), log[-3000:]
    assert re.search(r"Sync finished in [\d.]+ s: ", log)


def test_progress_lines_are_at_most_every_few_seconds(airflow_connections, emulator, monkeypatch, capfd):
    monkeypatch.setenv("RETAIL_PROGRESS_SECONDS", "3600")
    log = _run("ocds_reference", {"endpoint": "vat", "full_refresh": True, "safety_lag_seconds": 0,
                                  "page_size": 1}, capfd)
    assert "Sync started: ocds vat" in log and "Synced ocds.vat (full)" in log
    assert "Progress:" not in log
