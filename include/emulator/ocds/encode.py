"""Pre-encoded JSON row formats: the fast way to serve pages of the big OCDS tables.

The reference rendering of a generated row is ``orjson.dumps(table.row(pos))`` after the
page loop set its ``action`` and applied the filters (:meth:`Table.present`).  Most of
the fields of a row are constant per row shape (an item's merchandise hierarchy and flags,
a location's ids and VAT codes...), so a table with a fast encoder compiles each shape
once into a :class:`RowFormat`: the JSON text of the row with the constant values baked
in (encoded by orjson, so they are byte for byte what orjson writes), cut at the holes
for the values that vary.  Serving a row is then gluing a few strings together.

Holes are either *plain strings*, whose quotes are part of the format, or raw JSON text
(``null``, numbers, strings encoded by the caller).  A plain string must not need JSON
escaping (no ``"``, ``\\`` or control character): :func:`plain` checks that, and the tables
check every word their generated strings are made of when they compile their formats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import orjson

#: ``action`` of a generated row by code: 0 INSERT, 1 UPDATE, 2 DELETE (a tombstone).
ACTIONS: tuple[str, str, str] = ("INSERT", "UPDATE", "DELETE")
#: A plain-string hole (the quotes are in the format).
STR = "s"
#: A raw JSON hole (``null``, a number, or text encoded with :func:`json_text`).
RAW = "j"

_NEEDS_ESCAPE = frozenset(['"', "\\", *(chr(c) for c in range(32))])


def plain(text: str) -> bool:
    """Whether orjson writes ``text`` as ``"text"`` (nothing to escape)."""
    return not any(ch in _NEEDS_ESCAPE for ch in text)


def check_plain(words: Iterable[str], what: str) -> None:
    """:raises ValueError: when one of ``words`` would need JSON escaping."""
    for word in words:
        if not plain(word):
            raise ValueError(f"{what}: {word!r} needs JSON escaping and cannot fill a plain-string hole")


def json_text(value: Any) -> str:
    """The JSON text of one value exactly as orjson writes it."""
    return orjson.dumps(value).decode()


#: :func:`cents_texts` covers amounts ``0.00 .. CENTS / 100``.
CENTS = 20_000


@cache
def cents_texts() -> tuple[str, ...]:
    """``repr(d / 100)`` for ``d < CENTS``: the JSON text of every amount with two decimals.

    ``round(x, 2)`` is the float nearest to ``d / 100`` where ``d`` is ``x * 100`` rounded
    half-even from its exact value, so its text is ``cents_texts()[d]``.  The hot loops
    compute ``y = x * 100`` and ``d = round(y)``: that ``d`` is exact unless ``y`` is within
    ``1e-9`` of a half (``y`` is off by one rounding at most), and then they fall back to
    ``repr(round(x, 2))``; see :func:`amount_text`.  Python's float repr and orjson write
    the same shortest digits for these magnitudes (checked by the tests).
    """
    return tuple(repr(d / 100) for d in range(CENTS))


def amount_text(x: float) -> str:
    """``repr(round(x, 2))``, fast (the hot loops inline this)."""
    y = x * 100
    d = round(y)
    if 0 <= d < CENTS and abs(abs(y - d) - 0.5) > 1e-9:
        return cents_texts()[d]
    return repr(round(x, 2))


class RowFormat:
    """The JSON text of one row shape, cut at the fields that vary.

    ``chunks`` holds the constant text around the holes: the row with values ``v0, v1...``
    (JSON text; a plain string without its quotes) is ``c0 + v0 + c1 + v1 + ... + cN``.
    Encoders glue neighbouring chunks to the few values a hole can take (an action, a
    flag) so that a row is built from as few pieces as possible.

    :param template: a row of this shape (field order and constant values).
    :param holes: ``{field: STR or RAW}`` for the fields that vary; their values in
        ``template`` are ignored.
    """

    __slots__ = ("chunks", "fields")

    def __init__(self, template: Mapping[str, Any], holes: Mapping[str, str]) -> None:
        unknown = set(holes) - set(template)
        if unknown:
            raise ValueError(f"holes not in the template: {sorted(unknown)}")
        chunks, text = [], "{"
        for n, (name, value) in enumerate(template.items()):
            text += ("," if n else "") + json_text(name) + ":"
            kind = holes.get(name)
            if kind is None:
                text += json_text(value)
            elif kind in (STR, RAW):
                chunks.append(text + ('"' if kind == STR else ""))
                text = '"' if kind == STR else ""
            else:
                raise ValueError(f"hole kind of {name!r} must be {STR!r} or {RAW!r}, not {kind!r}")
        chunks.append(text + "}")
        self.chunks: tuple[str, ...] = tuple(chunks)
        #: the hole fields in row order
        self.fields = tuple(name for name in template if name in holes)

    def render(self, values: Iterable[str]) -> str:
        """The row with these hole values (JSON text; plain strings without quotes)."""
        out = [self.chunks[0]]
        for value, chunk in zip(values, self.chunks[1:], strict=True):
            out += (value, chunk)
        return "".join(out)


#: Rows encoded by one :meth:`~include.emulator.ocds.table.Table.encode_rows` call and
#: rows per part of a page (:class:`~include.emulator.ocds.dataset.JsonPage`): small
#: buffers, reused by the allocator while a page of megabytes is put together.
CHUNK = 1024
GROUP = 64


def envelope(parts: list[bytes], rest: dict[str, Any]) -> bytes:
    """``orjson.dumps({"items": [...], **rest})`` where ``b",".join(parts)`` are the items'
    JSON texts.

    Byte for byte what orjson writes for the envelope of the row dicts; the page is
    copied once.  Changes ``parts``.
    """
    tail = b"]," + orjson.dumps(rest)[1:] if rest else b"]}"
    if not parts:
        return b'{"items":[' + tail
    parts[0] = b'{"items":[' + parts[0]
    parts[-1] += tail
    return b",".join(parts)
