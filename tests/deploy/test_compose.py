"""docker-compose.yaml, Dockerfile, .env.example and config/ checked statically.

No Docker engine runs here, so this is what can be proven without one: the topology is the
official Airflow 3 one, every Airflow container shares the same secrets and execution API
URL, health checks and start order are wired, every path the Dockerfile copies and every
bind mount exists, every setting is documented, and the provisioning files are complete.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
CONFIG = ROOT / "config"

AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-worker": "celery worker",
    "airflow-triggerer": "triggerer",
}
ALL_SERVICES = {"postgres", "redis", "warehouse", "emulator", "airflow-init", *AIRFLOW_SERVICES}
SHARED_ENV = (
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__CORE__EXECUTOR",
    "AIRFLOW__CORE__AUTH_MANAGER",
)
# ${NAME}, ${NAME:-default}, ${NAME:?error}; "$${NAME}" is an escaped container-side variable
_REFERENCE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
_SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY)$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _command(service: dict) -> str:
    command = service.get("command") or ""
    return " ".join(command) if isinstance(command, list) else str(command)


def _healthcheck(service: dict) -> str:
    test = (service.get("healthcheck") or {}).get("test") or []
    return " ".join(test) if isinstance(test, list) else str(test)


def _documented() -> dict[str, str]:
    out = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        m = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            out.append((instruction.upper(), args.strip()))
    return out


# -- compose: topology ------------------------------------------------------------------


def test_services_follow_the_official_airflow_3_layout(services):
    assert set(services) == ALL_SERVICES
    for name, command in AIRFLOW_SERVICES.items():
        assert _command(services[name]) == command, name
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["warehouse"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_airflow_containers_run_the_project_image(services):
    images = {services[name]["image"] for name in [*AIRFLOW_SERVICES, "airflow-init", "emulator"]}
    assert len(images) == 1, images
    for name in [*AIRFLOW_SERVICES, "airflow-init", "emulator"]:
        assert services[name].get("build") == ".", f"{name} must build the Dockerfile"


def test_every_airflow_container_shares_secrets_and_the_execution_api(services):
    envs = {name: _env(services[name]) for name in [*AIRFLOW_SERVICES, "airflow-init"]}
    for key in SHARED_ENV:
        values = {name: env.get(key) for name, env in envs.items()}
        assert None not in values.values(), f"{key} missing in {[n for n, v in values.items() if v is None]}"
        assert len(set(values.values())) == 1, f"{key} differs: {values}"
    env = envs["airflow-worker"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
    # the metadata DB password is the postgres service's
    assert _env(services["postgres"])["POSTGRES_PASSWORD"] in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]


def test_secrets_come_from_env_and_the_required_ones_are_enforced(services):
    for name, service in services.items():
        for key, value in _env(service).items():
            if _SECRET_NAME.search(key) and value:
                assert value.startswith("${"), f"{name}: {key} is a literal; take it from .env"
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY"):
        assert ":?" in _env(services["airflow-worker"])[key], f"{key} must be required (${{VAR:?...}})"


def test_health_checks(services):
    for name, service in services.items():
        if name == "airflow-init":
            continue
        assert _healthcheck(service), f"{name} has no healthcheck"
    assert "/api/v2/monitor/health" in _healthcheck(services["airflow-apiserver"])
    assert ":8974/health" in _healthcheck(services["airflow-scheduler"])
    assert "DagProcessorJob" in _healthcheck(services["airflow-dag-processor"])
    assert "TriggererJob" in _healthcheck(services["airflow-triggerer"])
    assert "inspect ping" in _healthcheck(services["airflow-worker"])
    assert "/_emulator/health" in _healthcheck(services["emulator"])


def test_start_order(services):
    for name, service in services.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            condition = spec["condition"]
            if condition == "service_healthy":
                assert _healthcheck(services[dependency]), f"{name} waits for {dependency}, which has no healthcheck"
    for name in AIRFLOW_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
        assert deps["postgres"]["condition"] == deps["redis"]["condition"] == "service_healthy", name
    worker = services["airflow-worker"]["depends_on"]
    for dependency in ("warehouse", "emulator", "airflow-apiserver"):
        assert worker[dependency]["condition"] == "service_healthy"
    assert services["airflow-init"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_init_migrates_and_provisions_from_config(services):
    init = services["airflow-init"]
    script = _command(init)
    assert "airflow db migrate" in script
    assert "python -m include.devenv.provisioning" in script
    config_dir = re.search(r"--config-dir (\S+)", script).group(1)
    mounts = [v.split(":") for v in init["volumes"]]
    assert any(source == "./config" and target == config_dir for source, target, *_ in mounts)
    passwords = re.search(r"--admin-passwords-file (\S+)", script).group(1)
    assert _env(init)["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == passwords
    api_mounts = {target: source for source, target, *_ in (v.split(":") for v in services["airflow-apiserver"]["volumes"])}
    assert api_mounts.get(str(Path(passwords).parent)) == "airflow-auth", "the api-server must see the passwords file"


def test_emulator_service(services):
    emulator = services["emulator"]
    assert _command(emulator) == "python -m include.emulator --host 0.0.0.0 --port 8765"
    assert _env(emulator)["PYTHONPATH"] == "/opt/airflow"
    assert any(str(p).endswith(":8765") for p in emulator["ports"])


def test_volumes_exist(compose, services):
    named = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert not source.startswith("/"), f"{name}: absolute bind mount {source}"
                assert (ROOT / source).exists(), f"{name}: bind mount {source} is not in the repository"
            else:
                assert source in named, f"{name}: named volume {source} is not declared"
    assert {"postgres-db-volume", "warehouse-db-volume"} <= named


# -- settings ---------------------------------------------------------------------------


def _references(path: Path) -> set[str]:
    return set(_REFERENCE.findall(path.read_text()))


def test_every_setting_is_documented_in_env_example():
    documented = _documented()
    for path in [COMPOSE, *sorted(CONFIG.glob("*.json"))]:
        missing = _references(path) - set(documented)
        assert not missing, f"{path.name} uses {sorted(missing)}, not in .env.example"


def test_env_example_has_no_stale_or_real_secret():
    used = set().union(*(_references(p) for p in [COMPOSE, *CONFIG.glob("*.json")]))
    documented = _documented()
    assert not set(documented) - used, f"documented but unused: {sorted(set(documented) - used)}"
    for key, value in documented.items():
        if _SECRET_NAME.search(key):
            assert value in ("", "change-me"), f"{key} in .env.example must be a placeholder"


# -- Dockerfile -------------------------------------------------------------------------


def test_dockerfile_base_image_and_pinned_install():
    steps = _dockerfile()
    base = next(args for instr, args in steps if instr == "FROM")
    assert base.startswith("apache/airflow:3.3.2"), base
    pin = re.search(r"^apache-airflow==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert base.split(":")[1].split("-")[0] == pin, "the image's Airflow differs from the lock"
    python = re.search(r"-python(\d+\.\d+)", base).group(1)
    assert f"--python-version {python}" in (ROOT / "Makefile").read_text(), "the lock is resolved for another Python"
    args = dict(a.split("=", 1) for instr, a in steps if instr == "ARG" and "=" in a)
    assert args.get("AIRFLOW_VERSION") == pin
    runs = [a for instr, a in steps if instr == "RUN"]
    assert any('"apache-airflow==${AIRFLOW_VERSION}" -r' in r for r in runs)
    assert any("pip install --no-cache-dir --no-deps" in r for r in runs)
    env = " ".join(a for instr, a in steps if instr == "ENV")
    assert "PYTHONPATH=/opt/airflow" in env


def test_dockerfile_image_requirements_drop_only_local_tooling():
    run = next(a for instr, a in _dockerfile() if instr == "RUN" and "grep -vE" in a)
    pattern = shlex.split(run.split("grep -vE", 1)[1])[0]
    kept = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if not re.search(pattern, line)]
    names = {line.split("==")[0] for line in kept if "==" in line}
    assert "pgserver" not in names and "pytest" not in names
    assert {"apache-airflow", "apache-airflow-providers-postgres", "apache-airflow-providers-smtp", "httpx",
            "psycopg", "pydantic", "msgspec", "orjson", "uvicorn"} <= names


def test_every_copied_path_exists_and_reaches_the_build_context():
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    copies = [shlex.split(a) for instr, a in _dockerfile() if instr == "COPY"]
    assert copies
    sources = []
    for args in copies:
        sources += [a for a in args[:-1] if not a.startswith("--")]
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        top = source.rstrip("/").split("/")[0]
        assert top not in ignored and source not in ignored, f"COPY {source}: excluded by .dockerignore"
    assert {"dags", "include", "requirements.txt", "pyproject.toml"} <= {s.rstrip("/") for s in sources}
    assert any(s.startswith("plugins") for s in sources)


# -- config/ ----------------------------------------------------------------------------


def _example_env() -> dict[str, str]:
    return {k: v for k, v in _documented().items() if v}


def test_connections_file_defines_the_project_connections():
    from include.devenv.provisioning import connection_fields, load

    conns = load(CONFIG / "connections.json", _example_env())
    assert {"ocds_default", "retailnext_default", "warehouse_default"} <= set(conns)
    fields = {conn_id: connection_fields(conn_id, spec) for conn_id, spec in conns.items()}
    assert fields["ocds_default"]["conn_type"] == "ocds"
    assert fields["retailnext_default"]["conn_type"] == "retailnext"
    assert fields["warehouse_default"]["conn_type"] == "postgres"
    # the emulator by default, inside the compose network
    assert fields["ocds_default"]["host"] == "emulator" and fields["ocds_default"]["port"] == 8765
    assert "emulator:8765" in fields["retailnext_default"]["host"]
    # the warehouse connection is the warehouse service
    warehouse = _env(yaml.safe_load(COMPOSE.read_text())["services"]["warehouse"])
    assert fields["warehouse_default"]["host"] == "warehouse"
    assert "WAREHOUSE_PASSWORD" in warehouse["POSTGRES_PASSWORD"]
    assert fields["warehouse_default"]["password"] == "change-me"


def test_connections_file_needs_the_warehouse_password():
    from include.devenv.provisioning import ProvisioningError, load

    env = {k: v for k, v in _example_env().items() if k != "WAREHOUSE_PASSWORD"}
    with pytest.raises(ProvisioningError, match="WAREHOUSE_PASSWORD"):
        load(CONFIG / "connections.json", env)


def test_pools_and_variables_files():
    pools = json.loads((CONFIG / "pools.json").read_text())
    assert pools["retailnext_api"]["slots"] == 3
    for name, spec in pools.items():
        assert isinstance(spec["slots"], int) and spec["slots"] > 0 and spec["description"], name
    variables = json.loads((CONFIG / "variables.json").read_text())
    assert isinstance(variables, dict)
    assert not any(k.startswith(("ocds_watermark", "retailnext_watermark")) for k in variables)
