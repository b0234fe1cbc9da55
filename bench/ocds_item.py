"""The OCDS ``item`` sync step as a task runs it, beside a plain COPY of the same rows.

For each size (default 1,000,000 items):

1. the emulator runs in its own process with that many items;
2. **first load**: a fresh child process runs the ``ocds_items`` DAG through Airflow
   (``dag.test``, Params ``endpoint=item``): the OcdsIncrementalSyncOperator end to end
   (HTTP, decoding, COPY into the shadow table, checkpoints, swap, ledger, watermark).  The
   sync time comes from the ledger; the child reports its own memory high-water mark
   (``VmHWM`` of ``/proc/self/status``: ``ru_maxrss`` of a child counts what its parent
   held when it forked) and its resident size just before the run, so the growth the sync
   itself causes shows apart from Airflow's;
3. the same rows are copied again, in the same PostgreSQL, into an empty table of the same
   shape with a plain ``COPY ... FROM STDIN`` of ready-made text (the server's own speed);
4. **incremental round**: the emulator changes 5% of the rows, deletes 1% and inserts 2%;
   a second child runs the DAG again (the window since the watermark); beside it, a plain
   COPY of the changed rows into an empty table, and how fast the emulator alone serves
   that window (paging with a bare client, nothing decoded): the source's own limit.  The
   merge rate is the changed rows over the time the warehouse took for them (COPY into
   staging and the set-based statements), as the loader logs it.

Figures vary with the machine and with whatever else runs on it, so nothing here asserts a
speed; the ratios are measured in the same run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / ".local" / "bench-airflow"
API = "/ords/ocds/omnichannel/v2/"
AUTH = ("ocds_user", "ocds_password")


def start_emulator(scale: int, port: int = 0) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "include.emulator", "--port", str(port), "--ocds-scale", str(scale)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline()  # type: ignore[union-attr]
    if "ready at" not in line:
        proc.kill()
        raise RuntimeError(f"emulator did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[-1].strip()


def memory_kb(field: str) -> int:
    """``VmHWM`` (peak resident), ``VmRSS``... of this process, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(url: str, dsn: str, fresh: bool) -> None:
    """In a fresh process: the DAG through Airflow, then the ledger row and this process's memory as JSON."""
    import shutil

    from include.devenv import airflow_env, warehouse

    if fresh:
        shutil.rmtree(HOME, ignore_errors=True)
    airflow_env.configure(HOME)
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "INFO"
    airflow_env.migrate(HOME)
    airflow_env.set_connection("ocds_default", airflow_env.ocds_connection(url))
    airflow_env.set_connection("warehouse_default", warehouse.airflow_conn_json(dsn))
    from airflow.utils.cli import get_bagged_dag

    dag = get_bagged_dag(None, "ocds_items")
    rss_before = memory_kb("VmRSS")
    started = time.perf_counter()
    run = dag.test(run_conf={"endpoint": "item", "safety_lag_seconds": 0})
    wall = time.perf_counter() - started
    import psycopg

    with psycopg.connect(dsn) as conn:
        sync_id, duration, actions, since, before = conn.execute(
            "SELECT id, duration_s, rows_by_action, since, before FROM retail_meta.sync_ledger "
            "WHERE endpoint = 'item' AND status = 'success' ORDER BY id DESC"
        ).fetchone()
    print(json.dumps({"state": str(run.state), "sync_id": sync_id, "sync_s": duration,
                      "rows": sum(actions.values()), "actions": actions, "since": since.isoformat(),
                      "before": before.isoformat(), "task_wall_s": wall, "hwm_mb": memory_kb("VmHWM") / 1024,
                      "rss_before_mb": rss_before / 1024}))


