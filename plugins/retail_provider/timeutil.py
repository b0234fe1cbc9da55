"""Aware timestamps end to end: parse what users and vendors give, format what we send."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import AwareDatetime, TypeAdapter

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_aware = TypeAdapter(AwareDatetime)


def parse_aware(value: str | datetime, *, name: str = "timestamp") -> datetime:
    """Parse an ISO-8601 timestamp that carries a zone (``Z`` or an offset).

    :raises ValueError: naming ``name`` when the value is not an aware ISO-8601 timestamp.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} must carry a time zone (got naive {value.isoformat()})")
        return value
    try:
        return _aware.validate_python(value.strip())
    except Exception:
        raise ValueError(
            f"{name} must be an ISO-8601 timestamp with a zone, such as 2024-05-01T00:00:00Z "
            f"(got {value!r})"
        ) from None


def to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def format_ocds(value: datetime) -> str:
    """OCDS wants UTC ISO-8601; we send microseconds and ``Z``: ``2024-05-01T00:00:00.000000Z``."""
    return to_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
