"""`make demo`: run the DAGs for real against the emulator and print what landed.

1. the warehouse: ``$WAREHOUSE_DSN`` if set, else the embedded PostgreSQL (``.local/pgdata``),
   database ``retail_demo``;
2. the emulator of both vendor APIs on a free local port;
3. an Airflow home in ``.local/airflow-demo`` (SQLite metadata, migrated once);
4. every OCDS DAG run through Airflow (``dag.test``: the scheduler's task loop in one
   process, real Variables, real connections);
5. a batch of source changes and a second, incremental round;
6. a table of rows per warehouse table and the sync ledger.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

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
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(v).rjust(w) if isinstance(v, int) else str(v).ljust(w) for v, w in zip(r, widths)))


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
        return conn.execute(
            "SELECT endpoint, left(coalesce(filters::text, ''), 48), count(*) FILTER (WHERE status = 'success'), "
            "count(*) FILTER (WHERE status <> 'success'), sum(rows_upserted)::bigint, sum(rows_deleted)::bigint, "
            "round(sum(duration_s)::numeric, 2) FROM retail_meta.sync_ledger GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()


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
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")  # the tables below tell the story
    airflow_env.migrate(home)

    print("==> warehouse:", "WAREHOUSE_DSN" if os.environ.get("WAREHOUSE_DSN") else "embedded PostgreSQL (.local/pgdata)")
    dsn = warehouse.ensure_database(warehouse.server_dsn(), args.database, recreate=True)

    from include.emulator.server import EmulatorServer

    emulator = EmulatorServer(ocds_scale=args.scale, seed=7, retailnext_stores=10)
    emulator.start()
    print(f"==> emulator: {emulator.url} (OCDS dataset scale {args.scale})")
    airflow_env.set_connection("ocds_default", airflow_env.ocds_connection(emulator.url))
    airflow_env.set_connection("warehouse_default", warehouse.airflow_conn_json(dsn))
    airflow_env.set_connection("retailnext_default", airflow_env.retailnext_connection(emulator.url))

    failed = []
    try:
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
            print(f"\n==> {round_name}: running {len(args.dags)} DAGs through Airflow")
            for dag_id in args.dags:
                started = time.perf_counter()
                # the emulator stamps changes "now": no safety lag, so the demo sees them at once
                run = airflow_env.run_dag(dag_id, {"safety_lag_seconds": 0, **DAG_CONF.get(dag_id, {})})
                state = str(run.state)
                print(f"    {dag_id:<18} {state:<8} {time.perf_counter() - started:6.1f}s")
                if "success" not in state:
                    failed.append(dag_id)
    finally:
        emulator.stop()

    print("\n==> rows landed per warehouse table")
    _print_table(["table", "rows"], landed(dsn))
    print("\n==> sync ledger (retail_meta.sync_ledger)")
    _print_table(["endpoint", "filters", "ok", "failed", "upserted", "deleted", "seconds"], ledger(dsn))
    if failed:
        print(f"\nFAILED DAG runs: {', '.join(failed)} (logs in {home / 'logs'})", file=sys.stderr)
        return 1
    print(f"\nWarehouse DSN: {dsn}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
