"""RetailNext REST API emulator (vendor specific code): world, traffic, datamine, routes.

``state.retailnext`` (:class:`RetailNextDataset`) is the control API in Python: ground
truth (``locations()``, ``nodes()``, ``stores()``, ``users()``, ``alerts()``,
``floorplans()``, ``cameras()``, ``storehours()``, ``bucket()``, ``aggregate()``...),
mutations (``add_location()``, ``add_locations()``, ``archive_location()``,
``add_alert()``, ``resolve_alert()``, ``add_user()``), validity marks, settings
(``completeness_lag``, ``service_delay``, ``set_allowed_locations()``, ``freeze()``) and
``reset()``.  ``/_emulator/retailnext/...`` exposes the same over HTTP.  See
``docs/retailnext-emulator.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from include.emulator.retailnext.dataset import RetailNextDataset

if TYPE_CHECKING:
    from include.emulator.state import EmulatorState


def routes(state: EmulatorState) -> list[BaseRoute]:
    """Every RetailNext route (API and control), for :data:`include.emulator.app.VENDORS`."""
    from include.emulator.retailnext.control import control_routes
    from include.emulator.retailnext.routes import api_routes

    return [*control_routes(state), *api_routes(state)]


__all__ = ["RetailNextDataset", "routes"]
