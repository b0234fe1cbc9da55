"""RetailNextHook: the RetailNext REST API (v1 and v2).

Connection type ``retailnext``:

* host: the subscription name (``acme`` gives ``https://acme.api.retailnext.net``) or a
  full base URL (``http://127.0.0.1:8765`` for the emulator); an extra ``base_url`` wins;
* login / password: the API token's access key and secret key (HTTP Basic);
* extras ``timeout`` (read timeout, seconds), ``max_concurrency`` (default 3),
  ``allow_insecure_http`` (plain HTTP to a named host, e.g. the emulator in docker compose),
  ``ca_bundle`` (a PEM file of certificate authorities to verify the server with, e.g. a
  private CA or the emulator's generated certificate; default: the system's) and
  ``calendar`` / ``week_start`` (the subscription's calendar setting, see
  :mod:`retail_provider.retailnext.datamine.calendar`).

HTTPS is required except for loopback hosts.  The client caps concurrent requests per
subscription (RetailNext answers 429 beyond 3 concurrent predicted-traffic or camera
requests); pair it with an Airflow pool so tasks on other workers respect it too.

Lists are paged by :mod:`retail_provider.http.paging`: v1 integer offsets
(``X-Page-Length`` / ``X-Page-Start`` in, ``206`` + ``X-Page-Next`` out, ``200`` on the last
page) and the inventory endpoints' string cursor (``next_page``, ``"end"`` when done).
Read POSTs (datamine, location queries, store hours...) are idempotent: they are retried,
undecodable answers included; POSTs that create something are never retried.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, ClassVar

import httpx
import orjson

from retail_provider.http.errors import ApiError, InputValidationError, InvalidResponseError
from retail_provider.http.paging import CursorPaginator, HeaderOffsetPaginator, PageRequest
from retail_provider.orchestration.hook import RetailHttpHook, mask_secret
from retail_provider.retailnext import models as m
from retail_provider.retailnext.reads import RetailNextReadsMixin, naming
from retail_provider.retailnext.video.hook import RetailNextVideoMixin
from retail_provider.retailnext.writes.hook import RetailNextAdminMixin

RETAILNEXT_CONN_ID = "retailnext_default"
DEFAULT_CONCURRENCY = 3
INVENTORY_KINDS = {"cameras": "cameras", "channels": "channels", "appliances": "store_appliances"}


def json_body(content: bytearray) -> Any:
    """A JSON body (``None`` for an empty one)."""
    return orjson.loads(content) if content else None


class RetailNextHook(RetailNextReadsMixin, RetailNextVideoMixin, RetailNextAdminMixin, RetailHttpHook):
    """Talk to the RetailNext API.

    :param retailnext_conn_id: connection id of type ``retailnext``.
    """

    conn_name_attr = "retailnext_conn_id"
    default_conn_name = RETAILNEXT_CONN_ID
    conn_type = "retailnext"
    hook_name = "RetailNext"

    _slots: ClassVar[dict[str, threading.BoundedSemaphore]] = {}
    _slots_lock: ClassVar[threading.Lock] = threading.Lock()


    # -- client -------------------------------------------------------------------------

    def resolve_base_url(self) -> str:
        conn = self.connection
        raw = str(self.extras.get("base_url") or conn.host or "").strip().rstrip("/")
        if not raw:
            raise InputValidationError(f"connection {self.conn_id!r}: host (subscription name) is required",
                                       api=self.api)
        if "://" not in raw:
            raw = f"https://{raw}" if ("." in raw or ":" in raw) else f"https://{raw}.api.retailnext.net"
        url = httpx.URL(raw)
        if conn.port and not url.port and "://" not in str(conn.host or "") and "." in str(conn.host or ""):
            url = url.copy_with(port=conn.port)
        return str(url)

    def auth(self) -> httpx.Auth:
        conn = self.connection
        if not conn.login or not conn.password:
            raise InputValidationError(
                f"connection {self.conn_id!r}: the access key (login) and secret key (password) are required",
                api=self.api)
        mask_secret(conn.login)  # the access key is half of the credential: keep it out of task logs too
        return httpx.BasicAuth(conn.login, conn.password)

    def verify(self) -> ssl.SSLContext | bool:
        """How the server's certificate is verified: the extra ``ca_bundle``, else the system's CAs."""
        bundle = str(self.extras.get("ca_bundle") or "").strip()
        if not bundle:
            return True
        try:
            return ssl.create_default_context(cafile=bundle)
        except (OSError, ssl.SSLError) as exc:
            raise InputValidationError(f"connection {self.conn_id!r}: extra ca_bundle {bundle!r} is not a readable "
                                       f"PEM file of certificates ({exc})", api=self.api) from None

    def transport(self) -> httpx.BaseTransport | None:
        """With the extra ``ca_bundle``: a transport that verifies the server with those CAs."""
        if self._transport is None and self.extras.get("ca_bundle"):
            return httpx.HTTPTransport(verify=self.verify())
        return self._transport

    def calendar(self) -> Any:
        """The subscription's calendar (extras ``calendar``, ``week_start``): how datamine
        reads years, months and weeks (see :mod:`retail_provider.retailnext.datamine.calendar`)."""
        from retail_provider.retailnext.datamine.calendar import calendar_from_extras

        return calendar_from_extras(self.extras, self.conn_id)

    def max_concurrency(self) -> int:
        try:
            return max(1, int(self.extras.get("max_concurrency") or DEFAULT_CONCURRENCY))
        except (TypeError, ValueError):
            return DEFAULT_CONCURRENCY

    def attempt_slot(self) -> AbstractContextManager[Any]:
        """One slot of the subscription's cap per attempt: a retry's backoff holds none."""
        key = self.base_url()
        with self._slots_lock:
            if key not in self._slots:
                self._slots[key] = threading.BoundedSemaphore(self.max_concurrency())
            return self._slots[key]

    # -- generic calls ------------------------------------------------------------------

    def call_json(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None, idempotent: bool = True) -> tuple[httpx.Response, Any]:
        """One JSON call; returns the response and its decoded body.

        Read POSTs (datamine, location queries) are idempotent: retried, undecodable bodies
        included.  Pass ``idempotent=False`` for calls that create something.
        """
        body = orjson.dumps(json) if json is not None else None
        hdrs = {"Content-Type": "application/json", **(headers or {})} if body is not None else (headers or {})
        return self.session.fetch(method, path, decode=json_body, content=body, params=params, headers=hdrs,
                                  idempotent=idempotent)

    def iter_v1_pages(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                      page_length: int = m.V1_PAGE_LENGTH) -> Iterator[Any]:
        """Yield the body of every page of a v1 list: 206 + ``X-Page-Next`` means more, 200 is the last."""
        check_page_length(page_length)
        body = orjson.dumps(json) if json is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        paginator = HeaderOffsetPaginator(f"retailnext {path}", self.api, page_length)
        return self.session.pages(PageRequest(path, params, headers), paginator, method=method, decode=json_body,
                                  content=body)

    def iter_v1(self, method: str, path: str, key: str | None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Entries of a paged v1 list: ``body[key]`` per page (``key=None``: the body is the list)."""
        for body in self.iter_v1_pages(method, path, **kwargs):
            entries = body if key is None else (body or {}).get(key)
            if not isinstance(entries, list):
                raise InvalidResponseError(f"retailnext {path}: expected a list under {key!r}", api=self.api)
            yield from entries

    def iter_inventory(self, kind: str, *, store_uuid: str | None = None,
                       page_length: int = m.V1_PAGE_LENGTH) -> Iterator[list[dict[str, Any]]]:
        """Pages of ``v1/inventory/<kind>`` following the string ``next_page`` cursor to ``"end"``."""
        if kind not in INVENTORY_KINDS:
            raise InputValidationError(f"inventory kind must be one of {', '.join(INVENTORY_KINDS)} (got {kind!r})",
                                       api=self.api)
        check_page_length(page_length)
        path = f"v1/inventory/{kind}"

        def decode(content: bytearray) -> tuple[m.InventoryPage, list[dict[str, Any]]]:
            body = json_body(content)
            page = m.InventoryPage.model_validate(body)
            if not page.ok:
                raise ApiError(f"retailnext inventory/{kind} answered ok=false: {page.error}", api=self.api)
            return page, list((body or {}).get(INVENTORY_KINDS[kind]) or [])

        paginator = CursorPaginator(f"retailnext {path}", self.api, page_length, lambda p: p[0].next_page)
        params = {"store_uuid": store_uuid} if store_uuid else None
        with naming("store_uuid", store_uuid):
            for _, entries in self.session.pages(PageRequest(path, params), paginator, decode=decode):
                yield entries

    def test_connection(self) -> tuple[bool, str]:
        """List one location: the UI's Test button."""
        try:
            next(iter(self.iter_v1_pages("GET", "v1/location", page_length=1)))
        except (ApiError, httpx.HTTPError) as exc:
            return False, str(exc)
        finally:
            self.close()
        return True, f"Connected to RetailNext at {self.base_url()}"


def check_page_length(page_length: int) -> None:
    if not 1 <= page_length <= m.V1_PAGE_LENGTH:
        raise InputValidationError(f"page_length must be from 1 to {m.V1_PAGE_LENGTH} (got {page_length})",
                                   api="retailnext")
