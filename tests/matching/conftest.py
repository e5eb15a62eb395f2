"""Frames shared by the matching tests: small, made here, deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def people(n: int, seed: int, first_id: int = 1) -> pd.DataFrame:
    """A customer-like table: ids, names, emails, phones, cities, dates, amounts."""
    rng = np.random.default_rng(seed)
    firsts = np.array(
        ["Anna", "Ben", "Carla", "David", "Eva", "Frank", "Gina", "Hugo", "Ida", "Jon"]
    )
    lasts = np.array(["Smith", "Meyer", "Rossi", "Dubois", "Novak", "Silva", "Berg", "Kowalski"])
    cities = np.array(["Berlin", "Lisbon", "Oslo", "Rome", "Prague", "Vienna", "Dublin"])
    first = firsts[rng.integers(0, len(firsts), n)]
    last = lasts[rng.integers(0, len(lasts), n)]
    return pd.DataFrame(
        {
            "customer_id": np.arange(first_id, first_id + n),
            "first_name": first,
            "last_name": last,
            "email": [
                f"{a}.{b}{i}@mail.example".lower()
                for i, (a, b) in enumerate(zip(first, last, strict=True))
            ],
            "phone": [
                f"+{rng.integers(1, 60)} {rng.integers(100, 999)} {rng.integers(1000, 9999)}"
                for _ in range(n)
            ],
            "city": cities[rng.integers(0, len(cities), n)],
            "signup_date": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
            "balance": np.round(rng.gamma(2.0, 50.0, n), 2),
        }
    )


@pytest.fixture
def source_people() -> pd.DataFrame:
    return people(120, seed=1)


@pytest.fixture
def target_people() -> pd.DataFrame:
    return people(150, seed=2, first_id=500)
