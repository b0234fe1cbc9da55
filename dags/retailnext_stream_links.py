"""Airflow DAG — RetailNext stream links (manually triggered with Params)."""

from retail_provider.factories.retailnext_admin import build_stream_links_dag

dag = build_stream_links_dag()
