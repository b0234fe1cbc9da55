"""The OCDS dataset: lazy generated tables plus an overlay of changes, and the change model.

Every row has ``created_at``, ``changed_at`` and a tombstone flag.  A request for the window
``[since, before)`` returns the rows with ``since <= changed_at < before``; their ``action``
is ``DELETE`` for a tombstone, ``INSERT`` when ``created_at >= since``, else ``UPDATE``.

Generated rows are computed from their position on demand.  Changes made through the
control API (:meth:`OcdsDataset.mutate`, :meth:`OcdsDataset.bulk_reload`) are kept in a
per-table :class:`Overlay`: changed or deleted generated rows by position, inserted rows
sorted by key, and the time of the last bulk reload.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import os
import random
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from include.emulator.clock import Clock
from include.emulator.ocds.encode import CHUNK, GROUP
from include.emulator.ocds.endpoints import ENDPOINTS, PRICE_TYPES, REFRESH_ENTITIES, endpoint
from include.emulator.ocds.gen import DAY, INSTALLED, LANES, REFRESH0, SPAN, T0, T1, h_lanes, h_many
from include.emulator.ocds.params import parse_filters
from include.emulator.ocds.promotions import PromotionTable
from include.emulator.ocds.readings import Readings
from include.emulator.ocds.table import NO_FILTERS, Filters, Table
from include.emulator.ocds.tables_items import (
    DimensionTypeTable,
    DimensionValueTable,
    FutureInventoryTable,
    ImageTable,
    ItemTable,
    RelatedItemTable,
    UpcTable,
)
from include.emulator.ocds.tables_ranged import (
    ItemLocationTable,
    PriceTable,
    StoreInventoryTable,
    WarehouseInventoryTable,
)
from include.emulator.ocds.tables_reference import (
    SERVER_OFFSET_MINUTES,
    AdminLogTable,
    DiffGroupTable,
    DiffTable,
    MerchHierTable,
    OrgHierTable,
    RetailStoreTable,
    VatTable,
    WarehouseTable,
)
from include.emulator.ocds.world import LEVEL_CODE, LEVEL_ORDER, World
from include.emulator.timeutil import format_offset

TABLES: tuple[type[Table], ...] = (
    AdminLogTable,
    DiffTable,
    DiffGroupTable,
    FutureInventoryTable,
    StoreInventoryTable,
    WarehouseInventoryTable,
    ItemTable,
    DimensionTypeTable,
    DimensionValueTable,
    ImageTable,
    ItemLocationTable,
    PriceTable,
    PromotionTable,
    RelatedItemTable,
    UpcTable,
    RetailStoreTable,
    WarehouseTable,
    MerchHierTable,
    OrgHierTable,
    VatTable,
)
SNAPSHOTS = ("admin_version", "orghier_descendant", "refreshdate")
#: How ``v2/refreshdate`` spells each entity (the reference's example shows ``"Item"``).
ENTITY_NAMES = {
    "diff": "Diff",
    "diffgroup": "DiffGroup",
    "dimensiontype": "DimensionType",
    "dimensionvalue": "DimensionValue",
    "item": "Item",
    "itemimage": "ItemImage",
    "itemlocation": "ItemLocation",
    "itemprice": "ItemPrice",
    "merchhier": "MerchHier",
    "orghier": "OrgHier",
    "retailstore": "RetailStore",
    "warehouse": "Warehouse",
}
#: the installed release and its hot fixes: ``(version, hotfix, days after INSTALLED)``
VERSIONS = (("19.1.000", "000", 0), ("19.1.000", "001", 41), ("19.1.000", "002", 118))
_WIDE_LO, _WIDE_HI = -(1 << 62), 1 << 62


@functools.cache
def _maybe_dead(dead: int) -> bytes:
    """``bytes.translate`` table: 1 for the top bytes of a time hash that may make its row a
    tombstone (:meth:`Table.times`: ``(hash >> 52) % 1000 < dead``), else 0."""
    return bytes(any((t % 1000) < dead for t in range(b << 4, (b + 1) << 4)) for b in range(256))


def _first_load_codes(lanes: bytes, dead: int) -> list[int]:
    """Action codes of generated rows whose time hashes are ``lanes`` (:func:`h_lanes`) in a
    window holding every generated time: 2 (DELETE) for a tombstone, else 0 (INSERT).

    Only the rows whose top hash byte may make a tombstone (a few percent) are looked at.
    """
    codes = [0] * (len(lanes) // 16)
    hits = lanes[7::16].translate(_maybe_dead(dead))
    k = hits.find(1)
    while k >= 0:
        if (lanes[16 * k + 7] << 4 | lanes[16 * k + 6] >> 4) % 1000 < dead:
            codes[k] = 2
        k = hits.find(1, k + 1)
    return codes


def served_action(created: int, valued: int, deleted: bool, since: int) -> str:
    """The ``action`` of a row in a window starting at ``since``: DELETE for a tombstone,
    INSERT when it was created in the window, UPDATE when its values changed in it, else
    NO_CHANGE (it was only touched: stamped without a change of value)."""
    if deleted:
        return "DELETE"
    if created >= since:
        return "INSERT"
    return "UPDATE" if valued >= since else "NO_CHANGE"


class RowState:
    """Overlay state of one row: its times (``valued``: the last change of a value, before a
    touch), tombstone and purge flags and current values."""

    __slots__ = ("created", "changed", "deleted", "purged", "row", "valued")

    def __init__(
        self, created: int, changed: int, deleted: bool, purged: bool, row: dict[str, Any] | None,
        valued: int | None = None,
    ) -> None:
        self.created, self.changed, self.deleted, self.purged, self.row = (
            created,
            changed,
            deleted,
            purged,
            row,
        )
        self.valued = changed if valued is None else valued


@dataclass
class Overlay:
    """Changes to one table: generated rows by position, inserted rows by sort key."""

    overrides: dict[int, RowState] = field(default_factory=dict)
    ins_keys: list[tuple] = field(default_factory=list)
    ins: dict[tuple, RowState] = field(default_factory=dict)
    reload_at: int | None = None
    seq: int = 0


@dataclass
class PageResult:
    """Rows of one page and where the next page starts."""

    items: list[dict[str, Any]]
    has_more: bool
    last_key: tuple | None
    next_pos: int


@dataclass
class JsonPage:
    """One page as JSON: ``parts`` are the items' texts, a few rows (comma separated) a
    part, and ``count`` the number of rows (see :func:`encode.envelope`)."""

    parts: list[bytes]
    count: int
    has_more: bool
    last_key: tuple | None
    next_pos: int


class OcdsDataset:
    """The emulated OCDS data: generated, lazy, deterministic per ``seed``, and mutable.

    :param scale: number of items; every other entity's size derives from it.
    :param seed: seed of the generated values.
    :param clock: the strictly increasing clock that stamps changes.
    :param entity_case: ``"title"`` (``Item``, like the reference example) or ``"lower"``
        for the ``entity`` values of ``v2/refreshdate``.
    """

    def __init__(
        self, scale: int = 500, seed: int = 7, clock: Clock | None = None, entity_case: str = "title"
    ) -> None:
        self.world = World(scale, seed)
        self.clock = clock or Clock()
        self.entity_case = entity_case
        self.lock = threading.RLock()
        self.secret = os.urandom(32)
        self.tables: dict[str, Table] = {cls.name: cls(self.world) for cls in TABLES}
        self.overlays: dict[str, Overlay] = {}
        self.refresh: dict[str, int] = {}
        self.readings = Readings()
        self._counter = 0
        self.reset()

    @property
    def scale(self) -> int:
        return self.world.scale

    @property
    def seed(self) -> int:
        return self.world.seed

    # -- control ------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the generated dataset: drop every change, reload and log line added since,
        and every reading back to its default."""
        with self.lock:
            self.overlays = {name: Overlay() for name in self.tables}
            self.refresh = {e: REFRESH0 + n * 60_000_000 for n, e in enumerate(REFRESH_ENTITIES)}
            self._counter = 0
            self.set_readings(**Readings().as_dict())

    def set_readings(self, **changes: Any) -> dict[str, Any]:
        """Switch how ambiguous parts of the reference are played (:mod:`.readings`); returns
        every switch.  :raises ValueError: for an unknown switch or value."""
        with self.lock:
            self.readings.update(**changes)
            self.tables["item_promotion"].locations_reading = self.readings.promotion_locations  # type: ignore[attr-defined]
            return self.readings.as_dict()

    def now(self) -> datetime:
        """The emulator clock's current time (aware UTC); strictly increasing."""
        return self.clock.now_datetime()

    def table(self, name: str) -> Table:
        """The lazy table of an endpoint (catalog name or path).

        :raises ValueError: for an unknown or snapshot endpoint.
        """
        spec = self.spec(name)
        if spec.name in SNAPSHOTS:
            raise ValueError(
                f"OCDS endpoint {spec.name!r} returns current state computed from other endpoints"
            )
        return self.tables[spec.name]

    @staticmethod
    def spec(name: str) -> Any:
        try:
            return endpoint(name)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None

    def sizes(self) -> dict[str, int]:
        """Generated rows per endpoint (tombstones included, changes excluded)."""
        out = {name: t.count for name, t in sorted(self.tables.items())}
        out["admin_version"] = len(VERSIONS)
        out["refreshdate"] = len(REFRESH_ENTITIES)
        out["orghier_descendant"] = self.tables["orghier"].count
        return dict(sorted(out.items()))

    def info(self) -> dict[str, Any]:
        w = self.world
        return {
            "scale": w.scale,
            "seed": w.seed,
            "world": {
                "items": w.n_items,
                "styles": w.n_styles,
                "stores": w.n_stores,
                "warehouses": w.n_warehouses,
                "stores_per_item": w.ranging,
                "org_levels": w.org_counts,
            },
            "rows": self.sizes(),
            "changes": {
                name: {"changed": len(ov.overrides), "inserted": len(ov.ins_keys), "reloaded": ov.reload_at}
                for name, ov in self.overlays.items()
                if ov.overrides or ov.ins_keys or ov.reload_at
            },
        }

    def filters(self, name: str, params: dict[str, Any] | None = None, *, require: bool = False) -> Filters:
        """Validated :class:`Filters` of an endpoint from ``{name: value}``."""
        return parse_filters(
            self.world, self.spec(name), {k.lower(): v for k, v in (params or {}).items()}, require=require
        )

    # -- reading ------------------------------------------------------------------------

    def page(
        self,
        name: str,
        flt: Filters,
        limit: int,
        since_us: int = 0,
        before_us: int | None = None,
        last_key: tuple | None = None,
        start_pos: int = 0,
    ) -> PageResult:
        """One page of an endpoint in key order, after ``last_key`` / from ``start_pos``."""
        spec = self.spec(name)
        with self.lock:
            if spec.name in SNAPSHOTS:
                return self._snapshot_page(spec.name, flt, limit, last_key)
            before = self.clock.now() if before_us is None else before_us
            page = self._collect(spec.name, flt, since_us, before, limit, start_pos, last_key, live_only=False)
            if self.readings.active(spec.name):
                page.items = [self.readings.apply(spec.name, row) for row in page.items]
            return page

    def page_json(
        self,
        name: str,
        flt: Filters,
        limit: int,
        since_us: int = 0,
        before_us: int | None = None,
        last_key: tuple | None = None,
        start_pos: int = 0,
    ) -> JsonPage:
        """:meth:`page` as JSON: ``b",".join(parts)`` is byte for byte the items of
        ``orjson.dumps(page(...).items)`` (without the brackets).

        This is how the API serves pages: generated rows are encoded by their table's
        :meth:`~include.emulator.ocds.table.Table.encode_rows` (pre-encoded row formats for
        the big tables) without building a dict per row; changed and inserted rows are
        encoded from their dicts.
        """
        spec = self.spec(name)
        with self.lock:
            if spec.name in SNAPSHOTS:
                page = self._snapshot_page(spec.name, flt, limit, last_key)
                parts = [orjson.dumps(row) for row in page.items]
                return JsonPage(parts, len(parts), page.has_more, page.last_key, 0)
            before = self.clock.now() if before_us is None else before_us
            if self.tables[spec.name].nested or self.readings.active(spec.name):
                # rows served as of the window or reshaped by a reading: the dict path
                page = self.page(spec.name, flt, limit, since_us, before, last_key, start_pos)
                parts = [orjson.dumps(row) for row in page.items]
                return JsonPage(parts, len(parts), page.has_more, page.last_key, page.next_pos)
            return self._collect_json(spec.name, flt, since_us, before, limit, start_pos, last_key)

    def _collect_json(
        self, name: str, flt: Filters, lo: int, hi: int, limit: int, start_pos: int, last_key: tuple | None
    ) -> JsonPage:
        """:meth:`_collect` (``live_only=False``) choosing rows by position and code, then
        encoding the generated ones in one batch; the selection rules are the same."""
        t, ov = self.tables[name], self.overlays[name]
        has_action = t.spec.has_action
        present = t.present if flt.scope is not None else None
        as_deleted, times, key_of = t.as_deleted, t.times, t.key
        overrides, reload_at = ov.overrides, ov.reload_at
        gen_lo, gen_hi = (reload_at, reload_at + 1) if reload_at is not None else t.time_bounds()
        if gen_lo < hi and lo < gen_hi:
            positions: Any = t.positions(start_pos, flt)
        else:  # the window misses every generated time: only changed rows can match
            positions = [p for p in sorted(overrides) if p >= start_pos and (flt.empty or t.in_scope(p, flt))]
        ins_keys, ins = ov.ins_keys, ov.ins
        ii = bisect.bisect_right(ins_keys, last_key) if last_key is not None and ins_keys else 0
        n_ins = len(ins_keys)

        def next_ins() -> tuple[tuple, RowState] | None:
            nonlocal ii
            while ii < n_ins:
                k = ins_keys[ii]
                ii += 1
                st = ins[k]
                if st.purged or not lo <= st.changed < hi:
                    continue
                if not flt.empty and not t.row_in_scope(st.row, flt):  # type: ignore[arg-type]
                    continue
                return k, st
            return None

        def encoded(row: dict[str, Any], created: int, deleted: bool, valued: int) -> bytes:
            row = dict(row)
            if deleted:
                row = as_deleted(row)
            if has_action:
                row["action"] = served_action(created, valued, deleted, lo)
            return orjson.dumps(row if present is None else present(row, flt))

        sel: list[int] = []  # generated positions served, in order
        codes: list[int] = []  # their actions: 0 INSERT, 1 UPDATE, 2 DELETE
        extras: list[tuple[int, bytes]] = []  # (index in the page, JSON) of changed and inserted rows
        n = 0
        pend = next_ins()
        last, last_pos, has_more, next_pos = last_key, None, False, t.count
        if pend is None and not overrides and reload_at is None and type(t).times is Table.times:
            # untouched generated rows: Table.times() of a batch of positions at a time
            tsalt, upd, dels = t._tsalt, t.update_share * 10, t.delete_share
            todo = iter(positions)
            if lo <= gen_lo and gen_hi <= hi:
                # the window holds every generated time (a first load): every row is
                # served, as INSERT (created >= lo) or, for a tombstone, DELETE
                dead = min(dels, upd)
                taken = 0
                while not has_more:
                    want = 8 * LANES if limit - n >= 8 * LANES else limit - n + 1
                    if isinstance(positions, range):  # no filter: slices of the range
                        batch: Any = positions[taken : taken + want]
                        taken += len(batch)
                    else:
                        batch = list(itertools.islice(todo, want))
                    if len(batch) > limit - n:
                        has_more, next_pos = True, batch[-1]
                        batch = batch[:-1]
                    if not batch:
                        break
                    sel += batch
                    codes += _first_load_codes(h_lanes(tsalt, batch), dead)
                    n += len(batch)
            else:  # Table.times() and the window of each row
                append_pos, append_code = sel.append, codes.append
                while not has_more:
                    batch = list(itertools.islice(todo, min(LANES, max(64, limit - n + 1))))
                    if not batch:
                        break
                    for pos, hv in zip(batch, h_many(tsalt, batch), strict=True):
                        c = T0 + hv % SPAN
                        kind = (hv >> 52) % 1000
                        if kind >= upd:
                            if c < lo or c >= hi:
                                continue
                            code = 0
                        else:
                            ch = c + (hv >> 20) % (T1 - c)
                            if ch < lo or ch >= hi:
                                continue
                            code = 2 if kind < dels else (0 if c >= lo else 1)
                        if n >= limit:
                            has_more, next_pos = True, pos
                            break
                        append_pos(pos)
                        append_code(code)
                        n += 1
            if sel:
                last_pos = sel[-1]
        else:
            for pos in positions:
                st = overrides.get(pos)
                if st is None:
                    c, ch, d = times(pos)
                    if reload_at is not None:
                        if d:
                            continue
                        c = ch = reload_at
                    if ch < lo or ch >= hi:
                        continue
                    row = None
                else:
                    if st.purged:
                        continue
                    ch, d = st.changed, st.deleted
                    if ch < lo or ch >= hi:
                        continue
                    c, row, v = st.created, st.row, st.valued
                if pend is not None:
                    k = key_of(pos)
                    while pend is not None and pend[0] < k:
                        if n >= limit:
                            has_more = True
                            break
                        extras.append((n, encoded(pend[1].row, pend[1].created, pend[1].deleted, pend[1].valued)))  # type: ignore[arg-type]
                        n += 1
                        last, last_pos = pend[0], None
                        pend = next_ins()
                    if has_more:
                        next_pos = pos
                        break
                if n >= limit:
                    has_more, next_pos = True, pos
                    break
                if row is None:
                    sel.append(pos)
                    codes.append(2 if d else (0 if c >= lo else 1))
                else:
                    extras.append((n, encoded(row, c, d, v)))
                n += 1
                last_pos = pos
            else:
                while pend is not None:
                    if n >= limit:
                        has_more = True
                        break
                    extras.append((n, encoded(pend[1].row, pend[1].created, pend[1].deleted, pend[1].valued)))  # type: ignore[arg-type]
                    n += 1
                    last, last_pos = pend[0], None
                    pend = next_ins()
        if last_pos is not None:
            last = key_of(last_pos)
        parts: list[bytes] = []
        done = 0
        for k, (index, text) in enumerate(extras):  # changed and inserted rows go between generated ones
            self._encode_generated(t, sel, codes, done, index - k, flt, parts)
            parts.append(text)
            done = index - k
        self._encode_generated(t, sel, codes, done, len(sel), flt, parts)
        return JsonPage(parts, n, has_more, last, next_pos)

    @staticmethod
    def _encode_generated(
        t: Table, sel: list[int], codes: list[int], start: int, stop: int, flt: Filters, parts: list[bytes]
    ) -> None:
        """Append ``sel[start:stop]`` encoded to ``parts``, ``GROUP`` rows a part; the rows are
        encoded ``CHUNK`` at a time so that their texts are freed (and reused) as the page grows."""
        for a in range(start, stop, CHUNK):
            b = min(stop, a + CHUNK)
            rows = t.encode_rows(sel[a:b], codes[a:b], flt)
            parts += [",".join(rows[k : k + GROUP]).encode() for k in range(0, len(rows), GROUP)]

    def truth(self, name: str, **filters: Any) -> list[dict[str, Any]]:
        """Current live rows of an endpoint in sort order, as the API serves them minus ``action``.

        :param filters: the endpoint's filters (``nodelevel``/``nodeid``, ``pricetype``...);
            ``pricetype`` is optional here (all price types when absent).
        """
        spec = self.spec(name)
        flt = self.filters(spec.name, filters)
        with self.lock:
            if spec.name in SNAPSHOTS:
                return [row for _key, row in self._snapshot_rows(spec.name, flt)]
            return self._collect(
                spec.name, flt, _WIDE_LO, _WIDE_HI, sys.maxsize, 0, None, live_only=True
            ).items

    def _collect(
        self,
        name: str,
        flt: Filters,
        lo: int,
        hi: int,
        limit: int,
        start_pos: int,
        last_key: tuple | None,
        live_only: bool,
    ) -> PageResult:
        t, ov = self.tables[name], self.overlays[name]
        has_action, nested = t.spec.has_action, t.nested
        present = t.present if flt.scope is not None else None
        as_deleted, times, row_of, key_of = t.as_deleted, t.times, t.row, t.key
        overrides, reload_at = ov.overrides, ov.reload_at
        gen_lo, gen_hi = (reload_at, reload_at + 1) if reload_at is not None else t.time_bounds()
        if gen_lo < hi and lo < gen_hi:
            positions: Any = t.positions(start_pos, flt)
        else:  # the window misses every generated time: only changed rows can match
            positions = [p for p in sorted(overrides) if p >= start_pos and (flt.empty or t.in_scope(p, flt))]
        ins_keys, ins = ov.ins_keys, ov.ins
        ii = bisect.bisect_right(ins_keys, last_key) if last_key is not None and ins_keys else 0
        n_ins = len(ins_keys)

        def next_ins() -> tuple[tuple, RowState] | None:
            nonlocal ii
            while ii < n_ins:
                k = ins_keys[ii]
                ii += 1
                st = ins[k]
                if st.purged or (live_only and st.deleted) or not lo <= st.changed < hi:
                    continue
                if not flt.empty and not t.row_in_scope(st.row, flt):  # type: ignore[arg-type]
                    continue
                return k, st
            return None

        out: list[dict[str, Any]] = []
        append = out.append

        def emit(row: dict[str, Any], created: int, deleted: bool, valued: int) -> None:
            if deleted:
                row = as_deleted(row)
            if has_action:
                if live_only:
                    row.pop("action", None)
                else:
                    row["action"] = served_action(created, valued, deleted, lo)
            if nested:
                row = t.at_window(row, lo, created, live_only)
            if present is not None:
                row = present(row, flt)
            append(row)

        pend = next_ins()
        last, last_pos, has_more, next_pos = last_key, None, False, t.count
        for pos in positions:
            st = overrides.get(pos)
            if st is None:
                c, ch, d = times(pos)
                if reload_at is not None:
                    if d:
                        continue
                    c = ch = reload_at
                if ch < lo or ch >= hi or (d and live_only):
                    continue
                row, v = None, ch
            else:
                if st.purged:
                    continue
                ch, d = st.changed, st.deleted
                if ch < lo or ch >= hi or (d and live_only):
                    continue
                c, row, v = st.created, st.row, st.valued
            if pend is not None:
                k = key_of(pos)
                while pend is not None and pend[0] < k:
                    if len(out) >= limit:
                        has_more = True
                        break
                    emit(dict(pend[1].row), pend[1].created, pend[1].deleted, pend[1].valued)  # type: ignore[arg-type]
                    last, last_pos = pend[0], None
                    pend = next_ins()
                if has_more:
                    next_pos = pos
                    break
            if len(out) >= limit:
                has_more, next_pos = True, pos
                break
            r = dict(row) if row is not None else row_of(pos)  # inlined emit(): the hot path
            if d:
                r = as_deleted(r)
            if has_action:
                if live_only:
                    r.pop("action", None)
                else:
                    r["action"] = served_action(c, v, d, lo)
            if nested:
                r = t.at_window(r, lo, c, live_only)
            append(r if present is None else present(r, flt))
            last_pos = pos
        else:
            while pend is not None:
                if len(out) >= limit:
                    has_more = True
                    break
                emit(dict(pend[1].row), pend[1].created, pend[1].deleted, pend[1].valued)  # type: ignore[arg-type]
                last, last_pos = pend[0], None
                pend = next_ins()
        if last_pos is not None:
            last = key_of(last_pos)
        return PageResult(out, has_more, last, next_pos)

    # -- snapshots ----------------------------------------------------------------------

    def _snapshot_rows(self, name: str, flt: Filters) -> list[tuple[tuple, dict[str, Any]]]:
        if name == "admin_version":
            installs = [(version, hotfix, INSTALLED + days * DAY) for version, hotfix, days in VERSIONS]
            return [
                ((us,), {"version": version, "hotfix": hotfix, "installed": format_offset(us, SERVER_OFFSET_MINUTES)})
                for version, hotfix, us in installs
            ]
        if name == "refreshdate":
            rows = []
            for entity, us in self.refresh.items():
                if flt.entitytype is not None and entity != flt.entitytype:
                    continue
                shown = ENTITY_NAMES[entity] if self.entity_case == "title" else entity
                rows.append(
                    ((shown,), {"entity": shown, "refreshdate": format_offset(us, SERVER_OFFSET_MINUTES)})
                )
            return sorted(rows, key=lambda kr: kr[0])
        nodes = self.truth("orghier")
        if flt.scope is not None:
            wanted = set(self.world.branch(flt.scope.level, flt.scope.nodeid, nodes))
            wanted.discard((flt.scope.level, flt.scope.nodeid))
            nodes = [r for r in nodes if (r["hierarchylevel"], r["hierarchynodeid"]) in wanted]
        rows = []
        for r in nodes:
            row = {
                "hierarchylevel": r["hierarchylevel"],
                "hierarchynodeid": r["hierarchynodeid"],
                "hierarchynodename": r["hierarchynodename"],
                "parentlevel": r["parentlevel"],
                "parentid": r["parentid"],
                "levelorder": LEVEL_CODE.get(r["hierarchylevel"]),
            }
            rows.append(((LEVEL_ORDER.get(r["hierarchylevel"], 99), r["hierarchynodeid"]), row))
        return sorted(rows, key=lambda kr: kr[0])

    def _snapshot_page(self, name: str, flt: Filters, limit: int, last_key: tuple | None) -> PageResult:
        rows = self._snapshot_rows(name, flt)
        keys = [k for k, _r in rows]
        start = bisect.bisect_right(keys, last_key) if last_key is not None else 0
        chunk = rows[start : start + limit]
        has_more = start + limit < len(rows)
        return PageResult([r for _k, r in chunk], has_more, chunk[-1][0] if chunk else last_key, 0)

    # -- changes ------------------------------------------------------------------------

    def log(self, message: str, severity: str = "INFO", supplemental: str | None = None) -> dict[str, Any]:
        """Append an ``admin/log`` line stamped now; returns it."""
        t = self.tables["admin_log"]
        with self.lock:
            ov = self.overlays["admin_log"]
            now = self.clock.now()
            row = t.line(now, message, severity, supplemental)  # type: ignore[attr-defined]
            key = t.row_key(row)
            bisect.insort(ov.ins_keys, key)
            ov.ins[key] = RowState(now, now, False, False, row)
            return row

    def _live(self, t: Table, ov: Overlay, ref: tuple[str, Any]) -> bool:
        if ref[0] == "b":
            st = ov.overrides.get(ref[1])
            if st is not None:
                return not (st.deleted or st.purged)
            return not t.times(ref[1])[2]
        st = ov.ins.get(ref[1])
        return st is not None and not (st.deleted or st.purged)

    def _pick_live(
        self, t: Table, ov: Overlay, rng: random.Random, flt: Filters, taken: set[tuple[str, Any]],
        kind: str = "updated",
    ) -> tuple[str, Any] | None:
        """A random live row (``("b", position)`` or ``("i", key)``) not in ``taken`` that can
        take a change of ``kind``."""
        total = t.count + len(ov.ins_keys)
        if total == 0:
            return None

        def candidate(r: int) -> tuple[str, Any] | None:
            ref: tuple[str, Any] = ("b", r) if r < t.count else ("i", ov.ins_keys[r - t.count])
            if ref in taken or not self._live(t, ov, ref):
                return None
            if not flt.empty:
                ok = t.in_scope(r, flt) if ref[0] == "b" else t.row_in_scope(ov.ins[ref[1]].row, flt)  # type: ignore
                if not ok:
                    return None
            if t.nested and not t.changeable(self._current(t, ov, ref)[1], kind):
                return None
            return ref

        for _ in range(200):
            ref = candidate(rng.randrange(total))
            if ref is not None:
                return ref
        start = rng.randrange(total)
        for n in range(min(total, 200_000)):
            ref = candidate((start + n) % total)
            if ref is not None:
                return ref
        return None

    def _valued(self, t: Table, ov: Overlay, ref: tuple[str, Any]) -> int:
        """When the values of a live row last changed."""
        st = ov.ins[ref[1]] if ref[0] == "i" else ov.overrides.get(ref[1])
        if st is not None:
            return st.valued
        return ov.reload_at if ov.reload_at is not None else t.times(ref[1])[1]

    def _current(self, t: Table, ov: Overlay, ref: tuple[str, Any]) -> tuple[int, dict[str, Any]]:
        """``(created_at, row)`` of a live row."""
        if ref[0] == "i":
            st = ov.ins[ref[1]]
            return st.created, st.row  # type: ignore[return-value]
        st = ov.overrides.get(ref[1])
        if st is not None and st.row is not None:
            return st.created, st.row
        created = ov.reload_at if ov.reload_at is not None else t.times(ref[1])[0]
        return created, t.row(ref[1])

    def mutate(
        self,
        endpoint_name: str,
        inserts: int = 0,
        updates: int = 0,
        deletes: int = 0,
        seed: int | str | None = None,
        pricetype: str | None = None,
        touches: int = 0,
    ) -> dict[str, list[dict[str, Any]]]:
        """Apply deterministic random changes stamped now; returns the natural keys touched.

        Updates change one or two non-key values of live rows, deletes leave tombstones,
        inserts add rows with new keys, touches stamp live rows without changing a value
        (a window that starts after their last change serves them as NO_CHANGE).  Tables
        may shape their own changes (:meth:`Table.changed`: a promotion's delete withdraws
        one location).  An ``admin/log`` line records the change.

        :param endpoint_name: catalog name (``item_price``) or path (``item/price``).
        :param seed: seed of the random choices (default: derived from the dataset seed and a counter).
        :param pricetype: for ``item_price``, restrict the changes to one price type.
        :raises ValueError: for an unknown or read-only endpoint or a negative count.
        """
        spec = self.spec(endpoint_name)
        name = spec.name
        if min(inserts, updates, deletes, touches) < 0:
            raise ValueError("inserts, updates, deletes and touches must be >= 0")
        if name in SNAPSHOTS:
            raise ValueError(f"OCDS endpoint {name!r} is computed from other endpoints and cannot be changed")
        flt = NO_FILTERS
        if pricetype is not None:
            if name != "item_price" or str(pricetype).upper() not in PRICE_TYPES:
                raise ValueError(
                    f"pricetype applies to item_price only and must be one of {', '.join(PRICE_TYPES)}"
                )
            flt = Filters(pricetype=str(pricetype).upper(), params={"pricetype": str(pricetype).upper()})
        result: dict[str, list[dict[str, Any]]] = {"inserted": [], "updated": [], "deleted": [], "touched": []}
        with self.lock:
            self._counter += 1
            rng = random.Random(seed if seed is not None else f"{self.seed}:{name}:{self._counter}")
            if name == "admin_log":
                if updates or deletes or touches:
                    raise ValueError("admin_log is append-only: only inserts are supported")
                for n in range(inserts):
                    row = self.log(
                        f"Emulator.mutate admin_log: test line {n + 1}", "INFO", f"seq: {self._counter}"
                    )
                    result["inserted"].append(spec.key_of(row))
                return result
            t, ov = self.tables[name], self.overlays[name]
            taken: set[tuple[str, Any]] = set()
            for kind, count in (("updated", updates), ("deleted", deletes), ("touched", touches)):
                for _ in range(count):
                    ref = self._pick_live(t, ov, rng, flt, taken, kind)
                    if ref is None:
                        break
                    taken.add(ref)
                    created, row = self._current(t, ov, ref)
                    now = self.clock.now()
                    if kind == "touched":
                        new, deleted, valued = row, False, self._valued(t, ov, ref)
                    else:
                        (new, deleted), valued = t.changed(row, rng, now, kind), now
                    if ref[0] == "b":
                        ov.overrides[ref[1]] = RowState(created, now, deleted, False, new, valued)
                    else:
                        st = ov.ins[ref[1]]
                        st.row, st.changed, st.deleted, st.valued = new, now, deleted, valued
                    result[kind].append(spec.key_of(new))
            for _ in range(inserts):
                for _attempt in range(100):
                    row = t.new_row(rng, ov.seq, flt)
                    ov.seq += 1
                    key = t.row_key(row)
                    if key not in ov.ins:
                        break
                else:
                    raise ValueError(f"could not find a new key for {name}")
                now = self.clock.now()
                bisect.insort(ov.ins_keys, key)
                ov.ins[key] = RowState(now, now, False, False, row)
                taken.add(("i", key))
                result["inserted"].append(spec.key_of(row))
            self.log(
                f"Emulator.mutate {name}: {len(result['inserted'])} inserted, "
                f"{len(result['updated'])} updated, "
                f"{len(result['deleted'])} deleted, {len(result['touched'])} touched",
                "INFO",
                f"seq: {self._counter}",
            )
        return result

    def bulk_reload(self, entity: str, drop: int = 0) -> dict[str, Any]:
        """Simulate a bulk load of ``entity`` (``item``, ``itemprice``... or an endpoint name).

        The entity's refresh date moves to now; every live row of its endpoint is stamped
        ``created_at = changed_at = now`` (served as INSERT by the next window); tombstones
        are purged and ``drop`` live rows vanish silently: no DELETE is ever served for them.
        """
        key = str(entity).strip()
        if key.lower() in REFRESH_ENTITIES:
            key = key.lower()
        else:
            spec = ENDPOINTS.get(key) or self.spec(key)
            if spec.refresh_entity is None:
                raise ValueError(f"{entity!r} has no refresh date; entities: {', '.join(REFRESH_ENTITIES)}")
            key = spec.refresh_entity
        names = [e.name for e in ENDPOINTS.values() if e.refresh_entity == key]
        dropped: list[dict[str, Any]] = []
        with self.lock:
            self._counter += 1
            rng = random.Random(f"{self.seed}:reload:{key}:{self._counter}")
            now = self.clock.now()
            self.refresh[key] = now
            for name in names:
                t, ov = self.tables[name], self.overlays[name]
                ov.reload_at = now
                for st in ov.overrides.values():
                    if st.purged:
                        continue
                    if st.deleted:
                        st.purged, st.row = True, None
                    else:
                        st.created = st.changed = st.valued = now
                kept = []
                for k in ov.ins_keys:
                    st = ov.ins[k]
                    if st.deleted or st.purged:
                        del ov.ins[k]
                    else:
                        st.created = st.changed = st.valued = now
                        kept.append(k)
                ov.ins_keys = kept
                taken: set[tuple[str, Any]] = set()
                for _ in range(drop):
                    ref = self._pick_live(t, ov, rng, NO_FILTERS, taken)
                    if ref is None:
                        break
                    taken.add(ref)
                    _created, row = self._current(t, ov, ref)
                    dropped.append(t.spec.key_of(row))
                    if ref[0] == "b":
                        ov.overrides[ref[1]] = RowState(now, now, False, True, None)
                    else:
                        del ov.ins[ref[1]]
                        ov.ins_keys.remove(ref[1])
            self.log(f"Emulator.bulk_reload {key}: {len(dropped)} rows dropped", "INFO")
        return {
            "entity": key,
            "refreshdate": format_offset(now, SERVER_OFFSET_MINUTES),
            "endpoints": names,
            "dropped": dropped,
        }
