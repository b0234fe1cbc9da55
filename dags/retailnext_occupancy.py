"""Airflow DAG — RetailNext current occupancy every 15 minutes (the `local` time zone form)."""

from retail_provider.retailnext.datamine.dags import build_occupancy_dag

dag = build_occupancy_dag()
