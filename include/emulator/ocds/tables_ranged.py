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

from include.emulator.ocds.gen import DAY, T0, h
from include.emulator.ocds.table import Filters, Table
from include.emulator.ocds.world import ITEM_BASE, STORE_BASE, WH_BASE, World
from include.emulator.timeutil import format_naive

PRICE_TYPES_SORTED = ("CLEARANCE", "INITIAL", "REGULAR")


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
    """Prices of the item/store pairs, one block per price type (``pricetype`` order)."""

    name = "item_price"
    delete_share = 15
    mutable = ("price",)

    def __init__(self, world: World) -> None:
        Table.__init__(self, world)
        self.ranging = Ranging(world, warehouses=False)
        self.block = self.ranging.count
        self.count = 3 * self.block

    def key(self, pos: int) -> tuple:
        t, p = divmod(pos, self.block)
        e, i = self.ranging.locate(p)
        return (PRICE_TYPES_SORTED[t], "S", self.ranging.entries[e][1], f"{ITEM_BASE + i:09d}")

    def row(self, pos: int) -> dict[str, Any]:
        t, p = divmod(pos, self.block)
        e, i = self.ranging.locate(p)
        return self._price(PRICE_TYPES_SORTED[t], self.ranging.entries[e][1], i)

    def row_key(self, row: dict[str, Any]) -> tuple:
        return (row["pricetype"], row["loctype"], row["location"], row["item"])

    def _price(self, pricetype: str, location: int, i: int) -> dict[str, Any]:
        hv = h(self.salt, (i << 14) + location)
        base = self.world.item_price(i) * (0.95 + (hv % 11) / 100)
        if pricetype == "REGULAR":
            base *= 0.9 + (hv >> 8) % 11 / 100
        elif pricetype == "CLEARANCE":
            base *= 0.5 + (hv >> 16) % 21 / 100
        return {
            "action": None,
            "loctype": "S",
            "location": location,
            "item": f"{ITEM_BASE + i:09d}",
            "pricetype": pricetype,
            "price": round(base, 2),
            "effective": _naive_day(T0 + ((hv >> 24) % 300) * DAY),
            "source": "DIRECT" if hv >> 40 & 1 else "IMPLIED",
            "eventid": 2000 + (hv >> 41) % 100_000,
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
        return itertools.chain.from_iterable(
            self.ranging.ranges(start, entries, base=t * self.block) for t in self._types(flt)
        )

    def in_scope(self, pos: int, flt: Filters) -> bool:
        t, p = divmod(pos, self.block)
        if flt.pricetype is not None and PRICE_TYPES_SORTED[t] != flt.pricetype:
            return False
        return super().in_scope(p, flt)

    def row_in_scope(self, row: dict[str, Any], flt: Filters) -> bool:
        if flt.pricetype is not None and row["pricetype"] != flt.pricetype:
            return False
        return super().row_in_scope(row, flt)

    def change_row(self, row: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        out = super().change_row(row, rng)
        out["eventid"] = int(out.get("eventid") or 0) + 1
        return out

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        s, i = self._unranged_store_pair(rng)
        return self._price(flt.pricetype or rng.choice(PRICE_TYPES_SORTED), STORE_BASE + s, i)


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
