"""Provision an Airflow metadata database from the files in ``config/``: pools, connections,
Variables and the admin password.  Every step is idempotent.

* ``config/pools.json``: ``{"name": {"slots": 3, "description": "...", "include_deferred": false}}``
  (the format of ``airflow pools import``); pools are created or updated to the file.
* ``config/connections.json``: ``{"conn_id": {"conn_type": ..., "host": ..., "extra": {...}}}``
  (the format of ``airflow connections import``); created when missing, never changed once
  they exist (users edit them in the UI), unless ``overwrite=True``.
* ``config/variables.json``: ``{"key": "value"}``; created when missing, never overwritten
  (Variables are edited in the UI; watermarks live there too).

String values may reference the environment as ``${NAME}`` or ``${NAME:-default}`` (the
compose syntax): secrets stay in ``.env``, not in the repository.  After substitution a
``port`` becomes an integer and an extra that reads ``true``/``false`` a boolean.

The compose ``airflow-init`` service runs ``python -m include.devenv.provisioning``; ``make
airflow`` runs it with ``--connections`` (the stack's connections to the emulator and the local
warehouse); other local runs call :func:`provision_pools` after the metadata DB is migrated.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
POOLS_FILE = CONFIG / "pools.json"
CONNECTIONS_FILE = CONFIG / "connections.json"
VARIABLES_FILE = CONFIG / "variables.json"
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_CONNECTION_FIELDS = ("conn_type", "description", "host", "login", "password", "schema", "port", "extra")


class ProvisioningError(ValueError):
    """A provisioning file is invalid or references an unset environment variable."""


def expand(value: Any, env: dict[str, str] | None = None, *, missing: list[str] | None = None) -> Any:
    """``value`` with ``${NAME}`` / ``${NAME:-default}`` replaced in every string, recursively.

    :param env: the environment (default ``os.environ``).
    :param missing: collects the names referenced without a value or a default.
    """
    env = os.environ if env is None else env
    if isinstance(value, dict):
        return {k: expand(v, env, missing=missing) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, env, missing=missing) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if env.get(name):
            return env[name]
        if default is not None:
            return default
        if missing is not None:
            missing.append(name)
        return ""

    return _REFERENCE.sub(substitute, value)


def load(path: Path | str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Read a provisioning JSON file and expand its environment references.

    :raises ProvisioningError: invalid JSON, not an object, or unset variables without default.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ProvisioningError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ProvisioningError(f"{path}: expected a JSON object")
    missing: list[str] = []
    data = expand(data, env, missing=missing)
    if missing:
        raise ProvisioningError(f"{path}: set {', '.join(sorted(set(missing)))} (in .env or the environment)")
    return data


def _bool_or_text(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def connection_fields(conn_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Validated keyword arguments for ``Connection`` from one entry of the connections file."""
    unknown = set(spec) - set(_CONNECTION_FIELDS)
    if unknown or not spec.get("conn_type"):
        raise ProvisioningError(f"connection {conn_id!r}: needs conn_type; unknown fields {sorted(unknown)}")
    fields = {k: (v if v != "" else None) for k, v in spec.items() if k != "extra"}
    if fields.get("port") is not None:
        try:
            fields["port"] = int(fields["port"])
        except (TypeError, ValueError):
            raise ProvisioningError(f"connection {conn_id!r}: port must be an integer") from None
    extra = spec.get("extra") or {}
    if isinstance(extra, dict):
        extra = {k: _bool_or_text(v) for k, v in extra.items() if v != ""}
        fields["extra"] = json.dumps(extra) if extra else None
    else:
        fields["extra"] = str(extra)
    return fields


def provision_pools(path: Path | str = POOLS_FILE, *, env: dict[str, str] | None = None) -> dict[str, int]:
    """Create or update the pools of ``path`` (default ``config/pools.json``); return name -> slots.

    Idempotent: call it after ``airflow db migrate`` (or :func:`include.devenv.airflow_env.migrate`).
    """
    from airflow.models.pool import Pool

    out = {}
    for name, spec in load(path, env).items():
        if not isinstance(spec, dict) or "slots" not in spec:
            raise ProvisioningError(f"pool {name!r}: needs slots")
        slots = int(spec["slots"])
        Pool.create_or_update_pool(
            name=name,
            slots=slots,
            description=str(spec.get("description") or ""),
            include_deferred=bool(_bool_or_text(spec.get("include_deferred", False))),
        )
        out[name] = slots
    return out


def provision_connections(path: Path | str = CONNECTIONS_FILE, *, overwrite: bool = False,
                          env: dict[str, str] | None = None) -> dict[str, str]:
    """Create the connections of ``path`` that are missing (see :func:`provision_connection_specs`)."""
    return provision_connection_specs(load(path, env), overwrite=overwrite)


