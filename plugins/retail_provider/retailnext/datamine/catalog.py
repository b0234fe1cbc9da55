"""The datamine metric catalogue: every metric the client may request, and what it is.

The reference defers metric names to its "Metrics Glossary", which it does not include;
the names below are the ones the only public client of the real API (a 2018 Singer tap)
requested, plus the two occupancy metrics the reference shows.  Kinds, units and
aggregation are this project's reading of the names (``docs/retailnext-tables.md``,
*Datamine metrics*):

* ``kind``: ``count``, ``rate`` (a share from 0 to 1), ``average``, ``duration``
  (seconds), ``money`` (the subscription's currency) or ``age`` (years);
* ``aggregation``: ``sum`` (counts, money, hours add up over time and stores), ``ratio``
  (a quotient of two sums, recomputed for every period and location: rates and averages
  are never summed over hours or stores), ``mean`` (an average over the period's
  quarter hours), ``latest`` (the value at the end of the period: occupancy);
* ``validity``: whether points carry the documented ``validity`` (traffic metrics, and
  the ones computed from traffic); a metric without it is final once its period ended;
* ``day_level``: only served at day grain or coarser (no time group).

The client loads whatever the API answers for a period; it never aggregates these itself.
"""

from __future__ import annotations

from typing import NamedTuple


class Metric(NamedTuple):
    name: str
    kind: str
    unit: str
    aggregation: str
    validity: bool = False
    day_level: bool = False


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("traffic_in", "count", "people", "sum", validity=True),
    Metric("traffic_out", "count", "people", "sum", validity=True),
    Metric("exposure_rate", "rate", "share", "ratio"),
    Metric("passby_capture_rate", "rate", "share", "ratio", validity=True),
    Metric("dwell_count", "count", "dwells", "sum"),
    Metric("avg_dwell_duration", "duration", "seconds", "ratio"),
    Metric("engagement_rate", "rate", "share", "ratio"),
    Metric("wireless_visit_duration", "duration", "seconds", "ratio"),
    Metric("net_sales", "money", "currency", "sum"),
    Metric("sales_transactions_count", "count", "transactions", "sum"),
    Metric("return_transactions_count", "count", "transactions", "sum"),
    Metric("total_transactions_count", "count", "transactions", "sum"),
    Metric("avg_transaction_value", "money", "currency per transaction", "ratio"),
    Metric("avg_items_per_transaction", "average", "items per transaction", "ratio"),
    Metric("sales_transactions_value_per_sq_unit", "money", "currency per square unit", "ratio"),
    Metric("sales_transactions_count_per_sq_unit", "average", "transactions per square unit", "ratio"),
    Metric("average_unit_retail", "money", "currency per item", "ratio"),
    Metric("net_items_count", "count", "items", "sum"),
    Metric("male_rate", "rate", "share", "ratio"),
    Metric("female_rate", "rate", "share", "ratio"),
    Metric("avg_age", "age", "years", "ratio"),
    Metric("male_avg_age", "age", "years", "ratio"),
    Metric("female_avg_age", "age", "years", "ratio"),
    Metric("staff_count", "average", "staff", "mean"),
    Metric("labor_hours", "duration", "hours", "sum"),
    Metric("shopper_per_labor_hour", "average", "people per labor hour", "ratio", validity=True),
    Metric("staff_productivity", "money", "currency per labor hour", "ratio"),
    Metric("staff_traffic_in", "count", "people", "sum", validity=True),
    Metric("staff_traffic_out", "count", "people", "sum", validity=True),
    Metric("conversion_rate", "rate", "share", "ratio", validity=True),
    Metric("dwell_conversion_rate", "rate", "share", "ratio"),
    Metric("shopper_yield", "money", "currency per visitor", "ratio", validity=True),
    Metric("new_wifi_users", "count", "devices", "sum"),
    Metric("new_visitors_rate", "rate", "share", "ratio", day_level=True),
    Metric("repeat_visitors_rate", "rate", "share", "ratio", day_level=True),
    Metric("visit_frequency", "average", "visits per visitor", "ratio", day_level=True),
    Metric("total_wifi_users", "count", "devices", "sum", day_level=True),
    Metric("repeat_wifi_users", "count", "devices", "sum", day_level=True),
    Metric("wifi_uptake", "rate", "share", "ratio", validity=True, day_level=True),
    Metric("total_occupancy", "count", "people", "latest", validity=True),
    Metric("occupancy_limit", "count", "people", "latest", validity=True),
)}
#: the metrics a window load may choose (occupancy is a snapshot, loaded by its own DAG)
WINDOW_METRICS = tuple(name for name in METRICS if name not in ("total_occupancy", "occupancy_limit"))
DEFAULT_METRICS = ("traffic_in", "traffic_out")


def carries_validity(name: str) -> bool:
    """Whether points of ``name`` carry ``validity`` (unknown extra metrics: assumed not)."""
    metric = METRICS.get(name)
    return bool(metric and metric.validity)


def is_day_level(name: str) -> bool:
    metric = METRICS.get(name)
    return bool(metric and metric.day_level)
