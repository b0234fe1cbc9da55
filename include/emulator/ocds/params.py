"""Query parameters of OCDS requests: names are case-insensitive, unknown ones are ignored."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from include.emulator.ocds.endpoints import MAX_LIMIT, PRICE_TYPES, REFRESH_ENTITIES, SEVERITIES, Endpoint
from include.emulator.ocds.errors import BadRequest
from include.emulator.ocds.table import Filters
from include.emulator.ocds.world import World
from include.emulator.timeutil import ns_to_us_ceil, parse_iso_ns

EXAMPLE_TS = "2018-01-23T16:26:41.485Z"


def lower_keys(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Query items as a dict with lower-case names (the last value of a repeated name wins)."""
    return {k.lower(): v for k, v in items}


def parse_limit(value: str | None, cap: int | None = None) -> int:
    """``limit`` "0 .. n": absent or empty means the default (10000); 0 asks for a page of no
    items; any larger value is served as asked, unless the server has a ``cap`` (the
    ``max_limit`` reading), which the envelope's ``limit`` then reports.

    :raises BadRequest: for a negative or non-integer value.
    """
    if value is None or not value.strip():
        limit = MAX_LIMIT
    else:
        try:
            limit = int(value.strip())
        except ValueError:
            raise BadRequest(f"Parameter 'limit' must be an integer 0 .. n (got {value!r})") from None
        if limit < 0:
            raise BadRequest(f"Parameter 'limit' must be an integer 0 .. n, not negative (got {value!r})")
    return limit if cap is None else min(limit, cap)


def parse_time_us(name: str, value: str) -> int:
    """``since``/``before`` as microseconds (rounded up: ``t >= since`` stays exact).

    :raises BadRequest: when the value is not an ISO-8601 date and time.
    """
    try:
        return ns_to_us_ceil(parse_iso_ns(value))
    except ValueError:
        raise BadRequest(
            f"Parameter '{name}' must be a UTC ISO-8601 date and time such as {EXAMPLE_TS} (got {value!r})"
        ) from None


def parse_window(params: Mapping[str, str], now_us: int) -> tuple[int, int]:
    """``(since, before)`` in microseconds; since defaults to the epoch, before to now."""
    since = params.get("since")
    before = params.get("before")
    since_us = parse_time_us("since", since) if since not in (None, "") else 0
    before_us = parse_time_us("before", before) if before not in (None, "") else now_us
    return since_us, before_us


def _given(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None or not str(value).strip():
        return None
    return str(value).strip()


def parse_filters(
    world: World, spec: Endpoint, params: Mapping[str, object], *, require: bool = True
) -> Filters:
    """Validate the endpoint's documented filters in ``params`` (lower-case names).

    :param require: enforce required filters (``pricetype``); the control API passes False.
    :raises BadRequest: naming the parameter and the rule it broke.
    """
    flt = Filters()
    out: dict[str, str] = {}
    where = f"v2/{spec.path}"
    text = {k.lower(): str(v) for k, v in params.items() if v is not None}
    if "nodelevel" in spec.filters:
        level, node = _given(text, "nodelevel"), _given(text, "nodeid")
        if (level is None) != (node is None):
            missing = "nodeid" if node is None else "nodelevel"
            raise BadRequest(
                f"Parameters 'nodelevel' and 'nodeid' must be used together on {where}: "
                f"'{missing}' is missing"
            )
        if level is not None and node is not None:
            level = level.upper()
            if level not in spec.node_levels:
                raise BadRequest(
                    f"Parameter 'nodelevel' must be one of {', '.join(spec.node_levels)} on {where} "
                    f"(got {level!r})"
                )
            try:
                node_id = int(node)
            except ValueError:
                raise BadRequest(f"Parameter 'nodeid' must be an integer 0 .. n (got {node!r})") from None
            if node_id < 0:
                raise BadRequest(f"Parameter 'nodeid' must be an integer 0 .. n (got {node!r})")
            flt.scope = world.scope(level, node_id)
            out["nodelevel"], out["nodeid"] = level, str(node_id)
    for name, allowed, upper in (
        ("pricetype", PRICE_TYPES, True),
        ("severity", SEVERITIES, True),
        ("entitytype", REFRESH_ENTITIES, False),
    ):
        if name not in spec.filters:
            continue
        value = _given(text, name)
        if value is None:
            if require and name in spec.required:
                raise BadRequest(f"Parameter '{name}' is required on {where}: one of {', '.join(allowed)}")
            continue
        value = value.upper() if upper else value.lower()
        if value not in allowed:
            raise BadRequest(
                f"Parameter '{name}' must be one of {', '.join(allowed)} on {where} (got {value!r})"
            )
        setattr(flt, name, value)
        out[name] = value
    flt.params = out
    return flt
