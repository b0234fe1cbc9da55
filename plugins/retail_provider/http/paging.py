"""Paging styles as small strategy objects, driven by one loop (:func:`paginate`).

Each paginator reads where the next page is from a response (``update_state``) and points
the next request there (``update_request``); each guards against a server that sends the
same page again (an endless loop) and against answers that say "more" without saying where.

* :class:`JsonLinkPaginator`: OCDS ``{"hasMore": true, "links": [{"rel": "next", "href": ...}]}``,
  followed verbatim, on the same origin only (credentials would follow it);
* :class:`HeaderOffsetPaginator`: RetailNext v1 lists, ``X-Page-Length``/``X-Page-Start`` in,
  ``206`` with ``X-Page-Next`` out, ``200`` on the last page;
* :class:`CursorPaginator`: RetailNext inventory, a string ``next_page`` cursor in the body
  until ``"end"``, sent back as ``X-Page-Start``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from retail_provider.http.errors import InvalidResponseError, safe_url


@dataclass(frozen=True)
class PageRequest:
    """Where to ask for a page: URL, query parameters and headers."""

    url: str | httpx.URL
    params: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Paginator:
    """Base: ``has_next_page`` plus a loop guard over the tokens seen so far.

    :param what: the list being paged, for error messages (``ocds v2/item``).
    :param api: the vendor.
    """

    def __init__(self, what: str, api: str) -> None:
        self.what = what
        self.api = api
        self.has_next_page = True
        self.pages = 0
        self._seen: set[str] = set()

    def init_request(self, request: PageRequest) -> PageRequest:
        return request

    def update_state(self, response: httpx.Response, page: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def update_request(self, request: PageRequest) -> PageRequest:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fail(self, message: str) -> InvalidResponseError:
        return InvalidResponseError(f"{self.what} page {self.pages}: {message}", api=self.api)

    def _remember(self, token: str, name: str) -> None:
        if token in self._seen:
            raise self._fail(f"{name} repeats an earlier page; stopping to avoid an endless loop")
        self._seen.add(token)


class JsonLinkPaginator(Paginator):
    """Follow ``links[rel=next]`` verbatim while the page says ``hasMore``.

    Expects pages with ``has_more`` and ``next_href`` attributes (the decoded envelope)::

        {"items": [...], "hasMore": true, "links": [{"rel": "next", "href": "https://.../v2/item?offsetkey=..."}]}

    :param origin: the API's origin; a next link elsewhere is refused.
    """

    def __init__(self, what: str, api: str, origin: httpx.URL) -> None:
        super().__init__(what, api)
        self.origin = origin
        self._next: httpx.URL | None = None

    def update_state(self, response: httpx.Response, page: Any) -> None:
        self.pages += 1
        self.has_next_page = bool(page.has_more)
        if not self.has_next_page:
            return
        href = page.next_href
        if not href:
            raise self._fail("says hasMore=true but has no next link")
        nxt = httpx.URL(href)
        if nxt.is_absolute_url and (nxt.scheme, nxt.host, nxt.port) != (
                self.origin.scheme, self.origin.host, self.origin.port):
            raise self._fail(f"the next link points to another origin ({safe_url(nxt)}); refusing to send "
                             "credentials there")
        self._remember(href, "the next link")
        self._next = nxt

    def update_request(self, request: PageRequest) -> PageRequest:
        assert self._next is not None
        return replace(request, url=self._next, params=None)


class HeaderOffsetPaginator(Paginator):
    """RetailNext v1: ``206 Partial Content`` with ``X-Page-Next`` means more; ``200`` is the last page.

    :param page_length: entries per page, sent as ``X-Page-Length``.
    """

    def __init__(self, what: str, api: str, page_length: int) -> None:
        super().__init__(what, api)
        self.page_length = page_length
        self._next: str | None = None

    def init_request(self, request: PageRequest) -> PageRequest:
        return replace(request, headers={**request.headers, "X-Page-Length": str(self.page_length)})

    def update_state(self, response: httpx.Response, page: Any) -> None:
        self.pages += 1
        self.has_next_page = response.status_code == 206
        if not self.has_next_page:
            return
        nxt = response.headers.get("X-Page-Next")
        if not nxt:
            raise self._fail("HTTP 206 without X-Page-Next")
        self._remember(nxt, f"X-Page-Next {nxt}")
        self._next = nxt

    def update_request(self, request: PageRequest) -> PageRequest:
        assert self._next is not None
        return replace(request, headers={**request.headers, "X-Page-Start": self._next})


class CursorPaginator(HeaderOffsetPaginator):
    """RetailNext inventory: ``{"next_page": "<cursor>"}`` in the body until ``"end"`` (or none).

    :param cursor: reads the cursor from a decoded page.
    """

    END = "end"

    def __init__(self, what: str, api: str, page_length: int, cursor: Callable[[Any], str | None]) -> None:
        super().__init__(what, api, page_length)
        self._cursor = cursor

    def update_state(self, response: httpx.Response, page: Any) -> None:
        self.pages += 1
        nxt = self._cursor(page)
        self.has_next_page = bool(nxt) and nxt != self.END
        if self.has_next_page:
            self._remember(str(nxt), f"cursor {nxt}")
            self._next = str(nxt)


def paginate(fetch: Callable[[PageRequest], tuple[httpx.Response, Any]], first: PageRequest,
             paginator: Paginator) -> Iterator[Any]:
    """Yield every decoded page: fetch, let the paginator read the response, go on while it says so."""
    request = paginator.init_request(first)
    while True:
        response, page = fetch(request)
        paginator.update_state(response, page)
        yield page
        if not paginator.has_next_page:
            return
        request = paginator.update_request(request)
