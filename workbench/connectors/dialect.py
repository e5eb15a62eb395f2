"""How one kind of database spells the SQL the workbench pushes down to it.

Each connector module builds its kind's :class:`SqlDialect` next to its connector class (the
connector's ``dialect``); profiling, sampling, fingerprints and checksums take it from there
(:func:`workbench.connectors.dialect_of`) and never test a dialect's name. A field left at its
default says "this kind cannot": no HyperLogLog, no server-side sample, no catalog signal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.schema.model import Table
from workbench.schema.quoting import quote_ident, table_ref

# HyperLogLog's layout (profiling.pushdown): 2^10 registers, 54 bits left for the rank
HLL_BITS = 10
HLL_W_MASK = (1 << 54) - 1


@dataclass(frozen=True)
class ProfileSql:
    """The expressions profiling's one-scan aggregates need (``{}`` is the column)."""

    text_length: str
    byte_length: str
    as_float: str
    as_text: str
    stddev: str | None  # None: computed from avg(x) and avg(x*x)
    hll_hash: str | None = None  # 64-bit hash of a value; None: no HyperLogLog push-down
    hll_w: str = ""  # the 54 bits after the register bits, from hash expression ``{}``
    log2: str = ""
    approx_distinct: str | None = None  # the database's own approximate count
    lateral_values: bool = False  # HLL for all columns in one scan (LATERAL VALUES)
    bool_as_float: str = ""  # booleans as numbers, when as_float cannot cast them
    json_as_text: bool = True  # read JSON and other driver-unfriendly values as text


@dataclass(frozen=True)
class SampleSql:
    """How to draw a random sample; ``{select}``, ``{ref}``, ``{size}``, ``{seed}``,
    ``{percent}`` and ``{fraction}`` are filled in by :mod:`workbench.profiling.sampling`."""

    # rows chosen by the server (e.g. TABLESAMPLE); None: not available
    server_sample: str | None = None
    server_method: str = ""
    # a reservoir sample of exactly ``size`` rows; None: not available
    reservoir: str | None = None
    random_fraction: str = "(abs(random()) / 9223372036854775807.0)"  # uniform in [0, 1)
    shuffle: str = "random()"


# (canonical expression, NULL possible) per column of a row
RowParts = Sequence[tuple[str, bool]]
# (category, value expression, target type, text column already UTF-8) -> SQL, or None
Special = Callable[[str, str, str, bool], str | None]
# (target type, source native type) -> category, or None for the general rule
CategoryRule = Callable[[str, str], str | None]


def concat_row(parts: RowParts, sep: str = "chr(31)", null: str = "chr(30)") -> str:
    """``concat_ws`` of the canonical texts, NULL as U+001E only where it can occur."""
    rendered = [f"coalesce(({p})::text, {null})" if nullable else p for p, nullable in parts]
    return f"concat_ws({sep}, " + ", ".join(rendered) + ")"


@dataclass(frozen=True)
class ChecksumSql:
    """The canonical text of each value category, and the row hash, in one dialect."""

    canonical: Mapping[str, str]  # category -> rendering of ``{e}``
    row_text: Callable[[RowParts], str]  # a row's canonical texts joined by U+001F
    hash_sum: str  # the exact sum of 60-bit row hashes: the first 15 of ``{hex}``'s digits
    # each digest this dialect computes, as hex text of ``{row}``
    digests: Mapping[str, str]
    double: str = "{e}"  # a floating-point value in double precision
    implicit: frozenset[str] = frozenset()  # categories the concatenation renders by itself
    special: Special | None = None  # renderings that depend on the type, tried first
    category: CategoryRule | None = None  # categories this source decides itself
    # how a PostgreSQL target renders a category to match this source's precision
    target_renderings: Mapping[str, str] = field(default_factory=dict)
    typed_values: bool = True  # False: values of any type in any column (the target renders all)
    is_target_engine: bool = False  # PostgreSQL: a PG -> PG copy compares identical types
    # the digest both sides compute when this dialect is the source: the one it computes
    # fastest of those PostgreSQL has (MariaDB's MD5 costs ten times its SHA-224)
    row_digest: str = "md5"


@dataclass(frozen=True)
class SqlDialect:
    """Everything about one kind's SQL that the callers of its connector need."""

    name: str  # the type map's and quoting's key: "postgresql", "mysql", ...
    placeholder: str  # the driver's parameter marker: "%s" or "?"
    profile: ProfileSql
    checksum: ChecksumSql | None = None  # None: checksums are not available for this kind
    sample: SampleSql = SampleSql()
    # SQL and parameters returning a cheap "has the table changed" signal from the catalog
    catalog_signal: Callable[[Table], tuple[str, list[Any]]] | None = None

    def quote(self, name: str) -> str:
        return quote_ident(name, self.name)

    def table_ref(self, table: Table) -> str:
        return table_ref(table, self.name)
