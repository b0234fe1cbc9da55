"""Datamine date specifications: ``name``, ``gregorian``, ``absolute`` and ``relative``.

Dates are computed on naive wall-clock time in the query's time zone and converted to
instants by the caller.  Every error is a :class:`~.errors.RnError` 400 naming the field.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from include.emulator.retailnext.calendar import GREGORIAN, SubscriptionCalendar
from include.emulator.retailnext.errors import bad_request
from include.emulator.retailnext.traffic import BUCKET, to_wall

NAMES = ("now", "today", "yesterday", "tomorrow")
FORMS = ("name", "gregorian", "absolute", "relative")
TRUNCATE = ("year", "quarter", "month", "week", "day", "hour", "minute", "second")
ABSOLUTE_KEYS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second")
RELATIVE_ADDS = (
    "add_years",
    "add_quarters",
    "add_months",
    "add_weeks",
    "add_days",
    "add_hours",
    "add_minutes",
    "add_seconds",
)
MAX_YEAR = 9000


def add_months(moment: datetime, months: int) -> datetime:
    """Same day of month ``months`` later, clamped to the month end (Jan 31 + 1 = Feb 28/29)."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month0 = divmod(index, 12)
    if not 1 <= year <= MAX_YEAR:
        raise bad_request(f"date out of range: year {year}")
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def add_months_date(day: date, months: int) -> date:
    return add_months(datetime(day.year, day.month, day.day), months).date()


