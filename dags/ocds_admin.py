"""Airflow DAG — OCDS administration: log entries, version and bulk-load refresh dates."""

from retail_provider.ocds.dags import EndpointTask, build_ocds_dag

dag = build_ocds_dag(
    "ocds_admin",
    title="OCDS administration",
    summary="OCDS log entries (incremental), the deployed version and the refresh date of each "
    "entity's last bulk load (current state).",
    cron="5 * * * *",
    tags=["admin"],
    tasks=[
        EndpointTask("admin_log"),
        EndpointTask("admin_version"),
        EndpointTask("refreshdate"),
    ],
)
