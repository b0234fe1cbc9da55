"""One OCDS endpoint window into its warehouse table, inside the caller's transaction.

:func:`sync_endpoint` streams the endpoint's pages from :class:`~retail_provider.ocds.hook.OcdsHook`,
turns each record into a row and writes it through the shared table sync
(:mod:`retail_provider.warehouse.tablesync`: ledger row, COPY staging, merge).  It never
commits: the caller commits once (then moves the watermark) or rolls back and records the
failure with :func:`targets_for`'s targets, so a failure anywhere leaves table, ledger and
watermark as they were.

A nested endpoint (promotions) writes its child tables too (:mod:`.promotions`).  Records a
page could not apply go to ``retail_meta.sync_rejects`` (:mod:`retail_provider.warehouse.rejects`)
and the sync goes on; a ``count`` that disagrees with the items is logged and recorded in the
ledger row's ``warnings``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from retail_provider.ocds.catalog import OcdsEndpoint
from retail_provider.ocds.decode import fast_decoder
from retail_provider.ocds.envelope import PageView
from retail_provider.ocds.promotions import CHILDREN, child_rows, child_specs, state_view, stored_keys
from retail_provider.ocds.rows import to_rows
from retail_provider.warehouse.ledger import ledger_finish
from retail_provider.warehouse.rejects import REJECTS_TABLE, ensure_rejects, record_rejects
from retail_provider.warehouse.schema import TableSpec, table_spec
from retail_provider.warehouse.tablesync import TableLoad, TableSync, Target, open_tables

log = logging.getLogger(__name__)

SCHEMA = "ocds"
VENDOR = "ocds"


def scope_of(filters: dict[str, str]) -> str:
    """Canonical text of a filter combination: ``nodeid=5111&nodelevel=STORE``."""
    return "&".join(f"{k}={v}" for k, v in sorted(filters.items()))


def spec_for(endpoint: OcdsEndpoint, schema: str = SCHEMA) -> TableSpec:
    return table_spec(endpoint.row_model or endpoint.model, schema=schema, table=endpoint.table, key=endpoint.key,
                      scope_in_key=endpoint.scope_in_key)


def target_for(endpoint: OcdsEndpoint, *, filters: dict[str, str], since: datetime | None, before: datetime | None,
               sweep: bool, schema: str = SCHEMA) -> Target:
    """The table of one sync and how the ledger names it: a windowed sweep is a ``full`` sync."""
    if not endpoint.windowed:
        since = before = None
    return Target(vendor=VENDOR, endpoint=endpoint.name, spec=spec_for(endpoint, schema),
                  mode="full" if sweep and endpoint.windowed else endpoint.mode, filters=filters,
                  since=since, before=before, scope=scope_of(filters), sweep=sweep or not endpoint.windowed)


def targets_for(endpoint: OcdsEndpoint, *, filters: dict[str, str], since: datetime | None,
                before: datetime | None, sweep: bool, schema: str = SCHEMA) -> list[Target]:
    """Every table of one sync: the endpoint's own first, then a nested endpoint's children."""
    main = target_for(endpoint, filters=filters, since=since, before=before, sweep=sweep, schema=schema)
    if not endpoint.nested:
        return [main]
    return [main, *(replace(main, spec=spec) for spec in child_specs(schema, endpoint.table, endpoint.scope_in_key))]


@dataclass
class PageChecks:
    """What the pages of one sync carried beside their records: rejects and odd counts."""

    pages: int = 0
    rejected: int = 0
    count_mismatches: list[dict[str, int]] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)

    def check(self, conn: Any, table: TableSync, page: PageView[Any]) -> None:
        """Count the page; write its rejects; note a ``count`` that disagrees with its items."""
        self.pages += 1
        if page.rejects:
            target = table.target
            self.rejected += record_rejects(conn, table.load.sync_id, target.ledger_fields(),
                                            [(r.reason, r.record) for r in page.rejects])
            self.reasons.update(r.reason for r in page.rejects)
            log.warning("ocds %s: %d record(s) of page %d cannot be applied (first: %s); kept in "
                        "retail_meta.sync_rejects", target.endpoint, len(page.rejects), self.pages,
                        page.rejects[0].reason)
        if page.count is not None and page.count != page.items:
            self.count_mismatches.append({"page": self.pages, "count": page.count, "items": page.items})
            log.warning("ocds %s: page %d says count=%d but carries %d items; loaded as carried",
                        table.target.endpoint, self.pages, page.count, page.items)

    def record(self, conn: Any, table: TableSync) -> None:
        """Add the rejects and warnings to the ledger row of the endpoint's table."""
        if self.rejected or self.count_mismatches:
            warnings = {"count_mismatch": self.count_mismatches[:20],
                        "count_mismatch_pages": len(self.count_mismatches)} if self.count_mismatches else {}
            ledger_finish(conn, table.load.sync_id, status="success", rows_rejected=self.rejected,
                          warnings=warnings)


