"""Parse operator inputs (often rendered templates) and name the parameter and rule they break.

Every parser raises :class:`~retail_provider.http.errors.InputValidationError` before any
API call; the Airflow layer turns it into a failure without retries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from retail_provider.http.errors import InputValidationError
from retail_provider.timeutil import parse_aware

UNSET = ("", "None", "null")


def unset(value: Any) -> bool:
    """``None`` or what an empty templated Param renders to."""
    return value is None or (isinstance(value, str) and value.strip() in UNSET)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def flag(value: Any) -> bool:
    """A boolean input: ``true``, ``1``, ``yes``, ``on`` (any case) are true."""
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def parse_day(value: Any, name: str) -> date | None:
    """``yyyy-mm-dd`` (or a date/datetime); unset values are ``None``."""
    if unset(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise InputValidationError(f"{name} must be a date yyyy-mm-dd (got {value!r})") from None


def parse_int(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InputValidationError(f"{name} must be an integer from {low} to {high} (got {value!r})") from None
    if not low <= number <= high:
        raise InputValidationError(f"{name} must be an integer from {low} to {high} (got {number})")
    return number


def parse_optional_int(value: Any, name: str, low: int, high: int) -> int | None:
    return None if unset(value) else parse_int(value, name, low, high)


def parse_time(value: Any, name: str) -> datetime | None:
    """An aware ISO-8601 timestamp; unset values are ``None``."""
    if unset(value):
        return None
    try:
        return parse_aware(value if isinstance(value, datetime) else str(value), name=name)
    except ValueError as exc:
        raise InputValidationError(str(exc)) from None


def parse_seconds(value: Any, name: str) -> timedelta:
    """A non-negative duration: a ``timedelta`` or a number of seconds."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    else:
        try:
            seconds = float(str(value))
        except ValueError:
            raise InputValidationError(f"{name} must be a number of seconds or a timedelta (got {value!r})") from None
    if seconds < 0:
        raise InputValidationError(f"{name} must not be negative")
    return timedelta(seconds=seconds)


def parse_choice(value: Any, name: str, options: Sequence[str]) -> str:
    text = str(value).strip()
    if text not in options:
        raise InputValidationError(f"{name} must be one of {', '.join(options)} (got {value!r})")
    return text


def parse_names(value: Any) -> set[str]:
    """Names (``selected`` inputs): a list, its rendered text (``['item', 'vat']``) or comma
    separated text; unset gives an empty set."""
    if isinstance(value, list | tuple | set):
        value = ",".join(str(v) for v in value)
    text = str(value or "").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return {n for n in (s.strip().strip("'\"").strip() for s in text.split(",")) if n and n not in UNSET}


def parse_ids(value: Any, name: str, pattern: re.Pattern[str], what: str) -> list[str] | None:
    """Ids from a list, a JSON list or a comma/space separated string; unset is ``None`` (all).

    :param what: what one id is, for the message (``a location uuid``).
    """
    if unset(value):
        return None
    items: Any = value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                items = json.loads(text.replace("'", '"'))
            except ValueError:
                raise InputValidationError(f"{name} must be ids separated by commas or a JSON list "
                                           f"(got {value!r})") from None
        else:
            items = [s for s in re.split(r"[,\s]+", text) if s]
    if not isinstance(items, list | tuple) or not items:
        raise InputValidationError(f"{name} must be a non-empty list (got {value!r})")
    out = []
    for item in items:
        if not isinstance(item, str) or not pattern.match(item.strip()):
            raise InputValidationError(f"{name}: {item!r} is not {what}")
        out.append(item.strip())
    return list(dict.fromkeys(out))
