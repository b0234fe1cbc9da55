"""RetailNext resources into their ``retailnext`` warehouse tables, inside the caller's transaction.

Each ``sync_*`` function reads one resource through :class:`RetailNextHook`, turns the
payloads into rows of the table models below (column layouts come from
:func:`~retail_provider.warehouse.schema.table_spec`), merges them with
:class:`~retail_provider.warehouse.loader.MergeLoader` and writes one ledger row per table
(vendor ``retailnext``).  None of them commits: the caller commits once (and only then
moves a watermark) or rolls back, so a failure leaves tables, ledger and watermark as
they were.  Missing tables, columns and the ``location_tree`` view are created first, in
short transactions of their own.

Modes (see ``docs/retailnext-tables.md``):

* snapshots (locations, users, profiles, floorplans, devices): the whole listing, merged
  with ``sweep=True`` so rows the source no longer has are deleted;
* windows (store hours, predicted traffic): upsert by key, then delete the window's rows
  the source no longer returns (a day that became closed, a bucket that went away);
* zone transitions: upsert by key;
* health alerts: incremental by ``alert_creation_time`` (the caller owns the watermark);
  alerts that are new and unresolved are returned in ``details["new_alerts"]``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, field_validator

from retail_provider.http.errors import InputValidationError, InvalidResponseError
from retail_provider.retailnext import models as m
from retail_provider.warehouse.loader import (
    DDL_LOCK,
    LEDGER_TABLE,
    MergeLoader,
    ensure_ledger,
    ensure_table,
    ledger_finish,
    ledger_start,
)
from retail_provider.warehouse.schema import TableSpec, _json, quote, table_spec

log = logging.getLogger(__name__)

SCHEMA = "retailnext"
VENDOR = "retailnext"
PAGE_LENGTH = 100
STORE_BATCH = 100  # stores per store-hours request
ZONE_METRICS = ("customer", "employee")
STORE_FIELDS = ("time_zone", "store_id", "pos_id", "pos_division_id", "staff_hour_id", "occupancy_limit")
RUN_INFO_KEYS = ("dag_id", "run_id", "task_id", "try_number")


# --- values --------------------------------------------------------------------------------


def assume_utc(value: Any) -> Any:
    """An ISO timestamp without offset is read as UTC; empty strings are missing values."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text  # pydantic reports it
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# a timestamp column: an offset is kept, a missing one means UTC
UtcDatetime = Annotated[AwareDatetime, BeforeValidator(assume_utc)]


def wall_time(value: Any) -> Any:
    """A local wall-clock time written with a literal ``Z`` (store hours, predicted traffic).

    The ``Z`` does not mean UTC here (``docs/retailnext-emulator.md``): the time is kept as
    written, without a zone: ``2021-01-15T10:00:00Z`` -> ``2021-01-15 10:00``.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text  # pydantic reports it
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


# --- table models ----------------------------------------------------------------------------


class Row(BaseModel):
    """A warehouse row built by this module; unknown vendor fields land in ``_extra``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class LocationRow(m.Location):
    """``/v1/location`` entry plus the store fields of ``/v2/location`` extra fields."""

    archive_date: UtcDatetime | None = None


class UserRow(m.User):
    last_sign_in_at: UtcDatetime | None = None
    current_sign_in_at: UtcDatetime | None = None


class CameraRow(m.Camera):
    last_heard: UtcDatetime | None = None


class HealthAlertRow(m.HealthAlert):
    alert_creation_time: UtcDatetime
    event_time: UtcDatetime | None = None
    resolved_time: UtcDatetime | None = None


class StoreHoursRow(Row):
    """One open store day; ``open``/``close`` are local wall-clock times (``timestamp``)."""

    store_uuid: str
    effective_day: date
    open: datetime | None = None
    close: datetime | None = None

    @field_validator("effective_day", mode="before")
    @classmethod
    def _day(cls, v: Any) -> Any:
        v = wall_time(v)
        return v.date() if isinstance(v, datetime) else v

    @field_validator("open", "close", mode="before")
    @classmethod
    def _wall(cls, v: Any) -> Any:
        return wall_time(v)


