"""MySQL / MariaDB rows rendered as PostgreSQL COPY text by the server itself.

The server already turns every value into text to send it (the text protocol); asked for one
``CONCAT`` per row instead, it sends each row as one COPY line, which the workbench hands
to the target's COPY without parsing it: no per-value decoding into Arrow, no rendering back
to text (TPC-H lineitem: the client's CPU per million rows 1.03 s -> 0.35 s to read, plus the
rendering it no longer does).

Only columns whose MySQL text the target column reads back as the value the general path
would load go so (integers, DECIMAL, dates and times of day as dates and timestamps, text of
any character set, ENUM, JSON, UUID, INET); anything else keeps the whole table on the
general path. Literals are hex (``X'09'``): nothing depends on ``sql_mode``'s backslash
handling.

What the server does per value is most of the cost (TPC-H lineitem's 6 million lines: 13.7
CPU-s with a CAST, a NULL test and four REPLACEs on every value, 7.3 s now, 6.0 s for a bare
CONCAT of the columns), so each is paid only where needed: text is CAST to bytes only where
the line mixes collations (CONCAT refuses some mixes), digits and dates never; a NOT NULL
column read as stored has no NULL test; and a row whose text holds nothing to escape (one
regex over it: nearly every row) skips the escapes.

A line is one ``CONCAT``: a value that cannot be rendered (longer, escaped, than the server's
``max_allowed_packet``) makes the whole line NULL, never a field ``\\N``; the reader then
hands the partition to the general path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from workbench.connectors.base import TextField
from workbench.connectors.sqltext import quote_ident
from workbench.schema.model import Column
from workbench.schema.types.mysql import ZERO_DATE_READ

_TAB, _NEWLINE, _NULL = "X'09'", "X'0A'", "X'5C4E'"  # a tab, a newline, \N
# backslash first: the escapes the others add must not be escaped again
_ESCAPES = (("X'5C'", "X'5C5C'"), ("X'09'", "X'5C74'"), ("X'0A'", "X'5C6E'"), ("X'0D'", "X'5C72'"))
# the same as PCRE patterns and replacements: \\ \t \n \r (escapes, not the characters: a
# server whose default_regex_flags ignore whitespace in patterns reads them the same)
_REGEX_ESCAPES = (
    ("X'5C5C'", "X'5C5C5C5C'"),
    ("X'5C74'", "X'5C5C74'"),
    ("X'5C6E'", "X'5C5C6E'"),
    ("X'5C72'", "X'5C5C72'"),
)
# MariaDB's REPLACE moves the rest of the value at every match: quadratic in a value's
# matches (200,000 backslashes took 22 s, 8.5 million hours, and KILL QUERY does not stop
# it). REGEXP_REPLACE on bytes builds its result in one pass (2 million: 0.23 s) but costs more per
# call: values up to this many bytes take REPLACE (TPC-H lineitem: the check costs nothing
# measurable), longer ones the regex.
_SHORT_BYTES = 256
# the PCRE class [\\\t\n\r]: a row's text holds something to escape
_SPECIALS = "X'5B5C5C5C745C6E5C725D'"

_INTEGERS = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint"})
_TEXTS = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum"})
_PG_INTEGERS = frozenset({"smallint", "integer", "bigint", "numeric", "int2", "int4", "int8"})
_PG_TEXTS = frozenset({"text", "varchar", "character varying", "char", "character", "bpchar"})
# source type -> the target types its text goes into as the general path would load it
_TARGETS: dict[str, frozenset[str]] = {
    **dict.fromkeys(_INTEGERS, _PG_INTEGERS),
    "decimal": frozenset({"numeric", "decimal"}),
    "numeric": frozenset({"numeric", "decimal"}),
    "year": frozenset({"smallint", "integer"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"timestamp", "timestamp without time zone"}),
    "timestamp": frozenset({"timestamptz", "timestamp with time zone"}),  # read in UTC
    **dict.fromkeys(_TEXTS, _PG_TEXTS),
    "json": frozenset({"json", "jsonb"}),
    "uuid": frozenset({"uuid"}),
    "inet6": frozenset({"inet"}),
    "inet4": frozenset({"inet"}),
}
_ESCAPED = _TEXTS | {"json"}
_UNCAST = _INTEGERS | {"decimal", "numeric", "year", "date", "datetime", "timestamp"}


def _bare_type(pg_type: str) -> str:
    """``timestamp(6) with time zone`` -> ``timestamp with time zone``; ``numeric(15,2)`` ->
    ``numeric``."""
    return re.sub(r"\s+", " ", re.sub(r"\(.*?\)", "", pg_type.strip().lower())).strip()


class _Field(NamedTuple):
    plain: str  # the field's text as stored (\\N for NULL)
    escaped: str | None = None  # with COPY's escapes, for text that may need them
    value: str | None = None  # the bytes the escapes apply to


def _field(column: Column, field: TextField, as_bytes: bool) -> _Field | None:
    """The field's COPY text as MySQL expressions, or None when this column's text cannot
    stand for its value in the target column. ``as_bytes``: text goes through ``CAST(... AS
    BINARY)`` (the line mixes collations)."""
    native = column.native
    allowed = _TARGETS.get(native.name)
    if allowed is None or (column.charset or "").lower() == "binary":
        return None
    target = _bare_type(field.pg_type)
    if native.name == "enum":
        pass  # into text or its own enum type: PostgreSQL reads the label either way
    elif native.name == "tinyint" and native.length == 1 and target == "boolean":
        pass  # 0 and 1 read as false and true; any other value is refused (general path)
    elif target not in allowed:
        return None
    stored = _guarded_date(column, field) or not field.expression
    raw = quote_ident(column.name, "mysql") if stored else str(field.expression)

    def or_null(text: str) -> str:
        # a NOT NULL column read as stored holds no NULL (were it to, the line would be
        # NULL: the general path); the NULL test is on the value read, never on its
        # rendering (a rendering too long for the server is NULL too, and must not be \N)
        return text if stored and not column.nullable else f"IF({raw} IS NULL, {_NULL}, {text})"

    if native.name in _UNCAST and stored:
        # digits and dates need no CAST: CONCAT renders them as text (TPC-H lineitem: 1 of
        # MariaDB's 14 CPU-s)
        return _Field(or_null(raw))
    text = f"CONVERT({raw} USING utf8mb4)" if _converted(column) else raw
    binary = f"CAST({text} AS BINARY)"
    if native.name not in _ESCAPED:
        return _Field(or_null(binary))  # UUIDs, addresses: nothing to escape
    value = binary if as_bytes else text
    short = value
    for special, escaped in _ESCAPES:
        short = f"REPLACE({short}, {special}, {escaped})"
    # as bytes: on UTF-8 text MariaDB's REGEXP_REPLACE is quadratic too (40,000 matches 0.5 s)
    long = binary
    for pattern, escaped in _REGEX_ESCAPES:
        long = f"REGEXP_REPLACE({long}, {pattern}, {escaped})"
    return _Field(
        or_null(value),
        or_null(f"IF(LENGTH({value}) <= {_SHORT_BYTES}, {short}, {long})"),
        value,
    )


def _converted(column: Column) -> bool:
    """Text in latin1, ucs2, ...: read as UTF-8 bytes."""
    charset = (column.charset or "").lower()
    return (
        column.native.name in _ESCAPED
        and bool(charset)
        and not charset.startswith(("utf8", "ascii"))
    )


def _mixes_collations(columns: Sequence[Column], fields: Sequence[TextField]) -> bool:
    """Whether the line's text fields differ in collation: CONCAT refuses some mixes ("illegal
    mix of collations"); as bytes (CAST) they all go (TPC-H: one collation, no CAST)."""
    kinds = set()
    for column, field in zip(columns, fields, strict=True):
        if column.native.name not in _ESCAPED:
            continue
        if field.expression:
            kinds.add(f"expression {field.target}")  # its collation is the expression's
        elif _converted(column):
            kinds.add("converted")
        else:
            kinds.add(column.collation or f"{column.charset} default")
    return len(kinds) > 1


