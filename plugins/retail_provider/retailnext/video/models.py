"""Strict models of what we send to RetailNext's video export and stream endpoints."""

from __future__ import annotations

import re

from pydantic import AwareDatetime, Field, field_validator, model_validator

from retail_provider.retailnext.models import Request, Response, iso_z

MAX_EXPORT_CHANNELS = 16
_RESOLUTION = re.compile(r"^[1-9]\d*x[1-9]\d*$")


class VideoExportRequest(Request):
    """``POST v1/video/export/start`` (query parameters)."""

    channel: list[str] = Field(min_length=1, max_length=MAX_EXPORT_CHANNELS)
    start: AwareDatetime
    end: AwareDatetime
    analytics_overlay: bool = False
    info_overlay: bool = False
    raw: bool = False
    resolution: str | None = None

    @field_validator("channel")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("channels must be distinct")
        if any(not c.strip() for c in v):
            raise ValueError("channels must not be empty")
        return v

    @model_validator(mode="after")
    def _rules(self) -> VideoExportRequest:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end.isoformat()}) must be after start ({self.start.isoformat()})")
        if self.resolution is not None:
            if len(self.channel) < 2:
                raise ValueError("resolution is only allowed when several channels are exported")
            if not _RESOLUTION.match(self.resolution):
                raise ValueError(f"resolution must be WIDTHxHEIGHT, e.g. 1024x768 (got {self.resolution!r})")
        return self

    def query(self) -> list[tuple[str, str]]:
        params = [("channel", c) for c in self.channel]
        params += [("start", iso_z(self.start)), ("end", iso_z(self.end))]
        params += [(k, "1" if getattr(self, k) else "0") for k in ("analytics_overlay", "info_overlay", "raw")]
        if self.resolution:
            params.append(("resolution", self.resolution))
        return params


class HlsTokenRequest(Request):
    location_uuid: str = Field(min_length=1)


class HlsToken(Response):
    """``v1/hlsapitoken``: a token to stream the video channels of a location."""

    token: str
