"""`make demo` end to end: every OCDS and RetailNext DAG through Airflow; every table lands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from include.devenv import warehouse
from retail_provider.ocds.catalog import ENDPOINTS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.airflow


def test_demo_loads_every_endpoint_and_prints_the_tables(server_dsn):
    database = f"retail_demo_test_{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["WAREHOUSE_DSN"] = server_dsn
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "include.devenv.demo", "--scale", "300", "--database", database],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "rows landed per warehouse table" in proc.stdout
        _assert_readable(proc.stdout, proc.stderr)
        with psycopg.connect(warehouse.with_database(server_dsn, database)) as conn:
            for name in ENDPOINTS:
                n = conn.execute(f'SELECT count(*) FROM ocds."{name}"').fetchone()[0]
                assert n > 0, f"ocds.{name} is empty"
                assert f"ocds.{name} " in proc.stdout
            for table in ("locations", "store_hours", "traffic_daily", "traffic_hourly", "occupancy", "users",
                          "health_alerts", "predicted_traffic", "fpa_zone_points", "cameras", "zone_transitions"):
                n = conn.execute(f'SELECT count(*) FROM retailnext."{table}"').fetchone()[0]
                assert n > 0, f"retailnext.{table} is empty"
            changed = conn.execute(
                "SELECT sum(rows_deleted) FROM retail_meta.sync_ledger WHERE status = 'success'"
            ).fetchone()[0]
        assert changed > 0  # the incremental round applied the source's deletes
    finally:
        warehouse.drop_database(server_dsn, database)


def _assert_readable(out: str, err: str) -> None:
    """What the terminal shows: no warning noise, each alert once, columns as wide as their ids."""
    for noise in ("[warning  ]", "[error    ]", "Warning:", "DeprecationWarning", "XCom not found", "Traceback"):
        assert noise not in out and noise not in err, f"{noise!r} in the demo's output"
    alerts = re.findall(r"^    ALERT (.+)$", out, re.MULTILINE)
    assert alerts and len(alerts) == len(set(alerts)), alerts  # the new health alerts, each once
    assert any("new unresolved health alert" in a for a in alerts)
    runs = re.findall(r"^    (\w+) +(success|failed) +[\d.]+s$", out, re.MULTILINE)
    assert len(runs) >= 2 * 16
    states = [line for line in out.splitlines() if re.match(r"^    \w+ +(success|failed) ", line)]
    assert len({line.index(" success") for line in states if " success" in line}) == 1  # one column
    assert "==> freshness (retail_meta.table_freshness)" in out
    assert re.search(r"^retailnext\.locations +success +20\d\d-", out, re.MULTILINE)
    assert re.search(r"^store_hours +retailnext\.store_hours +first_day=\S+ last_day=\S+ stores=all ", out,
                     re.MULTILINE)  # filters never cut
