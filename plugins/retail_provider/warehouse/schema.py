"""Warehouse table layouts derived from the pydantic models: one column per model field.

Types: ``str``/``Literal`` -> text, ``int`` -> bigint, ``Decimal``/``float`` -> numeric,
``bool`` -> boolean, ``AwareDatetime`` -> timestamptz, naive local date-times -> timestamp,
``date`` -> date, nested lists/objects -> jsonb.  Every table also carries bookkeeping
columns: ``_scope`` (the filter combination that last wrote the row), ``_action`` (the
last change applied), ``_loaded_at``, ``_sync_id`` (the ledger row of that sync) and
``_extra`` (fields the vendor added that the model does not know yet).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from pydantic import AliasChoices, AwareDatetime, BaseModel

META_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_scope", "text NOT NULL DEFAULT ''"),
    ("_action", "text"),
    ("_loaded_at", "timestamptz NOT NULL DEFAULT now()"),
    ("_sync_id", "bigint"),
    ("_extra", "jsonb"),
)


@dataclass(frozen=True)
class Column:
    name: str  # warehouse column name (the vendor's canonical field name)
    field: str  # pydantic attribute name
    pg_type: str
    to_db: Callable[[Any], Any] | None = None  # converter applied before COPY


@dataclass(frozen=True)
class TableSpec:
    schema: str
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    scope_in_key: bool = False

    @property
    def qualified(self) -> str:
        return f"{quote(self.schema)}.{quote(self.table)}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def primary_key(self) -> tuple[str, ...]:
        return (*self.key, "_scope") if self.scope_in_key else self.key

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, default=_json_default).decode()


def _json_default(value: Any) -> Any:
    """Nested models keep their vendor field names; decimals stay JSON numbers."""
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _unwrap(annotation: Any) -> list[Any]:
    """The non-None members of an annotation (``X | None`` -> ``[X]``)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) if a is not type(None) for m in _unwrap(a)]
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return [annotation]


def pg_type_for(annotation: Any) -> tuple[str, Callable[[Any], Any] | None]:
    members = _unwrap(annotation)
    if len(members) != 1:
        return "jsonb", _json
    a = members[0]
    origin = typing.get_origin(a)
    if origin is typing.Literal:
        return "text", None
    if origin in (list, dict, tuple) or a in (list, dict) or a is Any:
        return "jsonb", _json
    if isinstance(a, type):
        if issubclass(a, BaseModel):
            return "jsonb", _json
        if a is AwareDatetime:
            return "timestamptz", None
        if issubclass(a, bool):
            return "boolean", None
        if issubclass(a, int):
            return "bigint", None
        if issubclass(a, (Decimal, float)):
            return "numeric", None
        if issubclass(a, datetime):
            return "timestamp", None
        if issubclass(a, date):
            return "date", None
        if issubclass(a, str):
            return "text", None
    return "jsonb", _json


def column_name(field_name: str, info: Any) -> str:
    if info.serialization_alias:
        return info.serialization_alias
    va = info.validation_alias
    if isinstance(va, AliasChoices):
        first = va.choices[0]
        return first if isinstance(first, str) else field_name
    if isinstance(va, str):
        return va
    return field_name


def table_spec(
    model: type[BaseModel],
    *,
    schema: str,
    table: str,
    key: tuple[str, ...],
    scope_in_key: bool = False,
) -> TableSpec:
    columns = []
    for field_name, info in model.model_fields.items():
        if field_name == "action":  # the change instruction, kept in ``_action``, not data
            continue
        pg_type, conv = pg_type_for(info.annotation)
        columns.append(Column(column_name(field_name, info), field_name, pg_type, conv))
    names = {c.name for c in columns}
    missing = [k for k in key if k not in names]
    if missing:
        raise ValueError(f"{model.__name__}: key columns {missing} are not model fields")
    return TableSpec(schema, table, tuple(columns), key, scope_in_key)


def create_table_sql(spec: TableSpec) -> list[str]:
    """Idempotent DDL: schema, table, and any column a newer model added."""
    key = set(spec.key)
    cols = [
        f"{quote(c.name)} {c.pg_type}{' NOT NULL' if c.name in key else ''}" for c in spec.columns
    ]
    cols += [f"{quote(name)} {ddl}" for name, ddl in META_COLUMNS]
    pk = ", ".join(quote(k) for k in spec.primary_key)
    statements = [
        f"CREATE SCHEMA IF NOT EXISTS {quote(spec.schema)}",
        f"CREATE TABLE IF NOT EXISTS {spec.qualified} ({', '.join(cols)}, PRIMARY KEY ({pk}))",
    ]
    for c in spec.columns:
        statements.append(f"ALTER TABLE {spec.qualified} ADD COLUMN IF NOT EXISTS {quote(c.name)} {c.pg_type}")
    for name, ddl in META_COLUMNS:
        statements.append(f"ALTER TABLE {spec.qualified} ADD COLUMN IF NOT EXISTS {quote(name)} {ddl}")
    return statements


def upsert(record: BaseModel) -> str:
    return "UPSERT"


def model_rows(spec: TableSpec, records: Iterable[BaseModel],
               action: Callable[[BaseModel], str] = upsert) -> Iterator[tuple[Any, ...]]:
    """``(action, *columns, extra)`` per record, in the spec's column order; fields the model
    does not know (pydantic's extras) go to ``_extra`` as JSON."""
    getters = [(c.field, c.to_db) for c in spec.columns]
    for record in records:
        values = [(conv(getattr(record, name)) if conv else getattr(record, name)) for name, conv in getters]
        extra = record.__pydantic_extra__
        yield (action(record), *values, _json(extra) if extra else None)
