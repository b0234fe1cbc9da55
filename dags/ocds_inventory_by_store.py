"""Airflow DAG — OCDS store inventory split per store into mapped tasks (several workers share it)."""

from retail_provider.ocds.split import build_split_dag

dag = build_split_dag("ocds_inventory_by_store", endpoint="inventory_store", cron=None)
