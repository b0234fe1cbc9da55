"""One OCDS endpoint split per store scope into mapped tasks, so several workers share it.

A chain that has outgrown one worker (``inventory/store`` or ``item/itemlocation`` of a few
thousand stores) is split by node scope: an upstream task lists the stores from
``v2/location/retailstore``, and one :class:`~retail_provider.ocds.operators.OcdsIncrementalSyncOperator`
per store (``nodelevel=STORE``, ``nodeid=<store>``) is mapped over them.  Celery hands the
mapped tasks to whichever worker has a free slot.  Each scope keeps its own watermark
(``ocds_watermark__inventory_store__nodeid_<n>__nodelevel_store``) and its own ledger rows,
moved only by its own commit, so a failed store is retried alone and never holds back, or
is skipped by, the others.  See docs/benchmarks.md ("Outgrowing one worker").
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Param, task

from retail_provider.ocds.dags import POOL
from retail_provider.ocds.hook import OcdsHook
from retail_provider.ocds.operators import DEFAULT_LAG, OcdsIncrementalSyncOperator
from retail_provider.orchestration.dag_defaults import sync_dag

DOC = """# OCDS {endpoint} per store

`v2/{path}` split per store scope (`nodelevel=STORE`, `nodeid=<store>`): `list_stores` reads
the stores from `v2/location/retailstore` (the first `stores` of them; 0 = all), then one mapped
`sync_store` task per store merges that store's change window into `ocds.{table}` (rows of each
scope carry it in `_scope`) and advances that store's own watermark after its commit. Celery
spreads the mapped tasks over the workers; a failed store is retried alone.

Params: `stores` (how many stores, 0 = all), `full_refresh`, `safety_lag_seconds`, `page_size`.
"""


def build_split_dag(dag_id: str, *, endpoint: str, cron: str | None, ocds_conn_id: str = OcdsHook.default_conn_name,
                    **dag_kwargs: Any) -> DAG:
    """A DAG syncing ``endpoint`` with one mapped task per store scope."""
    from retail_provider.ocds.catalog import get_endpoint

    ep = get_endpoint(endpoint)
    with sync_dag(
        dag_id, cron=cron, tags=["ocds", "oracle-retail", "split"], task_defaults={"pool": POOL},
        doc_md=DOC.format(endpoint=ep.name, path=ep.path, table=ep.table), native=True,
        params={
            "stores": Param(0, type="integer", minimum=0, description="Sync the first N stores (0: all)."),
            "full_refresh": Param(False, type="boolean", description="Reload every store scope from the epoch."),
            "safety_lag_seconds": Param(int(DEFAULT_LAG.total_seconds()), type="integer", minimum=0,
                                        description="The window ends this many seconds before now."),
            "page_size": Param(None, type=["null", "integer"], minimum=1, description="Rows per OCDS page."),
        },
        **dag_kwargs,
    ) as dag:

        @task
        def list_stores(stores: int) -> list[dict[str, Any]]:
            """One filter combination per store of ``v2/location/retailstore``."""
            with OcdsHook(ocds_conn_id) as hook:
                ids = sorted({int(r.storeid) for r in hook.iter_records("location_retailstore")})
            return [{"nodelevel": "STORE", "nodeid": i} for i in (ids[:stores] if stores else ids)]

        OcdsIncrementalSyncOperator.partial(
            task_id="sync_store", endpoint=ep.name, full_refresh="{{ params.full_refresh }}",
            safety_lag="{{ params.safety_lag_seconds }}", page_size="{{ params.page_size or '' }}",
            ocds_conn_id=ocds_conn_id,
        ).expand(filters=list_stores("{{ params.stores }}"))
    return dag
