"""The 23 OCDS v2 endpoints: path, model, natural key, filters and how each one is synced.

Keys are derived from each endpoint's documented sort order and field descriptions;
``docs/ocds-endpoints.md`` explains every choice.  ``mode``:

* ``incremental``: a change feed read with ``since``/``before``; rows carry an ``action``.
* ``append``: read with ``since``/``before`` but rows carry no action (the admin log).
* ``snapshot``: the current state, no time window (version, descendants, refresh dates);
  each run replaces the rows of its filter scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from retail_provider.http.errors import InputValidationError
from retail_provider.ocds import models as m
from retail_provider.ocds.promotions import Offer, Promotion

SyncMode = Literal["incremental", "append", "snapshot"]
#: the server's default page size (``limit`` when absent, the reference's examples show it);
#: the reference documents no maximum, and we never ask for more than this
MAX_LIMIT = 10_000
NODE_FILTERS = frozenset({"nodelevel", "nodeid"})


@dataclass(frozen=True)
class OcdsEndpoint:
    """One OCDS v2 endpoint and how it lands in the warehouse.

    :param name: short identifier used in DAGs, Variables and the ledger (``item_price``).
    :param path: path below ``.../omnichannel/v2/`` (``item/price``).
    :param model: pydantic model of one item of the response.
    :param key: natural key: the warehouse table's primary key.
    :param filters: query filters the endpoint documents (beyond since/before/limit).
    :param required: filters the endpoint requires.
    :param refresh_entity: the ``v2/refreshdate`` entity that reports bulk loads of it.
    :param scope_in_key: the filter scope is part of the key (rows differ per node).
    :param row_model: the model of the table's rows when it differs from ``model``
        (promotions: the offer without its nested collections, which get tables of their own).
    """

    name: str
    path: str
    model: type[m.OcdsModel]
    key: tuple[str, ...]
    mode: SyncMode = "incremental"
    filters: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    refresh_entity: str | None = None
    scope_in_key: bool = False
    node_levels: tuple[str, ...] = m.NODE_LEVELS
    doc: str = ""
    table: str = field(default="")
    row_model: type[m.OcdsModel] | None = None

    def __post_init__(self) -> None:
        if not self.table:
            object.__setattr__(self, "table", self.name)

    @property
    def windowed(self) -> bool:
        return self.mode in ("incremental", "append")

    @property
    def nested(self) -> bool:
        """Rows carry nested collections loaded into child tables (promotions)."""
        return self.row_model is not None

    def validate_filters(self, filters: dict[str, object] | None) -> dict[str, str]:
        """Check ``filters`` against what the endpoint documents; return them normalised.

        :raises InputValidationError: naming the parameter and the rule it broke.
        """
        given = {k.lower(): v for k, v in (filters or {}).items() if v not in (None, "")}
        unknown = sorted(set(given) - self.filters)
        if unknown:
            allowed = ", ".join(sorted(self.filters)) or "none"
            raise InputValidationError(
                f"filter {unknown[0]!r} is not supported by OCDS endpoint {self.name!r} "
                f"(v2/{self.path}); allowed filters: {allowed}",
                api="ocds",
            )
        missing = sorted(self.required - set(given))
        if missing:
            raise InputValidationError(
                f"filter {missing[0]!r} is required by OCDS endpoint {self.name!r} (v2/{self.path})",
                api="ocds",
            )
        out: dict[str, str] = {}
        if ("nodelevel" in given) != ("nodeid" in given):
            raise InputValidationError(
                "filters 'nodelevel' and 'nodeid' must be given together "
                f"(OCDS endpoint {self.name!r})",
                api="ocds",
            )
        if "nodelevel" in given:
            level = str(given["nodelevel"]).upper()
            if level not in self.node_levels:
                raise InputValidationError(
                    f"filter 'nodelevel' must be one of {', '.join(self.node_levels)} (got {given['nodelevel']!r})",
                    api="ocds",
                )
            try:
                node = int(str(given["nodeid"]))
            except ValueError:
                raise InputValidationError(
                    f"filter 'nodeid' must be a non-negative integer (got {given['nodeid']!r})", api="ocds"
                ) from None
            if node < 0:
                raise InputValidationError(
                    f"filter 'nodeid' must be a non-negative integer (got {node})", api="ocds"
                )
            out["nodelevel"], out["nodeid"] = level, str(node)
        for name, allowed_values in (
            ("pricetype", m.PRICE_TYPES),
            ("severity", m.SEVERITIES),
            ("entitytype", REFRESH_ENTITIES),
        ):
            if name in given:
                value = str(given[name])
                value = value.upper() if name != "entitytype" else value.lower()
                if value not in allowed_values:
                    raise InputValidationError(
                        f"filter {name!r} must be one of {', '.join(allowed_values)} (got {given[name]!r})",
                        api="ocds",
                    )
                out[name] = value
        return dict(sorted(out.items()))


REFRESH_ENTITIES: tuple[str, ...] = (
    "diff", "diffgroup", "dimensiontype", "dimensionvalue", "item", "itemimage",
    "itemlocation", "itemprice", "merchhier", "orghier", "retailstore", "warehouse",
)

_NODE = NODE_FILTERS
_ENDPOINTS = [
    OcdsEndpoint("admin_log", "admin/log", m.LogEntry, ("logged", "linehash"), mode="append",
                 filters=frozenset({"severity"}), doc="OCDS log entries"),
    OcdsEndpoint("admin_version", "admin/version", m.Version, ("version", "hotfix"), mode="snapshot",
                 doc="OCDS version and hot fixes"),
    OcdsEndpoint("diff", "diff", m.Diff, ("diffid",), refresh_entity="diff", doc="item differentiators"),
    OcdsEndpoint("diff_group", "diff/group", m.DiffGroup, ("diffgroupid", "diffid"),
                 refresh_entity="diffgroup", doc="differentiator groups"),
    OcdsEndpoint("inventory_future", "inventory/future", m.FutureInventory, ("item",),
                 filters=_NODE, scope_in_key=True, doc="future (on order) inventory"),
    OcdsEndpoint("inventory_store", "inventory/store", m.StockInventory, ("loctype", "item", "location"),
                 filters=_NODE, doc="store inventory"),
    OcdsEndpoint("inventory_warehouse", "inventory/warehouse", m.StockInventory,
                 ("location", "loctype", "item"), filters=_NODE, doc="warehouse inventory"),
    OcdsEndpoint("item", "item", m.Item, ("itemlocation", "item"), filters=_NODE, scope_in_key=True,
                 refresh_entity="item", doc="items"),
    OcdsEndpoint("item_dimensiontype", "item/dimensiontype", m.DimensionType, ("dimensionsystem", "dimension"),
                 refresh_entity="dimensiontype", doc="item dimension types"),
    OcdsEndpoint("item_dimensionvalue", "item/dimensionvalue", m.DimensionValue,
                 ("dimensionsystem", "dimension", "value"), refresh_entity="dimensionvalue",
                 doc="item dimension values"),
    OcdsEndpoint("item_image", "item/image", m.ItemImage, ("item", "imagename"), filters=_NODE,
                 refresh_entity="itemimage", doc="item images"),
    OcdsEndpoint("item_itemlocation", "item/itemlocation", m.ItemLocation, ("loctype", "location", "item"),
                 filters=_NODE, refresh_entity="itemlocation", doc="item/location ranging"),
    OcdsEndpoint("item_price", "item/price", m.ItemPrice, ("pricetype", "loctype", "location", "item", "eventid"),
                 filters=_NODE | {"pricetype"}, required=frozenset({"pricetype"}),
                 refresh_entity="itemprice", doc="item prices by price type"),
    OcdsEndpoint("item_promotion", "item/promotion", Promotion, ("promoid", "offerid"), filters=_NODE,
                 node_levels=("COMPANY", "CHAIN", "AREA", "REGION", "DISTRICT", "STORE"), row_model=Offer,
                 doc="promotion offers; locations, rewards, conditions and merchandise in child tables"),
    OcdsEndpoint("item_relateditem", "item/relateditem", m.RelatedItem, ("relationshipid", "relateditem"),
                 filters=_NODE, doc="related items"),
    OcdsEndpoint("item_upc", "item/upc", m.Item, ("itemlocation", "item"), filters=_NODE, scope_in_key=True,
                 doc="UPC items"),
    OcdsEndpoint("location_retailstore", "location/retailstore", m.RetailStore, ("storeid",), filters=_NODE,
                 refresh_entity="retailstore", doc="retail stores"),
    OcdsEndpoint("location_warehouse", "location/warehouse", m.Warehouse, ("warehouseid", "type"),
                 refresh_entity="warehouse", doc="warehouses"),
    OcdsEndpoint("merchhier", "merchhier", m.MerchHierarchyNode, ("hierarchylevel", "nodeid"),
                 refresh_entity="merchhier", doc="merchandise hierarchy"),
    OcdsEndpoint("orghier", "orghier", m.OrgHierarchyNode, ("hierarchylevel", "hierarchynodeid"),
                 filters=_NODE, refresh_entity="orghier", doc="organization hierarchy"),
    OcdsEndpoint("orghier_descendant", "orghier/descendant", m.OrgHierarchyDescendant,
                 ("hierarchylevel", "hierarchynodeid"), mode="snapshot", filters=_NODE, scope_in_key=True,
                 doc="descendants of an org hierarchy node"),
    OcdsEndpoint("refreshdate", "refreshdate", m.RefreshDate, ("entity",), mode="snapshot",
                 filters=frozenset({"entitytype"}), doc="bulk load dates per entity"),
    OcdsEndpoint("vat", "vat", m.Vat, ("vatregion", "vatcode", "activedate"), doc="VAT regions and codes"),
]

ENDPOINTS: dict[str, OcdsEndpoint] = {e.name: e for e in _ENDPOINTS}
assert len(ENDPOINTS) == 23


def get_endpoint(name: str) -> OcdsEndpoint:
    """Look an endpoint up by name (``item_price``) or path (``item/price``).

    :raises InputValidationError: for an unknown endpoint, listing the known ones.
    """
    key = str(name).strip().strip("/")
    if key.startswith("v2/"):
        key = key[3:]
    key = key.replace("/", "_")
    if key == "diffs":
        key = "diff"
    endpoint = ENDPOINTS.get(key)
    if endpoint is None:
        raise InputValidationError(
            f"endpoint {name!r} is not an OCDS v2 endpoint; known endpoints: {', '.join(sorted(ENDPOINTS))}",
            api="ocds",
        )
    return endpoint
