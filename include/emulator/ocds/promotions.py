"""Promotions as the reference documents them (v2/item/promotion).

An offer item has **no top-level action**.  What changed is said by its nested
``locations[].action`` (INSERT, UPDATE, DELETE); rewards, conditions and their merchandise
lists carry no action and are served as the offer's current collections.

Every stored offer keeps what its locations need to be served for any window: each location
has its creation and last change time and a deleted flag, in private keys (``_c``, ``_ch``,
``_del``; ``None`` times mean "when the offer was created").  :meth:`PromotionTable.at_window`
serves an offer as of a request's window ``[since, before)``:

* a location created at or after ``since`` is INSERT, one changed (cancelled) at or after
  ``since`` is UPDATE, one deleted at or after ``since`` is DELETE;
* a location that did not change in the window is left out (reading ``"changed"``, the
  default) or served as NO_CHANGE (reading ``"all"``): the reference does not say which;
  ``OcdsDataset.readings.promotion_locations`` switches;
* a location deleted before ``since`` is never served again.

An offer whose locations are all deleted (like the reference's offer 880) is still an offer:
it stays in ``truth()`` with ``locations: []``.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from include.emulator.ocds.gen import DAY, h
from include.emulator.ocds.table import Filters, Table
from include.emulator.ocds.world import STORE_BASE, World, item_id
from include.emulator.timeutil import format_naive, format_z

MERCH_FIELDS = ("merchlevel", "dept", "class", "uniqueclass", "subclass", "uniquesubclass", "item", "diffid",
                "excludeind", "canceldatetime")
PRIVATE = ("_c", "_ch", "_del")


def merch(id_name: str, id_value: int, level: int, **values: Any) -> dict[str, Any]:
    """A merchandise row with every documented field (``None`` when it does not apply)."""
    row: dict[str, Any] = {id_name: id_value, **dict.fromkeys(MERCH_FIELDS)}
    row.update({"merchlevel": level, "excludeind": 0, **values})
    return row


def reward(rid: int, changetype: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "rewardid": rid, "changetype": changetype, "changeamount": None, "changepercent": None,
        "qtytodisc": None, "qtytodiscuom": None, "applyind": 2, "pricerestrictcode": None,
        "pricerestrictvalue1": None, "pricerestrictvalue2": None, "rewardsmerch": None,
    }
    row.update(values)
    return row


def condition(cid: int, spendtype: int, value: int, merchandise: list[dict[str, Any]], **values: Any) -> dict:
    row: dict[str, Any] = {
        "conditionid": cid, "buyspendtype": spendtype, "buyspendvalue": value, "buyuom": None,
        "pricerestrictcode": None, "pricerestrictvalue1": None, "pricerestrictvalue2": None,
        "conditionsmerch": merchandise,
    }
    row.update(values)
    return row


def location(store: int, created: int | None = None) -> dict[str, Any]:
    return {"action": None, "location": STORE_BASE + store, "canceldatetime": None,
            "_c": created, "_ch": created, "_del": False}


class PromotionTable(Table):
    """Offers (four per promotion) with nested rewards, conditions and locations."""

    name = "item_promotion"
    nested = True
    delete_share = 0  # an offer is never deleted: its locations are
    update_share = 30
    #: ``"changed"``: only locations that changed in the window; ``"all"``: unchanged ones as NO_CHANGE
    locations_reading = "changed"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.count = max(12, world.n_items // 25)

    def key(self, pos: int) -> tuple:
        return (3400 + pos // 4, 800 + pos)

    def row_key(self, row: dict[str, Any]) -> tuple:
        return (row["promoid"], row["offerid"])

    # -- generated offers ---------------------------------------------------------------

    def _stores(self, hv: int) -> list[int]:
        stores = self.world.n_stores
        first = (hv >> 20) % stores
        return sorted({(first + k) % stores for k in range(1 + (hv >> 16) % 3)})

    def row(self, pos: int) -> dict[str, Any]:
        created, changed, _deleted = self.times(pos)
        offer = self._offer(pos, 3400 + pos // 4, 800 + pos, created)
        if changed > created:
            self._generated_change(offer, h(self.salt, pos), changed)
        return offer

    def _generated_change(self, offer: dict[str, Any], hv: int, now: int) -> None:
        """The one change a generated offer had after its creation (decided by its hash)."""
        kind = (hv >> 56) % 5
        live = offer["locations"]
        if kind == 0:  # a store joins the offer
            taken = {loc["location"] - STORE_BASE for loc in live}
            spare = [s for s in range(self.world.n_stores) if s not in taken]
            if spare:
                live.append(location(spare[hv % len(spare)], now))
            offer["desc"] = f"Offer {offer['offerid']} Updated"
        elif kind == 1:  # the offer is cancelled at its first store
            live[0].update(canceldatetime=format_z(now), _ch=now)
        elif kind == 2:  # withdrawn everywhere (every location deleted, like offer 880)
            for loc in live:
                loc.update(_ch=now, _del=True)
        elif kind == 3:  # withdrawn from its last store
            live[-1].update(_ch=now, _del=True)
        else:  # the discount changes: no location changes
            first = offer["rewards"][0]
            if first["changepercent"] is not None:
                first["changepercent"] += 5
            else:
                first["changeamount"] = round(first["changeamount"] + 5, 2)

    def _offer(self, pos: int, promoid: int, offerid: int, created: int | None) -> dict[str, Any]:
        hv = h(self.salt, pos)
        start = self.times(pos)[0] if created is None else created
        start -= start % DAY
        end = start + (30 + (hv >> 8) % 60) * DAY - 1_000_000
        level, typecode, template, rewards, conditions = self._terms(pos, hv, start)
        coupon = pos % 6 == 1 and hv & 1
        return {
            "promoid": promoid,
            "offerid": offerid,
            "desc": f"Offer {offerid}",
            "custdesc": f"Offer {offerid}",
            "levelcode": level,
            "typecode": typecode,
            "templateid": template,
            "couponcode": f"SAVE{offerid}" if coupon else None,
            "couponcodereq": "Y" if coupon else "N",
            "startdatetime": format_naive(start),
            "enddatetime": format_naive(end),
            "canceldatetime": None,
            "rewards": rewards,
            "conditions": conditions,
            "locations": [location(s, created) for s in self._stores(hv)],
        }

    def _terms(self, pos: int, hv: int, start: int) -> tuple[int, int, int, list[dict], list[dict]]:
        """``(levelcode, typecode, templateid, rewards, conditions)`` of one of six offer shapes."""
        w = self.world
        dept = w.depts[(hv >> 30) % len(w.depts)]
        sub = w.subclasses[(hv >> 36) % len(w.subclasses)]
        rid, cid, mid = 700 + pos, 200 + pos, 8000 + 4 * pos
        percent = 5 * (1 + (hv >> 42) % 10)
        by_dept = [merch("rewardmerchid", mid, 1, dept=dept, excludeind=1)]
        shape = pos % 6
        if shape == 0:  # item simple, get discount on everything
            return 0, 0, 3, [reward(rid, 0, changepercent=percent, rewardsmerch=[merch("rewardmerchid", mid, 8)])], []
        if shape == 1:  # transaction simple, a department, with a price restriction
            return 1, 1, 0, [reward(rid, 0, changepercent=percent, applyind=(hv >> 46) % 3, pricerestrictcode="B",
                                    pricerestrictvalue1=10, pricerestrictvalue2=100, rewardsmerch=by_dept)], []
        if shape == 2:  # buy X of a department, get an amount off
            cond = condition(cid, 0, 2 + (hv >> 50) % 4, [merch("condmerchid", mid + 1, 1, dept=dept)], buyuom="EA")
            return 1, 2, 1, [reward(rid, 1, changeamount=5 + (hv >> 42) % 20, rewardsmerch=by_dept)], [cond]
        if shape == 3:  # spend X in a subclass, get a discount on anything
            cond = condition(cid, 1, 50, [merch("condmerchid", mid + 1, 3, dept=sub[2], **{"class": sub[3]},
                                                uniqueclass=sub[4], subclass=sub[5], uniquesubclass=sub[6])],
                             pricerestrictcode="G", pricerestrictvalue1=5)
            return 1, 2, 2, [reward(rid, 0, changepercent=percent)], [cond]
        style = 10 * ((hv >> 20) % w.n_styles)
        colors = w.style_diffs(style // 10)[2]
        if shape == 4:  # get Y of a style's colours for a fixed price
            items = [merch("rewardmerchid", mid + k, 5, item=item_id(style), diffid=colors[k][0]) for k in range(2)]
            return 0, 3, 3, [reward(rid, 2, changeamount=9.99, qtytodisc=1, qtytodiscuom="EA", rewardsmerch=items)], []
        cancelled = format_z(start + 3 * DAY + 3_600_000_000, digits=6)
        cond = condition(cid, 0, 3, [
            merch("condmerchid", mid + 1, 2, dept=sub[2], **{"class": sub[3]}, uniqueclass=sub[4]),
            merch("condmerchid", mid + 2, 5, item=item_id(style), diffid=colors[0][0]),
            merch("condmerchid", mid + 3, 1, dept=dept, canceldatetime=cancelled),
        ], buyuom="BG")
        return 1, 2, 1, [reward(rid, 0, changepercent=percent, rewardsmerch=by_dept)], [cond]

    # -- filters ------------------------------------------------------------------------

    def in_scope(self, pos: int, flt: Filters) -> bool:
        return self.row_in_scope(self.row(pos), flt)

    def row_in_scope(self, row: dict[str, Any], flt: Filters) -> bool:
        """Offers with a location (live or deleted) under the node: its deletes reach node feeds."""
        scope = flt.scope
        return scope is None or any(loc["location"] - STORE_BASE in scope.stores for loc in row["locations"])

    # -- serving ------------------------------------------------------------------------

    def at_window(self, row: dict[str, Any], since: int, created: int, live_only: bool) -> dict[str, Any]:
        """The offer as served for a window starting at ``since`` (or its current state)."""
        out = {k: copy.deepcopy(v) if k in ("rewards", "conditions") else v for k, v in row.items() if k != "locations"}
        served = []
        for loc in row["locations"]:
            c = created if loc["_c"] is None else loc["_c"]
            ch = c if loc["_ch"] is None else loc["_ch"]
            public = {k: v for k, v in loc.items() if k not in PRIVATE}
            if live_only:
                if not loc["_del"]:
                    public.pop("action")
                    served.append(public)
                continue
            if loc["_del"]:
                action = "DELETE" if ch >= since else None
            elif c >= since:
                action = "INSERT"
            elif ch >= since:
                action = "UPDATE"
            else:
                action = "NO_CHANGE" if self.locations_reading == "all" else None
            if action is not None:
                served.append({**public, "action": action})
        out["locations"] = served
        return out

    # -- changes ------------------------------------------------------------------------

    def changeable(self, row: dict[str, Any], kind: str) -> bool:
        """Deletes withdraw a live location: an offer without one cannot be deleted from."""
        return kind != "deleted" or any(not loc["_del"] for loc in row["locations"])

    def changed(self, row: dict[str, Any], rng: random.Random, now: int, kind: str) -> tuple[dict[str, Any], bool]:
        """A changed copy of an offer (never a tombstone): ``deleted`` removes one location,
        ``updated`` changes one nested thing (a location, a reward, a condition, merchandise)."""
        out = copy.deepcopy(row)
        live = [loc for loc in out["locations"] if not loc["_del"]]
        if kind == "deleted":
            rng.choice(live).update(_ch=now, _del=True)
            return out, False
        change = rng.choice(("add_location", "cancel_location", "reward", "condition", "merch", "describe"))
        if change == "add_location":
            taken = {loc["location"] - STORE_BASE for loc in out["locations"]}
            spare = [s for s in range(self.world.n_stores) if s not in taken]
            if spare:
                out["locations"].append(location(rng.choice(spare), now))
                return out, False
            change = "describe"
        if change == "cancel_location":
            open_ = [loc for loc in live if loc["canceldatetime"] is None]
            if open_:
                rng.choice(open_).update(canceldatetime=format_z(now), _ch=now)
                return out, False
            change = "reward"
        self._change_terms(out, rng, now, change)
        return out, False

    def _change_terms(self, offer: dict[str, Any], rng: random.Random, now: int, change: str) -> None:
        first = offer["rewards"][0]
        conditions = offer["conditions"]
        if change == "condition" and conditions:
            conditions[0]["buyspendvalue"] += rng.randint(1, 5)
        elif change == "merch" and conditions and len(conditions[0]["conditionsmerch"]) > 1:
            conditions[0]["conditionsmerch"].pop()  # a merchandise row leaves the condition
        elif change == "merch":
            merchandise = first["rewardsmerch"] or []
            if merchandise and merchandise[-1]["canceldatetime"] is None:
                merchandise[-1]["canceldatetime"] = format_z(now, digits=6)
            else:
                new_id = 90_000 + rng.randrange(1_000_000)
                first["rewardsmerch"] = [*merchandise, merch("rewardmerchid", new_id, 1, dept=self.world.depts[0])]
        elif change == "describe":
            offer["desc"] = f"Offer {offer['offerid']} (rev {rng.randint(1, 9999)})"
        else:
            first["qtytodisc"] = (first["qtytodisc"] or 0) + 1
            first["qtytodiscuom"] = "EA"

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        pos = self.count + seq
        return self._offer(pos, 3400 + self.count // 4 + 1 + seq, 800 + pos, None)