def stage_page(conn: Any, endpoint: OcdsEndpoint, tables: list[TableSync], page: PageView[Any], fast: bool) -> None:
    """Stage a page's records: as rows of the endpoint's table, and of its child tables."""
    main = tables[0]
    main.stage(page.records if fast else to_rows(main.spec, page.records))
    if endpoint.nested:
        for table, child in zip(tables[1:], CHILDREN, strict=True):
            stored = stored_keys(conn, table.spec, page.records) if child.replaced else None
            table.stage(child_rows(table.spec, child, page.records, stored))


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
    rejected: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    count_mismatches: int = 0
    children: dict[str, dict[str, Any]] = field(default_factory=dict)

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
    targets = targets_for(endpoint, filters=endpoint.validate_filters(filters), since=since, before=before,
                          sweep=sweep, schema=schema)
    target = targets[0]
    ensure_rejects(conn)
    fast = fast_decoder(endpoint, target.spec)
    if fast and target.sweep and endpoint.windowed and len(targets) == 1:  # a big first load or full refresh
        return sync_resumably(hook, conn, endpoint, target, fast, page_size=page_size, batch_rows=batch_rows,
                              run_info=run_info, prefetch=prefetch)
    views = [state_view(schema, endpoint.table)] if endpoint.nested else []
    tables = open_tables(conn, targets, run_info=run_info, batch_rows=batch_rows, views=views)
    table = tables[0]
    pages = hook.iter_pages(endpoint, since=target.since, before=target.before, filters=dict(target.filters) or None,
                            limit=page_size, decode=fast, prefetch=prefetch)
    checks = PageChecks()
    for page in pages:
        stage_page(conn, endpoint, tables, page, fast is not None)
        checks.check(conn, table, page)
    load, *children = [t.finish() for t in tables]
    result = SyncResult(
        endpoint=endpoint.name, table=target.table, mode=endpoint.mode, filters=dict(target.filters),
        since=target.since.isoformat() if target.since else None,
        before=target.before.isoformat() if target.before else None, sweep=target.sweep, pages=checks.pages,
        rows_by_action=table.rows_by_action, upserted=load.upserted, deleted=load.deleted, swept=load.swept,
        duration_s=round(time.perf_counter() - started, 3), sync_id=load.sync_id, rejected=checks.rejected,
        reject_reasons=dict(checks.reasons.most_common(10)),
        count_mismatches=len(checks.count_mismatches),
        children={t.target.table: {"rows_by_action": t.rows_by_action, "upserted": c.upserted, "deleted": c.deleted,
                                   "swept": c.swept} for t, c in zip(tables[1:], children, strict=True)},
    )
    for t in tables:
        t.record(pages=checks.pages, duration_s=result.duration_s)
    checks.record(conn, table)
    log.info("ocds %s %s [%s, %s): %d pages, actions %s, upserted %d, deleted %d, swept %d, rejected %d in %.2fs",
             endpoint.name, target.scope or "(all)", result.since, result.before, result.pages,
             result.rows_by_action, result.upserted, result.deleted, result.swept, result.rejected, result.duration_s)
    return result


def sync_resumably(hook: Any, conn: Any, endpoint: OcdsEndpoint, target: Target, decode: Any, *,
                   page_size: int | None, batch_rows: int, run_info: dict[str, Any] | None,
                   prefetch: int) -> SyncResult:
    """A first load or full refresh through a shadow table, committed per batch and resumed
    after a crash (:mod:`retail_provider.warehouse.resumable`); the publish is left to commit.

    Rejects are written with the rows of their page (so committed batches keep theirs); a
    resumed load keeps the window it started with: the result's ``before`` says where it ends.
    """
    from retail_provider.warehouse.resumable import ResumableLoad

    started = time.perf_counter()
    load = ResumableLoad(conn, target, run_info=run_info, batch_rows=batch_rows)
    cp = load.start()
    resumed_at, checks = cp.pages, PageChecks()
    ledger_row = SimpleNamespace(target=target, load=TableLoad(table=target.table, sync_id=cp.sync_id))

    def checked(pages: Any) -> Any:
        for page in pages:
            checks.check(conn, ledger_row, page)  # type: ignore[arg-type]  # a TableSync's ledger side
            yield page

    try:
        if not cp.complete:
            load.load(checked(hook.iter_pages(endpoint, since=cp.since, before=cp.before, limit=page_size,
                                              filters=dict(target.filters) or None, decode=decode,
                                              prefetch=prefetch, start_href=cp.next_href)))
        done = load.publish()
        checks.rejected = load.rejects_recorded(REJECTS_TABLE)  # this attempt's and the earlier ones'
        checks.record(conn, ledger_row)  # type: ignore[arg-type]
    except BaseException:
        conn.rollback()
        load.release()
        raise
    result = SyncResult(
        endpoint=endpoint.name, table=target.table, mode=endpoint.mode, filters=dict(target.filters),
        since=cp.since.isoformat() if cp.since else None, before=cp.before.isoformat() if cp.before else None,
        sweep=True, pages=cp.pages, rows_by_action=dict(sorted(cp.rows_by_action.items())), upserted=done.upserted,
        swept=done.swept, duration_s=round(cp.elapsed_s, 3), sync_id=done.sync_id, rejected=checks.rejected,
        reject_reasons=dict(checks.reasons.most_common(10)), count_mismatches=len(checks.count_mismatches),
    )
    log.info("ocds %s %s [%s, %s): %d pages%s, actions %s, upserted %d, swept %d, rejected %d in %.2fs "
             "(this attempt %.2fs)", endpoint.name, target.scope or "(all)", result.since, result.before, cp.pages,
             f" (resumed after {resumed_at})" if cp.resumed else "", result.rows_by_action, result.upserted,
             result.swept, result.rejected, result.duration_s, time.perf_counter() - started)
    return result
