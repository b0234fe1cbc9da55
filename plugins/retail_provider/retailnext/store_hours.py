"""Store hours: a window of days per store, upserted by store and day.

Days of the window the API no longer returns (a day that became closed) are deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from retail_provider.retailnext.models import V1_PAGE_LENGTH
from retail_provider.retailnext.resources import ResourceWriter, SyncResult, resource_targets
from retail_provider.retailnext.stores import batches, store_zones
from retail_provider.retailnext.tables import SCHEMA, StoreHoursRow

STORE_BATCH = 100  # stores per store-hours request
RESOURCE = "store_hours"


def store_hours_filters(start: date, end: date, stores: Sequence[str] | None) -> dict[str, Any]:
    return {"first_day": start.isoformat(), "last_day": end.isoformat(), "stores": list(stores) if stores else "all"}


def sync_store_hours(hook: Any, conn: Any, *, start: date, end: date, stores: Sequence[str] | None = None,
                     schema: str = SCHEMA, page_length: int = V1_PAGE_LENGTH, batch_rows: int = 50_000,
                     run_info: dict[str, Any] | None = None) -> SyncResult:
    """Store hours of ``[start, end]`` (both included) per store; upsert, then drop days now closed."""
    chosen = list(store_zones(hook, stores))
    filters = store_hours_filters(start, end, stores)
    result = SyncResult(resource=RESOURCE, mode="window", filters={**filters, "stores": len(chosen) if not stores
                                                                    else list(chosen)})
    rows: list[StoreHoursRow] = []
    for batch in batches(chosen, STORE_BATCH):
        result.requests += 1
        rows += [StoreHoursRow.model_validate(e.model_dump())
                 for e in hook.store_hours(batch, start, end, page_length=page_length)]
    writer = ResourceWriter(conn, result, resource_targets(RESOURCE, filters=filters, schema=schema),
                            run_info=run_info, batch_rows=batch_rows)
    writer.write(RESOURCE, rows)
    if chosen:
        writer.sweep_window(RESOURCE, ((r.store_uuid, r.effective_day) for r in rows),
                            "t.store_uuid = ANY(%(stores)s) AND t.effective_day BETWEEN %(start)s AND %(end)s",
                            {"stores": chosen, "start": start, "end": end})
    return writer.close()
