"""Airflow DAG — RetailNext occupancy adjust (manually triggered with Params)."""

from retail_provider.retailnext.writes.dags import build_occupancy_adjust_dag

dag = build_occupancy_adjust_dag()
