"""The subscription's calendar setting (Admin Settings > Calendar in RetailNext).

The reference: date ranges and datamine answers "respect the subscription's Admin Settings
> Calendar configuration" (year 2021, week 5, day 1 with Saturday weeks = Saturday 30
January 2021), and its example answer labels 21 Feb 2021 as year 2021, month 1, day 22: a
retail calendar whose year began on Sunday 31 Jan 2021.  The emulator plays:

* ``gregorian`` (default, Monday weeks): week N of a year/quarter/month starts on the first
  week-start day on or after its first day;
* ``retail_454``: the year starts on the week-start day nearest 1 February (Sunday by
  default), quarters of 13 weeks in months of 4, 5 and 4 weeks; a 53-week year gives the
  extra week to its last month; a year is named after the calendar year it starts in.

Date labels carry the Gregorian date (``gregorian``) and ``year``/``month``/``day`` in the
subscription's calendar.
"""

from __future__ import annotations

import calendar as _gregorian
from dataclasses import dataclass
from datetime import date, datetime, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
KINDS = ("gregorian", "retail_454")


@dataclass(frozen=True)
class SubscriptionCalendar:
    kind: str = "gregorian"
    week_start: int = 0  # 0 = Monday

    # ---------------------------------------------------------------- retail structure

    def year_start_day(self, year: int) -> date:
        if self.kind != "retail_454":
            return date(year, 1, 1)
        feb1 = date(year, 2, 1)
        offset = (feb1.weekday() - self.week_start) % 7
        return feb1 - timedelta(days=offset) if offset <= 3 else feb1 + timedelta(days=7 - offset)

    def month_starts(self, year: int) -> list[date]:
        """Starts of the 12 months of a year, and the next year's start."""
        if self.kind != "retail_454":
            return [date(year, m, 1) for m in range(1, 13)] + [date(year + 1, 1, 1)]
        first, nxt = self.year_start_day(year), self.year_start_day(year + 1)
        weeks = [(4, 5, 4)[i % 3] for i in range(12)]
        weeks[11] += ((nxt - first).days // 7) - 52
        starts, cursor = [], first
        for w in weeks:
            starts.append(cursor)
            cursor += timedelta(weeks=w)
        return starts + [nxt]

    def position(self, day: date) -> tuple[int, int, int]:
        """(year, month 1..12, day of month 1..) in this calendar."""
        year = day.year if day >= self.year_start_day(day.year) else day.year - 1
        starts = self.month_starts(year)
        month = max(i for i in range(12) if starts[i] <= day)
        return year, month + 1, (day - starts[month]).days + 1

    def month_start(self, year: int, index: int) -> date:
        """Start of month ``index`` (0-based from ``year``'s first month; may run into later years)."""
        year += index // 12
        return self.month_starts(year)[index % 12]

    # ---------------------------------------------------------------- datamine operations

    def add_months(self, moment: datetime, months: int) -> datetime:
        if self.kind != "retail_454":
            index = moment.year * 12 + moment.month - 1 + months
            year, month0 = divmod(index, 12)
            day = min(moment.day, _gregorian.monthrange(year, month0 + 1)[1])
            return moment.replace(year=year, month=month0 + 1, day=day)
        year, month, dom = self.position(moment.date())
        first = self.month_start(year, month - 1 + months)
        length = (self.month_start(year, month + months) - first).days
        return datetime.combine(first + timedelta(days=min(dom, length) - 1), moment.time())

    def truncate(self, moment: datetime, unit: str) -> datetime | None:
        """Year/quarter/month/week truncation in this calendar (``None``: not a calendar unit)."""
        if unit == "week":
            day = moment.date() - timedelta(days=(moment.weekday() - self.week_start) % 7)
            return datetime(day.year, day.month, day.day)
        if unit not in ("year", "quarter", "month"):
            return None
        year, month, _ = self.position(moment.date())
        index = {"year": 0, "quarter": (month - 1) // 3 * 3, "month": month - 1}[unit]
        start = self.month_start(year, index)
        return datetime(start.year, start.month, start.day)

    def first_week_start(self, moment: datetime) -> datetime:
        """The first week start on or after ``moment``'s day."""
        day = moment.date() + timedelta(days=(self.week_start - moment.weekday()) % 7)
        return datetime(day.year, day.month, day.day)

    def label(self, day: date) -> dict[str, int | str]:
        year, month, dom = self.position(day)
        return {"gregorian": day.isoformat(), "year": year, "month": month, "day": dom}


GREGORIAN = SubscriptionCalendar()


def calendar_named(kind: str, week_start: str | None = None) -> SubscriptionCalendar:
    if kind not in KINDS:
        raise ValueError(f"calendar must be one of {', '.join(KINDS)} (got {kind!r})")
    start = (week_start or ("sunday" if kind == "retail_454" else "monday")).lower()
    if start not in WEEKDAYS:
        raise ValueError(f"week_start must be a weekday name (got {week_start!r})")
    return SubscriptionCalendar(kind, WEEKDAYS.index(start))
