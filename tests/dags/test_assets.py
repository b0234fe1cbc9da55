"""Warehouse tables as Assets: every table is published by the task that writes it, a real run
records the asset events, a DAG can be scheduled on them, and lineage names both ends."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from include.devenv import airflow_env

pytestmark = pytest.mark.airflow
DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert not bag.import_errors
    return bag


def _outlets(dagbag) -> dict[str, set[str]]:
    """asset name -> the tasks (dag.task) that publish it."""
    out: dict[str, set[str]] = {}
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            for asset in task.outlets:
                out.setdefault(asset.name, set()).add(f"{dag.dag_id}.{task.task_id}")
    return out


def test_every_warehouse_table_is_an_asset_of_the_task_that_writes_it(dagbag):
    from retail_provider.ocds.catalog import ENDPOINTS
    from retail_provider.retailnext.tables import RESOURCES

    outlets = _outlets(dagbag)
    ocds = {f"ocds.{e.table}" for e in ENDPOINTS.values()}
    retailnext = {f"retailnext.{t}" for tables in RESOURCES.values() for t in tables}
    retailnext |= {"retailnext.traffic_daily", "retailnext.traffic_hourly", "retailnext.occupancy"}
    missing = sorted((ocds | retailnext) - set(outlets))
    assert not missing, f"tables no task publishes: {missing}"
    assert outlets["ocds.item"] == {"ocds_items.sync_item"}
    assert outlets["ocds.item_price"] == {f"ocds_prices.sync_item_price_{t}" for t in ("initial", "regular", "clearance")}
    assert outlets["retailnext.fpa_zones"] == {"retailnext_floorplans.sync_floorplans"}
    assert outlets["retailnext.traffic_daily"] == {"retailnext_traffic.load"}  # a mapped task too (one per grain)
    task = dagbag.dags["ocds_items"].task_dict["sync_item"]
    (asset,) = task.outlets
    assert (asset.name, asset.uri, asset.group) == ("ocds.item", "x-retail-warehouse://warehouse_default/ocds/item",
                                                     "retail-warehouse")
    # tasks that write no table publish nothing
    assert not dagbag.dags["retailnext_video_export"].task_dict["download"].outlets


def test_the_example_mart_is_scheduled_on_the_locations_table(dagbag):
    from airflow.sdk import Asset

    from retail_provider.orchestration.assets import table_asset

    dag = dagbag.dags["example_store_directory"]
    condition = dag.timetable.asset_condition
    assets = [condition] if isinstance(condition, Asset) else list(condition.objects)
    assert [a.name for a in assets] == ["retailnext.locations"]
    assert table_asset("retailnext.locations") in _assets_of(dagbag.dags["retailnext_locations"])


def _assets_of(dag):
    return [a for t in dag.tasks for a in t.outlets]


def _asset_events(name: str) -> list[str]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return list(session.scalars(select(AssetEvent.source_task_id).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                                    .where(AssetModel.name == name)))


def test_a_successful_sync_records_an_asset_event_and_the_mart_consumes_the_table(
        airflow_connections, emulator, warehouse_dsn, monkeypatch):
    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")
    before = len(_asset_events("retailnext.locations"))
    skipped_before = len(_asset_events("retailnext.store_hours"))
    run = airflow_env.run_dag("retailnext_locations", {"resource": "locations"})
    assert "success" in str(run.state)
    assert _asset_events("retailnext.locations")[before:] == ["sync_locations"]
    assert len(_asset_events("retailnext.store_hours")) == skipped_before  # a skipped task publishes nothing

    run = airflow_env.run_dag("example_store_directory", {"schema": "marts_test"})
    assert "success" in str(run.state)
    stores = emulator.state.retailnext.stores()
    with psycopg.connect(warehouse_dsn) as conn:
        rows = conn.execute("SELECT store_uuid, store_name FROM marts_test.store_directory").fetchall()
        conn.execute("DROP SCHEMA marts_test CASCADE")
    assert sorted(rows) == sorted((s["uuid"], s["name"]) for s in stores)


def test_lineage_names_the_endpoint_in_and_the_table_out(airflow_connections, warehouse_dsn):
    from airflow.sdk import BaseHook

    from retail_provider.orchestration.assets import LineageDataset, lineage_datasets, operator_lineage

    warehouse = BaseHook.get_connection("warehouse_default")
    inputs, outputs = lineage_datasets("https://ocds.example.com:8443/ords/ocds/omnichannel/", ["item_price"],
                                       warehouse, ["ocds.item_price"])
    info = psycopg.conninfo.conninfo_to_dict(warehouse_dsn)
    assert inputs == [LineageDataset("https://ocds.example.com:8443", "ords/ocds/omnichannel/item_price")]
    assert outputs == [LineageDataset(f"postgres://{info.get('host') or 'localhost'}:{info.get('port') or 5432}",
                                      f"{info['dbname']}.ocds.item_price")]
    lineage = operator_lineage(inputs, outputs)
    try:
        import airflow.providers.openlineage  # noqa: F401
    except ImportError:
        assert lineage is None  # the provider is optional: without it, no lineage and no error
    else:
        assert [(d.namespace, d.name) for d in lineage.inputs] == [(i.namespace, i.name) for i in inputs]
        assert [(d.namespace, d.name) for d in lineage.outputs] == [(o.namespace, o.name) for o in outputs]
