"""``since``/``before``: every timestamp form of the reference, defaults, invalid values."""

from __future__ import annotations

import pytest

from include.emulator.timeutil import parse_iso_ns
from tests.emulator.helpers import API, SCALE, fetch_all, get, key

SINCE = "2025-06-01T12:00:00.500Z"
BEFORE = "2025-09-01T00:00:00Z"
#: the instant of SINCE written in every form the reference shows (and a few more)
SINCE_FORMS = [
    "2025-06-01T12:00:00.500Z",
    "2025-06-01T17:30:00.500+05:30",
    "2025-06-01T07:00:00.500000000-05:00",
    "2025-06-01T12:00:00.5Z:30",
    "2025-06-01T12:00:00.500",
    "2025-06-01T12:00:00.500000+00:00",
    "2025-06-01T12:00:00.500000000Z",
    "2025-06-01T12:00:00.500000000+0000",
]


def _keys(client, **params) -> list[tuple]:
    items, _pages = fetch_all(client, "item", **params)
    return [key("item", r) for r in items]


def test_a_window_over_2025_is_a_proper_subset(client):
    window = _keys(client, since=SINCE, before=BEFORE)
    assert 0 < len(window) < SCALE


@pytest.mark.parametrize("form", SINCE_FORMS)
def test_since_accepts_every_form(client, form):
    assert _keys(client, since=form, before=BEFORE) == _keys(client, since=SINCE, before=BEFORE)


@pytest.mark.parametrize("form", SINCE_FORMS)
def test_before_accepts_every_form(client, form):
    assert _keys(client, since="2025-03-01T00:00:00Z", before=form) == _keys(
        client, since="2025-03-01T00:00:00Z", before=SINCE
    )


def test_no_fractional_part(client):
    assert _keys(client, since="2025-06-01T12:00:00Z", before=BEFORE) == _keys(
        client, since="2025-06-01T12:00:00.000Z", before=BEFORE
    )


def test_unencoded_plus_of_an_offset(client):
    """The reference's usage lines send ``+05:30`` unencoded: it arrives as a space."""
    raw = client.get(f"{API}/item?since=2025-06-01T17:30:00.500+05:30&before={BEFORE}").json()["items"]
    assert [key("item", r) for r in raw] == _keys(client, since=SINCE, before=BEFORE)


def test_reference_usage_line_is_accepted(client):
    response = client.get(
        f"{API}/admin/log?severity=INFO&since=2018-01-23T16:26:41.485Z:30&before=2018-06-23T16:26:41.485Z"
    )
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_envelope_example_timestamps_are_accepted(client):
    response = get(
        client,
        "admin_log",
        limit=3,
        since="1970-01-01T00:00:00.001000000+00:00",
        before="2026-05-06T13:26:44.515000000-05:00",
    )
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_since_defaults_to_the_epoch_and_before_to_now(client, state):
    everything = _keys(client)
    assert len(everything) == SCALE
    assert everything == _keys(client, since="1970-01-01T00:00:00Z", before=state.ocds.now().isoformat())


def test_since_not_before_before_is_empty(client):
    for since, before in ((BEFORE, SINCE), (SINCE, SINCE)):
        body = get(client, "item", since=since, before=before).json()
        assert body["items"] == []
        assert body["hasMore"] is False
        assert body["count"] == 0


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2025-13-01T00:00:00Z",
        "2025-06-31T00:00:00Z",
        "2025-06-01T25:00:00Z",
        "2025-06-01T12:00:00.1234567890Z",
        "2025-06-01T12:00:00+25:00",
        "1717243200",
        "2025/06/01",
    ],
)
@pytest.mark.parametrize("name", ["since", "before"])
def test_invalid_timestamp_is_400(client, name, value):
    response = client.get(f"{API}/diff", params={name: value})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "BadRequest"
    assert f"'{name}'" in body["message"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.000000001Z", 1),
        ("1970-01-01T00:00:00.001000000+00:00", 1_000_000),
        ("1970-01-01T05:30:00+05:30", 0),
        ("1969-12-31T19:00:00-05:00", 0),
        ("1970-01-01T00:00:01.5Z:30", 1_500_000_000),
        ("1970-01-01T00:00:01", 1_000_000_000),
        ("1970-01-02", 86_400 * 10**9),
    ],
)
def test_parse_iso_ns(text, expected):
    assert parse_iso_ns(text) == expected
