"""What both vendors' hooks share: a connection read lazily plus one cached httpx client.

The client owns policy (auth, retries, error mapping); the transport owns I/O.  Tests
swap the transport or talk to the emulator; they never patch this code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any, ClassVar, TypeVar

import httpx
from airflow.sdk import BaseHook

from retail_provider.http.errors import (
    ApiError,
    InvalidResponseError,
    TransportError,
    error_from_response,
    safe_url,
)
from retail_provider.http.retry import RetryPolicy

T = TypeVar("T")
DEFAULT_TIMEOUT = 60.0
CONNECT_TIMEOUT = 10.0


class RetailHttpHook(BaseHook):
    """Base hook: ``self.connection`` is read on first use, ``get_client()`` is built once.

    :param conn_id: Airflow connection id.
    :param transport: optional httpx transport (tests, proxies); default is httpx's own.
    :param retry_policy: how failed idempotent requests are retried.
    :param timeout: read timeout in seconds; overrides the connection's ``timeout`` extra.
    """

    api: ClassVar[str] = ""

    def __init__(
        self,
        conn_id: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id or self.default_conn_name
        self._transport = transport
        self.retry_policy = retry_policy or RetryPolicy()
        self._timeout = timeout
        self._client: httpx.Client | None = None

    # -- connection ---------------------------------------------------------------------

    @cached_property
    def connection(self) -> Any:
        return self.get_connection(self.conn_id)

    @cached_property
    def extras(self) -> dict[str, Any]:
        return dict(self.connection.extra_dejson or {})

    def timeout(self) -> httpx.Timeout:
        read = self._timeout if self._timeout is not None else float(self.extras.get("timeout") or DEFAULT_TIMEOUT)
        return httpx.Timeout(read, connect=min(CONNECT_TIMEOUT, read))

    # -- client -------------------------------------------------------------------------

    def build_client(self) -> httpx.Client:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_client(self) -> httpx.Client:
        """The hook's one httpx client, built on first use and reused."""
        if self._client is None:
            self._client = self.build_client()
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -----------------------------------------------------------------------

    @contextmanager
    def _mapped_errors(self, method: str, url: str | httpx.URL) -> Iterator[None]:
        """httpx transport exceptions become :class:`TransportError` (no secrets, no chaining)."""
        try:
            yield
        except httpx.TimeoutException as exc:
            raise TransportError(
                f"{self.api} {method} {self._safe(url)} timed out ({type(exc).__name__})", api=self.api
            ) from None
        except httpx.TransportError as exc:
            raise TransportError(
                f"{self.api} {method} {self._safe(url)} failed: {type(exc).__name__}: {exc}", api=self.api
            ) from None

    def _send_once(self, method: str, url: str | httpx.URL, ok_statuses: tuple[int, ...] = (), **kwargs: Any) -> httpx.Response:
        """One attempt: a successful, fully read response or a typed error."""
        with self._mapped_errors(method, url):
            response = self.get_client().request(method, url, **kwargs)
        if response.is_success or response.status_code in ok_statuses:
            return response
        raise error_from_response(response, self.api)

    def _get_body(self, url: str | httpx.URL, **kwargs: Any) -> tuple[httpx.Response, bytearray]:
        """One GET attempt, its body read into one growing buffer.

        Joining a multi-megabyte body from 64 KiB chunks (what ``response.read()`` does)
        fragments the heap so much that a long paged sync's memory keeps growing; one
        buffer extended in place keeps it flat.
        """
        with self._mapped_errors("GET", url), self.get_client().stream("GET", url, **kwargs) as response:
            if not response.is_success:
                response.read()
                raise error_from_response(response, self.api)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
            return response, body

    def _safe(self, url: str | httpx.URL) -> str:
        return safe_url(self.get_client().build_request("GET", url).url)

    def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        idempotent: bool = True,
        ok_statuses: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request under the retry policy; return a successful, fully read response.

        :param idempotent: non-idempotent requests (POSTs that create things) are never retried.
        :param ok_statuses: non-2xx statuses the caller handles itself (for example 302).
        :raises ApiError: a typed error once retries are exhausted or not allowed.
        """
        return self.retry_policy.call(
            lambda: self._send_once(method, url, ok_statuses, **kwargs),
            idempotent=idempotent,
            what=f"{self.api} {method} {self._safe(url)}",
        )

    def get_decoded(self, url: str | httpx.URL, decode: Callable[[bytearray], T], **kwargs: Any) -> T:
        """GET and decode the body with ``decode``.

        An undecodable body (an HTML error page from a proxy, a cut-off JSON document) is
        retried like a transport error, since GETs are idempotent, and finally raised as
        :class:`InvalidResponseError`.
        """

        def attempt() -> T:
            response, body = self._get_body(url, **kwargs)
            try:
                return decode(body)
            except ApiError:
                raise
            except Exception as exc:
                raise InvalidResponseError(
                    f"{self.api} GET {safe_url(response.request.url)} returned a body that is not the "
                    f"documented JSON ({type(exc).__name__}: {str(exc)[:200]})",
                    api=self.api,
                    status_code=response.status_code,
                    url=safe_url(response.request.url),
                ) from None

        return self.retry_policy.call(
            attempt,
            what=f"{self.api} GET {self._safe(url)}",
            retry_on=lambda exc: RetryPolicy.is_retryable(exc) or isinstance(exc, InvalidResponseError),
        )


__all__ = ["RetailHttpHook", "ApiError"]
