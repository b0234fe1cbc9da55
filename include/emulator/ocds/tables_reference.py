"""Small tables: diffs, diff groups, VAT, hierarchies, stores, warehouses, log."""

from __future__ import annotations

import random
from typing import Any

from include.emulator.ocds.gen import CITIES, SPAN, T0, T1, clamp, h, person
from include.emulator.ocds.table import Filters, ListTable, Table
from include.emulator.ocds.world import (
    DIFF_GROUPS,
    DIFF_TYPES,
    LEVEL_CODE,
    LEVEL_ORDER,
    MERCH_ORDER,
    STORE_BASE,
    VAT_REGIONS,
    VIRTUAL_WH_BASE,
    WH_BASE,
    World,
)
from include.emulator.timeutil import format_naive, format_offset

#: OCDS server timestamps (log, version, refresh dates) are shown at this UTC offset.
SERVER_OFFSET_MINUTES = -300


class DiffTable(ListTable):
    name = "diff"
    mutable = ("diffdesc",)

    def build(self) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for _gid, _gdesc, dtype, members in DIFF_GROUPS:
            for diff, desc in members:
                seen[diff] = {
                    "action": None,
                    "diffid": diff,
                    "diffdesc": desc,
                    "difftype": dtype,
                    "difftypedesc": DIFF_TYPES[dtype],
                }
        return [seen[k] for k in sorted(seen)]

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        return {
            "action": None,
            "diffid": f"NEWCLR{seq:04d}",
            "diffdesc": f"New Color {seq}",
            "difftype": "C",
            "difftypedesc": "Color",
        }


class DiffGroupTable(ListTable):
    name = "diff_group"
    mutable = ("diffgroupdesc",)

    def build(self) -> list[dict[str, Any]]:
        rows = [
            {"action": None, "diffgroupid": gid, "diffgroupdesc": gdesc, "difftypeid": dtype, "diffid": diff}
            for gid, gdesc, dtype, members in DIFF_GROUPS
            for diff, _desc in members
        ]
        return sorted(rows, key=lambda r: (r["diffgroupid"], r["diffid"]))

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        return {
            "action": None,
            "diffgroupid": f"NEW GRP {seq:04d}",
            "diffgroupdesc": f"New group {seq}",
            "difftypeid": "C",
            "diffid": "BLACK",
        }


class VatTable(ListTable):
    name = "vat"
    mutable = ("vatcodedesc", "vatregionname")

    def build(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.world.vat_rows]

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        region = rng.choice(VAT_REGIONS)
        return {
            "action": None,
            "vatregion": region,
            "vatregionname": f"Vat Region {region}",
            "vatcode": str(900 + seq),
            "vatcodedesc": f"Vat Code {900 + seq}",
            "activedate": format_naive(T1 + seq * 1_000_000),
            "enddate": None,
        }


