"""Health alerts: incremental by creation time, upserted by uuid (the caller owns the watermark).

``start_time`` is ambiguous: the reference says it selects "alerts created before a
date/time", while an incremental read wants the alerts created at or after it.
:func:`alerts_created_since` is right under both readings: it asks with ``start_time =
since``; when what comes back was created before ``since`` (the "before" reading) or
nothing comes back (either reading), it also asks with ``start_time`` = the end of the
window, keeps what was created at or after ``since`` and says which reading it saw.

Alerts that are new to the table and unresolved are returned in ``details["new_alerts"]``
for the data alert.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from retail_provider.retailnext.models import V1_PAGE_LENGTH
from retail_provider.retailnext.resources import ResourceWriter, SyncResult, resource_targets
from retail_provider.retailnext.tables import SCHEMA, HealthAlertRow

RESOURCE = "health_alerts"
log = logging.getLogger(__name__)


def alerts_created_since(hook: Any, since: datetime | None, until: datetime,
                         page_length: int = V1_PAGE_LENGTH) -> tuple[list[Any], str]:
    """Alerts created at or after ``since`` (all when ``None``) and the reading of
    ``start_time`` the answers showed: ``at_or_after``, ``before``, ``unknown`` (no alert
    told) or ``none`` (no ``start_time`` sent)."""
    if since is None:
        return hook.health_alerts(None, page_length=page_length), "none"
    sent = since.astimezone(UTC).replace(microsecond=0)  # requests carry whole seconds
    first = hook.health_alerts(sent, page_length=page_length)
    if any(a.alert_creation_time < sent for a in first):
        reading = "before"
    elif first:
        return [a for a in first if a.alert_creation_time >= since], "at_or_after"
    else:
        reading = "unknown"
    end = until.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    second = hook.health_alerts(end, page_length=page_length)
    if reading == "unknown" and any(a.alert_creation_time < end for a in second):
        reading = "before"
    kept = {a.uuid: a for a in [*first, *second] if a.alert_creation_time >= since}
    if reading == "before":
        log.warning("RetailNext healthalerts answered start_time=%s with alerts created before it: the API reads "
                    "start_time as 'created before'; alerts since then were read with start_time=%s", sent, end)
    return sorted(kept.values(), key=lambda a: (a.alert_creation_time, a.uuid)), reading


def alert_summary(alert: HealthAlertRow) -> dict[str, Any]:
    """What a notifier needs of an alert (JSON-safe)."""
    return {
        "uuid": alert.uuid,
        "alert_creation_time": alert.alert_creation_time.isoformat(),
        "severity": alert.severity,
        "type": alert.type,
        "description": alert.description,
        "store_uuid": alert.store_uuid,
        "store_name": alert.store_name,
        "subject_id": alert.subject_id,
        "subject_name": alert.subject_name,
    }


def sync_health_alerts(hook: Any, conn: Any, *, start_time: datetime | None, before: datetime | None = None,
                       schema: str = SCHEMA, page_length: int = V1_PAGE_LENGTH, batch_rows: int = 50_000,
                       run_info: dict[str, Any] | None = None) -> SyncResult:
    """Alerts created at or after ``start_time`` (all when ``None``; right under both
    readings of the API's ``start_time``), upserted by uuid.

    ``details["new_alerts"]`` lists the alerts that were not in the table before this sync
    and are not resolved (summaries, see :func:`alert_summary`), oldest first.
    """
    before = before or datetime.now(UTC)
    alerts, reading = alerts_created_since(hook, start_time, before, page_length)
    rows = list({a.uuid: HealthAlertRow.model_validate(a.model_dump()) for a in alerts}.values())
    result = SyncResult(resource=RESOURCE, mode="incremental", filters={},
                        since=start_time.isoformat() if start_time else None, before=before.isoformat())
    writer = ResourceWriter(conn, result, resource_targets(RESOURCE, since=start_time, before=before, schema=schema),
                            run_info=run_info, batch_rows=batch_rows)
    with conn.cursor() as cur:
        cur.execute(f"SELECT uuid FROM {writer.spec(RESOURCE).qualified} WHERE uuid = ANY(%s)",
                    ([r.uuid for r in rows],))
        known = {r[0] for r in cur.fetchall()}
    new = sorted((r for r in rows if r.uuid not in known and not r.resolved),
                 key=lambda r: (r.alert_creation_time, r.uuid))
    writer.write(RESOURCE, rows)
    result.details = {"fetched": len(rows), "start_time_reading": reading,
                      "new_alerts": [alert_summary(a) for a in new]}
    return writer.close()
