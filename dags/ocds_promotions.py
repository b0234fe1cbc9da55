"""Airflow DAG — OCDS promotions: offers with their nested rewards, conditions and locations."""

from retail_provider.ocds.dags import EndpointTask, build_ocds_dag

dag = build_ocds_dag(
    "ocds_promotions",
    title="OCDS promotions",
    summary="Promotion offers from Oracle Retail OCDS; rewards, conditions and locations land as JSONB.",
    cron="20 * * * *",
    tags=["promotions"],
    tasks=[EndpointTask("item_promotion")],
)
