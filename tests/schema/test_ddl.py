"""Target DDL: snapshots of the generated SQL, and round trips through a real PostgreSQL."""

from __future__ import annotations

import os
import re
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from workbench.connectors import connect
from workbench.schema.ddl import target_ddl
from workbench.schema.model import Column, NativeType, Table
from workbench.schema.types import TypeOptions, plan_schema, plan_table

SNAPSHOTS = Path(__file__).parent / "snapshots"


def assert_snapshot(text: str, name: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("WORKBENCH_UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; WORKBENCH_UPDATE_SNAPSHOTS=1 to accept"


def apply(url: str, statements: list[str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for stmt in statements:
            conn.execute(stmt)


_ALIASES = {
    "varchar": "character varying",
    "char": "character",
    "timestamp": "timestamp without time zone",
    "timestamptz": "timestamp with time zone",
    "time": "time without time zone",
}


def canonical(pg_type: str) -> str:
    """The spelling format_type() prints for a type we generated."""
    m = re.match(r"^(\w+)(\(.*\))?(\[\])?$", pg_type)
    if not m:
        return pg_type
    base, mods, arr = m.group(1), m.group(2) or "", m.group(3) or ""
    if base == "numeric" and mods and "," not in mods:
        mods = mods[:-1] + ",0)"
    if base in ("timestamp", "timestamptz", "time") and mods:
        return f"{_ALIASES[base].replace(' with', mods + ' with')}{arr}"
    return f"{_ALIASES.get(base, base)}{mods}{arr}"


def compare_round_trip(plans, back, source_dialect: str) -> None:
    for plan in plans:
        got = back.table(plan.target_name, plan.target_schema)
        assert got.column_names == tuple(c.target for c in plan.columns)
        for col in plan.columns:
            g = got.column(col.target)
            want = col.pg_type if source_dialect == "postgresql" else canonical(col.pg_type)
            assert (g.native.raw if not g.native.type_schema else col.pg_type) == want, col
            assert g.nullable == (col.nullable and not col.is_identity), col
            assert g.is_identity == col.is_identity, col
        names = {c.source: c.target for c in plan.columns}
        assert got.primary_key == tuple(names[c] for c in plan.table.primary_key)
        fks = {(f.columns, f.ref_table, f.on_delete, f.on_update) for f in got.foreign_keys}
        for fk in plan.table.foreign_keys:
            ref = next(p for p in plans if p.table.name == fk.ref_table)
            assert (
                tuple(names[c] for c in fk.columns),
                ref.target_name,
                fk.on_delete,
                fk.on_update,
            ) in fks
        assert {u.columns for u in got.uniques} == {
            tuple(names[c] for c in u.columns) for u in plan.table.uniques
        }


def test_sakila_mysql_ddl_snapshot_and_round_trip(sakila_mysql, pg_database):
    source = connect(sakila_mysql).introspect()
    plans = plan_schema(source, target_schema="sakila")
    ddl = target_ddl(plans, source)
    database = make_url(sakila_mysql).database  # a throwaway name: not part of the snapshot
    assert_snapshot(ddl.text().replace(database, "sakila_source"), "sakila_mysql.sql")
    assert not any("FOREIGN KEY" in s or "INDEX" in s for s in ddl.create)
    apply(pg_database, ddl.create)
    with psycopg.connect(pg_database, autocommit=True) as conn:  # "load" a few rows
        conn.execute("INSERT INTO sakila.language (language_id, name) VALUES (7, 'x'), (9, 'y')")
    apply(pg_database, ddl.post_load)
    # the translated views run in PostgreSQL, in the target schema (not the source's name),
    # but two that only MySQL accepts: GROUP_CONCAT(DISTINCT a ORDER BY b), and columns
    # neither grouped nor aggregated (the job lists them as not migrated, with the reason)
    assert len(ddl.views) == 6 and database not in " ".join(s for _, s in ddl.views)
    refused = set()
    with psycopg.connect(pg_database, autocommit=True) as conn:
        for label, statement in ddl.views:
            try:
                conn.execute(statement)
            except psycopg.Error:
                refused.add(label)
    assert refused == {f"view {database}.actor_info", f"view {database}.sales_by_store"}
    back = connect(pg_database).introspect(schemas=["sakila"])
    compare_round_trip(plans, back, "mysql")
    film = back.table("film", "sakila")
    assert any("rating" in c.expression and "'NC-17'" in c.expression for c in film.checks)
    assert {i.name for i in back.table("film_actor", "sakila").indexes} == {"idx_fk_film_id"}
    assert "film_actor_idx_fk_film_id" not in {i.name for t in back.tables for i in t.indexes}
    with psycopg.connect(pg_database, autocommit=True) as conn:
        new_id = conn.execute(
            "INSERT INTO sakila.language (name) VALUES ('z') RETURNING language_id"
        ).fetchone()[0]
    assert new_id == 10  # identity set past the loaded maximum


def test_pg_edge_round_trip_is_exact(pg_edge, pg_database):
    source = connect(pg_edge).introspect()
    plans = plan_schema(source)
    ddl = target_ddl(plans, source)
    assert_snapshot(ddl.text(), "pg_edge.sql")
    apply(pg_database, ddl.create + ddl.post_load)
    back = connect(pg_database).introspect()
    compare_round_trip(plans, back, "postgresql")
    assert back.enum_types == source.enum_types
    assert back.extras["domains"] == source.extras["domains"]
    order = back.table("Order", "Sales Ünits")
    src = source.table("Order", "Sales Ünits")
    assert [c.native.raw for c in order.columns] == [c.native.raw for c in src.columns]
    assert order.column("total").generated == src.column("total").generated
    assert order.comment == "orders ✓" and order.column("Größe").comment == "size"
    assert [c.expression for c in order.checks] == [c.expression for c in src.checks]
    ix = back.table("line", "Sales Ünits").indexes[0]
    assert (ix.expressions, ix.where) == (("lower(note::text)",), "note IS NOT NULL")


def test_mysql_edge_ddl_with_options(mysql_edge, pg_database):
    source = connect(mysql_edge).introspect()
    options = TypeOptions(enum="pg_enum", naming="snake")
    plans = plan_schema(source, options, target_schema="edge")
    ddl = target_ddl(plans, source, options)
    database = make_url(mysql_edge).database  # a throwaway name: not part of the snapshot
    assert_snapshot(ddl.text().replace(database, "edge_source"), "mysql_edge_snake_pg_enum.sql")
    apply(pg_database, ddl.create + ddl.post_load)
    back = connect(pg_database).introspect(schemas=["edge"])
    assert {t.name for t in back.tables} == {"select", "child_table"}
    assert back.enum_types["edge.select_e"] == ("a", "b c", "it's")
    child = back.table("child_table", "edge")
    assert child.foreign_keys[0].on_update == "SET NULL"
    assert child.column("child_id").native.raw == "bigint" and child.column("child_id").is_identity
    sel = back.table("select", "edge")
    assert sel.column("größe").comment == "größe ✓" and sel.comment == "edge cases"
    assert sel.column("dz").default is None  # zero-date default dropped
    assert sel.column("s").default == "'{x,y}'::text[]"
    # MySQL check not translated: reported with its reason
    assert any("check constraint positive" in what for what, _ in ddl.not_migrated)


def test_chinook_round_trip(chinook_sqlite, pg_database):
    source = connect(chinook_sqlite).introspect()
    plans = plan_schema(source)
    ddl = target_ddl(plans, source)
    assert_snapshot(ddl.text(), "chinook_sqlite.sql")
    apply(pg_database, ddl.create + ddl.post_load)
    compare_round_trip(plans, connect(pg_database).introspect(schemas=["public"]), "sqlite")


def test_long_and_colliding_names():
    long = "a_really_long_column_name_that_goes_on_and_on_past_the_postgres_limit"
    cols = (
        Column(long + "_1", NativeType("int")),
        Column(long + "_2", NativeType("int")),
        Column("Order", NativeType("int")),
        Column("order", NativeType("int")),
    )
    table = Table("s", "T" * 70, cols, primary_key=(long + "_1",))
    plan = plan_table(table, "mysql", TypeOptions(naming="snake"))
    targets = [c.target for c in plan.columns]
    assert len(set(targets)) == 4 and all(len(t.encode()) <= 63 for t in targets)
    assert targets[2:] == ["order", "order_2"]
    ddl = target_ddl([plan])
    assert len(plan.target_name.encode()) <= 63
    assert_snapshot(ddl.text(), "long_names.sql")


@pytest.mark.parametrize("naming", ["keep", "snake"])
def test_identifiers_are_quoted_never_spliced(naming):
    evil = 'x"; DROP TABLE y; --'
    table = Table(
        "s", evil, (Column(evil, NativeType("int"), comment="it's"),), primary_key=(evil,)
    )
    ddl = target_ddl([plan_table(table, "mysql", TypeOptions(naming=naming))])
    text = ddl.text()
    if naming == "keep":
        assert '"x""; DROP TABLE y; --"' in text
    assert "'it''s'" in text
