"""``retail_meta.sync_rejects``: records a sync received but could not apply, kept for replay.

A record that cannot be applied (an unknown or missing change action, a missing key field, a
value of the wrong type) must neither stop the feed nor vanish: the sync writes it here with
its endpoint, window, filters, the reason and the raw record, in its own data transaction
(it commits with the data, or vanishes with it), counts it in the ledger row
(``rows_rejected``) and goes on.  The vendor's operator then sends a data alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from retail_provider.warehouse.ddl import existing_columns, run_ddl
from retail_provider.warehouse.ledger import LEDGER_SCHEMA

REJECTS_TABLE = f"{LEDGER_SCHEMA}.sync_rejects"
REJECTS_DDL = [
    f"CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {REJECTS_TABLE} (
        id bigserial PRIMARY KEY,
        sync_id bigint,
        vendor text NOT NULL,
        endpoint text NOT NULL,
        target_table text NOT NULL,
        filters jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        since timestamptz,
        before timestamptz,
        reason text NOT NULL,
        record jsonb,
        rejected_at timestamptz NOT NULL DEFAULT now()
    )""",
    f"CREATE INDEX IF NOT EXISTS sync_rejects_endpoint_idx ON {REJECTS_TABLE} (vendor, endpoint, rejected_at)",
]
COLUMNS = ("sync_id", "vendor", "endpoint", "target_table", "filters", "since", "before", "reason", "record")


def ensure_rejects(conn: Any) -> None:
    """Create the rejects table if missing, in its own short transaction."""
    if existing_columns(conn, LEDGER_SCHEMA, "sync_rejects"):
        conn.commit()
        return
    run_ddl(conn, REJECTS_DDL)


def record_rejects(conn: Any, sync_id: int | None, ledger_fields: dict[str, Any],
                   rejects: Iterable[tuple[str, Any]]) -> int:
    """COPY ``(reason, raw record)`` pairs into the rejects table (current transaction).

    :param ledger_fields: ``vendor``, ``endpoint``, ``target_table``, ``filters``, ``since``,
        ``before`` of the sync (its :meth:`~retail_provider.warehouse.tablesync.Target.ledger_fields`).
    :returns: how many were written.
    """
    f = ledger_fields
    head = (sync_id, f["vendor"], f["endpoint"], f["target_table"], orjson.dumps(dict(f["filters"])).decode(),
            f["since"], f["before"])
    n = 0
    with conn.cursor() as cur, cur.copy(f"COPY {REJECTS_TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for reason, record in rejects:
            copy.write_row((*head, reason, orjson.dumps(record, default=str).decode()))
            n += 1
    return n
