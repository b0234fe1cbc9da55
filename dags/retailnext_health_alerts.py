"""Airflow DAG — RetailNext health alerts every 15 minutes: incremental with a watermark; new unresolved alerts reported."""

from retail_provider.retailnext.dags import build_health_alerts_dag
from retail_provider.retailnext.data_alerts import notify_new_health_alerts

dag = build_health_alerts_dag(on_new_alerts=notify_new_health_alerts)
