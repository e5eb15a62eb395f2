"""MySQL/MariaDB connector against real Sakila and the edge-case schema."""

from __future__ import annotations

import re
from decimal import Decimal

import pyarrow as pa
import pytest

from workbench.connectors import connect
from workbench.connectors.base import Partition
from workbench.errors import InvalidSourceValueError
from workbench.schema.types import TypeOptions, plan_table

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
    "film_text",
    "inventory",
    "language",
    "payment",
    "rental",
    "staff",
    "store",
}
SAKILA_VIEWS = {
    "actor_info",
    "customer_list",
    "film_list",
    "nicer_but_slower_film_list",
    "sales_by_film_category",
    "sales_by_store",
    "staff_list",
}
_FK = re.compile(
    r"CONSTRAINT `?(\w+)`? FOREIGN KEY \((\w+)\) REFERENCES (\w+) \((\w+)\) "
    r"ON DELETE (RESTRICT|CASCADE|SET NULL) ON UPDATE (RESTRICT|CASCADE|SET NULL)"
)


@pytest.fixture(scope="module")
def sakila(sakila_mysql):
    connector = connect(sakila_mysql)
    yield connector, connector.introspect()
    connector.close()


def test_sakila_tables_views_and_primary_keys(sakila):
    _, schema = sakila
    assert {t.name for t in schema.base_tables} == SAKILA_TABLES
    assert {t.name for t in schema.tables if t.kind == "view"} == SAKILA_VIEWS
    pks = {t.name: t.primary_key for t in schema.base_tables}
    assert pks["film_actor"] == ("actor_id", "film_id")
    assert pks["film_category"] == ("film_id", "category_id")
    assert pks["film_text"] == ("film_id",)
    others = SAKILA_TABLES - {"film_actor", "film_category", "film_text"}
    assert all(pks[t] == (f"{t}_id",) for t in others)
    assert schema.table("rental").row_estimate > 10_000
    assert schema.table("rental").size_bytes > 0
    assert "address" in schema.table("customer_list").view_definition


def test_sakila_every_foreign_key_matches_the_script(sakila, datasets):
    _, schema = sakila
    script = (datasets / "sakila-mysql-schema.sql").read_text()
    expected = set()
    for table_block in re.split(r"CREATE TABLE ", script)[1:]:
        table = table_block.split()[0].strip("`")
        for name, col, ref, ref_col, on_delete, on_update in _FK.findall(table_block):
            expected.add((table, name, (col,), ref, (ref_col,), on_delete, on_update))
    got = {
        (t.name, f.name, f.columns, f.ref_table, f.ref_columns, f.on_delete, f.on_update)
        for t in schema.base_tables
        for f in t.foreign_keys
    }
    assert len(expected) == 22
    assert got == expected


def test_sakila_special_columns(sakila):
    _, schema = sakila
    film = schema.table("film")
    rating, features = film.column("rating").native, film.column("special_features").native
    assert (rating.name, rating.values) == ("enum", ("G", "PG", "PG-13", "R", "NC-17"))
    assert features.name == "set" and features.values[-1] == "Behind the Scenes"
    assert film.column("release_year").native.name == "year"
    assert film.column("film_id").is_identity and film.column("film_id").native.unsigned
    assert film.column("rental_rate").native == film.column("rental_rate").native.__class__(
        "decimal", precision=4, scale=2, raw="decimal(4,2)"
    )
    for table in ("customer", "staff"):
        active = schema.table(table).column("active").native
        assert (active.name, active.length) == ("tinyint", 1)
    assert schema.table("staff").column("picture").native.name == "blob"
    assert schema.table("film").column("title").charset.startswith("utf8")
    uniques = {u.name: u.columns for u in schema.table("rental").uniques}
    assert uniques == {"rental_date": ("rental_date", "inventory_id", "customer_id")}
    fulltext = schema.table("film_text").indexes[0]
    assert (fulltext.method, fulltext.columns) == ("fulltext", ("title", "description"))
    # this Sakila variant declares address.location inside /*!50705 */, which MariaDB skips;
    # geometry is covered by the edge-case schema
    assert "location" not in schema.table("address").column_names


