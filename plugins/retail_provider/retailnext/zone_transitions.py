"""Zone transitions: customer and employee transitions between each store's FPA zones,
one request per store and day, upserted by key."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from retail_provider.retailnext import models as m
from retail_provider.retailnext.models import V1_PAGE_LENGTH
from retail_provider.retailnext.resources import ResourceWriter, SyncResult, resource_targets
from retail_provider.retailnext.stores import parallel, store_zones
from retail_provider.retailnext.tables import SCHEMA, ZoneTransitionRow

log = logging.getLogger(__name__)

RESOURCE = "zone_transitions"
ZONE_METRICS = ("customer", "employee")
TRANSITIONS = ("direct_only", "direct_and_indirect", "directionless")
DWELLS = ("dwells_only", "non_dwells", "all_traffic")
Call = tuple[str, date, m.ZoneTransitionsRequest]


def zone_locations(hook: Any, zones: dict[str, ZoneInfo], page_length: int) -> dict[str, list[str]]:
    """The FPA zone locations of each store."""
    out: dict[str, list[str]] = {}
    for plan in hook.floorplans(page_length=page_length):
        for zone in plan.zones:
            if plan.store_id in zones and zone.location_id:
                out.setdefault(plan.store_id, []).append(zone.location_id)
    return {store: list(dict.fromkeys(locations)) for store, locations in out.items()}


def plan_calls(zones: dict[str, ZoneInfo], locations: dict[str, list[str]], days: Sequence[date] | None,
               now: datetime, transitions: str, dwells: str) -> tuple[list[Call], list[str]]:
    """One request per store and day; days that have not ended in the store's zone are skipped."""
    calls: list[Call] = []
    skipped: list[str] = []
    for store, tz in zones.items():
        if not locations.get(store):
            continue
        today = now.astimezone(tz).date()
        for day in (days if days else [today - timedelta(days=1)]):
            if day >= today:
                skipped.append(f"{store} {day.isoformat()}")
                continue
            calls.append((store, day, m.ZoneTransitionsRequest(
                locations=locations[store], date_ranges=[m.DayRange(start=day, finish=day + timedelta(days=1))],
                metrics=list(ZONE_METRICS), transitions=transitions, dwells=dwells)))
    return calls, skipped


def sync_zone_transitions(hook: Any, conn: Any, *, days: Sequence[date] | None = None,
                          stores: Sequence[str] | None = None, transitions: str = "direct_only",
                          dwells: str = "dwells_only", now: datetime | None = None, schema: str = SCHEMA,
                          page_length: int = V1_PAGE_LENGTH, batch_rows: int = 50_000,
                          run_info: dict[str, Any] | None = None) -> SyncResult:
    """Transitions of ``days`` for every store (``None``: yesterday in each store's zone)."""
    zones = store_zones(hook, stores)
    calls, skipped = plan_calls(zones, zone_locations(hook, zones, page_length), days, now or datetime.now(UTC),
                                transitions, dwells)
    if skipped:
        log.warning("zone transitions: %d store days have not ended yet in the store's time zone and are skipped "
                    "(e.g. %s)", len(skipped), skipped[0])
    filters = {"transitions": transitions, "dwells": dwells}
    result = SyncResult(resource=RESOURCE, mode="upsert", requests=len(calls), details={"skipped_store_days": len(skipped)},
                        filters={"days": sorted({c[1].isoformat() for c in calls}), **filters,
                                 "stores": len(zones) if not stores else list(zones)})
    rows: list[ZoneTransitionRow] = []
    for (store, day, _), answer in parallel(hook, lambda store, day, req: hook.zone_transitions(req), calls):
        rows += [ZoneTransitionRow.model_validate({
            **t.model_dump(), "day": day, "store_uuid": block.floorplan.store_uuid or store,
            "floorplan_uuid": block.floorplan.uuid, "metric": metric.name, "transitions": transitions,
            "dwells": dwells,
        }) for metric in answer.metrics for block in metric.data for t in block.transitions]
    writer = ResourceWriter(conn, result, resource_targets(RESOURCE, filters=filters, schema=schema),
                            run_info=run_info, batch_rows=batch_rows)
    writer.write(RESOURCE, rows)
    return writer.close()
