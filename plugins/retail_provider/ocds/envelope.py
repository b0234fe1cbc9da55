"""The OCDS v2 response envelope and the page decoders built on it.

Every list answer is ``{"items": [...], "hasMore": bool, "limit": n, "count": n, "links": [...]}``;
the next page is the link with ``rel`` ``next`` (see :class:`~retail_provider.http.paging.JsonLinkPaginator`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import Field

from retail_provider.http.errors import InvalidResponseError
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


@dataclass
class PageView(Generic[R]):
    """One decoded page: its records and what the envelope says about the next one."""

    records: list[R]
    has_more: bool
    next_href: str | None
    count: int | None
    limit: int | None


def pydantic_decoder(model: type[OcdsModel]) -> Callable[[bytes], PageView[OcdsModel]]:
    """Decode a page into validated pydantic records of ``model``."""
    page_model = Page[model]  # type: ignore[valid-type]

    def decode(content: bytes) -> PageView[OcdsModel]:
        page = page_model.model_validate_json(content)
        return PageView(page.items, page.hasMore, page.link("next"), page.count, page.limit)

    return decode


def counted(decode: Callable[[bytes], PageView[Any]], what: str) -> Callable[[bytes], PageView[Any]]:
    """``decode``, then check the envelope's ``count`` against the items."""

    def check(content: bytes) -> PageView[Any]:
        page = decode(content)
        if page.count is not None and page.count != len(page.records):
            raise InvalidResponseError(f"ocds {what}: count={page.count} but {len(page.records)} items", api="ocds")
        return page

    return check
