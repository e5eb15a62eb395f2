"""DuckDB (and CSV/Parquet folders read through DuckDB) -> PostgreSQL."""

from __future__ import annotations

from workbench.schema.model import Column, NativeType
from workbench.schema.types.model import TypeMap, TypeOptions, TypeRule


def _nested(n: NativeType, c: Column, o: TypeOptions) -> bool:
    return n.name in ("struct", "map", "union")


RULES: tuple[TypeRule, ...] = (
    TypeRule("boolean", "boolean"),
    TypeRule("tinyint, smallint, utinyint", "smallint", names=("tinyint", "smallint", "utinyint")),
    TypeRule("integer, usmallint", "integer", names=("integer", "usmallint")),
    TypeRule("bigint, uinteger", "bigint", names=("bigint", "uinteger")),
    TypeRule("ubigint", "numeric(20)", "widened"),
    TypeRule("hugeint, uhugeint", "numeric(39)", "read as text", names=("hugeint", "uhugeint"),
             read="CAST({col} AS VARCHAR)"),
    TypeRule("bignum, varint", "numeric", "read as text", names=("bignum", "varint"),
             read="CAST({col} AS VARCHAR)"),
    TypeRule("decimal(p,s)", "numeric({precision},{scale})", names=("decimal",)),
    TypeRule("float", "real"),
    TypeRule("double", "double precision"),
    TypeRule("varchar", "text"),
    TypeRule("blob", "bytea"),
    TypeRule("date", "date"),
    TypeRule("time", "time"),
    TypeRule("time with time zone", "timetz", "read as text", names=("time with time zone",),
             read="CAST({col} AS VARCHAR)"),
    TypeRule("timestamp", "timestamp", names=("timestamp", "timestamp_s", "timestamp_ms",
                                                "timestamp_ns")),
    TypeRule("timestamp with time zone", "timestamptz", names=("timestamp with time zone",
                                                                "timestamptz_ns")),
    TypeRule("interval", "interval", "read as text", read="CAST({col} AS VARCHAR)"),
    TypeRule("uuid", "uuid", "read as text", read="CAST({col} AS VARCHAR)"),
    TypeRule("json", "jsonb", read="CAST({col} AS VARCHAR)"),
    TypeRule("bit", "bit varying", read="CAST({col} AS VARCHAR)"),
    TypeRule("enum", "text", "CHECK (col IN (...members)) added after the load"),
    TypeRule("list (x[])", "element type[]", "read as a PostgreSQL array literal",
             names=("list",)),
    TypeRule("null (a Parquet column of no values)", "text", names=('"null"',)),
    TypeRule("struct, map, union", "jsonb", "read as JSON text", names=("struct", "map", "union"),
             when=_nested, read="CAST(to_json({col}) AS VARCHAR)"),
)  # fmt: skip


TYPE_MAP = TypeMap(RULES)
