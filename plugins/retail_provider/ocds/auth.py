"""OAuth2 client credentials for OCDS: fetch a bearer token, reuse it, refresh it once on 401."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator

import httpx

from retail_provider.http.errors import AuthenticationError, InvalidResponseError, safe_url


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
