"""The one way this provider builds an httpx client: User-Agent, timeouts, auth and HTTPS.

Both vendors use it.  Credentials only travel over HTTPS: plain ``http`` is allowed to a
loopback host (a local emulator) or, off loopback, only with the connection's explicit
opt-in extra ``allow_insecure_http`` (a test host such as the compose emulator).  The rule
is checked when the client is built, so before any request is sent.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx

from retail_provider import __version__
from retail_provider.http.errors import InputValidationError

USER_AGENT = f"airflow-provider-retail/{__version__}"
DEFAULT_TIMEOUT = 60.0
CONNECT_TIMEOUT = 10.0
INSECURE_OPT_IN = "allow_insecure_http"


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (``127.0.0.1``, ``::1``)."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def truthy(value: Any) -> bool:
    """A connection extra or Param that means yes: ``true``, ``1``, ``yes``, ``on`` (any case)."""
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def require_https(url: httpx.URL | str, *, allow_insecure_http: bool, conn_id: str, api: str) -> httpx.URL:
    """Refuse to send credentials in clear text.

    :raises InputValidationError: naming the connection and the rule, for ``http`` to a host
        that is not loopback without the opt-in, or any scheme other than http/https.
    """
    url = httpx.URL(str(url))
    if url.scheme not in ("http", "https"):
        raise InputValidationError(
            f"connection {conn_id!r}: the protocol must be https (or http for a test host), got {url.scheme!r}",
            api=api)
    if url.scheme == "http" and not is_loopback(url.host) and not allow_insecure_http:
        raise InputValidationError(
            f"connection {conn_id!r}: {api} requires HTTPS (credentials never travel in clear text); plain http is "
            f"allowed for loopback hosts, or with the extra {INSECURE_OPT_IN}=true for a test host "
            f"(got host {url.host!r})",
            api=api)
    return url


def timeout(read: float | None) -> httpx.Timeout:
    """Read timeout ``read`` seconds (default 60); connecting never waits longer than 10 s."""
    seconds = float(read) if read else DEFAULT_TIMEOUT
    return httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT, seconds))


def build_client(base_url: str, *, auth: httpx.Auth | None, read_timeout: float | None = None,
                 transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An ``httpx.Client`` with our User-Agent, JSON ``Accept``, timeouts, and no redirects followed
    (a redirect would carry the credentials elsewhere; callers that expect one handle it)."""
    return httpx.Client(
        base_url=base_url,
        auth=auth,
        timeout=timeout(read_timeout),
        transport=transport,
        headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        follow_redirects=False,
    )
