"""Alerts, by e-mail (SMTP) and a Slack-compatible webhook.

* :class:`RunFailureNotifier` (every DAG's ``on_failure_callback``): one alert per failed run,
  naming every failed task; :class:`RunRecoveryNotifier` (``on_success_callback``): "recovered";
  :class:`RetailFailureNotifier` (every task's ``on_failure_callback``) keeps the task's error;
* :func:`deliver` sends any :class:`Alert` (the vendors' data alerts use it, e.g.
  :mod:`retail_provider.retailnext.data_alerts`);
* the channels are configured at send time (see :mod:`.channels`), and no alert carries a
  secret (see :mod:`.redaction`).
"""

from __future__ import annotations

from retail_provider.orchestration.notifications.channels import Alert, AlertDeliveryError, AlertSettings, deliver
from retail_provider.orchestration.notifications.notifier import (
    RetailFailureNotifier,
    RunFailureNotifier,
    RunRecoveryNotifier,
    failure_notifiers,
    run_notifiers,
)

__all__ = ["Alert", "AlertDeliveryError", "AlertSettings", "RetailFailureNotifier", "RunFailureNotifier",
           "RunRecoveryNotifier", "deliver", "failure_notifiers", "run_notifiers"]
