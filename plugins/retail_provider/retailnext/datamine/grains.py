"""The grains a datamine window can be loaded at, and how a window is aligned to them.

=============  =====================  ======================================  ==========
grain          table                  group_bys (after ``location``)          aligned to
=============  =====================  ======================================  ==========
``15min``      ``traffic_15min``      date 1 day, time 15 minutes             days
``hour``       ``traffic_hourly``     date 1 day, time 1 hour                 days
``day``        ``traffic_daily``      date 1 day                              days
``week``       ``traffic_weekly``     date 1 week                             weeks
``month``      ``traffic_monthly``    date 1 month                            months
``day_of_week````traffic_day_of_week`` date 1 month, day_of_week             months
=============  =====================  ======================================  ==========

Date groups start at the request's first day, so a window of a weekly or monthly grain is
widened to whole weeks or months of the subscription's calendar (:mod:`.calendar`);
``day_of_week`` gives, per month, one point per weekday.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext.datamine.calendar import GREGORIAN, Calendar


class Grain(NamedTuple):
    name: str
    table: str
    group_bys: tuple[tuple[str, str, int], ...]
    align: str  # day, week or month
    sub_daily: bool = False


LOCATION = ("location", "", 1)
GRAINS: dict[str, Grain] = {g.name: g for g in (
    Grain("15min", "traffic_15min", (LOCATION, ("date", "days", 1), ("time", "minutes", 15)), "day", True),
    Grain("hour", "traffic_hourly", (LOCATION, ("date", "days", 1), ("time", "hours", 1)), "day", True),
    Grain("day", "traffic_daily", (LOCATION, ("date", "days", 1)), "day"),
    Grain("week", "traffic_weekly", (LOCATION, ("date", "weeks", 1)), "week"),
    Grain("month", "traffic_monthly", (LOCATION, ("date", "months", 1)), "month"),
    Grain("day_of_week", "traffic_day_of_week", (LOCATION, ("date", "months", 1), ("day_of_week", "", 1)), "month"),
)}
DEFAULT_GRAINS = ("day", "hour")


def grain_named(name: str, param: str = "grain") -> Grain:
    if name not in GRAINS:
        raise InputValidationError(f"{param}: {name!r} is not a grain (use {', '.join(GRAINS)})", api="retailnext")
    return GRAINS[name]


def grain_group_bys(name: str) -> list[dict[str, Any]]:
    return [{"group": g, "unit": u, "value": v} for g, u, v in grain_named(name).group_bys]


def align(grain: str, start: date, end: date, calendar: Calendar = GREGORIAN) -> tuple[date, date]:
    """``[start, end)`` widened to whole periods of ``grain`` (weeks, months) in ``calendar``."""
    unit = grain_named(grain).align
    if unit == "day":
        return start, end
    lo = calendar.truncate(datetime.combine(start, datetime.min.time()), unit)
    last = calendar.truncate(datetime.combine(end - timedelta(days=1), datetime.min.time()), unit)
    hi = last + timedelta(weeks=1) if unit == "week" else calendar.add_months(last, 1)
    return lo.date(), hi.date()
