"""A first load or full refresh that survives a crash: shadow table, checkpoint per batch, one publish.

Loading ten million rows takes minutes; starting again from the first page after a crash at
80% would take them again.  So a first load or full refresh of one table and scope:

1. takes a session advisory lock on the table and scope (held until the publish commits);
2. resumes its checkpoint in ``retail_meta.load_checkpoint`` when that is still valid (the
   shadow table exists with every column, the window starts at the same point, and no sync
   of the same table and scope, or an unfiltered one, has succeeded since it began); else
   begins anew: an empty shadow table ``_shadow_<table>_<scope hash>`` beside the target,
   shaped like it (with its storage parameters, else :data:`FILLFACTOR`), and a ``running``
   ledger row whose id the rows carry;
3. COPYs every page into the shadow table (rows whose key repeats fall back to staging and
   merge, :class:`~retail_provider.warehouse.loader.MergeLoader`) and, every ``batch_rows``
   rows, commits them together with the checkpoint: the feed's next link, the counts, the
   time spent;
4. publishes in the caller's transaction, which the caller commits once: into an empty target
   (a first load) that nothing else hangs on (views, foreign keys, grants, triggers, row
   security, another owner) the shadow table is swapped in (``DROP``, ``RENAME``: instant);
   otherwise one set-based merge from the shadow table updates the rows that differ and
   deletes the rows of the scope the source no longer has.  The checkpoint goes in the same
   transaction.

Readers see the old table until that commit, never a half-loaded one.  A resumed load keeps
its original window (:attr:`Checkpoint.before`): the caller moves its watermark to where the
data really ends.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from operator import itemgetter
from typing import Any, Protocol

from retail_provider.warehouse.ddl import ensure_table, existing_columns, run_ddl
from retail_provider.warehouse.ledger import LEDGER_SCHEMA, LEDGER_TABLE, ensure_ledger, ledger_finish, ledger_start
from retail_provider.warehouse.loader import MergeLoader, TypedRows, key_match, upsert_sql
from retail_provider.warehouse.schema import META_COLUMNS, quote
from retail_provider.warehouse.tablesync import TableLoad, Target, report_recorded, report_staged

log = logging.getLogger(__name__)
CHECKPOINT_TABLE = f"{LEDGER_SCHEMA}.load_checkpoint"
#: free space left on each page of a freshly loaded table: an incremental update changes no key,
#: so with room on its page PostgreSQL rewrites the row in place (a HOT update, no index entry)
FILLFACTOR = 90
CHECKPOINT_DDL = [
    f"CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {CHECKPOINT_TABLE} (
        target_table text NOT NULL,
        scope text NOT NULL,
        shadow_table text NOT NULL,
        sync_id bigint NOT NULL,
        since timestamptz,
        before timestamptz,
        next_href text,
        pages integer NOT NULL DEFAULT 0,
        rows_by_action jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        upserted bigint NOT NULL DEFAULT 0,
        elapsed_s double precision NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 1,
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (target_table, scope)
    )""",
]


class Page(Protocol):
    """What a load needs of a page: its rows ``(action, *columns, extra)`` and where the next one is."""

    records: list[Any]
    next_href: str | None


@dataclass
class Checkpoint:
    """How far a load got: committed with the rows it counts."""

    shadow: str
    sync_id: int
    since: datetime | None
    before: datetime | None
    next_href: str | None = None
    pages: int = 0
    rows_by_action: Counter[str] = field(default_factory=Counter)
    upserted: int = 0
    elapsed_s: float = 0.0
    resumed: bool = False

    @property
    def complete(self) -> bool:
        """Every page is in the shadow table; only the publish is left."""
        return self.pages > 0 and self.next_href is None


def shadow_name(table: str, scope: str) -> str:
    """``_shadow_<table>_<8 hex digits of the scope>`` (within PostgreSQL's 63 characters)."""
    return f"_shadow_{table[:40]}_{hashlib.sha256(scope.encode()).hexdigest()[:8]}"


