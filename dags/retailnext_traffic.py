"""Airflow DAG — RetailNext store traffic (datamine) at daily and hourly grain."""

from retail_provider.retailnext.datamine.dags import build_traffic_dag

dag = build_traffic_dag()