def test_sakila_plan_maps_special_columns(sakila):
    _, schema = sakila
    film = plan_table(schema.table("film"), "mysql")
    assert film.column("rating").pg_type == "text"
    assert film.column("rating").enum_values[0] == "G"
    assert film.column("special_features").pg_type == "text[]"
    assert plan_table(schema.table("staff"), "mysql").column("active").pg_type == "boolean"
    off = TypeOptions(tinyint1_as_boolean=False, enum="pg_enum")
    assert plan_table(schema.table("staff"), "mysql", off).column("active").pg_type == "smallint"
    assert (
        plan_table(schema.table("film"), "mysql", off).column("rating").enum_type == "film_rating"
    )


def test_sakila_partitions_cover_every_row_once(sakila):
    connector, schema = sakila
    rental = schema.table("rental")
    total = connector.count(rental)
    points = connector.split_points(rental, ["rental_id"], 4)
    assert len(points) == 3
    bounds = [None, *points, None]
    parts = [
        Partition("rental", rental.schema, i, ("rental_id",), bounds[i], bounds[i + 1])
        for i in range(4)
    ]
    counts = [connector.count(rental, p) for p in parts]
    assert sum(counts) == total and min(counts) > total // 5
    read = [
        sum(b.num_rows for b in connector.read_partition(rental, p, batch_rows=1000)) for p in parts
    ]
    assert read == counts


def test_sakila_composite_and_text_keys(sakila):
    connector, schema = sakila
    fa = schema.table("film_actor")
    points = connector.split_points(fa, ["actor_id", "film_id"], 5)
    assert len(points) == 4 and points == sorted(points)
    bounds = [None, *points, None]
    counts = [
        connector.count(
            fa,
            Partition(
                "film_actor", fa.schema, i, ("actor_id", "film_id"), bounds[i], bounds[i + 1]
            ),
        )
        for i in range(5)
    ]
    assert sum(counts) == connector.count(fa) and max(counts) - min(counts) <= 5
    film = schema.table("film")
    title_points = connector.split_points(film, ["title"], 3)
    p = Partition("film", film.schema, 1, ("title",), title_points[0], title_points[1])
    rows = [r for b in connector.read_partition(film, p, ["title"]) for r in b.to_pylist()]
    assert len(rows) == connector.count(film, p) > 300
    assert all(title_points[0][0] <= r["title"] < title_points[1][0] for r in rows)


def test_read_batches_are_bounded(sakila):
    connector, schema = sakila
    payment = schema.table("payment")
    sizes = [
        b.num_rows
        for b in connector.read_partition(payment, Partition("payment", None, 0), batch_rows=5000)
    ]
    assert max(sizes) == 5000 and sum(sizes) == connector.count(payment)


# --- edge cases ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def edge(mysql_edge):
    connector = connect(mysql_edge)
    yield connector, connector.introspect()
    connector.close()


def test_edge_introspection(edge):
    _, schema = edge
    t = schema.table("select")
    assert t.comment == "edge cases"
    assert t.column("Größe").comment == "größe ✓"
    assert t.column("biu").native.unsigned and t.column("biu").native.name == "bigint"
    assert (t.column("d65").native.precision, t.column("d65").native.scale) == (65, 30)
    assert t.column("b12").native.length == 12
    assert t.column("e").native.values == ("a", "b c", "it's")
    assert t.column("j").native.name == "json"  # MariaDB's alias, recognized
    assert t.column("vc").charset == "latin1"
    assert t.column("gen").generated and t.column("gen").generated_stored
    assert t.column("g").native.name == "geometry" and t.column("p").native.name == "point"
    assert t.column("dt").native.precision == 6
    assert {u.name: u.columns for u in t.uniques} == {"uq_größe": ("Größe",)}
    assert [c.name for c in t.checks] == ["positive"]
    child = schema.table("Child Table")
    fk = child.foreign_keys[0]
    assert (fk.columns, fk.ref_table, fk.on_delete, fk.on_update) == (
        ("select_id",),
        "select",
        "CASCADE",
        "SET NULL",
    )
    assert {i.name: i.columns for i in child.indexes}["idx_note"] == ("note",)