def truncate(moment: datetime, unit: str) -> datetime:
    if unit == "year":
        return datetime(moment.year, 1, 1)
    if unit == "quarter":
        return datetime(moment.year, 3 * ((moment.month - 1) // 3) + 1, 1)
    if unit == "month":
        return datetime(moment.year, moment.month, 1)
    if unit == "week":
        day = moment.date() - timedelta(days=moment.weekday())
        return datetime(day.year, day.month, day.day)
    if unit == "day":
        return datetime(moment.year, moment.month, moment.day)
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    if unit == "minute":
        return moment.replace(second=0, microsecond=0)
    return moment.replace(microsecond=0)


def _int(value: Any, where: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{where} must be an integer (got {value!r})")
    if minimum is not None and value < minimum:
        raise bad_request(f"{where} must be >= {minimum} (got {value})")
    return value


def form_of(spec: Any, where: str) -> str:
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in FORMS:
        raise bad_request(
            f"{where} must be an object with exactly one of name, gregorian, absolute, relative (got {spec!r})"
        )
    return next(iter(spec))


def uses_name(spec: Any) -> bool:
    """Whether a date spec (or a base inside it) uses the ``name`` form."""
    if not isinstance(spec, dict):
        return False
    if "name" in spec:
        return True
    rel = spec.get("relative")
    return isinstance(rel, dict) and uses_name(rel.get("base"))


def is_baseless_relative(spec: Any) -> bool:
    return isinstance(spec, dict) and isinstance(spec.get("relative"), dict) and "base" not in spec["relative"]


class DateResolver:
    """Resolve date specs in one time zone at one moment.

    :param tz: the zone dates are read in.
    :param now: epoch seconds of "now".
    """

    def __init__(self, tz: ZoneInfo, now: int, calendar: SubscriptionCalendar = GREGORIAN) -> None:
        self.tz = tz
        self.now = now
        self.calendar = calendar

    def resolve_range(self, date_range: Any, where: str) -> tuple[datetime, datetime]:
        """``(from, to)`` wall-clock datetimes of one ``date_ranges`` entry."""
        if not isinstance(date_range, dict) or "from" not in date_range or "to" not in date_range:
            raise bad_request(f"{where} must be an object with 'from' and 'to'")
        unknown = sorted(set(date_range) - {"from", "to"})
        if unknown:
            raise bad_request(f"{where}: unknown field(s) {', '.join(unknown)}")
        spec_from, spec_to = date_range["from"], date_range["to"]
        form_of(spec_from, f"{where}.from")
        form_of(spec_to, f"{where}.to")
        if is_baseless_relative(spec_from) and is_baseless_relative(spec_to):
            raise bad_request(f"{where}: 'from' and 'to' are both relative without a 'base' (one of them needs a base)")
        if is_baseless_relative(spec_from):
            end = self.resolve(spec_to, f"{where}.to", None)
            start = self.resolve(spec_from, f"{where}.from", end)
        else:
            start = self.resolve(spec_from, f"{where}.from", None)
            end = self.resolve(spec_to, f"{where}.to", start)
        return start, end

    def resolve(self, spec: Any, where: str, other: datetime | None) -> datetime:
        form = form_of(spec, where)
        value = spec[form]
        if form == "name":
            return self._name(value, f"{where}.name")
        if form == "gregorian":
            return self._gregorian(value, f"{where}.gregorian")
        if form == "absolute":
            return self._absolute(value, f"{where}.absolute")
        return self._relative(value, f"{where}.relative", other)

    def _name(self, value: Any, where: str) -> datetime:
        if value not in NAMES:
            raise bad_request(f"{where}: unknown date name {value!r} (known: {', '.join(NAMES)})")
        now_wall = to_wall(self.now - self.now % BUCKET, self.tz)
        if value == "now":
            return now_wall
        today = datetime(now_wall.year, now_wall.month, now_wall.day)
        return today + timedelta(days={"today": 0, "yesterday": -1, "tomorrow": 1}[value])

    def _gregorian(self, value: Any, where: str) -> datetime:
        if not isinstance(value, str):
            raise bad_request(f"{where} must be an ISO 8601 string (got {value!r})")
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise bad_request(f"{where}: not an ISO 8601 date/time: {value!r}") from None
        if moment.tzinfo is not None:
            return to_wall(int(moment.timestamp()), self.tz).replace(microsecond=moment.microsecond)
        return moment

    def _absolute(self, value: Any, where: str) -> datetime:
        if not isinstance(value, dict):
            raise bad_request(f"{where} must be an object")
        unknown = sorted(set(value) - set(ABSOLUTE_KEYS))
        if unknown:
            raise bad_request(f"{where}: unknown field(s) {', '.join(unknown)}")
        if "year" not in value:
            raise bad_request(f"{where}.year is required")
        year = _int(value["year"], f"{where}.year", 1)
        if year > MAX_YEAR:
            raise bad_request(f"{where}.year must be <= {MAX_YEAR}")
        cal = self.calendar
        quarter = _int(value["quarter"], f"{where}.quarter", 1) if "quarter" in value else 1
        month = _int(value["month"], f"{where}.month", 1) if "month" in value else 1
        try:
            if cal.kind == "retail_454":  # months of 4/5/4 weeks from the retail year's start
                start = cal.month_start(year, 3 * (quarter - 1) + month - 1)
                moment = datetime(start.year, start.month, start.day)
            else:
                moment = add_months(datetime(year, 1, 1), 3 * (quarter - 1))
                moment = add_months(moment, month - 1)
            if "week" in value:
                week = _int(value["week"], f"{where}.week", 1)
                moment = cal.first_week_start(moment) + timedelta(weeks=week - 1)
            if "day" in value:
                moment += timedelta(days=_int(value["day"], f"{where}.day", 1) - 1)
            moment += timedelta(
                hours=_int(value.get("hour", 0), f"{where}.hour", 0),
                minutes=_int(value.get("minute", 0), f"{where}.minute", 0),
                seconds=_int(value.get("second", 0), f"{where}.second", 0),
            )
        except OverflowError:
            raise bad_request(f"{where}: date out of range") from None
        return moment

    def _relative(self, value: Any, where: str, other: datetime | None) -> datetime:
        if not isinstance(value, dict):
            raise bad_request(f"{where} must be an object")
        unknown = sorted(set(value) - {"base", "truncate_to", *RELATIVE_ADDS})
        if unknown:
            raise bad_request(f"{where}: unknown field(s) {', '.join(unknown)}")
        if "base" in value:
            base_spec = value["base"]
            if is_baseless_relative(base_spec):
                raise bad_request(f"{where}.base: a relative base needs its own base")
            moment = self.resolve(base_spec, f"{where}.base", None)
        elif other is not None:
            moment = other
        else:
            raise bad_request(f"{where}: relative date without base and without the other end of the range")
        unit = value.get("truncate_to")
        if unit is not None:
            if unit not in TRUNCATE:
                raise bad_request(f"{where}.truncate_to must be one of {', '.join(TRUNCATE)} (got {unit!r})")
            moment = self.calendar.truncate(moment, unit) or truncate(moment, unit)
        adds = {k: _int(value[k], f"{where}.{k}") for k in RELATIVE_ADDS if k in value}
        months = 12 * adds.get("add_years", 0) + 3 * adds.get("add_quarters", 0) + adds.get("add_months", 0)
        try:
            if months:
                moment = self.calendar.add_months(moment, months)
            moment += timedelta(
                weeks=adds.get("add_weeks", 0),
                days=adds.get("add_days", 0),
                hours=adds.get("add_hours", 0),
                minutes=adds.get("add_minutes", 0),
                seconds=adds.get("add_seconds", 0),
            )
        except OverflowError:
            raise bad_request(f"{where}: date out of range") from None
        if not 1 <= moment.year <= MAX_YEAR:
            raise bad_request(f"{where}: date out of range")
        return moment
