"""Alerts: failed tasks and data conditions, by e-mail (SMTP) and a Slack-compatible webhook.

* :class:`RetailFailureNotifier` (in every DAG's task defaults) for failed tasks;
* :func:`notify_new_health_alerts`, :func:`check_stale_validity` and
  :func:`notify_stale_validity` for data alerts;
* the channels are configured at send time (see :mod:`.channels`), and no alert carries a
  secret (see :mod:`.redaction`).
"""

from __future__ import annotations

from retail_provider.orchestration.notifications.channels import Alert, AlertDeliveryError, AlertSettings, deliver
from retail_provider.orchestration.notifications.notifier import RetailFailureNotifier, failure_notifiers
from retail_provider.retailnext.data_alerts import (
    StaleValidity,
    check_stale_validity,
    notify_new_health_alerts,
    notify_stale_validity,
)

__all__ = [
    "Alert",
    "AlertDeliveryError",
    "AlertSettings",
    "RetailFailureNotifier",
    "StaleValidity",
    "check_stale_validity",
    "deliver",
    "failure_notifiers",
    "notify_new_health_alerts",
    "notify_stale_validity",
]
