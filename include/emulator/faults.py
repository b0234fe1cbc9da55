"""Fault injection for any emulated vendor: wrong statuses, slowness, dropped connections,
non-JSON and truncated bodies.

Rules are added with :meth:`FaultInjector.add` (or ``POST /_emulator/faults``) and are
matched, in the order they were added, against the URL path of every request outside
``/_emulator``.  A rule lets ``after`` matching requests through, then affects the next
``times`` matching requests (``times=None``: all of them).  Kinds:

* ``status``: answer ``status`` (429, 500, 502, 503...) with a JSON error body and, when
  ``retry_after`` is set, a ``Retry-After`` header.
* ``slow``: wait ``delay`` seconds, then answer normally.
* ``drop``: send the status line, headers with a ``Content-Length`` and part of the body,
  then close the connection: clients see a transport error (``httpx.RemoteProtocolError``).
* ``malformed``: 200 with an HTML proxy error page instead of JSON.
* ``truncate``: 200 with the real JSON body cut in the middle (correct HTTP framing).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

KINDS = ("status", "slow", "drop", "malformed", "truncate")
EXEMPT_PREFIX = "/_emulator"

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

MALFORMED_BODY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def reason_phrase(status: int) -> str:
    return _REASONS.get(status, "Error")


def error_code(status: int) -> str:
    """``TooManyRequests`` for 429: the ORDS style ``code`` of a status."""
    return reason_phrase(status).replace(" ", "")


@dataclass
class FaultRule:
    """One fault: what to do, to which requests, how many times.

    :param kind: one of :data:`KINDS`.
    :param path: regular expression searched in the URL path (``None``: every path).
    :param times: how many matching requests are affected (``None``: unlimited).
    :param after: how many matching requests pass untouched first.
    :param status: HTTP status of a ``status`` fault.
    :param retry_after: ``Retry-After`` header value of a ``status`` fault (seconds or HTTP date).
    :param delay: seconds to wait for a ``slow`` fault.
    :param method: HTTP method to match (``None``: any).
    """

    kind: str
    path: str | None = None
    times: int | None = 1
    after: int = 0
    status: int = 503
    retry_after: int | float | str | None = None
    delay: float = 0.0
    method: str | None = None
    id: int = 0
    matched: int = 0
    applied: int = 0
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)} (got {self.kind!r})")
        if self.times is not None and int(self.times) < 0:
            raise ValueError("fault times must be >= 0 or null (unlimited)")
        if int(self.after) < 0:
            raise ValueError("fault after must be >= 0")
        if not 100 <= int(self.status) <= 599:
            raise ValueError(f"fault status must be an HTTP status (got {self.status!r})")
        if float(self.delay) < 0:
            raise ValueError("fault delay must be >= 0")
        try:
            self._regex = re.compile(self.path) if self.path else None
        except re.error as exc:
            raise ValueError(f"fault path is not a regular expression: {exc}") from None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return self._regex is None or self._regex.search(path) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.applied >= self.times

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_regex", None)
        return data


class FaultInjector:
    """The active fault rules; thread safe (tests add rules while the server runs)."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(
        self,
        kind: str,
        path: str | None = None,
        times: int | None = 1,
        after: int = 0,
        status: int = 503,
        retry_after: int | float | str | None = None,
        delay: float = 0.0,
        method: str | None = None,
    ) -> FaultRule:
        """Add a rule (see :class:`FaultRule`) and return it.

        :raises ValueError: for an unknown kind or an invalid setting.
        """
        rule = FaultRule(kind, path, times, int(after), int(status), retry_after, float(delay), method)
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def take(self, method: str, path: str) -> FaultRule | None:
        """Count the request against every matching rule; return the rule to apply, if any."""
        chosen: FaultRule | None = None
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(method, path):
                    continue
                rule.matched += 1
                if chosen is None and rule.matched > rule.after:
                    rule.applied += 1
                    chosen = rule
        return chosen


class _DropFilter(logging.Filter):
    """Silence uvicorn's error line for responses we abort on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_DropFilter())


def _json_error(status: int, path: str) -> bytes:
    title = reason_phrase(status)
    return orjson.dumps(
        {
            "code": error_code(status),
            "title": title,
            "message": f"Injected fault: HTTP {status} {title}",
            "type": f"tag:oracle.com,2020:error/{error_code(status)}",
            "instance": f"tag:emulator,fault:{path}",
        }
    )


class FaultMiddleware:
    """ASGI middleware applying :class:`FaultInjector` rules to non-control requests."""

    def __init__(self, app: Any, injector: FaultInjector, exempt_prefix: str = EXEMPT_PREFIX) -> None:
        self.app = app
        self.injector = injector
        self.exempt_prefix = exempt_prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefix):
            await self.app(scope, receive, send)
            return
        rule = self.injector.take(scope["method"], scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
            return
        scope.setdefault("emulator", {})["fault"] = rule.kind
        handler = getattr(self, f"_{rule.kind}")
        await handler(rule, scope, receive, send)

    async def _status(self, rule: FaultRule, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = _json_error(rule.status, scope["path"])
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if rule.retry_after is not None:
            value = rule.retry_after
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            headers.append((b"retry-after", str(value).encode()))
        await send({"type": "http.response.start", "status": rule.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _slow(self, rule: FaultRule, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asyncio.sleep(rule.delay)
        await self.app(scope, receive, send)

    async def _drop(self, rule: FaultRule, scope: dict[str, Any], receive: Any, send: Any) -> None:
        partial = b'{"items":[{"'
        headers = [(b"content-type", b"application/json"), (b"content-length", b"65536")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": partial, "more_body": True})
        # Returning without completing the body makes the server close the connection.

    async def _malformed(self, rule: FaultRule, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/html"), (b"content-length", str(len(MALFORMED_BODY)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": MALFORMED_BODY})

    async def _truncate(self, rule: FaultRule, scope: dict[str, Any], receive: Any, send: Any) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        cut = body[: max(1, len(body) // 2)] if body else b'{"items":['
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": cut})
