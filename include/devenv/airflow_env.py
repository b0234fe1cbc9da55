"""An Airflow home for local runs: configuration by environment, metadata DB migrated once.

Call :func:`configure` before anything imports ``airflow``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / ".local"
TEMPLATE = LOCAL / "airflow-template"


def configure(home: Path) -> dict[str, str]:
    """Point this process (and its children) at ``home``; returns the variables set."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__API_AUTH__JWT_SECRET": "local-development-only",
        "NO_PROXY": "*",
    }
    os.environ.update(env)
    return env


def migrate(home: Path) -> None:
    """Migrate the metadata DB of ``home``, copying a migrated template when there is one."""
    db = home / "airflow.db"
    if db.exists():
        return
    template_db = TEMPLATE / "airflow.db"
    if not template_db.exists():
        TEMPLATE.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            AIRFLOW_HOME=str(TEMPLATE),
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{template_db}",
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
        )
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        subprocess.run(  # the pools of config/pools.json (retailnext_api, ocds_api)
            [sys.executable, "-c", "from include.devenv.provisioning import provision_pools; provision_pools()"],
            env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
    shutil.copy(template_db, db)


def set_connection(conn_id: str, value: dict | str) -> None:
    """Provide an Airflow connection through the environment (``AIRFLOW_CONN_<ID>``)."""
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = value if isinstance(value, str) else json.dumps(value)


def ocds_connection(url: str, *, auth_type: str = "basic", login: str = "ocds_user",
                    password: str = "ocds_password") -> dict:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return {
        "conn_type": "ocds",
        "host": parts.hostname,
        "port": parts.port,
        "login": login,
        "password": password,
        "extra": {"protocol": parts.scheme, "auth_type": auth_type},
    }


def retailnext_connection(url: str, *, access_key: str = "rn_access_key", secret_key: str = "rn_secret_key") -> dict:
    """A ``retailnext`` connection to a base URL (the emulator), instead of a subscription name."""
    return {"conn_type": "retailnext", "host": url, "login": access_key, "password": secret_key}


def run_dag(dag_id: str, conf: dict | None = None, logical_date=None):
    """Run one DAG for real in this process (what ``airflow dags test`` does); return the run."""
    from airflow.utils.cli import get_bagged_dag

    dag = get_bagged_dag(None, dag_id)
    return dag.test(run_conf=conf or None, logical_date=logical_date)
