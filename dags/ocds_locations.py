"""Airflow DAG — OCDS locations and hierarchies: stores, warehouses, organization and merchandise hierarchies."""

from retail_provider.ocds.dags import EndpointTask, build_ocds_dag

dag = build_ocds_dag(
    "ocds_locations",
    title="OCDS locations and hierarchies",
    summary="Retail stores, warehouses, the organization hierarchy (changes and current branch) "
    "and the merchandise hierarchy from Oracle Retail OCDS.",
    cron="0 2 * * *",
    tags=["locations", "hierarchy"],
    tasks=[
        EndpointTask("location_retailstore"),
        EndpointTask("location_warehouse"),
        EndpointTask("orghier"),
        EndpointTask("orghier_descendant"),
        EndpointTask("merchhier"),
    ],
)
