"""Local development environment: embedded warehouse, Airflow home, the demo."""
