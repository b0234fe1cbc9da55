"""One OCDS endpoint window into its warehouse table, inside the caller's transaction.

:func:`sync_endpoint` streams the endpoint's pages from :class:`~retail_provider.ocds.hook.OcdsHook`,
turns each record into a row and writes it through the shared table sync
(:mod:`retail_provider.warehouse.tablesync`: ledger row, COPY staging, merge).  It never
commits: the caller commits once (then moves the watermark) or rolls back and records the
failure with :func:`target_for`'s target, so a failure anywhere leaves table, ledger and
watermark as they were.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from retail_provider.ocds.catalog import OcdsEndpoint
from retail_provider.ocds.decode import fast_decoder
from retail_provider.ocds.rows import to_rows
from retail_provider.warehouse.schema import TableSpec, table_spec
from retail_provider.warehouse.tablesync import Target, open_tables

log = logging.getLogger(__name__)

SCHEMA = "ocds"
VENDOR = "ocds"


def scope_of(filters: dict[str, str]) -> str:
    """Canonical text of a filter combination: ``nodeid=5111&nodelevel=STORE``."""
    return "&".join(f"{k}={v}" for k, v in sorted(filters.items()))


def spec_for(endpoint: OcdsEndpoint, schema: str = SCHEMA) -> TableSpec:
    return table_spec(endpoint.model, schema=schema, table=endpoint.table, key=endpoint.key,
                      scope_in_key=endpoint.scope_in_key)


def target_for(endpoint: OcdsEndpoint, *, filters: dict[str, str], since: datetime | None, before: datetime | None,
               sweep: bool, schema: str = SCHEMA) -> Target:
    """The table of one sync and how the ledger names it: a windowed sweep is a ``full`` sync."""
    if not endpoint.windowed:
        since = before = None
    return Target(vendor=VENDOR, endpoint=endpoint.name, spec=spec_for(endpoint, schema),
                  mode="full" if sweep and endpoint.windowed else endpoint.mode, filters=filters,
                  since=since, before=before, scope=scope_of(filters), sweep=sweep or not endpoint.windowed)


@dataclass
class SyncResult:
    """What one sync did; small and secret-free, so it is safe as an XCom."""

    endpoint: str
    table: str
    mode: str
    filters: dict[str, str]
    since: str | None
    before: str | None
    sweep: bool
    pages: int = 0
    rows_by_action: dict[str, int] = field(default_factory=dict)
    upserted: int = 0
    deleted: int = 0
    swept: int = 0
    duration_s: float = 0.0
    sync_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync_endpoint(hook: Any, conn: Any, endpoint: OcdsEndpoint, *, filters: dict[str, str] | None = None,
                  since: datetime | None = None, before: datetime | None = None, sweep: bool = False,
                  schema: str = SCHEMA, page_size: int | None = None, batch_rows: int = 50_000,
                  run_info: dict[str, Any] | None = None, prefetch: int = 1) -> SyncResult:
    """Sync ``endpoint`` for the window ``[since, before)`` into ``schema``; do not commit.

    :param hook: an :class:`~retail_provider.ocds.hook.OcdsHook`.
    :param conn: psycopg 3 connection with an open (or implicit) transaction.
    :param sweep: also delete rows of this scope that the source did not return.
    :param prefetch: pages fetched ahead in a background thread while the last one loads.
    :param run_info: ``dag_id``, ``run_id``, ``task_id``, ``try_number`` for the ledger.
    """
    started = time.perf_counter()
    target = target_for(endpoint, filters=endpoint.validate_filters(filters), since=since, before=before,
                        sweep=sweep, schema=schema)
    fast = fast_decoder(endpoint, target.spec)
    if fast and target.sweep and endpoint.windowed:  # a big first load or full refresh: resumable
        return sync_resumably(hook, conn, endpoint, target, fast, page_size=page_size, batch_rows=batch_rows,
                              run_info=run_info, prefetch=prefetch)
    (table,) = open_tables(conn, [target], run_info=run_info, batch_rows=batch_rows)
    pages = hook.iter_pages(endpoint, since=target.since, before=target.before, filters=dict(target.filters) or None,
                            limit=page_size, decode=fast, prefetch=prefetch)
    count = 0
    for page in pages:
        table.stage(page.records if fast else to_rows(table.spec, page.records))
        count += 1
    load = table.finish()
    result = SyncResult(
        endpoint=endpoint.name, table=target.table, mode=endpoint.mode, filters=dict(target.filters),
        since=target.since.isoformat() if target.since else None,
        before=target.before.isoformat() if target.before else None, sweep=target.sweep, pages=count,
        rows_by_action=table.rows_by_action, upserted=load.upserted, deleted=load.deleted, swept=load.swept,
        duration_s=round(time.perf_counter() - started, 3), sync_id=load.sync_id,
    )
    table.record(pages=count, duration_s=result.duration_s)
    log.info("ocds %s %s [%s, %s): %d pages, actions %s, upserted %d, deleted %d, swept %d in %.2fs",
             endpoint.name, target.scope or "(all)", result.since, result.before, result.pages,
             result.rows_by_action, result.upserted, result.deleted, result.swept, result.duration_s)
    return result


def sync_resumably(hook: Any, conn: Any, endpoint: OcdsEndpoint, target: Target, decode: Any, *,
                   page_size: int | None, batch_rows: int, run_info: dict[str, Any] | None,
                   prefetch: int) -> SyncResult:
    """A first load or full refresh through a shadow table, committed per batch and resumed
    after a crash (:mod:`retail_provider.warehouse.resumable`); the publish is left to commit.

    A resumed load keeps the window it started with: the result's ``before`` says where it ends.
    """
    from retail_provider.warehouse.resumable import ResumableLoad

    started = time.perf_counter()
    load = ResumableLoad(conn, target, run_info=run_info, batch_rows=batch_rows)
    cp = load.start()
    resumed_at = cp.pages
    try:
        if not cp.complete:
            load.load(hook.iter_pages(endpoint, since=cp.since, before=cp.before, filters=dict(target.filters) or None,
                                      limit=page_size, decode=decode, prefetch=prefetch, start_href=cp.next_href))
        done = load.publish()
    except BaseException:
        conn.rollback()
        load.release()
        raise
    result = SyncResult(
        endpoint=endpoint.name, table=target.table, mode=endpoint.mode, filters=dict(target.filters),
        since=cp.since.isoformat() if cp.since else None, before=cp.before.isoformat() if cp.before else None,
        sweep=True, pages=cp.pages, rows_by_action=dict(sorted(cp.rows_by_action.items())), upserted=done.upserted,
        swept=done.swept, duration_s=round(cp.elapsed_s, 3), sync_id=done.sync_id,
    )
    log.info("ocds %s %s [%s, %s): %d pages%s, actions %s, upserted %d, swept %d in %.2fs (this attempt %.2fs)",
             endpoint.name, target.scope or "(all)", result.since, result.before, cp.pages,
             f" (resumed after {resumed_at})" if cp.resumed else "", result.rows_by_action, result.upserted,
             result.swept, result.duration_s, time.perf_counter() - started)
    return result
