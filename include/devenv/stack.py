"""`make airflow`: the production topology without Docker, from the project's virtualenv.

Starts, as child processes: the emulator, ``airflow api-server``, ``scheduler``,
``dag-processor``, ``triggerer`` and, when Redis answers, a ``celery worker``
(CeleryExecutor; LocalExecutor otherwise).  The metadata database is PostgreSQL (a
database on the warehouse server: ``$WAREHOUSE_DSN`` or the embedded one).  The
connections (to the emulator and the warehouse) are stored in it, where Admin > Connections
lists them and their Test button works; a connection that exists already is never changed
(edit it in the UI and it stays so).  Pools come from ``config/pools.json``.  Ctrl-C (or
``make stop``, from any shell: the process ids are in ``<home>/stack.json``) stops everything;
``python -m include.devenv.cli <airflow command>`` runs any ``airflow`` command against it.

    python -m include.devenv.stack [--port 8080] [--emulator-port 8765] [--executor auto|celery|local]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg

from include.devenv import airflow_env, warehouse

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_HOME = ROOT / ".local" / "airflow-stack"
STATE_FILE = "stack.json"  # ports and process ids of a running stack: make stop, the airflow CLI


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def sqlalchemy_url(dsn: str) -> str:
    """A libpq DSN as a SQLAlchemy URL for psycopg 3 (Unix sockets go in the query)."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    user = quote(info.get("user") or "postgres")
    password = f":{quote(info['password'])}" if info.get("password") else ""
    host = info.get("host") or "localhost"
    db = info.get("dbname") or "postgres"
    if host.startswith("/"):
        return f"postgresql+psycopg://{user}{password}@/{db}?host={quote(host)}"
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql+psycopg://{user}{password}@{host}{port}/{db}"


class Stack:
    """The processes of a local Airflow deployment, started and stopped together."""

    def __init__(self, *, home: Path, port: int, emulator_port: int, executor: str = "auto",
                 redis_url: str | None = None, all_admins: bool = False, admin_password: str = "admin",
                 database_prefix: str = "retail_stack", verbose: bool = True) -> None:
        self.home = home
        self.port = port
        self.emulator_port = emulator_port
        self.redis_url = redis_url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")
        self.executor = executor
        self.all_admins = all_admins
        self.admin_password = admin_password
        self.database_prefix = database_prefix
        self.verbose = verbose
        self.procs: dict[str, subprocess.Popen] = {}
        self.url = f"http://127.0.0.1:{port}"

    def _executor(self) -> str:
        if self.executor != "auto":
            return self.executor
        redis = httpx.URL(self.redis_url)
        return "celery" if _reachable(redis.host or "127.0.0.1", redis.port or 6379) else "local"

    def environment(self) -> dict[str, str]:
        server = warehouse.server_dsn()
        self.warehouse_dsn = warehouse.ensure_database(server, f"{self.database_prefix}_warehouse")
        meta = warehouse.ensure_database(server, f"{self.database_prefix}_meta")
        env = dict(os.environ)
        env.update(airflow_env.configure(self.home))
        executor = self._executor()
        env.update({
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(meta),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if executor == "celery" else "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        })
        if self.all_admins:
            env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "True"
        if executor == "celery":
            # workers import the task runner and the provider once, before forking their pool
            env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] = "include.devenv.celery_config.CELERY_CONFIG"
            env["AIRFLOW__CELERY__BROKER_URL"] = self.redis_url
            env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + sqlalchemy_url(meta)
        emulator = f"http://127.0.0.1:{self.emulator_port}"
        self.connections = {
            "ocds_default": airflow_env.ocds_connection(emulator),
            "retailnext_default": airflow_env.retailnext_connection(emulator),
            "warehouse_default": json.loads(warehouse.airflow_conn_json(self.warehouse_dsn)),
        }
        for key in self.connections:  # one from the environment would hide the stored one
            env.pop(f"AIRFLOW_CONN_{key.upper()}", None)
        self.executor_used = executor
        return env

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = open(self.home / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.procs[name] = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def say(self, message: str) -> None:
        if self.verbose:
            print(f"==> {message}", flush=True)

    def provision(self, env: dict[str, str]) -> None:
        """Pools, Variables and the stack's connections into the metadata DB (never overwriting)."""
        conns = self.home / "connections.json"
        conns.write_text(json.dumps(self.connections))
        conns.chmod(0o600)
        out = subprocess.run([sys.executable, "-m", "include.devenv.provisioning", "--connections", str(conns)],
                             cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            self.say(line.strip())

    def start(self, *, timeout: float = 180) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.say("metadata database: PostgreSQL (migrating it takes about a minute the first time)...")
        env = self.environment()
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        from include.devenv.provisioning import write_simple_auth_passwords

        write_simple_auth_passwords(self.home / "passwords.json", {"admin": self.admin_password})
        self.provision(env)
        self.say(f"starting the emulator, api-server, scheduler, dag-processor, triggerer"
                 f"{', celery worker' if self.executor_used == 'celery' else ''} (logs in {self.home})...")
        self._start("emulator", [sys.executable, "-m", "include.emulator", "--port", str(self.emulator_port)], env)
        airflow = [sys.executable, "-m", "airflow"]
        self._start("api-server", [*airflow, "api-server", "--port", str(self.port)], env)
        self._start("scheduler", [*airflow, "scheduler"], env)
        self._start("dag-processor", [*airflow, "dag-processor"], env)
        self._start("triggerer", [*airflow, "triggerer"], env)
        if self.executor_used == "celery":
            self._start("celery-worker", [*airflow, "celery", "worker", "--concurrency", "4"], env)
        self.state_file.write_text(json.dumps({
            "port": self.port, "emulator_port": self.emulator_port, "executor": self.executor_used,
            "database_prefix": self.database_prefix,
            "pids": {"stack": os.getpid(), **{n: p.pid for n, p in self.procs.items()}}}))
        self.wait_until_healthy(timeout)

    @property
    def state_file(self) -> Path:
        return self.home / STATE_FILE

    def wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
            if dead:
                self.stop()
                raise RuntimeError(f"stack processes exited: {dead} (logs in {self.home})")
            try:
                if httpx.get(f"{self.url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"the api-server did not answer within {timeout}s (logs in {self.home})")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()
        self.state_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--emulator-port", type=int, default=8765)
    parser.add_argument("--executor", choices=["auto", "celery", "local"], default="auto")
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    args = parser.parse_args(argv)
    password = os.environ.get("STACK_ADMIN_PASSWORD", "admin")
    stack = Stack(home=args.home, port=args.port, emulator_port=args.emulator_port, executor=args.executor,
                  admin_password=password)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    stack.start()
    print(f"==> Airflow UI: {stack.url}  (user admin, password {password!r}; set STACK_ADMIN_PASSWORD to change)")
    print(f"==> executor: {stack.executor_used}; emulator: http://127.0.0.1:{args.emulator_port}; "
          f"warehouse: {stack.warehouse_dsn}; logs: {args.home}")
    print("==> DAGs start paused: unpause them in the UI. Ctrl-C stops everything.", flush=True)
    try:
        while not stop["now"]:
            dead = [n for n, p in stack.procs.items() if p.poll() is not None]
            if dead:
                print(f"process(es) exited: {dead}; see {args.home}", file=sys.stderr)
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
