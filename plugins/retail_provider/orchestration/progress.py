"""Live progress of a sync, the same for every vendor: start line, progress lines, summary, metrics.

:class:`~retail_provider.orchestration.operator.SyncOperator` opens a :class:`SyncProgress`
around its sync.  Nothing vendor-specific reports to it: the hooks' HTTP clients count each
successful API response as a page (:func:`count_response`, an httpx event hook), and the
warehouse's table syncs report the rows they stage and each table's outcome (the
:data:`~retail_provider.warehouse.tablesync.OBSERVERS` list).  So an OCDS feed, a RetailNext
snapshot and a datamine load all log, at INFO::

    Sync started: ocds item, scope all, window [2025-06-01T00:00:00+00:00, 2025-06-02T00:00:00+00:00), mode incremental, into ocds.item
    Progress: 12 pages, 48,000 rows, 9,612 rows/s after 5.0 s
    Synced ocds.item (incremental): 48,210 rows read in 13 pages, 1,200 changed, 47,000 unchanged, 10 deleted
    Sync finished in 5.4 s: 13 pages, 48,210 rows (8,928 rows/s), 1,200 changed, 47,000 unchanged, 10 deleted

Pages are the API's successful answers, so they include the small lookups a sync makes
(OCDS ``v2/refreshdate`` is a one-page list too).  A progress line is written at most every ``RETAIL_PROGRESS_SECONDS`` (environment, default
5), when a page or rows arrive.  The same figures go to Airflow's own metrics (statsd,
Datadog or OpenTelemetry, as ``[metrics]`` configures) through :func:`emit_metrics`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from retail_provider.warehouse import tablesync

INTERVAL_ENV = "RETAIL_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 5.0
METRIC_PREFIX = "retail_sync"

_active: SyncProgress | None = None
_active_lock = threading.Lock()


@dataclass
class TableOutcome:
    """What one sync did to one table, in the words of the summary."""

    table: str
    mode: str
    rows: int
    pages: int
    changed: int
    deleted: int
    swept: int
    by_action: dict[str, int] = field(default_factory=dict)

    @property
    def unchanged(self) -> int:
        return max(self.rows - self.changed - self.deleted, 0)

    def words(self) -> str:
        return describe(self.changed, self.unchanged, self.deleted, self.swept)


def describe(changed: int, unchanged: int, deleted: int, swept: int) -> str:
    """``1,200 changed, 47,000 unchanged, 10 deleted`` (+ ``3 removed (gone from the source)``)."""
    words = f"{changed:,} changed, {unchanged:,} unchanged, {deleted:,} deleted"
    return words + (f", {swept:,} removed (gone from the source)" if swept else "")


def window_text(since: datetime | None, before: datetime | None) -> str:
    """The window as the logs show it: ``[since, before)``, ``all (current state)``..."""
    if since is None and before is None:
        return "all (current state)"
    start = since.isoformat() if since else "the watermark"
    return f"[{start}, {before.isoformat() if before else 'now'})"


def scope_text(target: tablesync.Target) -> str:
    if target.scope:
        return target.scope
    return ", ".join(f"{k}={v}" for k, v in sorted(target.filters.items())) or "all"


def interval_from_env() -> float:
    try:
        return max(float(os.environ.get(INTERVAL_ENV, DEFAULT_INTERVAL)), 0.0)
    except ValueError:
        return DEFAULT_INTERVAL


class SyncProgress:
    """Counts pages and rows of one running sync and writes them to ``log``.

    :param log: the task's logger (``operator.log``).
    :param targets: the tables of the sync, as planned (for the start line and the metrics).
    :param interval: least seconds between two progress lines.
    """

    def __init__(self, log: logging.Logger, targets: Sequence[tablesync.Target], *,
                 interval: float | None = None) -> None:
        self.log = log
        self.targets = list(targets)
        self.interval = interval_from_env() if interval is None else interval
        self.pages = 0
        self.rows = 0
        self.outcomes: list[TableOutcome] = []
        self._lock = threading.Lock()
        self._started = self._last = time.monotonic()

    @property
    def vendor(self) -> str:
        return self.targets[0].vendor if self.targets else "unknown"

    @property
    def endpoint(self) -> str:
        return self.targets[0].endpoint if self.targets else "unknown"

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    # -- what the layers below report -----------------------------------------------------

    def page(self) -> None:
        with self._lock:
            self.pages += 1
        self._maybe_log()

    def staged(self, target: tablesync.Target, rows: int) -> None:
        with self._lock:
            self.rows += rows
        self._maybe_log()

    def recorded(self, target: tablesync.Target, load: tablesync.TableLoad, by_action: dict[str, int],
                 pages: int, duration_s: float) -> None:
        outcome = TableOutcome(table=target.table, mode=target.mode, rows=load.rows, pages=pages,
                               changed=load.upserted, deleted=load.deleted, swept=load.swept, by_action=by_action)
        with self._lock:
            self.outcomes.append(outcome)

    # -- lines ----------------------------------------------------------------------------

    def started(self) -> None:
        for target in self.targets or []:
            self.log.info("Sync started: %s %s, scope %s, window %s, mode %s, into %s", target.vendor, target.endpoint,
                          scope_text(target), window_text(target.since, target.before), target.mode, target.table)

    def _maybe_log(self) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.interval:
                return
            self._last = now
            pages, rows = self.pages, self.rows
        seconds = now - self._started
        self.log.info("Progress: %s pages, %s rows, %s rows/s after %.1f s", f"{pages:,}", f"{rows:,}",
                      f"{rows / seconds if seconds else 0:,.0f}", seconds)

    def totals(self) -> dict[str, int]:
        out = Counter({"changed": 0, "unchanged": 0, "deleted": 0, "swept": 0})
        for o in self.outcomes:
            out.update({"changed": o.changed, "unchanged": o.unchanged, "deleted": o.deleted, "swept": o.swept})
        return dict(out)

    def finished(self) -> None:
        """The summary, after the commit, and the metrics."""
        seconds, t = self.elapsed(), self.totals()
        for o in self.outcomes:
            self.log.info("Synced %s (%s): %s rows read in %s pages, %s", o.table, o.mode, f"{o.rows:,}",
                          f"{o.pages:,}", o.words())
        rows = sum(o.rows for o in self.outcomes) or self.rows
        self.log.info("Sync finished in %.1f s: %s pages, %s rows (%s rows/s), %s", seconds, f"{self.pages:,}",
                      f"{rows:,}", f"{rows / seconds if seconds else 0:,.0f}",
                      describe(t["changed"], t["unchanged"], t["deleted"], t["swept"]))
        emit_metrics(self, seconds, failed=False)

    def failed(self, exc: BaseException) -> None:
        seconds = self.elapsed()
        self.log.error("Sync failed after %.1f s (%s pages, %s rows read; nothing committed): %s", seconds,
                       f"{self.pages:,}", f"{self.rows:,}", type(exc).__name__)
        emit_metrics(self, seconds, failed=True)


# -- wiring: the one active sync of this process ------------------------------------------


def active() -> SyncProgress | None:
    return _active


@contextmanager
def track(progress: SyncProgress) -> Iterator[SyncProgress]:
    """Make ``progress`` the sync that pages and rows of this process report to."""
    global _active
    with _active_lock:
        previous, _active = _active, progress
    try:
        progress.started()
        yield progress
    finally:
        with _active_lock:
            _active = previous


def count_response(base_url: str):
    """An httpx ``response`` event hook: a successful answer under ``base_url`` counts as a page
    of the active sync (token requests and failed attempts do not)."""

    def hook(response: Any) -> None:
        progress = _active
        if progress is not None and response.is_success and str(response.request.url).startswith(base_url):
            progress.page()

    return hook


class _Forwarder:
    """Passes the warehouse's reports to the active sync (the warehouse knows nothing of Airflow)."""

    def staged(self, target: tablesync.Target, rows: int) -> None:
        if _active is not None:
            _active.staged(target, rows)

    def recorded(self, *args: Any) -> None:
        if _active is not None:
            _active.recorded(*args)


