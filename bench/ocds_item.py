"""`make bench`: OCDS `item` sync throughput and memory, beside plain COPY and a naive loader.

For each size (default 100,000 and 1,000,000 items):

1. the emulator runs in its own process with that many items;
2. a fresh child process runs the ``ocds_items`` DAG through Airflow with Params
   ``endpoint=item`` (the OcdsIncrementalSyncOperator end to end: HTTP, decoding, COPY,
   merge, ledger, watermark); its sync time comes from the ledger and its peak RSS from
   the kernel;
3. the same rows are copied again, in the same PostgreSQL, into an empty table of the same
   shape: once as plain ``COPY ... FROM STDIN`` of ready-made text (the server's own
   speed) and once with psycopg ``write_row`` from Python tuples (a client-side COPY);
4. a naive loader inserts the rows one ``INSERT ... ON CONFLICT`` at a time (timed on the
   first 20,000 rows).

Prints one table; figures vary with the machine, so nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAIVE_ROWS = 20_000


def start_emulator(scale: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "include.emulator", "--port", "0", "--ocds-scale", str(scale)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline()
    if "ready at" not in line:
        proc.kill()
        raise RuntimeError(f"emulator did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[-1].strip()


def child(url: str, dsn: str) -> None:
    """Run in a fresh process: the DAG through Airflow, printing the ledger row as JSON."""
    import shutil

    from include.devenv import airflow_env, warehouse

    home = ROOT / ".local" / "bench-airflow"
    shutil.rmtree(home, ignore_errors=True)
    airflow_env.configure(home)
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    airflow_env.migrate(home)
    airflow_env.set_connection("ocds_default", airflow_env.ocds_connection(url))
    airflow_env.set_connection("warehouse_default", warehouse.airflow_conn_json(dsn))
    started = time.perf_counter()
    run = airflow_env.run_dag("ocds_items", {"endpoint": "item", "safety_lag_seconds": 0})
    wall = time.perf_counter() - started
    import psycopg

    with psycopg.connect(dsn) as conn:
        duration, rows = conn.execute(
            "SELECT duration_s, rows_upserted FROM retail_meta.sync_ledger WHERE endpoint = 'item' "
            "AND status = 'success' ORDER BY id DESC"
        ).fetchone()
    print(json.dumps({"state": str(run.state), "sync_s": duration, "rows": rows, "task_wall_s": wall}))


def run_child(url: str, dsn: str) -> dict:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.ocds_item", "--child", url, dsn],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"benchmark child failed ({status}): {out[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def copy_rates(dsn: str) -> dict:
    """Plain COPY (text prepared in memory) and a client-side write_row COPY of the same rows."""
    import psycopg

    from retail_provider.ocds.catalog import get_endpoint
    from retail_provider.ocds.sync import spec_for
    from retail_provider.warehouse.schema import quote

    spec = spec_for(get_endpoint("item"), "ocds")
    cols = ", ".join(quote(c) for c in spec.column_names)
    with psycopg.connect(dsn) as conn:
        buf = bytearray()
        with conn.cursor().copy(f"COPY (SELECT {cols} FROM ocds.item) TO STDOUT") as copy:
            for chunk in copy:
                buf += chunk
        tuples = conn.execute(f"SELECT {cols} FROM ocds.item").fetchall()
        n = len(tuples)
        out = {}
        for label in ("plain_copy", "client_copy"):
            conn.execute("DROP TABLE IF EXISTS ocds.bench_copy")
            conn.execute("CREATE TABLE ocds.bench_copy (LIKE ocds.item INCLUDING DEFAULTS INCLUDING INDEXES)")
            conn.commit()
            started = time.perf_counter()
            with conn.cursor().copy(f"COPY ocds.bench_copy ({cols}) FROM STDIN") as copy:
                if label == "plain_copy":
                    view = memoryview(buf)
                    for i in range(0, len(view), 1 << 20):
                        copy.write(view[i:i + (1 << 20)])
                else:
                    for row in tuples:
                        copy.write_row(row)
            conn.commit()
            out[label] = n / (time.perf_counter() - started)
        # naive: one INSERT ... ON CONFLICT per row
        conn.execute("TRUNCATE ocds.bench_copy")
        conn.commit()
        placeholders = ", ".join(["%s"] * len(spec.column_names))
        updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in spec.column_names)
        sql = (f"INSERT INTO ocds.bench_copy ({cols}) VALUES ({placeholders}) "
               f"ON CONFLICT ({', '.join(quote(k) for k in spec.primary_key)}) DO UPDATE SET {updates}")
        sample = tuples[:NAIVE_ROWS]
        started = time.perf_counter()
        with conn.cursor() as cur:
            for row in sample:
                cur.execute(sql, row)
        conn.commit()
        out["naive"] = len(sample) / (time.perf_counter() - started)
        conn.execute("DROP TABLE ocds.bench_copy")
        conn.commit()
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2])
        return 0
    parser = argparse.ArgumentParser(description="OCDS item sync benchmark")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args(argv)

    from include.devenv import warehouse

    rows = []
    for size in args.sizes:
        dsn = warehouse.ensure_database(warehouse.server_dsn(), "retail_bench", recreate=True)
        emulator, url = start_emulator(size)
        try:
            e2e = run_child(url, dsn)
        finally:
            emulator.terminate()
            emulator.wait()
        refs = copy_rates(dsn)
        rate = e2e["rows"] / e2e["sync_s"]
        rows.append((size, e2e["rows"], rate, e2e["peak_rss_mb"], refs["plain_copy"], refs["client_copy"], refs["naive"]))
        print(f"size {size}: synced {e2e['rows']} rows in {e2e['sync_s']:.2f}s "
              f"(task incl. Airflow {e2e['task_wall_s']:.1f}s), peak RSS {e2e['peak_rss_mb']:.0f} MB", flush=True)

    print()
    header = ("items", "rows", "e2e rows/s", "peak MB", "plain COPY/s", "e2e/COPY", "client COPY/s",
              "naive rows/s", "e2e/naive")
    print("  ".join(f"{h:>13}" for h in header))
    for size, n, rate, rss, plain, client, naive in rows:
        cells = (f"{size:,}", f"{n:,}", f"{rate:,.0f}", f"{rss:,.0f}", f"{plain:,.0f}", f"{rate / plain:.2f}",
                 f"{client:,.0f}", f"{naive:,.0f}", f"{rate / naive:.1f}x")
        print("  ".join(f"{c:>13}" for c in cells))
    if len(rows) > 1:
        print(f"\npeak memory, largest vs smallest size: {rows[-1][3] / rows[0][3]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
