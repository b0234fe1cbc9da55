"""`make demo`: run the DAGs for real against the emulator and print what landed.

1. the warehouse: ``$WAREHOUSE_DSN`` if set, else the embedded PostgreSQL (``.local/pgdata``),
   database ``retail_demo``;
2. the emulator of both vendor APIs on a free local port;
3. an Airflow home in ``.local/airflow-demo`` (SQLite metadata, migrated once);
4. every OCDS DAG run through Airflow (``dag.test``: the scheduler's task loop in one
   process, real Variables, real connections);
5. a batch of source changes and a second, incremental round;
6. a table of rows per warehouse table, their freshness and the sync ledger.

Airflow's own log lines go to ``<airflow home>/demo.log``; the terminal shows what the demo
does, each alert once (a local webhook receives them, as a Slack channel would) and the tables.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from include.devenv import airflow_env, warehouse

ROOT = Path(__file__).resolve().parents[2]
OCDS_DAGS = [
    "ocds_reference",
    "ocds_locations",
    "ocds_items",
    "ocds_prices",
    "ocds_promotions",
    "ocds_inventory",
    "ocds_admin",
]
#: per-DAG run conf: the traffic DAG loads a multi-metric set (counts, rates, money, durations) at two grains
DAG_CONF = {"retailnext_traffic": {"metrics": ["traffic_in", "traffic_out", "conversion_rate", "net_sales",
                                               "avg_dwell_duration", "total_wifi_users"],
                                   "grain": ["day", "hour"]}}
RETAILNEXT_DAGS = [
    "retailnext_locations",
    "retailnext_users",
    "retailnext_floorplans",
    "retailnext_devices",
    "retailnext_health_alerts",
    "retailnext_predicted_traffic",
    "retailnext_zone_transitions",
    "retailnext_traffic",
    "retailnext_occupancy",
]


def _print_table(headers: list[str], rows: list[tuple]) -> None:
    """Columns as wide as their longest value (ids are never cut), numbers right-aligned."""
    widths = [max([len(str(h)), *(len(_cell(r[i])) for r in rows)]) for i, h in enumerate(headers)]
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths)).rstrip())
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(_cell(v).rjust(w) if isinstance(v, int | float) else _cell(v).ljust(w)
                        for v, w in zip(r, widths)).rstrip())


def _cell(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


@contextlib.contextmanager
def airflow_output_to(log: Path) -> Iterator[None]:
    """Send everything written to this process's stdout/stderr (Airflow's task logs, warnings)
    to ``log`` while the block runs; the demo's own lines go to the terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


class AlertPrinter(ThreadingHTTPServer):
    """A Slack-compatible webhook on localhost that prints each alert it receives, once."""

    daemon_threads = True

    def __init__(self, terminal: Any) -> None:
        self.terminal = terminal
        self.count = 0
        super().__init__(("127.0.0.1", 0), _AlertHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/demo-alerts"


class _AlertHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
        text = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))["text"]
        subject, _, body = text.partition("\n")
        text = subject.strip("*") + "\n" + body  # the webhook's bold subject line, as plain text
        self.server.count += 1
        self.server.terminal.write("\n    ALERT " + text.replace("\n", "\n    | ") + "\n\n")
        self.server.terminal.flush()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def landed(dsn: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('ocds', 'retailnext', 'retail_meta') AND table_type = 'BASE TABLE' "
            "ORDER BY 1, 2"
        ).fetchall()
        out = []
        for schema, table in tables:
            n = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
            out.append((f"{schema}.{table}", n))
        return out


