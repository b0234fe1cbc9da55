"""What a datamine plan needs to know about the stores: their time zones, how many stores
each location holds, and how wide their store-hours days are.

* zones: every request carries a ``time_zone`` (the reference says to query with the
  store's local zone; what an omitted one means is not documented), so locations are
  grouped by their store's zone (:func:`by_zone`);
* stores per location: the 5-year limit is for one store, the 2-year limit for several,
  and a region holds every store below it;
* the store-hours span: a store-hours grid runs from the earliest opening to the latest
  closing of the days queried (:func:`hours_span`), which the planner counts points from.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext.stores import store_zones


@dataclass
class StoreFacts:
    zones: dict[str, str] = field(default_factory=dict)  # store uuid -> IANA zone
    stores: dict[str, int] = field(default_factory=dict)  # location uuid -> stores at or below it


def store_facts(hook: Any, locations: list[str]) -> StoreFacts:
    """Zones of the active stores; the store count of each requested location."""
    zones = {uuid: zone.key for uuid, zone in store_zones(hook).items()}
    facts = StoreFacts(zones, {loc: 1 for loc in locations if loc in zones})
    others = [loc for loc in locations if loc not in zones]
    if others:
        listing = hook.list_locations()
        parent = {x.uuid: x.parent_uuid for x in listing}
        counts: dict[str, int] = defaultdict(int)
        for x in listing:
            if x.location_type != "store" or x.archive_date:
                continue
            current, seen = x.parent_uuid, 0
            while current is not None and seen < 1000:
                counts[current] += 1
                current, seen = parent.get(current), seen + 1
        facts.stores.update({loc: counts.get(loc, 0) for loc in others})
    return facts


def by_zone(locations: list[str], facts: StoreFacts) -> dict[str, list[str]]:
    """Locations grouped by their store's time zone, in request order.

    :raises InputValidationError: a location that is not a store has no zone of its own.
    """
    out: dict[str, list[str]] = defaultdict(list)
    for loc in dict.fromkeys(locations):
        zone = facts.zones.get(loc)
        if zone is None:
            raise InputValidationError(
                f"time_zone is required: location {loc} is not an active store, so it has no time zone of its own "
                "(give the request a time_zone)", api="retailnext")
        out[zone].append(loc)
    return dict(out)


def _wall(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "")[:19])


def hours_span(hook: Any, stores: list[str], facts: StoreFacts, zone: str, first: date,
               last: date) -> tuple[int, int] | None:
    """Earliest opening and latest closing (minutes from the store day's 00:00 in ``zone``)
    of ``stores`` over ``[first, last]`` and a day either side."""
    known = [s for s in stores if s in facts.zones]
    if not known:
        return None
    opens, closes = [], []
    query_zone = ZoneInfo(zone) if zone and zone != "local" else None
    for entry in hook.store_hours(known, first - timedelta(days=1), last + timedelta(days=1)):
        if not (entry.open and entry.close):
            continue
        day = _wall(entry.effective_day)
        store_zone = ZoneInfo(facts.zones[entry.store_uuid])
        o, c = _wall(entry.open), _wall(entry.close)
        if query_zone is not None and query_zone.key != store_zone.key:
            o = o.replace(tzinfo=store_zone).astimezone(query_zone).replace(tzinfo=None)
            c = c.replace(tzinfo=store_zone).astimezone(query_zone).replace(tzinfo=None)
        opens.append(int((o - day).total_seconds() // 60))
        closes.append(int((c - day).total_seconds() // 60))
    if not opens:
        return None
    return min(opens), max(closes)
