"""A million items: the lazy dataset starts at once and serves full pages quickly (no timed asserts)."""

from __future__ import annotations

import time

import httpx

from include.emulator import EmulatorServer
from tests.emulator.helpers import API, PASSWORD, USER


def test_a_million_items_start_fast_and_serve_full_pages():
    started = time.perf_counter()
    with EmulatorServer(ocds_scale=1_000_000, seed=7) as server:
        startup = time.perf_counter() - started
        server.state.ocds.set_readings(max_limit=10_000)  # a server cap, reported in the envelope
        with httpx.Client(base_url=server.url, auth=(USER, PASSWORD), timeout=60) as client:
            client.get(f"{API}/item", params={"limit": 10})
            rates = []
            url = f"{API}/item?limit=50000"
            first_items = []
            for _ in range(3):
                t0 = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - t0
                body = response.json()
                assert body["limit"] == 10_000 and body["count"] == 10_000 and body["hasMore"] is True
                first_items.append(body["items"][0]["item"])
                rates.append(10_000 / elapsed)
                url = next(link["href"] for link in body["links"] if link["rel"] == "next")
            assert first_items == ["100000000", "100010000", "100020000"]
            state = server.state
            t0 = state.ocds.now()
            state.ocds.mutate("item", updates=5, inserts=2, seed=1)
            t1 = time.perf_counter()
            changes = client.get(f"{API}/item", params={"since": t0.isoformat()}).json()
            incremental = time.perf_counter() - t1
            assert changes["count"] == 7
            stores = client.get(
                f"{API}/item/price",
                params={"pricetype": "REGULAR", "nodelevel": "STORE", "nodeid": 1007, "limit": 10_000},
            ).json()
            assert stores["count"] == 10_000 and {r["location"] for r in stores["items"]} == {1007}
    print(
        f"\nscale 1,000,000: startup {startup:.3f}s; 10,000-row item pages at "
        f"{', '.join(f'{r:,.0f}' for r in rates)} rows/s (client in the same process); "
        f"incremental window {incremental * 1000:.1f} ms"
    )