if not any(isinstance(o, _Forwarder) for o in tablesync.OBSERVERS):
    tablesync.OBSERVERS.append(_Forwarder())


# -- metrics ------------------------------------------------------------------------------


def metric_name(*parts: str) -> str:
    """``retail_sync.ocds.item_price.rows.upsert``: only the characters statsd accepts."""
    return ".".join(re.sub(r"[^a-zA-Z0-9_-]", "_", p.lower()) for p in (METRIC_PREFIX, *parts) if p)


def emit_metrics(progress: SyncProgress, seconds: float, *, failed: bool) -> None:
    """Counters and a timer per endpoint through Airflow's own stats (a no-op when metrics are off).

    ``retail_sync.<vendor>.<endpoint>.``: ``pages``, ``seconds`` (timer, ms), ``failed``, and
    per table outcome ``rows.changed|unchanged|deleted|swept`` and source action
    ``rows.<action>``; every metric is also tagged ``vendor``, ``endpoint`` (and ``table``).
    """
    try:
        from airflow.sdk.observability import stats
    except ImportError:  # pragma: no cover - an older Task SDK
        return
    base = (progress.vendor, progress.endpoint)
    tags = {"vendor": progress.vendor, "endpoint": progress.endpoint}
    try:
        stats.incr(metric_name(*base, "pages"), progress.pages, tags=tags)
        stats.timing(metric_name(*base, "seconds"), seconds * 1000, tags=tags)
        if failed:
            stats.incr(metric_name(*base, "failed"), tags=tags)
        for o in progress.outcomes:
            table_tags = {**tags, "table": o.table}
            counts = {"changed": o.changed, "unchanged": o.unchanged, "deleted": o.deleted, "swept": o.swept}
            counts.update({action: n for action, n in o.by_action.items()})
            for name, n in counts.items():
                stats.incr(metric_name(*base, "rows", name), n, tags=table_tags)
    except Exception:  # metrics must never fail a sync
        logging.getLogger(__name__).debug("metrics not sent", exc_info=True)
