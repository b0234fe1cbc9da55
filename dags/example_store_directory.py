"""Example of a DAG scheduled on data: a mart refreshed whenever the RetailNext locations change.

``sync_locations`` (DAG ``retailnext_locations``) publishes the Asset ``retailnext.locations``
each time it succeeds; this DAG runs on that event and rebuilds ``marts.store_directory``
(one row per store, with its parent area). A dbt build would be scheduled the same way.
"""

from __future__ import annotations

from airflow.sdk import Param, get_current_context, task

from retail_provider.orchestration.assets import table_asset
from retail_provider.orchestration.dag_defaults import sync_dag
from retail_provider.warehouse import WAREHOUSE_CONN_ID

SOURCE = "retailnext.locations"
DOC = f"""# Example: store directory mart (scheduled on data)

Runs whenever the Asset `{SOURCE}` is updated, i.e. after each successful `sync_locations`
of `retailnext_locations` (no cron), and rebuilds the materialized view
`<schema>.store_directory`: every store with its name, time zone, store id and parent.
It publishes that view as an Asset too, so further DAGs can chain on it.
"""

with sync_dag("example_store_directory", cron=None, assets=[table_asset(SOURCE)], tags=["example", "mart", "assets"],
              doc_md=DOC, description="Example: a mart rebuilt whenever retailnext.locations changes",
              params={"schema": Param("marts", type="string", pattern=r"^[a-z_][a-z0-9_]*$", title="Mart schema",
                                      description="Schema of the store_directory materialized view.")}):

    @task(outlets=[table_asset("marts.store_directory")])
    def refresh_store_directory() -> int:
        """Create the view if needed, refresh it and return its row count."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        schema = get_current_context()["params"]["schema"]
        with PostgresHook(postgres_conn_id=WAREHOUSE_CONN_ID).get_conn() as conn, conn.cursor() as cur:
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            cur.execute(
                f'CREATE MATERIALIZED VIEW IF NOT EXISTS "{schema}".store_directory AS '
                "SELECT s.uuid AS store_uuid, s.name AS store_name, s.time_zone, s.store_id, "
                "p.uuid AS parent_uuid, p.name AS parent_name "
                f"FROM {SOURCE} s LEFT JOIN {SOURCE} p ON p.uuid = s.parent_uuid "
                "WHERE s.location_type = 'store'")
            cur.execute(f'REFRESH MATERIALIZED VIEW "{schema}".store_directory')
            cur.execute(f'SELECT count(*) FROM "{schema}".store_directory')
            rows = cur.fetchone()[0]
            conn.commit()
        return rows

    refresh_store_directory()
