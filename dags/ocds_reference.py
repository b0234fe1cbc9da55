"""Airflow DAG — OCDS reference data: differentiators, diff groups, dimensions and VAT."""

from retail_provider.ocds.dags import EndpointTask, build_ocds_dag

dag = build_ocds_dag(
    "ocds_reference",
    title="OCDS reference data",
    summary="Differentiators, differentiator groups, item dimension types and values, VAT codes.",
    cron="30 2 * * *",
    tags=["reference"],
    tasks=[
        EndpointTask("diff"),
        EndpointTask("diff_group"),
        EndpointTask("item_dimensiontype"),
        EndpointTask("item_dimensionvalue"),
        EndpointTask("vat"),
    ],
)
