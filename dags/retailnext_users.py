"""Airflow DAG — RetailNext users, user profiles and location profiles (full snapshots)."""

from retail_provider.retailnext.dags import build_users_dag

dag = build_users_dag()
