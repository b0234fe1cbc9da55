"""Health alerts: incremental by creation time, upserted by uuid (the caller owns the watermark).

Alerts that are new to the table and unresolved are returned in ``details["new_alerts"]``
for the data alert.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from retail_provider.retailnext.models import V1_PAGE_LENGTH
from retail_provider.retailnext.resources import ResourceWriter, SyncResult, resource_targets
from retail_provider.retailnext.tables import SCHEMA, HealthAlertRow

RESOURCE = "health_alerts"


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
    """Alerts created at or after ``start_time`` (all when ``None``), upserted by uuid.

    ``details["new_alerts"]`` lists the alerts that were not in the table before this sync
    and are not resolved (summaries, see :func:`alert_summary`), oldest first.
    """
    before = before or datetime.now(UTC)
    alerts = hook.health_alerts(start_time, page_length=page_length)
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
    result.details = {"fetched": len(rows), "new_alerts": [alert_summary(a) for a in new]}
    return writer.close()
