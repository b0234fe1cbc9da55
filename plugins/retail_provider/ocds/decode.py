"""A fast page decoder for bulk loads, compiled from an endpoint's pydantic model.

Validating 40-field items with pydantic costs about 12 µs a row: slower than COPY into
PostgreSQL.  For the big, flat endpoints (items, prices, inventory, ranging, images) this
module derives a ``msgspec`` structure from the same pydantic model (one source of truth
for names and types) and decodes a page straight into COPY-ready tuples, about 4 times
faster.  Its types are as strict as the warehouse columns: text columns take strings or
numbers, integer columns integers (or integer strings), numeric columns numbers, time
columns ISO strings that PostgreSQL parses and rejects if malformed.

Whenever a page is not exactly what the fast path understands, that page goes through
pydantic instead, so results never differ:

* a value of an unexpected type (msgspec raises; pydantic then either coerces it, as it
  does for booleans in indicator fields, or fails with its clear error);
* an alternative field spelling (``loc_type``, ``orginalunitretail``...);
* a field the model does not know (pydantic keeps it in ``_extra``).

Endpoints with nested objects or two-level actions (promotions, related items) always use
pydantic.

Two tiers of the fast path: a *typed* decoder first, whose values have exactly the client
type of their column (text columns strings, integers ints, numeric columns floats, times
strings), so COPY formats them with fixed dumpers (:class:`~retail_provider.warehouse.loader.TypedRows`,
twice as fast as a dumper chosen per value); a page it refuses (a number in a text column,
an integer in a numeric one, which a float would rescale) goes to the lenient decoder above.
The structures are not tracked by the garbage collector (scalars only), which saves a
quarter of the decoding time on big pages.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any, Literal, Union

import msgspec
from pydantic import AliasChoices

from retail_provider.ocds.catalog import OcdsEndpoint
from retail_provider.ocds.envelope import PageView, pydantic_decoder
from retail_provider.ocds.models import RelatedItem
from retail_provider.ocds.promotions import Promotion
from retail_provider.ocds.rows import to_rows
from retail_provider.warehouse.loader import TypedRows
from retail_provider.warehouse.schema import TableSpec, _json, _unwrap

_SCALAR = {
    "text": Union[str, int, float],
    "bigint": int,
    "numeric": Union[int, float, str],
    "timestamptz": str,
    "timestamp": str,
    "date": str,
    "boolean": bool,
}
# the typed tier: one client type per column type, and the psycopg type that formats it
_TYPED = {
    "text": (str, "text"),
    "bigint": (int, "int8"),
    "numeric": (Union[int, float], "float8"),  # an int is refused after decoding (see below)
    "timestamptz": (str, "text"),
    "timestamp": (str, "text"),
    "date": (str, "text"),
    "boolean": (bool, "bool"),
    "jsonb": (Union[list, dict], "text"),  # dumped to JSON text before COPY
}


def _alternate_spellings(model: Any) -> list[bytes]:
    out = []
    for name, info in model.model_fields.items():
        va = info.validation_alias
        if isinstance(va, AliasChoices):
            out += [f'"{c}"'.encode() for c in va.choices[1:] if isinstance(c, str) and c != name]
    return out


def _page_type(model: Any, spec: TableSpec, typed: bool = False) -> tuple[Any, list[int]] | None:
    """The msgspec structure of a page of ``model`` (one field per column, strict as the
    columns, or exactly typed with ``typed``) and the positions of its JSON columns; ``None``
    when a column needs pydantic."""
    fields: list[tuple[str, Any, Any]] = []
    rename: dict[str, str] = {}
    json_cols: list[int] = []
    for i, col in enumerate(spec.columns):
        if col.pg_type == "jsonb":
            # only JSON passed through unchanged: a plain list/dict (``vatcodes``)
            if len(_unwrap(model.model_fields[col.field].annotation)) != 1:
                return None
            json_cols.append(i + 1)
        typ: Any = _TYPED[col.pg_type][0] if typed or col.pg_type == "jsonb" else _SCALAR[col.pg_type]
        attr = f"f{i}"
        rename[attr] = col.name
        required = col.name in spec.key
        fields.append((attr, typ, msgspec.NODEFAULT) if required else (attr, typing.Optional[typ], None))
    actions = typing.get_args(model.model_fields["action"].annotation)
    tier = "Typed" if typed else "Fast"
    record = msgspec.defstruct(
        f"{tier}{model.__name__}",
        [("action", Literal[actions], msgspec.NODEFAULT), *fields],  # type: ignore[valid-type]
        rename=rename,
        kw_only=True,
        forbid_unknown_fields=True,
        gc=False,
    )
    link = msgspec.defstruct("Link", [("rel", str), ("href", str)], gc=False)
    page_type = msgspec.defstruct(
        f"{tier}{model.__name__}Page",
        [
            ("items", list[record]),  # type: ignore[valid-type]
            ("hasMore", bool),
            ("limit", typing.Optional[int], None),
            ("count", typing.Optional[int], None),
            ("links", list[link], []),  # type: ignore[valid-type]
        ],
    )
    return page_type, json_cols


def fast_decoder(endpoint: OcdsEndpoint, spec: TableSpec) -> Callable[[bytes], PageView[tuple]] | None:
    """A decoder yielding ``(action, *columns, extra)`` tuples, or ``None`` when the endpoint
    needs pydantic for every page."""
    model = endpoint.model
    if model in (Promotion, RelatedItem) or "action" not in model.model_fields:
        return None
    compiled, typed = _page_type(model, spec), _page_type(model, spec, typed=True)
    if compiled is None or typed is None:
        return None
    page_type, json_cols = compiled
    exact = msgspec.json.Decoder(typed[0])
    lenient = msgspec.json.Decoder(page_type, strict=False)
    naive_cols = [i + 1 for i, c in enumerate(spec.columns) if c.pg_type == "timestamp"]
    numeric_cols = [i + 1 for i, c in enumerate(spec.columns) if c.pg_type == "numeric"]
    pg_types = ["text", *(_TYPED[c.pg_type][1] for c in spec.columns), "text"]
    spellings = _alternate_spellings(model)
    slow = pydantic_decoder(model)
    astuple = msgspec.structs.astuple

    def via_pydantic(content: bytes) -> PageView[tuple]:
        page = slow(content)
        return PageView(list(to_rows(spec, page.records)), page.has_more, page.next_href, page.count, page.limit,
                        page.rejects)

    def decode(content: bytes) -> PageView[tuple]:
        if any(s in content for s in spellings):
            return via_pydantic(content)
        typed_page = True
        try:
            page = exact.decode(content)
        except msgspec.ValidationError:
            typed_page = False
            try:
                page = lenient.decode(content)
            except msgspec.ValidationError:
                return via_pydantic(content)  # pydantic coerces it or explains what is wrong
        rows = [(*astuple(r), None) for r in page.items]
        # local date-times must be naive (an offset would be ignored by a timestamp column)
        # (anything after the seconds but fractional digits is a zone: "Z", "+05:30", "-05:00")
        if naive_cols and any(v[19:].lstrip(".0123456789") for r in rows for i in naive_cols if (v := r[i])):
            return via_pydantic(content)
        if json_cols:
            rows = [tuple(_json(v) if i in json_cols else v for i, v in enumerate(r)) for r in rows]
        if typed_page and numeric_cols and any(type(r[i]) is int for r in rows for i in numeric_cols):
            typed_page = False  # 5 as a float would be stored as 5.0
        nxt = next((lk.href for lk in page.links if lk.rel == "next"), None)
        return PageView(TypedRows(rows, pg_types) if typed_page else rows, page.hasMore, nxt, page.count, page.limit)

    return decode

