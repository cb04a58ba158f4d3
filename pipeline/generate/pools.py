"""Small pools of realistic values, drawn from by index when rows are generated.

Faker (seeded) fills only these pools: a few dozen names per country and some product words and sentences. Every
row then picks from them with numpy, which is what keeps generation fast at any scale.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

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
    """Faker-made pools for `seed` (Faker is imported here: loading its locales is the slow part)."""
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
    return Pools(
        first_names=pa.array(first_names),
        last_names=pa.array(last_names),
        first_ascii=pa.array([_ascii(name) for name in first_names]),
        last_ascii=pa.array([_ascii(name) for name in last_names]),
        brands=pa.array(brands),
        descriptions=pa.array(descriptions),
    )


def _ascii(name: str) -> str:
    """'Hélène' -> 'helene', "O'Brien" -> 'obrien': a safe e-mail local part."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z]", "", plain) or "x"
