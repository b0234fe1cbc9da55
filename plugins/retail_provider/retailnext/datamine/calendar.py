"""The subscription's calendar: how datamine reads years, quarters, months and weeks.

The reference: "The date_ranges parameter and datamine API responses respect the
subscription's Admin Settings > Calendar configuration" (its example: year 2021, week 5,
day 1 with Saturday as first day of the week is Saturday 30 January 2021).  The client
cannot read that setting from the API, so it is a connection setting (extras ``calendar``
and ``week_start``, see :func:`calendar_from_extras`):

* ``gregorian``: calendar years and months; week ``N`` of a year (or of a quarter/month
  given before it) starts on the first ``week_start`` day on or after its first day.
* ``retail_454``: a 4-5-4 retail calendar: the year starts on the ``week_start`` day
  nearest to 1 February (the NRF rule; with Sunday: 31 Jan 2021, 29 Jan 2023, 4 Feb
  2024), quarters are 13 weeks, months 4, 5 and 4 weeks, and the 53rd week of a long
  year goes to the last month.  The year is named after the calendar year it starts in.
"""

from __future__ import annotations

import calendar as gregorian_calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from retail_provider.http.errors import InputValidationError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
KINDS = ("gregorian", "retail_454")
PATTERN = (4, 5, 4)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


@dataclass(frozen=True)
class Calendar:
    """One calendar setting.

    :param kind: ``gregorian`` or ``retail_454``.
    :param week_start: first day of the week, 0 = Monday ... 6 = Sunday.
    """

    kind: str = "gregorian"
    week_start: int = 0

    # -- weeks ------------------------------------------------------------------------

    def week_floor(self, moment: datetime) -> datetime:
        back = (moment.weekday() - self.week_start) % 7
        return _midnight(moment.date() - timedelta(days=back))

    def week_ceil(self, moment: datetime) -> datetime:
        """The first week start on or after ``moment`` (midnight)."""
        day = moment.date() if moment.time() == datetime.min.time() else moment.date() + timedelta(days=1)
        return _midnight(day + timedelta(days=(self.week_start - day.weekday()) % 7))

    # -- retail years -----------------------------------------------------------------

    def retail_year_start(self, year: int) -> date:
        anchor = date(year, 2, 1)
        back = (anchor.weekday() - self.week_start) % 7
        return anchor - timedelta(days=back) if back <= 3 else anchor + timedelta(days=7 - back)

    def retail_months(self, year: int) -> list[date]:
        """The 13 month boundaries of a retail year (12 starts and the next year's start)."""
        start, nxt = self.retail_year_start(year), self.retail_year_start(year + 1)
        weeks = [PATTERN[i % 3] for i in range(12)]
        if (nxt - start).days == 371:
            weeks[-1] += 1
        out, cursor = [], start
        for w in weeks:
            out.append(cursor)
            cursor += timedelta(weeks=w)
        return [*out, nxt]

    def retail_position(self, day: date) -> tuple[int, int, int]:
        """``(year, month 1-12, day of month from 1)`` of a day in the retail calendar."""
        year = day.year if day >= self.retail_year_start(day.year) else day.year - 1
        bounds = self.retail_months(year)
        month = max(i for i in range(12) if bounds[i] <= day)
        return year, month + 1, (day - bounds[month]).days + 1

    def _month_start(self, year: int, month_index: int) -> date:
        """Start of month ``month_index`` (0-based, may run past 11 into later years)."""
        year += month_index // 12
        return self.retail_months(year)[month_index % 12]

    # -- the operations datamine needs -----------------------------------------------

    def year_start(self, year: int) -> datetime:
        return _midnight(self.retail_year_start(year)) if self.kind == "retail_454" else datetime(year, 1, 1)

    def add_months(self, moment: datetime, months: int) -> datetime:
        """Same day of month ``months`` later, clamped to the month's last day."""
        if self.kind != "retail_454":
            total = moment.year * 12 + (moment.month - 1) + months
            year, month = divmod(total, 12)
            day = min(moment.day, gregorian_calendar.monthrange(year, month + 1)[1])
            return moment.replace(year=year, month=month + 1, day=day)
        year, month, dom = self.retail_position(moment.date())
        first = self._month_start(year, month - 1 + months)
        length = (self._month_start(year, month + months) - first).days
        day = first + timedelta(days=min(dom, length) - 1)
        return datetime.combine(day, moment.time())

    def truncate(self, moment: datetime, unit: str) -> datetime:
        if unit == "week":
            return self.week_floor(moment)
        if unit in ("year", "quarter", "month") and self.kind == "retail_454":
            year, month, _ = self.retail_position(moment.date())
            index = {"year": 0, "quarter": (month - 1) // 3 * 3, "month": month - 1}[unit]
            return _midnight(self._month_start(year, index))
        if unit == "year":
            return datetime(moment.year, 1, 1)
        if unit == "quarter":
            return datetime(moment.year, (moment.month - 1) // 3 * 3 + 1, 1)
        if unit == "month":
            return datetime(moment.year, moment.month, 1)
        if unit == "day":
            return _midnight(moment.date())
        if unit == "hour":
            return moment.replace(minute=0, second=0, microsecond=0)
        if unit == "minute":
            return moment.replace(second=0, microsecond=0)
        return moment.replace(microsecond=0)

    def absolute(self, a: Any) -> datetime:
        """An ``absolute`` date: year, then quarter, month (within the quarter when one is
        given), week (within what precedes it), day (within the week when one is given)."""
        moment = self.year_start(a.year)
        if self.kind == "retail_454":
            index = 3 * ((a.quarter or 1) - 1) + ((a.month or 1) - 1)
            year_start = self.retail_year_start(a.year)
            moment = _midnight(self._month_start(a.year, index)) if index else _midnight(year_start)
            if a.week:
                moment += timedelta(weeks=a.week - 1)
        else:
            if a.quarter:
                moment = self.add_months(moment, 3 * (a.quarter - 1))
            if a.month:
                moment = self.add_months(moment, a.month - 1)
            if a.week:
                moment = self.week_ceil(moment) + timedelta(weeks=a.week - 1)
        if a.day:
            moment += timedelta(days=a.day - 1)
        return moment + timedelta(hours=a.hour or 0, minutes=a.minute or 0, seconds=a.second or 0)

    def describe(self) -> str:
        return f"{self.kind} (weeks start on {WEEKDAYS[self.week_start]})"


GREGORIAN = Calendar()


def calendar_from_extras(extras: dict[str, Any], conn_id: str = "retailnext_default") -> Calendar:
    """The connection's calendar: extras ``calendar`` (``gregorian`` default, or
    ``retail_454``) and ``week_start`` (a weekday name; default Monday, Sunday for
    ``retail_454``)."""
    kind = str(extras.get("calendar") or "gregorian").strip().lower()
    if kind not in KINDS:
        raise InputValidationError(
            f"connection {conn_id!r}: extra calendar must be one of {', '.join(KINDS)} (got {kind!r})",
            api="retailnext")
    default = "sunday" if kind == "retail_454" else "monday"
    start = str(extras.get("week_start") or default).strip().lower()
    if start not in WEEKDAYS:
        raise InputValidationError(
            f"connection {conn_id!r}: extra week_start must be a weekday name (got {start!r})", api="retailnext")
    return Calendar(kind, WEEKDAYS.index(start))
