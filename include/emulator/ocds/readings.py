"""Switches for what the OCDS reference leaves open or contradicts, so tests can play each reading.

The defaults are the emulator's own choices (``docs/emulator.md`` lists them).  Each switch
follows something the reference itself shows or allows:

* ``promotion_locations``: ``"changed"`` serves only the locations of an offer that changed
  in the window; ``"all"`` also serves unchanged live locations, as NO_CHANGE.
* ``spelling``: ``"canonical"`` or ``"alternate"``: the other spelling the reference uses for
  the same field (its field tables and its examples disagree: ``loc_type``, ``warehouseId``,
  ``appyind``, ``rwardsmerch``...).
* ``vatregion``: ``location/retailstore.vatregion`` as a region ``"number"`` (the example's
  1000) or a ``"flag"`` (the field table's "Valid values are Y or N").
* ``local_datetimes``: ``"naive"`` (as in the examples) or ``"offset"``: local date-times
  carry the server's UTC offset (``2025-08-05T00:00:00-05:00``).
* ``count_skew``: ``count`` is this many more than the items of the page (the reference's
  promotion and price examples do this).
* ``max_limit``: a server cap on ``limit`` (``None``: none; the reference documents none).
  A capped request is answered with the effective ``limit`` in the envelope.
* ``actions``: ``{endpoint: {action: replacement}}`` relabels served actions (top level and
  promotion locations).  The reference lists UPSERT, NO_CHANGE and NA without saying when
  they are sent; mapping INSERT/UPDATE to them plays that.  A replacement outside the
  vocabulary (``"update"``, ``"MERGE"``) or ``None`` (the key is left out) is a fault
  injection: no documented feed does that, tests use it to prove a client survives it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: UTC offset the server shows on timestamps (-05:00, as in the reference's examples).
SERVER_OFFSET = "-05:00"
ALTERNATE: dict[str, dict[str, str]] = {
    "item_itemlocation": {"loctype": "loc_type"},
    "item_upc": {"originalunitretail": "orginalunitretail"},
    "location_retailstore": {"sellingsqfeet": "selllingsqfeet"},
    "inventory_future": {"onorderquantity": "onorderquqntity"},
    "item_dimensionvalue": {"displayseq": "displayseg"},
    "location_warehouse": {"warehouseid": "warehouseId", "orgentitytype": "ordentitytype"},
}
#: promotion field spellings of the field table, by nested level
PROMOTION_ALTERNATE = {
    "reward": {"applyind": "appyind", "pricerestrictvalue1": "pricestrictvalue1", "rewardsmerch": "rwardsmerch"},
    "rewardmerch": {"merchlevel": "mrchlevel", "uniquesubclass": "unisubclass"},
}
LOCAL_DATETIMES: dict[str, tuple[str, ...]] = {
    "item_price": ("effective",),
    "vat": ("activedate", "enddate"),
    "item_promotion": ("startdatetime", "enddatetime", "canceldatetime"),
}
CHOICES = {
    "promotion_locations": ("changed", "all"),
    "spelling": ("canonical", "alternate"),
    "vatregion": ("number", "flag"),
    "local_datetimes": ("naive", "offset"),
}


def _renamed(row: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {names.get(k, k): v for k, v in row.items()}


@dataclass
class Readings:
    """The current switches (see the module docstring)."""

    promotion_locations: str = "changed"
    spelling: str = "canonical"
    vatregion: str = "number"
    local_datetimes: str = "naive"
    count_skew: int = 0
    max_limit: int | None = None
    actions: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def update(self, **changes: Any) -> Readings:
        """Set some switches; :raises ValueError: for an unknown switch or value."""
        known = {f.name for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown reading {name!r}; known: {', '.join(sorted(known))}")
            if name in CHOICES and value not in CHOICES[name]:
                raise ValueError(f"reading {name!r} must be one of {', '.join(CHOICES[name])} (got {value!r})")
            if name == "count_skew":
                value = int(value)
            if name == "max_limit" and value is not None and int(value) < 1:
                raise ValueError("reading 'max_limit' must be a positive integer or null")
            if name == "actions" and not isinstance(value, dict):
                raise ValueError("reading 'actions' must map endpoints to {action: replacement}")
            setattr(self, name, value)
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def active(self, name: str) -> bool:
        """Whether :meth:`apply` changes the rows of endpoint ``name``."""
        return (
            name in self.actions
            or (self.spelling == "alternate" and (name in ALTERNATE or name == "item_promotion"))
            or (self.vatregion == "flag" and name == "location_retailstore")
            or (self.local_datetimes == "offset" and name in LOCAL_DATETIMES)
        )

    def apply(self, name: str, row: dict[str, Any]) -> dict[str, Any]:
        """A served row of ``name`` as the switches say (``row`` is the page's own copy)."""
        relabel = self.actions.get(name)
        if relabel:
            row = self._relabel(row, relabel)
        if self.local_datetimes == "offset":
            for column in LOCAL_DATETIMES.get(name, ()):
                if row.get(column) is not None:
                    row[column] = f"{row[column]}{SERVER_OFFSET}"
        if self.vatregion == "flag" and name == "location_retailstore":
            row["vatregion"] = "Y" if row.get("vatregion") else "N"
        if self.spelling == "alternate":
            row = _renamed(row, ALTERNATE.get(name, {}))
            if name == "item_promotion":
                row["rewards"] = [self._reward_spelling(r) for r in row.get("rewards") or ()]
        return row

    @staticmethod
    def _relabel(row: dict[str, Any], relabel: dict[str, str | None]) -> dict[str, Any]:
        def one(item: dict[str, Any]) -> dict[str, Any]:
            action = item.get("action")
            if action not in relabel:
                return item
            out = {k: v for k, v in item.items() if k != "action"}
            if relabel[action] is not None:
                out = {"action": relabel[action], **out}
            return out

        row = one(row)
        if isinstance(row.get("locations"), list):
            row["locations"] = [one(loc) for loc in row["locations"]]
        return row

    @staticmethod
    def _reward_spelling(reward: dict[str, Any]) -> dict[str, Any]:
        merch = reward.get("rewardsmerch")
        if merch:
            reward = {**reward, "rewardsmerch": [_renamed(m, PROMOTION_ALTERNATE["rewardmerch"]) for m in merch]}
        return _renamed(reward, PROMOTION_ALTERNATE["reward"])
