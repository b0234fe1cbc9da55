"""ORDS style errors: ``{"code", "title", "message", "type", "instance"}`` with a status."""

from __future__ import annotations

import secrets
from typing import Any


class OcdsError(Exception):
    """An error the OCDS emulator answers with an ORDS style JSON body."""

    status = 500
    code = "InternalServerError"
    title = "Internal Server Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "message": self.message,
            "type": f"tag:oracle.com,2020:error/{self.code}",
            "instance": f"tag:oracle.com,2020:ecid/{secrets.token_urlsafe(16)}",
        }


class BadRequest(OcdsError):
    status = 400
    code = "BadRequest"
    title = "Bad Request"


class Unauthorized(OcdsError):
    status = 401
    code = "Unauthorized"
    title = "Unauthorized"


class NotFound(OcdsError):
    status = 404
    code = "NotFound"
    title = "Not Found"