def test_edge_zero_dates_fail_strictly_and_are_counted(edge):
    connector, schema = edge
    t = schema.table("select")
    with pytest.raises(InvalidSourceValueError, match="zero_dates"):
        list(connector.read_partition(t, Partition("select", t.schema, 0), ["id", "d"]))
    assert connector.count_zero_dates(t) == {"d": 1, "dt": 1, "ts": 0, "dz": 2}


def test_edge_values_are_exact_through_the_plan(edge):
    connector, schema = edge
    t = schema.table("select")
    plan = plan_table(t, "mysql")
    batches = list(
        connector.read_partition(
            t, Partition("select", t.schema, 0), expressions=plan.read_expressions
        )
    )
    table = pa.Table.from_batches(batches).sort_by("id")
    r1, r2, r3 = table.to_pylist()
    assert r1["biu"] == 18446744073709551615 and r2["bi"] == 9223372036854775807
    assert r1["bi"] == -9223372036854775808 and r1["iu"] == 4294967295
    assert Decimal(r1["d65"]) == Decimal("99999999999999999999999999999999999." + "9" * 30)
    assert Decimal(r2["d65"]) == Decimal("-1e-30")
    assert r1["d"] is None and r1["dt"] is None and r1["dz"] is None  # zero dates -> NULL
    assert str(r2["d"]) == "0009-03-04" and r2["dt"].year == 9 and r2["dt"].microsecond == 123456
    assert r2["ts"].isoformat() == "2024-05-06T07:08:09+00:00"
    assert (r1["t"], r2["t"]) == ("838:59:59", "-00:00:01")
    assert r1["b12"] == "101010101010" and r1["b1"] == 1 and r2["b1"] == 0
    assert r1["Größe"] == "größe 😀" and r1["vc"] == "café"
    assert r1["bn"] == b"\x00\xff\x00\x01" and r2["bn"] == b"\x00\x00\x00\x00"
    assert r1["e"] == "it's" and r1["s"] == '{"x","z"}' and r2["s"] == "{}"
    assert r1["g"][:5] == b"\x01\x01\x00\x00\x00"  # WKB point, little endian
    assert r1["y"] == 2155 and r1["f"] == 1.5 and r1["dbl"] == 2.5e300
    assert r3["Größe"] == "z" and r3["biu"] is None and r3["gen"] == 4


def test_edge_keys_with_non_ascii_and_reserved_names(edge):
    connector, schema = edge
    t = schema.table("select")
    p = Partition("select", t.schema, 0, ("id",), (2,), None)
    assert connector.count(t, p) == 2
    names = [r["Größe"] for b in connector.read_partition(t, p, ["Größe"]) for r in b.to_pylist()]
    assert sorted(filter(None, names)) == ["z"]
    child = schema.table("Child Table")
    assert connector.split_points(child, ["ChildID"], 2) == [(2,)]


def test_percent_in_names_with_bound_keys(mysql_database):
    import pymysql
    from sqlalchemy.engine import make_url

    u = make_url(mysql_database)
    with (
        pymysql.connect(
            host=u.host, port=u.port, user=u.username, database=u.database, autocommit=True
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("CREATE TABLE `100%s` (`k%` INT PRIMARY KEY)")
        cur.execute("INSERT INTO `100%s` VALUES (1), (2), (3), (4)")
    connector = connect(mysql_database)
    table = connector.introspect().table("100%s")
    part = Partition("100%s", table.schema, 0, ("k%",), (2,), None)
    assert connector.count(table, part) == 3
    assert sum(b.num_rows for b in connector.read_partition(table, part)) == 3
    connector.close()
