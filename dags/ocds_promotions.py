"""Airflow DAG — OCDS promotions: offers, and their locations, rewards, conditions and merchandise."""

from retail_provider.ocds.dags import EndpointTask, build_ocds_dag

dag = build_ocds_dag(
    "ocds_promotions",
    title="OCDS promotions",
    summary="Promotion offers from Oracle Retail OCDS, with their locations (applied by their own actions), "
    "rewards, conditions and merchandise in child tables; ocds.item_promotion_state flags withdrawn offers.",
    cron="20 * * * *",
    tags=["promotions"],
    tasks=[EndpointTask("item_promotion")],
)
