"""`make stop`: stop what ``make airflow`` and ``make demo`` leave running.

* the local stack's processes (emulator, api-server, scheduler, dag-processor, triggerer,
  Celery worker), from the process ids in ``.local/airflow-stack/stack.json``, each with its
  process group (TERM, then KILL after 20 s);
* the embedded PostgreSQL in ``.local/pgdata`` (``make demo``/``make test`` leave it running
  for the next run), by a fast shutdown of the postmaster in ``postmaster.pid``.

Only the standard library: it works before ``make venv`` and after a half-finished ``make clean``.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK_STATE = ROOT / ".local" / "airflow-stack" / "stack.json"
PGDATA = ROOT / ".local" / "pgdata"
WAIT_SECONDS = 20.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if _alive(p)]


def stop_stack(state_file: Path = STACK_STATE) -> list[str]:
    """Stop the processes of a local stack; returns the names of those that were running."""
    if not state_file.exists():
        return []
    pids = {name: int(pid) for name, pid in json.loads(state_file.read_text()).get("pids", {}).items()}
    # only processes that are still ours (a recycled pid must not be killed)
    running = {n: p for n, p in pids.items() if _alive(p) and ("airflow" in _cmdline(p) or "include." in _cmdline(p))}
    for name, pid in running.items():
        try:
            os.killpg(pid, signal.SIGTERM) if name != "stack" else os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for pid in _wait_gone(list(running.values()), WAIT_SECONDS):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    state_file.unlink(missing_ok=True)
    return sorted(running)


def stop_postgres(pgdata: Path = PGDATA) -> int | None:
    """Fast shutdown of the embedded PostgreSQL; returns its pid, or ``None`` when none was running."""
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return None
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    if not _alive(pid) or "postgres" not in _cmdline(pid):
        return None
    os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown: disconnect clients, checkpoint, exit
    if _wait_gone([pid], WAIT_SECONDS):
        os.kill(pid, signal.SIGQUIT)
    return pid


def main() -> int:
    stopped = stop_stack()
    print("==> local Airflow stack:", f"stopped ({', '.join(stopped)})" if stopped else "not running")
    pid = stop_postgres()
    print("==> embedded PostgreSQL (.local/pgdata):", f"stopped (pid {pid})" if pid else "not running")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
