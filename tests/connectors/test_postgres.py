"""PostgreSQL connector against real Sakila (jOOQ port) and the edge-case schema."""

from __future__ import annotations

import psycopg
import pyarrow as pa
import pytest

from workbench.connectors import connect
from workbench.connectors.base import Partition

SAKILA_TABLES = {
    "actor",
    "address",
    "category",
    "city",
    "country",
    "customer",
    "film",
    "film_actor",
    "film_category",
    "inventory",
    "language",
    "payment",
    "rental",
    "staff",
    "store",
    *(f"payment_p2007_0{i}" for i in range(1, 7)),
}


@pytest.fixture(scope="module")
def sakila(sakila_pg):
    connector = connect(sakila_pg)
    yield connector, connector.introspect(schemas=["public"])
    connector.close()


def test_sakila_facts(sakila, sakila_pg):
    _, schema = sakila
    assert {t.name for t in schema.base_tables} == SAKILA_TABLES
    assert {"film_list", "actor_info", "sales_by_store"} <= {
        t.name for t in schema.tables if t.kind == "view"
    }
    assert schema.table("film_actor").primary_key == ("actor_id", "film_id")
    # every foreign key, checked against the server's own information_schema
    with psycopg.connect(sakila_pg) as conn:
        expected = set(
            conn.execute(
                "SELECT tc.table_name, tc.constraint_name, rc.delete_rule, rc.update_rule "
                "FROM information_schema.table_constraints tc "
                "JOIN information_schema.referential_constraints rc "
                "USING (constraint_schema, constraint_name) "
                "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'"
            ).fetchall()
        )
    got = {
        (t.name, f.name, f.on_delete, f.on_update)
        for t in schema.base_tables
        for f in t.foreign_keys
    }
    assert got == expected and len(got) >= 20
    film = schema.table("film")
    assert film.column("rating").native.type_schema == "public"
    assert schema.enum_types["public.mpaa_rating"] == ("G", "PG", "PG-13", "R", "NC-17")
    assert film.column("special_features").native.array_dims == 1
    assert film.column("release_year").native.base.name == "int4"  # domain "year"
    assert "public.year" in schema.extras["domains"]
    assert film.column("film_id").is_identity
    assert {i.name: i.method for i in film.indexes}["film_fulltext_idx"] == "gist"
    assert schema.table("rental").row_estimate > 10_000 and schema.table("rental").size_bytes


def test_sakila_reads_and_partitions(sakila):
    connector, schema = sakila
    payment = schema.table("rental")
    points = connector.split_points(payment, ["rental_id"], 3)
    assert len(points) == 2
    bounds = [None, *points, None]
    parts = [
        Partition(payment.name, "public", i, ("rental_id",), bounds[i], bounds[i + 1])
        for i in range(3)
    ]
    counts = [connector.count(payment, p) for p in parts]
    assert sum(counts) == connector.count(payment)
    rows = [
        sum(b.num_rows for b in connector.read_partition(payment, p, batch_rows=500)) for p in parts
    ]
    assert rows == counts


def test_skewed_integer_key_gets_even_slices(pg_database):
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE skew (id bigint PRIMARY KEY, v text)")
        # 1000 dense ids, then 100 ids spread up to 10^12: equal ranges would be useless
        conn.execute("INSERT INTO skew SELECT g, 'x' FROM generate_series(1, 1000) g")
        conn.execute("INSERT INTO skew SELECT g * 10000000000, 'y' FROM generate_series(1, 100) g")
    connector = connect(pg_database)
    table = connector.introspect().table("skew")
    points = connector.split_points(table, ["id"], 4)
    bounds = [None, *points, None]
    counts = [
        connector.count(table, Partition("skew", "public", i, ("id",), bounds[i], bounds[i + 1]))
        for i in range(4)
    ]
    assert sum(counts) == 1100 and max(counts) - min(counts) <= 4
    connector.options["sample_threshold"] = 500  # the sampling path gives similar slices
    sampled = connector.split_points(table, ["id"], 4)
    assert 2 <= len(sampled) <= 3
    connector.close()


@pytest.fixture(scope="module")
def edge(pg_edge):
    connector = connect(pg_edge)
    yield connector, connector.introspect()
    connector.close()


def test_edge_introspection(edge):
    _, schema = edge
    order = schema.table("Order", "Sales Ünits")
    assert order.comment == "orders ✓" and order.column("Größe").comment == "size"
    assert order.column("ID").is_identity and order.primary_key == ("ID",)
    n = order.column("Größe").native
    assert (n.name, n.precision, n.scale) == ("numeric", 38, 10)
    assert (
        order.column("grid").native.array_dims >= 1 and order.column("grid").native.name == "int4"
    )
    assert order.column("mood").native.type_schema == "Sales Ünits"
    assert schema.enum_types["Sales Ünits.mood"] == ("sad", "ok", "it's fine")
    assert order.column("qty").native.base.name == "int4"
    assert order.column("at").native.precision == 3
    assert order.column("total").generated == "((qty)::integer * 2)"
    assert {u.columns for u in order.uniques} == {("select",)}
    assert [c.name for c in order.checks] == ["qty_small"]
    line = schema.table("line", "Sales Ünits")
    assert line.foreign_keys[0].ref_table == "Order" and line.foreign_keys[0].on_delete == "CASCADE"
    ix = line.indexes[0]
    assert ix.columns == (None,) and ix.expressions == ("lower(note::text)",)
    assert ix.where == "note IS NOT NULL"


def test_edge_values_are_postgres_text_or_typed(edge):
    connector, schema = edge
    order = schema.table("Order", "Sales Ünits")
    batches = list(connector.read_partition(order, Partition("Order", "Sales Ünits", 0)))
    rows = pa.Table.from_batches(batches).sort_by("ID").to_pylist()
    r1, r2 = rows
    assert r1["Größe"] == "1234567890123456789012345678.0123456789"
    assert r1["n"] == "0.0000000000000000000000000000000000000001" and r2["n"] == "NaN"
    assert r1["tags"] == '{x,"y z"}' and r1["grid"] == "{{1,2},{3,4}}"
    assert r1["mood"] == "it's fine" and r1["qty"] == "5"
    assert r1["at"] == "2024-01-02 01:04:05.678+00" and r2["at"] == "-infinity"
    assert r1["span"] == "1 year 2 mons 3 days 04:05:06.789" and r2["span"] == "-838:59:59"
    assert r1["b"] == b"\x00\xff" and r1["flag"] is True and r1["bits"] == "1010"
    assert r1["doc"] == '{"k": [1, "é"]}' and r1["total"] == "10.00"
    assert batches[0].schema.field("ID").type == pa.int64()


def test_percent_and_quotes_in_names_with_bound_keys(pg_database):
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute('CREATE TABLE "100%""s" ("k%" int PRIMARY KEY, "v" text)')
        conn.execute('INSERT INTO "100%""s" SELECT g, g::text FROM generate_series(1, 10) g')
    connector = connect(pg_database)
    table = connector.introspect().table('100%"s')
    part = Partition('100%"s', "public", 0, ("k%",), (3,), (7,))
    assert connector.count(table, part) == 4
    assert sum(b.num_rows for b in connector.read_partition(table, part)) == 4
    connector.close()
