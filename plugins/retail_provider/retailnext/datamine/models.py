"""Pydantic models of ``v2/datamine``: the request (strict: date specifications, time ranges,
group-bys) and the response (lenient: nested groups of points with a ``validity``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, TypeAdapter, model_validator

from retail_provider.retailnext.models import Request, Response, Validity


class Absolute(Request):
    year: int
    quarter: int | None = Field(default=None, ge=1)
    month: int | None = Field(default=None, ge=1)
    week: int | None = Field(default=None, ge=1)
    day: int | None = Field(default=None, ge=1)
    hour: int | None = Field(default=None, ge=0)
    minute: int | None = Field(default=None, ge=0)
    second: int | None = Field(default=None, ge=0)


class NameDate(Request):
    name: Literal["now", "today", "yesterday", "tomorrow"]


class GregorianDate(Request):
    gregorian: str


class AbsoluteDate(Request):
    absolute: Absolute


class Relative(Request):
    base: DateSpec | None = None
    truncate_to: Literal["year", "quarter", "month", "week", "day", "hour", "minute", "second"] | None = None
    add_years: int | None = None
    add_quarters: int | None = None
    add_months: int | None = None
    add_weeks: int | None = None
    add_days: int | None = None
    add_hours: int | None = None
    add_minutes: int | None = None
    add_seconds: int | None = None


class RelativeDate(Request):
    relative: Relative


DateSpec = NameDate | GregorianDate | AbsoluteDate | RelativeDate
Relative.model_rebuild()
DATE_SPEC: TypeAdapter[Any] = TypeAdapter(DateSpec)


class DateRange(Request):
    from_: DateSpec = Field(alias="from")
    to: DateSpec


#: a time of day ``hh:mm`` (00:00 to 23:59); ``until`` may also be ``24:00``, the day's end
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
HHMM_UNTIL = r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"


class TimeRange(Request):
    from_: str | None = Field(default=None, alias="from", pattern=HHMM)
    until: str | None = Field(default=None, pattern=HHMM_UNTIL)
    type: Literal["store_hours"] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> TimeRange:
        if self.type is not None and (self.from_ is not None or self.until is not None):
            raise ValueError("a time range is either {from, until} or {type: store_hours}, not both")
        if self.type is None and (self.from_ is None or self.until is None):
            raise ValueError("a time range needs both 'from' and 'until' (hh:mm), or type store_hours")
        if self.type is None and self.from_ >= self.until:  # type: ignore[operator]
            raise ValueError(f"time range from {self.from_} must be before until {self.until}")
        return self


class GroupBy(Request):
    group: Literal["location", "date", "time", "day_of_week"]
    unit: str = ""
    value: int = 1

    @model_validator(mode="after")
    def _unit(self) -> GroupBy:
        allowed = {"location": ("",), "day_of_week": ("",), "date": ("days", "weeks", "months", "years"),
                   "time": ("hours", "minutes")}[self.group]
        if self.unit not in allowed:
            shown = ", ".join(repr(a) for a in allowed)
            raise ValueError(f"group_bys: unit {self.unit!r} is not valid for group {self.group!r} (use {shown})")
        if self.group in ("date", "time") and self.value < 1:
            raise ValueError(f"group_bys: value for group {self.group!r} must be a positive integer")
        return self


class DatamineRequest(Request):
    locations: list[str] = Field(min_length=1)
    metrics: list[str] = Field(min_length=1)
    date_ranges: list[DateRange] = Field(min_length=1)
    time_ranges: list[TimeRange] = Field(min_length=1)
    group_bys: list[GroupBy] = Field(default_factory=list)
    time_zone: str | None = None


class Group(Response):
    type: str
    uuid: str | None = None
    name: str | None = None
    qualified_name: str | None = None
    from_: Any = Field(default=None, alias="from")
    through: Any = None
    until: Any = None
    day: str | None = None


class DataPoint(Response):
    value: float | None = None
    validity: Validity | None = None
    group: Group | None = None
    index: int | None = None
    data: list[DataPoint] | None = None


class MetricResult(Response):
    name: str
    ok: bool = True
    error: str | None = None
    data: list[DataPoint] = Field(default_factory=list)
    date_range_index: int | None = None


class DatamineResponse(Response):
    ok: bool = True
    error: str | None = None
    metrics: list[MetricResult] = Field(default_factory=list)


