"""Resolve datamine date specifications (name, gregorian, absolute, relative, mixed).

Everything is computed on wall-clock time in one zone, as the API does (see the reference,
"More Details on Date Ranges"): ``from`` is inclusive, ``to`` exclusive; ``now`` is
truncated to the last complete 15-minute bucket; adding months keeps the day of month,
clamped to the month's end (Jan 31 + 1 month = Feb 28/29); quarters are 3 months, years
12; weeks start on Monday.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext.datamine.models import (
    AbsoluteDate,
    DateRange,
    DateSpec,
    GregorianDate,
    NameDate,
    RelativeDate,
)

TRUNCATE = ("year", "quarter", "month", "week", "day", "hour", "minute", "second")


def _err(message: str) -> InputValidationError:
    return InputValidationError(message, api="retailnext")


def add_months(moment: datetime, months: int) -> datetime:
    total = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def truncate(moment: datetime, unit: str) -> datetime:
    if unit == "year":
        return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "quarter":
        return moment.replace(month=(moment.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "month":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        day = moment - timedelta(days=moment.weekday())
        return day.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    if unit == "minute":
        return moment.replace(second=0, microsecond=0)
    return moment.replace(microsecond=0)


def _now(zone: ZoneInfo, now: datetime) -> datetime:
    local = now.astimezone(zone).replace(tzinfo=None)
    return local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)


def _absolute(spec: Any) -> datetime:
    a = spec.absolute
    moment = datetime(a.year, 1, 1)
    if a.quarter:
        moment = add_months(moment, 3 * (a.quarter - 1))
    if a.month:
        moment = add_months(moment, a.month - 1)
    if a.week:
        moment = moment + timedelta(days=(7 - moment.weekday()) % 7) + timedelta(weeks=a.week - 1)
    if a.day:
        moment += timedelta(days=a.day - 1)
    return moment + timedelta(hours=a.hour or 0, minutes=a.minute or 0, seconds=a.second or 0)


def resolve(spec: DateSpec, zone: ZoneInfo, now: datetime, other: datetime | None = None) -> datetime:
    """Wall-clock time in ``zone`` for one date spec; ``other`` is the opposite end (for
    a relative date without base)."""
    if isinstance(spec, NameDate):
        today = _now(zone, now).replace(hour=0, minute=0)
        return {"now": _now(zone, now), "today": today, "yesterday": today - timedelta(days=1),
                "tomorrow": today + timedelta(days=1)}[spec.name]
    if isinstance(spec, GregorianDate):
        text = spec.gregorian.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text else datetime.combine(
                date.fromisoformat(text), datetime.min.time())
        except ValueError:
            raise _err(f"date_ranges: gregorian {text!r} is not an ISO 8601 date or date-time") from None
        return parsed.astimezone(zone).replace(tzinfo=None) if parsed.tzinfo else parsed
    if isinstance(spec, AbsoluteDate):
        return _absolute(spec)
    assert isinstance(spec, RelativeDate)
    rel = spec.relative
    if rel.base is not None:
        moment = resolve(rel.base, zone, now)
    elif other is not None:
        moment = other
    else:
        raise _err("date_ranges: 'from' and 'to' are both relative, so one of them needs a 'base'")
    if rel.truncate_to:
        moment = truncate(moment, rel.truncate_to)
    months = 12 * (rel.add_years or 0) + 3 * (rel.add_quarters or 0) + (rel.add_months or 0)
    if months:
        moment = add_months(moment, months)
    return moment + timedelta(weeks=rel.add_weeks or 0, days=rel.add_days or 0, hours=rel.add_hours or 0,
                              minutes=rel.add_minutes or 0, seconds=rel.add_seconds or 0)


def resolve_range(rng: DateRange, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """``[from, to)`` as wall-clock datetimes in ``zone``."""
    f_rel = isinstance(rng.from_, RelativeDate) and rng.from_.relative.base is None
    t_rel = isinstance(rng.to, RelativeDate) and rng.to.relative.base is None
    if f_rel and t_rel:
        raise _err("date_ranges: 'from' and 'to' are both relative, so one of them needs a 'base'")
    if f_rel:
        end = resolve(rng.to, zone, now)
        start = resolve(rng.from_, zone, now, other=end)
    else:
        start = resolve(rng.from_, zone, now)
        end = resolve(rng.to, zone, now, other=start)
    return start, end


def zone_named(name: str | None) -> ZoneInfo:
    if name in (None, "", "local"):
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(str(name))
    except Exception:
        raise _err(f"time_zone {name!r} is not an IANA time zone (for example America/Los_Angeles)") from None
