"""Airflow DAG — RetailNext locations (snapshot, plus the location_tree view) and store hours (a window of days)."""

from retail_provider.retailnext.dags import build_locations_dag

dag = build_locations_dag()
