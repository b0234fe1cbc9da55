"""The warehouse layer both vendors share: table layouts derived from pydantic models, COPY
staging and set-based merges, the sync ledger, and one table-sync orchestration."""

#: the Airflow connection of the warehouse PostgreSQL
WAREHOUSE_CONN_ID = "warehouse_default"
