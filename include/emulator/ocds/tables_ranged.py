"""Item/location tables: ranging, prices by price type, store and warehouse inventory.

Item ``i`` is ranged at ``R`` consecutive stores starting at store ``i % S`` and at every
warehouse ``w`` with ``i % (W + 1) != w``.  So the items of one location are the items
whose index falls in a few residue classes: the ``p``-th of them is computed directly and
the tables stay lazy at any scale.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterable
from typing import Any

from include.emulator.ocds.encode import ACTIONS, CENTS, RAW, STR, RowFormat, cents_texts
from include.emulator.ocds.gen import DAY, T0, h, h_many
from include.emulator.ocds.table import Filters, Table
from include.emulator.ocds.tables_items import item_prices
from include.emulator.ocds.world import ITEM_BASE, STORE_BASE, WH_BASE, World
from include.emulator.timeutil import format_naive

PRICE_TYPES_SORTED = ("CLEARANCE", "INITIAL", "REGULAR")
#: price events per item/store pair, by ``PRICE_TYPES_SORTED``: two clearance markdowns,
#: the initial price, a regular price and a later regular price change
EVENTS = (2, 1, 2)
#: event ``k`` of a type takes effect ``MARKDOWN_DAYS * k`` days after the first
MARKDOWN_DAYS = 14
#: price factor of event ``k`` by type: markdowns 20% lower, a regular change 5% higher
_EVENT_FACTOR = ((1.0, 0.8), (1.0,), (1.0, 1.05))
#: ``0.95 + k / 100``, ``0.9 + k / 100`` and ``0.5 + k / 100`` by code: the location,
#: regular and clearance price factors (the very floats the row methods compute).
_LOC_FACTOR = tuple(0.95 + k / 100 for k in range(11))
_REG_FACTOR = tuple(0.9 + k / 100 for k in range(11))
_CLR_FACTOR = tuple(0.5 + k / 100 for k in range(21))


class Ranging:
    """Items ranged at each location, location by location (store ``S`` rows first).

    ``entries[e] = (loctype, location id, location index, modulus, residues)``: location ``e``
    ranges the items ``i`` with ``i % modulus in residues``.
    """

    def __init__(self, world: World, stores: bool = True, warehouses: bool = True) -> None:
        n, S, W, R = world.n_items, world.n_stores, world.n_warehouses, world.ranging
        entries: list[tuple[str, int, int, int, tuple[int, ...]]] = []
        if stores:
            for s in range(S):
                entries.append(("S", STORE_BASE + s, s, S, tuple(sorted({(s - k) % S for k in range(R)}))))
        if warehouses:
            for w in range(W):
                entries.append(("W", WH_BASE + w, w, W + 1, tuple(r for r in range(W + 1) if r != w)))
        self.entries = entries
        self.counts = [sum((n - r + m - 1) // m for r in res if r < n) for _t, _l, _i, m, res in entries]
        self.offsets = [0, *itertools.accumulate(self.counts)]
        self.count = self.offsets[-1]
        self._cache = (0, 0, 0)

    def locate(self, pos: int) -> tuple[int, int]:
        """``(entry, item index)`` of position ``pos``."""
        lo, hi, e = self._cache
        if not lo <= pos < hi:
            e = bisect.bisect_right(self.offsets, pos) - 1
            lo, hi = self.offsets[e], self.offsets[e + 1]
            self._cache = (lo, hi, e)
        entry = self.entries[e]
        res = entry[4]
        q, r = divmod(pos - lo, len(res))
        return e, q * entry[3] + res[r]

    def locate_many(self, positions: list[int], block: int = 0) -> tuple[list[int], list[int]]:
        """``(entries, item indices)`` of many positions (:meth:`locate` of each), in blocks of
        ``block`` positions when positive (``position % block`` is located)."""
        offsets, entries = self.offsets, self.entries
        out_e: list[int] = []
        out_i: list[int] = []
        lo = hi = e = 0
        modulus, res, n_res = 1, (0,), 1
        for pos in positions:
            if not lo <= pos < hi:
                base = pos - pos % block if block else 0
                e = bisect.bisect_right(offsets, pos - base) - 1
                lo, hi = base + offsets[e], base + offsets[e + 1]
                modulus, res = entries[e][3], entries[e][4]
                n_res = len(res)
            q, r = divmod(pos - lo, n_res)
            out_e.append(e)
            out_i.append(q * modulus + res[r])
        return out_e, out_i

    def ranges(self, start: int, entries: Iterable[int], base: int = 0) -> Iterable[int]:
        """Positions ``>= start`` of the given entries (ascending entries), shifted by ``base``."""
        out = []
        for e in entries:
            lo, hi = base + self.offsets[e], base + self.offsets[e + 1]
            if hi > start:
                out.append(range(max(lo, start), hi))
        return itertools.chain.from_iterable(out)

    def entries_in(self, location_ids: frozenset[int] | None) -> list[int]:
        return [e for e, entry in enumerate(self.entries) if location_ids is None or entry[1] in location_ids]


class ItemLocationTable(Table):
    name = "item_itemlocation"
    delete_share = 15
    mutable = ("sellingunitretail", "taxableind", "localitemdesc")

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.ranging = Ranging(world)
        self.count = self.ranging.count
        self._pieces: Any = None

    def encode_rows(self, positions: list[int], codes: list[int], flt: Filters) -> list[str]:
        """:meth:`row` + action as JSON text, glued from pre-encoded pieces per location."""
        if self._pieces is None:
            holes = dict.fromkeys(("action", "item"), STR)
            holes.update(sellingunitretail=RAW, taxableind=STR, localitemdesc=STR, clearanceind=STR)
            formats = [RowFormat(self._row(e[0], e[1], 0), holes) for e in self.ranging.entries]
            assert all(f.fields == tuple(holes) for f in formats), f"{self.name}: template fields moved"
            c = formats[0].chunks
            assert all(f.chunks[2:5] == c[2:5] for f in formats)
            # head[location][action] item | c2 sellingunitretail | c3 taxableind c4 "Item " item |
            # " at <location>" c5 clearanceind c6[location]
            self._pieces = (
                [[f.chunks[0] + action + f.chunks[1] for action in ACTIONS] for f in formats],
                c[2],
                [f"{c[3]}{flag}{c[4]}Item " for flag in "NY"],
                [
                    [f" at {e[1]}{f.chunks[5]}{flag}{f.chunks[6]}" for flag in "NY"]
                    for e, f in zip(self.ranging.entries, formats, strict=True)
                ],
            )
        heads, c2, taxable, clearance = self._pieces
        prices, factors, cents = item_prices()[0], _LOC_FACTOR, cents_texts()
        entries = self.ranging.entries
        locs, items = self.ranging.locate_many(positions)
        keys = [(i << 14) + entries[e][1] for e, i in zip(locs, items, strict=True)]
        families = [i - i % 10 if i % 10 <= 4 else i for i in items]
        out: list[str] = []
        append = out.append
        for code, e, i, hv, hf in zip(
            codes, locs, items, h_many(self.salt, keys), h_many(self.world._salt_item, families), strict=True
        ):
            iid = ITEM_BASE + i
            x = prices[(hf >> 16 & 0xFFFF) % 9900] * factors[hv % 11]
            y = x * 100  # repr(round(x, 2)): see encode.amount_text()
            d = round(y)
            retail = cents[d] if d < CENTS and abs(abs(y - d) - 0.5) > 1e-9 else repr(round(x, 2))
            append(
                f"{heads[e][code]}{iid}{c2}{retail}{taxable[1 if hv & 0x700 else 0]}{iid}"
                f"{clearance[e][0 if hv & 0xF800 else 1]}"
            )
        return out

    def key(self, pos: int) -> tuple:
        e, i = self.ranging.locate(pos)
        entry = self.ranging.entries[e]
        return (entry[0], entry[1], f"{ITEM_BASE + i:09d}")

    def row(self, pos: int) -> dict[str, Any]:
        e, i = self.ranging.locate(pos)
        entry = self.ranging.entries[e]
        return self._row(entry[0], entry[1], i)

    def _row(self, loctype: str, location: int, i: int) -> dict[str, Any]:
        w = self.world
        hv = h(self.salt, (i << 14) + location)
        iid = f"{ITEM_BASE + i:09d}"
        store = loctype == "S"
        vat = w.store_vat[location - STORE_BASE] if store else w.wh_vat[location - WH_BASE]
        return {
            "action": None,
            "loctype": loctype,
            "location": location,
            "item": iid,
            "sellingunitretail": round(w.item_price(i) * (0.95 + (hv % 11) / 100), 2),
            "sellinguom": "EA",
            "taxableind": "N" if hv & 0x700 == 0 else "Y",
            "localitemdesc": f"Item {iid} at {location}",
            "status": "A",
            "qtykeyoptions": None,
            "manualpriceentry": None,
            "foodstampind": None,
            "fixedtarevalue": None,
            "fixedtareuom": None,
            "stopsaleind": "N",
            "returnableind": "Y",
            "merchandiseind": "Y",
            "clearanceind": "Y" if hv & 0xF800 == 0 else "N",
            "crosssell": "N",
            "attacheditem": "N",
            "vatcodes": w.vatcodes_json[vat] if store else None,
        }

    def positions(self, start: int, flt: Filters) -> Iterable[int]:
        if flt.scope is None:
            return range(start, self.count)
        return self.ranging.ranges(start, self.ranging.entries_in(flt.scope.location_ids))

    def in_scope(self, pos: int, flt: Filters) -> bool:
        if flt.scope is None:
            return True
        e, _i = self.ranging.locate(pos)
        return self.ranging.entries[e][1] in flt.scope.location_ids

    def row_in_scope(self, row: dict[str, Any], flt: Filters) -> bool:
        return flt.scope is None or int(row["location"]) in flt.scope.location_ids

    def _unranged_store_pair(self, rng: random.Random) -> tuple[int, int]:
        w = self.world
        while True:
            s, i = rng.randrange(w.n_stores), rng.randrange(w.n_items)
            if not w.item_at_store(i, s):
                return s, i

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        s, i = self._unranged_store_pair(rng)
        return self._row("S", STORE_BASE + s, i)


class PriceTable(ItemLocationTable):
    """Price events of the item/store pairs, one block per price type (``pricetype`` order).

    Each pair has :data:`EVENTS` events per price type, in event id order: successive
    clearance markdowns (each 20% lower, two weeks apart), the initial price, a regular
    price and a later regular price change.  Events are identified by ``eventid`` ("Pricing
    Service event id for the price activity"): an update changes an event's price, an
    insert adds a further markdown to a ranged pair.
    """

    name = "item_price"
    delete_share = 15
    mutable = ("price",)

    def __init__(self, world: World) -> None:
        Table.__init__(self, world)
        self.ranging = Ranging(world, warehouses=False)
        pairs = self.ranging.count
        self.offsets = [0, *itertools.accumulate(n * pairs for n in EVENTS)]
        self.count = self.offsets[-1]
        self._pieces = None

    def _locate(self, pos: int) -> tuple[int, int, int]:
        """``(price type index, pair position, event number)`` of position ``pos``."""
        t = 0 if pos < self.offsets[1] else (1 if pos < self.offsets[2] else 2)
        pair, k = divmod(pos - self.offsets[t], EVENTS[t])
        return t, pair, k

    def _compile(self) -> tuple[Any, ...]:
        entries = self.ranging.entries
        holes = dict.fromkeys(("action", "item"), STR)
        holes.update(price=RAW, effective=STR, source=STR, eventid=RAW, resetind=RAW)
        formats = [[RowFormat(self._price(t, e[1], 0, 0), holes) for e in entries] for t in range(3)]
        assert all(f.fields == tuple(holes) for fs in formats for f in fs), f"{self.name}: fields moved"
        c = formats[0][0].chunks
        assert all(f.chunks[3:7] == c[3:7] for fs in formats for f in fs)
        assert all(f.chunks[2] == fs[0].chunks[2] and f.chunks[7] == fs[0].chunks[7] for fs in formats for f in fs)
        last_day = 300 + MARKDOWN_DAYS * (max(EVENTS) - 1)
        # head[type][store][action] item | c2[type] price | effective | source | eventid | resetind
        return (
            [[[f.chunks[0] + action + f.chunks[1] for action in ACTIONS] for f in fs] for fs in formats],
            [fs[0].chunks[2] for fs in formats],
            [c[3] + _naive_day(T0 + d * DAY) + c[4] for d in range(last_day)],
            [source + c[5] for source in ("IMPLIED", "DIRECT")],
            [[f"{c[6]}{flag}{fs[0].chunks[7]}" for flag in (0, 1)] for fs in formats],
        )

    def encode_rows(self, positions: list[int], codes: list[int], flt: Filters) -> list[str]:
        """:meth:`row` + action as JSON text, glued from pre-encoded pieces per price type and store."""
        entries = self.ranging.entries
        if self._pieces is None:
            self._pieces = self._compile()
        heads, c2, days, sources, resets = self._pieces
        prices, factors, regular, clearance = item_prices()[0], _LOC_FACTOR, _REG_FACTOR, _CLR_FACTOR
        cents = cents_texts()
        located = [self._locate(pos) for pos in positions]
        locs, items = self.ranging.locate_many([pair for _t, pair, _k in located])
        keys = [(i << 14) + entries[e][1] for e, i in zip(locs, items, strict=True)]
        families = [i - i % 10 if i % 10 <= 4 else i for i in items]
        out: list[str] = []
        append = out.append
        hashes, family_hashes = h_many(self.salt, keys), h_many(self.world._salt_item, families)
        for (t, _pair, k), code, e, i, hv, hf in zip(located, codes, locs, items, hashes, family_hashes, strict=True):
            base = prices[(hf >> 16 & 0xFFFF) % 9900] * factors[hv % 11]
            if t == 2:  # REGULAR
                base *= regular[(hv >> 8) % 11]
            elif t == 0:  # CLEARANCE
                base *= clearance[(hv >> 16) % 21]
            base *= _EVENT_FACTOR[t][k]
            y = base * 100  # repr(round(base, 2)): see encode.amount_text()
            d = round(y)
            price = cents[d] if d < CENTS and abs(abs(y - d) - 0.5) > 1e-9 else repr(round(base, 2))
            append(
                f"{heads[t][e][code]}{ITEM_BASE + i}{c2[t]}{price}{days[(hv >> 24) % 300 + MARKDOWN_DAYS * k]}"
                f"{sources[hv >> 40 & 1]}{2000 + (hv >> 41) % 100_000 + k}{resets[t][1 if (hv >> 58) == 0 else 0]}"
            )
        return out

    def key(self, pos: int) -> tuple:
        t, pair, k = self._locate(pos)
        e, i = self.ranging.locate(pair)
        location = self.ranging.entries[e][1]
        hv = h(self.salt, (i << 14) + location)
        return (PRICE_TYPES_SORTED[t], "S", location, f"{ITEM_BASE + i:09d}", 2000 + (hv >> 41) % 100_000 + k)

    def row(self, pos: int) -> dict[str, Any]:
        t, pair, k = self._locate(pos)
        e, i = self.ranging.locate(pair)
        return self._price(t, self.ranging.entries[e][1], i, k)

    def row_key(self, row: dict[str, Any]) -> tuple:
        return (row["pricetype"], row["loctype"], row["location"], row["item"], row["eventid"])

    def _price(self, t: int, location: int, i: int, k: int) -> dict[str, Any]:
        """Event ``k`` of price type ``PRICE_TYPES_SORTED[t]`` for item ``i`` at ``location``."""
        pricetype = PRICE_TYPES_SORTED[t]
        hv = h(self.salt, (i << 14) + location)
        base = self.world.item_price(i) * (0.95 + (hv % 11) / 100)
        if pricetype == "REGULAR":
            base *= 0.9 + (hv >> 8) % 11 / 100
        elif pricetype == "CLEARANCE":
            base *= 0.5 + (hv >> 16) % 21 / 100
        base *= _EVENT_FACTOR[t][k] if k < len(_EVENT_FACTOR[t]) else 0.8**k
        return {
            "action": None,
            "loctype": "S",
            "location": location,
            "item": f"{ITEM_BASE + i:09d}",
            "pricetype": pricetype,
            "price": round(base, 2),
            "effective": _naive_day(T0 + ((hv >> 24) % 300 + MARKDOWN_DAYS * k) * DAY),
            "source": "DIRECT" if hv >> 40 & 1 else "IMPLIED",
            "eventid": 2000 + (hv >> 41) % 100_000 + k,
            "resetind": 1 if (hv >> 58) == 0 else 0,
            "clearanceind": "Y" if pricetype == "CLEARANCE" else "N",
        }

    def _types(self, flt: Filters) -> list[int]:
        if flt.pricetype is None:
            return [0, 1, 2]
        return [PRICE_TYPES_SORTED.index(flt.pricetype)]

    def positions(self, start: int, flt: Filters) -> Iterable[int]:
        if flt.empty:
            return range(start, self.count)
        entries = self.ranging.entries_in(flt.scope.location_ids if flt.scope else None)
        offsets, out = self.ranging.offsets, []
        for t in self._types(flt):
            base, n = self.offsets[t], EVENTS[t]
            for e in entries:
                lo, hi = base + n * offsets[e], base + n * offsets[e + 1]
                if hi > start:
                    out.append(range(max(lo, start), hi))
        return itertools.chain.from_iterable(out)

    def in_scope(self, pos: int, flt: Filters) -> bool:
        t, pair, _k = self._locate(pos)
        if flt.pricetype is not None and PRICE_TYPES_SORTED[t] != flt.pricetype:
            return False
        return super().in_scope(pair, flt)

    def row_in_scope(self, row: dict[str, Any], flt: Filters) -> bool:
        if flt.pricetype is not None and row["pricetype"] != flt.pricetype:
            return False
        return super().row_in_scope(row, flt)

    def change_row(self, row: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """An event's price changes; its id (the key) stays."""
        return super().change_row(row, rng)

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        """A further event (a later markdown) of a ranged item/store pair."""
        w = self.world
        t = PRICE_TYPES_SORTED.index(flt.pricetype) if flt.pricetype else rng.randrange(3)
        i = rng.randrange(w.n_items)
        store = w.stores_of_item(i)[rng.randrange(w.ranging)]
        return self._price(t, STORE_BASE + store, i, EVENTS[t] + seq % 20)


def _naive_day(us: int) -> str:
    return format_naive(us - us % DAY)


class StoreInventoryTable(Table):
    """Stock of every item/store pair, item by item (sort: loctype, item, location)."""

    name = "inventory_store"
    delete_share = 10
    mutable = ("availablequantity", "stockonhand")

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.count = world.n_items * world.ranging
        holes = {"action": STR, "item": STR, "availablequantity": RAW, "stockonhand": RAW}
        formats = [RowFormat(self._stock(0, str(STORE_BASE + s)), holes) for s in range(world.n_stores)]
        # head[store][action] item | c2[store] availablequantity | c3 stockonhand | c4
        self._heads = [[f.chunks[0] + action + f.chunks[1] for action in ACTIONS] for f in formats]
        self._c2 = [f.chunks[2] for f in formats]
        self._c3, self._c4 = formats[0].chunks[3:]
        assert all(f.chunks[3:] == (self._c3, self._c4) for f in formats)

    def encode_rows(self, positions: list[int], codes: list[int], flt: Filters) -> list[str]:
        """:meth:`row` + action as JSON text, glued from pre-encoded pieces per store."""
        w = self.world
        heads, c2s, c3, c4 = self._heads, self._c2, self._c3, self._c4
        n_stores, ranging = w.n_stores, w.ranging
        by_residue = [w.stores_of_item(r) for r in range(n_stores)]  # stores_of_item(i) by i % S
        items = [pos // ranging for pos in positions]
        stores = [by_residue[i % n_stores][pos % ranging] for pos, i in zip(positions, items, strict=True)]
        keys = [(i << 14) + STORE_BASE + s for i, s in zip(items, stores, strict=True)]
        out: list[str] = []
        append = out.append
        for code, i, s, hv in zip(codes, items, stores, h_many(self.salt, keys), strict=True):
            on_hand = hv % 120
            append(f"{heads[s][code]}{ITEM_BASE + i}{c2s[s]}{max(0, on_hand - (hv >> 8) % 10)}{c3}{on_hand}{c4}")
        return out

    def _pair(self, pos: int) -> tuple[int, int]:
        i, k = divmod(pos, self.world.ranging)
        return i, self.world.stores_of_item(i)[k]

    def key(self, pos: int) -> tuple:
        i, s = self._pair(pos)
        return ("S", f"{ITEM_BASE + i:09d}", str(STORE_BASE + s))

    def row(self, pos: int) -> dict[str, Any]:
        i, s = self._pair(pos)
        return self._stock(i, str(STORE_BASE + s))

    def _stock(self, i: int, location: str) -> dict[str, Any]:
        hv = h(self.salt, (i << 14) + int(location))
        on_hand = hv % 120
        return {
            "action": None,
            "item": f"{ITEM_BASE + i:09d}",
            "location": location,
            "loctype": "S",
            "availablequantity": max(0, on_hand - (hv >> 8) % 10),
            "stockonhand": on_hand,
            "standarduom": "EA",
            "physicalwarehouse": None,
        }

    def positions(self, start: int, flt: Filters) -> Iterable[int]:
        if flt.scope is None or len(flt.scope.stores) == self.world.n_stores:
            return range(start, self.count)
        if not flt.scope.stores:  # a warehouse: no store rows at all
            return range(0)
        return (p for p in range(start, self.count) if self.in_scope(p, flt))

    def in_scope(self, pos: int, flt: Filters) -> bool:
        return flt.scope is None or self._pair(pos)[1] in flt.scope.stores

    def row_in_scope(self, row: dict[str, Any], flt: Filters) -> bool:
        return flt.scope is None or int(row["location"]) - STORE_BASE in flt.scope.stores

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        w = self.world
        while True:
            s, i = rng.randrange(w.n_stores), rng.randrange(w.n_items)
            if not w.item_at_store(i, s):
                return self._stock(i, str(STORE_BASE + s))


class WarehouseInventoryTable(Table):
    """Stock of every item/warehouse pair, warehouse by warehouse."""

    name = "inventory_warehouse"
    delete_share = 10
    mutable = ("availablequantity", "stockonhand")

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.ranging = Ranging(world, stores=False)
        self.count = self.ranging.count
        holes = {"action": STR, "item": STR, "availablequantity": RAW, "stockonhand": RAW}
        formats = [RowFormat(self._stock(0, str(e[1])), holes) for e in self.ranging.entries]
        # head[warehouse][action] item | c2[warehouse] availablequantity | c3 stockonhand | c4
        self._heads = [[f.chunks[0] + action + f.chunks[1] for action in ACTIONS] for f in formats]
        self._c2 = [f.chunks[2] for f in formats]
        self._c3, self._c4 = formats[0].chunks[3:]
        assert all(f.chunks[3:] == (self._c3, self._c4) for f in formats)

    def encode_rows(self, positions: list[int], codes: list[int], flt: Filters) -> list[str]:
        """:meth:`row` + action as JSON text, glued from pre-encoded pieces per warehouse."""
        heads, c2s, c3, c4, entries = self._heads, self._c2, self._c3, self._c4, self.ranging.entries
        locs, items = self.ranging.locate_many(positions)
        keys = [(i << 14) + entries[e][1] for e, i in zip(locs, items, strict=True)]
        out: list[str] = []
        append = out.append
        for code, e, i, hv in zip(codes, locs, items, h_many(self.salt, keys), strict=True):
            on_hand = hv % 1000
            append(f"{heads[e][code]}{ITEM_BASE + i}{c2s[e]}{max(0, on_hand - (hv >> 10) % 50)}{c3}{on_hand}{c4}")
        return out

    def key(self, pos: int) -> tuple:
        e, i = self.ranging.locate(pos)
        return (str(self.ranging.entries[e][1]), "W", f"{ITEM_BASE + i:09d}")

    def row(self, pos: int) -> dict[str, Any]:
        e, i = self.ranging.locate(pos)
        return self._stock(i, str(self.ranging.entries[e][1]))

    def _stock(self, i: int, location: str) -> dict[str, Any]:
        hv = h(self.salt, (i << 14) + int(location))
        on_hand = hv % 1000
        return {
            "action": None,
            "item": f"{ITEM_BASE + i:09d}",
            "location": location,
            "loctype": "W",
            "availablequantity": max(0, on_hand - (hv >> 10) % 50),
            "stockonhand": on_hand,
            "standarduom": "EA",
            "physicalwarehouse": "Y",
        }

    def positions(self, start: int, flt: Filters) -> Iterable[int]:
        if flt.scope is None:
            return range(start, self.count)
        return self.ranging.ranges(start, self.ranging.entries_in(flt.scope.location_ids))

    def in_scope(self, pos: int, flt: Filters) -> bool:
        if flt.scope is None:
            return True
        e, _i = self.ranging.locate(pos)
        return self.ranging.entries[e][1] in flt.scope.location_ids

    def row_in_scope(self, row: dict[str, Any], flt: Filters) -> bool:
        return flt.scope is None or int(row["location"]) in flt.scope.location_ids

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        w = self.world
        wh = rng.randrange(w.n_warehouses)
        modulus = w.n_warehouses + 1
        i = rng.randrange(max(1, (w.n_items - wh) // modulus)) * modulus + wh
        return self._stock(i, str(WH_BASE + wh))
