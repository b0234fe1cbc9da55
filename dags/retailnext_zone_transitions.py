"""Airflow DAG — RetailNext FPA zone transitions per store and day."""

from retail_provider.retailnext.dags import build_zone_transitions_dag

dag = build_zone_transitions_dag()
