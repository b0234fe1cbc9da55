# The project's Airflow image: Airflow 3.3.2, the pinned requirements, the provider package
# (connection types, hooks, operators, sensors, triggers, notifiers) and the DAGs, the emulator
# and the dev tooling under /opt/airflow.  Built by `docker compose build` (docker-compose.yaml).
#
# Python 3.11: requirements.txt is resolved for 3.11 (`make lock`), so the image uses the same.
FROM apache/airflow:3.3.2-python3.11

ARG AIRFLOW_VERSION=3.3.2
# `include` (the emulator, provisioning) imports from /opt/airflow; dags/ is on sys.path anyway
ENV PYTHONPATH=/opt/airflow

USER airflow
WORKDIR /opt/airflow

# The lock without what only `make test` / `make demo` need on a laptop: pgserver (an embedded
# PostgreSQL: the compose file runs real ones), the test runner and the linter.
COPY --chown=airflow:0 requirements.txt /opt/airflow/requirements.txt
RUN grep -vE '^(pgserver|pytest|pytest-timeout|aiosmtpd|ruff)==' /opt/airflow/requirements.txt \
        > /tmp/requirements-image.txt \
    && pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/requirements-image.txt

# The provider package (a real install, so its connection types show in the UI)
COPY --chown=airflow:0 pyproject.toml README.md /opt/airflow/src/
COPY --chown=airflow:0 plugins/retail_provider /opt/airflow/src/plugins/retail_provider
RUN pip install --no-cache-dir --no-deps /opt/airflow/src

COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 include /opt/airflow/include
COPY --chown=airflow:0 config /opt/airflow/config

# SimpleAuthManager's passwords file lives here (a named volume shared by init and api-server)
RUN mkdir -p /opt/airflow/auth && chmod 0770 /opt/airflow/auth
