"""What every RetailNext resource sync shares: its tables, its result, and window sweeps.

A resource (locations, users, floorplans, devices, store hours, predicted traffic, zone
transitions, health alerts) reads the API completely, then writes its tables through the
shared table sync (:mod:`retail_provider.warehouse.tablesync`) inside the caller's one
transaction: one ledger row per table (vendor ``retailnext``).  Nothing here commits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from retail_provider.http.errors import InvalidResponseError
from retail_provider.retailnext.tables import MODES, RESOURCES, SCHEMA, VENDOR, location_tree_sql, spec_for
from retail_provider.warehouse.schema import TableSpec, model_rows, quote
from retail_provider.warehouse.tablesync import TableLoad, TableSync, Target, open_tables

log = logging.getLogger(__name__)


def resource_targets(resource: str, *, filters: Mapping[str, Any] | None = None, since: datetime | None = None,
                     before: datetime | None = None, schema: str = SCHEMA) -> list[Target]:
    """The tables of ``resource`` and how the ledger names the sync (one row per table); a
    snapshot sweeps (deletes what the source no longer has)."""
    mode = MODES[resource]
    sweep = mode == "snapshot"
    return [Target(vendor=VENDOR, endpoint=resource, spec=spec_for(table, schema), mode=mode,
                   filters=dict(filters or {}), since=since, before=before, sweep=sweep)
            for table in RESOURCES[resource]]


@dataclass
class SyncResult:
    """What one resource sync did; small and secret-free, so it is safe as an XCom."""

    resource: str
    mode: str
    filters: dict[str, Any] = field(default_factory=dict)
    since: str | None = None
    before: str | None = None
    tables: list[TableLoad] = field(default_factory=list)
    requests: int = 0
    duration_s: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> TableLoad:
        return next(t for t in self.tables if t.table.split(".")[-1] == name)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ResourceWriter:
    """The tables of one resource sync, opened in the caller's transaction.

    :param targets: from :func:`resource_targets`.
    """

    def __init__(self, conn: Any, result: SyncResult, targets: Sequence[Target], *,
                 run_info: dict[str, Any] | None = None, batch_rows: int = 50_000) -> None:
        self.conn = conn
        self.result = result
        self.started = time.perf_counter()
        views = [(t.spec.schema, "location_tree", location_tree_sql(t.spec.schema))
                 for t in targets if t.spec.table == "locations"]
        self.tables: dict[str, TableSync] = {
            t.spec.table: t for t in open_tables(conn, targets, run_info=run_info, batch_rows=batch_rows, views=views)
        }

    def spec(self, table: str) -> TableSpec:
        return self.tables[table].spec

    def write(self, table: str, records: Sequence[BaseModel]) -> TableLoad:
        """Stage ``records`` as upserts and merge them (and sweep, for a snapshot)."""
        sync = self.tables[table]
        rows = list(model_rows(sync.spec, records))
        if rows:
            sync.stage(rows)
        return sync.finish()

    def close(self) -> SyncResult:
        """Ledger rows as ``success`` (still in the data transaction); the caller commits."""
        result = self.result
        result.duration_s = round(time.perf_counter() - self.started, 3)
        result.tables = [t.load for t in self.tables.values()]
        for sync in self.tables.values():
            sync.record(pages=result.requests, duration_s=result.duration_s)
        log.info("retailnext %s (%s): %s in %.2fs", result.resource, result.mode,
                 ", ".join(f"{t.table} rows {t.rows} upserted {t.upserted} swept {t.swept}" for t in result.tables),
                 result.duration_s)
        return result

    def refuse_empty(self, table: str) -> None:
        """An empty snapshot would sweep the whole table: treat it as a broken response instead."""
        spec = self.spec(table)
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {spec.qualified}")
            existing = int(cur.fetchone()[0])
        if existing:
            raise InvalidResponseError(
                f"retailnext {self.result.resource}: the API returned no entries while {spec.qualified} holds "
                f"{existing} rows; refusing to delete them all (a snapshot sweep needs a non-empty listing)",
                api=VENDOR)

    def sweep_window(self, table: str, seen: Iterable[Sequence[Any]], where: str, params: dict[str, Any]) -> int:
        """Delete the rows inside a window (a SQL condition on ``t``) whose key this sync did not see."""
        spec = self.spec(table)
        temp = quote(f"_seen_window_{spec.table}")
        keys = ", ".join(quote(k) for k in spec.key)
        cols = ", ".join(f"{quote(k)} {spec.column(k).pg_type}" for k in spec.key)
        match = " AND ".join(f"s.{quote(k)} = t.{quote(k)}" for k in spec.key)
        with self.conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {temp}")
            cur.execute(f"CREATE TEMP TABLE {temp} ({cols}) ON COMMIT DROP")
            with cur.copy(f"COPY {temp} ({keys}) FROM STDIN") as copy:
                for key in seen:
                    copy.write_row(tuple(key))
            cur.execute(f"ANALYZE {temp}")  # without statistics the planner may pick a nested loop
            cur.execute(f"DELETE FROM {spec.qualified} t WHERE ({where}) AND NOT EXISTS "
                        f"(SELECT 1 FROM {temp} s WHERE {match})", params)
            deleted = max(cur.rowcount, 0)
            cur.execute(f"DROP TABLE {temp}")
        self.tables[table].load.swept += deleted
        return deleted
