"""Parse the timestamps clients send and format the ones the emulated APIs return."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

EPOCH = datetime(1970, 1, 1)
EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)

_TS = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?)?"
    r"(?P<zone>[Zz](?::\d{2})?|[+\- ]\d{2}(?::?\d{2})?)?$"
)


def parse_iso_ns(text: str) -> int:
    """An ISO-8601 timestamp as integer nanoseconds since the epoch (UTC).

    Accepts what the OCDS reference shows: ``2018-01-23T16:26:41.485Z``, ``...485+05:30``,
    up to nine fractional digits, no fraction, no seconds, a bare date, the reference's odd
    ``2018-01-23T16:26:41.485Z:30`` (read as ``Z``) and an offset whose ``+`` arrived as a
    space (an unencoded ``+`` in a query string).  A value without a zone is UTC.

    :raises ValueError: when ``text`` is not such a timestamp.
    """
    match = _TS.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not an ISO-8601 timestamp: {text!r}")
    try:
        day = date.fromisoformat(match["date"])
        base = datetime(
            day.year, day.month, day.day, int(match["h"] or 0), int(match["m"] or 0), int(match["s"] or 0)
        )
    except ValueError as exc:
        raise ValueError(f"not a valid date and time: {text!r} ({exc})") from None
    frac = match["frac"] or ""
    nanos = int(frac.ljust(9, "0")) if frac else 0
    offset_s = 0
    zone = match["zone"]
    if zone and zone[0] not in "Zz":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"not a valid zone offset: {text!r}")
        offset_s = sign * (hours * 3600 + minutes * 60)
    delta = base - EPOCH
    seconds = delta.days * 86400 + delta.seconds - offset_s
    return seconds * 1_000_000_000 + nanos


def ns_to_us_ceil(ns: int) -> int:
    """Smallest microsecond count ``u`` with ``u * 1000 >= ns``."""
    return -(-ns // 1000)


def format_offset(us: int, offset_minutes: int = 0, digits: int = 9) -> str:
    """``2020-05-01T12:54:36.618000000-05:00``: wall time at a fixed offset, 9 fraction digits."""
    secs, micros = divmod(us, 1_000_000)
    wall = EPOCH + timedelta(seconds=secs + offset_minutes * 60)
    frac = f"{micros:06d}000"[:digits]
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{wall:%Y-%m-%dT%H:%M:%S}.{frac}{sign}{hours:02d}:{minutes:02d}"


def format_z(us: int, digits: int = 9) -> str:
    """``2018-06-25T13:57:43.000000000Z``."""
    secs, micros = divmod(us, 1_000_000)
    wall = EPOCH + timedelta(seconds=secs)
    return f"{wall:%Y-%m-%dT%H:%M:%S}.{f'{micros:06d}000'[:digits]}Z"


def format_naive(us: int) -> str:
    """``2018-08-05T00:00:00``: a local date-time without fraction or zone."""
    wall = EPOCH + timedelta(seconds=us // 1_000_000)
    return f"{wall:%Y-%m-%dT%H:%M:%S}"


def format_date(us: int) -> str:
    """``2014-12-17``."""
    return (EPOCH + timedelta(seconds=us // 1_000_000)).date().isoformat()


def us_of(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """A UTC wall time as microseconds since the epoch."""
    delta = datetime(year, month, day, hour, minute, second) - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000
