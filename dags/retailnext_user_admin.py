"""Airflow DAG — RetailNext user admin (manually triggered with Params)."""

from retail_provider.retailnext.manual_dags import build_user_admin_dag

dag = build_user_admin_dag()
