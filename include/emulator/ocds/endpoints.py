"""The 23 OCDS v2 endpoints as the emulator serves them (reference: OCDS 19.1, Appendix B).

Written independently of the client's catalog on purpose: the emulator is a check of the
client, not a copy of it.  ``key`` is the natural key and the documented sort order;
``mode`` says how rows are selected:

* ``incremental``: change feed over ``[since, before)``; rows carry ``action``.
* ``append``: rows selected by their own timestamp in ``[since, before)``, no action (admin/log).
* ``snapshot``: current state, no time window (admin/version, orghier/descendant, refreshdate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NODE_LEVELS: tuple[str, ...] = ("COMPANY", "CHAIN", "AREA", "REGION", "DISTRICT", "STORE", "WAREHOUSE")
MERCH_LEVELS: tuple[str, ...] = ("DIVISION", "GROUP", "DEPT", "CLASS", "SUBCLASS")
PRICE_TYPES: tuple[str, ...] = ("INITIAL", "REGULAR", "CLEARANCE")
SEVERITIES: tuple[str, ...] = ("ERROR", "INFO", "DEBUG")
REFRESH_ENTITIES: tuple[str, ...] = (
    "diff",
    "diffgroup",
    "dimensiontype",
    "dimensionvalue",
    "item",
    "itemimage",
    "itemlocation",
    "itemprice",
    "merchhier",
    "orghier",
    "retailstore",
    "warehouse",
)
NODE = frozenset({"nodelevel", "nodeid"})
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class Endpoint:
    """One emulated endpoint.

    :param name: catalog name (``item_price``).
    :param path: path below ``/ords/ocds/omnichannel/v2/``.
    :param key: natural key fields, in sort order.
    :param filters: documented query filters besides since/before/limit/offsetkey.
    :param required: filters that must be given.
    :param node_levels: accepted ``nodelevel`` values.
    :param refresh_entity: ``v2/refreshdate`` entity reporting bulk loads of this endpoint.
    :param top_action: rows carry a top-level ``action`` (promotions do not: their nested
        locations carry the actions).
    """

    name: str
    path: str
    key: tuple[str, ...]
    mode: str = "incremental"
    filters: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    node_levels: tuple[str, ...] = NODE_LEVELS
    refresh_entity: str | None = None
    top_action: bool = True

    @property
    def windowed(self) -> bool:
        return self.mode != "snapshot"

    @property
    def has_action(self) -> bool:
        return self.mode == "incremental" and self.top_action

    def key_of(self, row: dict[str, Any]) -> dict[str, Any]:
        """The natural key of a row as ``{field: value}``."""
        return {k: row.get(k) for k in self.key}


_ALL = [
    Endpoint(
        "admin_log",
        "admin/log",
        ("logged", "message", "severity", "supplemental"),
        mode="append",
        filters=frozenset({"severity"}),
    ),
    Endpoint("admin_version", "admin/version", ("version", "hotfix"), mode="snapshot"),
    Endpoint("diff", "diff", ("diffid",), refresh_entity="diff"),
    Endpoint("diff_group", "diff/group", ("diffgroupid", "diffid"), refresh_entity="diffgroup"),
    Endpoint("inventory_future", "inventory/future", ("item",), filters=NODE),
    Endpoint("inventory_store", "inventory/store", ("loctype", "item", "location"), filters=NODE),
    Endpoint("inventory_warehouse", "inventory/warehouse", ("location", "loctype", "item"), filters=NODE),
    Endpoint("item", "item", ("itemlocation", "item"), filters=NODE, refresh_entity="item"),
    Endpoint(
        "item_dimensiontype",
        "item/dimensiontype",
        ("dimensionsystem", "dimension"),
        refresh_entity="dimensiontype",
    ),
    Endpoint(
        "item_dimensionvalue",
        "item/dimensionvalue",
        ("dimensionsystem", "dimension", "value"),
        refresh_entity="dimensionvalue",
    ),
    Endpoint("item_image", "item/image", ("item", "imagename"), filters=NODE, refresh_entity="itemimage"),
    Endpoint(
        "item_itemlocation",
        "item/itemlocation",
        ("loctype", "location", "item"),
        filters=NODE,
        refresh_entity="itemlocation",
    ),
    Endpoint(
        "item_price",
        "item/price",
        ("pricetype", "loctype", "location", "item", "eventid"),
        filters=NODE | {"pricetype"},
        required=frozenset({"pricetype"}),
        refresh_entity="itemprice",
    ),
    Endpoint(
        "item_promotion",
        "item/promotion",
        ("promoid", "offerid"),
        filters=NODE,
        node_levels=NODE_LEVELS[:-1],
        top_action=False,
    ),
    Endpoint("item_relateditem", "item/relateditem", ("relationshipid", "relateditem"), filters=NODE),
    Endpoint("item_upc", "item/upc", ("itemlocation", "item"), filters=NODE),
    Endpoint(
        "location_retailstore",
        "location/retailstore",
        ("storeid",),
        filters=NODE,
        refresh_entity="retailstore",
    ),
    Endpoint("location_warehouse", "location/warehouse", ("warehouseid", "type"), refresh_entity="warehouse"),
    Endpoint("merchhier", "merchhier", ("hierarchylevel", "nodeid"), refresh_entity="merchhier"),
    Endpoint(
        "orghier", "orghier", ("hierarchylevel", "hierarchynodeid"), filters=NODE, refresh_entity="orghier"
    ),
    Endpoint(
        "orghier_descendant",
        "orghier/descendant",
        ("hierarchylevel", "hierarchynodeid"),
        mode="snapshot",
        filters=NODE,
    ),
    Endpoint("refreshdate", "refreshdate", ("entity",), mode="snapshot", filters=frozenset({"entitytype"})),
    Endpoint("vat", "vat", ("vatregion", "vatcode", "activedate")),
]

ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in _ALL}
BY_PATH: dict[str, Endpoint] = {e.path: e for e in _ALL}
BY_PATH["diffs"] = ENDPOINTS["diff"]
assert len(ENDPOINTS) == 23


def endpoint(name_or_path: str) -> Endpoint:
    """An endpoint by catalog name (``item_price``) or path (``item/price``, ``diffs``).

    :raises KeyError: for an unknown endpoint.
    """
    key = str(name_or_path).strip().strip("/")
    if key in ENDPOINTS:
        return ENDPOINTS[key]
    if key in BY_PATH:
        return BY_PATH[key]
    alias = key.replace("/", "_")
    if alias in ENDPOINTS:
        return ENDPOINTS[alias]
    raise KeyError(f"unknown OCDS endpoint {name_or_path!r}; known: {', '.join(sorted(ENDPOINTS))}")
