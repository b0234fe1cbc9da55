"""Run any ``airflow`` command against the local stack (``make airflow``)::

    .venv/bin/python -m include.devenv.cli backfill create --dag-id ocds_reference \\
        --from-date 2025-06-01 --to-date 2025-06-03
    make airflow-cli ARGS="dags list"

A new shell knows nothing of the stack: a bare ``airflow`` there finds no configuration, an
empty SQLite database and answers "Database migration required".  This sets the same
environment the stack's own processes get (``AIRFLOW_HOME``, the PostgreSQL metadata
database, the DAG and plugin folders, the executor), reading the ports of a running stack
from ``<home>/stack.json``, then runs ``airflow`` with the given arguments.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from include.devenv.stack import DEFAULT_HOME, STATE_FILE, Stack


def stack_environment(home: Path = DEFAULT_HOME) -> dict[str, str]:
    """The environment of the stack's processes (a running stack's ports, else the defaults)."""
    state = {}
    if (home / STATE_FILE).exists():
        state = json.loads((home / STATE_FILE).read_text())
    stack = Stack(home=home, port=int(state.get("port", 8080)), emulator_port=int(state.get("emulator_port", 8765)),
                  executor=state.get("executor", "auto"), verbose=False,
                  database_prefix=state.get("database_prefix", "retail_stack"))
    return stack.environment()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    env = stack_environment()
    os.execvpe(sys.executable, [sys.executable, "-m", "airflow", *args], env)
    return 1  # pragma: no cover - exec does not return


if __name__ == "__main__":
    raise SystemExit(main())
