"""RetailNextHook: the RetailNext REST API (v1 and v2).

Connection type ``retailnext``:

* host: the subscription name (``acme`` gives ``https://acme.api.retailnext.net``) or a
  full base URL (``http://127.0.0.1:8765`` for the emulator); an extra ``base_url`` wins;
* login / password: the API token's access key and secret key (HTTP Basic);
* extras ``timeout`` (read timeout, seconds), ``max_concurrency`` (default 3) and
  ``allow_insecure_http`` (plain HTTP to a named host, e.g. the emulator in docker compose).

HTTPS is required except for loopback hosts.  The client caps concurrent requests per
subscription (RetailNext answers 429 beyond 3 concurrent predicted-traffic or camera
requests); pair it with an Airflow pool so tasks on other workers respect it too.

Paging helpers stream page by page: v1 integer offsets (``X-Page-Length`` /
``X-Page-Start`` in, ``206`` + ``X-Page-Next`` out, ``200`` on the last page) and the
inventory endpoints' string cursor (``next_page``, ``"end"`` when done).
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, ClassVar

import httpx
import orjson

from retail_provider import __version__
from retail_provider.http.errors import (
    ApiError,
    InputValidationError,
    InvalidResponseError,
)
from retail_provider.orchestration.hook import RetailHttpHook
from retail_provider.retailnext import models as m
from retail_provider.retailnext.video.hook import RetailNextVideoMixin
from retail_provider.retailnext.writes.hook import RetailNextAdminMixin
from retail_provider.timeutil import parse_aware

V1_PAGE_LENGTH = 100
V2_MAX_ENTRIES = 10_000
INVENTORY_KINDS = {"cameras": "cameras", "channels": "channels", "appliances": "store_appliances"}


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class RetailNextHook(RetailNextVideoMixin, RetailNextAdminMixin, RetailHttpHook):
    """Talk to the RetailNext API.

    :param retailnext_conn_id: connection id of type ``retailnext``.
    """

    conn_name_attr = "retailnext_conn_id"
    default_conn_name = "retailnext_default"
    conn_type = "retailnext"
    hook_name = "RetailNext"
    api = "retailnext"

    _slots: ClassVar[dict[str, threading.BoundedSemaphore]] = {}
    _slots_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, retailnext_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(retailnext_conn_id, **kwargs)
        self.retailnext_conn_id = retailnext_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema", "port"],
            "relabeling": {"host": "Subscription or base URL", "login": "Access key", "password": "Secret key"},
            "placeholders": {"host": "acme  (or https://acme.api.retailnext.net)", "login": "access key"},
        }

    # -- client -------------------------------------------------------------------------

    def base_url(self) -> str:
        conn = self.connection
        raw = str(self.extras.get("base_url") or conn.host or "").strip().rstrip("/")
        if not raw:
            raise InputValidationError(f"connection {self.conn_id!r}: host (subscription name) is required",
                                       api=self.api)
        if "://" not in raw:
            if "." in raw or ":" in raw:
                raw = f"https://{raw}"
            else:
                raw = f"https://{raw}.api.retailnext.net"
        url = httpx.URL(raw)
        if conn.port and not url.port and "://" not in str(conn.host or "") and "." in str(conn.host or ""):
            url = url.copy_with(port=conn.port)
        insecure_ok = str(self.extras.get("allow_insecure_http") or "").lower() in ("1", "true", "yes")
        if url.scheme != "https" and not _is_loopback(url.host) and not insecure_ok:
            raise InputValidationError(
                f"connection {self.conn_id!r}: RetailNext requires HTTPS; plain {url.scheme} is only allowed "
                f"for loopback hosts or with the extra allow_insecure_http (got host {url.host!r})",
                api=self.api,
            )
        return str(url).rstrip("/") + "/"

    def build_client(self) -> httpx.Client:
        conn = self.connection
        if not conn.login or not conn.password:
            raise InputValidationError(
                f"connection {self.conn_id!r}: the access key (login) and secret key (password) are required",
                api=self.api,
            )
        try:  # the access key is half of the credential: keep it out of task logs too
            from airflow.sdk.log import mask_secret

            mask_secret(conn.login)
        except Exception:  # pragma: no cover - outside a task
            pass
        return httpx.Client(
            base_url=self.base_url(),
            auth=httpx.BasicAuth(conn.login, conn.password),
            timeout=self.timeout(),
            transport=self._transport,
            headers={"Accept": "application/json", "User-Agent": f"airflow-provider-retail/{__version__}"},
            follow_redirects=False,
        )

    # -- concurrency --------------------------------------------------------------------

    def _slot(self) -> threading.BoundedSemaphore:
        key = self.base_url()
        limit = int(self.extras.get("max_concurrency") or 3)
        with self._slots_lock:
            if key not in self._slots:
                self._slots[key] = threading.BoundedSemaphore(limit)
            return self._slots[key]

    @contextmanager
    def _limited(self) -> Iterator[None]:
        slot = self._slot()
        with slot:
            yield

    def _send_once(self, method: str, url: str | httpx.URL, ok_statuses: tuple[int, ...] = (),
                   **kwargs: Any) -> httpx.Response:
        # one slot per attempt: a retry's backoff does not hold a slot
        with self._limited():
            return super()._send_once(method, url, ok_statuses, **kwargs)

    def _get_body(self, url: str | httpx.URL, **kwargs: Any) -> tuple[httpx.Response, bytearray]:
        with self._limited():
            return super()._get_body(url, **kwargs)

    # -- generic calls ------------------------------------------------------------------

    def call_json(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None, idempotent: bool = True) -> tuple[httpx.Response, Any]:
        """One JSON call (read POSTs such as datamine are idempotent); returns response and body."""
        body = orjson.dumps(json) if json is not None else None
        hdrs = {"Content-Type": "application/json", **(headers or {})} if body is not None else (headers or {})
        response = self.request(method, path, content=body, params=params, headers=hdrs, idempotent=idempotent)
        try:
            return response, (orjson.loads(response.content) if response.content else None)
        except orjson.JSONDecodeError:
            raise InvalidResponseError(
                f"retailnext {method} {path} returned a body that is not JSON: {response.text[:200]!r}",
                api=self.api, status_code=response.status_code,
            ) from None

    def iter_v1_pages(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                      page_length: int = V1_PAGE_LENGTH) -> Iterator[Any]:
        """Yield the body of every page of a v1 list: 206 + ``X-Page-Next`` means more, 200 is the last."""
        if not 1 <= page_length <= V1_PAGE_LENGTH:
            raise InputValidationError(f"page_length must be from 1 to {V1_PAGE_LENGTH} (got {page_length})",
                                       api=self.api)
        start: str | None = None
        seen: set[str] = set()
        while True:
            headers = {"X-Page-Length": str(page_length)}
            if start is not None:
                headers["X-Page-Start"] = start
            response, body = self.call_json(method, path, json=json, params=params, headers=headers)
            yield body
            if response.status_code != 206:
                return
            nxt = response.headers.get("X-Page-Next")
            if not nxt:
                raise InvalidResponseError(f"retailnext {path}: HTTP 206 without X-Page-Next", api=self.api)
            if nxt in seen:
                raise InvalidResponseError(f"retailnext {path}: X-Page-Next {nxt} repeats; stopping", api=self.api)
            seen.add(nxt)
            start = nxt

    def iter_v1(self, method: str, path: str, key: str | None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Entries of a paged v1 list: ``body[key]`` per page (``key=None``: the body is the list)."""
        for body in self.iter_v1_pages(method, path, **kwargs):
            entries = body if key is None else (body or {}).get(key)
            if not isinstance(entries, list):
                raise InvalidResponseError(f"retailnext {path}: expected a list under {key!r}", api=self.api)
            yield from entries

    def iter_inventory(self, kind: str, *, store_uuid: str | None = None,
                       page_length: int = V1_PAGE_LENGTH) -> Iterator[list[dict[str, Any]]]:
        """Pages of ``v1/inventory/<kind>`` following the string ``next_page`` cursor to ``"end"``."""
        if kind not in INVENTORY_KINDS:
            raise InputValidationError(f"inventory kind must be one of {', '.join(INVENTORY_KINDS)} (got {kind!r})",
                                       api=self.api)
        cursor: str | None = None
        seen: set[str] = set()
        params = {"store_uuid": store_uuid} if store_uuid else None
        while True:
            headers = {"X-Page-Length": str(page_length)}
            if cursor:
                headers["X-Page-Start"] = cursor
            _, body = self.call_json("GET", f"v1/inventory/{kind}", params=params, headers=headers)
            page = m.InventoryPage.model_validate(body)
            if not page.ok:
                raise ApiError(f"retailnext inventory/{kind} answered ok=false: {page.error}", api=self.api)
            yield list((body or {}).get(INVENTORY_KINDS[kind]) or [])
            if not page.next_page or page.next_page == "end":
                return
            if page.next_page in seen:
                raise InvalidResponseError(f"retailnext inventory/{kind}: cursor {page.next_page} repeats",
                                           api=self.api)
            seen.add(page.next_page)
            cursor = page.next_page

    # -- typed reads --------------------------------------------------------------------

    def list_locations(self, *, page_length: int = V1_PAGE_LENGTH) -> list[m.Location]:
        """Every location, complete (v1 paging has no 10,000 cap)."""
        return [m.Location.model_validate(x)
                for x in self.iter_v1("GET", "v1/location", "locations", page_length=page_length)]

    def query_locations(self, *, extra_fields: list[str] | None = None, location_types: list[str] | None = None,
                        uuids: list[str] | None = None) -> list[m.Location]:
        """``v2/location``; a query that would be trimmed at 10,000 nodes is split by uuid batches."""
        request = m.LocationQuery.build(extra_fields=extra_fields, location_types=location_types, uuids=uuids)
        _, body = self.call_json("POST", "v2/location", json=request)
        nodes = m.LocationNodes.model_validate(body).flat()
        if len(nodes) < V2_MAX_ENTRIES:
            return nodes
        # possibly trimmed: enumerate with v1 paging, then ask v2 in batches below the cap
        wanted = [x.uuid for x in self.list_locations()
                  if (not location_types or x.location_type in location_types) and (not uuids or x.uuid in uuids)]
        out: list[m.Location] = []
        for i in range(0, len(wanted), V2_MAX_ENTRIES // 2):
            batch = wanted[i:i + V2_MAX_ENTRIES // 2]
            req = m.LocationQuery.build(extra_fields=extra_fields, uuids=batch)
            _, body = self.call_json("POST", "v2/location", json=req)
            out += m.LocationNodes.model_validate(body).flat()
        return out

    def store_hours(self, stores: list[str], start: date, end: date, *,
                    page_length: int = V1_PAGE_LENGTH) -> list[m.StoreHours]:
        body = m.StoreHoursRequest(stores=stores, start_date=start, end_date=end).wire()
        out: list[m.StoreHours] = []
        for page in self.iter_v1_pages("POST", "v1/storehours", json=body, page_length=page_length):
            out += m.StoreHoursResponse.model_validate(page).entries()
        return out

    def datamine(self, request: dict[str, Any]) -> m.DatamineResponse:
        """One ``v2/datamine`` call (validate and split requests with :mod:`retail_provider.retailnext.datamine`)."""
        _, body = self.call_json("POST", "v2/datamine", json=request)
        return m.DatamineResponse.model_validate(body)

    def predicted_traffic(self, store_uuid: str, first_day: date, last_day: date) -> m.PredictedTraffic:
        req = m.PredictedTrafficRequest(store_uuid=store_uuid, first_day=first_day, last_day=last_day)
        _, body = self.call_json("POST", "v1/predictedtraffic", json=req.wire())
        result = m.PredictedTraffic.model_validate(body)
        if not result.ok:
            raise ApiError(f"retailnext predictedtraffic for {store_uuid}: {result.error}", api=self.api)
        return result

    def zone_transitions(self, request: m.ZoneTransitionsRequest) -> m.ZoneTransitionsResponse:
        _, body = self.call_json("POST", "v1/zone_transitions", json=request.wire())
        return m.ZoneTransitionsResponse.model_validate(body)

    def floorplans(self, store_uuid: str | None = None, *, page_length: int = V1_PAGE_LENGTH) -> list[m.Floorplan]:
        path = f"v1/stores/{store_uuid}/fpafloorplans" if store_uuid else "v1/fpafloorplans"
        return [m.Floorplan.model_validate(x) for x in self.iter_v1("GET", path, None, page_length=page_length)]

    def floorplan(self, floorplan_id: str) -> m.Floorplan | None:
        items = [m.Floorplan.model_validate(x) for x in self.iter_v1("GET", f"v1/fpafloorplans/{floorplan_id}", None)]
        return items[0] if items else None

    def users(self, *, type: str | None = None, email: str | None = None,
              page_length: int = V1_PAGE_LENGTH) -> list[m.User]:
        params = {k: v for k, v in (("type", type), ("email", email)) if v}
        return [m.User.model_validate(x)
                for x in self.iter_v1("GET", "v1/users", "users", params=params or None, page_length=page_length)]

    def user_profiles(self, profile_id: str | None = None, *,
                      page_length: int = V1_PAGE_LENGTH) -> list[m.UserProfile]:
        path = f"v1/user_profiles/{profile_id}" if profile_id else "v1/user_profiles"
        return [m.UserProfile.model_validate(x)
                for x in self.iter_v1("GET", path, "user_profiles", page_length=page_length)]

    def location_profiles(self, profile_id: str | None = None, *,
                          page_length: int = V1_PAGE_LENGTH) -> list[m.LocationProfile]:
        path = f"v1/location_profiles/{profile_id}" if profile_id else "v1/location_profiles"
        return [m.LocationProfile.model_validate(x)
                for x in self.iter_v1("GET", path, "location_profiles", page_length=page_length)]

    def health_alerts(self, start_time: datetime | str | None = None, *,
                      page_length: int = V1_PAGE_LENGTH) -> list[m.HealthAlert]:
        body: dict[str, Any] = {}
        if start_time is not None:
            try:
                body["start_time"] = m.iso_z(parse_aware(start_time, name="start_time"))
            except ValueError as exc:
                raise InputValidationError(str(exc), api=self.api) from None
        return [m.HealthAlert.model_validate(x)
                for x in self.iter_v1("POST", "v1/healthalerts", "result", json=body, page_length=page_length)]

    def test_connection(self) -> tuple[bool, str]:
        """List one location: the UI's Test button."""
        try:
            next(iter(self.iter_v1_pages("GET", "v1/location", page_length=1)))
        except (ApiError, httpx.HTTPError) as exc:
            return False, str(exc)
        finally:
            self.close()
        return True, f"Connected to RetailNext at {self.base_url()}"
