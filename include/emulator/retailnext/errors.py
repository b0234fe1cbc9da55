"""RetailNext style errors: ``{"ok": false, "error": "<message>"}`` with an HTTP status."""

from __future__ import annotations

from typing import Any


class RnError(Exception):
    """An error the RetailNext emulator answers with ``{"ok": false, "error": message}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.message}


def bad_request(message: str) -> RnError:
    return RnError(400, message)


def not_found(message: str) -> RnError:
    return RnError(404, message)
