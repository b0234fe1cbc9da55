"""One table of one sync, the same way on every path (OCDS feeds, RetailNext resources, datamine).

A sync writes one or more tables inside the caller's one transaction:

1. :func:`open_tables` creates what is missing (tables, columns, views, the ledger) in short
   transactions of their own, then writes a ``running`` ledger row and prepares a
   :class:`~retail_provider.warehouse.loader.MergeLoader` for each table;
2. the sync stages rows (:meth:`TableSync.stage`) and merges the rest (:meth:`TableSync.finish`);
3. :meth:`TableSync.record` closes the ledger row as ``success``; the caller commits once.

After a rollback, :func:`record_failure` writes a ``failed`` row per table, in a transaction
of its own, from the same :class:`Target` the sync used, so the row carries the true mode
(``full`` for a full refresh, not the endpoint's usual mode).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from retail_provider.warehouse.ddl import ensure_table, ensure_view
from retail_provider.warehouse.ledger import LEDGER_TABLE, ensure_ledger, ledger_finish, ledger_start
from retail_provider.warehouse.loader import MergeLoader
from retail_provider.warehouse.schema import TableSpec

log = logging.getLogger(__name__)
ERROR_CHARS = 2000
#: told ``staged(target, rows)`` after each staged batch and ``recorded(target, load, rows_by_action,
#: pages, duration_s)`` when a table's sync is done (the orchestration layer's progress log listens)
OBSERVERS: list[Any] = []


@dataclass(frozen=True)
class Target:
    """One table a sync writes, and how the ledger describes the sync.

    :param vendor: ``ocds`` or ``retailnext``.
    :param endpoint: what is synced (an OCDS endpoint, a RetailNext resource, ``v2/datamine``).
    :param mode: ``incremental``, ``full``, ``append``, ``snapshot``, ``window``, ``upsert``, ``datamine``.
    :param scope: canonical filter combination stamped on the rows (``''`` when unfiltered).
    :param sweep: also delete the scope's rows this sync did not see.
    """

    vendor: str
    endpoint: str
    spec: TableSpec
    mode: str
    filters: Mapping[str, Any] = field(default_factory=dict)
    since: datetime | None = None
    before: datetime | None = None
    scope: str = ""
    sweep: bool = False

    @property
    def table(self) -> str:
        return f"{self.spec.schema}.{self.spec.table}"

    def ledger_fields(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "endpoint": self.endpoint, "target_table": self.table,
                "filters": dict(self.filters), "mode": self.mode, "since": self.since, "before": self.before}


@dataclass
class TableLoad:
    """What one sync did to one table (safe as part of an XCom)."""

    table: str
    rows: int = 0
    upserted: int = 0
    deleted: int = 0
    swept: int = 0
    sync_id: int | None = None


class TableSync:
    """The ledger row and the loader of one table, inside the caller's open transaction."""

    def __init__(self, conn: Any, target: Target, *, run_info: dict[str, Any] | None = None,
                 batch_rows: int = 50_000) -> None:
        self.conn = conn
        self.target = target
        self.load = TableLoad(table=target.table)
        self.load.sync_id = ledger_start(conn, run_info, **target.ledger_fields())
        self.loader = MergeLoader(conn, target.spec, scope=target.scope, sync_id=self.load.sync_id,
                                  sweep=target.sweep, batch_rows=batch_rows)
        self.loader.prepare()

    @property
    def spec(self) -> TableSpec:
        return self.target.spec

    def stage(self, rows: Iterable[Sequence[Any]]) -> int:
        """COPY ``(action, *columns, extra)`` rows (merged in batches); returns how many."""
        staged = self.loader.stage(rows)
        self.load.rows += staged
        report_staged(self.target, staged)
        return staged

    def finish(self) -> TableLoad:
        """Merge what is left (and sweep, for a full sync)."""
        merged = self.loader.finish()
        self.load.upserted, self.load.deleted = merged["upserted"], merged["deleted"]
        self.load.swept += merged["swept"]
        return self.load

    @property
    def rows_by_action(self) -> dict[str, int]:
        return dict(sorted(Counter(self.loader.counts).items()))

    def record(self, *, pages: int, duration_s: float) -> None:
        """Close the ledger row as ``success`` (in the data transaction)."""
        ledger_finish(self.conn, self.load.sync_id, status="success", rows_by_action=self.rows_by_action,
                      rows_upserted=self.load.upserted, rows_deleted=self.load.deleted,
                      rows_swept=self.load.swept, pages=pages, duration_s=duration_s)
        report_recorded(self.target, self.load, self.rows_by_action, pages, duration_s)


def report_staged(target: Target, rows: int) -> None:
    """Tell the observers (the running sync's progress log) that ``rows`` rows were staged."""
    for observer in OBSERVERS:
        observer.staged(target, rows)


def report_recorded(target: Target, load: TableLoad, rows_by_action: dict[str, int], pages: int,
                    duration_s: float) -> None:
    """Tell the observers that a table's sync is recorded as done."""
    for observer in OBSERVERS:
        observer.recorded(target, load, rows_by_action, pages, duration_s)


def open_tables(conn: Any, targets: Sequence[Target], *, run_info: dict[str, Any] | None = None,
                batch_rows: int = 50_000, views: Sequence[tuple[str, str, str]] = ()) -> list[TableSync]:
    """DDL first (short transactions of their own), then a ledger row and a loader per table.

    :param views: ``(schema, name, CREATE VIEW sql)`` to create when missing.
    """
    ensure_ledger(conn)
    for target in targets:
        ensure_table(conn, target.spec)
    for schema, name, sql in views:
        ensure_view(conn, schema, name, sql)
    return [TableSync(conn, t, run_info=run_info, batch_rows=batch_rows) for t in targets]


def record_failure(conn: Any, targets: Sequence[Target], error: BaseException | str, *,
                   run_info: dict[str, Any] | None = None) -> None:
    """After a rollback: a ``failed`` row per table, in a transaction of its own.

    Never raises: the ledger must not hide the original error.
    """
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    try:
        ensure_ledger(conn)
        for target in targets:
            sync_id = ledger_start(conn, run_info, **target.ledger_fields())
            ledger_finish(conn, sync_id, status="failed", error=text[:ERROR_CHARS])
        conn.commit()
    except Exception:
        log.exception("could not record the failed sync in %s", LEDGER_TABLE)
        conn.rollback()
