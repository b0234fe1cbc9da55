"""OcdsHook: the Oracle Retail Omnichannel Cloud Data Service (OCDS) v2 REST API.

Connection type ``ocds``: host, port, login and password, with extras

* ``protocol``: ``https`` (default) or ``http``; a scheme in the host field also works;
* ``base_path``: default ``/ords/ocds/omnichannel``;
* ``auth_type``: ``basic`` (default) or ``oauth2`` (client credentials: login is the
  client id, password the client secret);
* ``token_path``: default ``/ords/ocds/oauth/token``;
* ``timeout``: read timeout per request in seconds (default 60).

Paging follows the server's ``links[rel=next]`` verbatim and stops on ``hasMore=false``;
pages are yielded one by one, so memory is bounded by the page size.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import httpx

from retail_provider import __version__
from retail_provider.http.errors import (
    ApiError,
    AuthenticationError,
    InputValidationError,
    InvalidResponseError,
    TransportError,
    error_from_response,
    safe_url,
)
from retail_provider.ocds.catalog import OcdsEndpoint, get_endpoint
from retail_provider.ocds.models import OcdsModel, Page
from retail_provider.orchestration.hook import RetailHttpHook
from retail_provider.timeutil import format_ocds, parse_aware

DEFAULT_BASE_PATH = "/ords/ocds/omnichannel"
DEFAULT_TOKEN_PATH = "/ords/ocds/oauth/token"
MAX_LIMIT = 10_000

R = TypeVar("R")


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


class ClientCredentialsAuth(httpx.Auth):
    """OAuth2 client credentials: fetch a bearer token, reuse it, refresh it once on 401."""

    requires_response_body = True

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        self.token_url = token_url
        self._basic = httpx.BasicAuth(client_id, client_secret)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def _token_request(self) -> httpx.Request:
        request = httpx.Request(
            "POST",
            self.token_url,
            data={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
        )
        return next(self._basic.auth_flow(request))

    def _store(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise AuthenticationError(
                f"ocds OAuth2 token request to {safe_url(self.token_url)} answered HTTP "
                f"{response.status_code}: the client id or secret was refused",
                api="ocds",
                status_code=response.status_code,
                url=safe_url(self.token_url),
            )
        try:
            body = response.json()
            self._token = str(body["access_token"])
        except (ValueError, KeyError, TypeError):
            raise InvalidResponseError(
                f"ocds OAuth2 token endpoint {safe_url(self.token_url)} returned no access_token", api="ocds"
            ) from None
        ttl = float(body.get("expires_in") or 3600)
        self._expires_at = time.monotonic() + max(0.0, ttl - 30)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or time.monotonic() >= self._expires_at:
            self._store((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            self._store((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request


class OcdsHook(RetailHttpHook):
    """Talk to the OCDS v2 REST API.

    :param ocds_conn_id: connection id of type ``ocds``.
    """

    conn_name_attr = "ocds_conn_id"
    default_conn_name = "ocds_default"
    conn_type = "ocds"
    hook_name = "Oracle Retail OCDS"
    api = "ocds"

    def __init__(self, ocds_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(ocds_conn_id, **kwargs)
        self.ocds_conn_id = ocds_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema"],
            "relabeling": {"login": "User or OAuth client id", "password": "Password or client secret"},
            "placeholders": {"host": "ocds.example.com", "port": "443"},
        }

    # -- client -------------------------------------------------------------------------

    def origin(self) -> str:
        conn = self.connection
        host = (conn.host or "").strip()
        if not host:
            raise InputValidationError(f"connection {self.conn_id!r}: host is required", api="ocds")
        protocol = str(self.extras.get("protocol") or "https").lower()
        if "://" in host:
            protocol, host = host.split("://", 1)
        host = host.rstrip("/")
        if protocol not in ("http", "https"):
            raise InputValidationError(
                f"connection {self.conn_id!r}: protocol must be http or https (got {protocol!r})", api="ocds"
            )
        port = f":{conn.port}" if conn.port else ""
        return f"{protocol}://{host}{port}"

    def base_url(self) -> str:
        base_path = "/" + str(self.extras.get("base_path") or DEFAULT_BASE_PATH).strip("/")
        return f"{self.origin()}{base_path}/"

    def build_client(self) -> httpx.Client:
        conn = self.connection
        auth_type = str(self.extras.get("auth_type") or "basic").lower()
        if auth_type == "basic":
            auth: httpx.Auth = httpx.BasicAuth(conn.login or "", conn.password or "")
        elif auth_type == "oauth2":
            token_path = "/" + str(self.extras.get("token_path") or DEFAULT_TOKEN_PATH).strip("/")
            auth = ClientCredentialsAuth(f"{self.origin()}{token_path}", conn.login or "", conn.password or "")
        else:
            raise InputValidationError(
                f"connection {self.conn_id!r}: auth_type must be 'basic' or 'oauth2' (got {auth_type!r})",
                api="ocds",
            )
        return httpx.Client(
            base_url=self.base_url(),
            auth=auth,
            timeout=self.timeout(),
            transport=self._transport,
            headers={"Accept": "application/json", "User-Agent": f"airflow-provider-retail/{__version__}"},
            follow_redirects=False,
        )

    # -- requests -----------------------------------------------------------------------

    def build_params(
        self,
        endpoint: OcdsEndpoint,
        *,
        since: datetime | str | None = None,
        before: datetime | str | None = None,
        filters: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> dict[str, str]:
        """Validate and build the query of a first page; raises before anything is sent."""
        params: dict[str, str] = dict(endpoint.validate_filters(filters))
        if not endpoint.windowed and (since is not None or before is not None):
            raise InputValidationError(
                f"OCDS endpoint {endpoint.name!r} returns current state and takes no since/before", api="ocds"
            )
        try:
            since_dt = parse_aware(since, name="since") if since is not None else None
            before_dt = parse_aware(before, name="before") if before is not None else None
        except ValueError as exc:
            raise InputValidationError(str(exc), api="ocds") from None
        if since_dt is not None and before_dt is not None and since_dt >= before_dt:
            raise InputValidationError(
                f"since must be earlier than before (since={since_dt.isoformat()}, before={before_dt.isoformat()})",
                api="ocds",
            )
        if since_dt is not None:
            params["since"] = format_ocds(since_dt)
        if before_dt is not None:
            params["before"] = format_ocds(before_dt)
        if limit is not None:
            if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
                raise InputValidationError(f"limit must be an integer from 1 to {MAX_LIMIT} (got {limit!r})", api="ocds")
            params["limit"] = str(limit)
        return params

    def iter_pages(
        self,
        endpoint: str | OcdsEndpoint,
        *,
        since: datetime | str | None = None,
        before: datetime | str | None = None,
        filters: dict[str, Any] | None = None,
        limit: int | None = None,
        decode: Callable[[bytes], PageView[Any]] | None = None,
        prefetch: int = 0,
    ) -> Iterator[PageView[Any]]:
        """Yield the endpoint's pages one by one, following ``links[rel=next]`` verbatim.

        :param endpoint: catalog name (``item_price``) or path (``item/price``).
        :param since: start of the change window (inclusive), aware.
        :param before: end of the change window (exclusive), aware.
        :param filters: ``nodelevel``/``nodeid``, ``pricetype``, ``severity``, ``entitytype``.
        :param limit: page size (1 to 10,000; server default when omitted).
        :param decode: page decoder; default validates items with the endpoint's pydantic model.
        :param prefetch: fetch and decode up to this many pages ahead in a background thread,
            so the network and the consumer (e.g. a warehouse load) overlap.
        :raises InputValidationError: before any request when a parameter breaks a rule.
        """
        ep = endpoint if isinstance(endpoint, OcdsEndpoint) else get_endpoint(endpoint)
        params = self.build_params(ep, since=since, before=before, filters=filters, limit=limit)
        pages = self._pages(ep, params, decode or pydantic_decoder(ep.model))
        return read_ahead(pages, prefetch) if prefetch > 0 else pages

    def _pages(
        self, ep: OcdsEndpoint, params: dict[str, str] | None, decode: Callable[[bytes], PageView[Any]]
    ) -> Iterator[PageView[Any]]:
        url: str | httpx.URL = f"v2/{ep.path}"
        origin = httpx.URL(self.base_url())
        seen: set[str] = set()
        page_no = 0
        while True:
            page_no += 1
            page = self.get_decoded(url, decode, params=params)
            if page.count is not None and page.count != len(page.records):
                raise InvalidResponseError(
                    f"ocds v2/{ep.path} page {page_no}: count={page.count} but {len(page.records)} items",
                    api="ocds",
                )
            self.log.debug("ocds v2/%s page %d: %d records, hasMore=%s", ep.path, page_no, len(page.records), page.has_more)
            yield page
            if not page.has_more:
                return
            href = page.next_href
            if not href:
                raise InvalidResponseError(
                    f"ocds v2/{ep.path} page {page_no} says hasMore=true but has no next link", api="ocds"
                )
            nxt = httpx.URL(href)
            if nxt.is_absolute_url and (nxt.scheme, nxt.host, nxt.port) != (origin.scheme, origin.host, origin.port):
                raise InvalidResponseError(
                    f"ocds v2/{ep.path}: next link points to another origin ({safe_url(nxt)}); refusing to send "
                    "credentials there",
                    api="ocds",
                )
            if href in seen:
                raise InvalidResponseError(
                    f"ocds v2/{ep.path}: next link repeats an earlier page; stopping to avoid an endless loop",
                    api="ocds",
                )
            seen.add(href)
            url, params = nxt, None

    def iter_records(self, endpoint: str | OcdsEndpoint, **kwargs: Any) -> Iterator[Any]:
        """Yield validated records of every page (see :meth:`iter_pages`)."""
        for page in self.iter_pages(endpoint, **kwargs):
            yield from page.records

    def get_version(self) -> list[dict[str, Any]]:
        return [r.model_dump() for r in self.iter_records("admin_version")]

    def get_refresh_dates(self, entitytype: str | None = None) -> dict[str, datetime]:
        """``v2/refreshdate`` as ``{entity (lower case): refresh date}``."""
        filters = {"entitytype": entitytype} if entitytype else None
        return {r.entity.lower(): r.refreshdate for r in self.iter_records("refreshdate", filters=filters)}

    def test_connection(self) -> tuple[bool, str]:
        """Call ``v2/admin/version``: the UI's Test button."""
        try:
            versions = self.get_version()
        except (ApiError, httpx.HTTPError) as exc:
            return False, str(exc)
        finally:
            self.close()
        if not versions:
            return True, "Connected to OCDS (no version reported)"
        return True, f"Connected to OCDS version {versions[-1].get('version')}"


def read_ahead(source: Iterator[R], depth: int) -> Iterator[R]:
    """Run ``source`` in a background thread, ``depth`` items ahead of the consumer.

    Errors of the source are raised in the consumer; closing the consumer stops the thread.
    """
    import queue

    buffer: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        buffer.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(("end", None))
        except BaseException as exc:  # handed to the consumer
            buffer.put(("error", exc))

    thread = threading.Thread(target=produce, name="ocds-read-ahead", daemon=True)
    thread.start()

    def consume() -> Iterator[R]:
        try:
            while True:
                kind, value = buffer.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            stop.set()
            thread.join(timeout=30)

    return consume()


__all__ = [
    "OcdsHook",
    "PageView",
    "pydantic_decoder",
    "ClientCredentialsAuth",
    "TransportError",
    "error_from_response",
]
