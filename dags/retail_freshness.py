"""Airflow DAG: freshness of every warehouse table (the retail_meta.table_freshness view and a data alert)."""

from retail_provider.orchestration.freshness import build_freshness_dag

dag = build_freshness_dag()
