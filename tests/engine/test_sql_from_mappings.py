"""No SQL from a mapping: an editor's expression or type override is parsed and allowed only
as a value of the row (or a type name), rendered from the parse tree, never pasted."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import InvalidInputError
from workbench.schema.sqlexpr import column_expression, pg_type
from workbench.schema.types import TypeOptions

OUTFILE = Path("/tmp") / f"wb-injected-{os.getpid()}.txt"

HOSTILE_EXPRESSIONS = {
    "into outfile": f"name FROM customers INTO OUTFILE '{OUTFILE}' -- ",
    "into outfile, bare": f"name INTO OUTFILE '{OUTFILE}'",
    "server file": "LOAD_FILE('/etc/os-release')",
    "password hashes": "(SELECT authentication_string FROM mysql.user LIMIT 1)",
    "second statement": "name; DROP TABLE customers",
    "comment": "name /* hidden */",
    "line comment": "name -- rest",
    "other table": "mysql.user.password",
    "sleep": "SLEEP(5)",
    "benchmark": "BENCHMARK(100000000, MD5('x'))",
    "server variable": "@@version",
    "user variable": "@secret",
    "who am i": "CURRENT_USER()",
    "unknown column": "no_such_column",
    "union": "name UNION SELECT password FROM users",
}


@pytest.fixture
def customers(mysql_server, mysql_database) -> str:
    db = make_url(mysql_database).database
    with mysql_server.connect(db) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40), email TEXT)")
        cur.executemany(
            "INSERT INTO customers VALUES (%s, %s, %s)",
            [(i, f"Name {i}", f"u{i}@example.com") for i in range(1, 51)],
        )
    return mysql_database


@pytest.mark.parametrize("expression", HOSTILE_EXPRESSIONS.values(), ids=HOSTILE_EXPRESSIONS)
def test_hostile_expressions_are_refused_by_the_checker(expression):
    with pytest.raises(InvalidInputError) as caught:
        column_expression(expression, "mysql", ["id", "name", "email"])
    message = str(caught.value)
    assert "is refused" in message and repr(expression)[:40].strip("'\"")[:20] in message


@pytest.mark.parametrize(
    "expression",
    [HOSTILE_EXPRESSIONS[k] for k in ("into outfile", "server file", "password hashes")],
    ids=["into outfile", "server file", "password hashes"],
)
def test_a_job_with_a_hostile_transform_runs_nothing(customers, target_url, store, expression):
    OUTFILE.unlink(missing_ok=True)
    options = CopyOptions(
        workers=1, transforms={"customers": {"email": {"expression": expression}}}
    )
    with pytest.raises(InvalidInputError, match="is refused"):
        copy_database(customers, target_url, options, store=store)
    assert not OUTFILE.exists()
    with psycopg.connect(target_url) as conn:  # refused while planning: no table was made
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'customers'"
        ).fetchone()[0]
    assert tables == 0


def test_good_expressions_still_run(customers, target_url, store):
    rules = {
        "email": {"expression": "UPPER(TRIM(email))"},
        "name": {"expression": "CASE WHEN id > 25 THEN CONCAT(name, ' (late)') ELSE name END"},
    }
    result = copy_database(
        customers, target_url, CopyOptions(workers=1, transforms={"customers": rules}),
        store=store,
    )  # fmt: skip
    assert result.status == "succeeded"
    db = make_url(customers).database
    with psycopg.connect(target_url) as conn:
        rows = conn.execute(f'SELECT id, name, email FROM "{db}".customers ORDER BY id').fetchall()
    assert rows[0] == (1, "Name 1", "U1@EXAMPLE.COM") and rows[-1][1] == "Name 50 (late)"


@pytest.mark.parametrize(
    "options",
    [
        {"column_overrides": {"customers.name": "text); DROP TABLE customers; --"}},
        {"column_overrides": {"customers.name": "text; DROP TABLE customers"}},
        {"type_overrides": {"varchar(n)": "text) ; SELECT pg_sleep(10); --"}},
        {"column_overrides": {"customers.name": {"type": "text", "read": "LOAD_FILE('/x')"}}},
        {"column_overrides": {"customers.name": {"type": "text",
                                                 "read": "(SELECT 1 FROM mysql.user)"}}},
    ],
    ids=["close-paren", "semicolon", "type-override", "read-file", "read-subquery"],
)  # fmt: skip
def test_hostile_type_overrides_are_refused(customers, target_url, store, options):
    with pytest.raises(InvalidInputError) as caught:
        copy_database(customers, target_url, CopyOptions(workers=1, type_options=options),
                      store=store)  # fmt: skip
    assert "customers.name" in str(caught.value) or "varchar(n)" in str(caught.value)
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT to_regclass('public.customers')").fetchone()[0] is None


def test_type_names_and_options_are_checked_wherever_options_are_made():
    assert pg_type("numeric(12, 2)") == "numeric(12, 2)"
    assert pg_type("timestamp(3) with time zone") == "timestamp(3) with time zone"
    assert pg_type('"shop"."mood"[]') == '"shop"."mood"[]'
    with pytest.raises(InvalidInputError, match="not a PostgreSQL type name"):
        TypeOptions(type_overrides={"int": "int); DROP TABLE x; --"})
    with pytest.raises(InvalidInputError, match="not a PostgreSQL type name"):
        TypeOptions.from_dict({"column_overrides": {"t.c": {"type": "text -- x"}}})
