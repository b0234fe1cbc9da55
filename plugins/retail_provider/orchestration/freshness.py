"""Freshness: how far behind each warehouse table is, at a glance and as a data alert.

``retail_meta.table_freshness`` (a view over ``retail_meta.sync_ledger``) has one row per table:

=================  =====================================================================
``table_name``     ``schema.table``
``vendor``         ``ocds`` / ``retailnext``
``last_sync_at``   when the newest sync of the table started (whatever its outcome)
``last_status``    that sync's status (``success``, ``failed``, ``running``)
``last_success_at`` when the newest successful sync finished
``watermark``      how far the table's data is known complete: the end of the newest window
                   committed (an incremental sync's ``before``, what its watermark advances
                   to), or the start of the newest snapshot (or of a sync whose window has
                   no width, such as today's occupancy); never later than that sync's start
``lag``            ``now() - watermark``
``last_error``     the newest failure's error, and ``last_error_at`` when it happened
=================  =====================================================================

The expectation is a maximum lag per table, in hours, from the Airflow Variable
``retail_freshness_max_lag_hours`` (JSON, read when the check runs)::

    {"*": 26, "ocds.inventory_store": 1, "retailnext.occupancy": 1}

(``*`` for every other table; without the Variable, :data:`DEFAULT_MAX_LAG`).  The DAG
``retail_freshness`` (:func:`build_freshness_dag`) checks every 30 minutes and sends one data
alert naming the tables that have just fallen behind; a table is named again only after it
caught up (the ones already reported are in the Variable ``retail_freshness_stale``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from retail_provider.orchestration.notifications.channels import Alert, deliver
from retail_provider.orchestration.notifications.message import dag_run_facts, format_facts
from retail_provider.warehouse import WAREHOUSE_CONN_ID
from retail_provider.warehouse.ddl import run_ddl
from retail_provider.warehouse.ledger import LEDGER_SCHEMA, LEDGER_TABLE, ensure_ledger

log = logging.getLogger(__name__)

VIEW = "table_freshness"
MAX_LAG_VARIABLE = "retail_freshness_max_lag_hours"
STALE_VARIABLE = "retail_freshness_stale"
DEFAULT_MAX_LAG = {"*": 26.0}

VIEW_SQL = f"""CREATE OR REPLACE VIEW {LEDGER_SCHEMA}.{VIEW} AS
WITH synced AS (
    SELECT target_table, vendor,
           max(started_at) AS last_sync_at,
           max(finished_at) FILTER (WHERE status = 'success') AS last_success_at,
           max(CASE WHEN before IS NULL OR before <= since THEN started_at ELSE least(before, started_at) END)
               FILTER (WHERE status = 'success') AS watermark
    FROM {LEDGER_TABLE} GROUP BY target_table, vendor
), newest AS (
    SELECT DISTINCT ON (target_table) target_table, status FROM {LEDGER_TABLE} ORDER BY target_table, id DESC
), failed AS (
    SELECT DISTINCT ON (target_table) target_table, error, coalesce(finished_at, started_at) AS failed_at
    FROM {LEDGER_TABLE} WHERE status = 'failed' ORDER BY target_table, id DESC
)
SELECT s.target_table AS table_name, s.vendor, s.last_sync_at, n.status AS last_status, s.last_success_at,
       s.watermark, now() - s.watermark AS lag, f.error AS last_error, f.failed_at AS last_error_at
