"""OCDS records as warehouse rows ``(action, *columns, extra)``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from retail_provider.ocds.models import OcdsModel, RelatedItem
from retail_provider.warehouse.schema import TableSpec, model_rows


def record_action(record: OcdsModel) -> str:
    """The change a record asks for.

    A missing action (promotions, rows of current-state endpoints) is an upsert.  Related
    items carry two levels of action: the pair is deleted when either says DELETE.
    """
    action = getattr(record, "action", None) or "UPSERT"
    if isinstance(record, RelatedItem) and record.relateditemaction == "DELETE":
        return "DELETE"
    return action


def to_rows(spec: TableSpec, records: Iterable[OcdsModel]) -> Iterator[tuple[Any, ...]]:
    """``(action, *columns, extra)`` per record, in the spec's column order."""
    return model_rows(spec, records, record_action)
