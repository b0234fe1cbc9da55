"""Everything an emulator instance holds: data, faults, request log, credentials, clock.

One :class:`EmulatorState` is shared by the ASGI app (serving in a background thread) and
the test or script that drives it, which changes data, adds faults and reads the log
through the Python objects directly or through the ``/_emulator`` HTTP routes.
"""

from __future__ import annotations

from include.emulator.auth import Authenticator, BasicCredentials, TokenIssuer
from include.emulator.clock import Clock
from include.emulator.faults import FaultInjector
from include.emulator.ocds.dataset import OcdsDataset
from include.emulator.requestlog import RequestLog
from include.emulator.retailnext.dataset import RetailNextDataset


class EmulatorState:
    """State of one emulator.

    :param ocds_scale: number of OCDS items (other entity sizes derive from it).
    :param seed: seed of every generated value.
    :param ocds_user: HTTP Basic user accepted by the OCDS API.
    :param ocds_password: its password.
    :param ocds_client_id: OAuth2 client id accepted by ``POST /ords/ocds/oauth/token``.
    :param ocds_client_secret: its secret.
    :param ocds_token_ttl: bearer token lifetime in seconds (``state.ocds_auth.tokens.ttl`` later).
    :param ocds_entity_case: ``"title"`` (``Item``, as in the reference) or ``"lower"``
        spelling of ``v2/refreshdate`` entities.
    :param request_log_size: how many requests :attr:`requests` keeps.
    :param retailnext_stores: number of RetailNext stores (the RetailNext scale).
    :param retailnext_access_key: HTTP Basic user (API access key) accepted by RetailNext.
    :param retailnext_secret_key: its password (API secret key).
    """

    def __init__(
        self,
        ocds_scale: int = 500,
        seed: int = 7,
        *,
        ocds_user: str = "ocds_user",
        ocds_password: str = "ocds_password",
        ocds_client_id: str = "ocds_client",
        ocds_client_secret: str = "ocds_secret",
        ocds_token_ttl: float = 3600.0,
        ocds_entity_case: str = "title",
        request_log_size: int = 10_000,
        retailnext_stores: int = 10,
        retailnext_access_key: str = "rn_access_key",
        retailnext_secret_key: str = "rn_secret_key",
    ) -> None:
        self.seed = int(seed)
        self.clock = Clock()
        self.faults = FaultInjector()
        self.requests = RequestLog(request_log_size)
        self.ocds_auth = Authenticator(
            BasicCredentials(ocds_user, ocds_password),
            TokenIssuer(ocds_client_id, ocds_client_secret, float(ocds_token_ttl)),
            realm="ocds",
        )
        self.ocds = OcdsDataset(ocds_scale, self.seed, self.clock, entity_case=ocds_entity_case)
        self.retailnext_auth = Authenticator(
            BasicCredentials(retailnext_access_key, retailnext_secret_key), None, realm="retailnext"
        )
        self.retailnext = RetailNextDataset(retailnext_stores, self.seed, self.clock)

    @property
    def ocds_tokens(self) -> TokenIssuer:
        assert self.ocds_auth.tokens is not None
        return self.ocds_auth.tokens

    @property
    def ocds_credentials(self) -> dict[str, str]:
        """The accepted OCDS credentials (for building client connections in tests)."""
        basic, tokens = self.ocds_auth.basic, self.ocds_tokens
        assert basic is not None
        return {
            "user": basic.user,
            "password": basic.password,
            "client_id": tokens.client_id,
            "client_secret": tokens.client_secret,
        }

    @property
    def retailnext_credentials(self) -> dict[str, str]:
        """The accepted RetailNext API key pair (HTTP Basic user and password)."""
        basic = self.retailnext_auth.basic
        assert basic is not None
        return {"access_key": basic.user, "secret_key": basic.password}

    def reset(self) -> None:
        """Generated data back, faults cleared, request log emptied, tokens revoked."""
        self.ocds.reset()
        self.retailnext.reset()
        self.faults.clear()
        self.requests.clear()
        self.ocds_tokens.revoke_all()
