"""The emulator's ASGI app: control routes plus every emulated vendor's routes.

Vendors live in sub-packages (``include/emulator/ocds``, ``include/emulator/retailnext``:
``/v1/...``, ``/v2/...``) exposing ``routes(state)``, listed in :data:`VENDORS`; each has
its dataset on :class:`~include.emulator.state.EmulatorState`.  The generic pieces wrap them
all: the request log (outermost) and fault injection (everything outside ``/_emulator``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from include.emulator.control import control_routes
from include.emulator.faults import FaultMiddleware
from include.emulator.ocds import routes as ocds_routes
from include.emulator.requestlog import RequestLogMiddleware
from include.emulator.retailnext import routes as retailnext_routes

if TYPE_CHECKING:
    from include.emulator.state import EmulatorState

#: ``routes(state)`` of each emulated vendor.
VENDORS: list[Callable[[EmulatorState], list[BaseRoute]]] = [ocds_routes.routes, retailnext_routes]


def build_app(state: EmulatorState) -> Starlette:
    """A Starlette app serving ``state``'s vendors, control API, faults and request log."""
    routes: list[BaseRoute] = [*control_routes(state)]
    for vendor_routes in VENDORS:
        routes.extend(vendor_routes(state))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestLogMiddleware, log=state.requests),
            Middleware(FaultMiddleware, injector=state.faults),
        ],
    )
    app.state.emulator = state
    return app
