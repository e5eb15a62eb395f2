"""SQLite connector (the standard library's sqlite3; partitions through connectorx where it
reads them exactly, see ``sqlite_arrow``), read-only.

Introspection is in ``sqlite_catalog``. Value contract of
:meth:`SQLiteConnector.read_partition`: columns of INTEGER affinity as int64, booleans (1/0 or
the words PostgreSQL takes, through the type map's read expression) as 1/0, REAL
as float64, TEXT as strings, BLOB as binary; numeric/decimal, dates/times and untyped columns
as text (``CAST(col AS TEXT)``: exact, PostgreSQL input). A value whose storage class does
not fit (text in an INTEGER column) raises :class:`InvalidSourceValueError`; count them first
with :meth:`SQLiteConnector.count_type_mismatches`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from workbench.connectors import splitting
from workbench.connectors.arrowbatch import batches_from_cursor
from workbench.connectors.base import (
    Capabilities,
    ConnectionTest,
    Connector,
    Partition,
    TextChunk,
    TextField,
)
from workbench.connectors.checksums import Hash60Sum, numeric_scale
from workbench.connectors.dialect import ChecksumSql, ProfileSql, SqlDialect
from workbench.connectors.sqlite_arrow import bound, can_read, inline, read_exactly, read_lines
from workbench.connectors.sqlite_catalog import introspect
from workbench.connectors.sqlite_catalog import native_type as native_type  # re-exported
from workbench.connectors.sqlite_hash import CALL, hash_sum, split_hash
from workbench.connectors.sqlite_text import ColumnRead, line_pieces, line_select, needs_escapes
from workbench.connectors.sqltext import (
    partition_predicate,
    quote_ident,
    select_list,
    table_ref,
    where,
)
from workbench.errors import DatabaseMissingError, SourceQueryError
from workbench.schema.model import DatabaseSchema, NativeType, Table
from workbench.schema.types.sqlite import affinity, mismatch_count_sql
from workbench.urls import mask_url, parse_url

TEXT_TYPES = ("date", "datetime", "timestamp", "time", "decimal", "numeric")


def arrow_type(native: NativeType) -> tuple[pa.DataType, bool]:
    """(Arrow type, read as CAST(col AS TEXT))."""
    if native.name in ("boolean", "bool"):
        return pa.int64(), False
    if native.name in TEXT_TYPES or not native.raw.strip():
        return pa.string(), True
    return {
        "INTEGER": (pa.int64(), False),
        "REAL": (pa.float64(), False),
        "TEXT": (pa.string(), False),
        "BLOB": (pa.binary(), False),
        "NUMERIC": (pa.string(), True),
    }[affinity(native.raw)]


# --- the SQL pushed down to SQLite (profiling, sampling, fingerprints, checksums) -------------

# Times are ISO text, which the copy reads as text: rendered from the text itself where it is
# ISO (strftime rounds to milliseconds: 23:59:59.9999 became the next day, and
# 9999-12-31 23:59:59.9999 NULL), the fraction as its own digits, six of them
_MICROS = (
    "substr(CASE WHEN instr({e}, '.') > 0 THEN substr({e}, instr({e}, '.') + 1) ELSE '' END"
    " || '000000', 1, 6)"
)
_SECONDS = (
    "CASE WHEN {e} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][ T][0-9][0-9]:[0-9][0-9]:"
    "[0-9][0-9]*' THEN replace(substr({e}, 1, 19), 'T', ' ')"
    " ELSE strftime('%Y-%m-%d %H:%M:%S', {e}) END"
)
_TIME_US = (
    "CAST(CASE WHEN {e} GLOB '[0-9][0-9]:[0-9][0-9]*' THEN CAST(substr({e}, 1, 2) AS INTEGER)"
    " * 3600 + CAST(substr({e}, 4, 2) AS INTEGER) * 60 + CAST(substr({e}, 7, 2) AS INTEGER)"
    " ELSE CAST(strftime('%s', '1970-01-01 ' || {e}) AS INTEGER) END * 1000000"
    " + CAST(" + _MICROS + " AS INTEGER) AS TEXT)"
)


def _row_text(parts: Sequence[tuple[str, bool]]) -> str:
    return " || char(31) || ".join(f"coalesce({p}, char(30))" for p, _ in parts)


def _decimal_text(expr: str, scale: int) -> str:
    """A decimal (SQLite keeps it as a double) as PostgreSQL's numeric(p, ``scale``) prints it:
    ``printf`` with the target's scale, except that printf keeps the sign of a negative value
    rounding to zero ('-0.00') where PostgreSQL has no negative zero.

    Left as it is: a double at a tie of the scale (2.675 at two decimals) is rounded by
    printf as the double (SQLite 3.43 and newer: 2.67) and by PostgreSQL from the text the
    copy loaded ('2.675' -> 2.68). Rounding such values digit by digit from their text made a
    validated TPC-H SF1 from SQLite take 86-90 s instead of 53-61 s (measured; not shipped)."""
    zero = "0." + "0" * scale if scale else "0"
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL"
        f" WHEN {expr} < 0 AND {expr} * {10**scale} > -0.5 THEN '{zero}'"
        f" ELSE printf('%.{scale}f', {expr}) END"
    )


def _special(category: str, expr: str, pg_type: str, is_utf8: bool) -> str | None:
    scale = numeric_scale(pg_type) if category == "numeric" else None
    if scale is not None:  # decimals are kept as REAL: rendered with the target's scale
        return _decimal_text(expr, scale)
    return None


DIALECT = SqlDialect(
    name="sqlite",
    placeholder="?",
    profile=ProfileSql(
        text_length="length({})",
        byte_length="length(CAST({} AS BLOB))",
        as_float="CAST({} AS REAL)",
        as_text="CAST({} AS TEXT)",
        stddev=None,
        json_as_text=False,  # JSON is text already
    ),
    checksum=ChecksumSql(
        canonical={
            "int": "CAST(CAST({e} AS INTEGER) AS TEXT)",
            "numeric": "CAST({e} AS TEXT)",
            "text": "CAST({e} AS TEXT)",
            "set": "CAST({e} AS TEXT)",
            "bool": "CASE WHEN {e} IS NULL THEN NULL WHEN {e} THEN 't' ELSE 'f' END",
            "date": "strftime('%Y-%m-%d', {e})",
            "timestamp": _SECONDS + " || '.' || " + _MICROS,
            "timestamptz": _SECONDS + " || '.' || " + _MICROS,
            "interval": _TIME_US,  # time of day
            "bytea": "CASE WHEN {e} IS NULL THEN NULL ELSE hex({e}) END",  # hex(NULL) is ''
            "bit": "CAST({e} AS TEXT)",
        },
        row_text=_row_text,
        hash_sum="wb_hash60_sum({hex})",  # an aggregate the connector registers (Hash60Sum)
        digests={"md5": "{row}"},  # the aggregate hashes the text itself
        double="CAST({e} AS REAL)",
        special=_special,
        typed_values=False,  # any value in any column: the target renders every category
    ),
)


class SQLiteConnector(Connector):
    @classmethod
    def local_path(cls, url: str) -> Path | None:
        return Path(parse_url(url).database or "").absolute()

    kind = "sqlite"
    capabilities = Capabilities(dialect="sqlite")
    dialect = DIALECT

    def __init__(
        self, url: str, *, connect_timeout: float = 10.0, options: dict[str, Any] | None = None
    ):
        super().__init__(url, connect_timeout=connect_timeout, options=options)
        self.path = parse_url(url).database or ""
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:" and not Path(self.path).is_file():
            raise DatabaseMissingError(
                f"Cannot open {mask_url(self.url)}: no SQLite file at {self.path}; check the "
                "path (sqlite:////absolute/path.db or sqlite:///relative.db)",
                url=mask_url(self.url),
            )
        uri = (
            f"file:{Path(self.path).resolve().as_posix()}?mode=ro"
            if self.path != ":memory:"
            else ":memory:"
        )
        conn = sqlite3.connect(uri, uri=True, timeout=self.connect_timeout, check_same_thread=False)
        conn.create_aggregate(  # content checksums
            "wb_hash60_sum",
            1,
            Hash60Sum,  # type: ignore[arg-type]  # typeshed allows only int -> int aggregates
        )
        try:
            conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise DatabaseMissingError(
                f"Cannot open {mask_url(self.url)}: {exc}; the file is not a SQLite database",
                url=mask_url(self.url),
            ) from exc
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if CALL in sql:  # a content checksum: hashed outside SQLite where it can be
            split = split_hash(sql)
            if split is not None:
                rest, position, row, tail = split
                total = hash_sum(self.path, row, tail, params)
                if total is not None:
                    (result,) = self.conn.execute(rest, [bound(p) for p in params]).fetchall()
                    # as the aggregate: NULL over no rows (a sum of 60-bit hashes is 0 only then)
                    value = str(total) if total else None
                    return [(*result[:position], value, *result[position + 1 :])]
        return self.conn.execute(sql, [bound(p) for p in params]).fetchall()

    def test(self) -> ConnectionTest:
        start = time.perf_counter()
        conn = self._connect()
        conn.close()
        latency = (time.perf_counter() - start) * 1000
        return ConnectionTest(
            True, f"SQLite {sqlite3.sqlite_version}", round(latency, 2), mask_url(self.url)
        )

    def introspect(
        self, schemas: Sequence[str] | None = None, tables: Sequence[str] | None = None
    ) -> DatabaseSchema:
        return introspect(self, schemas, tables)

    def count(self, table: Table, partition: Partition | None = None) -> int:
        pred, params = partition_predicate(partition, "sqlite", placeholder="?")
        return int(
            self.run(f"SELECT COUNT(*) FROM {table_ref(table, 'sqlite')}{where(pred)}", params)[0][
                0
            ]
        )

    def count_type_mismatches(self, table: Table, pg_types: Mapping[str, str]) -> dict[str, int]:
        """Per column, values whose storage class does not fit the planned PostgreSQL type."""
        sql = mismatch_count_sql(table, dict(pg_types))
        if sql is None:
            return {}
        cur = self.conn.execute(sql)
        row = cur.fetchone()
        return {d[0]: int(v) for d, v in zip(cur.description, row, strict=True)}

    def split_points(
        self, table: Table, key_columns: Sequence[str], parts: int
    ) -> list[tuple[Any, ...]]:
        first = table.column(key_columns[0]).native if key_columns else NativeType("")
        return splitting.split_points(
            lambda sql: self.run(sql),
            table,
            key_columns,
            parts,
            "sqlite",
            is_integer=affinity(first.raw) == "INTEGER",
            sample_from=lambda rows, wanted: self._rowid_sample(table, rows, wanted),
            sample_threshold=int(self.options.get("sample_threshold", splitting.SAMPLE_THRESHOLD)),
        )

    def _rowid_sample(self, table: Table, rows: int, wanted: int) -> str | None:
        """A FROM clause with about ``wanted`` rows drawn by rowid probes (B-tree lookups: a
        ROW_NUMBER pass over TPC-H lineitem's 6 M keys took 4.2 s, this 0.1 s). Every stored
        row is as likely to be drawn, whatever the gaps between rowids. None for a table
        without a rowid (WITHOUT ROWID, or every alias of it taken by a column)."""
        alias = self._rowid_alias(table)
        if alias is None:
            return None
        src = table_ref(table, "sqlite")
        lo, hi = self.run(splitting.min_max(alias, src))[0]
        if lo is None:
            return None
        span = int(hi) - int(lo) + 1
        probes = min(span, wanted * max(1, -(-span // max(rows, 1))), 20 * wanted)
        return (
            f"(SELECT * FROM {src} WHERE {alias} IN (WITH RECURSIVE wb_i(i) AS (SELECT 1 "
            f"UNION ALL SELECT i + 1 FROM wb_i WHERE i < {probes}) "
            f"SELECT {int(lo)} + abs(random() % {span}) FROM wb_i)) wb_sample"
        )

    def _line_select(self, table: Table, fields: Sequence[TextField], escape: bool) -> str | None:
        reads = [
            ColumnRead(table.column(f.source), *arrow_type(table.column(f.source).native))
            for f in fields
        ]
        return line_select(reads, fields, escape)

    def can_copy_text(self, table: Table, fields: Sequence[TextField]) -> bool:
        return can_read(self.path) and self._line_select(table, fields, True) is not None

    def read_copy_text(
        self, table: Table, partition: Partition, fields: Sequence[TextField], chunk_bytes: int
    ) -> Iterator[TextChunk]:
        """One COPY line per row, rendered by SQLite (see ``connectors.sqlite_text``) and
        passed on from connectorx's Arrow buffer without a copy. Lines are rendered without
        escapes; the few that need them (``needs_escapes``) are read again, escaped, by rowid."""
        plain, escaped = (self._line_select(table, fields, e) for e in (False, True))
        alias = self._rowid_alias(table)
        src = table_ref(table, "sqlite")
        pred, params = partition_predicate(partition, "sqlite", placeholder="?")
        if plain is None or escaped is None:
            raise SourceQueryError(f"{table.qualified_name} cannot be read as COPY text")
        first = f"{alias}, {plain}" if alias else escaped
        sql = inline(f"SELECT {first} AS wb_line FROM {src}{where(pred)}", params)
        if sql is None:
            raise SourceQueryError(f"{table.qualified_name} ({partition.label}): no literal bound")
        for batch in read_lines(self.path, sql).to_batches():
            lines = batch.column(batch.num_columns - 1)
            if alias is None:  # escaped as read
                yield from (TextChunk(d, n) for d, n in line_pieces(lines, chunk_bytes))
                continue
            flagged = needs_escapes(lines, len(fields))
            replacements: list[str] = []
            if flagged.any():  # read again escaped, spliced in place: the rows keep their order
                rowids = batch.column(0).filter(flagged).to_pylist()
                again = read_lines(
                    self.path,
                    f"SELECT {alias} AS wb_rowid, {escaped} AS wb_line FROM {src}"
                    f" WHERE {alias} IN ({', '.join(map(str, rowids))})",
                )
                by_rowid = dict(zip(*(again.column(i).to_pylist() for i in (0, 1)), strict=True))
                if len(by_rowid) != len(rowids):  # rows gone between the two reads
                    raise SourceQueryError(f"{table.qualified_name} changed while it was read")
                replacements = [by_rowid[r] for r in rowids]
            pieces = line_pieces(lines, chunk_bytes, flagged, replacements)
            yield from (TextChunk(data, rows) for data, rows in pieces)

    def _rowid_alias(self, table: Table) -> str | None:
        """A name of the table's rowid that no column takes; None for a WITHOUT ROWID table."""
        taken = {c.lower() for c in table.column_names}
        alias = next((a for a in ("rowid", "_rowid_", "oid") if a not in taken), None)
        if alias is None:
            return None
        try:
            self.run(f"SELECT {alias} FROM {table_ref(table, 'sqlite')} LIMIT 0")
        except sqlite3.OperationalError:  # no such column: a WITHOUT ROWID table
            return None
        return alias

    def reads_natively(self, table: Table) -> bool:
        """connectorx reads the file's partitions (a partition it refuses falls back to
        Python's sqlite3, a row at a time: rare, and only that partition)."""
        return self.path != ":memory:" and Path(self.path).is_file() and can_read(self.path)

    def read_partition(
        self,
        table: Table,
        partition: Partition,
        columns: Sequence[str] | None = None,
        batch_rows: int = 50_000,
        expressions: Mapping[str, str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        names = list(columns) if columns is not None else list(table.column_names)
        exprs = dict(expressions or {})
        fields = []
        for name in names:
            if name in exprs or name not in table.column_names:
                fields.append(pa.field(name, pa.string()))
                exprs[name] = f"CAST(({exprs[name]}) AS TEXT)" if name in exprs else name
                continue
            t, as_text = arrow_type(table.column(name).native)
            if as_text:
                exprs[name] = f"CAST({quote_ident(name, 'sqlite')} AS TEXT)"
            fields.append(pa.field(name, t))
        _, select = select_list(table, "sqlite", names, exprs)
        pred, params = partition_predicate(partition, "sqlite", placeholder="?")
        schema = pa.schema(fields)
        sql = f"SELECT {select} FROM {table_ref(table, 'sqlite')}{where(pred)}"
        inlined = inline(sql, params) if self.path != ":memory:" else None
        if inlined is not None and Path(self.path).is_file():
            whole = read_exactly(str(Path(self.path).resolve()), inlined, schema)
            if whole is not None:
                yield from whole.to_batches(max_chunksize=batch_rows)
                return
        conn = self._connect()  # own connection: reads may run beside introspection
        conn.text_factory = _lenient_text
        try:
            cur = conn.execute(sql, [bound(p) for p in params])
            yield from batches_from_cursor(
                cur, schema, batch_rows, f"{table.qualified_name} ({partition.label})"
            )
        finally:
            conn.close()


def _lenient_text(raw: bytes) -> str | bytes:
    """TEXT that is not valid UTF-8 stays bytes, so its row is rejected, not the batch."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
