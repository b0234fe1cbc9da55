"""One OCDS endpoint window into its warehouse table, inside the caller's transaction.

:func:`sync_endpoint` streams the endpoint's pages from :class:`OcdsHook`, turns each
record into a row, stages and merges it with :class:`MergeLoader`, and records the sync in
the ledger.  It never commits: the caller commits once (then moves the watermark) or
rolls back, so a failure anywhere leaves table, ledger and watermark as they were.
(Only missing tables or columns are created first, in a short transaction of their own.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from retail_provider.ocds.catalog import OcdsEndpoint
from retail_provider.ocds.decode import fast_decoder
from retail_provider.ocds.models import OcdsModel, RelatedItem
from retail_provider.warehouse.loader import (
    LEDGER_TABLE,
    MergeLoader,
    ensure_ledger,
    ensure_table,
    ledger_finish,
    ledger_start,
)
from retail_provider.warehouse.schema import TableSpec, _json, table_spec

log = logging.getLogger(__name__)

DEFAULT_SCHEMA = "ocds"


def scope_of(filters: dict[str, str]) -> str:
    """Canonical text of a filter combination: ``nodeid=5111&nodelevel=STORE``."""
    return "&".join(f"{k}={v}" for k, v in sorted(filters.items()))


def spec_for(endpoint: OcdsEndpoint, schema: str = DEFAULT_SCHEMA) -> TableSpec:
    return table_spec(
        endpoint.model, schema=schema, table=endpoint.table, key=endpoint.key, scope_in_key=endpoint.scope_in_key
    )


def record_action(record: OcdsModel) -> str:
    """The change a record asks for.

    A missing action (promotions, rows of current-state endpoints) is an upsert.  Related
    items carry two levels of action: the pair is deleted when either says DELETE.
    """
    action = getattr(record, "action", None) or "UPSERT"
    if isinstance(record, RelatedItem) and record.relateditemaction == "DELETE":
        return "DELETE"
    return action


def to_rows(spec: TableSpec, records: Iterable[OcdsModel]) -> Iterator[tuple[Any, ...]]:
    """``(action, *columns, extra)`` per record, in the spec's column order."""
    getters = [(c.field, c.to_db) for c in spec.columns]
    for record in records:
        values = [
            (conv(getattr(record, name)) if conv else getattr(record, name)) for name, conv in getters
        ]
        extra = record.__pydantic_extra__
        yield (record_action(record), *values, _json(extra) if extra else None)


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


def sync_endpoint(
    hook: Any,
    conn: Any,
    endpoint: OcdsEndpoint,
    *,
    filters: dict[str, str] | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    sweep: bool = False,
    schema: str = DEFAULT_SCHEMA,
    page_size: int | None = None,
    batch_rows: int = 50_000,
    run_info: dict[str, Any] | None = None,
    prefetch: int = 1,
) -> SyncResult:
    """Sync ``endpoint`` for the window ``[since, before)`` into ``schema``; do not commit.

    :param hook: an :class:`~retail_provider.ocds.hook.OcdsHook`.
    :param conn: psycopg 3 connection with an open (or implicit) transaction.
    :param sweep: also delete rows of this scope that the source did not return.
    :param prefetch: pages fetched ahead in a background thread while the last one loads.
    :param run_info: ``dag_id``, ``run_id``, ``task_id``, ``try_number`` for the ledger.
    """
    started = time.perf_counter()
    filters = endpoint.validate_filters(filters)
    spec = spec_for(endpoint, schema)
    mode = endpoint.mode
    if not endpoint.windowed:
        since = before = None
        sweep = True
    result = SyncResult(
        endpoint=endpoint.name,
        table=f"{schema}.{endpoint.table}",
        mode=mode,
        filters=filters,
        since=since.isoformat() if since else None,
        before=before.isoformat() if before else None,
        sweep=sweep,
    )
    # DDL first, in its own short transaction; then the data transaction the caller commits
    ensure_ledger(conn)
    ensure_table(conn, spec)
    result.sync_id = ledger_start(
        conn,
        vendor="ocds",
        endpoint=endpoint.name,
        target_table=result.table,
        filters=filters,
        mode=("full" if sweep and endpoint.windowed else mode),
        since=since,
        before=before,
        **{k: v for k, v in (run_info or {}).items() if k in ("dag_id", "run_id", "task_id", "try_number")},
    )
    loader = MergeLoader(conn, spec, scope=scope_of(filters), sync_id=result.sync_id, sweep=sweep, batch_rows=batch_rows)
    loader.prepare()
    fast = fast_decoder(endpoint, spec)
    pages = hook.iter_pages(
        endpoint, since=since, before=before, filters=filters or None, limit=page_size, decode=fast, prefetch=prefetch
    )
    for page in pages:
        loader.stage(page.records if fast else to_rows(spec, page.records))
        result.pages += 1
    merged = loader.finish()
    result.rows_by_action = dict(sorted(loader.counts.items()))
    result.upserted, result.deleted, result.swept = merged["upserted"], merged["deleted"], merged["swept"]
    result.duration_s = round(time.perf_counter() - started, 3)
    ledger_finish(
        conn,
        result.sync_id,
        status="success",
        rows_by_action=result.rows_by_action,
        rows_upserted=result.upserted,
        rows_deleted=result.deleted,
        rows_swept=result.swept,
        pages=result.pages,
        duration_s=result.duration_s,
    )
    log.info(
        "ocds %s %s [%s, %s): %d pages, actions %s, upserted %d, deleted %d, swept %d in %.2fs",
        endpoint.name, scope_of(filters) or "(all)", result.since, result.before, result.pages,
        result.rows_by_action, result.upserted, result.deleted, result.swept, result.duration_s,
    )
    return result


def record_failure(conn: Any, endpoint: OcdsEndpoint, *, filters: dict[str, str], since: datetime | None,
                   before: datetime | None, error: str, schema: str = DEFAULT_SCHEMA,
                   run_info: dict[str, Any] | None = None) -> None:
    """After a rollback: write a ``failed`` ledger row in its own transaction."""
    try:
        ensure_ledger(conn)
        sync_id = ledger_start(
            conn,
            vendor="ocds",
            endpoint=endpoint.name,
            target_table=f"{schema}.{endpoint.table}",
            filters=filters,
            mode=endpoint.mode,
            since=since,
            before=before,
            **{k: v for k, v in (run_info or {}).items() if k in ("dag_id", "run_id", "task_id", "try_number")},
        )
        ledger_finish(conn, sync_id, status="failed", error=error[:2000])
        conn.commit()
    except Exception:  # the ledger must never hide the original error
        log.exception("could not record the failed sync in %s", LEDGER_TABLE)
        conn.rollback()
