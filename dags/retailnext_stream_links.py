"""Airflow DAG — RetailNext stream links (manually triggered with Params)."""

from retail_provider.retailnext.video.dags import build_stream_links_dag

dag = build_stream_links_dag()
