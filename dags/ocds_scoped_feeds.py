"""Airflow DAGs — OCDS scoped feeds declared in config/ocds_scoped_feeds.yaml (one DAG per entry)."""

from retail_provider.ocds.feeds import build_feed_dags, feeds_path

globals().update(build_feed_dags(feeds_path(__file__)))
