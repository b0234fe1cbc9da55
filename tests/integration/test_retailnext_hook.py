"""RetailNextHook against the emulator over real HTTP: v1 paging, inventory cursors, the v2 cap,
the 3-concurrent limit, retries, typed errors, credentials and the HTTPS rule."""

from __future__ import annotations

import json
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from retail_provider.http.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    InputValidationError,
    InvalidResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from retail_provider.http.retry import RetryPolicy
from retail_provider.retailnext.hook import RetailNextHook
from retail_provider.retailnext.models import ZoneTransitionsRequest

ACCESS_KEY, SECRET_KEY = "rn_access_key", "rn_secret_key"


class Sleeps(list):
    """Records the waits the retry policy asks for; sleeps at most ``cap`` seconds of each."""

    def __init__(self, cap: float = 0.0) -> None:
        super().__init__()
        self.cap = cap
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.append(seconds)
        if self.cap:
            time.sleep(min(seconds, self.cap))


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture(autouse=True)
def _fresh(emulator):
    emulator.state.retailnext.reset()
    emulator.state.faults.clear()
    emulator.state.requests.clear()
    yield
    emulator.state.faults.clear()
    emulator.state.retailnext.reset()


@pytest.fixture
def rn(emulator):
    return emulator.state.retailnext


@pytest.fixture
def hook(airflow_connections, sleeps):
    h = RetailNextHook("retailnext_default", retry_policy=RetryPolicy(max_attempts=4, sleep=sleeps), timeout=10)
    yield h
    h.close()


def _connection(monkeypatch, conn_id: str, host: str, *, login: str = ACCESS_KEY, password: str = SECRET_KEY,
                **extra) -> None:
    value = {"conn_type": "retailnext", "host": host, "login": login, "password": password, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value))


def _statuses(emulator, path: str) -> list[int]:
    return [r.status for r in emulator.state.requests.records(path) if r.path == path]


def _pages(n: int, length: int) -> list[int]:
    """206 while entries remain after a page, 200 on the last one."""
    pages = max(1, math.ceil(n / length))
    return [206] * (pages - 1) + [200]


# --- v1 paging --------------------------------------------------------------------------------


def _endpoints(rn):
    """(name, call(hook, page_length), path, expected ids)."""
    store = rn.stores()[3]["uuid"]
    profile = rn.user_profiles()[2]["id"]
    since = rn.alerts()[7]["alert_creation_time"]
    stores = [s["uuid"] for s in rn.stores()]
    first, last = date(2024, 5, 6), date(2024, 5, 12)
    return [
        ("locations", lambda h, n: [x.uuid for x in h.list_locations(page_length=n)], "/v1/location",
         [x["uuid"] for x in rn.locations()]),
        ("users", lambda h, n: [x.id for x in h.users(page_length=n)], "/v1/users", [u["id"] for u in rn.users()]),
        ("sso users", lambda h, n: [x.id for x in h.users(type="SSO", page_length=n)], "/v1/users",
         [u["id"] for u in rn.users() if u["type"] == "sso"]),
        ("user_profiles", lambda h, n: [x.id for x in h.user_profiles(page_length=n)], "/v1/user_profiles",
         [p["id"] for p in rn.user_profiles()]),
        ("one user profile", lambda h, n: [x.id for x in h.user_profiles(profile, page_length=n)],
         f"/v1/user_profiles/{profile}", [profile]),
        ("location_profiles", lambda h, n: [x.id for x in h.location_profiles(page_length=n)],
         "/v1/location_profiles", [p["id"] for p in rn.location_profiles()]),
        ("healthalerts", lambda h, n: [x.uuid for x in h.health_alerts(page_length=n)], "/v1/healthalerts",
         [a["uuid"] for a in rn.alerts()]),
        ("healthalerts since", lambda h, n: [x.uuid for x in h.health_alerts(since, page_length=n)],
         "/v1/healthalerts", [a["uuid"] for a in rn.alerts(since)]),
        ("fpafloorplans", lambda h, n: [x.id for x in h.floorplans(page_length=n)], "/v1/fpafloorplans",
         [p["id"] for p in rn.floorplans()]),
        ("store fpafloorplans", lambda h, n: [x.id for x in h.floorplans(store, page_length=n)],
         f"/v1/stores/{store}/fpafloorplans", [p["id"] for p in rn.floorplans(store)]),
        ("storehours", lambda h, n: [(x.store_uuid, x.effective_day) for x in h.store_hours(stores, first, last,
                                                                                             page_length=n)],
         "/v1/storehours", [(e["store_uuid"], e["effective_day"]) for e in rn.storehours(stores, first, last)]),
    ]