def ledger(dsn: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT endpoint, target_table, filters, count(*) FILTER (WHERE status = 'success'), "
            "count(*) FILTER (WHERE status <> 'success'), sum(rows_upserted)::bigint, sum(rows_deleted)::bigint, "
            "round(sum(duration_s)::numeric, 2)::float FROM retail_meta.sync_ledger GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ).fetchall()
    return [(r[0], r[1], _filters(r[2]), *r[3:]) for r in rows]


def _filters(filters: dict) -> str:
    """``pricetype=REGULAR``; lists as their length (``metrics=2``) so the column stays readable."""
    return " ".join(f"{k}={len(v) if isinstance(v, list) else v}" for k, v in sorted((filters or {}).items())) or "-"


def freshness(dsn: str) -> list[tuple]:
    """``retail_meta.table_freshness``: every table's last sync, watermark, lag and last error."""
    import psycopg

    from retail_provider.orchestration.freshness import read_freshness

    with psycopg.connect(dsn) as conn:
        rows = read_freshness(conn)
    return [(r.table_name, r.last_status or "-", r.watermark.isoformat(timespec="seconds") if r.watermark else "-",
             f"{r.lag.total_seconds():.0f}s" if r.lag is not None else "-",
             (r.last_error or "-").splitlines()[0][:60]) for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=int(os.environ.get("DEMO_OCDS_SCALE", "2000")),
                        help="OCDS items in the emulator's dataset")
    parser.add_argument("--dags", nargs="*", default=OCDS_DAGS + RETAILNEXT_DAGS)
    parser.add_argument("--database", default="retail_demo", help="warehouse database (recreated)")
    args = parser.parse_args(argv)

    home = ROOT / ".local" / f"airflow-{args.database.replace('_', '-')}"
    # a fresh metadata DB per demo: its watermark Variables must match the fresh warehouse
    shutil.rmtree(home, ignore_errors=True)
    airflow_env.configure(home)
    log = home / "demo.log"
    if not (airflow_env.TEMPLATE / "airflow.db").exists():
        print("==> Airflow metadata database: migrating it once (about a minute, only the first time)...", flush=True)
    airflow_env.migrate(home)

    print("==> warehouse:", "WAREHOUSE_DSN" if os.environ.get("WAREHOUSE_DSN") else "embedded PostgreSQL "
          "(.local/pgdata; the first start takes a few seconds; `make stop` stops it)", flush=True)
    dsn = warehouse.ensure_database(warehouse.server_dsn(), args.database, recreate=True)

    from include.emulator.server import EmulatorServer

    emulator = EmulatorServer(ocds_scale=args.scale, seed=7, retailnext_stores=10)
    emulator.start()
    print(f"==> emulator: {emulator.url} (OCDS dataset scale {args.scale})")
    airflow_env.set_connection("ocds_default", airflow_env.ocds_connection(emulator.url))
    airflow_env.set_connection("warehouse_default", warehouse.airflow_conn_json(dsn))
    airflow_env.set_connection("retailnext_default", airflow_env.retailnext_connection(emulator.url))
    alerts = AlertPrinter(os.fdopen(os.dup(1), "w"))
    os.environ["RETAIL_ALERT_WEBHOOK_URL"] = alerts.url  # each alert printed once, below its DAG
    print(f"==> Airflow's own log lines go to {log}")

    try:
        failed = run_rounds(args.dags, emulator, log)
    finally:
        emulator.stop()
        alerts.shutdown()

    print("\n==> rows landed per warehouse table")
    _print_table(["table", "rows"], landed(dsn))
    print("\n==> freshness (retail_meta.table_freshness)")
    _print_table(["table", "last status", "watermark", "lag", "last error"], freshness(dsn))
    print("\n==> sync ledger (retail_meta.sync_ledger)")
    _print_table(["endpoint", "table", "filters", "ok", "failed", "upserted", "deleted", "seconds"], ledger(dsn))
    if failed:
        print(f"\nFAILED DAG runs: {', '.join(failed)} (log: {log})", file=sys.stderr)
        return 1
    print(f"\nWarehouse DSN: {dsn}")
    return 0


def run_rounds(dag_ids: list[str], emulator: Any, log: Path) -> list[str]:
    """Every DAG through Airflow, then source changes, then every DAG again; returns the failed ones."""
    failed = []
    width = max(len(d) for d in dag_ids)
    for round_name in ("initial load", "incremental after source changes"):
        if round_name.startswith("incremental"):
            changed = 0
            for name in ("item", "item_image", "inventory_store", "diff", "vat", "item_promotion"):
                c = emulator.state.ocds.mutate(name, inserts=5, updates=5, deletes=2, seed=1)
                changed += sum(len(v) for v in c.values())
            rn = emulator.state.retailnext
            rn.add_alert(rn.stores()[0]["uuid"], description="Demo: sensor offline")
            rn.add_user("new.manager@example.com", name="New Manager")
            print(f"\n==> {changed} OCDS changes, a new RetailNext health alert and user applied in the emulator")
        print(f"\n==> {round_name}: running {len(dag_ids)} DAGs through Airflow", flush=True)
        for dag_id in dag_ids:
            started = time.perf_counter()
            with airflow_output_to(log):
                # the emulator stamps changes "now": no safety lag, so the demo sees them at once
                run = airflow_env.run_dag(dag_id, {"safety_lag_seconds": 0, **DAG_CONF.get(dag_id, {})})
            state = str(run.state).rsplit(".", 1)[-1].lower()
            print(f"    {dag_id:<{width}}  {state:<7}  {time.perf_counter() - started:5.1f}s", flush=True)
            if state != "success":
                failed.append(dag_id)
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
