"""Deterministic hashing and the fixed timeline of the generated OCDS dataset.

Every generated value is a pure function of ``(seed, entity, index)``: nothing is stored,
any row can be computed on demand, and the same seed always gives the same rows.
"""

from __future__ import annotations

import zlib

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