def run_child(url: str, dsn: str, *, fresh: bool) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.ocds_item", "--child", url, dsn, "fresh" if fresh else "again"],
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({out.returncode}): {out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if "success" not in result["state"]:
        raise RuntimeError(f"the DAG run did not succeed: {result}")
    # the loader's own account of a merging sync (warehouse/loader.py logs it)
    merged = re.search(r'"item": merged (\d+) staged rows in ([\d.]+)s', out.stdout)
    result["merge_s"] = float(merged.group(2)) if merged else None
    return result


def plain_copy(dsn: str, where: str = "", params: tuple = ()) -> tuple[int, float]:
    """``(rows, rows/s)`` of a plain COPY of ``ocds.item`` rows (``where``) into an empty table of its shape.

    The text is dumped to a temporary file first and streamed from there, so 10M rows fit.
    """
    import psycopg

    from retail_provider.ocds.catalog import get_endpoint
    from retail_provider.ocds.sync import spec_for
    from retail_provider.warehouse.schema import quote

    cols = ", ".join(quote(c) for c in spec_for(get_endpoint("item"), "ocds").column_names)
    with psycopg.connect(dsn) as conn, tempfile.TemporaryFile(dir=ROOT / ".local") as dump:
        with conn.cursor() as cur:
            with cur.copy(f"COPY (SELECT {cols} FROM ocds.item {where}) TO STDOUT", params) as copy:
                for chunk in copy:
                    dump.write(chunk)
            rows = cur.rowcount
        conn.execute("DROP TABLE IF EXISTS ocds.bench_copy")
        conn.execute("CREATE TABLE ocds.bench_copy (LIKE ocds.item INCLUDING DEFAULTS INCLUDING INDEXES)")
        conn.commit()
        dump.seek(0)
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY ocds.bench_copy ({cols}) FROM STDIN") as copy:
            while chunk := dump.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        rate = rows / (time.perf_counter() - started)
        conn.execute("DROP TABLE ocds.bench_copy")
        conn.commit()
    return rows, rate


def source_rate(url: str, since: str, before: str) -> float:
    """Rows/s of paging ``[since, before)`` of ``item`` with a bare client (the envelope only is decoded)."""
    import httpx
    import msgspec

    link = msgspec.defstruct("Link", [("rel", str), ("href", str)])
    envelope = msgspec.defstruct("Envelope", [("count", int), ("links", list[link])])  # type: ignore[valid-type]
    decode = msgspec.json.Decoder(envelope).decode
    params: dict[str, Any] | None = {"since": since, "before": before, "limit": 10_000}
    rows, link = 0, f"{url}{API}item"
    started = time.perf_counter()
    with httpx.Client(auth=AUTH, timeout=300) as client:
        while link:
            page = decode(client.get(link, params=params).raise_for_status().content)
            rows += page.count
            link, params = next((lk.href for lk in page.links if lk.rel == "next"), ""), None
    return rows / (time.perf_counter() - started)


def mutate(url: str, size: int) -> dict[str, int]:
    """5% updates, 1% deletes, 2% inserts of ``size`` items, stamped now."""
    import httpx

    body = {"endpoint": "item", "updates": size // 20, "deletes": size // 100, "inserts": size // 50, "seed": 12}
    changed = httpx.post(f"{url}/_emulator/ocds/mutate", json=body, timeout=600).raise_for_status().json()
    return {k: len(v) for k, v in changed.items()}


def measure(size: int, *, incremental: bool = True) -> dict[str, Any]:
    """First load (and an incremental round) of ``size`` items; figures as a dict."""
    from include.devenv import warehouse

    dsn = warehouse.ensure_database(warehouse.server_dsn(), "retail_bench", recreate=True)
    emulator, url = start_emulator(size)
    try:
        first = run_child(url, dsn, fresh=True)
        print(f"  first load: {first['rows']:,} rows in {first['sync_s']:.1f}s "
              f"(task incl. Airflow {first['task_wall_s']:.1f}s), peak {first['hwm_mb']:.0f} MB", flush=True)
        out: dict[str, Any] = {"size": size, "first": first, "first_copy": plain_copy(dsn)}
        if incremental:
            out["changes"] = mutate(url, size)
            second = run_child(url, dsn, fresh=False)
            out["incremental"] = second
            out["incremental_copy"] = plain_copy(dsn, "WHERE _sync_id = %s", (second["sync_id"],))
            out["source"] = source_rate(url, second["since"], second["before"])
    finally:
        emulator.terminate()
        emulator.wait()
    warehouse.drop_database(warehouse.server_dsn(), "retail_bench")
    return out


def report(results: list[dict[str, Any]]) -> None:
    print("\nfirst load (sync step of the task) beside a plain COPY of the same rows")
    head = ("items", "rows", "sync s", "sync rows/s", "COPY rows/s", "sync/COPY", "peak MB", "sync growth MB")
    print("  ".join(f"{h:>14}" for h in head))
    for r in results:
        f, (_, copy) = r["first"], r["first_copy"]
        rate = f["rows"] / f["sync_s"]
        cells = (f"{r['size']:,}", f"{f['rows']:,}", f"{f['sync_s']:.1f}", f"{rate:,.0f}", f"{copy:,.0f}",
                 f"{rate / copy:.2f}", f"{f['hwm_mb']:.0f}", f"{f['hwm_mb'] - f['rss_before_mb']:.0f}")
        print("  ".join(f"{c:>14}" for c in cells))
    if len(results) > 1:
        print(f"peak memory, largest vs smallest size: {results[-1]['first']['hwm_mb'] / results[0]['first']['hwm_mb']:.2f}x")
    rounds = [r for r in results if "incremental" in r]
    if rounds:
        print("\nincremental round (5% updates, 1% deletes, 2% inserts) beside a plain COPY of the changed rows")
        head = ("items", "changed rows", "sync s", "sync rows/s", "merge rows/s", "COPY rows/s", "source rows/s",
                "peak MB")
        print("  ".join(f"{h:>14}" for h in head))
        for r in rounds:
            i, (_, copy) = r["incremental"], r["incremental_copy"]
            rate = i["rows"] / i["sync_s"]
            merge = f"{i['rows'] / i['merge_s']:,.0f}" if i.get("merge_s") else "-"
            cells = (f"{r['size']:,}", f"{i['rows']:,}", f"{i['sync_s']:.2f}", f"{rate:,.0f}", merge, f"{copy:,.0f}",
                     f"{r['source']:,.0f}", f"{i['hwm_mb']:.0f}")
            print("  ".join(f"{c:>14}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2], argv[3] == "fresh")
        return 0
    import argparse

    parser = argparse.ArgumentParser(description="OCDS item sync step beside plain COPY")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--no-incremental", action="store_true")
    args = parser.parse_args(argv)
    results = []
    for size in args.sizes:
        print(f"size {size:,}", flush=True)
        results.append(measure(size, incremental=not args.no_incremental))
    report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
