"""The v2 response envelope, its links, ``limit`` and ORDS style errors."""

from __future__ import annotations

import httpx
import pytest

from tests.emulator.helpers import API, KEYS, PATHS, SCALE, get


def _links(body: dict) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in body["links"]}


def test_envelope_has_items_hasmore_limit_count_links(client, emu_server):
    response = get(client, "diff", limit=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["items", "hasMore", "limit", "count", "links"]
    assert body["hasMore"] is True
    assert body["limit"] == 5
    assert body["count"] == len(body["items"]) == 5
    assert [link["rel"] for link in body["links"]] == ["self", "describedBy", "next"]
    links = _links(body)
    assert links["self"] == str(response.request.url)
    assert links["describedBy"] == f"{emu_server.url}/ords/ocds/omnichannel/metadata-catalog/v2/diff"
    nxt = httpx.URL(links["next"])
    assert nxt.is_absolute_url
    assert (nxt.scheme, nxt.host, nxt.port) == ("http", "127.0.0.1", emu_server.port)
    assert nxt.path == f"{API}/diff"
    assert set(nxt.params) == {"limit", "offsetkey"}
    assert nxt.params["limit"] == "5"


def test_last_page_has_no_next_link(client):
    body = get(client, "diff", limit=1000).json()
    assert body["hasMore"] is False
    assert [link["rel"] for link in body["links"]] == ["self", "describedBy"]


def test_links_are_built_from_the_request_host(client):
    body = client.get(f"{API}/vat", params={"limit": 2}, headers={"Host": "ocds.example.com:8443"}).json()
    for link in body["links"]:
        assert link["href"].startswith("http://ocds.example.com:8443/ords/ocds/omnichannel/")


def test_described_by_link_serves_the_metadata_catalog(client):
    body = get(client, "item_price", pricetype="REGULAR", limit=1).json()
    catalog = client.get(_links(body)["describedBy"])
    assert catalog.status_code == 200
    meta = catalog.json()
    assert meta["primarykey"] == list(KEYS["item_price"])
    assert {"price", "pricetype", "effective"} <= {m["name"] for m in meta["members"]}


@pytest.mark.parametrize("name", sorted(PATHS))
def test_every_endpoint_answers(client, name):
    params = {"pricetype": "INITIAL"} if name == "item_price" else {}
    response = get(client, name, limit=3, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert 1 <= body["count"] <= 3


def test_diffs_is_an_alias_of_diff(client):
    assert client.get(f"{API}/diffs").json()["items"] == client.get(f"{API}/diff").json()["items"]


def test_limit_defaults_to_10000(client):
    body = get(client, "item").json()
    assert body["limit"] == 10_000
    assert body["count"] == SCALE
    assert body["hasMore"] is False


def test_limit_zero_is_a_page_of_no_items(client):
    """``limit`` is "0 .. n" in the reference: 0 asks for no items (the default is for an absent limit)."""
    body = get(client, "item", limit=0).json()
    assert (body["limit"], body["count"], body["items"]) == (0, 0, [])
    assert body["hasMore"] is True


def test_limit_above_10000_is_served_as_asked(client):
    """The reference documents a default page size, not a maximum: nothing is clamped silently."""
    body = get(client, "item_itemlocation", limit=50_000).json()
    assert body["limit"] == 50_000 and body["hasMore"] is False
    assert body["count"] == len(body["items"]) == len(get(client, "item_itemlocation").json()["items"])


def test_a_server_cap_is_reported_in_the_envelope(client, state):
    state.ocds.set_readings(max_limit=100)
    body = get(client, "item_itemlocation", limit=500).json()
    assert body["limit"] == 100 and body["count"] == 100 and body["hasMore"] is True
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert "limit=100&" in nxt


def test_count_can_disagree_with_the_items_like_the_reference_examples(client, state):
    state.ocds.set_readings(count_skew=1)
    body = get(client, "diff", limit=5).json()
    assert body["count"] == len(body["items"]) + 1 == 6


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "10e3", "0x10"])
def test_invalid_limit_is_400(client, value):
    response = client.get(f"{API}/diff", params={"limit": value})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "BadRequest"
    assert body["title"] == "Bad Request"
    assert body["type"] == "tag:oracle.com,2020:error/BadRequest"
    assert "limit" in body["message"]
    assert body["instance"]


def test_parameter_names_are_case_insensitive(client):
    body = client.get(f"{API}/diff", params={"LIMIT": 3}).json()
    assert body["limit"] == 3
    assert body["count"] == 3


def test_unknown_parameters_are_ignored(client):
    plain = get(client, "vat").json()["items"]
    assert client.get(f"{API}/vat", params={"foo": "bar", "nodelevel": "MOON"}).json()["items"] == plain


def test_unknown_resource_is_404_ords_error(client):
    response = client.get(f"{API}/nothing/here")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


def test_api_is_get_only(client):
    assert client.post(f"{API}/diff").status_code == 405
