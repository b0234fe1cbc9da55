"""Airflow DAG — RetailNext predicted traffic of the next 31 days per store."""

from retail_provider.retailnext.dags import build_predicted_traffic_dag

dag = build_predicted_traffic_dag()
