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