FROM synced s JOIN newest n USING (target_table) LEFT JOIN failed f USING (target_table)
ORDER BY s.target_table"""


@dataclass(frozen=True)
class Freshness:
    """One row of the view."""

    table_name: str
    vendor: str
    last_sync_at: datetime | None
    last_status: str | None
    last_success_at: datetime | None
    watermark: datetime | None
    lag: timedelta | None
    last_error: str | None
    last_error_at: datetime | None


@dataclass(frozen=True)
class StaleTable:
    """A table whose lag is beyond its expectation (``lag`` ``None``: never synced successfully)."""

    row: Freshness
    max_lag: timedelta

    def line(self) -> str:
        row = self.row
        if row.watermark is None:
            text = f"- {row.table_name}: no successful sync yet (expected within {_hours(self.max_lag)})"
        else:
            text = (f"- {row.table_name}: data up to {row.watermark.isoformat()}, {_hours(row.lag)} behind "
                    f"(expected at most {_hours(self.max_lag)})")
        if row.last_error and row.last_status == "failed":
            text += f"; last sync failed at {row.last_error_at.isoformat() if row.last_error_at else '?'}: " \
                    f"{row.last_error.splitlines()[0][:300]}"
        return text


def _hours(value: timedelta | None) -> str:
    return f"{value.total_seconds() / 3600:.1f} h" if value is not None else "?"


def ensure_freshness_view(conn: Any) -> None:
    """Create (or replace: a newer definition applies) ``retail_meta.table_freshness`` and the ledger under it."""
    ensure_ledger(conn)
    run_ddl(conn, [VIEW_SQL])


def read_freshness(conn: Any) -> list[Freshness]:
    ensure_freshness_view(conn)
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {LEDGER_SCHEMA}.{VIEW}")
        rows = [Freshness(*r) for r in cur.fetchall()]
    conn.commit()
    return rows


def max_lags(setting: Any = None) -> dict[str, float]:
    """The expectation: ``{table or "*": hours}`` from a dict or its JSON text (default 26 h for all).

    :raises ValueError: naming the entry that is not a positive number of hours.
    """
    if setting in (None, ""):
        return dict(DEFAULT_MAX_LAG)
    values = json.loads(setting) if isinstance(setting, str) else dict(setting)
    if not isinstance(values, dict):
        raise ValueError(f"{MAX_LAG_VARIABLE} must be a JSON object of table -> hours")
    out = {**DEFAULT_MAX_LAG}
    for table, hours in values.items():
        if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
            raise ValueError(f"{MAX_LAG_VARIABLE}: {table!r} must be a positive number of hours (got {hours!r})")
        out[str(table)] = float(hours)
    return out


def stale_tables(rows: list[Freshness], lags: dict[str, float]) -> list[StaleTable]:
    """The tables beyond their maximum lag (or never synced successfully)."""
    out = []
    for row in rows:
        limit = timedelta(hours=lags.get(row.table_name, lags["*"]))
        if row.lag is None or row.lag > limit:
            out.append(StaleTable(row, limit))
    return out


def freshness_alert(stale: list[StaleTable], context: Any = None) -> Alert:
    n = len(stale)
    subject = f"[Airflow] Freshness: {n} warehouse table{'s' if n != 1 else ''} behind: " + \
        ", ".join(s.row.table_name for s in stale[:3]) + (" ..." if n > 3 else "")
    lines = [f"{n} table{'s are' if n != 1 else ' is'} further behind than expected "
             f"({MAX_LAG_VARIABLE}; see {LEDGER_SCHEMA}.{VIEW}):", "", *[s.line() for s in stale]]
    facts = dag_run_facts(context)
    return Alert(subject=subject, text="\n".join([*lines, *(["", format_facts(facts)] if facts else [])]))


def check_freshness(conn: Any, lags: dict[str, float], already_reported: set[str],
                    context: Any = None) -> tuple[list[StaleTable], list[str]]:
    """Alert once about the tables that have just fallen behind.

    :returns: every stale table, and the channels that took the alert (none when nothing is new).
    """
    stale = stale_tables(read_freshness(conn), lags)
    for s in stale:
        log.warning("Behind: %s", s.line()[2:])
    new = [s for s in stale if s.row.table_name not in already_reported]
    return stale, (deliver(freshness_alert(new, context)) if new else [])


def build_freshness_dag(dag_id: str = "retail_freshness", *, cron: str = "*/30 * * * *",
                        postgres_conn_id: str = WAREHOUSE_CONN_ID) -> Any:
    """Every 30 minutes: the freshness view, and a data alert for tables newly behind."""
    from airflow.sdk import Param, Variable, get_current_context, task

    from retail_provider.orchestration.dag_defaults import sync_dag

    with sync_dag(dag_id, cron=cron, tags=["freshness", "alerts"], doc_md=__doc__,
                  description="Which warehouse tables are further behind than expected (data alert)",
                  params={"max_lag_hours": Param(None, type=["null", "object"], title="Maximum lag (hours)",
                                                 description=f"Overrides the Variable {MAX_LAG_VARIABLE} for this "
                                                             'run, e.g. {"*": 26, "ocds.item": 3}.')}) as dag:

        @task
        def check() -> dict[str, Any]:
            from airflow.providers.postgres.hooks.postgres import PostgresHook

            context = get_current_context()
            setting = context["params"].get("max_lag_hours") or Variable.get(MAX_LAG_VARIABLE, default=None)
            reported = set(json.loads(Variable.get(STALE_VARIABLE, default=None) or "[]"))
            conn = PostgresHook(postgres_conn_id=postgres_conn_id).get_conn()
            try:
                stale, sent = check_freshness(conn, max_lags(setting), reported, context)
            finally:
                conn.close()
            Variable.set(STALE_VARIABLE, json.dumps(sorted(s.row.table_name for s in stale)))
            return {"stale": [s.row.table_name for s in stale], "alerted_by": sent}

        check()
    return dag