def _guarded_date(column: Column, field: TextField) -> bool:
    """A date read through the type map's zero-date guard goes as the stored text instead: a
    zero date ('0000-00-00', '2024-00-10', year 0) is no date to PostgreSQL, so its COPY
    fails and the partition is redone on the general path, which makes it NULL and counts it.
    The rows that pass hold none: no guard to evaluate and nothing to count per row (TPC-H
    lineitem's three dates: 0.15 of MariaDB's 1.7 CPU-s per million rows)."""
    guard = ZERO_DATE_READ.format(col=quote_ident(column.name, "mysql"))
    return column.native.name in ("date", "datetime", "timestamp") and field.expression == guard


def line_select(columns: Sequence[Column], fields: Sequence[TextField]) -> str | None:
    """The SELECT list of one COPY line per row (``wb_line``), then one 0/1 column per field
    with a ``nulled_when`` (``wb_nulled_<i>``); None when a field cannot go as text.

    A row whose text holds no tab, newline, carriage return or backslash (one regex over its
    text fields; nearly every row) goes without the escapes; the others, and a row the check
    cannot tell (NULL), are escaped (see the module's note on cost)."""
    rendered = []
    as_bytes = _mixes_collations(columns, fields)
    for column, field in zip(columns, fields, strict=True):
        sql = _field(column, field, as_bytes)
        if sql is None:
            return None
        rendered.append(sql)

    def line(parts: Sequence[str]) -> str:
        # CONCAT, not CONCAT_WS (which skips a NULL): a field that could not be rendered
        # makes the line NULL, and the reader sees it
        return f"CONCAT({f', {_TAB}, '.join(parts)}, {_NEWLINE})"

    plain = line([f.plain for f in rendered])
    texts = [f.value for f in rendered if f.value is not None]
    if texts:
        escaped = line([f.escaped or f.plain for f in rendered])
        check = f"CONCAT_WS(X'', {', '.join(texts)}) REGEXP {_SPECIALS}"
        plain = f"IF(({check}) = 0, {plain}, {escaped})"
    counters = [
        f"CASE WHEN {f.nulled_when} THEN 1 ELSE 0 END AS wb_nulled_{i}"
        for i, (c, f) in enumerate(zip(columns, fields, strict=True))
        if counted(c, f)
    ]
    return ", ".join([f"{plain} AS wb_line", *counters])


def counted(column: Column, field: TextField) -> bool:
    """Whether the read counts the field's values made NULL (a 0/1 column per row)."""
    return bool(field.nulled_when) and not _guarded_date(column, field)
