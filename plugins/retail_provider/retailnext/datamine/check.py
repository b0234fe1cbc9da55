"""Is a datamine answer whole?  The API drops points past 10,000 without saying so.

An answer is taken as whole only when

* it holds fewer than 10,000 leaf points (an answer of exactly 10,000 cannot be told from
  a trimmed one);
* every requested metric is there, each with the same number of points;
* every group layer has the count the plan expects (one location group per location, one
  date group per planned period, one day-of-week group per weekday in the range), and the
  same groups under every outer group (the grid is the same for every outer group, so a
  cut shows as a short or missing tail).

:func:`fetch_answers` asks the planned requests, checks every answer and splits a chunk
whose answer is not whole (:func:`~.plan.split`), asking again; a chunk of one location
and one period that still comes back trimmed fails loudly.  Nothing trimmed is loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from retail_provider.http.errors import InvalidResponseError
from retail_provider.retailnext.datamine.models import DatamineResponse, DataPoint
from retail_provider.retailnext.datamine.plan import MAX_POINTS, Chunk, split

log = logging.getLogger(__name__)
MAX_SPLITS = 12


class Incomplete(Exception):
    """The answer is not whole; the message says why."""


def _leaves(points: list[DataPoint], layers: list[tuple[str, int | None]], depth: int, where: str) -> int:
    if depth >= len(layers):
        if len(points) != 1 or points[0].data is not None:
            raise Incomplete(f"{where}: expected one point, got {len(points)}")
        return 1
    name, expected = layers[depth]
    if expected is not None and len(points) != expected:
        raise Incomplete(f"{where}: {len(points)} {name} groups, expected {expected}")
    if not points:
        raise Incomplete(f"{where}: no {name} groups")
    if depth == len(layers) - 1:
        if any(p.data is not None for p in points):
            raise Incomplete(f"{where}: nested points below the last group layer")
        return len(points)
    counts = []
    for p in points:
        inner = p.data if p.data is not None else []
        counts.append(_leaves(inner, layers, depth + 1, where))
        inner_groups = [(c.group.model_dump() if c.group else None) for c in inner]
        if len(counts) == 1:
            first_groups = inner_groups
        elif inner_groups != first_groups:
            raise Incomplete(f"{where}: the {layers[depth + 1][0]} groups differ between {name} groups")
    return sum(counts)


def incompleteness(response: DatamineResponse, chunk: Chunk, cap: int = MAX_POINTS) -> str | None:
    """Why ``response`` is not the whole answer to ``chunk`` (``None`` when it is whole)."""
    names = [m.name for m in response.metrics]
    missing = [m for m in chunk.metrics if m not in names]
    if missing:
        return f"metrics missing from the answer: {', '.join(missing)}"
    total, sizes = 0, set()
    for metric in response.metrics:
        try:
            size = _leaves(metric.data, chunk.layers, 0, f"metric {metric.name}")
        except Incomplete as exc:
            return str(exc)
        sizes.add(size)
        total += size
    if len(sizes) > 1:
        return f"metrics have different numbers of points ({sorted(sizes)})"
    if total >= cap:
        return f"{total} points, the API's cap: the answer may have been trimmed"
    return None


def fetch_answers(ask: Callable[[dict[str, Any]], DatamineResponse],
                  chunks: list[Chunk]) -> Iterator[tuple[Chunk, DatamineResponse]]:
    """``(chunk, answer)`` for every planned request, each answer whole (or refused by the
    API with ``ok: false``, which the caller handles).

    :raises InvalidResponseError: an answer of one location and one period is still not whole.
    """
    for chunk in chunks:
        yield from _whole(ask, chunk, 0)


def _whole(ask: Callable[[dict[str, Any]], DatamineResponse], chunk: Chunk,
           depth: int) -> Iterator[tuple[Chunk, DatamineResponse]]:
    response = ask(chunk.body)
    if not response.ok or any(not m.ok for m in response.metrics):
        yield chunk, response
        return
    problem = incompleteness(response, chunk)
    if problem is None:
        yield chunk, response
        return
    parts = split(chunk) if depth < MAX_SPLITS else []
    if not parts:
        raise InvalidResponseError(
            f"retailnext datamine: the answer for {len(chunk.locations)} location(s) {chunk.start:%Y-%m-%d %H:%M} to "
            f"{chunk.end:%Y-%m-%d %H:%M} is not whole ({problem}) and cannot be split further: nothing was loaded; "
            "use a coarser time group", api="retailnext")
    log.warning("datamine answer for %d location(s) %s..%s is not whole (%s): asking again in %d parts",
                len(chunk.locations), chunk.start, chunk.end, problem, len(parts))
    for part in parts:
        yield from _whole(ask, part, depth + 1)
