"""Small pools of realistic values, drawn from by index when rows are generated.

Faker (seeded) fills only these pools: a few dozen names per country and some product words and sentences. Every
row then picks from them with numpy, which is what keeps generation fast at any scale.

Importing Faker and making its locales take most of a second, longer than generating SF 1 itself, so the pools of a
seed are kept in the user's cache (`demo-pools`), named by the seed, Faker's version and this module's code: a later
process (the next `shopstream run`, another student's key with the same seed) reads them back without Faker.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipeline.user_cache import CacheFolder

# (ISO code, share of customers, Faker locale for names): a European shop with an American following.
COUNTRIES = (
    ("FR", 0.30, "fr_FR"),
    ("US", 0.14, "en_US"),
    ("DE", 0.11, "de_DE"),
    ("GB", 0.10, "en_GB"),
    ("ES", 0.07, "es_ES"),
    ("IT", 0.07, "it_IT"),
    ("BE", 0.05, "fr_FR"),
    ("NL", 0.05, "nl_NL"),
    ("CA", 0.04, "en_US"),
    ("CH", 0.03, "fr_FR"),
    ("AT", 0.02, "de_DE"),
    ("IE", 0.02, "en_GB"),
)
PLAN_TYPES = (("freemium", 0.70), ("premium", 0.22), ("enterprise", 0.08))
ORDER_STATUSES = (("pending", 0.05), ("paid", 0.40), ("shipped", 0.25), ("delivered", 0.25), ("cancelled", 0.05))
PAYMENT_METHODS = (("stripe", 0.45), ("paypal", 0.20), ("credit_card", 0.35))
CRM_SOURCES = (("organic", 0.35), ("paid_ads", 0.30), ("referral", 0.15), ("email_campaign", 0.20))
DEVICES = (("mobile", 0.55), ("desktop", 0.38), ("tablet", 0.07))
EMAIL_DOMAINS = (
    ("gmail.com", 0.38),
    ("outlook.com", 0.14),
    ("yahoo.com", 0.10),
    ("hotmail.com", 0.08),
    ("icloud.com", 0.08),
    ("orange.fr", 0.07),
    ("gmx.de", 0.05),
    ("free.fr", 0.05),
    ("proton.me", 0.05),
)

# Category -> (share of the catalogue, median price in euros, product nouns).
CATEGORIES = {
    "Electronics": (0.20, 120.0, ("Headphones", "Speaker", "Charger", "Smartwatch", "Keyboard", "Webcam", "Tablet")),
    "Fashion": (0.20, 45.0, ("Jacket", "Sneakers", "T-Shirt", "Jeans", "Scarf", "Backpack", "Sunglasses")),
    "Home": (0.16, 60.0, ("Lamp", "Cushion", "Coffee Maker", "Knife Set", "Blanket", "Vase", "Frying Pan")),
    "Books": (0.12, 18.0, ("Novel", "Cookbook", "Travel Guide", "Biography", "Comic", "Notebook", "Atlas")),
    "Sports": (0.12, 55.0, ("Yoga Mat", "Dumbbells", "Running Shoes", "Water Bottle", "Tennis Racket", "Bike Helmet")),
    "Beauty": (0.10, 25.0, ("Face Cream", "Perfume", "Shampoo", "Lipstick", "Hair Dryer", "Serum")),
    "Toys": (0.10, 30.0, ("Puzzle", "Board Game", "Building Blocks", "Plush Bear", "Toy Car", "Kite")),
}
PRODUCT_ADJECTIVES = ("Classic", "Essential", "Premium", "Eco", "Smart", "Pro", "Compact", "Deluxe", "Urban", "Vintage")
LANDING_PAGES = (
    "/",
    "/",
    "/",
    "/deals",
    "/new-arrivals",
    "/search",
    *(f"/category/{name.lower()}" for name in CATEGORIES),
)

NAMES_PER_LOCALE = 60
BRANDS = 40
DESCRIPTIONS = 50

# What Faker makes for a seed, and how many of each: the rest of the pools derive from these lists.
_FAKER_LISTS = {
    "first_names": NAMES_PER_LOCALE * len(COUNTRIES),
    "last_names": NAMES_PER_LOCALE * len(COUNTRIES),
    "brands": BRANDS,
    "descriptions": DESCRIPTIONS,
}
# A class of a few hundred students has as many seeds; each entry is some 20 KiB.
_CACHE = CacheFolder("demo-pools", ".json", kept=512)


def labels(choices: tuple[tuple, ...]) -> list[str]:
    return [choice[0] for choice in choices]


def shares(choices: tuple[tuple, ...]) -> np.ndarray:
    weights = np.array([choice[1] for choice in choices], dtype=float)
    return weights / weights.sum()


@dataclass(frozen=True)
class Pools:
    """Names per country (aligned with COUNTRIES), with their ASCII forms for e-mail addresses."""

    first_names: pa.Array  # flattened: country i's names are at [i * NAMES_PER_LOCALE, (i + 1) * NAMES_PER_LOCALE)
    last_names: pa.Array
    first_ascii: pa.Array
    last_ascii: pa.Array
    brands: pa.Array
    descriptions: pa.Array

    def name_index(self, rng: np.random.Generator, country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indexes into the name pools for people of the given countries (first name, last name)."""
        base = country * NAMES_PER_LOCALE
        first = base + rng.integers(0, NAMES_PER_LOCALE, size=country.size)
        last = base + rng.integers(0, NAMES_PER_LOCALE, size=country.size)
        return first, last


