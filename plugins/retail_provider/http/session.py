"""ApiSession: every request of one API goes through here, under one policy.

One client (built on first use), the retry policy around each whole attempt (send, read the
body, decode it), typed errors built from the response, and an optional per-attempt slot
(RetailNext caps concurrent requests per subscription).  Decoding happens *inside* the
attempt, so an undecodable ``200`` (a proxy's HTML page, a cut-off JSON document) of an
idempotent request is retried like a dropped connection.  No Airflow import: hooks wrap it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

import httpx

from retail_provider.http.errors import (
    ApiError,
    TransportError,
    UndecodableBodyError,
    error_from_response,
    safe_url,
)
from retail_provider.http.paging import PageRequest, Paginator, paginate
from retail_provider.http.retry import RetryPolicy

T = TypeVar("T")


class ApiSession:
    """Send requests to one API.

    :param api: ``"ocds"`` or ``"retailnext"``: named in every error.
    :param client_factory: builds the ``httpx.Client`` on first use.
    :param retry_policy: what is retried and how long to wait.
    :param attempt_slot: a context manager held during each attempt (not during backoff).
    """

    def __init__(self, api: str, client_factory: Callable[[], httpx.Client], retry_policy: RetryPolicy,
                 attempt_slot: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
        self.api = api
        self._factory = client_factory
        self.retry_policy = retry_policy
        self._slot = attempt_slot or contextlib.nullcontext
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = self._factory()
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- one logical request ------------------------------------------------------------

    def fetch(self, method: str, url: str | httpx.URL, *, decode: Callable[[bytearray], T] | None = None,
              idempotent: bool = True, ok_statuses: tuple[int, ...] = (), **kwargs: Any) -> tuple[httpx.Response, Any]:
        """Send one request under the retry policy; return the response and its decoded body.

        :param decode: turns the body into a value; when it fails the attempt failed
            (:class:`UndecodableBodyError`). ``None``: the body is read but not decoded.
        :param idempotent: non-idempotent requests (POSTs that create things) are never retried.
        :param ok_statuses: non-2xx statuses the caller handles itself (e.g. 302, 404).
        :raises ApiError: a typed error once retries are exhausted or not allowed.
        """
        what = f"{self.api} {method} {self.safe(url)}"
        return self.retry_policy.call(lambda: self._attempt(method, url, decode, ok_statuses, kwargs),
                                      idempotent=idempotent, what=what)

    def request(self, method: str, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        """:meth:`fetch` without decoding: a successful (or ``ok_statuses``), fully read response."""
        return self.fetch(method, url, **kwargs)[0]

    def pages(self, first: PageRequest, paginator: Paginator, *, method: str = "GET",
              decode: Callable[[bytearray], Any], **kwargs: Any) -> Iterator[Any]:
        """Decoded pages, one request each, following ``paginator`` (see :mod:`.paging`)."""

        def fetch(request: PageRequest) -> tuple[httpx.Response, Any]:
            return self.fetch(method, request.url, decode=decode, params=request.params,
                              headers=request.headers or None, **kwargs)

        return paginate(fetch, first, paginator)

    def safe(self, url: str | httpx.URL) -> str:
        """The absolute URL without query string or credentials (for messages)."""
        return safe_url(self.client.build_request("GET", url).url)

    # -- one attempt --------------------------------------------------------------------

    def _attempt(self, method: str, url: str | httpx.URL, decode: Callable[[bytearray], T] | None,
                 ok_statuses: tuple[int, ...], kwargs: dict[str, Any]) -> tuple[httpx.Response, Any]:
        with self._slot(), self._transport_errors(method, url):
            if decode is None:
                response = self.client.request(method, url, **kwargs)
                body = None
            else:
                response, body = self._stream(method, url, ok_statuses, kwargs)
        if not (response.is_success or response.status_code in ok_statuses):
            raise error_from_response(response, self.api)
        if decode is None or body is None:
            return response, None
        try:
            return response, decode(body)
        except ApiError:
            raise
        except Exception as exc:
            raise UndecodableBodyError(
                f"{self.api} {method} {safe_url(response.request.url)} returned a body that is not the "
                f"documented JSON ({type(exc).__name__}: {str(exc)[:200]})",
                api=self.api, status_code=response.status_code, url=safe_url(response.request.url),
            ) from None

    def _stream(self, method: str, url: str | httpx.URL, ok_statuses: tuple[int, ...],
                kwargs: dict[str, Any]) -> tuple[httpx.Response, bytearray | None]:
        """Read the body into one growing buffer.

        Joining a multi-megabyte body from 64 KiB chunks (what ``response.read()`` does)
        fragments the heap so much that a long paged sync's memory keeps growing; one buffer
        extended in place keeps it flat.
        """
        with self.client.stream(method, url, **kwargs) as response:
            if not response.is_success:
                response.read()
                return response, None
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
            return response, body

    @contextmanager
    def _transport_errors(self, method: str, url: str | httpx.URL) -> Iterator[None]:
        """httpx transport exceptions become :class:`TransportError` (no secrets, no chaining)."""
        try:
            yield
        except httpx.TimeoutException as exc:
            raise TransportError(f"{self.api} {method} {self.safe(url)} timed out ({type(exc).__name__})",
                                 api=self.api) from None
        except httpx.TransportError as exc:
            raise TransportError(f"{self.api} {method} {self.safe(url)} failed: {type(exc).__name__}: {exc}",
                                 api=self.api) from None
