"""Operators for RetailNext's write endpoints: locations, occupancy adjustments, users.

Every operator validates its input against the reference before any call, supports
``dry_run`` (prints what would change, writes nothing to RetailNext), never retries a
POST that creates something, and records each change in ``retailnext.write_audit``: a
``started`` row committed before the call (so a lost response still leaves a trace),
then its outcome.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from airflow.sdk import BaseOperator
from pydantic import BaseModel, ValidationError

from retail_provider.http.errors import ApiError, InputValidationError, redact
from retail_provider.orchestration.failures import fail_fast
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.writes.models import (
    LocationCreate,
    LocationUpdate,
    OccupancyAdjust,
    UserCreate,
    UserUpdate,
)
from retail_provider.warehouse import WAREHOUSE_CONN_ID

AUDIT_TABLE = "retailnext.write_audit"
AUDIT_DDL = [
    "CREATE SCHEMA IF NOT EXISTS retailnext",
    f"""CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        operation text NOT NULL,
        target text,
        request jsonb,
        dry_run boolean NOT NULL,
        status text NOT NULL,
        response jsonb,
        error text,
        dag_id text, run_id text, task_id text, try_number integer
    )""",
]


def parse(model: type[BaseModel], data: Any, what: str) -> Any:
    """Validate ``data`` with a request model; errors name the field and the rule."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "request"
        raise InputValidationError(f"{what}: {where}: {first.get('msg')}", api="retailnext") from None


class AuditedWriteOperator(BaseOperator):
    """Base of the write operators: dry run and the audit table.

    :param dry_run: validate and show what would change, without writing to RetailNext. (templated)
    :param postgres_conn_id: the warehouse holding ``retailnext.write_audit``.
    """

    template_fields: Sequence[str] = ("dry_run",)

    def __init__(self, *, dry_run: Any = False, retailnext_conn_id: str = RetailNextHook.default_conn_name,
                 postgres_conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dry_run = dry_run
        self.retailnext_conn_id = retailnext_conn_id
        self.postgres_conn_id = postgres_conn_id

    @property
    def is_dry_run(self) -> bool:
        return str(self.dry_run).strip().lower() in ("1", "true", "yes", "on")

    # -- audit ----------------------------------------------------------------------------

    def _conn(self) -> Any:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        conn = PostgresHook(postgres_conn_id=self.postgres_conn_id).get_conn()
        conn.autocommit = True
        with conn.cursor() as cur:
            for statement in AUDIT_DDL:
                cur.execute(statement)
        return conn

    def audited(self, context: Any, operation: str, target: str, request: dict[str, Any],
                call: Any) -> dict[str, Any]:
        """Record, then (unless dry run) call, then record the outcome."""
        from psycopg.types.json import Jsonb

        ti = context.get("ti") if context else None
        conn = self._conn()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    f"INSERT INTO {AUDIT_TABLE} (operation, target, request, dry_run, status, dag_id, run_id, task_id, "
                    "try_number) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    (operation, target, Jsonb(request), self.is_dry_run, "dry_run" if self.is_dry_run else "started",
                     getattr(ti, "dag_id", None), getattr(ti, "run_id", None), getattr(ti, "task_id", None),
                     getattr(ti, "try_number", None)),
                )
                audit_id = cur.fetchone()[0]
            if self.is_dry_run:
                self.log.info("DRY RUN %s %s: %s", operation, target, request)
                return {"operation": operation, "target": target, "dry_run": True, "request": request}
            try:
                response = call()
            except Exception as exc:
                with conn.cursor() as cur:
                    cur.execute(f"UPDATE {AUDIT_TABLE} SET status = 'failed', error = %s WHERE id = %s",
                                (redact(f"{type(exc).__name__}: {exc}")[:2000], audit_id))
                raise
            with conn.cursor() as cur:
                cur.execute(f"UPDATE {AUDIT_TABLE} SET status = 'applied', response = %s WHERE id = %s",
                            (Jsonb(response), audit_id))
            self.log.info("%s %s applied", operation, target)
            return {"operation": operation, "target": target, "dry_run": False, "response": response}
        finally:
            conn.close()

    def hook(self) -> RetailNextHook:
        return RetailNextHook(self.retailnext_conn_id)


