"""SQLite (real Chinook and an edge-case file), DuckDB files and CSV/Parquet folders."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.connectors import connect
from workbench.connectors.base import REJECT_COLUMN, Partition
from workbench.schema.types import plan_table

CHINOOK = {
    "Album": ("AlbumId",),
    "Artist": ("ArtistId",),
    "Customer": ("CustomerId",),
    "Employee": ("EmployeeId",),
    "Genre": ("GenreId",),
    "Invoice": ("InvoiceId",),
    "InvoiceLine": ("InvoiceLineId",),
    "MediaType": ("MediaTypeId",),
    "Playlist": ("PlaylistId",),
    "PlaylistTrack": ("PlaylistId", "TrackId"),
    "Track": ("TrackId",),
}
CHINOOK_FKS = {
    ("Album", ("ArtistId",), "Artist"),
    ("Customer", ("SupportRepId",), "Employee"),
    ("Employee", ("ReportsTo",), "Employee"),
    ("Invoice", ("CustomerId",), "Customer"),
    ("InvoiceLine", ("InvoiceId",), "Invoice"),
    ("InvoiceLine", ("TrackId",), "Track"),
    ("PlaylistTrack", ("PlaylistId",), "Playlist"),
    ("PlaylistTrack", ("TrackId",), "Track"),
    ("Track", ("AlbumId",), "Album"),
    ("Track", ("GenreId",), "Genre"),
    ("Track", ("MediaTypeId",), "MediaType"),
}


def test_chinook_facts(chinook_sqlite):
    connector = connect(chinook_sqlite)
    assert connector.test().server_version.startswith("SQLite 3.")
    schema = connector.introspect()
    assert {t.name: t.primary_key for t in schema.base_tables} == CHINOOK
    fks = {(t.name, f.columns, f.ref_table) for t in schema.tables for f in t.foreign_keys}
    assert fks == CHINOOK_FKS
    track = schema.table("Track")
    assert track.row_estimate == 3503 and track.column("TrackId").is_identity
    assert track.column("UnitPrice").native.precision == 10
    assert track.column("Name").native.length == 200
    plan = plan_table(schema.table("Invoice"), "sqlite")
    assert plan.column("Total").pg_type == "numeric(10,2)"
    assert plan.column("InvoiceDate").pg_type == "timestamp"
    types = {c.source: c.pg_type for c in plan.columns}
    assert connector.count_type_mismatches(schema.table("Invoice"), types) == {
        "InvoiceId": 0,
        "CustomerId": 0,
        "InvoiceDate": 0,
        "Total": 0,
    }
    invoice = schema.table("Invoice")
    points = connector.split_points(invoice, ["InvoiceId"], 4)
    bounds = [None, *points, None]
    total = 0
    for i in range(4):
        part = Partition("Invoice", None, i, ("InvoiceId",), bounds[i], bounds[i + 1])
        rows = [
            r for b in connector.read_partition(invoice, part, batch_rows=40) for r in b.to_pylist()
        ]
        assert len(rows) == connector.count(invoice, part)
        total += len(rows)
    assert total == 412 and all(r["Total"].count(".") == 1 for r in rows)


def test_sqlite_edge_affinity_and_mismatches(sqlite_edge):
    connector = connect(sqlite_edge)
    schema = connector.introspect()
    t = schema.table("select")
    plan = plan_table(t, "sqlite")
    got = {c.source: c.pg_type for c in plan.columns}
    assert got == {
        "id": "bigint",
        "Größe": "varchar(10)",
        "flag": "boolean",
        "amount": "numeric(10,2)",
        "ratio": "double precision",
        "born": "date",
        "at": "timestamp",
        "anything": "text",
        "data": "bytea",
        "qty": "bigint",
        "label": "text",
    }
    assert plan.column("at").default == "LOCALTIMESTAMP"
    assert plan.column("label").default == "'it''s'" and plan.column("qty").default == "1"
    assert plan.column("id").is_identity
    assert connector.count_type_mismatches(t, got) == {
        "id": 0,
        "flag": 0,
        "amount": 1,
        "ratio": 0,
        "born": 0,
        "at": 0,
        "data": 1,
        "qty": 1,
    }
    # a value of the wrong storage class keeps its row: NULLed, the reason in REJECT_COLUMN
    whole = pa.Table.from_batches(connector.read_partition(t, Partition("select", None, 0)))
    reasons = [r for r in whole.column(REJECT_COLUMN).to_pylist() if r]
    assert reasons and all("'qty'" in r or "'data'" in r for r in reasons)
    ok = [c for c in t.column_names if c not in ("qty", "data")]
    rows = pa.Table.from_batches(connector.read_partition(t, Partition("select", None, 0), ok))
    r1, r2, _ = rows.to_pylist()
    assert r1["amount"] == "12.34" and r2["amount"] == "n/a" and r2["born"] == "0009-03-04"
    assert r1["Größe"] == "größe" and r2["anything"] == "42"
    child = schema.table("child")
    assert child.foreign_keys[0].ref_columns == ("id",)  # implicit parent key resolved
    assert child.uniques[0].columns == ("code",)


def test_duckdb_file(tmp_path):
    path = tmp_path / "db.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, d DECIMAL(18,3), l INTEGER[], h HUGEINT, "
            "e ENUM('x', 'y'), s STRUCT(a INTEGER), u UBIGINT, ts TIMESTAMPTZ)"
        )
        conn.execute(
            "INSERT INTO t VALUES (1, 1.5, [1, 2], 170141183460469231731687303715884105727, 'x', "
            "{'a': 1}, 18446744073709551615, '2024-01-02 03:04:05+00')"
        )
    connector = connect(f"duckdb:///{path}")
    schema = connector.introspect()
    t = schema.table("t")
    plan = plan_table(t, "duckdb")
    assert [c.pg_type for c in plan.columns] == [
        "integer",
        "numeric(18,3)",
        "integer[]",
        "numeric(39)",
        "text",
        "jsonb",
        "numeric(20)",
        "timestamptz",
    ]
    assert plan.column("e").enum_values == ("x", "y")
    (row,) = pa.Table.from_batches(
        connector.read_partition(t, Partition("t", "main", 0), expressions=plan.read_expressions)
    ).to_pylist()
    assert row["h"] == "170141183460469231731687303715884105727" and row["s"] == '{"a":1}'
    assert row["u"] == 18446744073709551615 and row["l"] == [1, 2]
    connector.close()


def test_csv_and_parquet_folders(tmp_path):
    (tmp_path / "orders.csv").write_text("id,name,amount,day\n1,é a,1.50,2024-01-02\n2,b,2.25,\n")
    pq.write_table(
        pa.table({"id": [1, 2, 3], "tags": [["a"], ["b", "c"], []]}), tmp_path / "items.parquet"
    )
    for scheme, names in (
        ("csv", {"orders"}),
        ("parquet", {"items"}),
        ("files", {"orders", "items"}),
    ):
        connector = connect(f"{scheme}://{tmp_path}")
        assert connector.test().ok
        schema = connector.introspect()
        assert {t.name for t in schema.tables} == names
    items = schema.table("items")
    assert items.row_estimate == 3 and items.size_bytes > 0
    assert plan_table(items, "files").column("tags").pg_type == "text[]"
    orders = schema.table("orders")
    # decimals are read exactly (csv_types), not as DuckDB's sniffed DOUBLE
    assert [c.native.name for c in orders.columns] == ["bigint", "varchar", "decimal", "date"]
    amount = orders.column("amount").native
    assert (amount.precision, amount.scale) == (3, 2)
    rows = pa.Table.from_batches(connector.read_partition(orders, Partition("orders", None, 0)))
    assert rows.to_pylist()[0]["name"] == "é a" and connector.count(orders) == 2
