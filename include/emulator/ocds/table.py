"""Lazy tables: the generated rows of one OCDS endpoint, computed from their position.

A table has ``count`` generated ("base") rows at positions ``0 .. count-1`` whose sort
keys increase with the position, so keyset paging over the base is position arithmetic.
Each row's creation time, last change time and tombstone flag are hashed from its
position (:meth:`Table.times`).  Changes made later (updates, tombstones, inserted rows,
bulk reloads) live in a small overlay kept by :class:`~include.emulator.ocds.dataset.OcdsDataset`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from include.emulator.ocds.encode import ACTIONS, json_text
from include.emulator.ocds.endpoints import ENDPOINTS, Endpoint
from include.emulator.ocds.gen import SPAN, T0, T1, h, salt
from include.emulator.ocds.world import Scope, World

_REV = re.compile(r" \(rev \d+\)$")


@dataclass
class Filters:
    """Validated query filters of one request.

    :param params: the normalised filters (``{"nodelevel": "STORE", "nodeid": "1001"}``), as
        stored in offset keys and shown by the control API.
    """

    scope: Scope | None = None
    pricetype: str | None = None
    severity: str | None = None
    entitytype: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return (
            self.scope is None
            and self.pricetype is None
            and self.severity is None
            and self.entitytype is None
        )


NO_FILTERS = Filters()


class Table:
    """Base of every lazy table; subclasses set ``name`` and implement :meth:`row`."""

    name: ClassVar[str]
    #: share (percent) of generated rows updated after their creation
    update_share: ClassVar[int] = 30
    #: share (per mille) of generated rows that are tombstones
    delete_share: ClassVar[int] = 0
    #: non-key fields changed by :meth:`change_row`
    mutable: ClassVar[tuple[str, ...]] = ()
    #: rows are served as of the request's window (:meth:`at_window`): nested actions
    nested: ClassVar[bool] = False

    def __init__(self, world: World) -> None:
        self.world = world
        self.spec: Endpoint = ENDPOINTS[self.name]
        self.salt = salt(world.seed, self.name)
        self._tsalt = salt(world.seed, self.name + ":time")
        self.count = 0

    # -- generated rows -----------------------------------------------------------------

    def times(self, pos: int) -> tuple[int, int, bool]:
        """``(created_at, changed_at, deleted)`` of generated row ``pos`` (µs since epoch)."""
        hv = h(self._tsalt, pos)
        created = T0 + hv % SPAN
        kind = (hv >> 52) % 1000
        if kind >= self.update_share * 10:
            return created, created, False
        changed = created + (hv >> 20) % (T1 - created)
        return created, changed, kind < self.delete_share

    def time_bounds(self) -> tuple[int, int]:
        """Every generated ``changed_at`` lies in ``[low, high)``."""
        return T0, T1

    def row(self, pos: int) -> dict[str, Any]:
        """A fresh dict of generated row ``pos``; ``action`` (when the endpoint has one) is first."""
        raise NotImplementedError

    def key(self, pos: int) -> tuple:
        """Sort key of generated row ``pos`` (increases with ``pos``)."""
        return self.row_key(self.row(pos))

    def row_key(self, row: dict[str, Any]) -> tuple:
        """Sort key of any row of this table."""
        return tuple(row[k] for k in self.spec.key)

    # -- filters ------------------------------------------------------------------------

    def positions(self, start: int, flt: Filters) -> Iterable[int]:
        """Generated positions ``>= start`` that pass the filters, ascending."""
        if flt.empty:
            return range(start, self.count)
        in_scope = self.in_scope
        return (p for p in range(start, self.count) if in_scope(p, flt))

    def in_scope(self, pos: int, flt: Filters) -> bool:
        return True

    def row_in_scope(self, row: dict[str, Any], flt: Filters) -> bool:
        """Filter check of a stored (inserted) row."""
        return True

    def present(self, row: dict[str, Any], flt: Filters) -> dict[str, Any]:
        """Adjust a row to the request's filters (node specific fields); may edit ``row``."""
        return row

    def as_deleted(self, row: dict[str, Any]) -> dict[str, Any]:
        """How a tombstone of ``row`` is served (nested actions...); may edit ``row``."""
        return row

    # -- serving ------------------------------------------------------------------------

    def encode_rows(self, positions: list[int], codes: list[int], flt: Filters) -> list[str]:
        """JSON text of the generated rows ``positions`` as a page serves them under ``flt``.

        ``codes[n]`` is the action of row ``n`` (:data:`~include.emulator.ocds.encode.ACTIONS`:
        0 INSERT, 1 UPDATE, 2 DELETE = a tombstone).  Each text is byte for byte
        ``orjson.dumps`` of the reference row: :meth:`row`, then :meth:`as_deleted` for a
        tombstone, ``action`` set (when the endpoint has one), then :meth:`present`.  This is
        that reference; the big tables override it with pre-encoded row formats
        (:mod:`include.emulator.ocds.encode`).
        """
        has_action, present, as_deleted, row_of = self.spec.has_action, self.present, self.as_deleted, self.row
        out = []
        for pos, code in zip(positions, codes, strict=True):
            row = row_of(pos)
            if code == 2:
                row = as_deleted(row)
            if has_action:
                row["action"] = ACTIONS[code]
            out.append(json_text(present(row, flt)))
        return out

    def at_window(self, row: dict[str, Any], since: int, created: int, live_only: bool) -> dict[str, Any]:
        """A :attr:`nested` table's row as served for a window starting at ``since``
        (``live_only``: its current state, for ``truth()``)."""
        return row

    # -- changes ------------------------------------------------------------------------

    def changeable(self, row: dict[str, Any], kind: str) -> bool:
        """Whether ``row`` can take a change of ``kind`` (``updated``, ``deleted``)."""
        return True

    def changed(self, row: dict[str, Any], rng: random.Random, now: int, kind: str) -> tuple[dict[str, Any], bool]:
        """``(new row, tombstone)`` after a change of ``kind`` stamped ``now``: an update changes
        one or two values (:meth:`change_row`), a delete leaves a tombstone."""
        if kind == "deleted":
            return row, True
        return self.change_row(row, rng), False

    def new_row(self, rng: random.Random, seq: int, flt: Filters) -> dict[str, Any]:
        """A row with a key no generated row has (``seq`` counts this table's inserts)."""
        raise ValueError(f"OCDS endpoint {self.name!r} does not support inserts")

    def change_row(self, row: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """A copy of ``row`` with one or two non-key values changed."""
        if not self.mutable:
            raise ValueError(f"OCDS endpoint {self.name!r} does not support updates")
        out = dict(row)
        fields = rng.sample(self.mutable, k=min(len(self.mutable), rng.choice((1, 2))))
        for name in fields:
            out[name] = bump(out.get(name), rng)
        return out


def bump(value: Any, rng: random.Random) -> Any:
    """A different value of the same kind."""
    if value in ("Y", "N"):
        return "N" if value == "Y" else "Y"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.randint(1, 25)
    if isinstance(value, float):
        return round(value + rng.randint(1, 500) / 100, 2)
    if isinstance(value, str):
        return f"{_REV.sub('', value)} (rev {rng.randint(1, 9999)})"
    return rng.randint(1, 100)


class ListTable(Table):
    """A small table whose generated rows are built once, sorted by key."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.rows = self.build()
        self.keys = [self.row_key(r) for r in self.rows]
        assert self.keys == sorted(self.keys), f"{self.name}: rows not in key order"
        self.count = len(self.rows)

    def build(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def row(self, pos: int) -> dict[str, Any]:
        return dict(self.rows[pos])

    def key(self, pos: int) -> tuple:
        return self.keys[pos]


def hash_of(table: Table, pos: int) -> int:
    return h(table.salt, pos)
