"""Airflow DAG — RetailNext video export (manually triggered with Params)."""

from retail_provider.retailnext.video.dags import build_video_export_dag

dag = build_video_export_dag()
