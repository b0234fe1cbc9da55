"""Item tables: items, UPCs, images, dimensions, future inventory and related items.

Item ``i`` of the generated space follows a ten item pattern: ``i % 10 == 0`` is a fashion
style (level 1, transaction level 2, diffs are groups), ``1..4`` are its SKUs (level 2,
parent = the style, diffs are a size and a colour) and ``5..9`` are staple items (level 1,
transaction level 1) which each have one UPC (``item/upc``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from functools import cache
from typing import Any

from include.emulator.ocds.encode import ACTIONS, RAW, STR, RowFormat, check_plain
from include.emulator.ocds.gen import ADJECTIVES, DAY, NOUNS, T0, h, h_many
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


@cache
def item_prices() -> tuple[tuple[float, ...], tuple[str, ...], tuple[str, ...]]:
    """By price code ``k = (hf >> 16 & 0xFFFF) % 9900``: the price (:meth:`World.item_price`),
    its JSON text, and the JSON text of ``mfgrecretail = round(price * 1.25, 2)``."""
    prices = tuple((k + 99) / 100 for k in range(9900))
    return prices, tuple(map(repr, prices)), tuple(repr(round(p * 1.25, 2)) for p in prices)


#: ``giftwrapind == "Y" | 2 * (shipaloneind == "Y")`` by the low five bits of an item's
#: flag bits (``ItemTable.row``: bit 0 gift wrap; bits 1-4 all clear: ship alone).
_FLAGS = tuple((bits & 1) | (0 if bits & 0x1E else 2) for bits in range(32))
_FLAG_SHIFT = (0, 5, 10, 15, 20, 0, 5, 10, 15, 20)


def _item_words() -> list[str]:
    """Every word the generated item strings are made of (checked for JSON escaping)."""
    words = [*ADJECTIVES, *NOUNS]
    for group in DIFF_GROUPS:
        words += [group[0], group[1], *(word for pair in group[3] for word in pair)]
    return words


def _head(chunks: tuple[str, ...], itemlocation: str) -> list[str]:
    """``{"action":"<action>","itemlocation":"<itemlocation>","item":"`` by action code."""
    return [chunks[0] + action + chunks[1] + itemlocation + chunks[2] for action in ACTIONS]


def _flag_tails(chunks: tuple[str, ...], n: int) -> list[str]:
    """``chunks[n] + giftwrapind + chunks[n + 1] + shipaloneind + chunks[n + 2]`` by
    ``giftwrapind == "Y" | 2 * (shipaloneind == "Y")``."""
    return [chunks[n] + "NY"[k & 1] + chunks[n + 1] + "NY"[k >> 1] + chunks[n + 2] for k in range(4)]


class ItemFormats:
    """Pre-encoded ``item`` rows (see :mod:`include.emulator.ocds.encode`), built on first use.

    A row is glued from: the head (action, itemlocation) by action code, the item id, the
    kind's chunks (per subclass where the merchandise hierarchy sits), the description,
    ``localdescription``, the prices by price code, and the flag tail.  The diffs of a
    style family are glued per size/colour combination.
    """

    #: the holes of each kind, in row order (the chunk indices below follow from them)
    _HOLES = {
        "style": "action itemlocation item diff1 description localdescription mfgrecretail originalunitretail "
        "giftwrapind shipaloneind xdiff1desc",
        "sku": "action itemlocation item itemparent diff1 diff2 description localdescription mfgrecretail "
        "originalunitretail giftwrapind shipaloneind xdiff1desc xdiff2desc",
        "staple": "action itemlocation item description localdescription mfgrecretail originalunitretail "
        "giftwrapind shipaloneind",
    }
    _RAW = ("localdescription", "mfgrecretail", "originalunitretail")

    def __init__(self, templates: list[list[dict[str, Any]]], combos: list[list[Any]]) -> None:
        check_plain(_item_words(), "item")
        style, sku, staple = (
            [RowFormat(t, {k: RAW if k in self._RAW else STR for k in holes.split()}) for t in kind]
            for kind, holes in zip(templates, self._HOLES.values(), strict=True)
        )
        for kind, holes in zip((style, sku, staple), self._HOLES.values(), strict=True):
            assert all(f.fields == tuple(holes.split()) for f in kind), "item template fields moved"
        style, sku, staple = ([f.chunks for f in kind] for kind in (style, sku, staple))
        for kind in (style, sku, staple):
            assert all(c[:3] == staple[0][:3] for c in kind), "action, itemlocation and item come first"
        first = staple[0]
        self.first = first  # the head is the same for every kind
        # staple: head item | c3[sub] description | localdescription | money | flags
        self.staple_sub = [c[3] for c in staple]
        self.staple_tail = _flag_tails(first, 7)
        # style: head item | diff1 group | c4[sub] description | localdescription | money | flags xdiff1desc end
        self.style_sub = [c[4] for c in style]
        self.style_tail = _flag_tails(style[0], 8)
        # sku: head item | itemparent | diffs | c6[sub] description | localdescription | money | flags descs
        self.sku_parent = sku[0][3]
        self.sku_sub = [c[6] for c in sku]
        self.sku_tail = _flag_tails(sku[0], 10)
        #: the chunks around ``localdescription`` (the same for every kind)
        self.local = (first[4], first[5])
        assert all((c[5], c[6]) == self.local for c in style) and all((c[7], c[8]) == self.local for c in sku)
        for kind, n in ((style, 7), (sku, 9), (staple, 6)):  # mfgrecretail | c | originalunitretail
            assert all(c[n] == first[6] for c in kind)
        _prices, price_texts, mfg_texts = item_prices()
        money = first[6]
        #: mfgrecretail and originalunitretail by ``price code + 9900 * has_mfgrecretail``
        self.money = [f"null{money}{p}" for p in price_texts] + [
            f"{m}{money}{p}" for m, p in zip(mfg_texts, price_texts, strict=True)
        ]
        #: the same after ``"localdescription":null`` (no STORE filter)
        no_local = "null".join(self.local)
        self.no_local_money = [no_local + m for m in self.money]
        #: by size group: (style diff1 piece, style end piece)
        self.style_groups = {
            group: (style[0][3] + group[0], group[1] + style[0][11])
            for group in {combo[0] for half in combos for combo in half}
        }
        #: per combo of each half: for SKUs 1..4 (diffs piece, description tail, xdiff piece)
        self.sku_diffs = [
            [
                [
                    (
                        sku[0][4] + size[0] + sku[0][5] + color[0],
                        f" {size[1]} {color[1]}",
                        size[1] + sku[0][13] + color[1] + sku[0][14],
                    )
                    for kind in range(1, 5)
                    for size, color in [(combo[1][(kind - 1) >> 1], combo[2][(kind - 1) & 1])]
                ]
                for combo in half
            ]
            for half in combos
        ]


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
        self._formats: Any = None

    def encode_rows(self, positions: list[int], codes: list[int], flt: Filters) -> list[str]:
        """:meth:`row` + action + :meth:`present` as JSON text, glued from pre-encoded pieces."""
        w = self.world
        if self._formats is None:
            self._formats = ItemFormats(self._templates, w._style_combos)
        fm: ItemFormats = self._formats
        scope = flt.scope
        heads = _head(fm.first, "ent" if scope is None else str(scope.nodeid))
        if scope is not None and scope.level == "STORE":  # localdescription: "<description> [<store>]"
            local: str | None = f' [{scope.nodeid}]"{fm.local[1]}'
            money, local_open = fm.money, fm.local[0] + '"'
        else:
            local, money, local_open = None, fm.no_local_money, ""
        staple_sub, style_sub, sku_sub = fm.staple_sub, fm.style_sub, fm.sku_sub
        staple_tail, style_tail, sku_tail = fm.staple_tail, fm.style_tail, fm.sku_tail
        groups, sku_diffs, sku_parent = fm.style_groups, fm.sku_diffs, fm.sku_parent
        names, n_sub, combos = self._names, len(w.subclasses), w._style_combos
        n_combos = (len(combos[0]), len(combos[1]))
        flag_of, shift_of = _FLAGS, _FLAG_SHIFT
        families = [i - i % 10 if i % 10 <= 4 else i for i in positions]
        ids = list(map(str, map(ITEM_BASE.__add__, positions)))
        out: list[str] = []
        append = out.append
        fam = -1
        sub = fbits = 0
        name = parent = price = ""
        group: Any = None
        diffs: Any = None
        for i, code, f, hf, iid in zip(positions, codes, families, h_many(w._salt_item, families), ids, strict=True):
            if f != fam:  # a style and its SKUs share the family hash (World.family_hash)
                fam = f
                sub = (hf & 0xFFFF) % n_sub
                name = names[(hf >> 52) % 400]
                price = money[(hf >> 16 & 0xFFFF) % 9900 + (9900 if hf & 0x30000 == 0 else 0)]
                # flag bits of item i: (hf >> 5 * (i % 10)) ^ i; kinds 0-4 use bits 0-24, 5-9 bits 25-49
                fbits = (hf if f % 10 == 0 else hf >> 25) & 0x1FFFFFF
                if f % 10 == 0:
                    half = (f // 10) % 2
                    pick = (hf >> 32 & 0xFFFFF) % n_combos[half]
                    group = groups[combos[half][pick][0]]
                    diffs = sku_diffs[half][pick]
                    parent = sku_parent + str(ITEM_BASE + f)
            m = i % 10
            flags = flag_of[((fbits >> shift_of[m]) ^ i) & 31]
            if m > 4:  # a staple item
                if local is None:
                    append(f"{heads[code]}{iid}{staple_sub[sub]}{name} {iid[-5:]}{price}{staple_tail[flags]}")
                else:
                    desc = f"{name} {iid[-5:]}"
                    append(
                        f"{heads[code]}{iid}{staple_sub[sub]}{desc}{local_open}{desc}{local}{price}{staple_tail[flags]}"
                    )
            elif m:  # a SKU of the style f
                piece, tail, xdiffs = diffs[m - 1]
                if local is None:
                    append(
                        f"{heads[code]}{iid}{parent}{piece}{sku_sub[sub]}{name}{tail}{price}{sku_tail[flags]}{xdiffs}"
                    )
                else:
                    desc = name + tail
                    append(
                        f"{heads[code]}{iid}{parent}{piece}{sku_sub[sub]}{desc}{local_open}{desc}{local}{price}"
                        f"{sku_tail[flags]}{xdiffs}"
                    )
            else:  # a style
                desc = f"{name} Style {iid}"
                if local is not None:
                    desc = f"{desc}{local_open}{desc}{local}"  # description, then localdescription
                append(f"{heads[code]}{iid}{group[0]}{style_sub[sub]}{desc}{price}{style_tail[flags]}{group[1]}")
        return out

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

    def encode_rows(self, positions: list[int], codes: list[int], flt: Filters) -> list[str]:
        """:meth:`row` + action + :meth:`present` as JSON text, glued from pre-encoded pieces."""
        w = self.world
        if self._formats is None:
            holes = dict.fromkeys(("action", "itemlocation", "item", "itemparent", "description"), STR)
            holes.update(localdescription=RAW, originalunitretail=RAW, catchweightind=STR)
            formats = [RowFormat({**UPC, **dict(zip(MERCH_FIELDS, sub, strict=True))}, holes) for sub in w.subclasses]
            assert all(f.fields == tuple(holes) for f in formats), f"{self.name}: template fields moved"
            c = formats[0].chunks
            assert all(f.chunks[:4] + f.chunks[5:] == c[:4] + c[5:] for f in formats)
            check_plain([self._upc("0", 5)["description"]], self.name)
            # head[action] upc | c3 itemparent | c4[sub] description | localdescription | price | catchweightind
            self._formats = (
                c,
                [f.chunks[4] + "Below Transaction Item: " for f in formats],
                [c[7] + flag + c[8] for flag in "YN"],
            )
        c, subs, tails = self._formats
        scope = flt.scope
        heads = _head(c, "ent" if scope is None else str(scope.nodeid))
        local = f' [{scope.nodeid}]"' if scope is not None and scope.level == "STORE" else None
        no_local = f"{c[5]}null{c[6]}"
        n_sub, price_texts = len(w.subclasses), item_prices()[1]
        parents = [(pos // 5) * 10 + 5 + pos % 5 for pos in positions]  # item_of(): staples
        family = h_many(w._salt_item, parents)  # a staple is its own family
        catchweight = h_many(self.salt, parents)
        out: list[str] = []
        append = out.append
        for code, parent, hf, hc in zip(codes, parents, family, catchweight, strict=True):
            upc = str(UPC_BASE + parent)  # thirteen digits
            nl = no_local if local is None else f'{c[5]}"Below Transaction Item: {upc}{local}{c[6]}'
            append(
                f"{heads[code]}{upc}{c[3]}{ITEM_BASE + parent}{subs[(hf & 0xFFFF) % n_sub]}{upc}{nl}"
                f"{price_texts[(hf >> 16 & 0xFFFF) % 9900]}{tails[1 if hc & 3 else 0]}"
            )
        return out

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
        self._pieces: list[tuple[str, ...]] | None = None

    def encode_rows(self, positions: list[int], codes: list[int], flt: Filters) -> list[str]:
        """:meth:`row` + action as JSON text, glued from pre-encoded pieces."""
        if self._pieces is None:
            holes = {"action": STR, "item": STR, "imagename": STR, "imageuri": STR, "imagedesc": STR}
            pieces = []
            for k in (0, 1):
                f = RowFormat(self._image("0", k), holes)
                assert f.fields == tuple(holes), f"{self.name}: template fields moved"
                check_plain([IMAGE_ADDR, self._image("0", k)["imagedesc"]], self.name)
                c = f.chunks
                # head[action] item | c2 item | _k.png c3 address item | _k.png c4 "Image for item " item | c5
                heads = tuple(c[0] + action + c[1] for action in ACTIONS)
                pieces.append((*heads, c[2], f"_{k}.png{c[3]}{IMAGE_ADDR}", f"_{k}.png{c[4]}Image for item ", c[5]))
            self._pieces = pieces
        pieces = self._pieces
        out: list[str] = []
        append = out.append
        for pos, code in zip(positions, codes, strict=True):
            p = pieces[pos & 1]
            iid = str(ITEM_BASE + (pos >> 1))
            append(f"{p[code]}{iid}{p[3]}{iid}{p[4]}{iid}{p[5]}{iid}{p[6]}")
        return out

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
        holes = {"action": STR, "item": STR, "onorderquantity": RAW, "receivedquantity": RAW, "backorderquantity": RAW}
        self._chunks = RowFormat(self._future(0), holes).chunks

    def encode_rows(self, positions: list[int], codes: list[int], flt: Filters) -> list[str]:
        """:meth:`row` + action + :meth:`present` as JSON text, glued from pre-encoded pieces."""
        c = self._chunks
        heads = [c[0] + action + c[1] for action in ACTIONS]
        c2, c3, c4, c5 = c[2:]
        share = flt.scope.share if flt.scope is not None and flt.scope.share < 1 else None
        items = [(pos // 9) * 10 + 1 + pos % 9 for pos in positions]  # item_of()
        out: list[str] = []
        append = out.append
        for code, i, hv in zip(codes, items, h_many(self.salt, items), strict=True):
            on_order, received, back = hv % 60, (hv >> 8) % 100, (hv >> 16) % 4 * ((hv >> 20) % 20)
            if share is not None:
                on_order, received, back = round(on_order * share), round(received * share), round(back * share)
            append(f"{heads[code]}{ITEM_BASE + i}{c2}{on_order}{c3}{received}{c4}{back}{c5}")
        return out

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
