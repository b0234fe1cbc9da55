"""An endpoint split per node scope into mapped tasks, run through Airflow (``dag.test``).

The DAG folder's ``ocds_inventory_by_region`` splits per region by default; the test
emulator has one region only, so the run splits per store (Param ``level``).
"""

from __future__ import annotations

import psycopg
import pytest

from include.devenv import airflow_env
from retail_provider.ocds.catalog import get_endpoint
from retail_provider.ocds.operators import watermark_key
from tests.support import assert_table_equals_truth

pytestmark = pytest.mark.airflow


@pytest.fixture(autouse=True)
def _setup(emulator, airflow_connections, monkeypatch):
    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")
    emulator.state.faults.clear()


def test_each_node_scope_is_a_mapped_task_with_its_own_watermark(emulator, warehouse_dsn):
    from airflow.models.variable import Variable

    stores = sorted({int(n["hierarchynodeid"]) for n in emulator.state.ocds.truth("orghier")
                     if n["hierarchylevel"] == "STORE"})[:2]
    assert len(stores) == 2
    run = airflow_env.run_dag("ocds_inventory_by_region", {"level": "STORE", "nodes": 2, "safety_lag_seconds": 0})
    states = sorted((ti.task_id, ti.map_index, str(ti.state)) for ti in run.get_task_instances())
    assert "success" in str(run.state), states
    assert [(t, i) for t, i, _ in states] == [("list_nodes", -1), ("sync_node", 0), ("sync_node", 1)]
    endpoint = get_endpoint("inventory_store")
    with psycopg.connect(warehouse_dsn) as conn:
        for store in stores:
            filters = {"nodelevel": "STORE", "nodeid": str(store)}
            truth = emulator.state.ocds.truth("inventory_store", **filters)
            assert truth, f"store {store} has no inventory in the emulator"
            assert_table_equals_truth(conn, endpoint, truth, "ocds", filters)
            assert Variable.get(watermark_key(endpoint, filters), default_var=None)
