"""Local emulators of the retail APIs this project reads (Oracle Retail OCDS v2 so far).

``EmulatorServer(ocds_scale=500, seed=7)`` serves a deterministic, lazily generated dataset
over real HTTP with fault injection and a control API; see ``docs/emulator.md``.
"""

from __future__ import annotations

from include.emulator.app import build_app
from include.emulator.server import EmulatorServer
from include.emulator.state import EmulatorState

__all__ = ["EmulatorServer", "EmulatorState", "build_app"]
