"""Create what a sync writes to, before its data transaction starts.

Each function runs in a short transaction of its own and only issues DDL when something is
missing: ``ALTER TABLE`` takes an exclusive lock that would otherwise block readers of the
table for the whole sync.  One advisory lock serialises concurrent DDL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from retail_provider.warehouse.schema import META_COLUMNS, TableSpec, create_table_sql

DDL_LOCK = "retail_provider.ddl"


def existing_columns(conn: Any, schema: str, table: str) -> set[str]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        )
        return {r[0] for r in cur.fetchall()}


def run_ddl(conn: Any, statements: Iterable[str]) -> None:
    """Run ``statements`` under the DDL lock and commit."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (DDL_LOCK,))
        for statement in statements:
            cur.execute(statement)
    conn.commit()


def ensure_table(conn: Any, spec: TableSpec) -> None:
    """Create schema, table and newly added columns (then commit)."""
    existing = existing_columns(conn, spec.schema, spec.table)
    wanted = [*spec.column_names, *(name for name, _ in META_COLUMNS)]
    if existing and all(c in existing for c in wanted):
        conn.commit()
        return
    run_ddl(conn, create_table_sql(spec))


def ensure_view(conn: Any, schema: str, name: str, sql: str) -> None:
    """Create the view ``schema.name`` from ``sql`` when it does not exist yet (then commit)."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_views WHERE schemaname = %s AND viewname = %s", (schema, name))
        missing = cur.fetchone() is None
    if missing:
        run_ddl(conn, [sql])
    else:
        conn.commit()
