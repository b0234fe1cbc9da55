"""OcdsHook: the Oracle Retail Omnichannel Cloud Data Service (OCDS) v2 REST API.

Connection type ``ocds``: host, port, login and password, with extras

* ``protocol``: ``https`` (default) or ``http``; a scheme in the host field also works;
  plain http only to a loopback host or with ``allow_insecure_http``;
* ``base_path``: default ``/ords/ocds/omnichannel``;
* ``auth_type``: ``basic`` (default) or ``oauth2`` (client credentials: login is the
  client id, password the client secret);
* ``token_path``: default ``/ords/ocds/oauth/token``;
* ``timeout``: read timeout per request in seconds (default 60).

Paging follows the server's ``links[rel=next]`` verbatim and stops on ``hasMore=false``;
pages are yielded one by one, so memory is bounded by the page size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx

from retail_provider.http.errors import ApiError, InputValidationError
from retail_provider.http.paging import JsonLinkPaginator, PageRequest
from retail_provider.http.readahead import read_ahead
from retail_provider.ocds.auth import ClientCredentialsAuth
from retail_provider.ocds.catalog import MAX_LIMIT, OcdsEndpoint, get_endpoint
from retail_provider.ocds.envelope import PageView, pydantic_decoder
from retail_provider.orchestration.hook import RetailHttpHook
from retail_provider.timeutil import format_ocds, parse_aware

DEFAULT_BASE_PATH = "/ords/ocds/omnichannel"
DEFAULT_TOKEN_PATH = "/ords/ocds/oauth/token"
OCDS_CONN_ID = "ocds_default"

class OcdsHook(RetailHttpHook):
    """Talk to the OCDS v2 REST API.

    :param ocds_conn_id: connection id of type ``ocds``.
    """

    conn_name_attr = "ocds_conn_id"
    default_conn_name = OCDS_CONN_ID
    conn_type = "ocds"
    hook_name = "Oracle Retail OCDS"

    # -- client -------------------------------------------------------------------------

    def origin(self) -> str:
        conn = self.connection
        host = (conn.host or "").strip()
        if not host:
            raise InputValidationError(f"connection {self.conn_id!r}: host is required", api="ocds")
        protocol = str(self.extras.get("protocol") or "https").lower()
        if "://" in host:
            protocol, host = host.split("://", 1)
        port = f":{conn.port}" if conn.port else ""
        return f"{protocol}://{host.rstrip('/')}{port}"

    def resolve_base_url(self) -> str:
        base_path = "/" + str(self.extras.get("base_path") or DEFAULT_BASE_PATH).strip("/")
        return f"{self.origin()}{base_path}/"

    def auth(self) -> httpx.Auth:
        conn = self.connection
        auth_type = str(self.extras.get("auth_type") or "basic").lower()
        if auth_type == "basic":
            return httpx.BasicAuth(conn.login or "", conn.password or "")
        if auth_type == "oauth2":
            token_path = "/" + str(self.extras.get("token_path") or DEFAULT_TOKEN_PATH).strip("/")
            return ClientCredentialsAuth(f"{self.origin()}{token_path}", conn.login or "", conn.password or "")
        raise InputValidationError(
            f"connection {self.conn_id!r}: auth_type must be 'basic' or 'oauth2' (got {auth_type!r})", api="ocds")

    # -- requests -----------------------------------------------------------------------

    def build_params(self, endpoint: OcdsEndpoint, *, since: datetime | str | None = None,
                     before: datetime | str | None = None, filters: dict[str, Any] | None = None,
                     limit: int | None = None) -> dict[str, str]:
        """Validate and build the query of a first page; raises before anything is sent."""
        params: dict[str, str] = dict(endpoint.validate_filters(filters))
        if not endpoint.windowed and (since is not None or before is not None):
            raise InputValidationError(
                f"OCDS endpoint {endpoint.name!r} returns current state and takes no since/before", api="ocds")
        try:
            since_dt = parse_aware(since, name="since") if since is not None else None
            before_dt = parse_aware(before, name="before") if before is not None else None
        except ValueError as exc:
            raise InputValidationError(str(exc), api="ocds") from None
        if since_dt is not None and before_dt is not None and since_dt >= before_dt:
            raise InputValidationError(
                f"since must be earlier than before (since={since_dt.isoformat()}, before={before_dt.isoformat()})",
                api="ocds")
        if since_dt is not None:
            params["since"] = format_ocds(since_dt)
        if before_dt is not None:
            params["before"] = format_ocds(before_dt)
        if limit is not None:
            if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
                raise InputValidationError(
                    f"limit must be an integer from 1 to {MAX_LIMIT} (got {limit!r}): 0 asks OCDS for pages "
                    "of no items, which never reach the end, and larger pages than the server default "
                    "are not needed", api="ocds")
            params["limit"] = str(limit)
        return params

    def iter_pages(self, endpoint: str | OcdsEndpoint, *, since: datetime | str | None = None,
                   before: datetime | str | None = None, filters: dict[str, Any] | None = None,
                   limit: int | None = None, decode: Callable[[bytes], PageView[Any]] | None = None,
                   prefetch: int = 0, start_href: str | None = None) -> Iterator[PageView[Any]]:
        """Yield the endpoint's pages one by one, following ``links[rel=next]`` verbatim.

        :param endpoint: catalog name (``item_price``) or path (``item/price``).
        :param since: start of the change window (inclusive), aware.
        :param before: end of the change window (exclusive), aware.
        :param filters: ``nodelevel``/``nodeid``, ``pricetype``, ``severity``, ``entitytype``.
        :param limit: page size (1 to 10,000; server default when omitted).
        :param decode: page decoder; default validates items with the endpoint's pydantic model.
        :param prefetch: fetch and decode up to this many pages ahead in a background thread,
            so the network and the consumer (e.g. a warehouse load) overlap.
        :param start_href: carry on from this next link (of an earlier, interrupted paging of the
            same query) instead of the first page; it must point to the API's own origin.
        :raises InputValidationError: before any request when a parameter breaks a rule.
        """
        ep = endpoint if isinstance(endpoint, OcdsEndpoint) else get_endpoint(endpoint)
        params = self.build_params(ep, since=since, before=before, filters=filters, limit=limit)
        what = f"v2/{ep.path}"
        origin = httpx.URL(self.base_url())
        paginator = JsonLinkPaginator(f"ocds {what}", "ocds", origin)
        first = PageRequest(what, params)
        if start_href:
            href = httpx.URL(start_href)
            if not href.is_absolute_url or (href.scheme, href.host, href.port) != (origin.scheme, origin.host,
                                                                                  origin.port):
                raise InputValidationError(f"ocds {what}: start_href must be a link of this API's origin", api="ocds")
            first = PageRequest(href)
        pages = self.session.pages(first, paginator, decode=decode or pydantic_decoder(ep.model))
        return read_ahead(pages, prefetch) if prefetch > 0 else pages

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
