"""Stores of a subscription and running per-store requests side by side."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from retail_provider.http.errors import InputValidationError
from retail_provider.retailnext.tables import VENDOR

log = logging.getLogger(__name__)


def store_zones(hook: Any, stores: Sequence[str] | None = None) -> dict[str, ZoneInfo]:
    """Active (not archived) stores and their time zones, in listing order.

    :param stores: restrict to these uuids; one that is not an active store is an
        :class:`InputValidationError` naming ``stores``.
    """
    out: dict[str, ZoneInfo] = {}
    for node in hook.query_locations(extra_fields=["store.time_zone"], location_types=["store"]):
        if node.archive_date:
            continue
        try:
            out[node.uuid] = ZoneInfo(node.time_zone) if node.time_zone else ZoneInfo("UTC")
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("store %s has an unknown time zone %r; using UTC", node.uuid, node.time_zone)
            out[node.uuid] = ZoneInfo("UTC")
    if stores:
        unknown = [s for s in stores if s not in out]
        if unknown:
            raise InputValidationError(
                f"stores: {', '.join(unknown[:5])} {'is' if len(unknown) == 1 else 'are'} not an active store "
                "of this subscription", api=VENDOR)
        out = {s: out[s] for s in dict.fromkeys(stores)}
    return out


def batches(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


def parallel(hook: Any, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> Iterator[tuple[Any, Any]]:
    """``(call, fn(*call))`` as they finish, on as many threads as the hook's concurrency cap.

    The first failure cancels the calls that have not started and is raised.
    """
    hook.get_client()  # build the client once, before the threads share it
    pool = ThreadPoolExecutor(max_workers=hook.max_concurrency(), thread_name_prefix="retailnext")
    try:
        futures = {pool.submit(fn, *call): call for call in calls}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
