"""SQLite -> PostgreSQL by declared type, following SQLite's affinity rules.

SQLite stores any value in any column. Well-known declared names map to their PostgreSQL
types; anything else falls to the column's affinity (the five rules of sqlite.org/datatype3):
INT -> bigint, CHAR/CLOB/TEXT -> text, BLOB or none -> bytea/text, REAL/FLOA/DOUB -> double
precision, otherwise numeric. Values whose storage class does not fit the planned type are
counted by :func:`mismatch_count_sql` (and rejected by PostgreSQL when loaded), not guessed.
"""

from __future__ import annotations

from workbench.schema.model import Column, NativeType, Table
from workbench.schema.quoting import quote_ident, table_ref
from workbench.schema.types.model import Match, TypeMap, TypeOptions, TypeRule


def affinity(declared: str) -> str:
    """SQLite's column affinity of a declared type (sqlite.org/datatype3.html 3.1)."""
    t = declared.upper()
    if "INT" in t:
        return "INTEGER"
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        return "TEXT"
    if "BLOB" in t or not t.strip():
        return "BLOB"
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return "REAL"
    return "NUMERIC"


def _aff(kind: str) -> Match:
    return lambda n, c, o: affinity(n.raw) == kind


def _sized(n: NativeType, c: Column, o: TypeOptions) -> bool:
    return n.length is not None


def _precise(n: NativeType, c: Column, o: TypeOptions) -> bool:
    return n.precision is not None


def _no_type(n: NativeType, c: Column, o: TypeOptions) -> bool:
    return not n.raw.strip()


TEXT_NAMES = ("varchar", "nvarchar", "char", "nchar", "character", "varying character",
              "native character", "text", "clob")  # fmt: skip

# Booleans as SQLite applications store them besides 0/1 (what PostgreSQL's boolean input
# takes): read as 1/0; any other value stays as it is and is quarantined as not a boolean
TRUE_WORDS = ("1", "t", "true", "y", "yes", "on")
FALSE_WORDS = ("0", "f", "false", "n", "no", "off")


def _words(words: tuple[str, ...]) -> str:
    return ", ".join(f"'{w}'" for w in words)


BOOLEAN_READ = (
    "CASE WHEN typeof({col}) IN ('integer', 'real') THEN"
    " CASE WHEN {col} = 1 THEN 1 WHEN {col} = 0 THEN 0 ELSE {col} END"
    f" WHEN lower(trim({{col}})) IN ({_words(TRUE_WORDS)}) THEN 1"
    f" WHEN lower(trim({{col}})) IN ({_words(FALSE_WORDS)}) THEN 0 ELSE {{col}} END"
)

RULES: tuple[TypeRule, ...] = (
    TypeRule("boolean, bool", "boolean", "stored as 0/1, or as true/false, yes/no, on/off, t/f, "
             "y/n text: read as 1/0", names=("boolean", "bool"), read=BOOLEAN_READ),
    TypeRule("date", "date", "stored as ISO text"),
    TypeRule("datetime, timestamp", "timestamp", "stored as ISO text",
             names=("datetime", "timestamp")),
    TypeRule("time", "time"),
    TypeRule("decimal(p,s), numeric(p,s)", "numeric({precision},{scale})", "read as text",
             names=("decimal", "numeric"), when=_precise),
    TypeRule("varchar(n), nvarchar(n), char(n), ...", "varchar({length})",
             "length is not enforced by SQLite; longer values fail the load", names=TEXT_NAMES,
             when=_sized),
    TypeRule("(no declared type)", "text", "BLOB affinity: any value; read as text",
             names=("",), when=_no_type),
    TypeRule("INT affinity (integer, int, bigint, ...)", "bigint", "SQLite integers are 64-bit "
             "whatever the declared name", names=("*",), when=_aff("INTEGER")),
    TypeRule("TEXT affinity (text, clob, varchar, ...)", "text", names=("*",),
             when=_aff("TEXT")),
    TypeRule("BLOB affinity (blob)", "bytea", names=("*",), when=_aff("BLOB")),
    TypeRule("REAL affinity (real, float, double)", "double precision", names=("*",),
             when=_aff("REAL")),
    TypeRule("NUMERIC affinity (numeric, decimal, other names)", "numeric", "read as text",
             names=("*",), when=_aff("NUMERIC")),
)  # fmt: skip

# planned PostgreSQL type family -> storage classes (sqlite typeof) that fit it
FITS: dict[str, tuple[str, ...]] = {
    "bigint": ("integer",),
    "boolean": ("integer",),
    "double precision": ("integer", "real"),
    "numeric": ("integer", "real"),
    "bytea": ("blob",),
    "date": ("text",),
    "timestamp": ("text",),
    "time": ("text",),
}


def storage_classes(pg_type: str) -> tuple[str, ...] | None:
    base = pg_type.split("(")[0]
    if base in ("text", "varchar"):
        return None  # any value has a text form
    return FITS.get(base)


def mismatch_count_sql(table: Table, pg_types: dict[str, str]) -> str | None:
    """``SELECT`` counting, per column, values whose storage class does not fit its planned
    PostgreSQL type (e.g. 'abc' in an INTEGER column); None if no column can mismatch."""
    parts = []
    for col in table.columns:
        fits = storage_classes(pg_types.get(col.name, "text"))
        if fits is None:
            continue
        allowed = ", ".join(f"'{s}'" for s in (*fits, "null"))
        q = quote_ident(col.name, "sqlite")
        misfit = f"typeof({q}) NOT IN ({allowed})"
        if pg_types.get(col.name) == "boolean":  # 1/0 in any storage class, or a word
            misfit = f"typeof({BOOLEAN_READ.format(col=q)}) NOT IN ('integer', 'null')"
        parts.append(f"COALESCE(SUM({misfit}), 0) AS {q}")
    if not parts:
        return None
    return f"SELECT {', '.join(parts)} FROM {table_ref(table, 'sqlite')}"


TYPE_MAP = TypeMap(RULES)
