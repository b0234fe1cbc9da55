"""The rest of issue 10 through Airflow: a top-level region created under the subscription
uuid, the 5-year/2-year rule counting the stores inside a region, both v1 location shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from include.devenv import airflow_env
from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext.datamine.operator import DatamineToPostgresOperator
from retail_provider.retailnext.models import Location

pytestmark = pytest.mark.airflow


@pytest.fixture(autouse=True)
def _fresh(monkeypatch, emulator):
    monkeypatch.setenv("RETAIL_TASK_RETRIES", "0")
    emulator.state.retailnext.reset()
    yield
    emulator.state.retailnext.reset()


def _run(dag_id, conf):
    run = airflow_env.run_dag(dag_id, conf)
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


@pytest.mark.parametrize("parent", ["organization", "subscription uuid"])
def test_a_top_level_region_is_created_under_the_subscription(airflow_connections, emulator, warehouse_dsn, parent):
    rn = emulator.state.retailnext
    org = rn.subscription_uuid
    fields = {"name": "Region West", "location_type": "region",
              "parent_uuid": "organization" if parent == "organization" else org}
    states = _run("retailnext_location_admin", {"action": "create", "fields": fields, "dry_run": False})
    assert states["create"] == "success", states
    created = [x for x in rn.locations() if x["name"] == "Region West"]
    assert len(created) == 1 and created[0]["parent_uuid"] == org and created[0]["location_type"] == "region"


def test_a_sublocation_is_not_created_at_the_top(airflow_connections, emulator, warehouse_dsn):
    rn = emulator.state.retailnext
    n = len(rn.locations())
    fields = {"name": "Door", "location_type": "entrance", "parent_uuid": rn.subscription_uuid}
    states = _run("retailnext_location_admin", {"action": "create", "fields": fields, "dry_run": False})
    assert states["create"] == "failed" and len(rn.locations()) == n


def test_the_two_year_rule_counts_the_stores_inside_a_region(airflow_connections, emulator):
    """One region holding several stores is "several stores": 3 years are refused before any
    datamine call (the API would answer 400); a single store may have 3 years."""
    rn = emulator.state.retailnext
    region = next(x["uuid"] for x in rn.locations() if x["location_type"] == "region"
                  and len(rn.world.stores_under(x["uuid"])) > 1)
    today = datetime.now(UTC).date()
    window = {"date_from": str(today - timedelta(days=3 * 365)), "date_to": str(today - timedelta(days=1))}
    calls = len(emulator.state.requests.records("/v2/datamine"))
    task = DatamineToPostgresOperator(task_id="r", table="region_years", locations=[region], time_zone="UTC",
                                      **window)
    with pytest.raises(InputValidationError, match="longer than 2 years.*several stores"):
        task.execute({})
    assert len(emulator.state.requests.records("/v2/datamine")) == calls
    store = rn.store_list()[0].uuid
    single = DatamineToPostgresOperator(task_id="s", table="region_years", locations=[store], metrics=["traffic_in"],
                                        grain="month", **window)
    assert single.execute({})["points"] > 30


def test_the_client_reads_both_location_shapes(emulator):
    rn = emulator.state.retailnext
    for v1, node in zip(rn.v1_locations(), rn.nodes()):
        a, b = Location.model_validate(v1), Location.model_validate(node)
        assert (a.uuid, a.parent_uuid, a.name, a.location_type) == (b.uuid, b.parent_uuid, b.name, b.location_type)
        assert a.type == b.type == "location"
