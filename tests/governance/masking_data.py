"""A project with a profiled SQLite source of PII columns and an accepted mapping into a
PostgreSQL table of the same shape (shared by the masking and the match widget tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.matching.stored import make_project, pg_tables, sqlite_db
from workbench.matching import decisions, mappings
from workbench.profiling import profiles_for
from workbench.store import Store, connections

FIRST = ["Alice", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
LAST = ["Smith", "Okafor", "Nguyen", "Garcia", "Muller", "Kowalski", "Rossi", "Tanaka", "Silva"]
COUNTRIES = ["DE", "FR", "US"]

TARGET_DDL = """
CREATE TABLE persons (
    id bigint PRIMARY KEY, first_name text, last_name text, email text, phone text,
    card text, ssn text, country text
)
"""


def luhn(prefix: str) -> str:
    """``prefix`` plus its Luhn check digit."""
    total = 0
    for i, c in enumerate(reversed(prefix)):
        n = int(c)
        if i % 2 == 0:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return prefix + str((10 - total % 10) % 10)


def persons(n: int = 120, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    first = [FIRST[i % len(FIRST)] for i in range(n)]
    last = [LAST[(i * 7) % len(LAST)] for i in range(n)]
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "first_name": first,
            "last_name": last,
            "email": [
                f"{f.lower()}.{la.lower()}{i}@example.com"
                for i, (f, la) in enumerate(zip(first, last, strict=True))
            ],
            "phone": [
                f"+1 555-{rng.integers(100, 999)}-{rng.integers(1000, 9999)}" for _ in range(n)
            ],
            "card": [luhn(f"4{rng.integers(10**13, 10**14 - 1)}") for _ in range(n)],
            "ssn": [
                f"{rng.integers(100, 899)}-{rng.integers(10, 99)}-{rng.integers(1000, 9999)}"
                for _ in range(n)
            ],
            "country": [COUNTRIES[i % 3] for i in range(n)],
        }
    )


def pii_project(store: Store, tmp_path: Path, target_url: str, name: str = "crm") -> pd.DataFrame:
    """Source persons (SQLite), target persons (PostgreSQL), every column mapped and
    accepted, and the source profiled into the store. Returns the source rows."""
    frame = persons()
    pg_tables(target_url, TARGET_DDL)
    make_project(
        store, name, sqlite_db(tmp_path / f"{name}.sqlite", {"persons": frame}), target_url
    )
    (mapping,) = mappings.suggest_mappings(store, name, "src", "tgt")
    decisions.accept_all(store, name, mapping.id)
    source = connections.get_connection(store, name, "src")
    profiles_for(store, connections.connection_url(store, source))
    return frame
