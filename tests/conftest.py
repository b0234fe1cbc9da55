"""Shared fixtures: a real PostgreSQL database, the emulator over real HTTP, an Airflow home.

Airflow reads its configuration when first imported, so the Airflow home is configured
here, before any test module imports ``airflow`` or the provider.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from include.devenv import airflow_env

ROOT = Path(__file__).resolve().parents[1]
SESSION = uuid.uuid4().hex[:8]
AIRFLOW_HOME = ROOT / ".local" / f"test-airflow-{SESSION}"
airflow_env.configure(AIRFLOW_HOME)
airflow_env.migrate(AIRFLOW_HOME)

import psycopg  # noqa: E402
import pytest  # noqa: E402

from include.devenv import warehouse  # noqa: E402


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def server_dsn() -> str:
    return warehouse.server_dsn()


@pytest.fixture(scope="session")
def warehouse_dsn(server_dsn: str) -> Iterator[str]:
    """A fresh database for this test session on the real server."""
    name = f"retail_test_{SESSION}"
    dsn = warehouse.ensure_database(server_dsn, name, recreate=True)
    yield dsn
    warehouse.drop_database(server_dsn, name)


@pytest.fixture
def pg(warehouse_dsn: str) -> Iterator[psycopg.Connection]:
    """A psycopg connection to the session database (not autocommit)."""
    with psycopg.connect(warehouse_dsn) as conn:
        yield conn


@pytest.fixture(scope="session")
def emulator() -> Iterator[object]:
    """The emulator of both APIs, served over real HTTP on a free port."""
    from include.emulator.server import EmulatorServer

    server = EmulatorServer(ocds_scale=int(os.environ.get("TEST_OCDS_SCALE", "300")), seed=7, retailnext_stores=6)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def airflow_connections(emulator, warehouse_dsn: str) -> dict[str, str]:
    """Airflow connections (through the environment) to the emulator and the test warehouse."""
    airflow_env.set_connection("ocds_default", airflow_env.ocds_connection(emulator.url))
    airflow_env.set_connection("warehouse_default", warehouse.airflow_conn_json(warehouse_dsn))
    airflow_env.set_connection("retailnext_default", airflow_env.retailnext_connection(emulator.url))
    return {"ocds": "ocds_default", "warehouse": "warehouse_default", "retailnext": "retailnext_default"}
