"""Warehouse tables as Airflow Assets, and lineage in the OpenLineage form.

Every table a :class:`~retail_provider.orchestration.operator.SyncOperator` writes is an
outlet of its task: when the task succeeds, Airflow records an asset event, and a DAG
scheduled on the table runs (a dbt build, a mart refresh)::

    from retail_provider.orchestration.assets import table_asset

    with DAG("store_mart", schedule=[table_asset("retailnext.locations")], ...):
        ...

The asset of ``schema.table`` on the warehouse connection ``warehouse_default`` is named
``schema.table`` (``<conn_id>/schema.table`` on another connection) with the URI
``x-retail-warehouse://<conn_id>/<schema>/<table>``: stable, known when a DAG file is parsed
(no connection is read), and the same in every DAG that names it.

With the OpenLineage provider installed, :func:`operator_lineage` turns what a task synced
into its ``OperatorLineage`` (the source endpoint in, the table out), with the namespaces
OpenLineage uses: ``https://host:port`` for the API, ``postgres://host:port`` and
``database.schema.table`` for the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from retail_provider.warehouse import WAREHOUSE_CONN_ID

ASSET_SCHEME = "x-retail-warehouse"
ASSET_GROUP = "retail-warehouse"


def table_asset(table: str, conn_id: str = WAREHOUSE_CONN_ID) -> Any:
    """The Asset of a warehouse table ``schema.table`` (see the module docstring)."""
    from airflow.sdk import Asset

    schema, _, name = table.partition(".")
    if not schema or not name or "." in name:
        raise ValueError(f"a warehouse table is named schema.table (got {table!r})")
    return Asset(name=table if conn_id == WAREHOUSE_CONN_ID else f"{conn_id}/{table}",
                 uri=f"{ASSET_SCHEME}://{conn_id}/{schema}/{name}", group=ASSET_GROUP)


def table_assets(tables: Iterable[str], conn_id: str = WAREHOUSE_CONN_ID) -> list[Any]:
    return [table_asset(t, conn_id) for t in dict.fromkeys(tables)]


class StaticPlan(dict):
    """A plan with only what is known when a DAG file is parsed: any other value is ``None``
    (``filters`` empty), enough for an operator's ``targets()`` to name its tables."""

    def __missing__(self, key: str) -> Any:
        return {} if key == "filters" else None


@dataclass(frozen=True)
class LineageDataset:
    """One OpenLineage dataset: where (``namespace``) and what (``name``)."""

    namespace: str
    name: str


def lineage_datasets(api_base_url: str, endpoints: Sequence[str], warehouse: Any,
                     tables: Sequence[str]) -> tuple[list[LineageDataset], list[LineageDataset]]:
    """The inputs (API endpoints) and outputs (tables) of a sync, named as OpenLineage does.

    :param api_base_url: the API's base URL (its origin is the namespace, the path prefixes the name).
    :param warehouse: the warehouse connection (``host``, ``port``, ``schema`` = database).
    """
    import httpx

    url = httpx.URL(api_base_url)
    origin = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
    prefix = url.path.strip("/")
    inputs = [LineageDataset(origin, "/".join(p for p in (prefix, e) if p)) for e in dict.fromkeys(endpoints)]
    namespace = f"postgres://{warehouse.host or 'localhost'}:{warehouse.port or 5432}"
    database = warehouse.schema or "postgres"
    outputs = [LineageDataset(namespace, f"{database}.{t}") for t in dict.fromkeys(tables)]
    return inputs, outputs


def operator_lineage(inputs: list[LineageDataset], outputs: list[LineageDataset]) -> Any:
    """An ``OperatorLineage`` of the OpenLineage provider; ``None`` when it is not installed."""
    try:
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage
    except ImportError:
        return None
    if Dataset is None:  # the compat layer without the OpenLineage client
        return None
    return OperatorLineage(inputs=[Dataset(namespace=d.namespace, name=d.name) for d in inputs],
                           outputs=[Dataset(namespace=d.namespace, name=d.name) for d in outputs])
