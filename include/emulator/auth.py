"""Authentication helpers any emulated vendor can use: HTTP Basic and OAuth2 bearer tokens.

:class:`BasicCredentials` checks an ``Authorization: Basic`` header; :class:`TokenIssuer`
runs an OAuth2 *client credentials* grant and checks ``Authorization: Bearer`` tokens.
Both answer with an :class:`AuthResult`; the vendor turns a failure into its own error body.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class AuthResult:
    """Outcome of checking a request's credentials.

    :param kind: ``"basic"`` or ``"bearer"`` when accepted; the scheme tried (or ``None``) when not.
    :param ok: whether the request may proceed.
    :param reason: why it was refused (``missing``, ``invalid``, ``expired``).
    """

    kind: str | None
    ok: bool
    reason: str = ""
    principal: str | None = None


def split_authorization(header: str | None) -> tuple[str, str]:
    """``("basic", "dXNlcjpwdw==")`` from an ``Authorization`` header ('' parts when absent)."""
    if not header:
        return "", ""
    scheme, _, value = header.strip().partition(" ")
    return scheme.lower(), value.strip()


def decode_basic(value: str) -> tuple[str, str] | None:
    """``(user, password)`` of a Basic credential, or ``None`` when it does not decode."""
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, sep, password = text.partition(":")
    return (user, password) if sep else None


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


@dataclass
class BasicCredentials:
    """One user name and password accepted through HTTP Basic."""

    user: str
    password: str

    def check(self, value: str) -> AuthResult:
        pair = decode_basic(value)
        if pair is None or not (same(pair[0], self.user) and same(pair[1], self.password)):
            return AuthResult("basic", False, "invalid")
        return AuthResult("basic", True, principal=pair[0])


@dataclass
class TokenIssuer:
    """OAuth2 client credentials: issue opaque bearer tokens with a time to live.

    :param client_id: the accepted client id.
    :param client_secret: its secret.
    :param ttl: token lifetime in seconds (change it at any time; new tokens use the new value).
    """

    client_id: str
    client_secret: str
    ttl: float = 3600.0
    _tokens: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def client_ok(self, client_id: str | None, client_secret: str | None) -> bool:
        return (
            client_id is not None
            and client_secret is not None
            and same(client_id, self.client_id)
            and same(client_secret, self.client_secret)
        )

    def issue(self) -> tuple[str, float]:
        """A new token and its lifetime in seconds."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = time.time()
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + self.ttl
        return token, self.ttl

    def check(self, token: str) -> AuthResult:
        with self._lock:
            expires = self._tokens.get(token)
        if expires is None:
            return AuthResult("bearer", False, "invalid")
        if time.time() >= expires:
            return AuthResult("bearer", False, "expired")
        return AuthResult("bearer", True, principal=self.client_id)

    def expire_all(self) -> int:
        """Make every issued token expired now (they answer 401 from then on)."""
        with self._lock:
            now = time.time()
            for token in self._tokens:
                self._tokens[token] = min(self._tokens[token], now)
            return len(self._tokens)

    def revoke_all(self) -> None:
        with self._lock:
            self._tokens.clear()


@dataclass
class Authenticator:
    """Basic and/or bearer authentication of API requests.

    :param basic: accepted Basic credentials (``None``: Basic is refused).
    :param tokens: token issuer whose bearer tokens are accepted (``None``: bearer is refused).
    :param realm: realm named in ``WWW-Authenticate``.
    """

    basic: BasicCredentials | None
    tokens: TokenIssuer | None
    realm: str = "emulator"

    def check(self, authorization: str | None) -> AuthResult:
        scheme, value = split_authorization(authorization)
        if scheme == "basic" and self.basic is not None:
            return self.basic.check(value)
        if scheme == "bearer" and self.tokens is not None:
            return self.tokens.check(value)
        if not scheme:
            return AuthResult(None, False, "missing")
        return AuthResult(scheme, False, "unsupported")

    def challenge(self, result: AuthResult) -> str:
        """The ``WWW-Authenticate`` value for a refused request."""
        if result.kind == "bearer":
            description = (
                "The access token expired" if result.reason == "expired" else "The access token is invalid"
            )
            return f'Bearer realm="{self.realm}", error="invalid_token", error_description="{description}"'
        return f'Basic realm="{self.realm}"'


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a dict (last value wins)."""
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
