"""DAG integrity: the DAG folder parses without errors and every DAG follows our conventions."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_every_file_defines_a_dag(dagbag):
    files = {Path(d.fileloc).name for d in dagbag.dags.values()}
    assert files == {p.name for p in DAGS.glob("*.py") if not p.name.startswith("_")}


def _dag_ids():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    return sorted((d.dag_id, Path(d.fileloc).name) for d in bag.dags.values())


@pytest.mark.parametrize(("dag_id", "fileloc"), _dag_ids(), ids=lambda v: str(v))
def test_conventions(dagbag, dag_id, fileloc):
    dag = dagbag.dags[dag_id]
    assert dag.tags, f"{fileloc}: no tags"
    assert dag.doc_md and len(dag.doc_md) > 100, f"{fileloc}: no doc_md"
    assert dag.max_active_runs == 1 or dag_id.endswith("_video_export"), f"{fileloc}: runs may overlap"
    assert "endpoint" in dag.params or "since" in dag.params or dag.params, f"{fileloc}: no Params"
    writes = "writes" in dag.tags  # writes to RetailNext are deliberately not retried by Airflow
    for task in dag.tasks:
        assert task.owner not in (None, "", "airflow"), f"{fileloc}:{task.task_id}: no owner"
        if writes:
            assert task.retries == 0, f"{fileloc}:{task.task_id}: a write must not be retried blindly"
        else:
            assert task.retries >= 1, f"{fileloc}:{task.task_id}: no retries"


def test_ocds_dags_cover_all_23_endpoints(dagbag):
    from retail_provider.ocds.catalog import ENDPOINTS

    covered = {
        t.endpoint for d in dagbag.dags.values() if d.dag_id.startswith("ocds_") for t in d.tasks
        if hasattr(t, "endpoint")
    }
    assert covered == set(ENDPOINTS)


def test_ocds_prices_has_one_task_per_price_type(dagbag):
    tasks = dagbag.dags["ocds_prices"].tasks
    assert sorted(t.filters["pricetype"] for t in tasks) == ["CLEARANCE", "INITIAL", "REGULAR"]
