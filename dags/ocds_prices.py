"""Airflow DAG — OCDS prices: one change feed per price type (INITIAL, REGULAR, CLEARANCE)."""

from retail_provider.ocds.dags import EndpointTask, build_ocds_dag

dag = build_ocds_dag(
    "ocds_prices",
    title="OCDS item prices",
    summary="Item/location prices from Oracle Retail OCDS, one watermark per price type.",
    cron="*/30 * * * *",
    tags=["prices"],
    tasks=[EndpointTask("item_price", {"pricetype": t}) for t in ("INITIAL", "REGULAR", "CLEARANCE")],
)
