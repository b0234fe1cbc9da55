"""Airflow DAG — RetailNext device inventory: cameras, channels, appliances (full snapshot)."""

from retail_provider.factories.retailnext import build_devices_dag

dag = build_devices_dag()
