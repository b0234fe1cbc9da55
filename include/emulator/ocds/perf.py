"""``python -m include.emulator.ocds.perf``: how fast the emulator serves pages of OCDS tables.

Two measurements per table (nothing is asserted; figures depend on the machine):

* **in-process**: the route function :func:`~include.emulator.ocds.routes.build_page`
  (dataset page, JSON envelope and ``next`` link) is called page after page on a
  dataset of ``--scale`` items, following the ``offsetkey`` of each ``next`` link; rows/s
  is of the wall time spent in that function, us/row of its CPU time;
* **http**: the emulator runs in its own process (``python -m include.emulator``) and an
  httpx client in this process follows the ``next`` links.  Besides rows/s of wall time it
  reports the emulator's own CPU time per row (from ``/proc/<pid>/stat``), which is what
  competes with the client and PostgreSQL on a small machine.

Example::

    python -m include.emulator.ocds.perf --scale 1000000 --tables item item/upc --max-rows 200000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parents[3]
BIG_TABLES = (
    "item",
    "item/upc",
    "item/image",
    "item/price",
    "item/itemlocation",
    "inventory/store",
    "inventory/warehouse",
    "inventory/future",
)
API = "/ords/ocds/omnichannel/v2/"
AUTH = ("ocds_user", "ocds_password")


def _first_query(path: str) -> str:
    return "limit=10000&pricetype=INITIAL" if path == "item/price" else "limit=10000"


def _fake_request(url: str):  # noqa: ANN202 - a starlette Request
    from starlette.requests import Request

    parts = urlsplit(url)
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": parts.scheme,
        "server": (parts.hostname, parts.port),
        "path": parts.path,
        "root_path": "",
        "query_string": parts.query.encode(),
        "headers": [(b"host", parts.netloc.encode())],
    }
    return Request(scope)


def in_process(scale: int, tables: list[str], max_rows: int, seed: int = 7) -> list[dict]:
    import orjson

    from include.emulator.ocds.endpoints import BY_PATH
    from include.emulator.ocds.routes import build_page
    from include.emulator.state import EmulatorState

    started = time.perf_counter()
    state = EmulatorState(scale, seed)
    startup = time.perf_counter() - started
    print(f"in-process: EmulatorState({scale:,}) built in {startup * 1000:.1f} ms", flush=True)
    out = []
    for path in tables:
        spec = BY_PATH[path]
        url = f"http://emu.local:80{API}{path}?{_first_query(path)}"
        rows = pages = nbytes = 0
        wall = cpu = 0.0
        while url and rows < max_rows:
            request = _fake_request(url)
            t0, c0 = time.perf_counter(), time.thread_time()
            body = build_page(state, spec, path, request)
            cpu += time.thread_time() - c0
            wall += time.perf_counter() - t0
            nbytes += len(body)
            env = orjson.loads(body)  # the client's work: not timed
            rows += env["count"]
            pages += 1
            nxt = [link["href"] for link in env["links"] if link["rel"] == "next"]
            url = nxt[0] if nxt else None
        res = {
            "mode": "in-process",
            "table": path,
            "rows": rows,
            "pages": pages,
            "MB": nbytes / 1e6,
            "rows_per_s": rows / max(wall, 1e-9),
            "us_per_row": cpu / max(rows, 1) * 1e6,
        }
        out.append(res)
        print(_fmt(res), flush=True)
    return out


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def over_http(scale: int, tables: list[str], max_rows: int, seed: int = 7) -> list[dict]:
    import httpx
    import orjson

    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "include.emulator", "--port", "0", "--ocds-scale", str(scale), "--seed", str(seed)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    out = []
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if "ready at" not in line:
            raise RuntimeError(f"emulator did not start: {line!r}")
        base = line.rsplit(" ", 1)[-1].strip()
        print(f"http: emulator process ready in {time.perf_counter() - started:.2f} s at {base}", flush=True)
        with httpx.Client(base_url=base, auth=AUTH, timeout=120) as client:
            client.get(f"{API}item", params={"limit": 1}).raise_for_status()  # warm up
            for path in tables:
                params: dict | None = dict(parse_qsl(_first_query(path)))
                url: str | None = f"{API}{path}"
                rows = pages = nbytes = 0
                c0 = _cpu_seconds(proc.pid)
                t0 = time.perf_counter()
                while url and rows < max_rows:
                    resp = client.get(url, params=params)
                    resp.raise_for_status()
                    nbytes += len(resp.content)
                    env = orjson.loads(resp.content)
                    rows += env["count"]
                    pages += 1
                    nxt = [link["href"] for link in env["links"] if link["rel"] == "next"]
                    url, params = (nxt[0], None) if nxt else (None, None)
                wall = time.perf_counter() - t0
                server_cpu = _cpu_seconds(proc.pid) - c0
                res = {
                    "mode": "http",
                    "table": path,
                    "rows": rows,
                    "pages": pages,
                    "MB": nbytes / 1e6,
                    "rows_per_s": rows / wall,
                    "server_us_per_row": server_cpu / max(rows, 1) * 1e6,
                }
                out.append(res)
                print(_fmt(res), flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return out


def _fmt(res: dict) -> str:
    extra = (
        f"CPU {res['us_per_row']:6.2f} us/row"
        if "us_per_row" in res
        else f"server CPU {res['server_us_per_row']:6.2f} us/row"
    )
    return (
        f"{res['mode']:>10}  {res['table']:<20} {res['rows']:>9,} rows {res['pages']:>4} pages "
        f"{res['MB']:8.1f} MB  {res['rows_per_s']:>10,.0f} rows/s  {extra}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.emulator.ocds.perf", description=__doc__)
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tables", nargs="*", default=["item"], help=f"paths; 'all' = {' '.join(BIG_TABLES)}")
    parser.add_argument("--max-rows", type=int, default=10**9, help="stop each table after this many rows")
    parser.add_argument("--mode", choices=("both", "in-process", "http"), default="both")
    args = parser.parse_args(argv)
    tables = list(BIG_TABLES) if args.tables == ["all"] else args.tables
    if args.mode in ("both", "in-process"):
        in_process(args.scale, tables, args.max_rows, args.seed)
    if args.mode in ("both", "http"):
        over_http(args.scale, tables, args.max_rows, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
