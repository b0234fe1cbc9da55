"""Task start-up and end-to-end times through the real topology (`make airflow`).

The local stack (:class:`include.devenv.stack.Stack`: api-server, scheduler, dag-processor,
triggerer, Celery workers on Redis, PostgreSQL metadata) runs with an emulator of
``--scale`` items.  Runs are triggered through Airflow's REST API, as a user or a schedule
would; for the sync task of each run:

* **queued -> running**: the scheduler queued it until a worker process started it;
* **queued -> first request**: until the emulator saw the task's first API request (its
  request log), i.e. the fixed cost a task pays before it syncs anything;
* **queued -> success**: until the task ended;
* **sync**: the sync step itself, from the ledger.

Measured: the first task after the stack started (``admin_version``: the api-server's own
first-request cost shows there, once per api-server), a first load of ``item`` (``--scale``
rows), then a small incremental run (0.1% of the items changed).  With ``--workers 2`` (default) and ``--split N`` the stack also runs
``ocds_inventory_by_region``: store inventory split per region scope into N mapped tasks,
and reports which worker ran each (docs/benchmarks.md, "Outgrowing one worker").
"""

from __future__ import annotations

import argparse
import shutil
import socket
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from include.devenv import warehouse
from include.devenv.stack import Stack

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BenchStack(Stack):
    """The local stack with a big emulator and ``workers`` Celery workers (one task slot each)."""

    def __init__(self, *, ocds_scale: int, workers: int = 2, preload: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ocds_scale, self.workers, self.preload = ocds_scale, workers, preload

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"  # only the runs the benchmark triggers
        if not self.preload:  # Airflow's own Celery settings, for comparison
            env.pop("AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS", None)
        return env

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        if name == "emulator":
            args = [*args, "--ocds-scale", str(self.ocds_scale)]
        if name == "celery-worker":
            base = args[: args.index("worker") + 1]
            for n in range(1, self.workers + 1):
                super()._start(f"celery-worker-{n}", [*base, "--concurrency", "1", "--celery-hostname",
                                                      f"worker{n}@%h"], env)
            return
        super()._start(name, args, env)


def _when(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


class Runner:
    """Trigger DAG runs through the REST API and time their tasks."""

    def __init__(self, stack: BenchStack) -> None:
        self.stack = stack
        token = httpx.post(f"{stack.url}/auth/token", json={"username": "admin", "password": "admin"},
                           timeout=30).json()["access_token"]
        self.api = httpx.Client(base_url=f"{stack.url}/api/v2", headers={"Authorization": f"Bearer {token}"},
                                timeout=60)
        self.emulator = f"http://127.0.0.1:{stack.emulator_port}"

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = {d["dag_id"] for d in self.api.get("/dags", params={"limit": 100}).json()["dags"]}
            if set(dag_ids) <= found:
                return
            time.sleep(2)
        raise RuntimeError(f"the dag-processor did not parse {dag_ids} in {timeout}s")

    def run(self, dag_id: str, conf: dict[str, Any], timeout: float = 1800) -> list[dict[str, Any]]:
        """Trigger ``dag_id`` and wait; its task instances (mapped ones too)."""
        self.api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
        run_id = self.api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf}
                               ).raise_for_status().json()["dag_run_id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"]
            if state in ("success", "failed"):
                tis = self.api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                                   params={"limit": 1000}).json()["task_instances"]
                if state != "success":
                    raise RuntimeError(f"{dag_id} {run_id} {state}: {[(t['task_id'], t['state']) for t in tis]}")
                return tis
            time.sleep(1)
        raise RuntimeError(f"{dag_id} {run_id} did not finish in {timeout}s")

    def requests(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.emulator}/_emulator/requests", timeout=30).json()

    def timings(self, ti: dict[str, Any], requests: list[dict[str, Any]]) -> dict[str, float]:
        queued = _when(ti.get("queued_when") or ti.get("queued_dttm"))
        started, ended = _when(ti["start_date"]), _when(ti["end_date"])
        first = min((r["started"] for r in requests if queued and r["started"] >= queued), default=None)
        return {"queued_to_running": started - queued, "queued_to_first_request": (first - queued) if first else None,
                "queued_to_success": ended - queued, "hostname": ti.get("hostname")}


def sync_seconds(dsn: str, endpoint: str) -> tuple[float, int]:
    with psycopg.connect(dsn) as conn:
        duration, actions = conn.execute(
            "SELECT duration_s, rows_by_action FROM retail_meta.sync_ledger WHERE endpoint = %s AND status = 'success' "
            "ORDER BY id DESC LIMIT 1", (endpoint,)).fetchone()
    return duration, sum(actions.values())


