"""Alerts, by e-mail (SMTP) and a Slack-compatible webhook.

* :class:`RetailFailureNotifier` (in every DAG's task defaults) for failed tasks;
* :func:`deliver` sends any :class:`Alert` (the vendors' data alerts use it, e.g.
  :mod:`retail_provider.retailnext.data_alerts`);
* the channels are configured at send time (see :mod:`.channels`), and no alert carries a
  secret (see :mod:`.redaction`).
"""

from __future__ import annotations

from retail_provider.orchestration.notifications.channels import Alert, AlertDeliveryError, AlertSettings, deliver
from retail_provider.orchestration.notifications.notifier import RetailFailureNotifier, failure_notifiers

__all__ = ["Alert", "AlertDeliveryError", "AlertSettings", "RetailFailureNotifier", "deliver", "failure_notifiers"]