class FloorplanRow(Row):
    id: str
    name: str | None = None
    store_id: str | None = None  # the store's uuid (the vendor's name for it)
    store_name: str | None = None


class ZoneRow(Row):
    id: str
    floorplan_id: str
    name: str | None = None
    type: str | None = None
    location_id: str | None = None
    location_name: str | None = None
    area: float | None = None
    dwell_time_threshold_ms: int | None = None
    zone_threshold_mm: int | None = None


class ZonePointRow(Row):
    zone_id: str
    seq: int
    x: float
    y: float


class PredictedTrafficRow(Row):
    """One 15-minute bucket; ``time`` is the store's local wall-clock time."""

    store_uuid: str
    time: datetime
    value: float | None = None
    predicted_at: AwareDatetime  # when this value was first fetched

    @field_validator("time", mode="before")
    @classmethod
    def _wall(cls, v: Any) -> Any:
        return wall_time(v)


class ZoneTransitionRow(Row):
    day: date
    store_uuid: str | None = None
    floorplan_uuid: str
    metric: str
    transitions: str
    dwells: str
    from_zone_id: str
    to_zone_id: str
    value: float | None = None
    percentage: float | None = None


#: table -> (row model, key)
TABLES: dict[str, tuple[type[BaseModel], tuple[str, ...]]] = {
    "locations": (LocationRow, ("uuid",)),
    "store_hours": (StoreHoursRow, ("store_uuid", "effective_day")),
    "users": (UserRow, ("id",)),
    "user_profiles": (m.UserProfile, ("id",)),
    "location_profiles": (m.LocationProfile, ("id",)),
    "fpa_floorplans": (FloorplanRow, ("id",)),
    "fpa_zones": (ZoneRow, ("id",)),
    "fpa_zone_points": (ZonePointRow, ("zone_id", "seq")),
    "cameras": (CameraRow, ("device_id",)),
    "channels": (m.Channel, ("channel_uuid",)),
    "appliances": (m.Appliance, ("appliance_id",)),
    "health_alerts": (HealthAlertRow, ("uuid",)),
    "predicted_traffic": (PredictedTrafficRow, ("store_uuid", "time")),
    "zone_transitions": (
        ZoneTransitionRow,
        ("day", "floorplan_uuid", "metric", "transitions", "dwells", "from_zone_id", "to_zone_id"),
    ),
}

#: resource -> its tables (one transaction per resource)
RESOURCES: dict[str, tuple[str, ...]] = {
    "locations": ("locations",),
    "users": ("users",),
    "user_profiles": ("user_profiles",),
    "location_profiles": ("location_profiles",),
    "floorplans": ("fpa_floorplans", "fpa_zones", "fpa_zone_points"),
    "devices": ("cameras", "channels", "appliances"),
    "store_hours": ("store_hours",),
    "predicted_traffic": ("predicted_traffic",),
    "zone_transitions": ("zone_transitions",),
    "health_alerts": ("health_alerts",),
}


def spec_for(table: str, schema: str = SCHEMA) -> TableSpec:
    model, key = TABLES[table]
    return table_spec(model, schema=schema, table=table, key=key)


def to_rows(spec: TableSpec, records: Iterable[BaseModel]) -> Iterator[tuple[Any, ...]]:
    """``("UPSERT", *columns, extra)`` per record, in the spec's column order."""
    getters = [(c.field, c.to_db) for c in spec.columns]
    for record in records:
        values = [(conv(getattr(record, name)) if conv else getattr(record, name)) for name, conv in getters]
        extra = record.__pydantic_extra__
        yield ("UPSERT", *values, _json(extra) if extra else None)


# --- location tree view ----------------------------------------------------------------------


