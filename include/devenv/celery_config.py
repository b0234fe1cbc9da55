"""Celery settings of the local stack: Airflow's defaults, plus the modules every task needs,
imported once by each worker before it forks its pool processes.

Without them a worker's first task pays for importing Airflow's task runner and this
provider (seconds); every later task of the same pool process inherits them.  Set with
``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=include.devenv.celery_config.CELERY_CONFIG``.
"""

from __future__ import annotations

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

PRELOAD = (
    "airflow.sdk.execution_time.supervisor",
    "airflow.sdk.execution_time.task_runner",
    "airflow.providers.postgres.hooks.postgres",
    "retail_provider.ocds.operators",
    "retail_provider.retailnext.operators",
)

CELERY_CONFIG = {**DEFAULT_CELERY_CONFIG, "imports": (*DEFAULT_CELERY_CONFIG.get("imports", ()), *PRELOAD)}