def provision_connection_specs(specs: dict[str, dict[str, Any]], *, overwrite: bool = False) -> dict[str, str]:
    """Store connections in the metadata database, where the UI lists them and users edit them.

    An existing connection is never changed (a user may have edited it), unless ``overwrite``.
    :returns: conn_id -> ``created``, ``unchanged`` (already as given), ``kept`` (exists and
        differs: left as it is) or ``updated`` (``overwrite``).
    """
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    wanted = {conn_id: connection_fields(conn_id, spec) for conn_id, spec in specs.items()}
    out = {}
    with create_session() as session:
        for conn_id, fields in wanted.items():
            existing = session.scalar(select(Connection).where(Connection.conn_id == conn_id))
            if existing is None:
                session.add(Connection(conn_id=conn_id, **fields))
                out[conn_id] = "created"
            elif _same_connection(existing, Connection(conn_id=conn_id, **fields)):
                out[conn_id] = "unchanged"
            elif overwrite:
                session.delete(existing)
                session.flush()
                session.add(Connection(conn_id=conn_id, **fields))
                out[conn_id] = "updated"
            else:
                out[conn_id] = "kept"
    return out


def _same_connection(a: Any, b: Any) -> bool:
    fields = ("conn_type", "host", "login", "password", "schema", "port")
    return all(getattr(a, f) == getattr(b, f) for f in fields) and a.extra_dejson == b.extra_dejson


def provision_variables(path: Path | str = VARIABLES_FILE, *, env: dict[str, str] | None = None) -> dict[str, str]:
    """Create the Variables of ``path`` that do not exist yet; return key -> ``created`` / ``kept``."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    out = {}
    with create_session() as session:
        for key, value in load(path, env).items():
            if session.scalar(select(Variable.id).where(Variable.key == key)) is not None:
                out[key] = "kept"
                continue
            text = value if isinstance(value, str) else json.dumps(value)
            session.add(Variable(key=key, val=text))
            out[key] = "created"
    return out


def write_simple_auth_passwords(path: Path | str, users: dict[str, str]) -> None:
    """Set passwords in the SimpleAuthManager passwords file (``[core]
    simple_auth_manager_passwords_file``), keeping its other users."""
    path = Path(path)
    current = {}
    if path.exists() and path.read_text().strip():
        current = json.loads(path.read_text())
    current.update({u: p for u, p in users.items() if u and p})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current) + "\n")
    path.chmod(0o660)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.devenv.provisioning", description=__doc__.splitlines()[0])
    parser.add_argument("--config-dir", type=Path, default=CONFIG)
    parser.add_argument("--connections", type=Path, default=None,
                        help="connections file (default: connections.json of --config-dir)")
    parser.add_argument("--overwrite-connections", action="store_true",
                        default=os.environ.get("RETAIL_PROVISION_OVERWRITE", "").lower() in ("1", "true", "yes"),
                        help="replace existing connections with the file's (default $RETAIL_PROVISION_OVERWRITE)")
    parser.add_argument("--admin-passwords-file", type=Path, default=None,
                        help="write $AIRFLOW_ADMIN_USERNAME / $AIRFLOW_ADMIN_PASSWORD into this SimpleAuthManager file")
    args = parser.parse_args(argv)
    try:
        pools = provision_pools(args.config_dir / "pools.json")
        print("pools:", ", ".join(f"{k} ({v} slots)" for k, v in pools.items()))
        conns = provision_connections(args.connections or args.config_dir / "connections.json",
                                      overwrite=args.overwrite_connections)
        print("connections:", ", ".join(f"{k} {v}" for k, v in conns.items()))
        if "kept" in conns.values():
            print("  (kept: they exist and differ from the file, e.g. edited in the UI; they are never "
                  "overwritten: delete one to provision it again, or set RETAIL_PROVISION_OVERWRITE=true)")
        variables = provision_variables(args.config_dir / "variables.json")
        print("variables:", ", ".join(f"{k} {v}" for k, v in variables.items()) or "none")
    except ProvisioningError as exc:
        print(f"provisioning failed: {exc}", file=sys.stderr)
        return 2
    if args.admin_passwords_file:
        user = os.environ.get("AIRFLOW_ADMIN_USERNAME", "admin")
        password = os.environ.get("AIRFLOW_ADMIN_PASSWORD", "")
        if not password:
            print("provisioning failed: set AIRFLOW_ADMIN_PASSWORD", file=sys.stderr)
            return 2
        write_simple_auth_passwords(args.admin_passwords_file, {user: password})
        print(f"admin user: {user}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
