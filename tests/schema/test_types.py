"""The type map as tables of input and expected output (pure logic, no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import UnsupportedError
from workbench.schema.model import Column, ForeignKey, NativeType, Table
from workbench.schema.types import TypeOptions, plan_column, plan_schema
from workbench.schema.types.docs import type_mapping_markdown
from workbench.schema.types.mysql import unquote, zero_date_count_sql

REPO = Path(__file__).resolve().parents[2]


def nt(name: str, raw: str = "", **kw) -> NativeType:
    return NativeType(name=name, raw=raw or name, **kw)


MYSQL_CASES = [
    # (native type, options, expected PostgreSQL type)
    (nt("tinyint", "tinyint(1)", length=1), {}, "boolean"),
    (nt("tinyint", "tinyint(1)", length=1), {"tinyint1_as_boolean": False}, "smallint"),
    (nt("tinyint", "tinyint(4)", length=4), {}, "smallint"),
    (nt("tinyint", "tinyint(1) unsigned", length=1, unsigned=True), {}, "smallint"),
    (nt("smallint", unsigned=True), {}, "integer"),
    (nt("mediumint", unsigned=True), {}, "integer"),
    (nt("int"), {}, "integer"),
    (nt("int", unsigned=True), {}, "bigint"),
    (nt("bigint"), {}, "bigint"),
    (nt("bigint", unsigned=True), {}, "numeric(20)"),
    (nt("decimal", precision=65, scale=30), {}, "numeric(65,30)"),
    (nt("decimal", precision=10, scale=0), {}, "numeric(10,0)"),
    (nt("float"), {}, "real"),
    (nt("double"), {}, "double precision"),
    (nt("bit", length=1), {}, "boolean"),
    (nt("bit", length=12), {}, "bit(12)"),
    (nt("year"), {}, "smallint"),
    (nt("date"), {}, "date"),
    (nt("datetime", precision=0), {}, "timestamp"),
    (nt("datetime", precision=6), {}, "timestamp(6)"),
    (nt("timestamp", precision=3), {}, "timestamptz(3)"),
    (nt("time"), {}, "interval"),
    (nt("time", precision=2), {"time_as": "time"}, "time(2)"),
    (nt("char", length=3), {}, "char(3)"),
    (nt("varchar", length=255), {}, "varchar(255)"),
    (nt("longtext"), {}, "text"),
    (nt("mediumblob"), {}, "bytea"),
    (nt("varbinary", length=8), {}, "bytea"),
    (nt("enum", values=("a", "b")), {}, "text"),
    (nt("enum", values=("a", "b")), {"enum": "pg_enum"}, '"public"."t_c"'),
    (nt("set", values=("a", "b")), {}, "text[]"),
    (nt("set", values=("a", "b")), {"set_as": "text"}, "text"),
    (nt("json"), {}, "jsonb"),
    (nt("geometry"), {}, "bytea"),
    (nt("point"), {"geometry": "postgis"}, "geometry"),
    (nt("datetime"), {"type_overrides": {"datetime": "timestamptz"}}, "timestamptz"),
    (nt("int", "int(11)"), {"column_overrides": {"t.c": "numeric(11)"}}, "numeric(11)"),
]


@pytest.mark.parametrize(
    ("native", "opts", "expected"), MYSQL_CASES, ids=[f"{c[0].raw}-{c[2]}" for c in MYSQL_CASES]
)
def test_mysql_type_map(native, opts, expected):
    table = Table("s", "t", (Column("c", native),))
    plan = plan_column(
        table, table.columns[0], "mysql", TypeOptions(**opts), target_schema="public"
    )
    assert plan.pg_type == expected


def test_mysql_read_expressions():
    table = Table(None, "t", (Column("d`x", nt("date")), Column("s", nt("set", values=("a",)))))
    d = plan_column(table, table.columns[0], "mysql")
    assert d.read_expression.startswith("CASE WHEN TO_DAYS(`d``x`) >= 366")
    strict = plan_column(table, table.columns[0], "mysql", TypeOptions(zero_dates="strict"))
    assert strict.read_expression == "CAST(`d``x` AS CHAR)"  # PostgreSQL rejects zero dates
    over = TypeOptions(type_overrides={"date": "text"})
    assert plan_column(table, table.columns[0], "mysql", over).read_expression == d.read_expression
    s = plan_column(table, table.columns[1], "mysql")
    assert "CONCAT('{\"'" in s.read_expression and "'{}'" in s.read_expression
    sql = zero_date_count_sql(table)
    assert (
        sql.startswith("SELECT COALESCE(SUM(CASE WHEN COALESCE(TO_DAYS(`d``x`) < 366")
        and "FROM `t`" in sql
    )


DEFAULT_CASES = [
    # (native, MySQL default text, expected PostgreSQL default)
    (nt("timestamp"), "current_timestamp()", "CURRENT_TIMESTAMP"),
    (nt("datetime"), "CURRENT_TIMESTAMP(6)", "LOCALTIMESTAMP"),
    (nt("datetime"), "'0000-00-00 00:00:00'", None),
    (nt("date"), "'2024-00-10'", None),
    (nt("date"), "'0009-03-04'", "'0009-03-04'"),
    (nt("varchar", length=9), "'it''s'", "'it''s'"),
    (nt("varchar", length=9), "'a\\\\b'", "E'a\\\\b'"),
    (nt("int"), "42", "42"),
    (nt("decimal", precision=5, scale=2), "-1.50", "-1.50"),
    (nt("tinyint", length=1), "'1'", "true"),
    (nt("tinyint", length=1), "0", "false"),
    (nt("bit", length=1), "b'0'", "false"),
    (nt("bit", length=4), "b'101'", "B'0101'"),
    (nt("set", values=("x", "y")), "'x,y'", '\'{"x","y"}\''),
    (nt("set", values=("x", "y")), "''", "'{}'"),
    (nt("char", length=36), "uuid()", "gen_random_uuid()::text"),
    (nt("uuid"), "(uuid())", "gen_random_uuid()"),
    (nt("int"), "(1 + 2)", "(1 + 2)"),
    (nt("date"), "(curdate() + interval 1 day)", None),  # not translated: listed, dropped
    (nt("varchar", length=9), "(rand())", None),
    (nt("varchar", length=9), "NULL", None),
]


@pytest.mark.parametrize(("native", "default", "expected"), DEFAULT_CASES)
def test_mysql_defaults(native, default, expected):
    table = Table("s", "t", (Column("c", native, default=default),))
    assert plan_column(table, table.columns[0], "mysql").default == expected


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("INTEGER", "bigint"),
        ("TINYINT", "bigint"),
        ("NVARCHAR(40)", "varchar(40)"),
        ("TEXT", "text"),
        ("CLOB", "text"),
        ("BLOB", "bytea"),
        ("", "text"),
        ("REAL", "double precision"),
        ("FLOAT", "double precision"),
        ("NUMERIC(10,2)", "numeric(10,2)"),
        ("NUMERIC", "numeric"),
        ("DECIMAL(5, 1)", "numeric(5,1)"),
        ("BOOLEAN", "boolean"),
        ("DATE", "date"),
        ("DATETIME", "timestamp"),
        ("WEIRD NAME", "numeric"),
        ("CHARINT", "bigint"),
    ],
)
def test_sqlite_affinity(declared, expected):
    from workbench.connectors.sqlite import native_type

    table = Table(None, "t", (Column("c", native_type(declared)),))
    assert plan_column(table, table.columns[0], "sqlite").pg_type == expected


def test_postgres_types_are_kept_exactly():
    cols = (
        Column("a", NativeType("numeric", raw="numeric(38,10)", precision=38, scale=10)),
        Column("b", NativeType("text", raw="text[]", array_dims=1)),
        Column("c", NativeType("mood", raw="mood", type_schema="s")),
        Column(
            "d",
            NativeType("int4", raw="integer"),
            default="nextval('x_seq'::regclass)",
            is_identity=True,
        ),
        Column("e", NativeType("interval", raw="interval day to second(3)")),
        Column("f", NativeType("numeric", raw="numeric(12,2)"), generated="(a * 2)"),
    )
    table = Table("s", "t", cols)
    plans = [plan_column(table, c, "postgresql", target_schema="tgt") for c in cols]
    assert [p.pg_type for p in plans] == [
        "numeric(38,10)",
        "text[]",
        '"tgt"."mood"',
        "integer",
        "interval day to second(3)",
        "numeric(12,2)",
    ]
    assert plans[3].is_identity and plans[3].default is None
    assert plans[5].generated == "(a * 2)" and not plans[5].is_loaded


def test_fk_columns_take_the_referenced_type():
    from workbench.schema.model import DatabaseSchema

    parent = Table(
        "s",
        "p",
        (Column("id", nt("bigint", unsigned=True), is_identity=True),),
        primary_key=("id",),
    )
    child = Table(
        "s",
        "c",
        (Column("pid", nt("bigint", unsigned=True)),),
        foreign_keys=(ForeignKey("fk", ("pid",), "s", "p", ("id",)),),
    )
    plans = plan_schema(DatabaseSchema("mysql", tables=(parent, child)))
    assert plans[0].column("id").pg_type == "bigint" and plans[1].column("pid").pg_type == "bigint"


def test_unknown_type_names_the_override():
    table = Table(None, "t", (Column("c", nt("hyperloglog")),))
    with pytest.raises(UnsupportedError, match="column_overrides"):
        plan_column(table, table.columns[0], "mysql")


def test_unquote():
    assert unquote("'it''s'") == "it's" and unquote("'a\\nb'") == "a\nb" and unquote("1") is None


def test_type_mapping_doc_is_current():
    doc = REPO / "docs" / "type-mapping.md"
    assert doc.read_text() == type_mapping_markdown(), (
        "docs/type-mapping.md is stale: "
        "python -m workbench.schema.types.docs > docs/type-mapping.md"
    )
