"""Airflow DAG — OCDS store inventory split per region into mapped tasks (several workers share it)."""

from retail_provider.ocds.split import build_split_dag

dag = build_split_dag("ocds_inventory_by_region", endpoint="inventory_store", cron=None, level="REGION")
