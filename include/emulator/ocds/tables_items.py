"""Item tables: items, UPCs, images, dimensions, future inventory and related items.

Item ``i`` of the generated space follows a ten item pattern: ``i % 10 == 0`` is a fashion
style (level 1, transaction level 2, diffs are groups), ``1..4`` are its SKUs (level 2,
parent = the style, diffs are a size and a colour) and ``5..9`` are staple items (level 1,
transaction level 1) which each have one UPC (``item/upc``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from include.emulator.ocds.gen import ADJECTIVES, DAY, NOUNS, T0, h
from include.emulator.ocds.table import Filters, Table
from include.emulator.ocds.world import (
    COLORS,
    DIFF_GROUPS,
    ITEM_BASE,
    NEW_UPC_BASE,
    UPC_BASE,
    item_id,
    item_index,
)
from include.emulator.timeutil import format_date

MERCH_FIELDS = ("division", "groupid", "dept", "class", "uniqueclass", "subclass", "uniquesubclass")
IMAGE_ADDR = "https://images.example.com/item/images/"
_GROUP_POSITION: dict[str, int] = {}
for _group in DIFF_GROUPS:
    for _n, (_diff, _desc) in enumerate(_group[3]):
        _GROUP_POSITION.setdefault(_diff, _n + 1)


def _item_template(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "action": None,
        "itemlocation": "ent",
        "item": None,
        "itemparent": None,
        "itemgrandparent": None,
        "itemlevel": 1,
        "tranlevel": 1,
        "inventoryind": "Y",
        "diff1level": None,
        "diff1type": None,
        "diff1": None,
        "diff2level": None,
        "diff2type": None,
        "diff2": None,
        "diff3level": None,
        "diff3type": None,
        "diff3": None,
        "division": None,
        "groupid": None,
        "dept": None,
        "class": None,
        "uniqueclass": None,
        "subclass": None,
        "uniquesubclass": None,
        "description": None,
        "localdescription": None,
        "merchandiseind": "Y",
        "uintype": None,
        "mfgrecretail": None,
        "originalunitretail": None,
        "catchweightind": "N",
        "itemservicelevel": None,
        "giftwrapind": "N",
        "shipaloneind": "N",
        "standarduom": "EA",
        "productclassification": None,
        "xdiff1desc": None,
        "xdiff2desc": None,
        "xdiff3desc": None,
    }
    row.update(overrides)
    return row


STYLE = _item_template(
    tranlevel=2,
    inventoryind="N",
    diff1level="GROUP",
    diff1type="S",
    diff2level="GROUP",
    diff2type="C",
    diff2="BASIC CLRS",
    xdiff2desc="Basic Color Pallet",
    productclassification="APPAREL",
)
SKU = _item_template(
    itemlevel=2,
    tranlevel=2,
    diff1level="ID",
    diff1type="S",
    diff2level="ID",
    diff2type="C",
    productclassification="APPAREL",
)
STAPLE = _item_template()
UPC = _item_template(itemlevel=2, tranlevel=1)


class _ItemScoped(Table):
    """Rows that belong to one item: a node filter keeps items ranged under the node."""

    def item_of(self, pos: int) -> int:
        return pos

    def item_of_row(self, row: dict[str, Any]) -> int:
        return item_index(row.get("item"))

    def positions(self, start: int, flt: Filters) -> Iterable[int]:
        scope = flt.scope
        if scope is None or scope.all_items:
            return range(start, self.count)
        ok, item_of = scope.item_ok, self.item_of
        return (p for p in range(start, self.count) if ok(item_of(p)))

    def in_scope(self, pos: int, flt: Filters) -> bool:
        return flt.scope is None or flt.scope.item_ok(self.item_of(pos))

    def row_in_scope(self, row: dict[str, Any], flt: Filters) -> bool:
        return flt.scope is None or flt.scope.item_ok(self.item_of_row(row))


class ItemTable(_ItemScoped):
    name = "item"
    delete_share = 20
    mutable = ("description", "originalunitretail", "giftwrapind", "shipaloneind")

    def __init__(self, world: Any) -> None:
        super().__init__(world)
        self.count = world.n_items
        # one template per (kind, subclass): the hot path copies it and sets a few fields
        self._templates = [
            [{**base, **dict(zip(MERCH_FIELDS, sub, strict=True))} for sub in world.subclasses]
            for base in (STYLE, SKU, STAPLE)
        ]
        self._names = [f"{a} {n}" for a in ADJECTIVES for n in NOUNS]

    def key(self, pos: int) -> tuple:
        return ("ent", f"{ITEM_BASE + pos:09d}")

    def row_key(self, row: dict[str, Any]) -> tuple:
        return ("ent", row["item"])

    def row(self, i: int) -> dict[str, Any]:
        w = self.world
        kind = i % 10
        hf = w.family_hash(i)
        sub = (hf & 0xFFFF) % len(w.subclasses)
        name = self._names[(hf >> 52) % 400]
        iid = str(ITEM_BASE + i)  # nine digits while i < 900,000,000
        if kind == 0:
            d = self._templates[0][sub].copy()
            group = w.style_diffs(i // 10, hf)[0]
            d["diff1"] = group[0]
            d["xdiff1desc"] = group[1]
            d["description"] = f"{name} Style {iid}"
        elif kind <= 4:
            d = self._templates[1][sub].copy()
            _group, sizes, colors = w.style_diffs(i // 10, hf)
            size, color = sizes[(kind - 1) >> 1], colors[(kind - 1) & 1]
            d["itemparent"] = str(ITEM_BASE + i - kind)
            d["diff1"], d["xdiff1desc"] = size
            d["diff2"], d["xdiff2desc"] = color
            d["description"] = f"{name} {size[1]} {color[1]}"
        else:
            d = self._templates[2][sub].copy()
            d["description"] = f"{name} {iid[-5:]}"
        d["item"] = iid
        price = ((hf >> 16 & 0xFFFF) % 9900 + 99) / 100
        d["originalunitretail"] = price
        if hf & 0x30000 == 0:
            d["mfgrecretail"] = round(price * 1.25, 2)
        bits = (hf >> (kind * 5)) ^ i
        if bits & 1:
            d["giftwrapind"] = "Y"
        if bits & 0x1E == 0:
            d["shipaloneind"] = "Y"
        return d

    def present(self, row: dict[str, Any], flt: Filters) -> dict[str, Any]:
        scope = flt.scope
        if scope is not None:
            row["itemlocation"] = str(scope.nodeid)
            if scope.level == "STORE":
                row["localdescription"] = f"{row['description']} [{scope.nodeid}]"
        return row

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        return self.row(self.count + seq)


class UpcTable(ItemTable):
    name = "item_upc"
    mutable = ("description", "originalunitretail", "catchweightind")

    def __init__(self, world: Any) -> None:
        super().__init__(world)
        n = world.n_items
        self.count = (n // 10) * 5 + max(0, n % 10 - 5)

    def item_of(self, pos: int) -> int:
        return (pos // 5) * 10 + 5 + pos % 5

    def item_of_row(self, row: dict[str, Any]) -> int:
        return item_index(row.get("itemparent"))

    def key(self, pos: int) -> tuple:
        return ("ent", f"{UPC_BASE + self.item_of(pos):013d}")

    def row(self, pos: int) -> dict[str, Any]:
        return self._upc(f"{UPC_BASE + self.item_of(pos):013d}", self.item_of(pos))

    def _upc(self, upc: str, parent: int) -> dict[str, Any]:
        w = self.world
        d = UPC.copy()
        d["item"] = upc
        d["itemparent"] = item_id(parent)
        (
            d["division"],
            d["groupid"],
            d["dept"],
            d["class"],
            d["uniqueclass"],
            d["subclass"],
            d["uniquesubclass"],
        ) = w.merch_of(parent)
        d["description"] = f"Below Transaction Item: {upc}"
        d["originalunitretail"] = w.item_price(parent)
        if h(self.salt, parent) & 3 == 0:
            d["catchweightind"] = "Y"
        return d

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        return self._upc(f"{NEW_UPC_BASE + seq:013d}", self.item_of(rng.randrange(self.count)))


class ImageTable(_ItemScoped):
    name = "item_image"
    delete_share = 20
    mutable = ("imagedesc", "displaypriority")

    def __init__(self, world: Any) -> None:
        super().__init__(world)
        self.count = 2 * world.n_items

    def item_of(self, pos: int) -> int:
        return pos >> 1

    def key(self, pos: int) -> tuple:
        iid = f"{ITEM_BASE + (pos >> 1):09d}"
        return (iid, f"{iid}_{pos & 1}.png")

    def row(self, pos: int) -> dict[str, Any]:
        return self._image(f"{ITEM_BASE + (pos >> 1):09d}", pos & 1)

    @staticmethod
    def _image(iid: str, k: int) -> dict[str, Any]:
        name = f"{iid}_{k}.png"
        return {
            "action": None,
            "item": iid,
            "imagename": name,
            "imageaddr": IMAGE_ADDR,
            "imageuri": IMAGE_ADDR + name,
            "imagedesc": f"Image for item {iid}",
            "imagetype": "T" if k == 0 else "F",
            "primaryind": "Y" if k == 0 else "N",
            "displaypriority": k,
        }

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        return self._image(item_id(rng.randrange(self.world.n_items)), 2 + seq)


class FutureInventoryTable(_ItemScoped):
    """On-order quantities of every non-style item; a node filter scales them to the node."""

    name = "inventory_future"
    delete_share = 10
    mutable = ("onorderquantity", "receivedquantity", "backorderquantity")

    def __init__(self, world: Any) -> None:
        super().__init__(world)
        n = world.n_items
        self.count = (n // 10) * 9 + max(0, n % 10 - 1)

    def item_of(self, pos: int) -> int:
        return (pos // 9) * 10 + 1 + pos % 9

    def key(self, pos: int) -> tuple:
        return (f"{ITEM_BASE + self.item_of(pos):09d}",)

    def row(self, pos: int) -> dict[str, Any]:
        return self._future(self.item_of(pos))

    def _future(self, i: int) -> dict[str, Any]:
        hv = h(self.salt, i)
        return {
            "action": None,
            "item": f"{ITEM_BASE + i:09d}",
            "onorderquantity": hv % 60,
            "receivedquantity": (hv >> 8) % 100,
            "backorderquantity": (hv >> 16) % 4 * ((hv >> 20) % 20),
        }

    def present(self, row: dict[str, Any], flt: Filters) -> dict[str, Any]:
        scope = flt.scope
        if scope is not None and scope.share < 1:
            for name in self.mutable:
                value = row.get(name)
                if isinstance(value, int):
                    row[name] = round(value * scope.share)
        return row

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        return self._future(10 * rng.randrange(self.world.n_styles))


class RelatedItemTable(_ItemScoped):
    """Relationships of two related items each; ``relateditemaction`` is the pair's own action."""

    name = "item_relateditem"
    delete_share = 20
    mutable = ("mandatoryind",)

    def __init__(self, world: Any) -> None:
        super().__init__(world)
        self.n_relationships = max(10, world.n_items // 10)
        self.count = 2 * self.n_relationships

    def _pair(self, r: int) -> tuple[int, int, int, int]:
        n = self.world.n_items
        hv = h(self.salt, r)
        a = hv % n
        b1 = (a + 1 + (hv >> 20) % (n - 1)) % n
        b2 = (a + 1 + (hv >> 40) % (n - 1)) % n
        if b2 == b1:
            b2 = (b1 + 1) % n
            if b2 == a:
                b2 = (b2 + 1) % n
        return hv, a, min(b1, b2), max(b1, b2)

    def item_of(self, pos: int) -> int:
        return self._pair(pos >> 1)[1]

    def key(self, pos: int) -> tuple:
        pair = self._pair(pos >> 1)
        return ((pos >> 1) + 1, item_id(pair[2 + (pos & 1)]))

    def row(self, pos: int) -> dict[str, Any]:
        r, k = pos >> 1, pos & 1
        hv, a, b1, b2 = self._pair(r)
        created, changed, _deleted = self.times(pos)
        rtype = ("CRSL", "SUBS", "UPSL")[r % 3]
        start = T0 + (hv >> 8) % 200 * DAY
        subs = rtype == "SUBS"
        return {
            "action": None,
            "relationshipid": r + 1,
            "item": item_id(a),
            "relationshiptype": rtype,
            "mandatoryind": "Y" if rtype == "CRSL" and r % 4 == 0 else "N",
            "relateditem": item_id((b1, b2)[k]),
            "relateditemaction": "UPDATE" if changed > created else "INSERT",
            "startdate": format_date(start) if subs else None,
            "enddate": format_date(start + 90 * DAY) if subs and hv & 1 else None,
            "priority": k + 1 if subs else None,
        }

    def as_deleted(self, row: dict[str, Any]) -> dict[str, Any]:
        row["relateditemaction"] = "DELETE"
        return row

    def change_row(self, row: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        out = super().change_row(row, rng)
        out["relateditemaction"] = "UPDATE"
        return out

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        n = self.world.n_items
        a = rng.randrange(n)
        b = (a + 1 + rng.randrange(n - 1)) % n
        return {
            "action": None,
            "relationshipid": self.n_relationships + 1 + seq,
            "item": item_id(a),
            "relationshiptype": "CRSL",
            "mandatoryind": "N",
            "relateditem": item_id(b),
            "relateditemaction": "INSERT",
            "startdate": None,
            "enddate": None,
            "priority": None,
        }


class DimensionTypeTable(Table):
    """Dimension types derived from the styles' diffs: COLOR and SIZE per style."""

    name = "item_dimensiontype"
    mutable = ("description",)
    _DIMS = (("COLOR", "Color"), ("SIZE", "Size"))

    def __init__(self, world: Any) -> None:
        super().__init__(world)
        self.count = 2 * world.n_styles

    def key(self, pos: int) -> tuple:
        return (item_id(10 * (pos >> 1)), self._DIMS[pos & 1][0])

    def row(self, pos: int) -> dict[str, Any]:
        created, changed, _deleted = self.times(pos)
        dim, desc = self._DIMS[pos & 1]
        return {
            "action": None,
            "itemaction": "UPDATE" if changed > created else "INSERT",
            "dimensionsystem": item_id(10 * (pos >> 1)),
            "dimension": dim,
            "description": desc,
            "seq": (pos & 1) + 1,
        }

    def as_deleted(self, row: dict[str, Any]) -> dict[str, Any]:
        row["itemaction"] = "DELETE"
        return row

    def change_row(self, row: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        out = super().change_row(row, rng)
        out["itemaction"] = "UPDATE"
        return out

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        style = rng.randrange(self.world.n_styles)
        return {
            "action": None,
            "itemaction": "INSERT",
            "dimensionsystem": item_id(10 * style),
            "dimension": "PATTRN",
            "description": "Pattern",
            "seq": 3,
        }


class DimensionValueTable(DimensionTypeTable):
    """The two colours and two sizes each style's SKUs use."""

    name = "item_dimensionvalue"

    def __init__(self, world: Any) -> None:
        Table.__init__(self, world)
        self.count = 4 * world.n_styles

    def _value(self, pos: int) -> tuple[str, str, str]:
        _group, sizes, colors = self.world.style_diffs(pos >> 2)
        k = pos & 3
        if k < 2:
            return ("COLOR", *colors[k])
        return ("SIZE", *sorted(sizes)[k - 2])

    def key(self, pos: int) -> tuple:
        return (item_id(10 * (pos >> 2)), *self._value(pos)[:2])

    def row(self, pos: int) -> dict[str, Any]:
        created, changed, _deleted = self.times(pos)
        dim, value, desc = self._value(pos)
        return {
            "action": None,
            "itemaction": "UPDATE" if changed > created else "INSERT",
            "dimensionsystem": item_id(10 * (pos >> 2)),
            "dimension": dim,
            "value": value,
            "description": desc,
            "displayseq": _GROUP_POSITION.get(value),
        }

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        style = rng.randrange(self.world.n_styles)
        color = COLORS[rng.randrange(len(COLORS))]
        return {
            "action": None,
            "itemaction": "INSERT",
            "dimensionsystem": item_id(10 * style),
            "dimension": "COLOR",
            "value": f"{color[0]}_{seq:04d}",
            "description": f"{color[1]} {seq}",
            "displayseq": None,
        }
