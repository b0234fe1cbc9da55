"""include/devenv/provisioning.py against the real (test session's) Airflow metadata DB."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from include.devenv import provisioning

CONFIG = Path(__file__).resolve().parents[2] / "config"


def _pools() -> dict[str, tuple[int, str, bool]]:
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return {p.pool: (p.slots, p.description, p.include_deferred) for p in session.scalars(select(Pool))}


def test_provision_pools_creates_the_pools_of_the_file_and_is_idempotent(tmp_path):
    assert provisioning.provision_pools() == {"retailnext_api": 3, "ocds_api": 6}
    first = _pools()
    assert first["retailnext_api"][0] == 3 and "429" in first["retailnext_api"][1]
    assert provisioning.provision_pools() == {"retailnext_api": 3, "ocds_api": 6}
    assert _pools() == first
    # the file is the source of truth for the limits: a changed file updates the pool
    changed = json.loads((CONFIG / "pools.json").read_text())
    changed["retailnext_api"]["slots"] = 2
    path = tmp_path / "pools.json"
    path.write_text(json.dumps(changed))
    provisioning.provision_pools(path)
    assert _pools()["retailnext_api"][0] == 2
    provisioning.provision_pools()
    assert _pools()["retailnext_api"][0] == 3


def _connection(conn_id: str):
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        conn = session.scalar(select(Connection).where(Connection.conn_id == conn_id))
        if conn is None:
            return None
        return {"host": conn.host, "port": conn.port, "login": conn.login, "password": conn.password,
                "extra": conn.extra_dejson, "conn_type": conn.conn_type}


def test_connections_and_variables_from_files_with_env_references(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    ocds_id, key = f"ocds_{suffix}", f"retail_test_{suffix}"
    path = tmp_path / "connections.json"
    path.write_text(json.dumps({ocds_id: {
        "conn_type": "ocds", "host": "${T_OCDS_HOST:-emulator}", "port": "${T_OCDS_PORT:-8765}",
        "login": "user", "password": "${T_OCDS_PASSWORD}",
        "extra": {"protocol": "https", "verify": "${T_VERIFY:-true}", "base_path": "${T_EMPTY:-}"},
    }}))
    env = {"T_OCDS_PASSWORD": "s3cret-from-env", "T_OCDS_HOST": "ocds.example.com", "T_OCDS_PORT": "443"}
    assert provisioning.provision_connections(path, env=env) == {ocds_id: "created"}
    assert _connection(ocds_id) == {"host": "ocds.example.com", "port": 443, "login": "user",
                                    "password": "s3cret-from-env", "conn_type": "ocds",
                                    "extra": {"protocol": "https", "verify": True}}
    # an existing connection is kept, unless overwrite (the compose init's default)
    env["T_OCDS_PASSWORD"] = "rotated"
    assert provisioning.provision_connections(path, env=env) == {ocds_id: "kept"}
    assert _connection(ocds_id)["password"] == "s3cret-from-env"
    assert provisioning.provision_connections(path, env=env, overwrite=True) == {ocds_id: "updated"}
    assert _connection(ocds_id)["password"] == "rotated"
    with pytest.raises(provisioning.ProvisioningError, match="T_OCDS_PASSWORD"):
        provisioning.provision_connections(path, env={})

    variables = tmp_path / "variables.json"
    variables.write_text(json.dumps({key: "${T_TO:-ops@example.com}", f"{key}_json": {"a": 1}}))
    assert provisioning.provision_variables(variables, env={}) == {key: "created", f"{key}_json": "created"}
    from airflow.models.variable import Variable

    Variable.set(key, "edited-in-the-ui")
    assert provisioning.provision_variables(variables, env={})[key] == "kept"
    assert Variable.get(key) == "edited-in-the-ui" and Variable.get(f"{key}_json", deserialize_json=True) == {"a": 1}


def test_the_init_command_provisions_everything_and_the_admin_password(tmp_path, monkeypatch, capsys):
    """``python -m include.devenv.provisioning`` as the compose init runs it (with the
    connection ids renamed, so the session's real ones stay untouched)."""
    suffix = uuid.uuid4().hex[:8]
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    conns = json.loads((config / "connections.json").read_text())
    (config / "connections.json").write_text(json.dumps({f"{k}_{suffix}": v for k, v in conns.items()}))
    (config / "variables.json").write_text(json.dumps({f"retail_test_{suffix}": ""}))
    for name in ("OCDS_HOST", "OCDS_PORT", "RETAILNEXT_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WAREHOUSE_PASSWORD", "wh-secret")
    monkeypatch.setenv("AIRFLOW_ADMIN_PASSWORD", "admin-secret")
    passwords = tmp_path / "auth" / "passwords.json"
    assert provisioning.main(["--config-dir", str(config), "--admin-passwords-file", str(passwords)]) == 0
    assert json.loads(passwords.read_text()) == {"admin": "admin-secret"}
    out = capsys.readouterr().out
    assert "retailnext_api (3 slots)" in out and f"warehouse_default_{suffix} created" in out
    assert _connection(f"warehouse_default_{suffix}")["password"] == "wh-secret"
    assert _connection(f"ocds_default_{suffix}")["host"] == "emulator"
    assert _connection(f"smtp_default_{suffix}")["extra"]["disable_ssl"] is True
    # without the required secret the init fails loudly
    monkeypatch.delenv("WAREHOUSE_PASSWORD")
    assert provisioning.main(["--config-dir", str(config)]) == 2
    assert "WAREHOUSE_PASSWORD" in capsys.readouterr().err


def test_a_connection_is_stored_once_and_a_users_edit_is_never_overwritten():
    """What ``make airflow`` does on every start: the same connection again changes nothing; one
    edited in the UI stays as the user left it."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    conn_id = f"retailnext_{uuid.uuid4().hex[:8]}"
    spec = {"conn_type": "retailnext", "host": "http://127.0.0.1:8765", "login": "rn_access_key",
            "password": "rn_secret_key"}
    assert provisioning.provision_connection_specs({conn_id: spec}) == {conn_id: "created"}
    assert provisioning.provision_connection_specs({conn_id: spec}) == {conn_id: "unchanged"}
    with create_session() as session:  # the user changes the host in the UI
        session.scalar(select(Connection).where(Connection.conn_id == conn_id)).host = "acme"
    assert provisioning.provision_connection_specs({conn_id: spec}) == {conn_id: "kept"}
    assert _connection(conn_id)["host"] == "acme"