@pytest.mark.parametrize("page_length", [1, 4, 100])
def test_v1_paging_through_every_paged_endpoint(hook, rn, emulator, page_length):
    for name, call, path, expected in _endpoints(rn):
        emulator.state.requests.clear()
        got = call(hook, page_length)
        assert got == expected, name
        assert _statuses(emulator, path) == _pages(len(expected), page_length), name


def test_page_length_is_checked_before_any_request(hook, emulator):
    for bad in (0, 101):
        with pytest.raises(InputValidationError, match="page_length must be from 1 to 100"):
            hook.users(page_length=bad)
    assert len(emulator.state.requests) == 0


# --- inventory cursors ------------------------------------------------------------------------


@pytest.mark.parametrize("kind,key", [("cameras", "device_id"), ("channels", "channel_uuid"),
                                      ("appliances", "appliance_id")])
def test_inventory_cursor_to_end_with_and_without_store(hook, rn, emulator, kind, key):
    store = rn.stores()[2]["uuid"]
    for store_uuid, page_length in ((None, 3), (store, 1), (None, 100)):
        emulator.state.requests.clear()
        pages = list(hook.iter_inventory(kind, store_uuid=store_uuid, page_length=page_length))
        truth = getattr(rn, kind)(store_uuid)
        assert [x[key] for page in pages for x in page] == [x[key] for x in truth]
        assert len(pages) == max(1, math.ceil(len(truth) / page_length))
        sent = emulator.state.requests.records(f"/v1/inventory/{kind}")
        assert len(sent) == len(pages) and all(r.query == ({"store_uuid": store} if store_uuid else {}) for r in sent)
    with pytest.raises(NotFoundError):
        list(hook.iter_inventory(kind, store_uuid="00000000-0000-1000-8000-000000000000"))


# --- the v2 10,000 cap -------------------------------------------------------------------------


def test_v2_location_cap_is_split_around_never_lost(hook, rn, emulator):
    store = rn.stores()[0]["uuid"]
    rn.add_locations(store, 10_050, location_type="other", prefix="Shelf")
    try:
        others = [x["uuid"] for x in rn.locations() if x["location_type"] == "other"]
        assert len(others) > 10_000
        with httpx.Client(base_url=emulator.url, auth=(ACCESS_KEY, SECRET_KEY)) as client:  # the trap is real
            plain = client.post("/v2/location", json={"where": {"location_types": ["other"]}}).json()
        assert len(plain["nodes"][0]) == 10_000
        emulator.state.requests.clear()
        got = hook.query_locations(location_types=["other"], extra_fields=["store.time_zone"])
        assert sorted(x.uuid for x in got) == sorted(others) and len({x.uuid for x in got}) == len(others)
        assert len(emulator.state.requests.records("/v2/location")) >= 3  # the trimmed answer, then batches
        everything = hook.query_locations()
        assert len(everything) == len(rn.locations())
        emulator.state.requests.clear()
        stores = hook.query_locations(location_types=["store"], extra_fields=["store.store_id"])
        assert {s.uuid: s.store_id for s in stores} == {s["uuid"]: s["store_id"] for s in rn.stores()}
        assert len(emulator.state.requests) == 1  # under the cap: one call
    finally:
        rn.reset()


# --- the 3-concurrent limit ---------------------------------------------------------------------


def _prediction_calls(rn) -> list[tuple[str, date, date]]:
    calls = []
    for store in rn.stores()[:4]:
        tomorrow = datetime.now(ZoneInfo(store["time_zone"])).date() + timedelta(days=1)
        calls += [(store["uuid"], tomorrow, tomorrow + timedelta(days=6)),
                  (store["uuid"], tomorrow + timedelta(days=7), tomorrow + timedelta(days=13))]
    return calls


def _expected_predictions(rn, store, first, last):
    out, day = [], first
    while day <= last:
        out += [(p["time"], p["value"]) for p in rn.predicted(store, day)]
        day += timedelta(days=1)
    return out


def test_the_hook_cap_keeps_eight_threads_under_three_concurrent_requests(hook, rn, emulator):
    rn.set_service_delay(0.15)
    calls = _prediction_calls(rn)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda c: hook.predicted_traffic(*c), calls))
        cams = list(pool.map(lambda s: [c["device_id"] for p in hook.iter_inventory("cameras", store_uuid=s["uuid"])
                                        for c in p], rn.stores()))
    for (store, first, last), result in zip(calls, results):
        assert [(p.time, p.value) for p in result.predictions] == _expected_predictions(rn, store, first, last)
    assert cams == [[c["device_id"] for c in rn.cameras(s["uuid"])] for s in rn.stores()]
    statuses = [r.status for r in emulator.state.requests]
    assert 429 not in statuses and statuses.count(200) == len(calls) + len(rn.stores())


