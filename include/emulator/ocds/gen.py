"""Deterministic hashing and the fixed timeline of the generated OCDS dataset.

Every generated value is a pure function of ``(seed, entity, index)``: nothing is stored,
any row can be computed on demand, and the same seed always gives the same rows.
"""

from __future__ import annotations

import array
import zlib
from collections.abc import Sequence

from include.emulator.timeutil import us_of

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15

#: Generated rows are created and changed inside [T0, T1) (UTC, 2025).
T0 = us_of(2025, 1, 1)
SPAN = 300 * 86_400 * 1_000_000
T1 = T0 + SPAN
#: Initial refresh (bulk load) date of every entity: just before the first generated change.
REFRESH0 = us_of(2024, 12, 31, 18, 0, 0)
#: Installation date of the emulated OCDS release.
INSTALLED = us_of(2024, 12, 15, 17, 50, 19) + 45_000
DAY = 86_400 * 1_000_000


def mix(x: int) -> int:
    """splitmix64 finaliser: a well spread 64-bit hash of an integer."""
    x &= M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def salt(seed: int, name: str) -> int:
    """A per ``(seed, name)`` constant to hash indices with."""
    return mix((int(seed) * GOLDEN) ^ zlib.crc32(name.encode("utf-8")) ^ 0x5DEECE66D)


def h(salt_value: int, index: int) -> int:
    """Hash of ``index`` under ``salt_value`` (:func:`mix` inlined: this runs for every row)."""
    x = (salt_value + index * GOLDEN) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


#: :func:`h_lanes` hashes this many indices per batch: 128-bit lanes of one big integer.
LANES = 1024
_LANE_ONES = int.from_bytes((b"\x01" + bytes(15)) * LANES, "little")
_LANE_MASK = int.from_bytes((b"\xff" * 8 + bytes(8)) * LANES, "little")
#: lane k holds k: ``start * _LANE_ONES + _LANE_RAMP`` packs ``start, start + 1, ...``
_LANE_RAMP = sum(k << (128 * k) for k in range(LANES))


def h_lanes(salt_value: int, indices: Sequence[int]) -> bytes:
    """``h(salt_value, i)`` of many indices at once, as 16-byte little-endian lanes.

    Bytes ``16 k .. 16 k + 7`` hold the hash of ``indices[k]``; the other 8 bytes of a lane
    are scratch.  Read it with ``memoryview(...).cast("Q")[::2]`` (the hashes) or
    ``cast("H")[w::8]`` (16-bit word ``w`` of each hash, ``w < 4``).  A ``range`` of
    indices is packed by arithmetic.

    The indices (``0 <= i < 2**64``) are packed into the 128-bit lanes of one big integer,
    up to ``LANES`` at a time, and :func:`mix` runs on all lanes at once: each lane keeps
    its value below ``2**64`` (masked after every step), so products and shifts never
    carry into a neighbour's low 64 bits.  About four times faster than :func:`h` per index.
    """
    n_all = len(indices)
    if n_all < 64:
        words = array.array("Q", bytes(16 * n_all))
        words[::2] = array.array("Q", [h(salt_value, i) for i in indices])
        return words.tobytes()
    consecutive = isinstance(indices, range) and indices.step == 1
    out: list[bytes] = []
    salt_value &= M64
    salted_all = 0
    for start in range(0, n_all, LANES):
        chunk = indices[start : start + LANES]
        n = len(chunk)
        if n == LANES:
            salted_all = salted_all or _LANE_ONES * salt_value
            ones, ramp, mask, salted = _LANE_ONES, _LANE_RAMP, _LANE_MASK, salted_all
        else:
            low = (1 << (128 * n)) - 1
            ones, ramp, mask = _LANE_ONES & low, _LANE_RAMP & low, _LANE_MASK & low
            salted = ones * salt_value
        if consecutive:
            x = chunk[0] * ones + ramp  # consecutive indices (a page of a range): no packing
        else:
            words = array.array("Q", bytes(16 * n))
            words[::2] = array.array("Q", chunk)
            x = int.from_bytes(words, "little")
        x = (x * GOLDEN + salted) & mask
        x = ((x ^ (x >> 30)) & mask) * 0xBF58476D1CE4E5B9 & mask
        x = ((x ^ (x >> 27)) & mask) * 0x94D049BB133111EB & mask
        out.append((x ^ (x >> 31)).to_bytes(16 * n, "little"))
    return out[0] if len(out) == 1 else b"".join(out)


def h_many(salt_value: int, indices: Sequence[int]) -> list[int]:
    """``[h(salt_value, i) for i in indices]``, about four times faster for long lists."""
    if len(indices) < 64:
        return [h(salt_value, i) for i in indices]
    return memoryview(h_lanes(salt_value, indices)).cast("Q")[::2].tolist()


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


ADJECTIVES = (
    "Classic",
    "Slim",
    "Relaxed",
    "Organic",
    "Vintage",
    "Cozy",
    "Bold",
    "Soft",
    "Urban",
    "Coastal",
    "Everyday",
    "Premium",
    "Light",
    "Dark",
    "Bright",
    "Rustic",
    "Modern",
    "Sport",
    "Summer",
    "Winter",
)
NOUNS = (
    "Tee",
    "Chino",
    "Hoodie",
    "Sneaker",
    "Jacket",
    "Scarf",
    "Mug",
    "Candle",
    "Lamp",
    "Blanket",
    "Backpack",
    "Wallet",
    "Cap",
    "Dress",
    "Sweater",
    "Short",
    "Sock",
    "Belt",
    "Towel",
    "Vase",
)
FIRST_NAMES = ("Ann", "Bob", "Carla", "Dev", "Erin", "Femi", "Gus", "Hana", "Ivan", "Jo", "Kim", "Lee")
LAST_NAMES = ("Jones", "Smith", "Garcia", "Chen", "Kowalski", "Okafor", "Novak", "Rossi", "Dubois", "Sato")
CITIES = (
    ("Minneapolis", "MN", "554"),
    ("Chicago", "IL", "606"),
    ("Denver", "CO", "802"),
    ("Austin", "TX", "787"),
    ("Seattle", "WA", "981"),
    ("Boston", "MA", "021"),
    ("Atlanta", "GA", "303"),
    ("Portland", "OR", "972"),
)


def person(value: int) -> str:
    return f"{FIRST_NAMES[value % len(FIRST_NAMES)]} {LAST_NAMES[(value >> 8) % len(LAST_NAMES)]}"
