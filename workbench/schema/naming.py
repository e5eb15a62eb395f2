"""Target naming policy: keep names or normalize to lower snake_case; fit PostgreSQL's 63 bytes.

Names are never spliced into SQL here: DDL quotes them with ``psycopg.sql.Identifier``. This
module only decides *which* name each object gets, without collisions inside a scope.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from workbench.errors import InvalidInputError

MAX_BYTES = 63  # NAMEDATALEN - 1
_CAMEL_1 = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def snake_case(name: str) -> str:
    """``InvoiceLine`` -> ``invoice_line``, ``Order Details`` -> ``order_details``; non-ASCII
    letters are kept (lower-cased); a leading digit gets a ``_`` prefix."""
    text = unicodedata.normalize("NFC", name)
    text = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", text))
    text = _NON_WORD.sub("_", text).strip("_").lower()
    text = re.sub(r"_+", "_", text) or "_"
    return f"_{text}" if text[0].isdigit() else text


def truncate(name: str, limit: int = MAX_BYTES) -> str:
    """Fit ``name`` in ``limit`` UTF-8 bytes: a cut prefix plus a short hash of the whole name."""
    if len(name.encode()) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    room = limit - len(digest) - 1
    cut = name.encode()[:room].decode("utf-8", errors="ignore")
    return f"{cut}_{digest}"


def apply_policy(name: str, policy: str) -> str:
    if policy == "keep":
        return name
    if policy == "snake":
        return snake_case(name)

    raise InvalidInputError(f"Unknown naming policy {policy!r}; use 'keep' or 'snake'")


class NameAllocator:
    """Hands out unique names inside one scope (a schema's relations, a table's columns)."""

    def __init__(self, policy: str = "keep", limit: int = MAX_BYTES) -> None:
        self.policy = policy
        self.limit = limit
        self.used: set[str] = set()

    def take(self, name: str) -> str:
        base = truncate(apply_policy(name, self.policy), self.limit)
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            suffix = f"_{n}"
            candidate = truncate(base, self.limit - len(suffix)) + suffix
        self.used.add(candidate)
        return candidate

    def reserve(self, name: str) -> None:
        self.used.add(name)
