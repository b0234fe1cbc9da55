"""Typed errors are built from responses in one place and never carry secrets."""

from __future__ import annotations

import httpx

from retail_provider.http.errors import (
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    error_from_response,
    redact,
    safe_url,
)


def _response(status, body="", headers=None):
    request = httpx.Request("GET", "https://user:pw@ocds.test/v2/item?token=abc&since=x")
    return httpx.Response(status, text=body, headers=headers, request=request)


def test_status_maps_to_type():
    assert isinstance(error_from_response(_response(401), "ocds"), AuthenticationError)
    assert isinstance(error_from_response(_response(404), "ocds"), NotFoundError)
    err = error_from_response(_response(429, headers={"Retry-After": "12"}), "ocds")
    assert isinstance(err, RateLimitedError) and err.retry_after == 12.0
    assert isinstance(error_from_response(_response(502), "ocds"), ServerError)


def test_messages_carry_no_credentials_or_query():
    err = error_from_response(_response(500, '{"access_token": "s3cr3t-value", "password": "hunter22"}'), "ocds")
    text = str(err)
    assert "s3cr3t-value" not in text and "hunter22" not in text and "token=abc" not in text
    assert "user:pw" not in text
    assert safe_url("https://u:p@h.test/a?token=1") == "https://h.test/a"
    assert redact("Authorization: Basic dXNlcjpwYXNz") == "Authorization: ***"
