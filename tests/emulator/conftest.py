"""Fixtures of the emulator tests: one emulator over real HTTP for the whole session.

Every test starts from the generated dataset (``state.reset()``): no faults, no changes,
an empty request log and the default token lifetime.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from include.emulator import EmulatorServer
from tests.emulator.helpers import PASSWORD, SCALE, SEED, USER


@pytest.fixture(scope="session")
def emu_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(ocds_scale=SCALE, seed=SEED) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_state(emu_server: EmulatorServer) -> Iterator[None]:
    state = emu_server.state
    state.reset()
    state.ocds_tokens.ttl = 3600.0
    yield
    state.faults.clear()


@pytest.fixture
def state(emu_server: EmulatorServer):
    return emu_server.state


@pytest.fixture
def client(emu_server: EmulatorServer) -> Iterator[httpx.Client]:
    """An httpx client with the emulator's Basic credentials."""
    with httpx.Client(base_url=emu_server.url, auth=(USER, PASSWORD), timeout=10) as c:
        yield c


@pytest.fixture
def anon(emu_server: EmulatorServer) -> Iterator[httpx.Client]:
    """An httpx client without credentials."""
    with httpx.Client(base_url=emu_server.url, timeout=10) as c:
        yield c


# ---------------------------------------------------------------------------- RetailNext

RN_KEY, RN_SECRET = "rn_access_key", "rn_secret_key"
#: A Wednesday, 12:07 in Los Angeles: the RetailNext tests pin "now" here.
RN_NOW = "2024-05-15T19:07:00+00:00"


@pytest.fixture
def rn(emu_server: EmulatorServer):
    """The RetailNext dataset (control API), with "now" frozen at :data:`RN_NOW`."""
    dataset = emu_server.state.retailnext
    dataset.reset(now=RN_NOW)
    return dataset


@pytest.fixture
def rn_client(emu_server: EmulatorServer, rn) -> Iterator[httpx.Client]:
    """An httpx client with the RetailNext API key pair."""
    with httpx.Client(base_url=emu_server.url, auth=(RN_KEY, RN_SECRET), timeout=30) as c:
        yield c


@pytest.fixture
def rn_pages():
    """``fetch(client, method, path, json=None, length=None, headers=None)``: every v1 page.

    Returns ``(pages, statuses)``: each page's JSON body and status, following X-Page-Next.
    """

    def fetch(client, method, path, json=None, length=None, headers=None):
        pages, statuses = [], []
        start = None
        for _ in range(10_000):
            hdrs = dict(headers or {})
            if length is not None:
                hdrs["X-Page-Length"] = str(length)
            if start is not None:
                hdrs["X-Page-Start"] = start
            response = client.request(method, path, json=json, headers=hdrs)
            assert response.status_code in (200, 206), response.text
            pages.append(response.json())
            statuses.append(response.status_code)
            if response.status_code == 200:
                assert "x-page-next" not in response.headers
                return pages, statuses
            start = response.headers["x-page-next"]
        raise AssertionError("paging did not end")

    return fetch