def test_429_beyond_three_concurrent_requests_is_absorbed(airflow_connections, rn, emulator, monkeypatch):
    """Without the hook's cap (8 allowed here) the API answers 429 + Retry-After; retries lose nothing."""
    rn.set_service_delay(0.3)
    _connection(monkeypatch, "rn_uncapped", emulator.url.replace("127.0.0.1", "localhost"), max_concurrency=8)
    waits = Sleeps(cap=0.2)
    hook = RetailNextHook("rn_uncapped", retry_policy=RetryPolicy(max_attempts=30, sleep=waits))
    calls = _prediction_calls(rn)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda c: hook.predicted_traffic(*c), calls))
            cams = list(pool.map(lambda s: [c["device_id"] for p in hook.iter_inventory(
                "cameras", store_uuid=s["uuid"]) for c in p], rn.stores()[:6] * 2))
    finally:
        hook.close()
    for (store, first, last), result in zip(calls, results):
        assert [(p.time, p.value) for p in result.predictions] == _expected_predictions(rn, store, first, last)
    assert cams == [[c["device_id"] for c in rn.cameras(s["uuid"])] for s in rn.stores()[:6] * 2]
    for path in ("/v1/predictedtraffic", "/v1/inventory/cameras"):
        statuses = _statuses(emulator, path)
        assert 429 in statuses, path  # the limit was hit...
    assert waits and set(waits) == {1.0}  # ...and every retry waited the server's Retry-After


# --- retries and typed errors ------------------------------------------------------------------


def test_5xx_and_429_are_retried_with_retry_after(hook, rn, emulator, sleeps):
    emulator.state.faults.add("status", path=r"^/v1/users$", status=503, times=2)
    emulator.state.faults.add("status", path=r"^/v1/users$", status=429, retry_after=3, after=3, times=1)
    users = hook.users(page_length=5)
    assert [u.id for u in users] == [u["id"] for u in rn.users()]
    assert len(sleeps) == 3 and sleeps[-1] == 3.0 and all(s <= 1.0 for s in sleeps[:2])
    assert _statuses(emulator, "/v1/users").count(503) == 2 and 429 in _statuses(emulator, "/v1/users")
    # a POST read (store hours) is retried like a GET
    sleeps.clear()
    emulator.state.faults.add("status", path=r"^/v1/storehours$", status=502, times=1)
    assert hook.store_hours([rn.stores()[0]["uuid"]], date(2024, 5, 6), date(2024, 5, 6))
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("call", "error", "status"),
    [
        (lambda h, rn: h.floorplans("00000000-0000-1000-8000-000000000000"), NotFoundError, 404),
        (lambda h, rn: h.store_hours([rn.locations()[0]["uuid"]], date(2024, 5, 1), date(2024, 5, 2)),
         BadRequestError, 400),
        (lambda h, rn: h.zone_transitions(ZoneTransitionsRequest(
            locations=[rn.stores()[0]["uuid"]], date_ranges=[{"start": "2024-05-01", "finish": "2024-05-02"}])),
         BadRequestError, 400),
        (lambda h, rn: h.predicted_traffic(rn.stores()[0]["uuid"], date(2020, 1, 1), date(2020, 1, 2)),
         BadRequestError, 400),
    ],
    ids=["not-found", "not-a-store", "not-a-zone-location", "past-prediction"],
)
def test_typed_errors(hook, rn, sleeps, call, error, status):
    with pytest.raises(error) as info:
        call(hook, rn)
    assert info.value.status_code == status and info.value.api == "retailnext"
    assert not sleeps  # 4xx are not retried


def test_retries_are_capped_then_typed(hook, emulator, sleeps):
    emulator.state.faults.add("status", path=r"^/v1/location$", status=500, times=None)
    with pytest.raises(ServerError, match="HTTP 500"):
        hook.list_locations()
    assert len(sleeps) == 3 and _statuses(emulator, "/v1/location") == [500] * 4
    emulator.state.faults.clear()
    emulator.state.faults.add("status", path=r"^/v1/location$", status=429, retry_after=0, times=None)
    with pytest.raises(RateLimitedError):
        hook.list_locations()
    emulator.state.faults.clear()
    # an undecodable 200 is transient for an idempotent request: retried, then typed
    emulator.state.faults.add("malformed", path=r"^/v1/users$", times=None)
    with pytest.raises(InvalidResponseError, match="not the documented JSON"):
        hook.users()
    assert _statuses(emulator, "/v1/users") == [200] * 4


# --- credentials and the HTTPS rule ---------------------------------------------------------------


