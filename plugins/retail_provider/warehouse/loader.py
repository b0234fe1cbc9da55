"""Bulk loading into PostgreSQL: COPY into a staging table, then one set-based merge per batch.

Everything happens inside the caller's transaction, so a sync is all or nothing: the
caller commits once at the end (and only then moves its watermark) or rolls back.

When the target table is empty at the start (a first load), rows are copied straight into
it: there is nothing to merge with, and keyset-paged feeds carry each key once.  Should a
key arrive twice after all, the batch is rolled back to its savepoint and the load carries
on through staging and merge.

Per batch, the last change of each key wins (``DISTINCT ON`` by key, latest first):
``DELETE`` rows delete the target row; every other action upserts it, and an upsert that
would not change any value writes nothing (a repeated window changes nothing).  A
*sweep* (full resync or snapshot) also remembers every key it saw and finally deletes the
rows of its scope that the source no longer has.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from retail_provider.warehouse.schema import TableSpec, quote

log = logging.getLogger(__name__)
META_TAIL = ("_scope", "_action", "_loaded_at", "_sync_id", "_extra")


class TypedRows(list):
    """Rows ``(action, *columns, extra)`` whose values all have the client type of their column.

    COPY then formats them with one fixed dumper per column (``Copy.set_types``), about
    twice as fast as choosing a dumper for every value.

    :param pg_types: a psycopg type name per value of a row (``text``, ``int8``, ``float8``...).
    """

    def __init__(self, rows: Iterable[Sequence[Any]], pg_types: Sequence[str]) -> None:
        super().__init__(rows)
        self.pg_types = list(pg_types)


def upsert_sql(spec: TableSpec, source: str) -> str:
    """``INSERT`` the rows of ``source`` (a table or subquery with the data columns, ``_action``
    and ``_extra``) into the target; a key that exists is updated only when a value differs.
    Parameters: ``scope`` and ``sync_id``."""
    data_cols = [quote(c) for c in spec.column_names]
    insert_cols = ", ".join([*data_cols, *META_TAIL])
    select_cols = ", ".join([*data_cols, "%(scope)s", "_action", "now()", "%(sync_id)s", "_extra"])
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in [*data_cols, *META_TAIL])
    compared = [*data_cols, "_extra"]
    changed = (
        f"({', '.join('t.' + c for c in compared)}) IS DISTINCT FROM "
        f"({', '.join('EXCLUDED.' + c for c in compared)})"
    )
    pk = ", ".join(quote(k) for k in spec.primary_key)
    return (f"INSERT INTO {spec.qualified} AS t ({insert_cols}) SELECT {select_cols} FROM {source} "
            f"ON CONFLICT ({pk}) DO UPDATE SET {updates} WHERE {changed}")


def key_match(spec: TableSpec, left: str = "t", right: str = "s") -> str:
    """The join of two row sources on the key (and the scope, where it is part of the key)."""
    match = " AND ".join(f"{left}.{quote(k)} = {right}.{quote(k)}" for k in spec.key)
    return match + (f" AND {left}._scope = %(scope)s" if spec.scope_in_key else "")


class MergeLoader:
    """Load one table in the caller's open transaction.

    :param conn: a psycopg 3 connection (not in autocommit mode).
    :param spec: the target table.
    :param scope: canonical filter combination of this sync (``''`` when unfiltered).
    :param sync_id: ledger id stamped on the rows this sync changes.
    :param sweep: delete rows of the scope that this sync did not see (full resync).
    :param batch_rows: staged rows that trigger a merge.
    :param direct_first_load: COPY straight into the target when it is empty at the start.
    :param new_keys: COPY straight into the target whatever it holds (the caller knows the
        keys are new, e.g. a resumed load into its own shadow table); a repeated key still
        falls back to staging and merge.
    """

    def __init__(
        self,
        conn: Any,
        spec: TableSpec,
        *,
        scope: str = "",
        sync_id: int | None = None,
        sweep: bool = False,
        batch_rows: int = 50_000,
        direct_first_load: bool = True,
        new_keys: bool = False,
    ) -> None:
        self.conn = conn
        self.spec = spec
        self.scope = scope
        self.sync_id = sync_id
        self.sweep = sweep
        self.batch_rows = batch_rows
        self.counts: Counter[str] = Counter()
        self.merged = Counter({"upserted": 0, "deleted": 0, "swept": 0})
        self.busy = {"copy": 0.0, "merge": 0.0}  # seconds the warehouse side took, for the log
        self._staged = 0
        self._seq = 0
        self._stage = f"_stage_{spec.table}"
        self._seen = f"_seen_{spec.table}"
        self._prepared = False
        self._copy_cols = ["_action", "_seq", *spec.column_names, "_extra"]
        self._direct_allowed = direct_first_load
        self._new_keys = new_keys
        self.direct = False

    # -- setup --------------------------------------------------------------------------

    def prepare(self) -> None:
        """Take the sync lock and create the staging tables (the target must exist: see
        :func:`~retail_provider.warehouse.ddl.ensure_table`, which the caller runs in its own short transaction first)."""
        with self.conn.cursor() as cur:
            # one sync per table and scope at a time; released at commit or rollback
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"{self.spec.qualified}|{self.scope}",),
            )
            cols = ", ".join(f"{quote(c.name)} {c.pg_type}" for c in self.spec.columns)
            cur.execute(f"DROP TABLE IF EXISTS {quote(self._stage)}")
            cur.execute(
                f"CREATE TEMP TABLE {quote(self._stage)} (_action text NOT NULL, _seq bigint NOT NULL, "
                f"{cols}, _extra jsonb) ON COMMIT DROP"
            )
            if self.sweep:
                keys = ", ".join(f"{quote(k)} {self.spec.column(k).pg_type}" for k in self.spec.key)
                cur.execute(f"DROP TABLE IF EXISTS {quote(self._seen)}")
                cur.execute(f"CREATE TEMP TABLE {quote(self._seen)} ({keys}) ON COMMIT DROP")
            if self._new_keys:
                self.direct = True
            elif self._direct_allowed:
                cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {self.spec.qualified})")
                self.direct = bool(cur.fetchone()[0])
        self._prepared = True

    # -- loading ------------------------------------------------------------------------

    def stage(self, rows: Iterable[Sequence[Any]]) -> int:
        """COPY rows ``(action, *columns, extra)`` into staging; merge when a batch is full."""
        if not self._prepared:
            self.prepare()
        if self.direct:
            rows = rows if isinstance(rows, list) else list(rows)
            if self._copy_direct(rows):
                return len(rows)
        n = 0
        started = time.perf_counter()
        cols = ", ".join(quote(c) for c in self._copy_cols)
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY {quote(self._stage)} ({cols}) FROM STDIN") as copy:
                if isinstance(rows, TypedRows):
                    copy.set_types(["text", "int8", *rows.pg_types[1:]])
                for row in rows:
                    self._seq += 1
                    action = row[0]
                    self.counts[action] += 1
                    copy.write_row((action, self._seq, *row[1:]))
                    n += 1
        self.busy["copy"] += time.perf_counter() - started
        self._staged += n
        if self._staged >= self.batch_rows:
            self.merge()
        return n

    def _copy_direct(self, rows: list[Sequence[Any]]) -> bool:
        """First load: COPY straight into the empty target; False (and back to merging) if a key repeats."""
        import psycopg

        cols = ", ".join(quote(c) for c in [*self.spec.column_names, "_scope", "_action", "_sync_id", "_extra"])
        counts: Counter[str] = Counter()
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:  # a savepoint
                with cur.copy(f"COPY {self.spec.qualified} ({cols}) FROM STDIN") as copy:
                    if isinstance(rows, TypedRows):
                        copy.set_types([*rows.pg_types[1:-1], "text", "text", "int8", "text"])
                    for row in rows:
                        action = row[0]
                        counts[action] += 1
                        if action != "DELETE":
                            copy.write_row((*row[1:-1], self.scope, action, self.sync_id, row[-1]))
        except psycopg.errors.UniqueViolation:
            log.info("%s: a key repeats in the feed; continuing with staging and merge", self.spec.qualified)
            self.direct = False
            if self.sweep:  # rows copied so far count as seen
                key = ", ".join(quote(k) for k in self.spec.key)
                with self.conn.cursor() as cur:
                    cur.execute(
                        f"INSERT INTO {quote(self._seen)} ({key}) SELECT {key} FROM {self.spec.qualified} "
                        "WHERE _sync_id = %s",
                        (self.sync_id,),
                    )
            return False
        self.counts.update(counts)
        self.merged["upserted"] += sum(v for k, v in counts.items() if k != "DELETE")
        return True

    def merge(self) -> None:
        """Apply the staged batch to the target with two set-based statements."""
        if not self._staged:
            return
        spec = self.spec
        key = ", ".join(quote(k) for k in spec.key)
        last = f"SELECT DISTINCT ON ({key}) * FROM {quote(self._stage)} ORDER BY {key}, _seq DESC"
        params = {"scope": self.scope, "sync_id": self.sync_id}
        started = time.perf_counter()
        with self.conn.cursor() as cur:
            cur.execute(
                f"DELETE FROM {spec.qualified} t USING ({last}) s WHERE s._action = 'DELETE' AND {key_match(spec)}",
                params,
            )
            self.merged["deleted"] += max(cur.rowcount, 0)
            cur.execute(upsert_sql(spec, f"({last}) s WHERE s._action <> 'DELETE'"), params)
            self.merged["upserted"] += max(cur.rowcount, 0)
            if self.sweep:
                cur.execute(
                    f"INSERT INTO {quote(self._seen)} ({key}) "
                    f"SELECT {key} FROM {quote(self._stage)} WHERE _action <> 'DELETE'"
                )
            cur.execute(f"TRUNCATE {quote(self._stage)}")
        self.busy["merge"] += time.perf_counter() - started
        self._staged = 0

    def finish(self) -> Counter[str]:
        """Merge what is left and, for a sweep, delete the scope's rows the source no longer has."""
        if not self._prepared:
            self.prepare()
        self.merge()
        if not self.direct and sum(self.counts.values()):
            log.info("%s: merged %d staged rows in %.2fs (COPY %.2fs, merge %.2fs)", self.spec.qualified,
                     sum(self.counts.values()), sum(self.busy.values()), self.busy["copy"], self.busy["merge"])
        if self.sweep and not self.direct:  # a load into an empty table has nothing to sweep
            spec = self.spec
            match = " AND ".join(f"s.{quote(k)} = t.{quote(k)}" for k in spec.key)
            where = "" if (self.scope == "" and not spec.scope_in_key) else "t._scope = %(scope)s AND "
            with self.conn.cursor() as cur:
                cur.execute(
                    f"DELETE FROM {spec.qualified} t WHERE {where}"
                    f"NOT EXISTS (SELECT 1 FROM {quote(self._seen)} s WHERE {match})",
                    {"scope": self.scope},
                )
                self.merged["swept"] += max(cur.rowcount, 0)
        return self.merged
