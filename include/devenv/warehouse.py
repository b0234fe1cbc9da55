"""The warehouse PostgreSQL: the DSN from the environment, or an embedded server we own.

``WAREHOUSE_DSN`` (any libpq URI or key/value string) wins.  Without it, a PostgreSQL
server from the ``pgserver`` wheel runs from ``.local/pgdata`` in the project (started on
first use, reused afterwards, reachable through a Unix socket in that directory).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
PGDATA = ROOT / ".local" / "pgdata"


def server_dsn() -> str:
    """DSN of the server (its default database)."""
    dsn = os.environ.get("WAREHOUSE_DSN", "").strip()
    if dsn:
        return dsn
    import logging
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # platformdirs, through pgserver
    import pgserver

    logging.getLogger("pgserver").setLevel(logging.WARNING)  # its atexit logging is noise
    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(PGDATA), cleanup_mode=None)
    return server.get_uri()


def with_database(dsn: str, dbname: str) -> str:
    """The same server, another database."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**info)


def ensure_database(dsn: str, dbname: str, *, recreate: bool = False) -> str:
    """Create ``dbname`` on the server of ``dsn`` if needed; return its DSN."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", dbname):
        raise ValueError(f"database name {dbname!r} must be a plain lower-case identifier")
    with psycopg.connect(dsn, autocommit=True) as conn:
        if recreate:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return with_database(dsn, dbname)


def drop_database(dsn: str, dbname: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def airflow_conn_json(dsn: str) -> str:
    """The DSN as an Airflow connection (JSON form of ``AIRFLOW_CONN_<ID>``)."""
    import json

    info = psycopg.conninfo.conninfo_to_dict(dsn)
    conn = {
        "conn_type": "postgres",
        "host": info.get("host") or "localhost",
        "login": info.get("user") or "postgres",
        "password": info.get("password") or None,
        "schema": info.get("dbname") or "postgres",
        "port": int(info["port"]) if info.get("port") else None,
    }
    return json.dumps({k: v for k, v in conn.items() if v is not None})


if __name__ == "__main__":
    print(server_dsn())