@functools.lru_cache(maxsize=4)
def build_pools(seed: int) -> Pools:
    """The pools for `seed`: from the user's cache when an earlier process made them, else made by Faker (and
    cached)."""
    key = _cache_key(seed)
    lists = _cached_lists(key)
    if lists is None:
        lists = _faker_lists(seed)
        _CACHE.write(key, json.dumps(lists, ensure_ascii=False).encode())
    first_names, last_names = lists["first_names"], lists["last_names"]
    return Pools(
        first_names=pa.array(first_names),
        last_names=pa.array(last_names),
        first_ascii=pa.array([_ascii(name) for name in first_names]),
        last_ascii=pa.array([_ascii(name) for name in last_names]),
        brands=pa.array(lists["brands"]),
        descriptions=pa.array(lists["descriptions"]),
    )


def _faker_lists(seed: int) -> dict[str, list[str]]:
    """Faker-made names, brands and sentences for `seed` (Faker is imported here: loading its locales is the slow
    part)."""
    from faker import Faker

    # Only the providers the pools use: loading every provider is most of Faker's start-up time.
    providers = ["faker.providers.person", "faker.providers.lorem"]
    fakers: dict[str, Faker] = {}
    first_names: list[str] = []
    last_names: list[str] = []
    for _, _, locale in COUNTRIES:
        if locale not in fakers:
            fakers[locale] = Faker(locale, providers=providers)
            fakers[locale].seed_instance(seed)
        fake = fakers[locale]
        first_names += [fake.first_name() for _ in range(NAMES_PER_LOCALE)]
        last_names += [fake.last_name() for _ in range(NAMES_PER_LOCALE)]
    english = Faker("en_US", providers=providers)
    english.seed_instance(seed)
    brands = [english.unique.last_name() for _ in range(BRANDS)]
    descriptions = [english.sentence(nb_words=12) for _ in range(DESCRIPTIONS)]
    return {"first_names": first_names, "last_names": last_names, "brands": brands, "descriptions": descriptions}


def _cache_key(seed: int) -> str:
    """The seed, Faker's version (its name lists change between releases) and the code that draws from them."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(f"\0{metadata.version('faker')}\0{seed}".encode())
    return digest.hexdigest()


def _cached_lists(key: str) -> dict[str, list[str]] | None:
    """The cached lists, or None when there are none or they are not what `_faker_lists` makes (a torn file)."""
    data = _CACHE.read(key)
    try:
        lists = json.loads(data) if data is not None else None
    except ValueError:
        return None
    valid = isinstance(lists, dict) and all(
        isinstance(lists.get(name), list) and len(lists[name]) == size and all(isinstance(v, str) for v in lists[name])
        for name, size in _FAKER_LISTS.items()
    )
    return lists if valid else None


def _ascii(name: str) -> str:
    """'Hélène' -> 'helene', "O'Brien" -> 'obrien': a safe e-mail local part."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z]", "", plain) or "x"
