"""The connector contract: every kind of source behaves the same way through the same steps.

One small table (a key, text with unicode, quotes and braces, an integer, a decimal, a date, a
timestamp, a boolean, a row of NULLs) is built in PostgreSQL, MariaDB, SQLite, DuckDB, a CSV
folder and a Parquet folder. Each kind must then: connect, fail with a typed error naming a
bad location, introspect the table, read a partition, checksum it inside the database,
profile it, and copy into PostgreSQL with the default validation, cell for cell.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pytest
from sqlalchemy.engine import make_url

from workbench.connectors import connect
from workbench.connectors.base import Partition
from workbench.connectors.checksums import (
    APPROXIMATE,
    ChecksumColumn,
    category_of,
    checksum_partition,
    checksum_partitions,
    hash60,
    row_digest,
)
from workbench.connectors.sqltext import quote_ident
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import WorkbenchError
from workbench.profiling import profile_table
from workbench.schema.types import plan_table

KINDS = ["postgresql", "mysql", "sqlite", "duckdb", "csv", "parquet"]
COLUMNS = ("id", "name", "qty", "amount", "day", "at", "flag")
ROWS: list[tuple[Any, ...]] = [
    (
        1,
        "plain",
        42,
        Decimal("12.34"),
        dt.date(2024, 1, 2),
        dt.datetime(2024, 1, 2, 3, 4, 5, 678901),
        True,
    ),
    (
        2,
        'Grüße 😀 "quoted" it\'s, {a,b} back\\slash',
        -7,
        Decimal("-0.05"),
        dt.date(1999, 12, 31),
        dt.datetime(1999, 12, 31, 23, 59, 59),
        False,
    ),
    (3, None, None, None, None, None, None),
    (
        4,
        "NULL",
        2147483647,
        Decimal("99999999.99"),
        dt.date(1, 1, 1),
        dt.datetime(2000, 2, 29, 12, 0, 0, 500000),
        True,
    ),
]
FILE_KINDS = ("csv", "parquet")
TABLE = "items"


# --- one source per kind ---------------------------------------------------------------------


def _build_postgresql(pg_server, folder: Path) -> str:
    url = pg_server.url(pg_server.create_database("wbcontract"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE items (id integer PRIMARY KEY, name text, qty integer,"
            " amount numeric(10,2), day date, at timestamp, flag boolean)"
        )
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO items VALUES (%s, %s, %s, %s, %s, %s, %s)", ROWS)
    return url


def _build_mysql(mysql_server, folder: Path) -> str:
    db = mysql_server.create_database("wbcontract")
    with mysql_server.connect(db) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(100), qty INT,"
            " amount DECIMAL(10,2), day DATE, at DATETIME(6), flag BOOLEAN)"
        )
        cur.executemany("INSERT INTO items VALUES (%s, %s, %s, %s, %s, %s, %s)", ROWS)
    return mysql_server.url(db)


def _build_sqlite(folder: Path) -> str:
    path = folder / "contract.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER,"
            " amount NUMERIC(10,2), day DATE, at DATETIME, flag BOOLEAN)"
        )
        conn.executemany(
            "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i,
                    n,
                    q,
                    None if a is None else float(a),
                    None if d is None else d.isoformat(),
                    None if t is None else t.isoformat(sep=" "),
                    None if f is None else int(f),
                )
                for i, n, q, a, d, t, f in ROWS
            ],
        )
        conn.commit()
    return f"sqlite:///{path}"


def _build_duckdb(folder: Path) -> str:
    import duckdb

    path = folder / "contract.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR, qty INTEGER,"
            ' amount DECIMAL(10,2), day DATE, "at" TIMESTAMP, flag BOOLEAN)'
        )
        conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)", ROWS)
    return f"duckdb:///{path}"


def _build_csv(folder: Path) -> str:
    folder = folder / "csv"
    folder.mkdir()
    with open(folder / f"{TABLE}.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for row in ROWS:
            writer.writerow(["" if v is None else _csv_text(v) for v in row])
    return f"csv://{folder}"


def _csv_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


def _build_parquet(folder: Path) -> str:
    import pyarrow.parquet as pq

    folder = folder / "parquet"
    folder.mkdir()
    types = [
        pa.int32(),
        pa.string(),
        pa.int32(),
        pa.decimal128(10, 2),
        pa.date32(),
        pa.timestamp("us"),
        pa.bool_(),
    ]
    columns = list(zip(*ROWS, strict=True))
    table = pa.table(
        [pa.array(list(c), type=t) for c, t in zip(columns, types, strict=True)],
        names=list(COLUMNS),
    )
    pq.write_table(table, folder / f"{TABLE}.parquet")
    return f"parquet://{folder}"


@pytest.fixture(scope="module", params=KINDS)
def source(request, pg_server, mysql_server, tmp_path_factory):
    """(kind, URL) of the contract table in one kind of source."""
    kind = request.param
    folder = tmp_path_factory.mktemp(f"contract_{kind}")
    if kind == "postgresql":
        url = _build_postgresql(pg_server, folder)
    elif kind == "mysql":
        url = _build_mysql(mysql_server, folder)
    else:
        url = globals()[f"_build_{kind}"](folder)
    yield kind, url
    if kind == "postgresql":
        pg_server.drop_database(make_url(url).database)
    elif kind == "mysql":
        mysql_server.drop_database(make_url(url).database)


def _table(url: str):
    connector = connect(url)
    schema = connector.introspect()
    return connector, next(t for t in schema.tables if t.name == TABLE)


# --- what every kind must do -----------------------------------------------------------------


def test_connects(source):
    _, url = source
    result = connect(url).test()
    assert result.ok and result.server_version and result.latency_ms >= 0


def _bad_locations(kind: str, pg_server, mysql_server, folder: Path) -> list[tuple[str, str]]:
    """(URL, the location its error must name): missing, and of the wrong kind where a file."""
    missing = "wb_contract_no_such_db"
    if kind == "postgresql":
        return [(pg_server.url(missing), missing)]
    if kind == "mysql":
        return [(mysql_server.url(missing), missing)]
    text_file = folder / "not_a_database.txt"
    text_file.write_text("just text, no database\n")
    if kind in FILE_KINDS:
        return [
            (f"{kind}://{folder / 'no_such_folder'}", str(folder / "no_such_folder")),
            (f"{kind}://{text_file}", str(text_file)),
        ]
    suffix = {"sqlite": "sqlite", "duckdb": "duckdb"}[kind]
    return [
        (f"{kind}:///{folder / f'no_such.{suffix}'}", str(folder / f"no_such.{suffix}")),
        (f"{kind}:///{text_file}", str(text_file)),
    ]


def test_bad_location_is_a_typed_error_naming_it(source, pg_server, mysql_server, tmp_path):
    kind, _ = source
    for url, location in _bad_locations(kind, pg_server, mysql_server, tmp_path):
        with pytest.raises(WorkbenchError) as info:
            connector = connect(url)
            connector.test()
            connector.introspect()  # a file of the wrong kind may only fail when read
        assert location in str(info.value), (url, str(info.value))


def test_introspects_tables_columns_and_key(source):
    kind, url = source
    connector, table = _table(url)
    assert table.column_names == COLUMNS
    # files carry no constraints: no key, every column nullable
    assert table.primary_key == (() if kind in FILE_KINDS else ("id",))
    nullable = {c.name: c.nullable for c in table.columns}
    assert all(nullable[c] for c in COLUMNS[1:])
    planned = {
        c.source: c.pg_type for c in plan_table(table, connector.capabilities.dialect).columns
    }
    assert planned["name"] in ("text", "varchar(100)")
    assert planned["day"] == "date" and planned["flag"] == "boolean"
    assert planned["at"].startswith("timestamp")
    # every kind keeps the decimal (a CSV's as wide as its values: csv_types)
    assert planned["amount"] == "numeric(10,2)"
    connector.close()


def _same(expected: Any, actual: Any) -> bool:
    """A cell as the source holds it vs as it came back (typed, or as PostgreSQL input text)."""
    if expected is None or actual is None:
        return expected is actual
    if isinstance(expected, bool):
        return actual in (expected, int(expected), "t" if expected else "f", str(int(expected)))
    if isinstance(expected, Decimal):
        return Decimal(str(actual)) == expected
    if isinstance(expected, dt.datetime):
        if isinstance(actual, str):
            actual = dt.datetime.fromisoformat(actual)
        return actual == expected
    if isinstance(expected, dt.date):
        return actual == expected or actual == expected.isoformat()
    if isinstance(expected, int):
        return int(actual) == expected
    return actual == expected


def _assert_rows(rows: list[tuple], kind: str) -> None:
    assert len(rows) == len(ROWS)
    for want, got in zip(ROWS, sorted(rows, key=lambda r: int(r[0])), strict=True):
        for name, w, g in zip(COLUMNS, want, got, strict=True):
            assert _same(w, g), (kind, name, w, g)


def test_reads_a_partition(source):
    kind, url = source
    connector, table = _table(url)
    plan = plan_table(table, connector.capabilities.dialect)
    batches = list(
        connector.read_partition(
            table, Partition(table.name, table.schema, 0), expressions=plan.read_expressions
        )
    )
    data = pa.Table.from_batches(batches)
    assert data.column_names == list(COLUMNS)
    _assert_rows([tuple(r.values()) for r in data.to_pylist()], kind)
    if table.primary_key:  # a keyed partition reads only its range
        part = Partition(table.name, table.schema, 1, ("id",), (2,), (4,))
        ids = pa.Table.from_batches(list(connector.read_partition(table, part))).column("id")
        assert sorted(ids.to_pylist()) == [2, 3]
    connector.close()


def _canonical_row(kind: str, row: tuple, approximate: set[str]) -> str:
    """The canonical text of a row as each kind renders it (see connectors.checksums)."""
    texts = []
    for name, value in zip(COLUMNS, row, strict=True):
        if name in approximate:
            continue
        if value is None:
            texts.append("\x1e")
        elif isinstance(value, bool):
            texts.append(
                ("true" if value else "false") if kind == "postgresql" else "tf"[not value]
            )
        elif isinstance(value, dt.datetime):
            if kind == "postgresql":  # PostgreSQL -> PostgreSQL compares ::text
                text = str(value)
                texts.append(text.rstrip("0") if "." in text else text)
            else:
                texts.append(value.strftime("%Y-%m-%d %H:%M:%S.%f"))
        elif isinstance(value, dt.date):
            texts.append(f"{value.year:04d}-{value.month:02d}-{value.day:02d}")
        else:
            texts.append(str(value))
    return "\x1f".join(texts)


def test_checksums_a_partition_inside_the_database(source):
    kind, url = source
    connector, table = _table(url)
    dialect = connector.capabilities.dialect
    plan = plan_table(table, dialect)
    columns, pg_types = [], {}
    for cp in plan.columns:
        native = (table.column(cp.source).native.raw or "").lower()
        category = category_of(cp.pg_type, native, dialect)
        expression = cp.read_expression or quote_ident(cp.source, dialect)
        columns.append(ChecksumColumn(cp.source, expression, category))
        pg_types[cp.source] = cp.pg_type
    approximate = {c.name for c in columns if c.category == APPROXIMATE}
    assert approximate == set()  # a CSV's decimals too: read exactly (csv_types)
    whole = Partition(table.name, table.schema, 0)
    result = checksum_partition(connector, table, whole, columns, dialect, pg_types)
    assert result.rows == len(ROWS)
    digest = row_digest(dialect)  # SHA-224 for MariaDB, MD5 elsewhere
    assert result.checksum == sum(
        hash60(_canonical_row(kind, r, approximate), digest) for r in ROWS
    )
    if approximate:
        count, total, magnitude = result.approximate["amount"]
        amounts = [float(r[3]) for r in ROWS if r[3] is not None]
        assert count == len(amounts) and total == pytest.approx(sum(amounts))
        assert magnitude == max(abs(a) for a in amounts)
    if table.primary_key:
        part = Partition(table.name, table.schema, 1, ("id",), (2,), (4,))
        two = checksum_partition(connector, table, part, columns, dialect, pg_types)
        assert two.rows == 2
        assert two.checksum == sum(
            hash60(_canonical_row(kind, r, approximate), digest) for r in ROWS[1:3]
        )
        # contiguous ranges in one scan (one of them empty): each as its own range query says
        bounds = [None, (2,), (4,), (4,), None]
        ranges = [
            Partition(table.name, table.schema, i, ("id",), bounds[i], bounds[i + 1])
            for i in range(4)
        ]
        one_scan = checksum_partitions(connector, table, ranges, columns, dialect, pg_types)
        each = [checksum_partition(connector, table, p, columns, dialect, pg_types) for p in ranges]
        assert [(c.rows, c.checksum, c.approximate) for c in one_scan] == [
            (c.rows, c.checksum, c.approximate) for c in each
        ]
        assert [c.rows for c in one_scan] == [1, 2, 0, len(ROWS) - 3]
    connector.close()


def test_profiles(source):
    kind, url = source
    connector, table = _table(url)
    profile = profile_table(connector, table)
    assert profile.rows == len(ROWS)
    assert [c.name for c in profile.columns] == list(COLUMNS)
    by_name = {c.name: c for c in profile.columns}
    assert by_name["id"].nulls == 0 and by_name["id"].distinct == len(ROWS)
    assert all(by_name[c].nulls == 1 for c in COLUMNS[1:]), {c: by_name[c].nulls for c in COLUMNS}
    assert by_name["id"].is_key == (kind not in FILE_KINDS)
    connector.close()


def test_copies_into_postgresql_validated_cell_by_cell(source, target_url, store):
    kind, url = source
    result = copy_database(url, target_url, CopyOptions(workers=1), store=store)
    assert result.status == "succeeded" and result.validated, result.validation
    assert result.rows_copied == len(ROWS) and result.rows_quarantined == 0
    with psycopg.connect(target_url) as conn:
        (schema,) = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = %s"
            " AND table_schema NOT IN ('pg_catalog', 'information_schema', '_workbench')",
            (TABLE,),
        ).fetchone()
        names = ", ".join(f'"{c}"' for c in COLUMNS)
        rows = conn.execute(f'SELECT {names} FROM "{schema}"."{TABLE}" ORDER BY id').fetchall()
    _assert_rows(rows, kind)
