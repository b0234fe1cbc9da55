"""Airflow DAG — RetailNext device inventory: cameras, channels, appliances (full snapshot)."""

from retail_provider.retailnext.dags import build_devices_dag

dag = build_devices_dag()