def test_bad_credentials_are_an_authentication_error_without_retries(emulator, monkeypatch, sleeps):
    _connection(monkeypatch, "rn_wrong", emulator.url, login="AKIDWRONGACCESS42", password="wrong-secret-7f3c9")
    hook = RetailNextHook("rn_wrong", retry_policy=RetryPolicy(sleep=sleeps))
    with pytest.raises(AuthenticationError) as info:
        hook.users()
    hook.close()
    assert info.value.status_code == 401 and not sleeps
    for secret in ("AKIDWRONGACCESS42", "wrong-secret-7f3c9"):
        assert secret not in str(info.value) and secret not in repr(info.value.args)


def test_missing_credentials_fail_before_any_request(emulator, monkeypatch):
    _connection(monkeypatch, "rn_nokeys", emulator.url, login="", password="")
    with pytest.raises(InputValidationError, match="access key .* and secret key .* are required"):
        RetailNextHook("rn_nokeys").users()
    assert len(emulator.state.requests) == 0


@pytest.mark.parametrize("host", ["http://retailnext.example.com", "http://10.20.30.40:8080",
                                  "http://acme.api.retailnext.net:80/"])
def test_plain_http_to_a_non_loopback_host_is_refused_before_any_request(emulator, monkeypatch, host):
    _connection(monkeypatch, "rn_plain", host, login="AKIDPLAIN99", password="plain-secret-0b1d")
    transport_calls = []
    hook = RetailNextHook("rn_plain", transport=httpx.MockTransport(lambda r: transport_calls.append(r)))
    with pytest.raises(InputValidationError, match="requires HTTPS") as info:
        hook.list_locations()
    assert not transport_calls and len(emulator.state.requests) == 0
    assert "AKIDPLAIN99" not in str(info.value) and "plain-secret-0b1d" not in str(info.value)


def test_subscription_names_become_https_urls(monkeypatch):
    _connection(monkeypatch, "rn_sub", "acme")
    assert RetailNextHook("rn_sub").base_url() == "https://acme.api.retailnext.net/"


def test_secrets_never_appear_in_errors_or_logs(hook, emulator, caplog):
    caplog.set_level("DEBUG")
    emulator.state.faults.add("status", path=r"^/v1/healthalerts$", status=503, times=None)
    errors: list[ApiError] = []
    for call in (lambda: hook.health_alerts("2024-01-01T00:00:00Z"),
                 lambda: hook.health_alerts("yesterday"),
                 lambda: hook.floorplans("00000000-0000-1000-8000-000000000000")):
        with pytest.raises(ApiError) as info:
            call()
        errors.append(info.value)
    assert [type(e) for e in errors] == [ServerError, InputValidationError, NotFoundError]
    text = caplog.text + " ".join(f"{e} {e.args!r} {e.url}" for e in errors)
    assert "retrying" in caplog.text  # the retry warnings were logged...
    for secret in (ACCESS_KEY, SECRET_KEY):
        assert secret not in text  # ...without either key


# --- one retry predicate for both vendors: undecodable 200s of read POSTs ------------------------


@pytest.mark.parametrize("kind", ["truncate", "malformed"])
def test_a_read_post_retries_an_undecodable_200(hook, emulator, sleeps, kind):
    """Datamine and location queries are POSTs that only read: a cut-off or HTML 200 is retried."""
    from retail_provider.retailnext.datamine.plan import window_request

    store = emulator.state.retailnext.stores()[0]["uuid"]
    body = window_request(locations=[store], metrics=["traffic_in"], date_from=date(2024, 6, 1),
                          date_to=date(2024, 6, 3), grain="day")
    emulator.state.faults.add(kind, path=r"^/v2/datamine$", times=1)
    answer = hook.datamine(body)
    assert answer.ok and answer.metrics and _statuses(emulator, "/v2/datamine") == [200, 200]
    assert len(sleeps) == 1
    emulator.state.faults.add(kind, path=r"^/v2/location$", times=1)
    assert hook.query_locations(location_types=["store"]) and _statuses(emulator, "/v2/location") == [200, 200]


def test_a_creating_post_is_never_retried(emulator, sleeps, airflow_connections):
    """The same fault on a POST that creates something is raised at once: it may have happened."""
    from retail_provider.retailnext.writes.models import LocationCreate

    hook = RetailNextHook("retailnext_default", retry_policy=RetryPolicy(max_attempts=4, sleep=sleeps))
    store = emulator.state.retailnext.stores()[0]["uuid"]
    emulator.state.faults.add("truncate", path=r"^/v2/location/create$", times=1)
    with pytest.raises(InvalidResponseError):
        hook.create_location(LocationCreate(name="Door 9", parent_uuid=store, location_type="entrance"))
    hook.close()
    assert not sleeps and _statuses(emulator, "/v2/location/create") == [200]
