# Two commands matter: `make demo` and `make test`. Everything else is plumbing they use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9

.PHONY: demo test bench lint lock venv clean stop airflow airflow-cli browser

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version.split()[0]'
	@echo "==> installing the pinned requirements into $(VENV) (the first time only: a few minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -r requirements.txt
	@$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) --no-deps -e .
	@touch $(STAMP)
	@echo "==> $(VENV) is ready"

## make demo: embedded (or $$WAREHOUSE_DSN) PostgreSQL + emulator + the DAGs run through Airflow
demo: venv
	@$(PY) -m include.devenv.demo

## make test: the whole test suite against real PostgreSQL, real HTTP and real Airflow runs
test: lint browser
	@$(PY) -m pytest $(PYTEST_ARGS)

## make airflow: api-server, scheduler, dag-processor, triggerer (+ Celery worker when Redis answers)
airflow: venv
	@$(PY) -m include.devenv.stack $(STACK_ARGS)

## make airflow-cli ARGS="backfill create --dag-id ..."  any airflow command against the local stack
airflow-cli: venv
	@$(PY) -m include.devenv.cli $(ARGS)

## make stop: stop the local stack and the embedded PostgreSQL (whatever make airflow / demo / test left running)
stop:
	@$(if $(wildcard $(PY)),$(PY),$(PYTHON)) -m include.devenv.stop

# The UI test drives the system Chromium (Debian package); install it where we may.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "==> installing Chromium for the UI test (apt-get)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; } || \
	    echo "==> could not install Chromium: the UI test will be skipped"; \
	  else echo "==> no Chromium and no root apt-get: the UI test will be skipped"; fi; }

## make bench: OCDS sync step beside plain COPY (first load, incremental round, peak memory), then
## task start-up and end-to-end times through the local stack (BENCH_ARGS: see python -m bench -h)
bench: venv
	@$(PY) -m bench $(BENCH_ARGS)

lint: venv
	@$(VENV)/bin/ruff check plugins dags include tests bench

## make lock: re-resolve requirements.in into the pinned requirements.txt
lock:
	@test -x $(VENV)/bin/uv || { $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet "uv==$(UV_VERSION)"; }
	@$(VENV)/bin/uv pip compile requirements.in --python-version 3.11 --no-header -o requirements.txt
	@sed -i '1i # Resolved lock of requirements.in (make lock). Exact pins: two installs a month apart are identical.' requirements.txt

## make clean: stop everything first, then delete .local (embedded PostgreSQL, Airflow homes) and the venv
clean: stop
	@rm -rf .local $(VENV)