def location_tree_sql(schema: str = SCHEMA) -> str:
    s = quote(schema)
    return f"""CREATE OR REPLACE VIEW {s}.location_tree AS
WITH RECURSIVE tree AS (
    SELECT l.uuid, l.parent_uuid, l.name, l.location_type, l.archive_date, 0 AS depth,
           ARRAY[l.name] AS path, ARRAY[l.uuid] AS uuid_path,
           CASE WHEN l.location_type = 'store' THEN l.uuid END AS store_uuid
    FROM {s}.locations l
    WHERE l.parent_uuid IS NULL
       OR NOT EXISTS (SELECT 1 FROM {s}.locations p WHERE p.uuid = l.parent_uuid)
    UNION ALL
    SELECT c.uuid, c.parent_uuid, c.name, c.location_type, c.archive_date, t.depth + 1,
           t.path || c.name, t.uuid_path || c.uuid,
           CASE WHEN c.location_type = 'store' THEN c.uuid ELSE t.store_uuid END
    FROM {s}.locations c
    JOIN tree t ON c.parent_uuid = t.uuid
    WHERE c.uuid <> ALL (t.uuid_path)
)
SELECT uuid, parent_uuid, name, location_type, archive_date, depth, path,
       array_to_string(path, ' > ') AS qualified_name, store_uuid
FROM tree"""


