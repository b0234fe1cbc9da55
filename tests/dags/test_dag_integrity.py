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


@pytest.mark.parametrize(("dag_id", "fileloc"), _dag_ids(), ids=lambda v: str(v))
def test_every_dag_has_a_description_and_every_param_a_title_and_a_description(dagbag, dag_id, fileloc):
    dag = dagbag.dags[dag_id]
    assert dag.description and len(dag.description) > 5, f"{fileloc}: no description"
    for name, param in dag.params.items():
        param = dag.params.get_param(name)
        assert param.schema.get("title"), f"{fileloc}: Param {name} has no title"
        assert param.description and len(param.description) > 10, f"{fileloc}: Param {name} has no description"
    for name in ("since", "before", "start", "end", "adjustment_time"):
        if name in dag.params:
            assert dag.params.get_param(name).schema.get("format") == "date-time", f"{fileloc}: {name} is not a date-time"


def test_the_task_selection_names_each_endpoint_once_and_allows_several(dagbag):
    from airflow.sdk import Param

    prices = dagbag.dags["ocds_prices"].params.get_param("endpoint")
    assert prices.schema["examples"] == ["item_price", "sync_item_price_clearance", "sync_item_price_initial",
                                         "sync_item_price_regular"]
    items = dagbag.dags["ocds_items"].params.get_param("endpoint")
    assert items.schema["examples"] == ["item", "item_image", "item_itemlocation", "item_relateditem", "item_upc"]
    assert items.resolve(["item", "item_upc"]) == ["item", "item_upc"]  # several
    assert items.resolve("item") == "item"  # one, as text (a run's configuration)
    for bad in (["item", "nope"], "sync_item", ["item", "item"]):
        with pytest.raises(Exception, match="(?i)valid"):
            Param(**{"default": bad, "description": items.description, **items.schema}).resolve()
    resources = dagbag.dags["retailnext_users"].params.get_param("resource")
    assert resources.schema["examples"] == ["location_profiles", "user_profiles", "users"]
