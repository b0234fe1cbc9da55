"""The generated retailer behind the OCDS dataset: stores, warehouses, the organisation and
merchandise hierarchies, diffs, VAT, and how items are ranged at locations.

Everything here is small (at most a few hundred rows) except the item space, which is
only described by formulas: item ``i`` (0-based) has id ``f"{100000000 + i:09d}"`` and is
ranged at ``R`` consecutive stores starting at store ``i % S`` and at every warehouse
``w`` with ``i % (W + 1) != w``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from include.emulator.ocds.endpoints import MERCH_LEVELS, NODE_LEVELS
from include.emulator.ocds.gen import CITIES, clamp, h, person, salt
from include.emulator.timeutil import format_naive, us_of

ITEM_BASE = 100_000_000
UPC_BASE = 4_000_000_000_000
NEW_UPC_BASE = 5_000_000_000_000
STORE_BASE = 1001
WH_BASE = 9001
VIRTUAL_WH_BASE = 9101
LEVEL_ORDER = {level: rank for rank, level in enumerate(NODE_LEVELS)}
MERCH_ORDER = {level: rank for rank, level in enumerate(MERCH_LEVELS)}
#: ``levelorder`` of orghier/descendant and ``orghiertype`` of warehouses.
LEVEL_CODE = {
    "COMPANY": 1,
    "CHAIN": 10,
    "AREA": 20,
    "REGION": 30,
    "DISTRICT": 40,
    "STORE": 50,
    "WAREHOUSE": 60,
}

COLORS = (
    ("BLACK", "Black"),
    ("BLUE", "Blue"),
    ("BROWN", "Brown"),
    ("GREEN", "Green"),
    ("GREY", "Grey"),
    ("NAVY", "Navy"),
    ("RED", "Red"),
    ("WHITE", "White"),
)
ALPHA_SIZES = (
    ("XS", "Extra Small"),
    ("S", "Small"),
    ("M", "Medium"),
    ("L", "Large"),
    ("XL", "Extra Large"),
    ("XXL", "2X Large"),
)
WAIST_SIZES = tuple((f"SIZE_{n}", str(n)) for n in (28, 30, 32, 34, 36))
PATTERNS = (("CHECK", "Check"), ("PINSTRPS", "Pinstripes"), ("PLAID", "Plaid"), ("SOLID", "Solid"))
FLAVORS = (("CHOC", "Chocolate"), ("STRAWB", "Strawberry"), ("VANILLA", "Vanilla"))
SCENTS = (("CITRUS", "Citrus"), ("LAVENDER", "Lavender"))
DIFF_TYPES = {"C": "Color", "S": "Size", "P": "Pattern", "F": "Flavor", "E": "Scent"}
DIFF_GROUPS = (
    ("ALPHA SIZES", "Alpha Sizes XS-XXL", "S", ALPHA_SIZES),
    ("BASIC CLRS", "Basic Color Pallet", "C", COLORS),
    ("DARK CLRS", "Dark Colors", "C", tuple(c for c in COLORS if c[0] in ("BLACK", "BROWN", "GREY", "NAVY"))),
    ("FLAVORS", "Yogurt Flavors", "F", FLAVORS),
    ("PATTERNS", "Shirt Patterns", "P", PATTERNS),
    ("SCENTS", "Shower Gel Scents", "E", SCENTS),
    ("WAIST SIZES", "Mens Pant Waist Sizes", "S", WAIST_SIZES),
)
SIZE_GROUPS = (DIFF_GROUPS[0], DIFF_GROUPS[6])
VAT_REGIONS = (1000, 2000, 3000)
VAT_CODES = (("1", 20.0), ("10", 10.0), ("100", 0.0), ("2", 5.0), ("20", 12.5), ("3", 7.0))


@dataclass(frozen=True)
class Scope:
    """What a ``nodelevel``/``nodeid`` filter selects.

    :param stores: store indices (0-based) under the node.
    :param warehouses: warehouse indices under the node.
    :param nodes: ``(level, id)`` of the node and every node below it.
    :param item_ok: whether item ``i`` is ranged at some location under the node.
    :param share: fraction of all locations under the node (scales future inventory).
    """

    level: str
    nodeid: int
    stores: frozenset[int]
    warehouses: frozenset[int]
    nodes: frozenset[tuple[str, int]]
    all_items: bool
    item_ok: Callable[[int], bool] = field(repr=False, compare=False)
    share: float = 1.0

    @property
    def location_ids(self) -> frozenset[int]:
        return frozenset({STORE_BASE + s for s in self.stores} | {WH_BASE + w for w in self.warehouses})


def item_id(i: int) -> str:
    return f"{ITEM_BASE + i:09d}"


def item_index(item: str | int | None) -> int:
    try:
        return int(item) - ITEM_BASE  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return -1


class World:
    """Sizes and small reference structures derived from ``scale`` (number of items) and ``seed``."""

    def __init__(self, scale: int, seed: int) -> None:
        self.scale = self.n_items = max(10, int(scale))
        self.seed = int(seed)
        self.n_stores = clamp(self.n_items // 100, 5, 50)
        self.n_warehouses = clamp(self.n_stores // 10, 2, 5)
        self.ranging = min(3, self.n_stores)
        self.n_styles = math.ceil(self.n_items / 10)
        self._salt_item = salt(self.seed, "item")
        self._style_combos = self._combos()
        self._build_org()
        self._build_merch()
        self._build_locations()
        self._scopes: dict[tuple[str, int], Scope] = {}

    # -- organisation -------------------------------------------------------------------

    def _build_org(self) -> None:
        S, W = self.n_stores, self.n_warehouses
        districts = math.ceil(S / 5)
        regions = math.ceil(districts / 2)
        areas = math.ceil(regions / 2)
        chains = math.ceil(areas / 2)
        self.org_counts = {
            "COMPANY": 1,
            "CHAIN": chains,
            "AREA": areas,
            "REGION": regions,
            "DISTRICT": districts,
            "STORE": S,
            "WAREHOUSE": W,
        }
        nodes: list[dict] = []
        oh = salt(self.seed, "orghier")

        def add(level: str, node_id: int, name: str, parent: tuple[str, int] | None, n: int) -> None:
            nodes.append(
                {
                    "action": None,
                    "hierarchylevel": level,
                    "hierarchynodeid": node_id,
                    "hierarchynodename": name,
                    "parentlevel": parent[0] if parent else None,
                    "parentid": parent[1] if parent else None,
                    "mgrname": person(h(oh, n)) if level in ("STORE", "DISTRICT", "REGION") else None,
                    "stockholding": ("Y" if level in ("STORE", "WAREHOUSE") else None),
                    "integratedpos": ("Y" if level == "STORE" else None),
                }
            )

        add("COMPANY", 1, "Company_1", None, 0)
        for c in range(chains):
            add("CHAIN", c + 1, f"Chain_{c + 1}", ("COMPANY", 1), 10 + c)
        for a in range(areas):
            add("AREA", a + 1, f"Area_{a + 1}", ("CHAIN", a // 2 + 1), 100 + a)
        for r in range(regions):
            add("REGION", r + 1, f"Region_{r + 1}", ("AREA", r // 2 + 1), 200 + r)
        for d in range(districts):
            add("DISTRICT", d + 1, f"District_{d + 1}", ("REGION", d // 2 + 1), 300 + d)
        for s in range(S):
            add("STORE", STORE_BASE + s, f"Store {STORE_BASE + s}", ("DISTRICT", s // 5 + 1), 1000 + s)
        for w in range(W):
            add("WAREHOUSE", WH_BASE + w, f"Warehouse #{w + 1}", ("CHAIN", w % chains + 1), 2000 + w)
        nodes.sort(key=lambda r: (LEVEL_ORDER[r["hierarchylevel"]], r["hierarchynodeid"]))
        self.org_nodes = nodes
        self.wh_chain = [w % chains + 1 for w in range(W)]

    def children_map(self, rows: list[dict]) -> dict[tuple[str, int], list[tuple[str, int]]]:
        children: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for r in rows:
            if r.get("parentlevel") is not None:
                children.setdefault((r["parentlevel"], r["parentid"]), []).append(
                    (r["hierarchylevel"], r["hierarchynodeid"])
                )
        return children

    def branch(self, level: str, nodeid: int, rows: list[dict] | None = None) -> list[tuple[str, int]]:
        """``(level, id)`` of a node and all nodes below it (empty when the node does not exist)."""
        rows = self.org_nodes if rows is None else rows
        if not any(r["hierarchylevel"] == level and r["hierarchynodeid"] == nodeid for r in rows):
            return []
        children = self.children_map(rows)
        out, todo = [], [(level, nodeid)]
        while todo:
            node = todo.pop()
            out.append(node)
            todo.extend(children.get(node, ()))
        return out

    def scope(self, level: str, nodeid: int) -> Scope:
        """The :class:`Scope` of a node of the generated organisation hierarchy (cached)."""
        key = (level, int(nodeid))
        cached = self._scopes.get(key)
        if cached is not None:
            return cached
        nodes = frozenset(self.branch(level, int(nodeid)))
        stores = frozenset(i - STORE_BASE for lv, i in nodes if lv == "STORE")
        whs = frozenset(i - WH_BASE for lv, i in nodes if lv == "WAREHOUSE")
        S, W, R = self.n_stores, self.n_warehouses, self.ranging
        residues = frozenset(r for r in range(S) if any((r + k) % S in stores for k in range(R)))
        all_items = len(residues) == S or len(whs) >= 2
        only_wh = next(iter(whs)) if len(whs) == 1 else None
        if all_items:

            def item_ok(i: int) -> bool:
                return True
        elif only_wh is not None:

            def item_ok(i: int) -> bool:
                return i % S in residues or i % (W + 1) != only_wh
        else:

            def item_ok(i: int) -> bool:
                return i % S in residues

        share = (len(stores) + len(whs)) / (S + W)
        result = Scope(level, int(nodeid), stores, whs, nodes, all_items, item_ok, share)
        self._scopes[key] = result
        return result

    # -- merchandise hierarchy ----------------------------------------------------------

    def _build_merch(self) -> None:
        rows: list[dict] = []
        subclasses: list[tuple[int, int, int, int, int, int, int]] = []
        ms = salt(self.seed, "merchhier")

        def add(level: str, node_id: int, name: str, parent: tuple[str, int] | None, **extra: object) -> None:
            rows.append(
                {
                    "action": None,
                    "nodeid": node_id,
                    "hierarchylevel": level,
                    "nodename": name,
                    "parentlevel": parent[0] if parent else None,
                    "parentnodeid": parent[1] if parent else None,
                    "merchdisplayid": extra.get("merchdisplayid"),
                    "buyer": extra.get("buyer"),
                }
            )

        group_n = dept_n = class_n = sub_n = 0
        for d in range(3):
            division = 1000 * (d + 1)
            add("DIVISION", division, f"Division {d + 1}", None)
            for _g in range(2):
                group_n += 1
                group = 100 * group_n
                add("GROUP", group, f"Group {group_n}", ("DIVISION", division))
                for _p in range(3):
                    dept_n += 1
                    dept = 1100 + dept_n
                    add(
                        "DEPT",
                        dept,
                        f"Dept {dept}",
                        ("GROUP", group),
                        merchdisplayid=("N", "C", "O")[dept_n % 3],
                        buyer=person(h(ms, dept)),
                    )
                    for c in range(3):
                        class_n += 1
                        add("CLASS", class_n, f"Class {c + 1} of dept {dept}", ("DEPT", dept))
                        for s in range(3):
                            sub_n += 1
                            add("SUBCLASS", sub_n, f"Subclass {s + 1} of class {class_n}", ("CLASS", class_n))
                            subclasses.append((division, group, dept, c + 1, class_n, s + 1, sub_n))
        rows.sort(key=lambda r: (MERCH_ORDER[r["hierarchylevel"]], r["nodeid"]))
        self.merch_nodes = rows
        self.subclasses = subclasses
        self.depts = sorted({s[2] for s in subclasses})

    def family_hash(self, i: int) -> int:
        """Hash shared by an item family (a style and its SKUs; a staple item alone).

        Bits 0-15 pick the subclass, 16-31 the price, 32-51 the style's diffs, 52-63 the name.
        """
        return h(self._salt_item, i - i % 10 if i % 10 <= 4 else i)

    def merch_of(self, i: int, hf: int | None = None) -> tuple[int, int, int, int, int, int, int]:
        """Merchandise hierarchy of item ``i`` (an item family shares its style's)."""
        hf = self.family_hash(i) if hf is None else hf
        return self.subclasses[(hf & 0xFFFF) % len(self.subclasses)]

    def item_price(self, i: int, hf: int | None = None) -> float:
        hf = self.family_hash(i) if hf is None else hf
        return ((hf >> 16 & 0xFFFF) % 9900 + 99) / 100

    # -- locations ----------------------------------------------------------------------

    def _build_locations(self) -> None:
        S, W = self.n_stores, self.n_warehouses
        ls = salt(self.seed, "locations")
        self.store_ids = [STORE_BASE + s for s in range(S)]
        self.wh_ids = [WH_BASE + w for w in range(W)]
        self.store_vat = [VAT_REGIONS[s % len(VAT_REGIONS)] for s in range(S)]
        self.wh_vat = [VAT_REGIONS[w % len(VAT_REGIONS)] for w in range(W)]
        self.store_city = [CITIES[h(ls, s) % len(CITIES)] for s in range(S)]
        self.vat_rows = self._vat_rows()
        codes: dict[int, str] = {}
        for region in VAT_REGIONS:
            entries = [
                {"code": r["vatcode"], "date": r["activedate"][:10]}
                for r in self.vat_rows
                if r["vatregion"] == region
            ]
            codes[region] = orjson.dumps(entries).decode()
        self.vatcodes_json = codes

    def _vat_rows(self) -> list[dict]:
        vs = salt(self.seed, "vat")
        rows = []
        for region in VAT_REGIONS:
            for j, (code, rate) in enumerate(VAT_CODES):
                start = us_of(2024, 1, 1) + (h(vs, region + j) % 300) * 86_400_000_000 + 12 * 3_600_000_000
                base = {
                    "action": None,
                    "vatregion": region,
                    "vatregionname": f"Vat Region {region}",
                    "vatcode": code,
                    "vatcodedesc": f"Vat Code {code} ({rate:g}%)",
                }
                if j % 3 == 0:
                    change = us_of(2025, 7, 1, 0, 0, 0)
                    rows.append(
                        {
                            **base,
                            "activedate": format_naive(start),
                            "enddate": format_naive(change - 1_000_000),
                        }
                    )
                    rows.append(
                        {
                            **base,
                            "vatcodedesc": f"Vat Code {code} ({rate + 1:g}%)",
                            "activedate": format_naive(change),
                            "enddate": None,
                        }
                    )
                else:
                    rows.append({**base, "activedate": format_naive(start), "enddate": None})
        rows.sort(key=lambda r: (r["vatregion"], r["vatcode"], r["activedate"]))
        return rows

    def stores_of_item(self, i: int) -> list[int]:
        """Store indices item ``i`` is ranged at, in location order."""
        S = self.n_stores
        return sorted((i + k) % S for k in range(self.ranging))

    def item_at_store(self, i: int, s: int) -> bool:
        return (s - i) % self.n_stores < self.ranging

    def item_at_warehouse(self, i: int, w: int) -> bool:
        return i % (self.n_warehouses + 1) != w

    # -- diffs of item families ---------------------------------------------------------

    def style_diffs(
        self, style: int, hf: int | None = None
    ) -> tuple[tuple[str, str], list[tuple[str, str]], list[tuple[str, str]]]:
        """``(size group, [2 sizes], [2 colours])`` used by style number ``style`` (item ``10 * style``)."""
        hv = h(self._salt_item, 10 * style) if hf is None else hf
        combos = self._style_combos[style % 2]
        return combos[(hv >> 32 & 0xFFFFF) % len(combos)]

    @staticmethod
    def _combos() -> list[list[tuple[tuple[str, str], list[tuple[str, str]], list[tuple[str, str]]]]]:
        """Every (size group, two sizes, two colours) a style can use, per size group."""
        out = []
        for group in SIZE_GROUPS:
            sizes = group[3]
            out.append(
                [
                    ((group[0], group[1]), [sizes[a], sizes[b]], [COLORS[c], COLORS[d]])
                    for a in range(len(sizes))
                    for b in range(a + 1, len(sizes))
                    for c in range(len(COLORS))
                    for d in range(c + 1, len(COLORS))
                ]
            )
        return out
