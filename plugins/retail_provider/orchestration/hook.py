"""RetailHttpHook: what both vendors' hooks share, "a connection plus a cached client".

The connection is read on first use (never in ``__init__``); the HTTP session (client,
retries, errors, decoding: :class:`~retail_provider.http.session.ApiSession`) is built once
and reused.  Subclasses say where the API is (:meth:`~RetailHttpHook.resolve_base_url`) and
how to authenticate (:meth:`~RetailHttpHook.auth`); the HTTPS rule is applied here, for both.
Tests swap the transport or talk to the emulator; they never patch this code.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import cached_property
from typing import Any

import httpx
from airflow.sdk import BaseHook

from retail_provider.http import client as http_client
from retail_provider.http.retry import RetryPolicy
from retail_provider.http.session import ApiSession


def mask_secret(value: str | None) -> None:
    """Keep ``value`` out of task logs (Airflow's masker); a no-op outside a task."""
    if not value:
        return
    try:
        from airflow.sdk.log import mask_secret as _mask

        _mask(value)
    except Exception:  # pragma: no cover - outside a task
        pass


class RetailHttpHook(BaseHook):
    """Base hook: ``self.connection`` is read on first use, ``self.session`` is built once.

    :param conn_id: Airflow connection id.
    :param transport: optional httpx transport (tests, proxies); default is httpx's own.
    :param retry_policy: how failed idempotent requests are retried.
    :param timeout: read timeout in seconds; overrides the connection's ``timeout`` extra.
    """


    def __init__(self, conn_id: str | None = None, *, transport: httpx.BaseTransport | None = None,
                 retry_policy: RetryPolicy | None = None, timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__()
        self.conn_id = conn_id or kwargs.pop(self.conn_name_attr, None) or self.default_conn_name
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(kwargs)}")
        setattr(self, self.conn_name_attr, self.conn_id)  # ocds_conn_id / retailnext_conn_id, as providers do
        self._transport = transport
        self.retry_policy = retry_policy or RetryPolicy()
        self._timeout = timeout

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The connection form (hidden fields, relabeling, placeholders): the provider info's, one source."""
        from retail_provider import connection_type

        behaviour = connection_type(cls.conn_type)["ui-field-behaviour"]
        return {key.replace("-", "_"): value for key, value in behaviour.items()}

    @property
    def api(self) -> str:
        """The vendor, as errors name it: the connection type (``ocds``, ``retailnext``)."""
        return self.conn_type

    # -- connection ---------------------------------------------------------------------

    @cached_property
    def connection(self) -> Any:
        return self.get_connection(self.conn_id)

    @cached_property
    def extras(self) -> dict[str, Any]:
        return dict(self.connection.extra_dejson or {})

    def resolve_base_url(self) -> str:  # pragma: no cover - abstract
        """The API's base URL from the connection (before the HTTPS rule)."""
        raise NotImplementedError

    def auth(self) -> httpx.Auth:  # pragma: no cover - abstract
        raise NotImplementedError

    def base_url(self) -> str:
        """The checked base URL, ending in ``/``: HTTPS, or plain http to loopback or with the opt-in."""
        url = http_client.require_https(
            self.resolve_base_url(), conn_id=self.conn_id, api=self.api,
            allow_insecure_http=http_client.truthy(self.extras.get(http_client.INSECURE_OPT_IN)))
        return str(url).rstrip("/") + "/"

    def read_timeout(self) -> float | None:
        return self._timeout if self._timeout is not None else self.extras.get("timeout")

    def timeout(self) -> httpx.Timeout:
        return http_client.timeout(self.read_timeout())

    # -- session ------------------------------------------------------------------------

    def attempt_slot(self) -> AbstractContextManager[Any]:
        """Held during each request attempt (RetailNext caps concurrent requests)."""
        return nullcontext()

    def transport(self) -> httpx.BaseTransport | None:
        """The client's transport: the one given to the hook (tests, proxies), else httpx's own."""
        return self._transport

    def build_client(self) -> httpx.Client:
        """The client, whose successful answers count as pages of the running sync's progress log."""
        from retail_provider.orchestration.progress import count_response

        base = self.base_url()  # the HTTPS rule, before anything is sent
        client = http_client.build_client(base, auth=self.auth(), read_timeout=self.read_timeout(),
                                          transport=self.transport())
        client.event_hooks["response"].append(count_response(base))
        return client

    @cached_property
    def session(self) -> ApiSession:
        return ApiSession(self.api, self.build_client, self.retry_policy, self.attempt_slot)

    def get_client(self) -> httpx.Client:
        """The hook's one httpx client, built on first use and reused."""
        return self.session.client

    def request(self, method: str, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        """One request under the retry policy (see :meth:`ApiSession.fetch`)."""
        return self.session.request(method, url, **kwargs)

    def close(self) -> None:
        if "session" in self.__dict__:
            self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
