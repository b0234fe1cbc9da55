"""Airflow DAG — RetailNext user admin (manually triggered with Params)."""

from retail_provider.retailnext.writes.dags import build_user_admin_dag

dag = build_user_admin_dag()
