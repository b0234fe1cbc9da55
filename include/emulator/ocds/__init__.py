"""Oracle Retail OCDS v2 emulator (vendor specific code): dataset, change model, routes."""

from __future__ import annotations

from include.emulator.ocds.dataset import OcdsDataset
from include.emulator.ocds.endpoints import ENDPOINTS, Endpoint, endpoint

__all__ = ["ENDPOINTS", "Endpoint", "OcdsDataset", "endpoint"]
