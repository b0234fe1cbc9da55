"""The request log: what clients asked for and what they got (control routes excluded)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from include.emulator.faults import EXEMPT_PREFIX


@dataclass
class RequestRecord:
    """One request.

    :param query: query parameters as sent (names keep their case; last value wins).
    :param auth: ``"basic"``, ``"bearer"`` or ``None`` (what the client presented).
    :param fault: kind of the injected fault, if one was applied.
    """

    method: str
    path: str
    query: dict[str, str]
    status: int | None = None
    auth: str | None = None
    fault: str | None = None
    started: float = field(default_factory=time.time)
    duration_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """A bounded, thread-safe list of :class:`RequestRecord` (oldest dropped first)."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def records(self, path: str | None = None) -> list[RequestRecord]:
        """Records, oldest first; only those whose path contains ``path`` when given."""
        with self._lock:
            items = list(self._records)
        return [r for r in items if path is None or path in r.path]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.records())

    def __getitem__(self, index: int) -> RequestRecord:
        return self.records()[index]


class RequestLogMiddleware:
    """ASGI middleware appending a :class:`RequestRecord` per request outside ``/_emulator``.

    Route handlers report the authentication they accepted in ``scope["emulator"]["auth"]``.
    """

    def __init__(self, app: Any, log: RequestLog, exempt_prefix: str = EXEMPT_PREFIX) -> None:
        self.app = app
        self.log = log
        self.exempt_prefix = exempt_prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefix):
            await self.app(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        record = RequestRecord(scope["method"], scope["path"], query)
        info = scope.setdefault("emulator", {})
        started = time.perf_counter()

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            record.auth = info.get("auth")
            record.fault = info.get("fault")
            record.duration_ms = round((time.perf_counter() - started) * 1000, 3)
            self.log.append(record)
