"""Airflow DAG — RetailNext health alerts every 15 minutes: incremental with a watermark; new unresolved alerts reported."""

from retail_provider.factories.retailnext import build_health_alerts_dag

dag = build_health_alerts_dag()
