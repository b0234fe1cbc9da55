"""OcdsHook against the emulator over real HTTP: paging, auth modes, retries, typed errors."""

from __future__ import annotations

import math

import httpx
import pytest

from include.devenv import airflow_env
from retail_provider.http.errors import (
    AuthenticationError,
    InputValidationError,
    InvalidResponseError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from retail_provider.http.retry import RetryPolicy
from retail_provider.ocds.hook import OcdsHook


class Sleeps(list):
    """Records the waits the retry policy asks for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def hook(airflow_connections, sleeps) -> OcdsHook:
    h = OcdsHook("ocds_default", retry_policy=RetryPolicy(max_attempts=4, sleep=sleeps), timeout=5)
    yield h
    h.close()


@pytest.fixture(autouse=True)
def _clean_faults(emulator):
    emulator.state.faults.clear()
    yield
    emulator.state.faults.clear()


def _live(records) -> list:
    """Records of live rows: a feed read since the epoch also carries tombstones (DELETE)."""
    return [r for r in records if r.action != "DELETE"]


def _requests(emulator) -> int:
    return len(emulator.state.requests)


def test_pages_to_the_end_in_order(hook, emulator):
    truth = emulator.state.ocds.truth("item")
    pages = list(hook.iter_pages("item", limit=50))
    records = [r for p in pages for r in p.records]
    assert len(pages) == math.ceil(len(records) / 50)
    assert [p.has_more for p in pages] == [True] * (len(pages) - 1) + [False]
    items = [r.item for r in records]
    assert items == sorted(items) and len(set(items)) == len(items)
    # since the epoch the feed also carries the tombstones of deleted rows
    assert [r.item for r in records if r.action != "DELETE"] == [t["item"] for t in truth]


def test_page_size_default_is_one_page(hook, emulator):
    truth = emulator.state.ocds.truth("diff")
    pages = list(hook.iter_pages("diff"))
    assert len(pages) == 1 and pages[0].limit == 10000
    assert len(_live(pages[0].records)) == len(truth)


def test_oauth2_client_credentials(emulator, sleeps):
    airflow_env.set_connection(
        "ocds_oauth",
        airflow_env.ocds_connection(emulator.url, auth_type="oauth2", login="ocds_client", password="ocds_secret"),
    )
    with OcdsHook("ocds_oauth", retry_policy=RetryPolicy(sleep=sleeps)) as h:
        assert len(_live(h.iter_records("diff"))) == len(emulator.state.ocds.truth("diff"))
        assert h.test_connection()[0] is True


@pytest.mark.parametrize("auth_type", ["basic", "oauth2"])
def test_bad_credentials_are_a_clear_error_without_retries(emulator, sleeps, auth_type):
    airflow_env.set_connection(
        "ocds_bad", airflow_env.ocds_connection(emulator.url, auth_type=auth_type, login="x", password="wrong-pw")
    )
    with OcdsHook("ocds_bad", retry_policy=RetryPolicy(sleep=sleeps)) as h:
        with pytest.raises(AuthenticationError) as err:
            list(h.iter_pages("diff"))
        ok, message = h.test_connection()
    assert "401" in str(err.value) and "wrong-pw" not in str(err.value)
    assert ok is False and "wrong-pw" not in message
    assert sleeps == []


def test_429_retry_after_is_honoured(hook, emulator, sleeps):
    emulator.state.faults.add("status", path="/v2/diff", status=429, retry_after=3, times=2)
    assert len(_live(hook.iter_records("diff"))) == len(emulator.state.ocds.truth("diff"))
    assert sleeps == [3.0, 3.0]


def test_5xx_and_dropped_connections_are_retried(hook, emulator, sleeps):
    emulator.state.faults.add("status", path="/v2/vat", status=503, times=1)
    emulator.state.faults.add("drop", path="/v2/vat", times=1, after=1)
    assert len(_live(hook.iter_records("vat"))) == len(emulator.state.ocds.truth("vat"))
    assert len(sleeps) == 2 and all(0 <= s <= 30 for s in sleeps)


def test_retries_are_capped_then_typed_errors(hook, emulator):
    emulator.state.faults.add("status", path="/v2/vat", status=500, times=10)
    with pytest.raises(ServerError):
        list(hook.iter_pages("vat"))
    emulator.state.faults.clear()
    emulator.state.faults.add("status", path="/v2/vat", status=429, retry_after=1, times=10)
    with pytest.raises(RateLimitedError) as err:
        list(hook.iter_pages("vat"))
    assert err.value.retry_after == 1.0


@pytest.mark.parametrize("kind", ["malformed", "truncate"])
def test_non_json_bodies_are_invalid_responses(hook, emulator, kind):
    emulator.state.faults.add(kind, path="/v2/diff/group", times=10)
    with pytest.raises(InvalidResponseError, match="not the documented JSON"):
        list(hook.iter_pages("diff_group"))


def test_slow_response_times_out_as_transport_error(emulator, airflow_connections, sleeps):
    emulator.state.faults.add("slow", path="/v2/diff", delay=2.0, times=10)
    with OcdsHook("ocds_default", retry_policy=RetryPolicy(max_attempts=2, sleep=sleeps), timeout=0.5) as h:
        with pytest.raises(TransportError, match="timed out"):
            list(h.iter_pages("diff"))


@pytest.mark.parametrize(
    ("endpoint", "kwargs", "message"),
    [
        ("itemz", {}, "not an OCDS v2 endpoint"),
        ("item_price", {}, "'pricetype' is required"),
        ("item_price", {"filters": {"pricetype": "RETAIL"}}, "'pricetype' must be one of"),
        ("item", {"filters": {"nodelevel": "STORE"}}, "must be given together"),
        ("item", {"filters": {"nodelevel": "PLANET", "nodeid": 1}}, "'nodelevel' must be one of"),
        ("diff", {"filters": {"nodelevel": "STORE", "nodeid": 1}}, "is not supported by OCDS endpoint 'diff'"),
        ("item", {"since": "2025-02-01T00:00:00Z", "before": "2025-01-01T00:00:00Z"}, "since must be earlier"),
        ("item", {"since": "2025-02-01"}, "since must be an ISO-8601 timestamp with a zone"),
        ("item", {"limit": 20000}, "limit must be an integer from 1 to 10000"),
        ("refreshdate", {"since": "2025-02-01T00:00:00Z"}, "takes no since/before"),
    ],
)
def test_bad_input_fails_before_any_request(hook, emulator, endpoint, kwargs, message):
    before = _requests(emulator)
    with pytest.raises(InputValidationError, match=message):
        list(hook.iter_pages(endpoint, **kwargs))
    assert _requests(emulator) == before


def _envelope(items, has_more, next_href=None, count=None):
    links = [{"rel": "self", "href": "http://ocds.test/x"}]
    if next_href:
        links.append({"rel": "next", "href": next_href})
    return {"items": items, "hasMore": has_more, "limit": 1, "count": len(items) if count is None else count,
            "links": links}


def _mock_hook(handler) -> OcdsHook:
    airflow_env.set_connection(
        "ocds_mock", {"conn_type": "ocds", "host": "ocds.test", "login": "u", "password": "p",
                      "extra": {"protocol": "http", "allow_insecure_http": True}}  # a test host
    )
    return OcdsHook("ocds_mock", transport=httpx.MockTransport(handler), retry_policy=RetryPolicy(max_attempts=1))


ROW = {"action": "INSERT", "diffid": "A"}


def test_a_next_link_that_repeats_stops_the_loop():
    def handler(request):
        return httpx.Response(200, json=_envelope([ROW], True, "http://ocds.test/ords/ocds/omnichannel/v2/diff?offsetkey=same"))

    with pytest.raises(InvalidResponseError, match="endless loop"):
        list(_mock_hook(handler).iter_pages("diff"))


def test_a_next_link_to_another_origin_is_refused():
    def handler(request):
        return httpx.Response(200, json=_envelope([ROW], True, "http://evil.test/steal?offsetkey=1"))

    with pytest.raises(InvalidResponseError, match="another origin"):
        list(_mock_hook(handler).iter_pages("diff"))


def test_has_more_without_next_link_is_an_error_and_a_wrong_count_is_reported():
    with pytest.raises(InvalidResponseError, match="no next link"):
        list(_mock_hook(lambda r: httpx.Response(200, json=_envelope([ROW], True))).iter_pages("diff"))
    # the reference's own examples show counts that disagree with the items: the page is
    # delivered with its count, and the sync warns and records it (test_ocds_envelopes)
    (page,) = list(_mock_hook(lambda r: httpx.Response(200, json=_envelope([ROW], False, count=5))).iter_pages("diff"))
    assert (page.count, page.items, [r.diffid for r in page.records]) == (5, 1, ["A"])


def test_next_link_is_followed_verbatim():
    seen = []

    def handler(request):
        seen.append(str(request.url))
        if "offsetkey" in str(request.url):
            return httpx.Response(200, json=_envelope([{"action": "UPDATE", "diffid": "B"}], False))
        return httpx.Response(
            200, json=_envelope([ROW], True, "http://ocds.test/ords/ocds/omnichannel/v2/diff?limit=1&offsetkey=k%3D1")
        )

    records = list(_mock_hook(handler).iter_records("diff", limit=1))
    assert [r.diffid for r in records] == ["A", "B"]
    assert seen[1] == "http://ocds.test/ords/ocds/omnichannel/v2/diff?limit=1&offsetkey=k%3D1"


def test_oauth2_token_expiring_mid_sync_is_refreshed_once(emulator, sleeps):
    airflow_env.set_connection(
        "ocds_oauth2",
        airflow_env.ocds_connection(emulator.url, auth_type="oauth2", login="ocds_client", password="ocds_secret"),
    )
    token_calls = lambda: sum(1 for r in emulator.state.requests.records() if r.path.endswith("/oauth/token"))  # noqa: E731
    with OcdsHook("ocds_oauth2", retry_policy=RetryPolicy(sleep=sleeps)) as h:
        pages = h.iter_pages("item", limit=50)
        first = next(pages)
        before = token_calls()
        emulator.state.ocds_tokens.expire_all()  # the server forgets the token between two pages
        rest = [r for p in pages for r in p.records]
    assert token_calls() == before + 1
    items = [r.item for r in [*first.records, *rest]]
    assert len(items) == len(set(items)) and len(rest) > 0
    assert sleeps == []  # a 401 on an expired token is not a retry: the auth flow refreshes it


# --- the HTTPS rule, the same for both vendors ----------------------------------------------------


@pytest.mark.parametrize("host", ["ocds.example.com", "http://10.20.30.40", "http://ocds.example.com:8080"])
def test_plain_http_off_loopback_is_refused_before_any_request(host):
    calls = []
    airflow_env.set_connection("ocds_plain", {"conn_type": "ocds", "host": host, "login": "OCDSUSER7",
                                              "password": "ocds-secret-91a", "extra": {"protocol": "http"}})
    hook = OcdsHook("ocds_plain", transport=httpx.MockTransport(lambda r: calls.append(r)))
    with pytest.raises(InputValidationError, match="requires HTTPS") as info:
        list(hook.iter_records("diff"))
    assert not calls
    assert "OCDSUSER7" not in str(info.value) and "ocds-secret-91a" not in str(info.value)


def test_plain_http_needs_loopback_or_the_explicit_opt_in(emulator):
    seen = []

    def answer(request):
        seen.append(str(request.url))
        return httpx.Response(200, json=_envelope([], False))

    conn = {"conn_type": "ocds", "host": "ocds.internal", "login": "u", "password": "p", "extra": {"protocol": "http"}}
    airflow_env.set_connection("ocds_optin", {**conn, "extra": {"protocol": "http", "allow_insecure_http": "true"}})
    assert list(OcdsHook("ocds_optin", transport=httpx.MockTransport(answer)).iter_records("diff")) == []
    assert seen == ["http://ocds.internal/ords/ocds/omnichannel/v2/diff"]
    airflow_env.set_connection("ocds_https", {**conn, "extra": {"protocol": "https"}})
    assert OcdsHook("ocds_https").base_url() == "https://ocds.internal/ords/ocds/omnichannel/"
    airflow_env.set_connection("ocds_loop", {**conn, "host": "127.0.0.1", "port": 8765})
    assert OcdsHook("ocds_loop").base_url() == "http://127.0.0.1:8765/ords/ocds/omnichannel/"