class MerchHierTable(ListTable):
    name = "merchhier"
    mutable = ("nodename",)

    def build(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.world.merch_nodes]

    def row_key(self, row: dict[str, Any]) -> tuple:
        return (MERCH_ORDER.get(row["hierarchylevel"], 99), row["nodeid"])

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        parent = rng.randrange(1, len(self.world.subclasses) // 3 + 1)
        return {
            "action": None,
            "nodeid": 10_001 + seq,
            "hierarchylevel": "SUBCLASS",
            "nodename": f"New subclass {seq}",
            "parentlevel": "CLASS",
            "parentnodeid": parent,
            "merchdisplayid": None,
            "buyer": None,
        }


class OrgHierTable(ListTable):
    name = "orghier"
    mutable = ("hierarchynodename",)

    def build(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.world.org_nodes]

    def row_key(self, row: dict[str, Any]) -> tuple:
        return (LEVEL_ORDER.get(row["hierarchylevel"], 99), row["hierarchynodeid"])

    def in_scope(self, pos: int, flt: Filters) -> bool:
        return self.row_in_scope(self.rows[pos], flt)

    def row_in_scope(self, row: dict[str, Any], flt: Filters) -> bool:
        scope = flt.scope
        if scope is None:
            return True
        return (row["hierarchylevel"], row["hierarchynodeid"]) in scope.nodes or (
            row.get("parentlevel"),
            row.get("parentid"),
        ) in scope.nodes

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        region = rng.randrange(self.world.org_counts["REGION"]) + 1
        return {
            "action": None,
            "hierarchylevel": "DISTRICT",
            "hierarchynodeid": 1001 + seq,
            "hierarchynodename": f"District_{1001 + seq}",
            "parentlevel": "REGION",
            "parentid": region,
            "mgrname": None,
            "stockholding": None,
            "integratedpos": None,
        }


class RetailStoreTable(ListTable):
    name = "location_retailstore"
    mutable = ("manager", "phonenumber", "totalsqfeet")

    def build(self) -> list[dict[str, Any]]:
        return [self._store(s) for s in range(self.world.n_stores)]

    def _store(self, s: int) -> dict[str, Any]:
        w = self.world
        hv = h(self.salt, s)
        store_id = STORE_BASE + s
        city, state, zip3 = w.store_city[s] if s < w.n_stores else CITIES[hv % len(CITIES)]
        total = 8_000 + hv % 40 * 500
        return {
            "action": None,
            "storeid": store_id,
            "storename": f"{city} Store {store_id}",
            "storename10": f"STORE{store_id}"[:10],
            "manager": person(hv),
            "phonenumber": f"612-555-{store_id:04d}",
            "faxnumber": f"612-555-{(store_id + 5000) % 10000:04d}",
            "email": f"store{store_id}@example.com",
            "totalsqfeet": total,
            "sellingsqfeet": total * 9 // 10,
            "currencycode": "USD",
            "vatregion": w.store_vat[s] if s < w.n_stores else VAT_REGIONS[0],
            "stockholdingind": "Y",
            "integratedpos": "Y",
            "contactname": person(hv >> 16),
            "address1": f"{1 + hv % 9000} Main Street",
            "address2": None,
            "address3": None,
            "city": city,
            "state": state,
            "country": "US",
            "postalcode": f"{zip3}{(hv >> 24) % 100:02d}",
        }

    def in_scope(self, pos: int, flt: Filters) -> bool:
        return flt.scope is None or pos in flt.scope.stores

    def row_in_scope(self, row: dict[str, Any], flt: Filters) -> bool:
        return flt.scope is None or row["storeid"] - STORE_BASE in flt.scope.stores

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        return self._store(self.world.n_stores + seq)


class WarehouseTable(ListTable):
    name = "location_warehouse"
    mutable = ("contactname", "email", "warehousename")

    def build(self) -> list[dict[str, Any]]:
        n = self.world.n_warehouses
        return [self._wh(w, "physical") for w in range(n)] + [self._wh(w, "virtual") for w in range(n)]

    def _wh(self, w: int, kind: str, wh_id: int | None = None) -> dict[str, Any]:
        world = self.world
        hv = h(self.salt, w)
        physical = WH_BASE + w
        wh_id = wh_id or (physical if kind == "physical" else VIRTUAL_WH_BASE + w)
        city, state, zip3 = CITIES[hv % len(CITIES)]
        chain = world.wh_chain[w % world.n_warehouses]
        return {
            "action": None,
            "warehouseid": wh_id,
            "type": kind,
            "warehousename": f"Warehouse #{w + 1}" if kind == "physical" else f"Web fulfilment #{w + 1}",
            "whnamesecondary": f"{kind.title()} Warehouse {wh_id}",
            "contactname": person(hv),
            "phonenumber": f"651-555-{wh_id % 10000:04d}",
            "faxnumber": None,
            "email": f"wh{wh_id}@example.com",
            "currencycode": "USD",
            "physicalwh": physical,
            "vatregion": world.wh_vat[w % world.n_warehouses],
            "orghiertype": LEVEL_CODE["CHAIN"],
            "orghiervalue": chain,
            "orgentitytype": "R" if kind == "physical" else "M",
            "channelid": None if kind == "physical" else 1,
            "channelname": None if kind == "physical" else "Web",
            "address1": f"{10 + hv % 900} Industrial Blvd",
            "address2": None,
            "address3": None,
            "city": city,
            "state": state,
            "country": "US",
            "postalcode": f"{zip3}{(hv >> 24) % 100:02d}",
        }

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        return self._wh(rng.randrange(self.world.n_warehouses), "physical", 9201 + seq)


LOG_JOBS = (
    "OcdsImport_Item.xferItem",
    "OcdsImport_ItemLoc.xferItemLoc",
    "OcdsImport_PriceClearance.xferPriceClearance",
    "OcdsImport_DiffGrp.xferDiffGrp",
    "OcdsImport_Store.xferStore",
    "OcdsImport_InvStore.xferInvStore",
    "OcdsImport_Promotion.xferPromotion",
    "OcdsImport_MerchHier.xferMerchHier",
)
LOG_PHASES = ("start", "deleteBdiIfcRecord - begin", "deleteBdiIfcRecord - end", "end")
#: every TWIN_EVERY-th generated log line repeats the step of the line before (another thread)
TWIN_EVERY = 7


class AdminLogTable(Table):
    """Log lines spread evenly over the generated year; selected by ``logged``, no action.

    Every :data:`TWIN_EVERY`-th line is a second thread's line of the job step before it:
    the same ``logged``, ``severity`` and ``message``, another ``supplemental``.  So
    ``(logged, message)`` does not identify a line; the emulator's key is all four fields.
    """

    name = "admin_log"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.count = clamp(world.n_items // 10, 50, 10_000)
        self.step = SPAN // self.count

    @staticmethod
    def base(pos: int) -> int:
        """The line whose step a line logs (itself, or the one before for a twin)."""
        return pos - 1 if pos % TWIN_EVERY == TWIN_EVERY - 1 else pos

    def logged(self, pos: int) -> int:
        pos = self.base(pos)
        return T0 + pos * self.step + h(self._tsalt, pos) % (self.step // 2)

    def times(self, pos: int) -> tuple[int, int, bool]:
        logged = self.logged(pos)
        return logged, logged, False

    def time_bounds(self) -> tuple[int, int]:
        return T0, T0 + self.count * self.step

    def severity(self, pos: int) -> str:
        value = h(self.salt, self.base(pos)) % 100
        return "ERROR" if value < 3 else "DEBUG" if value < 20 else "INFO"

    def row(self, pos: int) -> dict[str, Any]:
        step = self.base(pos)
        hv = h(self.salt, step)
        severity = self.severity(pos)
        job = LOG_JOBS[(step // len(LOG_PHASES)) % len(LOG_JOBS)]
        phase = LOG_PHASES[step % len(LOG_PHASES)]
        message = (
            f"{job} - failed: ORA-00060: deadlock detected" if severity == "ERROR" else f"{job} - {phase}"
        )
        begin = (hv >> 8) % 1_000_000
        supplemental = f"beginSeq: {begin}, endSeq: {begin + (hv >> 32) % 50_000}"
        return {
            "logged": format_offset(self.logged(pos), SERVER_OFFSET_MINUTES),
            "severity": severity,
            "message": message,
            "supplemental": supplemental if step == pos else f"{supplemental}, thread: 2",
        }

    def row_key(self, row: dict[str, Any]) -> tuple:
        return (row["logged"], row["message"], row["severity"], row["supplemental"] or "")

    def in_scope(self, pos: int, flt: Filters) -> bool:
        return flt.severity is None or self.severity(pos) == flt.severity

    def row_in_scope(self, row: dict[str, Any], flt: Filters) -> bool:
        return flt.severity is None or row["severity"] == flt.severity

    def line(
        self, logged_us: int, message: str, severity: str = "INFO", supplemental: str | None = None
    ) -> dict:
        return {
            "logged": format_offset(logged_us, SERVER_OFFSET_MINUTES),
            "severity": severity,
            "message": message,
            "supplemental": supplemental,
        }

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        raise ValueError("admin_log lines are inserted with a timestamp: use OcdsDataset.log()")
