"""Airflow DAG — RetailNext location admin (manually triggered with Params)."""

from retail_provider.retailnext.writes.dags import build_location_admin_dag

dag = build_location_admin_dag()
