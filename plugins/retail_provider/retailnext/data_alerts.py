"""Data alerts beside run failures, sent through the same channels as failure alerts.

* :func:`notify_new_health_alerts`: new unresolved RetailNext health alerts; pass it as
  ``on_new_alerts`` of ``RetailNextHealthAlertsOperator``.
* :func:`check_stale_validity` + :func:`notify_stale_validity`: datamine points (traffic)
  whose ``validity`` is still not ``complete`` although their day is older than the
  validity lookback, i.e. days the traffic DAG has stopped re-reading.  Call them from a
  task at the end of the traffic DAG::

      rows = check_stale_validity(conn, "traffic_daily", lookback_days=7, horizon_days=1)
      notify_stale_validity(rows, context, table="traffic_daily", lookback_days=7)
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from retail_provider.orchestration.notifications.channels import Alert, deliver
from retail_provider.orchestration.notifications.message import format_facts, run_facts
from retail_provider.warehouse.schema import quote

MAX_LINES = 50
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def _with_run(lines: list[str], context: Any) -> str:
    facts = run_facts(context)
    return "\n".join([*lines, *(["", format_facts(facts)] if facts else [])])


def _more(total: int) -> list[str]:
    return [f"... and {total - MAX_LINES} more"] if total > MAX_LINES else []


# -- health alerts ----------------------------------------------------------------------


def health_alerts_alert(alerts: list[dict[str, Any]], context: Any = None) -> Alert:
    """The message for new unresolved health alerts (summaries as the operator reports them:
    ``uuid``, ``alert_creation_time``, ``severity``, ``type``, ``description``,
    ``store_uuid``, ``store_name``, ``subject_id``, ``subject_name``)."""
    n = len(alerts)
    stores = sorted({str(a.get("store_name") or a.get("store_uuid") or "?") for a in alerts})
    subject = f"[Airflow] RetailNext: {n} new unresolved health alert{'s' if n != 1 else ''}"
    subject += f" at {', '.join(stores[:3])}" + (" ..." if len(stores) > 3 else "")
    lines = [f"{n} new unresolved RetailNext health alert{'s' if n != 1 else ''}:", ""]
    for a in alerts[:MAX_LINES]:
        subject_name = a.get("subject_name") or a.get("subject_id")
        lines.append(
            f"- [{a.get('severity') or '?'}] {a.get('type') or '?'} at {a.get('store_name') or '?'} "
            f"({a.get('store_uuid') or '?'})" + (f", {subject_name}" if subject_name else "")
            + f", since {a.get('alert_creation_time') or '?'}: {a.get('description') or ''} [{a.get('uuid')}]"
        )
    lines += _more(n)
    return Alert(subject=subject, text=_with_run(lines, context))


def notify_new_health_alerts(alerts: list[dict[str, Any]], context: Any = None) -> list[str]:
    """Send new unresolved health alerts through the configured channels (the
    ``on_new_alerts(alerts, context)`` hook of the health-alerts operator).

    :returns: the channels that took the message (empty when there is nothing to say or no
        channel is configured: then it is only logged).
    :raises AlertDeliveryError: channels are configured and none took it.
    """
    if not alerts:
        return []
    return deliver(health_alerts_alert(alerts, context))


# -- validity that stays incomplete -----------------------------------------------------


class StaleValidity(NamedTuple):
    """Points of one location and metric still not ``complete`` after the lookback."""

    location_uuid: str
    metric: str
    validity: str
    first_period: datetime
    last_period: datetime
    points: int
    location_name: str | None = None

    @property
    def location(self) -> str:
        """``Store name (uuid)``, or the uuid alone when the store is not in ``retailnext.locations``."""
        return f"{self.location_name} ({self.location_uuid})" if self.location_name else self.location_uuid


def check_stale_validity(
    conn: Any,
    table: str = "traffic_daily",
    lookback_days: int = 7,
    *,
    schema: str = "retailnext",
    horizon_days: int | None = None,
    today: date | None = None,
) -> list[StaleValidity]:
    """Points of ``schema.table`` whose validity is not ``complete`` (``NULL`` counts as
    incomplete, except for the catalogue's metrics that carry no validity at all) and whose
    period started before ``today - lookback_days``: the traffic DAG no longer re-reads
    them, so they stay as they are unless someone reloads them.

    :param conn: a DB-API connection to the warehouse (psycopg 2 or 3, e.g.
        ``PostgresHook(...).get_conn()``); only read.
    :param table: a datamine table (``traffic_daily``, ``traffic_hourly``).
    :param lookback_days: the traffic DAG's validity lookback.
    :param horizon_days: only periods at most this many days older than the lookback floor
        (``1`` from a daily DAG reports each day once); ``None``: all of them.
    :param today: the current day (UTC) for tests; default today.
    :returns: one row per location, metric and validity, ordered; empty when the table
        does not exist yet.
    """
    for name in (schema, table):
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"not a plain identifier: {name!r}")
    if lookback_days < 0 or (horizon_days is not None and horizon_days < 1):
        raise ValueError("lookback_days must be >= 0 and horizon_days >= 1")
    from retail_provider.retailnext.datamine.catalog import METRICS

    floor = (today or datetime.now(UTC).date()) - timedelta(days=lookback_days)
    no_validity = [m.name for m in METRICS.values() if not m.validity]
    where, params = "", [floor, no_validity]
    if horizon_days is not None:
        where, params = " AND period_start >= %s", [floor, no_validity, floor - timedelta(days=horizon_days)]
    qualified = f"{quote(schema)}.{quote(table)}"
    cur = conn.cursor()
    try:
        cur.execute("SELECT to_regclass(%s)", (qualified,))
        if cur.fetchone()[0] is None:
            return []
        cur.execute(
            "SELECT location_uuid, metric, coalesce(validity, 'incomplete'), min(period_start), "
            f"max(period_start), count(*) FROM {qualified} "
            f"WHERE coalesce(validity, 'incomplete') <> 'complete' AND period_start < %s "
            f"AND NOT (validity IS NULL AND metric = ANY(%s)){where} "
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            params,
        )
        rows = [StaleValidity(*row) for row in cur.fetchall()]
        names = _store_names(cur, schema, sorted({r.location_uuid for r in rows}))
        return [r._replace(location_name=names.get(r.location_uuid)) for r in rows]
    finally:
        cur.close()


def _store_names(cur: Any, schema: str, uuids: list[str]) -> dict[str, str]:
    """Names of these locations from ``schema.locations`` (empty before the first locations sync)."""
    qualified = f"{quote(schema)}.locations"
    cur.execute("SELECT to_regclass(%s)", (qualified,))
    if not uuids or cur.fetchone()[0] is None:
        return {}
    cur.execute(f"SELECT uuid, name FROM {qualified} WHERE uuid = ANY(%s) AND name IS NOT NULL", (uuids,))
    return dict(cur.fetchall())


def stale_validity_alert(rows: list[StaleValidity], context: Any = None, *, table: str = "traffic_daily",
                         lookback_days: int = 7, schema: str = "retailnext") -> Alert:
    points = sum(r.points for r in rows)
    locations = len({r.location_uuid for r in rows})
    subject = (f"[Airflow] RetailNext {table}: {points} point{'s' if points != 1 else ''} at {locations} "
               f"location{'s' if locations != 1 else ''} still not complete after {lookback_days} days")
    lines = [
        f"{schema}.{table}: these points are older than the {lookback_days}-day validity lookback and "
        "their validity is still not complete; the traffic DAG no longer re-reads them.",
        "Reload them with the DAG's Params date_from/date_to once RetailNext has final data.",
        "",
    ]
    lines += [f"- {r.location} {r.metric}: {r.points} {r.validity} point{'s' if r.points != 1 else ''}, "
              f"{r.first_period.isoformat()} to {r.last_period.isoformat()}" for r in rows[:MAX_LINES]]
    lines += _more(len(rows))
    return Alert(subject=subject, text=_with_run(lines, context))


def notify_stale_validity(rows: list[StaleValidity], context: Any = None, *, table: str = "traffic_daily",
                          lookback_days: int = 7, schema: str = "retailnext") -> list[str]:
    """Send the rows of :func:`check_stale_validity` through the configured channels.

    :returns: the channels that took the message (empty when ``rows`` is empty or no channel
        is configured).
    :raises AlertDeliveryError: channels are configured and none took it.
    """
    if not rows:
        return []
    return deliver(stale_validity_alert(rows, context, table=table, lookback_days=lookback_days, schema=schema))


def report_stale_validity(postgres_conn_id: str, table: str, lookback_days: int, context: Any = None) -> int:
    """Check ``table`` for points that just left the lookback incomplete and alert once; returns their count."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    conn = PostgresHook(postgres_conn_id=postgres_conn_id).get_conn()
    try:
        rows = check_stale_validity(conn, table, lookback_days, horizon_days=1)
    finally:
        conn.close()
    if rows:
        notify_stale_validity(rows, context, table=table, lookback_days=lookback_days)
    return sum(r.points for r in rows)
