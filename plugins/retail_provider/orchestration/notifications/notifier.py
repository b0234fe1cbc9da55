"""``RetailFailureNotifier``: the task-level failure alert every DAG of this project gets.

:func:`retail_provider.ocds.dags.default_args` puts it in ``on_failure_callback``
(task level: Airflow runs it in the task's own process once the last try has failed; a
DAG-level callback was reported not to fire).  What it sends and where is decided when it
fires, from the environment and Airflow Variables (see
:mod:`retail_provider.orchestration.notifications.channels`), never when the DAG file is parsed.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseNotifier

from retail_provider.orchestration.notifications.channels import AlertSettings, deliver
from retail_provider.orchestration.notifications.message import failure_alert
from retail_provider.orchestration.notifications.redaction import connection_secrets, task_conn_ids


class RetailFailureNotifier(BaseNotifier):
    """E-mail and/or webhook alert naming the DAG, task, run, try, window, error and log link.

    The text never contains a secret: the passwords of the task's connections (its
    ``*conn_id`` attributes), the webhook URL and the SMTP password are masked, then
    everything Airflow's secrets masker knows, then credential-looking patterns.
    """

    template_fields = ()

    def notify(self, context: Any) -> None:
        settings = AlertSettings.load()
        secrets = connection_secrets(task_conn_ids(context.get("task"))) if context else []
        deliver(failure_alert(context), settings, secrets=secrets)


def failure_notifiers() -> list[BaseNotifier]:
    """The ``on_failure_callback`` list for task defaults."""
    return [RetailFailureNotifier()]
