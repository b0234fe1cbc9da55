"""Airflow DAG — RetailNext occupancy adjust (manually triggered with Params)."""

from retail_provider.factories.retailnext_admin import build_occupancy_adjust_dag

dag = build_occupancy_adjust_dag()
