"""Airflow DAG — RetailNext FPA floorplans, zones and zone polygon points (full snapshot)."""

from retail_provider.retailnext.dags import build_floorplans_dag

dag = build_floorplans_dag()
