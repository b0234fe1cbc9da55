"""Airflow DAG — OCDS inventory: store, warehouse and future (on order) inventory."""

from retail_provider.ocds.dags import EndpointTask, build_ocds_dag

dag = build_ocds_dag(
    "ocds_inventory",
    title="OCDS inventory",
    summary="Store, warehouse and future inventory positions from Oracle Retail OCDS.",
    cron="*/15 * * * *",
    tags=["inventory"],
    tasks=[
        EndpointTask("inventory_store"),
        EndpointTask("inventory_warehouse"),
        EndpointTask("inventory_future"),
    ],
)
