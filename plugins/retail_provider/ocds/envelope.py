"""The OCDS v2 response envelope and the page decoders built on it.

Every list answer is ``{"items": [...], "hasMore": bool, "limit": n, "count": n, "links": [...]}``;
the next page is the link with ``rel`` ``next`` (see :class:`~retail_provider.http.paging.JsonLinkPaginator`).

An envelope that breaks this shape fails the page (a retried, undecodable body).  An item
that breaks its model (an unknown or missing ``action``, a missing key field, a value of
the wrong type) cannot be applied: it becomes a
:class:`Reject` of the page, with its raw JSON and the reason, and the other items go on.
``count`` is only reported: the reference's own examples show counts that disagree with
the items (the sync warns and records it in the ledger).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson
from pydantic import Field, ValidationError

from retail_provider.ocds.models import OcdsModel

RecordT = TypeVar("RecordT", bound=OcdsModel)
R = TypeVar("R")


class Link(OcdsModel):
    rel: str
    href: str


class Page(OcdsModel, Generic[RecordT]):
    """The v2 response envelope: ``items``, ``hasMore``, ``limit``, ``count``, ``links``."""

    items: list[RecordT]
    hasMore: bool
    limit: int | None = None
    count: int | None = None
    links: list[Link] = Field(default_factory=list)

    def link(self, rel: str) -> str | None:
        for link in self.links:
            if link.rel == rel:
                return link.href
        return None


@dataclass(frozen=True)
class Reject:
    """An item that cannot be applied: its raw JSON value and why."""

    record: Any
    reason: str


@dataclass
class PageView(Generic[R]):
    """One decoded page: its records, its rejected items and what the envelope says."""

    records: list[R]
    has_more: bool
    next_href: str | None
    count: int | None
    limit: int | None
    rejects: list[Reject] = field(default_factory=list)

    @property
    def items(self) -> int:
        """Items the page carried (records and rejects)."""
        return len(self.records) + len(self.rejects)


def reason(exc: ValidationError) -> str:
    """A short, one-line reason: ``action: Input should be 'INSERT', ... (got 'MERGE')``."""
    parts = []
    for error in exc.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "item"
        got = f" (got {error['input']!r:.60})" if error["type"] != "missing" else ""
        parts.append(f"{where}: {error['msg']}{got}")
    return "; ".join(parts)


def pydantic_decoder(model: type[OcdsModel]) -> Callable[[bytes], PageView[OcdsModel]]:
    """Decode a page into validated pydantic records of ``model``; items that fail their
    model become :class:`Reject` s (the whole page is validated at once first: the usual case)."""
    page_model = Page[model]  # type: ignore[valid-type]
    raw_page = Page[Any]

    def decode(content: bytes) -> PageView[OcdsModel]:
        try:
            page = page_model.model_validate_json(content)
        except ValidationError:
            page = raw_page.model_validate_json(content)  # the envelope itself must hold
        else:
            return PageView(page.items, page.hasMore, page.link("next"), page.count, page.limit)
        records, rejects = [], []
        for item in page.items:
            try:
                records.append(model.model_validate(item))
            except ValidationError as exc:
                rejects.append(Reject(item, reason(exc)))
        return PageView(records, page.hasMore, page.link("next"), page.count, page.limit, rejects)

    return decode


def raw_json(value: Any) -> str:
    """A rejected item as JSON text (for the rejects table)."""
    return orjson.dumps(value, default=str).decode()
