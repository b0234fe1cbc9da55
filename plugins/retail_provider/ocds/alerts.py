"""OCDS data alerts: records a sync received but could not apply.

The sync goes on without them (they wait in ``retail_meta.sync_rejects`` with the reason
and the raw record) and the operator sends this alert once the data is committed, through
the channels of every alert (:func:`~retail_provider.orchestration.notifications.deliver`).
The alert names the endpoint, window, filters, how many records and why, and how to look
at them and replay the window; it never carries a record (nor, after scrubbing, a secret).
"""

from __future__ import annotations

import logging
from typing import Any

from retail_provider.orchestration.notifications import Alert, AlertDeliveryError, deliver
from retail_provider.orchestration.notifications.message import format_facts, run_facts
from retail_provider.warehouse.rejects import REJECTS_TABLE

log = logging.getLogger(__name__)


def rejects_alert(result: dict[str, Any], context: Any = None) -> Alert:
    """The alert for a sync result (:class:`~retail_provider.ocds.sync.SyncResult` as a dict)."""
    n, endpoint = result["rejected"], result["endpoint"]
    filters = ", ".join(f"{k}={v}" for k, v in sorted(result["filters"].items())) or "none"
    subject = f"[Airflow] OCDS {endpoint}: {n} record{'s' if n != 1 else ''} could not be applied"
    lines = [
        f"OCDS {endpoint} (filters: {filters}), window [{result['since'] or 'epoch'}, {result['before'] or 'now'}): "
        f"{n} record{'s' if n != 1 else ''} could not be applied and {'were' if n != 1 else 'was'} set aside; "
        "the sync loaded the others and moved on.",
        "",
        "Why:",
        *(f"- {count} x {reason}" for reason, count in result.get("reject_reasons", {}).items()),
        "",
        f"Look at them: SELECT reason, record FROM {REJECTS_TABLE} WHERE sync_id = {result['sync_id']};",
        "Replay once the cause is fixed: trigger the DAG with Params endpoint, since and before set to this window.",
    ]
    facts = run_facts(context) if context else []
    return Alert(subject=subject, text="\n".join([*lines, *(["", format_facts(facts)] if facts else [])]))


def notify_rejects(result: dict[str, Any], context: Any = None) -> list[str]:
    """Send :func:`rejects_alert` when the sync rejected records; returns the channels that took it.

    A channel failure is logged, not raised: the rejects are committed and recorded in the
    ledger (``rows_rejected``), so failing the task now would only hide that the data is in.
    """
    if not result.get("rejected"):
        return []
    try:
        return deliver(rejects_alert(result, context))
    except AlertDeliveryError as exc:
        log.error("OCDS rejects alert not delivered (the rejects are in %s): %s", REJECTS_TABLE, exc)
        return []
