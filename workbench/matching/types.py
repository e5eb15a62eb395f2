"""Type compatibility between a source and a target column.

Declared types (any dialect's spelling, e.g. ``"NVARCHAR(40)"``, ``"smallint unsigned"``,
``"timestamp without time zone"``) or, without them, pandas dtypes are reduced to a
family; a small table says how well one family can carry the other's data.
"""

from __future__ import annotations

import re

import pandas as pd

FAMILIES = ("integer", "decimal", "boolean", "date", "datetime", "time", "text", "binary", "other")

# Lower-case base type name -> family. Base name = the text before "(" or the first space.
_BY_NAME: dict[str, str] = {
    **dict.fromkeys(
        [
            "int",
            "integer",
            "int2",
            "int4",
            "int8",
            "smallint",
            "tinyint",
            "mediumint",
            "bigint",
            "serial",
            "bigserial",
            "smallserial",
            "year",
        ],
        "integer",
    ),
    **dict.fromkeys(
        [
            "decimal",
            "numeric",
            "number",
            "float",
            "double",
            "real",
            "money",
            "smallmoney",
            "float4",
            "float8",
        ],
        "decimal",
    ),
    **dict.fromkeys(["bool", "boolean", "bit"], "boolean"),
    "date": "date",
    **dict.fromkeys(
        ["datetime", "datetime2", "timestamp", "timestamptz", "smalldatetime", "datetimeoffset"],
        "datetime",
    ),
    **dict.fromkeys(["time", "timetz", "interval"], "time"),
    **dict.fromkeys(
        [
            "char",
            "varchar",
            "nchar",
            "nvarchar",
            "text",
            "tinytext",
            "mediumtext",
            "longtext",
            "clob",
            "nclob",
            "string",
            "character",
            "varchar2",
            "nvarchar2",
            "citext",
            "uuid",
            "json",
            "jsonb",
            "xml",
            "enum",
            "set",
            "name",
        ],
        "text",
    ),
    **dict.fromkeys(
        [
            "blob",
            "tinyblob",
            "mediumblob",
            "longblob",
            "bytea",
            "binary",
            "varbinary",
            "image",
            "raw",
        ],
        "binary",
    ),
}

# How well a target of family B holds the data of a source of family A (symmetric).
_COMPATIBLE: dict[frozenset[str], float] = {
    frozenset({"integer", "decimal"}): 0.8,
    frozenset({"integer", "boolean"}): 0.6,
    frozenset({"date", "datetime"}): 0.8,
    frozenset({"time", "datetime"}): 0.4,
    frozenset({"text", "integer"}): 0.4,
    frozenset({"text", "decimal"}): 0.4,
    frozenset({"text", "date"}): 0.5,
    frozenset({"text", "datetime"}): 0.5,
    frozenset({"text", "time"}): 0.4,
    frozenset({"text", "boolean"}): 0.3,
    frozenset({"text", "binary"}): 0.2,
}


def family(declared: str | None) -> str:
    """The family of a declared type name in any dialect's spelling ("other" if unknown)."""
    if not declared:
        return "other"
    text = declared.strip().lower()
    if text.startswith(("character varying", "double precision")):
        return "text" if text.startswith("character") else "decimal"
    if text.startswith("timestamp") or text.startswith("time with"):
        return "datetime" if text.startswith("timestamp") else "time"
    if re.match(r"tinyint\s*\(\s*1\s*\)", text):
        return "boolean"
    base = re.split(r"[\s(\[]", text, maxsplit=1)[0]
    return _BY_NAME.get(base, "other")


def dtype_family(series: pd.Series) -> str:
    """The family of a pandas column's dtype (object columns are "text")."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        # integers with NULLs arrive as float
        values = series.dropna()
        return "integer" if len(values) and bool((values % 1 == 0).all()) else "decimal"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "time"
    return "text"


def compatibility(source_family: str, target_family: str) -> float:
    """How well the target family can hold the source family's data, 0-1."""
    if source_family == target_family:
        return 1.0
    if "other" in (source_family, target_family):
        return 0.5
    return _COMPATIBLE.get(frozenset({source_family, target_family}), 0.0)
