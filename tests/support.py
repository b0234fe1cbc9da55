"""Test helpers: compare a warehouse table with the emulator's ground truth."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from retail_provider.ocds.catalog import OcdsEndpoint
from retail_provider.ocds.rows import to_rows
from retail_provider.ocds.sync import scope_of, spec_for
from retail_provider.warehouse.schema import quote


def _norm(value: Any, pg_type: str, from_text: bool = False) -> Any:
    if value is None:
        return None
    if pg_type == "jsonb":
        return _drop_nulls(orjson.loads(value) if from_text else value)
    if pg_type == "timestamptz" and isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def expected_rows(endpoint: OcdsEndpoint, truth: list[dict], schema: str) -> dict[tuple, tuple]:
    """Truth rows as the warehouse should hold them: parsed by the model, keyed."""
    spec = spec_for(endpoint, schema)
    needs_action = "action" in endpoint.model.model_fields
    records = [endpoint.model.model_validate({"action": "UPSERT", **row} if needs_action else row) for row in truth]
    out = {}
    for row in to_rows(spec, records):
        values = tuple(_norm(v, c.pg_type, from_text=True) for v, c in zip(row[1:-1], spec.columns))
        key = tuple(values[spec.column_names.index(k)] for k in spec.key)
        assert key not in out, f"duplicate key {key} in truth of {endpoint.name}"
        out[key] = values
    return out


def table_rows(conn, endpoint: OcdsEndpoint, schema: str, filters: dict[str, str] | None = None) -> dict[tuple, tuple]:
    spec = spec_for(endpoint, schema)
    cols = ", ".join(quote(c) for c in spec.column_names)
    where, params = "", {}
    if endpoint.scope_in_key or filters:
        where, params = " WHERE _scope = %(scope)s", {"scope": scope_of(filters or {})}
    rows = conn.execute(f"SELECT {cols} FROM {spec.qualified}{where}", params).fetchall()
    out = {}
    for row in rows:
        values = tuple(_norm(v, c.pg_type) for v, c in zip(row, spec.columns))
        out[tuple(values[spec.column_names.index(k)] for k in spec.key)] = values
    return out


def assert_table_equals_truth(conn, endpoint: OcdsEndpoint, truth: list[dict], schema: str,
                              filters: dict[str, str] | None = None) -> None:
    expected = expected_rows(endpoint, truth, schema)
    actual = table_rows(conn, endpoint, schema, filters)
    missing = sorted(set(expected) - set(actual), key=str)[:5]
    extra = sorted(set(actual) - set(expected), key=str)[:5]
    assert not missing and not extra, f"{endpoint.name}: missing keys {missing}, unexpected keys {extra}"
    diffs = [(k, expected[k], actual[k]) for k in expected if expected[k] != actual[k]][:3]
    assert not diffs, f"{endpoint.name}: rows differ from truth (key, expected, actual): {diffs}"
