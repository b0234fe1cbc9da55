"""Fault injection as an httpx client sees it: statuses, slowness, drops, bad bodies."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.emulator.helpers import API, PASSWORD, USER


def test_429_with_retry_after(client, state):
    state.faults.add("status", path=r"/v2/diff$", status=429, retry_after=7)
    response = client.get(f"{API}/diff")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["code"] == "TooManyRequests"
    assert client.get(f"{API}/diff").status_code == 200, "times=1: the next request passes"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_have_an_error_body(client, state, status):
    state.faults.add("status", status=status)
    response = client.get(f"{API}/vat")
    assert response.status_code == status
    body = response.json()
    assert body["code"] and body["message"]


def test_slow_answer_times_the_client_out(emu_server, state):
    state.faults.add("slow", path="/v2/vat", delay=1.5)
    with httpx.Client(base_url=emu_server.url, auth=(USER, PASSWORD), timeout=0.3) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            impatient.get(f"{API}/vat")
        assert impatient.get(f"{API}/vat").status_code == 200


def test_slow_answer_is_a_normal_answer(client, state):
    state.faults.add("slow", delay=0.3)
    response = client.get(f"{API}/diff")
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.3
    assert response.json()["count"] > 0


def test_drop_is_a_transport_error(client, state):
    state.faults.add("drop", path="/v2/item$")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"{API}/item")
    assert client.get(f"{API}/item").status_code == 200


def test_malformed_body_is_not_json(client, state):
    state.faults.add("malformed")
    response = client.get(f"{API}/diff")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_truncated_body_is_not_json(client, state):
    state.faults.add("truncate", path="/v2/item")
    response = client.get(f"{API}/item", params={"limit": 50})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert int(response.headers["content-length"]) == len(response.content) > 0
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert response.content.startswith(b'{"items":[')


def test_times_and_after(client, state):
    state.faults.add("status", path="/v2/diff", status=503, after=2, times=2)
    statuses = [client.get(f"{API}/diff").status_code for _ in range(6)]
    assert statuses == [200, 200, 503, 503, 200, 200]


def test_unlimited_times(client, state):
    state.faults.add("status", status=500, times=None)
    assert {client.get(f"{API}/diff").status_code for _ in range(4)} == {500}


def test_only_matching_paths_are_affected(client, state):
    state.faults.add("status", path=r"/v2/item/price", status=500, times=None)
    assert client.get(f"{API}/diff").status_code == 200
    assert client.get(f"{API}/item/price", params={"pricetype": "REGULAR"}).status_code == 500


def test_control_routes_are_never_faulted(client, state):
    state.faults.add("status", status=500, times=None)
    assert client.get("/_emulator/health").status_code == 200
    assert client.get("/_emulator/ocds/truth/vat").status_code == 200
    assert client.get(f"{API}/vat").status_code == 500


def test_token_endpoint_can_be_faulted(anon, state):
    state.faults.add("status", path="/oauth/token", status=503)
    response = anon.post(
        "/ords/ocds/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("ocds_client", "ocds_secret"),
    )
    assert response.status_code == 503


def test_faults_over_http(client, state):
    created = client.post(
        "/_emulator/faults", json={"kind": "status", "status": 502, "path": "/v2/vat", "times": 1}
    )
    assert created.status_code == 201
    rule = created.json()
    assert rule["kind"] == "status" and rule["id"] >= 1
    listed = client.get("/_emulator/faults").json()
    assert [r["id"] for r in listed] == [rule["id"]]
    assert client.get(f"{API}/vat").status_code == 502
    assert client.get("/_emulator/faults").json()[0]["applied"] == 1
    assert client.delete("/_emulator/faults").status_code == 200
    assert client.get("/_emulator/faults").json() == []
    several = client.post("/_emulator/faults", json=[{"kind": "slow", "delay": 0.01}, {"kind": "malformed"}])
    assert len(several.json()) == 2
    assert client.delete(f"/_emulator/faults/{several.json()[0]['id']}").json() == {"removed": True}
    assert len(state.faults.rules()) == 1


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "explode"},
        {"kind": "status", "status": 42},
        {"kind": "slow", "delay": -1},
        {"kind": "status", "path": "("},
        {"kind": "status", "colour": "red"},
    ],
)
def test_invalid_fault_is_400(client, spec):
    assert client.post("/_emulator/faults", json=spec).status_code == 400


def test_request_log_records_faults_and_statuses(client, state):
    state.faults.add("status", status=503)
    client.get(f"{API}/diff", params={"limit": 3})
    client.get(f"{API}/diff", params={"limit": 4})
    records = state.requests.records("/v2/diff")
    assert [(r.status, r.fault, r.query) for r in records] == [
        (503, "status", {"limit": "3"}),
        (200, None, {"limit": "4"}),
    ]
    assert client.get("/_emulator/requests", params={"path": "/v2/diff"}).json()[0]["fault"] == "status"
