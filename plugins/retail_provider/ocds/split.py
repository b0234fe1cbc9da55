"""One OCDS endpoint split per node scope into mapped tasks, so several workers share it.

A chain that has outgrown one worker (``inventory/store`` or ``item/itemlocation`` of
thousands of stores) is split by node scope: an upstream task lists the nodes of one level
of ``v2/orghier`` (a Param: regions by default, or districts, stores...), and one
:class:`~retail_provider.ocds.operators.OcdsIncrementalSyncOperator` per node
(``nodelevel=<level>``, ``nodeid=<node>``) is mapped over them.  Celery hands the mapped
tasks to whichever worker has a free slot.  Each scope keeps its own watermark
(``ocds_watermark__inventory_store__nodeid_<n>__nodelevel_region``) and its own ledger rows,
moved only by its own commit, so a failed scope is retried alone and never holds back, or
is skipped by, the others.  See docs/benchmarks.md ("Outgrowing one worker").
"""

from __future__ import annotations

import typing
from typing import Any

from airflow.sdk import DAG, Param, task

from retail_provider.ocds.dags import POOL
from retail_provider.ocds.hook import OcdsHook
from retail_provider.ocds.models import NodeLevel
from retail_provider.ocds.operators import DEFAULT_LAG, OcdsIncrementalSyncOperator
from retail_provider.orchestration.dag_defaults import sync_dag

LEVELS = typing.get_args(NodeLevel)

DOC = """# OCDS {endpoint} per node

`v2/{path}` split per node scope (`nodelevel=<level>`, `nodeid=<node>`): `list_nodes` reads the
nodes of the Param `level` (default {level}) from `v2/orghier` (the first `nodes` of them;
0 = all), then one mapped
`sync_node` task per node merges that node's change window into `ocds.{table}` (the rows of
each scope carry it in `_scope`) and advances that node's own watermark after its commit.
Celery spreads the mapped tasks over the workers; a failed node is retried alone.

Params: `level`, `nodes` (how many nodes, 0 = all), `full_refresh`, `safety_lag_seconds`, `page_size`.
"""


def build_split_dag(dag_id: str, *, endpoint: str, cron: str | None, level: str = "REGION",
                    ocds_conn_id: str = OcdsHook.default_conn_name, **dag_kwargs: Any) -> DAG:
    """A DAG syncing ``endpoint`` with one mapped task per node of a level (default ``level``)."""
    from retail_provider.ocds.catalog import get_endpoint

    ep = get_endpoint(endpoint)
    with sync_dag(
        dag_id, cron=cron, tags=["ocds", "oracle-retail", "split"], task_defaults={"pool": POOL},
        doc_md=DOC.format(endpoint=ep.name, path=ep.path, table=ep.table, level=level), native=True,
        params={
            "level": Param(level, type="string", enum=sorted(LEVELS), description="The node level to split by."),
            "nodes": Param(0, type="integer", minimum=0, description="Sync the first N nodes of the level (0: all)."),
            "full_refresh": Param(False, type="boolean", description="Reload every node scope from the epoch."),
            "safety_lag_seconds": Param(int(DEFAULT_LAG.total_seconds()), type="integer", minimum=0,
                                        description="The window ends this many seconds before now."),
            "page_size": Param(None, type=["null", "integer"], minimum=1, description="Rows per OCDS page."),
        },
        **dag_kwargs,
    ) as dag:

        @task
        def list_nodes(level: str, nodes: int) -> list[dict[str, Any]]:
            """One filter combination per node of ``level`` in ``v2/orghier``."""
            with OcdsHook(ocds_conn_id) as hook:
                ids = sorted({r.hierarchynodeid for r in hook.iter_records("orghier")
                              if r.hierarchylevel == level and r.action != "DELETE"})
            return [{"nodelevel": level, "nodeid": i} for i in (ids[:nodes] if nodes else ids)]

        OcdsIncrementalSyncOperator.partial(
            task_id="sync_node", endpoint=ep.name, full_refresh="{{ params.full_refresh }}",
            safety_lag="{{ params.safety_lag_seconds }}", page_size="{{ params.page_size or '' }}",
            ocds_conn_id=ocds_conn_id,
        ).expand(filters=list_nodes("{{ params.level }}", "{{ params.nodes }}"))
    return dag
