"""DAG factories: the DAG files in dags/ stay a few declarative lines each."""