def ensure_location_tree(conn: Any, schema: str = SCHEMA) -> None:
    """Create ``<schema>.location_tree`` if missing, in its own short transaction."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_views WHERE schemaname = %s AND viewname = 'location_tree'", (schema,))
        if cur.fetchone() is None:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (DDL_LOCK,))
            cur.execute(location_tree_sql(schema))
    conn.commit()


# --- results ---------------------------------------------------------------------------------


@dataclass
class TableLoad:
    """What one sync did to one table."""

    table: str
    rows: int = 0
    upserted: int = 0
    deleted: int = 0
    swept: int = 0
    sync_id: int | None = None


@dataclass
class SyncResult:
    """What one resource sync did; small and secret-free, so it is safe as an XCom."""

    resource: str
    mode: str
    filters: dict[str, Any] = field(default_factory=dict)
    since: str | None = None
    before: str | None = None
    tables: list[TableLoad] = field(default_factory=list)
    requests: int = 0
    duration_s: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> TableLoad:
        return next(t for t in self.tables if t.table.split(".")[-1] == name)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- the write path --------------------------------------------------------------------------


class _Writer:
    """Ledger row, loader and counts of one table of one sync (inside the caller's transaction)."""

    def __init__(self, conn: Any, spec: TableSpec, result: SyncResult, *, sweep: bool, batch_rows: int,
                 run_info: dict[str, Any] | None, since: datetime | None, before: datetime | None) -> None:
        self.conn = conn
        self.spec = spec
        self.load = TableLoad(table=f"{spec.schema}.{spec.table}")
        self.load.sync_id = ledger_start(
            conn,
            vendor=VENDOR,
            endpoint=result.resource,
            target_table=self.load.table,
            filters=result.filters,
            mode=result.mode,
            since=since,
            before=before,
            **{k: v for k, v in (run_info or {}).items() if k in RUN_INFO_KEYS},
        )
        self.loader = MergeLoader(conn, spec, sync_id=self.load.sync_id, sweep=sweep, batch_rows=batch_rows)
        self.loader.prepare()

    def stage(self, records: Sequence[BaseModel]) -> None:
        rows = list(to_rows(self.spec, records))
        if rows:
            self.loader.stage(rows)
        self.load.rows += len(rows)

    def finish(self) -> None:
        merged = self.loader.finish()
        self.load.upserted += merged["upserted"]
        self.load.deleted += merged["deleted"]
        self.load.swept += merged["swept"]

    def record(self, result: SyncResult) -> None:
        ledger_finish(
            self.conn,
            self.load.sync_id,
            status="success",
            rows_by_action={"UPSERT": self.load.rows} if self.load.rows else {},
            rows_upserted=self.load.upserted,
            rows_deleted=self.load.deleted,
            rows_swept=self.load.swept,
            pages=result.requests,
            duration_s=result.duration_s,
        )


def _writers(conn: Any, result: SyncResult, tables: Sequence[str], *, schema: str, sweep: bool, batch_rows: int,
             run_info: dict[str, Any] | None, since: datetime | None = None,
             before: datetime | None = None) -> dict[str, _Writer]:
    """DDL first (short transactions of their own), then a ledger row and a loader per table."""
    specs = {t: spec_for(t, schema) for t in tables}
    ensure_ledger(conn)
    for spec in specs.values():
        ensure_table(conn, spec)
    if "locations" in specs:
        ensure_location_tree(conn, schema)
    return {
        t: _Writer(conn, spec, result, sweep=sweep, batch_rows=batch_rows, run_info=run_info, since=since,
                   before=before)
        for t, spec in specs.items()
    }


def _close(result: SyncResult, writers: dict[str, _Writer], started: float) -> SyncResult:
    result.duration_s = round(time.perf_counter() - started, 3)
    result.tables = [w.load for w in writers.values()]
    for w in writers.values():
        w.record(result)
    log.info(
        "retailnext %s (%s): %s in %.2fs", result.resource, result.mode,
        ", ".join(f"{t.table} rows {t.rows} upserted {t.upserted} swept {t.swept}" for t in result.tables),
        result.duration_s,
    )
    return result


def _refuse_empty_snapshot(conn: Any, spec: TableSpec, resource: str) -> None:
    """An empty listing would sweep the whole table: treat it as a broken response instead."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {spec.qualified}")
        existing = int(cur.fetchone()[0])
    if existing:
        raise InvalidResponseError(
            f"retailnext {resource}: the API returned no entries while {spec.qualified} holds {existing} rows; "
            "refusing to delete them all (a snapshot sweep needs a non-empty listing)",
            api=VENDOR,
        )


def _sweep_window(conn: Any, spec: TableSpec, seen: Iterable[Sequence[Any]], where: str,
                  params: dict[str, Any]) -> int:
    """Delete the rows inside a window (a SQL condition on ``t``) whose key this sync did not see."""
    temp = quote(f"_seen_window_{spec.table}")
    keys = ", ".join(quote(k) for k in spec.key)
    cols = ", ".join(f"{quote(k)} {spec.column(k).pg_type}" for k in spec.key)
    match = " AND ".join(f"s.{quote(k)} = t.{quote(k)}" for k in spec.key)
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {temp}")
        cur.execute(f"CREATE TEMP TABLE {temp} ({cols}) ON COMMIT DROP")
        with cur.copy(f"COPY {temp} ({keys}) FROM STDIN") as copy:
            for key in seen:
                copy.write_row(tuple(key))
        cur.execute(f"ANALYZE {temp}")  # without statistics the planner may pick a nested loop
        cur.execute(
            f"DELETE FROM {spec.qualified} t WHERE ({where}) AND NOT EXISTS (SELECT 1 FROM {temp} s WHERE {match})",
            params,
        )
        deleted = max(cur.rowcount, 0)
        cur.execute(f"DROP TABLE {temp}")
    return deleted


# --- snapshots -------------------------------------------------------------------------------


def fetch_locations(hook: Any, page_length: int = PAGE_LENGTH) -> dict[str, list[BaseModel]]:
    """The complete v1 listing, with the store fields of ``v2/location`` merged onto stores."""
    listing = hook.list_locations(page_length=page_length)
    stores = {s.uuid: s for s in hook.query_locations(extra_fields=list(m.EXTRA_FIELDS), location_types=["store"])}
    rows: list[BaseModel] = []
    for loc in listing:
        data = loc.model_dump()
        store = stores.get(loc.uuid)
        if store is not None:
            for name in STORE_FIELDS:
                value = getattr(store, name)
                if value is not None or name != "time_zone":
                    data[name] = value
        rows.append(LocationRow.model_validate(data))
    return {"locations": rows}


def fetch_users(hook: Any, page_length: int = PAGE_LENGTH) -> dict[str, list[BaseModel]]:
    return {"users": [UserRow.model_validate(u.model_dump()) for u in hook.users(page_length=page_length)]}


def fetch_user_profiles(hook: Any, page_length: int = PAGE_LENGTH) -> dict[str, list[BaseModel]]:
    return {"user_profiles": hook.user_profiles(page_length=page_length)}


def fetch_location_profiles(hook: Any, page_length: int = PAGE_LENGTH) -> dict[str, list[BaseModel]]:
    return {"location_profiles": hook.location_profiles(page_length=page_length)}


def fetch_floorplans(hook: Any, page_length: int = PAGE_LENGTH) -> dict[str, list[BaseModel]]:
    """Floorplans, their zones and the zones' polygon points (``seq`` from 0)."""
    plans: list[BaseModel] = []
    zones: list[BaseModel] = []
    points: list[BaseModel] = []
    for plan in hook.floorplans(page_length=page_length):
        plans.append(FloorplanRow.model_validate(plan.model_dump(exclude={"zones"})))
        for zone in plan.zones:
            zones.append(ZoneRow.model_validate({**zone.model_dump(exclude={"points"}), "floorplan_id": plan.id}))
            for seq, point in enumerate(zone.points):
                points.append(ZonePointRow.model_validate({**point.model_dump(), "zone_id": zone.id, "seq": seq}))
    return {"fpa_floorplans": plans, "fpa_zones": zones, "fpa_zone_points": points}


def fetch_devices(hook: Any, page_length: int = PAGE_LENGTH) -> dict[str, list[BaseModel]]:
    """Cameras, channels and appliances of every store (inventory cursors to ``end``)."""
    out: dict[str, list[BaseModel]] = {}
    for kind, table, model in (("cameras", "cameras", CameraRow), ("channels", "channels", m.Channel),
                               ("appliances", "appliances", m.Appliance)):
        out[table] = [model.model_validate(x) for page in hook.iter_inventory(kind, page_length=page_length)
                      for x in page]
    return out


SNAPSHOTS: dict[str, Callable[..., dict[str, list[BaseModel]]]] = {
    "locations": fetch_locations,
    "users": fetch_users,
    "user_profiles": fetch_user_profiles,
    "location_profiles": fetch_location_profiles,
    "floorplans": fetch_floorplans,
    "devices": fetch_devices,
}


def sync_snapshot(hook: Any, conn: Any, resource: str, *, schema: str = SCHEMA, page_length: int = PAGE_LENGTH,
                  batch_rows: int = 50_000, run_info: dict[str, Any] | None = None) -> SyncResult:
    """Load the full listing of ``resource`` and delete the rows the source no longer has.

    The API is read completely before the data transaction starts writing; all tables of
    the resource are merged in the caller's one transaction.
    """
    if resource not in SNAPSHOTS:
        raise InputValidationError(f"resource must be one of {', '.join(SNAPSHOTS)} (got {resource!r})", api=VENDOR)
    started = time.perf_counter()
    data = SNAPSHOTS[resource](hook, page_length)
    result = SyncResult(resource=resource, mode="snapshot", filters={})
    writers = _writers(conn, result, RESOURCES[resource], schema=schema, sweep=True, batch_rows=batch_rows,
                       run_info=run_info)
    primary = RESOURCES[resource][0]
    if not data[primary]:
        _refuse_empty_snapshot(conn, writers[primary].spec, resource)
    for table, writer in writers.items():
        writer.stage(data[table])
        writer.finish()
    return _close(result, writers, started)


# --- stores ----------------------------------------------------------------------------------


def store_zones(hook: Any, stores: Sequence[str] | None = None) -> dict[str, ZoneInfo]:
    """Active (not archived) stores and their time zones, in listing order.

    :param stores: restrict to these uuids; one that is not an active store is an
        :class:`InputValidationError` naming ``stores``.
    """
    out: dict[str, ZoneInfo] = {}
    for node in hook.query_locations(extra_fields=["store.time_zone"], location_types=["store"]):
        if node.archive_date:
            continue
        try:
            out[node.uuid] = ZoneInfo(node.time_zone) if node.time_zone else ZoneInfo("UTC")
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("store %s has an unknown time zone %r; using UTC", node.uuid, node.time_zone)
            out[node.uuid] = ZoneInfo("UTC")
    if stores:
        unknown = [s for s in stores if s not in out]
        if unknown:
            raise InputValidationError(
                f"stores: {', '.join(unknown[:5])} {'is' if len(unknown) == 1 else 'are'} not an active store "
                "of this subscription",
                api=VENDOR,
            )
        out = {s: out[s] for s in dict.fromkeys(stores)}
    return out


def _batches(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


# --- store hours -----------------------------------------------------------------------------


def sync_store_hours(hook: Any, conn: Any, *, start: date, end: date, stores: Sequence[str] | None = None,
                     schema: str = SCHEMA, page_length: int = PAGE_LENGTH, batch_rows: int = 50_000,
                     run_info: dict[str, Any] | None = None) -> SyncResult:
    """Store hours of ``[start, end]`` (both included) per store; upsert, then drop days now closed."""
    started = time.perf_counter()
    chosen = list(store_zones(hook, stores))
    result = SyncResult(
        resource="store_hours", mode="window",
        filters={"first_day": start.isoformat(), "last_day": end.isoformat(),
                 "stores": len(chosen) if not stores else list(chosen)},
    )
    rows: list[StoreHoursRow] = []
    for batch in _batches(chosen, STORE_BATCH):
        result.requests += 1
        rows += [StoreHoursRow.model_validate(e.model_dump()) for e in hook.store_hours(batch, start, end,
                                                                                          page_length=page_length)]
    writers = _writers(conn, result, ["store_hours"], schema=schema, sweep=False, batch_rows=batch_rows,
                       run_info=run_info)
    writer = writers["store_hours"]
    writer.stage(rows)
    writer.finish()
    if chosen:
        writer.load.swept += _sweep_window(
            conn, writer.spec, ((r.store_uuid, r.effective_day) for r in rows),
            "t.store_uuid = ANY(%(stores)s) AND t.effective_day BETWEEN %(start)s AND %(end)s",
            {"stores": chosen, "start": start, "end": end},
        )
    return _close(result, writers, started)


# --- predicted traffic -------------------------------------------------------------------------


def prediction_requests(zones: dict[str, ZoneInfo], *, now: datetime, days_ahead: int) -> list[tuple[str, date, date]]:
    """``(store, first_day, last_day)`` chunks of at most 7 days from tomorrow (store time) on."""
    out = []
    for store, tz in zones.items():
        today = now.astimezone(tz).date()
        first, last = today + timedelta(days=1), today + timedelta(days=days_ahead)
        day = first
        while day <= last:
            chunk_end = min(day + timedelta(days=6), last)
            out.append((store, day, chunk_end))
            day = chunk_end + timedelta(days=1)
    return out


def _workers(hook: Any) -> int:
    try:
        return max(1, int(hook.extras.get("max_concurrency") or 3))
    except (TypeError, ValueError):
        return 3


def _parallel(hook: Any, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> Iterator[tuple[Any, Any]]:
    """``(call, fn(*call))`` as they finish, on as many threads as the hook's concurrency cap.

    The first failure cancels the calls that have not started and is raised.
    """
    hook.get_client()  # build the client once, before the threads share it
    pool = ThreadPoolExecutor(max_workers=_workers(hook), thread_name_prefix="retailnext")
    try:
        futures = {pool.submit(fn, *call): call for call in calls}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def sync_predicted_traffic(hook: Any, conn: Any, *, stores: Sequence[str] | None = None, days_ahead: int = 31,
                           now: datetime | None = None, schema: str = SCHEMA, batch_rows: int = 50_000,
                           run_info: dict[str, Any] | None = None) -> SyncResult:
    """The next ``days_ahead`` days of predicted traffic per store, in 7-day requests.

    Requests run on as many threads as the hook's concurrency cap (RetailNext allows 3
    concurrent predicted-traffic requests; a 429 is retried after its ``Retry-After``).
    ``predicted_at`` is when a bucket's current value was first fetched: an unchanged
    prediction keeps it, so a rerun writes nothing.  Buckets of a store between the first
    and last one returned that the API no longer returns are deleted.
    """
    if not 1 <= days_ahead <= 31:
        raise InputValidationError(f"days_ahead must be from 1 to 31 (got {days_ahead})", api=VENDOR)
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    zones = store_zones(hook, stores)
    requests = prediction_requests(zones, now=now, days_ahead=days_ahead)
    result = SyncResult(resource="predicted_traffic", mode="window",
                        filters={"days_ahead": days_ahead, "stores": len(zones) if not stores else list(zones)},
                        since=None, before=None, requests=len(requests))
    fetched: dict[str, list[m.Prediction]] = {s: [] for s in zones}
    for (store, _, _), answer in _parallel(hook, hook.predicted_traffic, requests):
        fetched[store] += answer.predictions
    writers = _writers(conn, result, ["predicted_traffic"], schema=schema, sweep=False, batch_rows=batch_rows,
                       run_info=run_info)
    writer = writers["predicted_traffic"]
    previous = _previous_predictions(conn, writer.spec, list(zones))
    seen: list[tuple[str, datetime]] = []
    spans: list[tuple[str, datetime, datetime]] = []
    for store, predictions in fetched.items():
        rows = []
        for p in predictions:
            row = PredictedTrafficRow.model_validate({**p.model_dump(), "store_uuid": store, "predicted_at": now})
            before = previous.get((store, row.time))
            if before is not None and _same_number(before[0], row.value):
                row.predicted_at = before[1]
            rows.append(row)
        rows = list({r.time: r for r in rows}.values())
        writer.stage(rows)
        seen += [(store, r.time) for r in rows]
        if rows:
            spans.append((store, min(r.time for r in rows), max(r.time for r in rows)))
    writer.finish()
    if spans:
        writer.load.swept += _sweep_spans(conn, writer.spec, seen, spans)
    return _close(result, writers, started)


def _sweep_spans(conn: Any, spec: TableSpec, seen: list[tuple[str, datetime]],
                 spans: list[tuple[str, datetime, datetime]]) -> int:
    """Per store, delete the buckets between the first and last one fetched that were not fetched.

    Only this span: a bucket just before it may belong to a store day that was not requested
    (hours crossing midnight, a day opening the evening before).
    """
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS _spans_predicted_traffic")
        cur.execute("CREATE TEMP TABLE _spans_predicted_traffic (store_uuid text, lo timestamp, hi timestamp) "
                    "ON COMMIT DROP")
        with cur.copy("COPY _spans_predicted_traffic (store_uuid, lo, hi) FROM STDIN") as copy:
            for span in spans:
                copy.write_row(span)
    return _sweep_window(
        conn, spec, seen,
        "EXISTS (SELECT 1 FROM _spans_predicted_traffic w WHERE w.store_uuid = t.store_uuid "
        "AND t.time BETWEEN w.lo AND w.hi)", {},
    )


def _previous_predictions(conn: Any, spec: TableSpec, stores: list[str]) -> dict[tuple[str, datetime], tuple[Any, Any]]:
    if not stores:
        return {}
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT store_uuid, time, value, predicted_at FROM {spec.qualified} "
            "WHERE store_uuid = ANY(%s) AND time >= (now() AT TIME ZONE 'UTC') - interval '2 days'",
            (stores,),
        )
        return {(r[0], r[1]): (r[2], r[3]) for r in cur.fetchall()}


def _same_number(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return float(a) == float(b)


# --- zone transitions ------------------------------------------------------------------------


def sync_zone_transitions(hook: Any, conn: Any, *, days: Sequence[date] | None = None,
                          stores: Sequence[str] | None = None, transitions: str = "direct_only",
                          dwells: str = "dwells_only", now: datetime | None = None, schema: str = SCHEMA,
                          page_length: int = PAGE_LENGTH, batch_rows: int = 50_000,
                          run_info: dict[str, Any] | None = None) -> SyncResult:
    """Customer and employee transitions between each store's FPA zones, one request per store and day.

    :param days: the days to load for every store; ``None``: yesterday in each store's zone.
        Days that have not ended yet in a store's zone are skipped for that store.
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    zones = store_zones(hook, stores)
    zone_locations: dict[str, list[str]] = {}
    for plan in hook.floorplans(page_length=page_length):
        for zone in plan.zones:
            if plan.store_id in zones and zone.location_id:
                zone_locations.setdefault(plan.store_id, []).append(zone.location_id)
    calls: list[tuple[str, date, m.ZoneTransitionsRequest]] = []
    skipped: list[str] = []
    for store, tz in zones.items():
        locations = list(dict.fromkeys(zone_locations.get(store, [])))
        if not locations:
            continue
        today = now.astimezone(tz).date()
        for day in (days if days else [today - timedelta(days=1)]):
            if day >= today:
                skipped.append(f"{store} {day.isoformat()}")
                continue
            calls.append((store, day, m.ZoneTransitionsRequest(
                locations=locations, date_ranges=[m.DayRange(start=day, finish=day + timedelta(days=1))],
                metrics=list(ZONE_METRICS), transitions=transitions, dwells=dwells,
            )))
    if skipped:
        log.warning("zone transitions: %d store days have not ended yet in the store's time zone and are skipped "
                    "(e.g. %s)", len(skipped), skipped[0])
    result = SyncResult(
        resource="zone_transitions", mode="upsert", requests=len(calls),
        filters={"days": sorted({c[1].isoformat() for c in calls}), "transitions": transitions, "dwells": dwells,
                 "stores": len(zones) if not stores else list(zones)},
        details={"skipped_store_days": len(skipped)},
    )
    rows: list[ZoneTransitionRow] = []
    answers = _parallel(hook, lambda store, day, req: hook.zone_transitions(req), calls)
    for (store, day, _), answer in answers:
        for metric in answer.metrics:
            for block in metric.data:
                for t in block.transitions:
                    rows.append(ZoneTransitionRow.model_validate({
                        **t.model_dump(), "day": day, "store_uuid": block.floorplan.store_uuid or store,
                        "floorplan_uuid": block.floorplan.uuid, "metric": metric.name,
                        "transitions": transitions, "dwells": dwells,
                    }))
    writers = _writers(conn, result, ["zone_transitions"], schema=schema, sweep=False, batch_rows=batch_rows,
                       run_info=run_info)
    writers["zone_transitions"].stage(rows)
    writers["zone_transitions"].finish()
    return _close(result, writers, started)


# --- health alerts ---------------------------------------------------------------------------


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
                       schema: str = SCHEMA, page_length: int = PAGE_LENGTH, batch_rows: int = 50_000,
                       run_info: dict[str, Any] | None = None) -> SyncResult:
    """Alerts created at or after ``start_time`` (all when ``None``), upserted by uuid.

    ``details["new_alerts"]`` lists the alerts that were not in the table before this sync
    and are not resolved (summaries, see :func:`alert_summary`), oldest first.
    """
    started = time.perf_counter()
    before = before or datetime.now(UTC)
    alerts = hook.health_alerts(start_time, page_length=page_length)
    rows = list({a.uuid: HealthAlertRow.model_validate(a.model_dump()) for a in alerts}.values())
    result = SyncResult(resource="health_alerts", mode="incremental", filters={},
                        since=start_time.isoformat() if start_time else None, before=before.isoformat())
    writers = _writers(conn, result, ["health_alerts"], schema=schema, sweep=False, batch_rows=batch_rows,
                       run_info=run_info, since=start_time, before=before)
    writer = writers["health_alerts"]
    with conn.cursor() as cur:
        cur.execute(f"SELECT uuid FROM {writer.spec.qualified} WHERE uuid = ANY(%s)", ([r.uuid for r in rows],))
        known = {r[0] for r in cur.fetchall()}
    new = sorted((r for r in rows if r.uuid not in known and not r.resolved),
                 key=lambda r: (r.alert_creation_time, r.uuid))
    writer.stage(rows)
    writer.finish()
    result.details = {"fetched": len(rows), "new_alerts": [alert_summary(a) for a in new]}
    return _close(result, writers, started)


# --- failures --------------------------------------------------------------------------------


def record_failure(conn: Any, resource: str, *, error: str, schema: str = SCHEMA, filters: dict[str, Any] | None = None,
                   since: datetime | None = None, before: datetime | None = None, mode: str = "",
                   run_info: dict[str, Any] | None = None) -> None:
    """After a rollback: a ``failed`` ledger row per table of ``resource``, in its own transaction."""
    try:
        ensure_ledger(conn)
        for table in RESOURCES.get(resource, (resource,)):
            sync_id = ledger_start(
                conn, vendor=VENDOR, endpoint=resource, target_table=f"{schema}.{table}", filters=filters or {},
                mode=mode, since=since, before=before,
                **{k: v for k, v in (run_info or {}).items() if k in RUN_INFO_KEYS},
            )
            ledger_finish(conn, sync_id, status="failed", error=error[:2000])
        conn.commit()
    except Exception:  # the ledger must never hide the original error
        log.exception("could not record the failed sync in %s", LEDGER_TABLE)
        conn.rollback()
