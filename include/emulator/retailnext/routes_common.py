"""Shared HTTP plumbing of the RetailNext routes: JSON responses and errors, body reading,
v1 paging (``X-Page-Length``, ``X-Page-Start``, ``X-Page-Next``), the inventory's string
cursor paging, and :class:`RnContext` (auth check, error wrapper, concurrency limiter).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from include.emulator.retailnext.errors import RnError, bad_request

if TYPE_CHECKING:
    from include.emulator.retailnext.dataset import RetailNextDataset
    from include.emulator.state import EmulatorState

#: the logger name of the module that held every route before the split (kept stable)
log = logging.getLogger("include.emulator.retailnext.routes")

MAX_PAGE = 100

#: a route handler: ``await handler(ctx, request)``
Handler = Callable[["RnContext", Request], Awaitable[Response]]


def rn_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


def rn_error(exc: RnError) -> Response:
    return rn_json(exc.body(), exc.status, exc.headers or None)


async def read_json(request: Request, default: Any = None) -> Any:
    body = await request.body()
    if not body.strip():
        if default is not None:
            return default
        raise bad_request("body is required (JSON)")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_request("body is not valid JSON") from None


async def read_object(request: Request, default: Any = None) -> dict[str, Any]:
    """:func:`read_json` that must give a JSON object."""
    body = await read_json(request, default)
    if not isinstance(body, dict):
        raise bad_request("body must be a JSON object")
    return body


# ---------------------------------------------------------------------------- paging


def _header_int(request: Request, header: str, default: int, minimum: int, expected: str) -> int:
    raw = request.headers.get(header)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise bad_request(f"{header} must be {expected} (got {raw!r})") from None
    if value < minimum:
        raise bad_request(f"{header} must be {expected} (got {raw!r})")
    return value


def _page_length(request: Request) -> int:
    return min(_header_int(request, "X-Page-Length", MAX_PAGE, 1, "a positive integer"), MAX_PAGE)


def _page_start(request: Request) -> int:
    return _header_int(request, "X-Page-Start", 0, 0, "a non-negative integer offset")


def v1_page(request: Request, entries: list[Any], wrap: Callable[[list[Any]], Any]) -> Response:
    """One v1 page: 206 + ``X-Page-Next`` while entries remain, else 200."""
    length = _page_length(request)
    start = _page_start(request)
    page = entries[start : start + length]
    if start + length < len(entries):
        return rn_json(wrap(page), 206, {"X-Page-Next": str(start + length)})
    return rn_json(wrap(page), 200)


def cursor_page(request: Request, entries: list[dict[str, Any]], key: str) -> tuple[list[dict[str, Any]], str]:
    """One inventory page: entries from the cursor in ``X-Page-Start`` and the next cursor."""
    length = _page_length(request)
    cursor = (request.headers.get("x-page-start") or "").strip()
    start = 0
    if cursor:
        positions = [i for i, e in enumerate(entries) if e[key] == cursor]
        if not positions:
            raise bad_request(f"X-Page-Start: unknown page cursor {cursor!r}")
        start = positions[0]
    page = entries[start : start + length]
    nxt = entries[start + length][key] if start + length < len(entries) else "end"
    return page, nxt


# ---------------------------------------------------------------------------- context


class RnContext:
    """What the route handlers share: the emulator state, auth, error wrapping, the limiter."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def ds(self) -> RetailNextDataset:
        return self.state.retailnext

    def refuse(self, request: Request) -> Response | None:
        """``None`` when the request's HTTP Basic credentials are accepted, else the 401."""
        result = self.state.retailnext_auth.check(request.headers.get("authorization"))
        request.scope.setdefault("emulator", {})["auth"] = result.kind
        if result.ok:
            return None
        return rn_json({"ok": False, "error": "unauthorized"}, 401, {"WWW-Authenticate": 'Basic realm="retailnext"'})

    def endpoint(self, handler: Handler, auth: bool = True) -> Callable[[Request], Awaitable[Response]]:
        """A Starlette endpoint: auth check (unless ``auth=False``), then ``handler``; errors as JSON."""

        async def wrapped(request: Request) -> Response:
            if auth:
                refused = self.refuse(request)
                if refused is not None:
                    return refused
            try:
                return await handler(self, request)
            except RnError as exc:
                return rn_error(exc)
            except Exception as exc:  # an emulator bug: say so in JSON instead of dropping the connection
                log.exception("RetailNext emulator error on %s %s", request.method, request.url.path)
                return rn_json({"ok": False, "error": f"emulator error: {type(exc).__name__}: {exc}"}, 500)

        return wrapped

    async def limited(self, name: str, work: Callable[[], Response]) -> Response:
        """``work()`` after the service delay, or 429 when ``name`` has too many requests in flight."""
        rn = self.ds()
        if rn.inflight.get(name, 0) >= rn.concurrency_limit:
            return rn_json(
                {
                    "ok": False,
                    "error": f"too many concurrent requests: at most {rn.concurrency_limit} {name} "
                    "requests per subscription",
                },
                429,
                {"Retry-After": "1"},
            )
        rn.inflight[name] = rn.inflight.get(name, 0) + 1
        try:
            await asyncio.sleep(rn.service_delay)
            return work()
        finally:
            rn.inflight[name] -= 1