def measure(runner: Runner, label: str, dag_id: str, conf: dict[str, Any], task_id: str,
            endpoint: str) -> dict[str, Any]:
    httpx.delete(f"{runner.emulator}/_emulator/requests", timeout=30)
    tis = runner.run(dag_id, conf)
    ti = next(t for t in tis if t["task_id"] == task_id)
    out = {"label": label, **runner.timings(ti, runner.requests())}
    out["sync_s"], out["rows"] = sync_seconds(runner.stack.warehouse_dsn, endpoint)
    print(f"  {label}: queued->running {out['queued_to_running']:.1f}s, queued->first request "
          f"{out['queued_to_first_request']:.1f}s, queued->success {out['queued_to_success']:.1f}s, "
          f"sync {out['sync_s']:.1f}s for {out['rows']:,} rows", flush=True)
    return out


def split_run(runner: Runner, nodes: int) -> list[dict[str, Any]]:
    """``ocds_inventory_by_region`` with ``nodes`` mapped tasks: which worker ran which region, and when.

    The task instance only knows the machine; the worker shows in its own log (``log_path``).
    """
    tis = runner.run("ocds_inventory_by_region", {"nodes": nodes, "safety_lag_seconds": 0})
    run_id = tis[0]["dag_run_id"]
    mapped = sorted((t for t in tis if t["map_index"] >= 0), key=lambda t: t["map_index"])
    logs = {n: (runner.stack.home / f"celery-worker-{n}.log").read_text(errors="replace")
            for n in range(1, runner.stack.workers + 1)}
    out = []
    for t in mapped:
        where = f"run_id={run_id}/task_id=sync_node/map_index={t['map_index']}/"
        worker = next((f"worker{n}" for n, text in logs.items() if where in text), "?")
        out.append({"map_index": t["map_index"], "worker": worker, "start": _when(t["start_date"]),
                    "end": _when(t["end_date"])})
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="OCDS items in the emulator")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--split", type=int, default=4, help="region scopes of the split run (0: none)")
    parser.add_argument("--no-preload", action="store_true", help="workers import nothing ahead of their first task")
    args = parser.parse_args(argv)
    home = ROOT / ".local" / "bench-stack"
    shutil.rmtree(home, ignore_errors=True)
    stack = BenchStack(home=home, port=_free_port(), emulator_port=_free_port(), executor="celery",
                       ocds_scale=args.scale, workers=args.workers, preload=not args.no_preload,
                       database_prefix="bench_stack",
                       redis_url="redis://127.0.0.1:6379/12")  # a database of its own: e2e tests use 5
    print(f"starting the local stack (Celery, {args.workers} workers, emulator of {args.scale:,} items)...", flush=True)
    stack.start(timeout=300)
    results: list[dict[str, Any]] = []
    try:
        runner = Runner(stack)
        runner.wait_for_dags(["ocds_admin", "ocds_items", *(["ocds_inventory_by_region"] if args.split else [])])
        # the api-server's first task request pays its own start-up (ORM set-up...), once per api-server
        results.append(measure(runner, "first task after start", "ocds_admin",
                               {"endpoint": "admin_version", "safety_lag_seconds": 0}, "sync_admin_version",
                               "admin_version"))
        conf = {"endpoint": "item", "safety_lag_seconds": 0}
        results.append(measure(runner, f"first load {args.scale:,}", "ocds_items", conf, "sync_item", "item"))
        small = max(args.scale // 1000, 10)
        httpx.post(f"{runner.emulator}/_emulator/ocds/mutate", json={
            "endpoint": "item", "updates": small // 2, "deletes": small // 10, "inserts": small // 5}, timeout=120)
        results.append(measure(runner, "small incremental", "ocds_items", conf, "sync_item", "item"))
        if args.split:
            split = split_run(runner, args.split)
            first = min(t["start"] for t in split)
            for t in split:
                print(f"  split: region scope {t['map_index']} on {t['worker']}, "
                      f"{t['start'] - first:.1f}s to {t['end'] - first:.1f}s after the first one started", flush=True)
    finally:
        stack.stop()
        for suffix in ("warehouse", "meta"):
            warehouse.drop_database(warehouse.server_dsn(), f"{stack.database_prefix}_{suffix}")
    return results


if __name__ == "__main__":
    main()
