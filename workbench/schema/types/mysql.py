"""MySQL / MariaDB -> PostgreSQL, row by row (pgloader's default casts are the baseline).

Where we differ from pgloader, on purpose: zero dates become NULL *and are counted* (or fail
with ``zero_dates="strict"``) while real early dates such as 0009-03-04 stay; time maps to
interval because MySQL time spans -838:59:59..838:59:59; tinyint(1) keeps its values (a 2 is
rejected by PostgreSQL instead of silently becoming true); set becomes text[]. MySQL's ENUM
error value (an invalid value stored as '' in non-strict mode, index 0) becomes NULL and is
counted in the job's log with ``enum_invalid="null"``; ``"keep"`` keeps '' (and allows it in
the CHECK), ``"quarantine"`` refuses its rows. An enum's real member '' always stays ''.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from workbench.schema.model import Column, NativeType, Table
from workbench.schema.quoting import quote_ident, table_ref
from workbench.schema.types.model import Match, ReadRefinement, TypeMap, TypeOptions, TypeRule

# zero dates: no year 0 in PostgreSQL, and MySQL allows month or day 0 ('2024-00-10').
# TO_DAYS is NULL for those and below 366 in year 0; one call per value where YEAR, MONTH and
# DAYOFMONTH took three (TPC-H lineitem's three dates: 6 of MariaDB's 15 CPU-s to read it, now
# 3). YEAR(...) IS NOT NULL tells a zero date from a NULL (IS NULL is true for a zero date in
# a NOT NULL column).
ZERO_DATE = "COALESCE(TO_DAYS({col}) < 366, YEAR({col}) IS NOT NULL)"
ZERO_DATE_READ = "CASE WHEN TO_DAYS({col}) >= 366 THEN {col} END"
# MySQL's ENUM error value: index 0, stored as '' for an invalid value in non-strict mode
# (an enum may also have '' as a real member, at index >= 1)
ENUM_INVALID = "({col} + 0 = 0)"
ENUM_READ = f"CASE WHEN {ENUM_INVALID} THEN NULL ELSE {{col}} END"
# 'a,b' -> {"a","b"}; CHAR(92) is a backslash: no escapes in the literal whatever sql_mode says
SET_READ = (
    "CASE WHEN {col} = '' THEN '{{}}' ELSE CONCAT('{{\"', REPLACE(REPLACE(REPLACE({col}, "
    "CHAR(92), CONCAT(CHAR(92), CHAR(92))), '\"', CONCAT(CHAR(92), '\"')), ',', '\",\"'), "
    "'\"}}') END"
)
GEOMETRY = (
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
    "geomcollection",
)


def _tinyint1(n: NativeType, c: Column, o: TypeOptions) -> bool:
    return n.length == 1 and not n.unsigned and o.tinyint1_as_boolean


def _unsigned(n: NativeType, c: Column, o: TypeOptions) -> bool:
    return n.unsigned


def _signed(n: NativeType, c: Column, o: TypeOptions) -> bool:
    return not n.unsigned


def _zero_null(n: NativeType, c: Column, o: TypeOptions) -> bool:
    return o.zero_dates == "null"


def _opt(attr: str, value: str) -> Match:
    return lambda n, c, o: getattr(o, attr) == value


def _bit1(n: NativeType, c: Column, o: TypeOptions) -> bool:
    return n.length == 1


RULES: tuple[TypeRule, ...] = (
    TypeRule("tinyint(1)", "boolean", "MySQL's BOOL; 0/1 load as false/true, other values are "
             "rejected (not guessed)", when=_tinyint1, option="tinyint1_as_boolean"),
    TypeRule("tinyint", "smallint", when=_signed),
    TypeRule("tinyint unsigned", "smallint", when=_unsigned),
    TypeRule("smallint", "smallint", when=_signed),
    TypeRule("smallint unsigned", "integer", "widened: 65535 does not fit smallint",
             when=_unsigned),
    TypeRule("mediumint", "integer"),
    TypeRule("int", "integer", names=("int", "integer"), when=_signed),
    TypeRule("int unsigned", "bigint", "widened: 4294967295 does not fit integer",
             names=("int", "integer"), when=_unsigned),
    TypeRule("bigint", "bigint", when=_signed),
    TypeRule("bigint unsigned", "numeric(20)", "widened: 18446744073709551615 does not fit "
             "bigint (auto_increment columns stay bigint)", when=_unsigned),
    TypeRule("decimal(p,s)", "numeric({precision},{scale})", "precision and scale kept (up to "
             "65 digits); read as text, exact", names=("decimal", "numeric")),
    TypeRule("float", "real"),
    TypeRule("double", "double precision", names=("double", "real", "double precision")),
    TypeRule("bit(1)", "boolean", read="({col} <> 0)", when=_bit1),
    TypeRule("bit(n)", "bit({length})", "read as a string of 0/1", names=("bit",),
             read="LPAD(BIN({col}), {length}, '0')"),
    TypeRule("year", "smallint", "year 0000 stays 0"),
    TypeRule("date", "date", "zero dates ('0000-00-00', '2024-00-10') -> NULL, counted",
             when=_zero_null, read=ZERO_DATE_READ, safe_read=True, option="zero_dates"),
    TypeRule("date", "date", "zero dates rejected: their rows go to quarantine",
             read="CAST({col} AS CHAR)", option="zero_dates"),
    TypeRule("datetime", "timestamp{fsp}", "zero dates -> NULL, counted", when=_zero_null,
             read=ZERO_DATE_READ, safe_read=True, option="zero_dates"),
    TypeRule("datetime", "timestamp{fsp}", "zero dates rejected: their rows go to quarantine",
             read="CAST({col} AS CHAR)", option="zero_dates"),
    TypeRule("timestamp", "timestamptz{fsp}", "read in UTC; zero dates -> NULL, counted",
             when=_zero_null, read=ZERO_DATE_READ, safe_read=True, option="zero_dates"),
    TypeRule("timestamp", "timestamptz{fsp}", "read in UTC; zero dates rejected: their rows "
             "go to quarantine", read="CONCAT(CAST({col} AS CHAR), '+00')", option="zero_dates"),
    TypeRule("time", "interval", "MySQL time spans -838:59:59..838:59:59; read as text",
             when=_opt("time_as", "interval"), option="time_as"),
    TypeRule("time", "time{fsp}", "values outside 00:00:00..24:00:00 fail the load",
             option="time_as"),
    TypeRule("char(n)", "char({length})", "length in characters, as in PostgreSQL",
             names=("char",)),
    TypeRule("varchar(n)", "varchar({length})", names=("varchar",)),
    TypeRule("tinytext, text, mediumtext, longtext", "text", "any charset (utf8mb4, latin1, "
             "...) arrives as UTF-8", names=("tinytext", "text", "mediumtext", "longtext")),
    TypeRule("binary, varbinary, tinyblob, blob, mediumblob, longblob", "bytea",
             names=("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob")),
    TypeRule("enum", "text", "CHECK (col IN (...members)) added after the load",
             when=_opt("enum", "check"), option="enum"),
    TypeRule("enum", "enum type", "CREATE TYPE <table>_<column> AS ENUM (...members)",
             when=_opt("enum", "pg_enum"), option="enum"),
    TypeRule("enum", "text", "no constraint", option="enum"),
    TypeRule("set", "text[]", "'a,b' -> {a,b}", when=_opt("set_as", "array"), read=SET_READ,
             option="set_as"),
    TypeRule("set", "text", "kept as 'a,b'", option="set_as"),
    TypeRule("json", "jsonb", "MariaDB's JSON (longtext + json_valid check) too"),
    TypeRule("uuid", "uuid", "MariaDB 10.7+; read as its text", read="CAST({col} AS CHAR)"),
    TypeRule("inet6, inet4", "inet", "MariaDB 10.5+ / 10.10+; read as its text",
             names=("inet6", "inet4"), read="CAST({col} AS CHAR)"),
    TypeRule("geometry, point, polygon, ...", "bytea", "WKB via ST_AsBinary (SRID dropped)",
             names=GEOMETRY, when=_opt("geometry", "wkb"), read="ST_AsBinary({col})",
             option="geometry"),
    TypeRule("geometry, point, polygon, ...", "geometry", "PostGIS; WKB via ST_AsBinary",
             names=GEOMETRY, read="ST_AsBinary({col})", option="geometry"),
)  # fmt: skip


def zero_date_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if c.native.name in ("date", "datetime", "timestamp")]


def zero_date_count_sql(table: Table) -> str | None:
    """``SELECT`` counting zero dates per date/datetime/timestamp column, or None if none.

    One row, one column per date column (named like it), in the MySQL dialect; the
    connector's ``count_zero_dates(table)`` runs it.
    """

    cols = zero_date_columns(table)
    if not cols:
        return None
    parts = [
        f"COALESCE(SUM(CASE WHEN {ZERO_DATE.format(col=quote_ident(c, 'mysql'))} THEN 1 "
        f"ELSE 0 END), 0) AS {quote_ident(c, 'mysql')}"
        for c in cols
    ]
    return f"SELECT {', '.join(parts)} FROM {table_ref(table, 'mysql')}"


_CURRENT = re.compile(r"^(current_timestamp|now|localtimestamp|localtime)(\(\d*\))?$", re.I)
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_BITS = re.compile(r"^b'([01]*)'$", re.I)


def unquote(text: str) -> str | None:
    """The value of a quoted MySQL literal ('it''s', 'a\\'b'), or None if not a literal."""
    if len(text) < 2 or text[0] != "'" or text[-1] != "'":
        return None
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t", "r": "\r", "0": "\x00", "Z": "\x1a"}.get(nxt, nxt))
            i += 2
        elif ch == "'" and i + 1 < len(body) and body[i + 1] == "'":
            out.append("'")
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def translate_default(default: str | None, pg_type: str, column: Column) -> tuple[Any, str]:
    """(value, note): value is a ``("sql", text)`` keyword or ``("literal", python value)``,
    or None when the default is dropped (the note says why)."""
    if default is None:
        return None, ""
    text = default.strip()
    while text.startswith("(") and text.endswith(")"):  # MariaDB's expression defaults
        text = text[1:-1].strip()
    low = text.lower()
    if _CURRENT.match(low):
        fn = "LOCALTIMESTAMP" if pg_type.startswith("timestamp") and "tz" not in pg_type else (
            "CURRENT_TIMESTAMP")  # fmt: skip
        return ("sql", fn), ""
    if low in ("curdate()", "current_date", "current_date()"):
        return ("sql", "CURRENT_DATE"), ""
    if low == "null":
        return None, ""
    bits = _BITS.match(text)
    if bits:
        if pg_type == "boolean":
            return ("literal", int(bits.group(1) or "0", 2) != 0), ""
        return ("bits", bits.group(1).rjust(column.native.length or 1, "0")), ""
    value = unquote(text)
    if value is None and NUMBER.match(text):
        value = text
    if value is None:
        return _expression_default(text, pg_type)
    if column.native.name in ("date", "datetime", "timestamp") and re.match(
        r"^\d{4}-\d{2}-\d{2}", value
    ):
        y, m, d = value[:4], value[5:7], value[8:10]
        if y == "0000" or m == "00" or d == "00":
            return None, f"zero-date default {text} dropped"
    if pg_type == "boolean":
        return ("literal", value not in ("0", "")), ""
    if pg_type == "text[]":
        return ("array", [] if value == "" else value.split(",")), ""
    return ("literal", value), ""


def _expression_default(text: str, pg_type: str) -> tuple[Any, str]:
    """A default that is an expression (MariaDB 10.2+, MySQL 8: ``(uuid())``, ``(1 + 2)``):
    uuid() as PostgreSQL's gen_random_uuid(), and expressions of literals, operators and
    common value functions that PostgreSQL takes as they are; others dropped, with why."""
    from workbench.errors import InvalidInputError, UnsupportedError
    from workbench.schema.sqlexpr import generated_expression

    if text.lower() in ("uuid()", "uuid_v4()"):
        fn = "gen_random_uuid()" if pg_type == "uuid" else "gen_random_uuid()::text"
        return ("sql", fn), ""
    try:
        rendered = generated_expression(text, "mysql", {}, {})
    except (UnsupportedError, InvalidInputError) as exc:
        why = str(exc).split("refused: ", 1)[-1]
        return None, f"default ({text}) is not translated ({why}); dropped"
    return ("sql", f"({rendered})"), ""


def refine(column: Column, plain: ReadRefinement, options: TypeOptions) -> ReadRefinement:
    """MySQL's own values: zero dates read as NULL and counted; the ENUM error value ''
    turned into NULL (counted), kept and allowed, or refused into quarantine."""
    col_q = quote_ident(column.name, "mysql")
    got = plain
    if plain.read == ZERO_DATE_READ.format(col=col_q):
        got = replace(got, nulled_when=ZERO_DATE.format(col=col_q), nulled_what="zero dates")
    if column.native.name != "enum":
        return got
    if options.enum_invalid == "null":
        return replace(
            got,
            read=ENUM_READ.format(col=col_q),
            nulled_when=ENUM_INVALID.format(col=col_q),
            nulled_what="invalid ENUM values ('')",
            notes=(
                *got.notes,
                "the ENUM error value '' (an invalid value stored) -> NULL, counted",
            ),
        )
    if options.enum_invalid == "keep" and got.enum_values and "" not in got.enum_values:
        return replace(
            got,
            enum_values=(*got.enum_values, ""),
            notes=(*got.notes, "the ENUM error value '' is kept and allowed"),
        )
    if options.enum_invalid == "quarantine":
        shown = re.sub(r"['\\]", "", column.name)  # becomes a SQL string literal: no quotes
        return replace(
            got,
            rejected_when=ENUM_INVALID.format(col=col_q),
            rejected_why=f"column {shown}: the ENUM error value (an invalid value stored)",
            notes=(*got.notes, "the ENUM error value '' is refused: its rows go to quarantine"),
        )
    return got


TYPE_MAP = TypeMap(RULES, schemas_are_namespaces=True, refine=refine)
