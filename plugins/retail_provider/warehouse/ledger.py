"""``retail_meta.sync_ledger``: one row per table per sync, whatever the vendor.

A ``running`` row is written inside the sync's data transaction and finished there as
``success``, so it commits (or vanishes) with the data.  After a rollback the caller writes a
``failed`` row in a transaction of its own (:func:`record_failure` in :mod:`.tablesync`).
"""

from __future__ import annotations

from typing import Any

from retail_provider.warehouse.ddl import existing_columns, run_ddl

LEDGER_SCHEMA = "retail_meta"
LEDGER_TABLE = f"{LEDGER_SCHEMA}.sync_ledger"
RUN_INFO_KEYS = ("dag_id", "run_id", "task_id", "try_number")
LEDGER_DDL = [
    f"CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
        id bigserial PRIMARY KEY,
        vendor text NOT NULL,
        endpoint text NOT NULL,
        target_table text NOT NULL,
        filters jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        mode text NOT NULL,
        since timestamptz,
        before timestamptz,
        status text NOT NULL,
        rows_by_action jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        rows_upserted bigint NOT NULL DEFAULT 0,
        rows_deleted bigint NOT NULL DEFAULT 0,
        rows_swept bigint NOT NULL DEFAULT 0,
        pages integer NOT NULL DEFAULT 0,
        duration_s double precision,
        dag_id text,
        run_id text,
        task_id text,
        try_number integer,
        error text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
    )""",
    f"CREATE INDEX IF NOT EXISTS sync_ledger_endpoint_idx ON {LEDGER_TABLE} (vendor, endpoint, started_at)",
    # added later (ledgers created before get them): records a sync could not apply
    # (``retail_meta.sync_rejects``) and what the sync found odd but loaded (``warnings``)
    f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN IF NOT EXISTS rows_rejected bigint NOT NULL DEFAULT 0",
    f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN IF NOT EXISTS warnings jsonb NOT NULL DEFAULT '{{}}'::jsonb",
]
LATER_COLUMNS = {"rows_rejected", "warnings"}


def ensure_ledger(conn: Any) -> None:
    """Create the ledger (or its newer columns) if missing, in its own short transaction."""
    if LATER_COLUMNS <= existing_columns(conn, LEDGER_SCHEMA, "sync_ledger"):
        conn.commit()
        return
    run_ddl(conn, LEDGER_DDL)


def _json(fields: dict[str, Any]) -> dict[str, Any]:
    from psycopg.types.json import Jsonb

    return {k: (Jsonb(v) if isinstance(v, dict) else v) for k, v in fields.items()}


def ledger_start(conn: Any, run_info: dict[str, Any] | None = None, **fields: Any) -> int:
    """Insert a ``running`` row in the current transaction and return its id.

    :param run_info: ``dag_id``, ``run_id``, ``task_id``, ``try_number`` (other keys ignored).
    """
    fields = _json({**fields, **{k: v for k, v in (run_info or {}).items() if k in RUN_INFO_KEYS}})
    cols = ", ".join(fields)
    values = ", ".join(f"%({k})s" for k in fields)
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {LEDGER_TABLE} ({cols}, status) VALUES ({values}, 'running') RETURNING id", fields)
        return int(cur.fetchone()[0])


def ledger_finish(conn: Any, sync_id: int, **fields: Any) -> None:
    """Set the outcome (``status`` and counts) of ledger row ``sync_id``."""
    fields = _json(fields)
    sets = ", ".join(f"{k} = %({k})s" for k in fields)
    with conn.cursor() as cur:
        cur.execute(f"UPDATE {LEDGER_TABLE} SET {sets}, finished_at = now() WHERE id = %(sync_id)s",
                    {**fields, "sync_id": sync_id})
