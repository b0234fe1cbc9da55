"""`make stop` (include/devenv/stop.py) against real processes: an embedded PostgreSQL and a
stack's process tree, both left running as ``make demo`` / ``make airflow`` leave them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from include.devenv import stop

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_stop_shuts_down_a_left_running_embedded_postgres(tmp_path):
    import logging

    import pgserver

    logging.getLogger("pgserver").setLevel(logging.WARNING)  # its exit handler logs to closed streams
    pgdata = tmp_path / "pgdata"
    pgserver.get_server(str(pgdata), cleanup_mode=None)  # what make demo leaves behind
    pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    assert _alive(pid)
    assert stop.stop_postgres(pgdata) == pid
    assert not _alive(pid) and not (pgdata / "postmaster.pid").exists()
    assert stop.stop_postgres(pgdata) is None  # nothing left: says so


def test_stop_ends_every_process_of_a_stack_and_spares_unrelated_ones(tmp_path):
    def spawn(*tag: str) -> subprocess.Popen:
        # a parent with a child in its own session, as the stack starts each service
        code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); " \
               "time.sleep(120)"
        return subprocess.Popen([sys.executable, "-c", code, *tag], start_new_session=True)

    scheduler, emulator, stranger = spawn("airflow", "scheduler"), spawn("include.emulator"), spawn("other")
    time.sleep(0.5)
    children = [int(p) for p in subprocess.run(["pgrep", "-g", str(scheduler.pid)], capture_output=True,
                                               text=True).stdout.split() if int(p) != scheduler.pid]
    assert children
    state = tmp_path / "stack.json"
    state.write_text(json.dumps({"port": 8080, "pids": {"scheduler": scheduler.pid, "emulator": emulator.pid,
                                                        "gone": 999_999_999, "stranger": stranger.pid}}))
    # "stranger" reuses a recorded pid but is not a stack process: it is spared
    stranger_cmd = stop._cmdline(stranger.pid)
    assert "airflow" not in stranger_cmd and "include." not in stranger_cmd
    try:
        assert stop.stop_stack(state) == ["emulator", "scheduler"]
        for proc in (scheduler, emulator):
            proc.wait(timeout=30)
        time.sleep(0.5)
        assert not any(_alive(p) for p in children)  # the whole process group
        assert stranger.poll() is None and not state.exists()
        assert stop.stop_stack(state) == []
    finally:
        for proc in (scheduler, emulator, stranger):
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