class ResumableLoad:
    """One first load or full refresh of ``target`` (see the module docstring).

    :param conn: a psycopg 3 connection (not in autocommit mode); committed once per batch.
    :param target: the table, scope and window (``target.sweep`` is implied).
    :param run_info: ``dag_id``, ``run_id``, ``task_id``, ``try_number`` for the ledger.
    :param batch_rows: rows per committed checkpoint.
    """

    def __init__(self, conn: Any, target: Target, *, run_info: dict[str, Any] | None = None,
                 batch_rows: int = 50_000) -> None:
        self.conn, self.target, self.spec = conn, target, target.spec
        self.run_info, self.batch_rows = run_info, batch_rows
        self._lock = f"{self.spec.qualified}|{target.scope}"
        self._pending = 0
        self._since_commit = time.perf_counter()
        self.checkpoint: Checkpoint | None = None

    # -- start or resume ---------------------------------------------------------------

    def start(self) -> Checkpoint:
        """Lock the table and scope, then resume the checkpoint or begin a new one (committed)."""
        ensure_ledger(self.conn)
        ensure_table(self.conn, self.spec)
        if not existing_columns(self.conn, LEDGER_SCHEMA, "load_checkpoint"):
            run_ddl(self.conn, CHECKPOINT_DDL)
        self._execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (self._lock,))
        try:
            self.checkpoint = self._resume() or self._begin()
            self.conn.commit()
        except BaseException:
            self.release()
            raise
        self._since_commit = time.perf_counter()
        return self.checkpoint

    def _resume(self) -> Checkpoint | None:
        row = self._execute(
            f"SELECT shadow_table, sync_id, since, before, next_href, pages, rows_by_action, upserted, elapsed_s "
            f"FROM {CHECKPOINT_TABLE} WHERE target_table = %s AND scope = %s", (self.target.table, self.target.scope),
        ).fetchone()
        if row is None:
            return None
        cp = Checkpoint(*row[:6], Counter(row[6]), row[7], row[8], resumed=True)
        reason = self._stale(cp)
        if reason:
            log.warning("%s: not resuming the interrupted load (%s); starting again", self.target.table, reason)
            self._execute(f"DROP TABLE IF EXISTS {self._qualified(cp.shadow)}")
            ledger_finish(self.conn, cp.sync_id, status="failed", error=f"interrupted load abandoned: {reason}")
            return None
        self._execute(f"UPDATE {CHECKPOINT_TABLE} SET attempts = attempts + 1, updated_at = now() "
                      "WHERE target_table = %s AND scope = %s", (self.target.table, self.target.scope))
        log.info("%s: resuming an interrupted load after %d pages (%d rows committed)", self.target.table,
                 cp.pages, sum(cp.rows_by_action.values()))
        return cp

    def _stale(self, cp: Checkpoint) -> str | None:
        """Why ``cp`` cannot be resumed, or ``None``."""
        have = existing_columns(self.conn, self.spec.schema, cp.shadow)
        if not have:
            return "its shadow table is gone"
        if not {*self.spec.column_names, *(n for n, _ in META_COLUMNS)} <= have:
            return "the table has new columns"
        if cp.since != self.target.since:
            return f"it started at {cp.since}, this load at {self.target.since}"
        newer = self._execute(
            f"SELECT 1 FROM {LEDGER_TABLE} WHERE target_table = %s AND status = 'success' AND id > %s "
            "AND (filters = %s::jsonb OR filters = '{}'::jsonb) LIMIT 1",
            (self.target.table, cp.sync_id, _jsonb(dict(self.target.filters))),
        ).fetchone()
        return "a later sync of the table succeeded" if newer else None

    def _begin(self) -> Checkpoint:
        from psycopg import sql

        sync_id = ledger_start(self.conn, self.run_info, **self.target.ledger_fields())
        cp = Checkpoint(shadow_name(self.spec.table, self.target.scope), sync_id, self.target.since,
                        self.target.before)
        shadow = self._qualified(cp.shadow)
        self._execute(f"DROP TABLE IF EXISTS {shadow}")
        # the target's storage parameters, else room on each page for the updates of later merges
        options = self._execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass",
                                (self.spec.qualified,)).fetchone()[0] or [f"fillfactor={FILLFACTOR}"]
        self._execute(f"CREATE TABLE {shadow} (LIKE {self.spec.qualified} INCLUDING ALL) WITH ({', '.join(options)})")
        # the rows are COPYed without scope and sync id: the shadow table's defaults stamp them
        self._execute(sql.SQL("ALTER TABLE {} ALTER COLUMN _scope SET DEFAULT {}, ALTER COLUMN _sync_id SET DEFAULT {}")
                      .format(sql.SQL(shadow), sql.Literal(self.target.scope), sql.Literal(sync_id)))
        self._execute(
            f"INSERT INTO {CHECKPOINT_TABLE} (target_table, scope, shadow_table, sync_id, since, before) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (target_table, scope) DO UPDATE SET "
            "shadow_table = EXCLUDED.shadow_table, sync_id = EXCLUDED.sync_id, since = EXCLUDED.since, "
            "before = EXCLUDED.before, next_href = NULL, pages = 0, rows_by_action = '{}', upserted = 0, "
            "elapsed_s = 0, attempts = 1, started_at = now(), updated_at = now()",
            (self.target.table, self.target.scope, cp.shadow, sync_id, cp.since, cp.before),
        )
        return cp

    # -- load ----------------------------------------------------------------------------

    def load(self, pages: Iterable[Page]) -> None:
        """COPY each page into the shadow table; commit with the checkpoint every ``batch_rows`` rows.

        The garbage collector pauses meanwhile: pages are millions of short-lived tuples of
        scalars, which reference counting frees, and scanning them took an eighth of the
        client's time.
        """
        cp = self._started()
        with paused_gc():
            for page in pages:
                self._copy(page.records)
                cp.pages += 1
                cp.next_href = page.next_href
                if self._pending >= self.batch_rows or not cp.next_href:  # the last page: only the publish is left
                    self._commit()

    def _copy(self, rows: list[Any]) -> None:
        import psycopg

        cp = self._started()
        counts = Counter(map(itemgetter(0), rows))
        live = [r for r in rows if r[0] != "DELETE"] if counts.get("DELETE") else rows
        cols = ", ".join(["_action", *(quote(c) for c in self.spec.column_names), "_extra"])
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:  # a savepoint
                with cur.copy(f"COPY {self._qualified(cp.shadow)} ({cols}) FROM STDIN") as copy:
                    if isinstance(rows, TypedRows):
                        copy.set_types(rows.pg_types)
                    write = copy.write_row
                    for row in live:
                        write(row)
            cp.upserted += len(live)
        except psycopg.errors.UniqueViolation:
            log.info("%s: a key repeats in the feed; merging this page", self.target.table)
            shadow = replace(self.spec, table=cp.shadow)
            merger = MergeLoader(self.conn, shadow, scope=self.target.scope, sync_id=cp.sync_id,
                                 direct_first_load=False)
            merger.stage(rows)
            merged = merger.finish()
            cp.upserted += merged["upserted"]
        cp.rows_by_action.update(counts)
        self._pending += len(rows)
        report_staged(self.target, len(rows))

    def _commit(self) -> None:
        cp = self._started()
        now = time.perf_counter()
        cp.elapsed_s += now - self._since_commit
        self._since_commit = now
        self._execute(
            f"UPDATE {CHECKPOINT_TABLE} SET next_href = %s, pages = %s, rows_by_action = %s::jsonb, upserted = %s, "
            "elapsed_s = %s, updated_at = now() WHERE target_table = %s AND scope = %s",
            (cp.next_href, cp.pages, _jsonb(dict(cp.rows_by_action)), cp.upserted, cp.elapsed_s,
             self.target.table, self.target.scope),
        )
        self.conn.commit()
        self._pending = 0

    # -- publish -------------------------------------------------------------------------

    def publish(self) -> TableLoad:
        """Swap or merge the shadow table into the target and close the ledger row; do not commit."""
        cp = self._started()
        cp.elapsed_s += time.perf_counter() - self._since_commit
        self._since_commit = time.perf_counter()
        self._execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (self._lock,))
        shadow = self._qualified(cp.shadow)
        load = TableLoad(table=self.target.table, rows=sum(cp.rows_by_action.values()), sync_id=cp.sync_id)
        if self._swappable():
            self._swap(cp)
            load.upserted = cp.upserted
        else:
            load.upserted, load.swept = self._merge(cp)
            self._execute(f"DROP TABLE {shadow}")
        self._execute(f"DELETE FROM {CHECKPOINT_TABLE} WHERE target_table = %s AND scope = %s",
                      (self.target.table, self.target.scope))
        ledger_finish(self.conn, cp.sync_id, status="success", rows_by_action=dict(sorted(cp.rows_by_action.items())),
                      rows_upserted=load.upserted, rows_deleted=0, rows_swept=load.swept, pages=cp.pages,
                      duration_s=round(cp.elapsed_s, 3))
        report_recorded(self.target, load, dict(sorted(cp.rows_by_action.items())), cp.pages, round(cp.elapsed_s, 3))
        self.release()  # the transaction's own lock holds until the caller commits
        return load

    def _swappable(self) -> bool:
        """An empty target that nothing else refers to (checked again under an exclusive lock)."""
        free = self._execute(
            "SELECT c.relacl IS NULL AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) "
            "AND NOT c.relrowsecurity "
            "AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.confrelid = c.oid) "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid "
            "                WHERE d.refobjid = c.oid AND r.ev_class <> c.oid) "
            "FROM pg_class c WHERE c.oid = %s::regclass", (self.spec.qualified,),
        ).fetchone()[0]
        if not free or self._execute(f"SELECT EXISTS (SELECT 1 FROM {self.spec.qualified})").fetchone()[0]:
            return False
        self._execute(f"LOCK TABLE {self.spec.qualified} IN ACCESS EXCLUSIVE MODE")
        return not self._execute(f"SELECT EXISTS (SELECT 1 FROM {self.spec.qualified})").fetchone()[0]

    def _swap(self, cp: Checkpoint) -> None:
        table, shadow = self.spec.table, self._qualified(cp.shadow)
        pkey = self._execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
                             (shadow,)).fetchone()
        self._execute(f"DROP TABLE {self.spec.qualified}")
        self._execute(f"ALTER TABLE {shadow} RENAME TO {quote(table)}")
        self._execute(f"ALTER TABLE {self.spec.qualified} ALTER COLUMN _scope SET DEFAULT '', "
                      "ALTER COLUMN _sync_id DROP DEFAULT")
        if pkey and pkey[0] != f"{table}_pkey":
            self._execute(f"ALTER TABLE {self.spec.qualified} RENAME CONSTRAINT {quote(pkey[0])} "
                          f"TO {quote(table[:58] + '_pkey')}")

    def _merge(self, cp: Checkpoint) -> tuple[int, int]:
        """Upsert the rows that differ, delete the scope's rows the source no longer has."""
        spec, shadow = self.spec, self._qualified(cp.shadow)
        params = {"scope": self.target.scope, "sync_id": cp.sync_id}
        mine = "" if (self.target.scope == "" and not spec.scope_in_key) else "t._scope = %(scope)s AND "
        swept = self._execute(f"DELETE FROM {spec.qualified} t WHERE {mine}"
                              f"NOT EXISTS (SELECT 1 FROM {shadow} s WHERE {key_match(spec)})", params).rowcount
        upserted = self._execute(upsert_sql(spec, f"{shadow} s"), params).rowcount
        return max(upserted, 0), max(swept, 0)

    def rejects_recorded(self, table: str) -> int:
        """Rows of the rejects ``table`` (``retail_meta.sync_rejects``) written by this load, all attempts."""
        cp = self._started()
        return int(self._execute(f"SELECT count(*) FROM {table} WHERE sync_id = %s", (cp.sync_id,)).fetchone()[0])

    # -- helpers -------------------------------------------------------------------------

    def release(self) -> None:
        """Give up the session lock (also released when the connection closes)."""
        try:
            self._execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (self._lock,))
        except Exception:  # the transaction is aborted: the lock goes with the connection
            log.debug("could not release the load lock of %s now", self.target.table)

    def _started(self) -> Checkpoint:
        if self.checkpoint is None:
            raise RuntimeError("ResumableLoad.start() first")
        return self.checkpoint

    def _qualified(self, table: str) -> str:
        return f"{quote(self.spec.schema)}.{quote(table)}"

    def _execute(self, query: Any, params: Any = None) -> Any:
        return self.conn.execute(query, params)


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside (it resumes afterwards, if it was on)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _jsonb(value: dict[str, Any]) -> str:
    import orjson

    return orjson.dumps(value).decode()

