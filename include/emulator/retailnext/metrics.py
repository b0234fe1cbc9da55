"""Datamine metrics beyond traffic: one consistent ground truth for every metric.

The reference defers metric names to its "Metrics Glossary", which it does not include.
The emulator serves the names the only public client of the real API requested (see
``docs/retailnext-emulator.md``, *Metrics*); what each means is the emulator's assumption.

Every open 15-minute bucket of a store day carries integer **components** (passers-by,
dwells, transactions, items, sales in cents, demographics, staff, wifi visits ...) drawn
deterministically from ``(seed, store, day)`` and the bucket's traffic in.  A metric is a
**sum** of components or a **ratio** of two sums taken over the whole cell (periods and
stores), so derived metrics always agree with their parts: ``conversion_rate`` is
``sales_transactions_count / traffic_in`` of the same cell, never a sum of rates.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from include.emulator.retailnext.traffic import StoreDay
    from include.emulator.retailnext.world import Store

COMPONENTS = (
    "passby", "exposed", "dwell", "dwell_s", "engaged", "wifi_visits", "wifi_s", "new_wifi", "sales_tx",
    "returns_tx", "items", "sales_cents", "male", "female", "male_age", "female_age", "staff", "staff_in",
    "staff_out",
)
C = {name: i for i, name in enumerate(COMPONENTS)}
#: metrics of the first datamine version: traffic and occupancy (computed in :mod:`.datamine`)
TRAFFIC = ("traffic_in", "traffic_out", "total_occupancy", "occupancy_limit")
#: metrics only served without a time group (per store day)
DAY_LEVEL = ("new_visitors_rate", "repeat_visitors_rate", "visit_frequency", "total_wifi_users",
             "repeat_wifi_users", "wifi_uptake")
#: metrics whose points carry ``validity`` (traffic counters and what is computed from them)
WITH_VALIDITY = ("traffic_in", "traffic_out", "total_occupancy", "occupancy_limit", "staff_traffic_in",
                 "staff_traffic_out", "passby_capture_rate", "shopper_per_labor_hour", "conversion_rate",
                 "shopper_yield", "wifi_uptake")


@dataclass
class Sums:
    """What a cell accumulated over its ended buckets."""

    traffic_in: int
    traffic_out: int
    parts: list[int]
    instants: int  # distinct bucket starts (quarter hours) in the cell
    day: dict[str, int]  # day-level sums: users, repeat, visits, traffic_in
    area: float | None  # the cell's stores' floor area (None if one has none)

    def c(self, name: str) -> int:
        return self.parts[C[name]]


def _ratio(num: float, den: float) -> float | None:
    return None if not den else num / den


def _money(cents: int) -> float:
    return round(cents / 100, 2)


#: metric name -> value of a cell (``None``: undefined, e.g. a zero denominator)
FORMULAS: dict[str, Callable[[Sums], Any]] = {
    "exposure_rate": lambda s: _ratio(s.c("exposed"), s.traffic_in),
    "passby_capture_rate": lambda s: _ratio(s.traffic_in, s.c("passby")),
    "dwell_count": lambda s: s.c("dwell"),
    "avg_dwell_duration": lambda s: _ratio(s.c("dwell_s"), s.c("dwell")),
    "engagement_rate": lambda s: _ratio(s.c("engaged"), s.traffic_in),
    "wireless_visit_duration": lambda s: _ratio(s.c("wifi_s"), s.c("wifi_visits")),
    "net_sales": lambda s: _money(s.c("sales_cents")),
    "sales_transactions_count": lambda s: s.c("sales_tx"),
    "return_transactions_count": lambda s: s.c("returns_tx"),
    "total_transactions_count": lambda s: s.c("sales_tx") + s.c("returns_tx"),
    "avg_transaction_value": lambda s: _ratio(s.c("sales_cents") / 100, s.c("sales_tx")),
    "avg_items_per_transaction": lambda s: _ratio(s.c("items"), s.c("sales_tx")),
    "sales_transactions_value_per_sq_unit": lambda s: _ratio(s.c("sales_cents") / 100, s.area or 0),
    "sales_transactions_count_per_sq_unit": lambda s: _ratio(s.c("sales_tx"), s.area or 0),
    "average_unit_retail": lambda s: _ratio(s.c("sales_cents") / 100, s.c("items")),
    "net_items_count": lambda s: s.c("items"),
    "male_rate": lambda s: _ratio(s.c("male"), s.c("male") + s.c("female")),
    "female_rate": lambda s: _ratio(s.c("female"), s.c("male") + s.c("female")),
    "avg_age": lambda s: _ratio(s.c("male_age") + s.c("female_age"), s.c("male") + s.c("female")),
    "male_avg_age": lambda s: _ratio(s.c("male_age"), s.c("male")),
    "female_avg_age": lambda s: _ratio(s.c("female_age"), s.c("female")),
    "staff_count": lambda s: _ratio(s.c("staff"), s.instants),
    "labor_hours": lambda s: s.c("staff") / 4,
    "shopper_per_labor_hour": lambda s: _ratio(s.traffic_in, s.c("staff") / 4),
    "staff_productivity": lambda s: _ratio(s.c("sales_cents") / 100, s.c("staff") / 4),
    "staff_traffic_in": lambda s: s.c("staff_in"),
    "staff_traffic_out": lambda s: s.c("staff_out"),
    "conversion_rate": lambda s: _ratio(s.c("sales_tx"), s.traffic_in),
    "dwell_conversion_rate": lambda s: _ratio(s.c("sales_tx"), s.c("dwell")),
    "shopper_yield": lambda s: _ratio(s.c("sales_cents") / 100, s.traffic_in),
    "new_wifi_users": lambda s: s.c("new_wifi"),
    "new_visitors_rate": lambda s: _ratio(s.day["users"] - s.day["repeat"], s.day["users"]),
    "repeat_visitors_rate": lambda s: _ratio(s.day["repeat"], s.day["users"]),
    "visit_frequency": lambda s: _ratio(s.day["visits"], s.day["users"]),
    "total_wifi_users": lambda s: s.day["users"],
    "repeat_wifi_users": lambda s: s.day["repeat"],
    "wifi_uptake": lambda s: _ratio(s.day["users"], s.day["traffic_in"]),
}
METRICS = (*TRAFFIC, *FORMULAS)
EXTENDED = frozenset(FORMULAS)


@dataclass(frozen=True)
class MetricDay:
    """The components of every open bucket of one store day, and its day-level sums."""

    rows: tuple[tuple[int, ...], ...]
    day: dict[str, int]


def _bucket(rng: random.Random, k: int, tin: int) -> tuple[int, ...]:
    dwell = round(tin * rng.uniform(0.3, 0.6))
    sales_tx = round(tin * rng.uniform(0.1, 0.35))
    returns_tx = round(sales_tx * rng.uniform(0.0, 0.12))
    items = max(0, sales_tx * rng.randint(1, 3) + rng.randint(0, sales_tx) - returns_tx)
    wifi_visits = round(tin * rng.uniform(0.1, 0.3))
    male = round(tin * rng.uniform(0.35, 0.5))
    female = round((tin - male) * rng.uniform(0.85, 1.0))
    staff = 2 + tin // 6
    return (
        tin + round(tin * rng.uniform(1.5, 4.0)) + rng.randint(0, 3),  # passby
        min(tin, dwell + round((tin - dwell) * rng.uniform(0.2, 0.6))),  # exposed
        dwell, dwell * rng.randint(60, 420), round(dwell * rng.uniform(0.3, 0.8)),  # dwell, dwell_s, engaged
        wifi_visits, wifi_visits * rng.randint(300, 1800), round(wifi_visits * rng.uniform(0.2, 0.5)),
        sales_tx, returns_tx, items, items * rng.randint(900, 6500),  # ... sales in cents
        male, female, male * rng.randint(22, 55), female * rng.randint(22, 55),
        staff, staff if k == 0 else rng.choice((0, 0, 0, 1)), rng.choice((0, 0, 0, 1)),
    )


def metric_day(store: Store, sd: StoreDay, seed: int) -> MetricDay:
    """Components of a store day: a pure function of ``(seed, store, day)`` and its traffic."""
    rng = random.Random(f"metrics:{seed}:{store.index}:{sd.day.isoformat()}")
    rows = tuple(_bucket(rng, k, tin) for k, tin in enumerate(sd.ins))
    visits = sum(r[C["wifi_visits"]] for r in rows)
    users = round(visits * rng.uniform(0.6, 0.9))
    return MetricDay(rows, {"users": users, "repeat": round(users * rng.uniform(0.2, 0.5)), "visits": visits,
                            "traffic_in": sum(sd.ins)})


class MetricCache:
    """Metric days by (store index, date), like the traffic day cache."""

    def __init__(self, seed: int, maxsize: int = 20_000) -> None:
        self.seed = seed
        self.maxsize = maxsize
        self._days: dict[tuple[int, Any], MetricDay] = {}

    def get(self, store: Store, sd: StoreDay) -> MetricDay:
        key = (store.index, sd.day)
        found = self._days.get(key)
        if found is None:
            if len(self._days) >= self.maxsize:
                self._days.clear()
            found = self._days[key] = metric_day(store, sd, self.seed)
        return found
