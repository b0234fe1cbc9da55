"""Airflow DAG — RetailNext video export (manually triggered with Params)."""

from retail_provider.factories.retailnext_admin import build_video_export_dag

dag = build_video_export_dag()
