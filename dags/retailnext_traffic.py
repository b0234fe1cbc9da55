"""Airflow DAG — RetailNext store traffic (datamine) at daily and hourly grain."""

from retail_provider.factories.datamine import build_traffic_dag

dag = build_traffic_dag()
