"""Test helpers: compare a warehouse table with the emulator's ground truth."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from retail_provider.ocds.catalog import OcdsEndpoint
from retail_provider.ocds.promotions import CHILDREN, child_rows, child_specs
from retail_provider.ocds.rows import to_rows
from retail_provider.ocds.sync import scope_of, spec_for
from retail_provider.warehouse.schema import TableSpec, quote


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


def records_of(endpoint: OcdsEndpoint, truth: list[dict]) -> list:
    """Truth rows (current state, no actions) parsed by the endpoint's model."""
    needs_action = "action" in endpoint.model.model_fields
    if endpoint.nested:  # the offer's live locations, as if each had just been inserted
        truth = [{**row, "locations": [{"action": "INSERT", **loc} for loc in row["locations"]]} for row in truth]
    return [endpoint.model.model_validate({"action": "UPSERT", **row} if needs_action else row) for row in truth]


def _keyed(spec: TableSpec, rows, what: str) -> dict[tuple, tuple]:
    out = {}
    for row in rows:
        values = tuple(_norm(v, c.pg_type, from_text=True) for v, c in zip(row[1:-1], spec.columns))
        key = tuple(values[spec.column_names.index(k)] for k in spec.key)
        assert key not in out, f"duplicate key {key} in truth of {what}"
        out[key] = values
    return out


def expected_rows(endpoint: OcdsEndpoint, truth: list[dict], schema: str) -> dict[tuple, tuple]:
    """Truth rows as the warehouse should hold them: parsed by the model, keyed."""
    return _keyed(spec_for(endpoint, schema), to_rows(spec_for(endpoint, schema), records_of(endpoint, truth)),
                  endpoint.name)


def _select(conn, spec: TableSpec, scoped: bool, filters: dict[str, str] | None) -> dict[tuple, tuple]:
    cols = ", ".join(quote(c) for c in spec.column_names)
    where, params = "", {}
    if scoped or filters:
        where, params = " WHERE _scope = %(scope)s", {"scope": scope_of(filters or {})}
    out = {}
    for row in conn.execute(f"SELECT {cols} FROM {spec.qualified}{where}", params).fetchall():
        values = tuple(_norm(v, c.pg_type) for v, c in zip(row, spec.columns))
        out[tuple(values[spec.column_names.index(k)] for k in spec.key)] = values
    return out


def table_rows(conn, endpoint: OcdsEndpoint, schema: str, filters: dict[str, str] | None = None) -> dict[tuple, tuple]:
    return _select(conn, spec_for(endpoint, schema), endpoint.scope_in_key, filters)


def _assert_same(name: str, expected: dict, actual: dict) -> None:
    missing = sorted(set(expected) - set(actual), key=str)[:5]
    extra = sorted(set(actual) - set(expected), key=str)[:5]
    assert not missing and not extra, f"{name}: missing keys {missing}, unexpected keys {extra}"
    diffs = [(k, expected[k], actual[k]) for k in expected if expected[k] != actual[k]][:3]
    assert not diffs, f"{name}: rows differ from truth (key, expected, actual): {diffs}"


def assert_table_equals_truth(conn, endpoint: OcdsEndpoint, truth: list[dict], schema: str,
                              filters: dict[str, str] | None = None) -> None:
    """The endpoint's table (and a nested endpoint's child tables) hold exactly the truth."""
    _assert_same(endpoint.name, expected_rows(endpoint, truth, schema), table_rows(conn, endpoint, schema, filters))
    if endpoint.nested:
        records = records_of(endpoint, truth)
        for spec, child in zip(child_specs(schema, endpoint.table), CHILDREN, strict=True):
            expected = _keyed(spec, child_rows(spec, child, records), spec.table)
            _assert_same(spec.table, expected, _select(conn, spec, endpoint.scope_in_key, filters))
