"""Resolve datamine date specifications (name, gregorian, absolute, relative, mixed).

Everything is computed on wall-clock time in one zone, as the API does (see the reference,
"More Details on Date Ranges"): ``from`` is inclusive, ``to`` exclusive; ``now`` is
truncated to the last complete 15-minute bucket; adding months keeps the day of month,
clamped to the month's end (Jan 31 + 1 month = Feb 28/29); quarters are 3 months, years
12.  Years, months and weeks follow the subscription's calendar (:mod:`.calendar`:
Gregorian with Monday weeks unless the connection says otherwise).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext.datamine.calendar import GREGORIAN, Calendar
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
    """Gregorian month arithmetic (the day of month clamped to the month's end)."""
    return GREGORIAN.add_months(moment, months)


def truncate(moment: datetime, unit: str, calendar: Calendar = GREGORIAN) -> datetime:
    return calendar.truncate(moment, unit)


def _now(zone: ZoneInfo, now: datetime) -> datetime:
    local = now.astimezone(zone).replace(tzinfo=None)
    return local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)


def resolve(spec: DateSpec, zone: ZoneInfo, now: datetime, other: datetime | None = None,
            calendar: Calendar = GREGORIAN) -> datetime:
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
        return calendar.absolute(spec.absolute)
    assert isinstance(spec, RelativeDate)
    rel = spec.relative
    if rel.base is not None:
        moment = resolve(rel.base, zone, now, calendar=calendar)
    elif other is not None:
        moment = other
    else:
        raise _err("date_ranges: 'from' and 'to' are both relative, so one of them needs a 'base'")
    if rel.truncate_to:
        moment = calendar.truncate(moment, rel.truncate_to)
    months = 12 * (rel.add_years or 0) + 3 * (rel.add_quarters or 0) + (rel.add_months or 0)
    if months:
        moment = calendar.add_months(moment, months)
    return moment + timedelta(weeks=rel.add_weeks or 0, days=rel.add_days or 0, hours=rel.add_hours or 0,
                              minutes=rel.add_minutes or 0, seconds=rel.add_seconds or 0)


def resolve_range(rng: DateRange, zone: ZoneInfo, now: datetime,
                  calendar: Calendar = GREGORIAN) -> tuple[datetime, datetime]:
    """``[from, to)`` as wall-clock datetimes in ``zone``."""
    f_rel = isinstance(rng.from_, RelativeDate) and rng.from_.relative.base is None
    t_rel = isinstance(rng.to, RelativeDate) and rng.to.relative.base is None
    if f_rel and t_rel:
        raise _err("date_ranges: 'from' and 'to' are both relative, so one of them needs a 'base'")
    if f_rel:
        end = resolve(rng.to, zone, now, calendar=calendar)
        start = resolve(rng.from_, zone, now, other=end, calendar=calendar)
    else:
        start = resolve(rng.from_, zone, now, calendar=calendar)
        end = resolve(rng.to, zone, now, other=start, calendar=calendar)
    return start, end


def zone_named(name: str | None) -> ZoneInfo:
    if name in (None, "", "local"):
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(str(name))
    except Exception:
        raise _err(f"time_zone {name!r} is not an IANA time zone (for example America/Los_Angeles)") from None
