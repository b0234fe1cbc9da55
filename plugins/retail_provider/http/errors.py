"""The typed errors every hook in this provider raises.

One small tree, shared by both vendors, with no Airflow import: catch :class:`ApiError` for "the API said no",
or a subclass for one meaningful condition.  Every error is built in one place
(:func:`error_from_response`) from the response, and never carries a credential: the
message names the method, the URL without its query string, the status and a short,
sanitised excerpt of the body.
"""

from __future__ import annotations

import re
from datetime import UTC

import httpx

_BODY_EXCERPT = 300
_SECRET_PATTERNS = [
    re.compile(r"(?i)(authorization\"?\s*[:=]\s*\"?)(?:(?:basic|bearer)\s+)?[^\"&,\s}]+"),
    re.compile(r"(?i)(access_token|token|secret|password|apikey|api_key)(\"?\s*[:=]\s*\"?)[^\"&,\s}]+"),
]


def redact(text: str) -> str:
    """Mask anything that looks like a credential in ``text``."""
    text = _SECRET_PATTERNS[0].sub(r"\1***", text)
    return _SECRET_PATTERNS[1].sub(r"\1\2***", text)


def safe_url(url: httpx.URL | str) -> str:
    """The URL without query string or user info: safe for logs and error messages."""
    url = httpx.URL(str(url))
    return str(url.copy_with(query=None, fragment=None, userinfo=b""))


class ApiError(Exception):
    """Base of every error raised by this provider's hooks.

    :param message: human readable description.
    :param api: ``"ocds"`` or ``"retailnext"``.
    :param status_code: HTTP status when the server answered, else ``None``.
    :param url: the request URL, already stripped of secrets.
    """

    def __init__(
        self,
        message: str,
        *,
        api: str = "",
        status_code: int | None = None,
        url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(redact(message))
        self.api = api
        self.status_code = status_code
        self.url = url
        self.retry_after = retry_after


class InputValidationError(ApiError, ValueError):
    """A parameter we were asked to send breaks a documented rule; nothing was sent.

    Bad input does not fix itself: the Airflow layer
    (:mod:`retail_provider.orchestration.failures`) fails the task at once instead of retrying it."""


class AuthenticationError(ApiError):
    """401/403: the credentials were refused."""


class BadRequestError(ApiError):
    """400/422: the server refused the request's parameters."""


class NotFoundError(ApiError):
    """404."""


class RateLimitedError(ApiError):
    """429: too many requests; ``retry_after`` holds the server's hint in seconds."""


class ServerError(ApiError):
    """5xx."""


class TransportError(ApiError):
    """No usable HTTP response: connection refused or dropped, timeout, truncated body."""


class InvalidResponseError(ApiError):
    """The server answered 2xx but the body is not what the reference documents."""


class UndecodableBodyError(InvalidResponseError):
    """A 2xx body that could not be decoded at all (a proxy's HTML page, a cut-off JSON
    document): transient like a dropped connection, so idempotent requests retry it."""


#: what a retry may fix (and only for idempotent requests: see :mod:`.retry`)
RETRYABLE = (RateLimitedError, ServerError, TransportError, UndecodableBodyError)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_from_response(response: httpx.Response, api: str) -> ApiError:
    """Build the typed error for a non-success ``response``."""
    status = response.status_code
    try:
        body = response.text
    except Exception:  # body not read (streaming) or undecodable
        body = ""
    excerpt = " ".join(body.split())[:_BODY_EXCERPT]
    url = safe_url(response.request.url) if response.request is not None else None
    message = f"{api} {response.request.method if response.request else ''} {url} answered HTTP {status}"
    if excerpt:
        message += f": {excerpt}"
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    cls: type[ApiError]
    if status in (401, 403):
        cls = AuthenticationError
    elif status == 404:
        cls = NotFoundError
    elif status == 429:
        cls = RateLimitedError
    elif status >= 500:
        cls = ServerError
    elif status in (400, 405, 409, 410, 413, 414, 415, 422):
        cls = BadRequestError
    else:
        cls = ApiError
    return cls(message, api=api, status_code=status, url=url, retry_after=retry_after)
