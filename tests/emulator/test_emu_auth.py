"""Authentication: HTTP Basic, OAuth2 client credentials tokens, expiry, the token endpoint."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.emulator.helpers import API, CLIENT_ID, CLIENT_SECRET, PATHS, USER

TOKEN = "/ords/ocds/oauth/token"


def _token(anon: httpx.Client) -> str:
    response = anon.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_basic_auth_is_accepted(client, state):
    assert client.get(f"{API}/diff").status_code == 200
    assert state.requests.records()[-1].auth == "basic"


@pytest.mark.parametrize("path", sorted(set(PATHS.values())))
def test_every_api_route_needs_credentials(anon, path):
    response = anon.get(f"{API}/{path}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json()["code"] == "Unauthorized"


def test_wrong_password_is_401(anon):
    response = anon.get(f"{API}/diff", auth=(USER, "wrong"))
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_unknown_scheme_is_401(anon):
    assert anon.get(f"{API}/diff", headers={"Authorization": "Digest abc"}).status_code == 401


def test_token_with_basic_client_authentication(anon):
    response = anon.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"]


def test_token_with_client_in_the_form(anon, state):
    response = anon.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    api = anon.get(f"{API}/vat", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    assert state.requests.records()[-1].auth == "bearer"


@pytest.mark.parametrize("client_auth", [(CLIENT_ID, "wrong"), ("someone", CLIENT_SECRET), None])
def test_token_with_a_wrong_client_is_invalid_client(anon, client_auth):
    response = anon.post(TOKEN, data={"grant_type": "client_credentials"}, auth=client_auth)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize("grant", ["password", "authorization_code", "refresh_token"])
def test_other_grants_are_unsupported(anon, grant):
    response = anon.post(TOKEN, data={"grant_type": grant}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_bearer_token_is_accepted(anon):
    token = _token(anon)
    assert anon.get(f"{API}/diff", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_unknown_bearer_token_is_401(anon):
    response = anon.get(f"{API}/diff", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_expired_token_is_401(anon, state):
    state.ocds_tokens.ttl = 0.3
    response = anon.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert response.json()["expires_in"] == 0.3
    token = response.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert anon.get(f"{API}/diff", headers=headers).status_code == 200
    time.sleep(0.4)
    expired = anon.get(f"{API}/diff", headers=headers)
    assert expired.status_code == 401
    assert "expired" in expired.headers["WWW-Authenticate"]
    fresh = _token(anon)
    assert anon.get(f"{API}/diff", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_tokens_can_be_expired_through_the_control_api(anon):
    token = _token(anon)
    response = anon.post("/_emulator/ocds/tokens", json={"expire": True, "ttl": 60})
    assert response.json() == {"ttl": 60.0, "expired": 1}
    assert anon.get(f"{API}/diff", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_control_routes_need_no_credentials(anon):
    assert anon.get("/_emulator/health").status_code == 200
    assert anon.get("/_emulator/ocds/truth/diff").status_code == 200
    assert anon.get("/_emulator/faults").status_code == 200
