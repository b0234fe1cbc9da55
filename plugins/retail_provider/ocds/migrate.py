"""Tables an older release created: detect a layout this one cannot merge into, and rebuild.

A table must have exactly the primary key, the column types and the columns of its
:class:`~retail_provider.warehouse.schema.TableSpec` (extra columns mean another layout:
promotions once kept their rewards, conditions and locations as JSONB columns).  Otherwise
:func:`upgrade_tables` moves it aside, renamed ``<table>__pre_<UTC timestamp>`` with its
rows (nothing is lost: check it, then drop it once every feed of the table has run), and the
caller turns the sync into a full refresh, which recreates the table in the current layout
and reloads it from the source.  Feeds of other scopes of the same table (the other price
types, other nodes) see the moved table too: :func:`resync_needed` makes each of them
resync fully once, until the ledger shows a full sync of its scope after the move.
``docs/ocds-endpoints.md`` lists the key changes this covers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from retail_provider.warehouse.ddl import run_ddl
from retail_provider.warehouse.ledger import LEDGER_TABLE
from retail_provider.warehouse.schema import META_COLUMNS, TableSpec, quote
from retail_provider.warehouse.tablesync import Target

log = logging.getLogger(__name__)

#: information_schema ``data_type`` of each warehouse column type
_DATA_TYPES = {"timestamptz": "timestamp with time zone", "timestamp": "timestamp without time zone"}
ASIDE = "{table}__pre_{stamp}"
STAMP = "%Y%m%d%H%M%S"


def _layout(conn: Any, spec: TableSpec) -> tuple[dict[str, str], tuple[str, ...], str | None]:
    """``(column -> data type, primary key columns, primary key constraint)`` of an existing table."""
    with conn.cursor() as cur:
        cur.execute("SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = %s", (spec.schema, spec.table))
        columns = dict(cur.fetchall())
        cur.execute(
            "SELECT c.conname, array_agg(a.attname ORDER BY k.n) FROM pg_constraint c "
            "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
            "WHERE c.contype = 'p' AND c.conrelid = to_regclass(%s) GROUP BY c.conname",
            (spec.qualified,),
        )
        row = cur.fetchone()
    conn.commit()
    return columns, tuple(row[1]) if row else (), row[0] if row else None


def outdated(conn: Any, spec: TableSpec) -> str | None:
    """Why the existing table of ``spec`` cannot be merged into (``None``: it can, or it is missing)."""
    columns, key, _name = _layout(conn, spec)
    if not columns:
        return None
    if set(key) != set(spec.primary_key):
        return f"primary key ({', '.join(key)}) is not ({', '.join(spec.primary_key)})"
    for c in spec.columns:
        wanted = _DATA_TYPES.get(c.pg_type, c.pg_type)
        if c.name in columns and columns[c.name] != wanted:
            return f"column {c.name} is {columns[c.name]}, not {wanted}"
    unknown = sorted(set(columns) - set(spec.column_names) - {name for name, _ in META_COLUMNS})
    if unknown:
        return f"columns {', '.join(unknown)} belong to another layout"
    return None


def upgrade_tables(conn: Any, specs: Sequence[TableSpec], views: Sequence[str] = ()) -> list[str]:
    """Move every table of ``specs`` that is :func:`outdated` aside (own transaction).

    :param views: qualified views over these tables, dropped when one moves (the sync
        creates them again over the new tables).
    :returns: the names the moved tables got (empty: nothing to do).
    """
    stamp = datetime.now(UTC).strftime(STAMP)
    statements, moved = [], []
    for spec in specs:
        reason = outdated(conn, spec)
        if reason is None:
            continue
        _columns, _key, constraint = _layout(conn, spec)
        aside = ASIDE.format(table=spec.table, stamp=stamp)
        statements.append(f"ALTER TABLE {spec.qualified} RENAME TO {quote(aside)}")
        if constraint:  # the new table's primary key takes the usual name
            target = f"{quote(spec.schema)}.{quote(aside)}"
            statements.append(f"ALTER TABLE {target} RENAME CONSTRAINT {quote(constraint)} TO {quote(aside + '_pkey')}")
        moved.append(f"{spec.schema}.{aside}")
        log.warning("%s was written by an older release (%s): moved aside as %s.%s; this sync reloads it in full",
                    spec.qualified, reason, spec.schema, aside)
    if statements:
        run_ddl(conn, [*(f"DROP VIEW IF EXISTS {view}" for view in views), *statements])
    return moved


def resync_needed(conn: Any, targets: Sequence[Target]) -> str | None:
    """A table moved aside after the last successful full sync of a target's scope (the
    name of the moved table), else ``None``: then the sync must be a full refresh."""
    for target in targets:
        spec = target.spec
        prefix = ASIDE.format(table=spec.table, stamp="").replace("_", r"\_")
        with conn.cursor() as cur:
            cur.execute("SELECT max(tablename) FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s",
                        (spec.schema, prefix + "%"))
            aside = cur.fetchone()[0]
            if aside is None:
                conn.commit()
                continue
            moved = datetime.strptime(aside.rsplit("_", 1)[1], STAMP).replace(tzinfo=UTC)
            cur.execute(f"SELECT max(finished_at) FROM {LEDGER_TABLE} WHERE target_table = %s AND status = "
                        "'success' AND mode IN ('full', 'snapshot') AND filters = %s::jsonb",
                        (target.table, orjson.dumps(dict(target.filters)).decode()))
            last_full = cur.fetchone()[0]
        conn.commit()
        if last_full is None or last_full < moved:
            return f"{spec.schema}.{aside}"
    return None