def _location(hook: RetailNextHook, uuid: str, param: str = "location_uuid") -> Any:
    found = hook.query_locations(uuids=[uuid], extra_fields=["store.occupancy_limit", "store.time_zone"])
    if not found:
        raise InputValidationError(f"{param}: location {uuid!r} does not exist", api="retailnext")
    return found[0]


def organization_uuid(hook: RetailNextHook) -> str | None:
    """The subscription ("Organization") uuid, the parent of top-level regions: the
    connection's extra ``subscription_uuid``, else the one parent of the listing that is not
    itself a location (the reference: "contact RetailNext support" to obtain it)."""
    given = str(hook.extras.get("subscription_uuid") or "").strip()
    if given:
        return given
    listing = hook.list_locations()
    ids = {x.uuid for x in listing}
    outside = {x.parent_uuid for x in listing if x.parent_uuid and x.parent_uuid not in ids}
    return next(iter(outside)) if len(outside) == 1 else None


def _diff(current: Any, update: dict[str, Any]) -> dict[str, Any]:
    return {k: {"from": getattr(current, k, None), "to": v} for k, v in update.items()
            if getattr(current, k, None) != v}


class RetailNextLocationCreateOperator(AuditedWriteOperator):
    """Create a sublocation (entrance, fitting_room, display, other) or a region.

    :param location: ``name``, ``parent_uuid``, ``location_type``, optional ``area``,
        ``aggregate_to_parent``, ``aggregate_to_store``. (templated)  A top-level region's
        parent is the subscription uuid (the reference's rule); ``parent_uuid: "organization"``
        stands for it (the connection's extra ``subscription_uuid``, else derived from the
        location listing).
    """

    template_fields: Sequence[str] = ("location", "dry_run")

    def __init__(self, *, location: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.location = location

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        request = parse(LocationCreate, self.location, "create location")
        with self.hook() as hook:
            org = organization_uuid(hook) if request.location_type == "region" else None
            if request.parent_uuid == "organization":
                if org is None:
                    raise InputValidationError("parent_uuid: 'organization' needs the subscription uuid: set the "
                                               "connection's extra subscription_uuid", api="retailnext")
                request = request.model_copy(update={"parent_uuid": org})
            if org is not None and request.parent_uuid == org:  # a top-level region
                return self.audited(context, "location.create", request.parent_uuid, request.wire(),
                                    lambda: hook.create_location(request))
            parent = _location(hook, request.parent_uuid, "parent_uuid")
            if request.location_type == "region" and parent.location_type != "region":
                raise InputValidationError("a region's parent must be another region (or the organization uuid)",
                                           api="retailnext")
            if request.location_type != "region" and parent.location_type != "store":
                raise InputValidationError(f"a {request.location_type} must be created under a store",
                                           api="retailnext")
            return self.audited(context, "location.create", request.parent_uuid, request.wire(),
                                lambda: hook.create_location(request))


class RetailNextLocationUpdateOperator(AuditedWriteOperator):
    """Update a location: name, parent, type, area, occupancy limit, bandwidth limit, aggregation flags.

    :param location_uuid: the location. (templated)
    :param fields: the fields to change. (templated)
    """

    template_fields: Sequence[str] = ("location_uuid", "fields", "dry_run")

    def __init__(self, *, location_uuid: str, fields: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.location_uuid = location_uuid
        self.fields = fields

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        request = parse(LocationUpdate, self.fields, "update location")
        with self.hook() as hook:
            current = _location(hook, str(self.location_uuid))
            try:
                request.check_applies_to(current.location_type)
            except ValueError as exc:
                raise InputValidationError(f"update location {self.location_uuid}: {exc}", api="retailnext") from None
            changes = _diff(current, request.wire())
            if not changes:
                self.log.info("location %s already has these values: nothing to do", self.location_uuid)
                return {"operation": "location.update", "target": self.location_uuid, "changes": {}}
            self.log.info("location %s changes: %s", self.location_uuid, changes)
            out = self.audited(context, "location.update", str(self.location_uuid), request.wire(),
                               lambda: hook.update_location(str(self.location_uuid), request))
            return {**out, "changes": changes}


class RetailNextBulkLocationUpdateOperator(AuditedWriteOperator):
    """Update many locations from a CSV file (the reference's occupancy-limit example).

    The CSV has a header; the key column (default ``site_uuid``) names the location and the
    other columns are update fields (e.g. ``occupancy_limit``).  Every row is validated
    before the first call; all rows are then applied and the task fails at the end if any
    row failed (each row is audited).

    :param csv_path: path of the CSV file. (templated)
    """

    template_fields: Sequence[str] = ("csv_path", "dry_run")
    NUMERIC = {"area": float, "occupancy_limit": int, "bandwidth_limit_kilobits_per_second": int}
    BOOLEAN = {"aggregate_to_parent", "aggregate_to_store"}

    def __init__(self, *, csv_path: str, key_column: str = "site_uuid", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.csv_path = csv_path
        self.key_column = key_column

    def rows(self) -> list[tuple[str, LocationUpdate]]:
        path = Path(str(self.csv_path))
        if not path.is_file():
            raise InputValidationError(f"csv_path {str(path)!r} is not a file", api="retailnext")
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh, skipinitialspace=True)
            header = [h.strip() for h in reader.fieldnames or []]
            if self.key_column not in header:
                raise InputValidationError(f"csv_path: the header has no {self.key_column!r} column", api="retailnext")
            unknown = set(header) - {self.key_column} - set(LocationUpdate.model_fields)
            if unknown:
                raise InputValidationError(f"csv_path: unknown column(s) {', '.join(sorted(unknown))}",
                                           api="retailnext")
            out, seen = [], set()
            for n, raw in enumerate(reader, start=2):
                row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
                uuid = row.pop(self.key_column)
                if not uuid or uuid in seen:
                    raise InputValidationError(f"csv_path line {n}: {self.key_column} empty or repeated",
                                               api="retailnext")
                seen.add(uuid)
                fields: dict[str, Any] = {}
                for k, v in row.items():
                    if v == "":
                        continue
                    try:
                        fields[k] = (self.NUMERIC[k](v) if k in self.NUMERIC
                                     else v.lower() in ("1", "true", "yes") if k in self.BOOLEAN else v)
                    except ValueError:
                        raise InputValidationError(f"csv_path line {n}: {k} {v!r} is not a number",
                                                   api="retailnext") from None
                out.append((uuid, parse(LocationUpdate, fields, f"csv_path line {n}")))
        if not out:
            raise InputValidationError("csv_path: no rows", api="retailnext")
        return out

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        rows = self.rows()
        applied, failed = [], []
        with self.hook() as hook:
            current = {x.uuid: x for x in hook.query_locations(
                uuids=[u for u, _ in rows], extra_fields=["store.occupancy_limit"])}
            missing = [u for u, _ in rows if u not in current]
            if missing:
                raise InputValidationError(f"csv_path: unknown location(s) {', '.join(missing[:5])}",
                                           api="retailnext")
            for uuid, update in rows:
                try:
                    update.check_applies_to(current[uuid].location_type)
                except ValueError as exc:
                    raise InputValidationError(f"csv_path {uuid}: {exc}", api="retailnext") from None
            for uuid, update in rows:
                if not _diff(current[uuid], update.wire()):
                    continue
                try:
                    self.audited(context, "location.update", uuid, update.wire(),
                                 lambda u=uuid, r=update: hook.update_location(u, r))
                    applied.append(uuid)
                except ApiError as exc:
                    failed.append({"uuid": uuid, "error": str(exc)})
        if failed:
            raise ApiError(f"{len(failed)} of {len(rows)} location updates failed: {failed[:3]}", api="retailnext")
        return {"rows": len(rows), "changed": applied, "dry_run": self.is_dry_run}


class RetailNextOccupancyAdjustOperator(AuditedWriteOperator):
    """Adjust a store's current occupancy by a non-zero count.

    RetailNext accepts adjustments only within store hours and when the store has an
    occupancy limit: both are checked first.

    :param store_uuid: the store. (templated)
    :param adjustment_count: non-zero, positive or negative. (templated)
    :param adjustment_time: ISO 8601 with a zone; default now. (templated)
    :param adjustment_date: the same time under the reference's other name (give one). (templated)
    """

    template_fields: Sequence[str] = ("store_uuid", "adjustment_count", "adjustment_time", "adjustment_date", "dry_run")

    def __init__(self, *, store_uuid: str, adjustment_count: Any, adjustment_time: Any = None,
                 adjustment_date: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store_uuid = store_uuid
        self.adjustment_count = adjustment_count
        self.adjustment_time = adjustment_time
        self.adjustment_date = adjustment_date

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        try:
            count = int(str(self.adjustment_count))
        except ValueError:
            raise InputValidationError(f"adjustment_count must be an integer (got {self.adjustment_count!r})",
                                       api="retailnext") from None
        request = parse(OccupancyAdjust, {"store_uuid": self.store_uuid, "adjustment_count": count,
                                          "adjustment_time": self.adjustment_time or None,
                                          "adjustment_date": self.adjustment_date or None}, "occupancy adjust")
        when = request.adjustment_time or datetime.now(UTC)
        with self.hook() as hook:
            store = _location(hook, request.store_uuid)
            if store.location_type != "store":
                raise InputValidationError(f"{request.store_uuid} is not a store", api="retailnext")
            if store.occupancy_limit is None:
                raise InputValidationError(
                    f"store {store.name!r} has no occupancy limit: RetailNext only accepts adjustments for stores "
                    "with an occupancy limit", api="retailnext")
            local = when.astimezone(ZoneInfo(store.time_zone or "UTC")).replace(tzinfo=None)
            day = local.date()
            from datetime import timedelta

            hours = hook.store_hours([store.uuid], day - timedelta(days=1), day + timedelta(days=1))
            open_now = any(h.open and h.close and _wall(h.open) <= local < _wall(h.close) for h in hours)
            if not open_now:
                raise InputValidationError(
                    f"{local:%Y-%m-%d %H:%M} is outside the store hours of {store.name!r}: RetailNext only accepts "
                    "occupancy adjustments within store hours", api="retailnext")
            return self.audited(context, "occupancy.adjust", request.store_uuid, request.wire(),
                                lambda: hook.adjust_occupancy(request))


def _wall(text: str) -> datetime:
    """Store-hours times are local wall-clock times written with a literal Z."""
    return datetime.fromisoformat(text.replace("Z", ""))


class RetailNextUserCreateOperator(AuditedWriteOperator):
    """Create an SSO user.

    :param user: ``email``, optional ``name``, ``disabled``, ``user_profile_id`` and either
        ``location_profile_id`` or ``location_ids``. (templated)
    """

    template_fields: Sequence[str] = ("user", "dry_run")

    def __init__(self, *, user: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        request = parse(UserCreate, self.user, "create user")
        with self.hook() as hook:
            if hook.users(email=request.email):
                raise InputValidationError(f"a user with email {request.email} already exists", api="retailnext")
            return self.audited(context, "user.create", request.email, request.wire(),
                                lambda: hook.create_user(request))


class RetailNextUserUpdateOperator(AuditedWriteOperator):
    """Change a user's user profile, location profile or custom ``location_ids``.

    :param user_id: the user. (templated)
    :param fields: ``user_profile_id``, ``location_profile_id`` or ``location_ids``. (templated)
    """

    template_fields: Sequence[str] = ("user_id", "fields", "dry_run")

    def __init__(self, *, user_id: str, fields: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user_id = user_id
        self.fields = fields

    @fail_fast
    def execute(self, context: Any) -> dict[str, Any]:
        request = parse(UserUpdate, self.fields, "update user")
        with self.hook() as hook:
            current = next((u for u in hook.users() if u.id == str(self.user_id)), None)
            if current is None:
                raise InputValidationError(f"user {self.user_id!r} does not exist", api="retailnext")
            changes = _diff(current, request.wire())
            self.log.info("user %s changes: %s", self.user_id, changes)
            out = self.audited(context, "user.update", str(self.user_id), request.wire(),
                               lambda: hook.update_user(str(self.user_id), request))
            return {**out, "changes": changes}
