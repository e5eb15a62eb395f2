"""A stored connection's type options reach the jobs: the DDL `workbench schema ddl` previews
is the DDL `workbench migrate`, `workbench copy` (given stored connection names) and
`run_migration` create.

The source is a MariaDB table whose types the connection's ``types`` option changes
(varchar -> text, one decimal column -> numeric(14,2), tinyint(1) -> smallint). The preview's
statements are run in a scratch PostgreSQL database, and its catalog (each column's
``format_type`` and NOT NULL) is compared with the tables the job created.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest
from click.testing import CliRunner, Result

from workbench.cli import main
from workbench.engine.migrate import run_migration, with_connection_options
from workbench.engine.run import CopyOptions
from workbench.errors import InvalidInputError
from workbench.store import Store, connections, open_store

TYPES = {
    "type_overrides": {"varchar(n)": "text"},
    "column_overrides": {"items.price": "numeric(14,2)"},
    "tinyint1_as_boolean": False,
}
# what the type map makes of the same columns without the connection's options
DEFAULT_TYPES = {
    "id": "integer",
    "name": "character varying(40)",
    "price": "numeric(10,2)",
    "flag": "boolean",
    "note": "character varying(200)",
}
OVERRIDDEN = {
    "id": "integer",
    "name": "text",
    "price": "numeric(14,2)",
    "flag": "smallint",
    "note": "text",
}
ROWS = 40


@pytest.fixture
def env(pg_server, tmp_path, monkeypatch) -> Iterator[None]:
    """The WORKBENCH_* variables of one fresh store, for the command and the Python API."""
    name = pg_server.create_database("wbstore")
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", pg_server.url(name))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WORKBENCH_USER", "tester")
    yield
    pg_server.drop_database(name)


@pytest.fixture
def store(env) -> Iterator[Store]:
    opened = open_store()
    yield opened
    opened.close()


def run(*args: str) -> Result:
    """``workbench ARGS`` in-process against the store of ``env``."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def source(mysql_server) -> Iterator[str]:
    """A MariaDB database with one table whose types the options change; its URL."""
    name = mysql_server.create_database("wbopts")
    with mysql_server.connect(name) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE items (id int PRIMARY KEY, name varchar(40) NOT NULL,"
            " price decimal(10,2), flag tinyint(1) NOT NULL, note varchar(200))"
        )
        cur.executemany(
            "INSERT INTO items VALUES (%s, %s, %s, %s, %s)",
            [
                (i, f"item {i}", f"{i}.25" if i % 4 else None, i % 2, "n" * i)
                for i in range(1, ROWS + 1)
            ],
        )
    yield mysql_server.url(name)
    mysql_server.drop_database(name)


@pytest.fixture
def scratch(pg_server) -> Iterator[str]:
    """An empty PostgreSQL database to run the previewed DDL in."""
    name = pg_server.create_database("wbpreview")
    yield pg_server.url(name)
    pg_server.drop_database(name)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output + (result.stderr or "")
    return result


def add_connections(source_url: str, target_url: str, types: dict | None = TYPES) -> None:
    ok(run("project", "create", "shop"))
    options = ["--option", "types=" + json.dumps(types)] if types is not None else []
    ok(run("connection", "add", "shop", "src", source_url, *options))
    ok(run("connection", "add", "shop", "tgt", target_url, "--role", "target"))


def preview() -> dict:
    return json.loads(ok(run("schema", "ddl", "shop", "src", "--json")).stdout)


def run_statements(url: str, statements: list[str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def columns(url: str, schema: str) -> dict[str, dict[str, tuple[str, bool]]]:
    """table -> column -> (format_type, NOT NULL), in column order."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull"
            " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0"
            " AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
            (schema,),
        ).fetchall()
    out: dict[str, dict[str, tuple[str, bool]]] = {}
    for table, column, type_, notnull in rows:
        out.setdefault(table, {})[column] = (type_, notnull)
    return out


def types_of(catalog: dict[str, dict[str, tuple[str, bool]]]) -> dict[str, str]:
    return {column: t for column, (t, _) in catalog["items"].items()}


def previewed(scratch: str, schema: str) -> dict[str, dict[str, tuple[str, bool]]]:
    """The preview's DDL (create, then post_load: keys) run in ``scratch``; its catalog."""
    ddl = preview()
    assert any('"items"' in s and "CREATE TABLE" in s for s in ddl["create"])
    run_statements(scratch, ddl["create"] + ddl["post_load"])
    return columns(scratch, schema)


# --- workbench copy SRC TGT --project (stored connection names) -------------------------------


def test_copy_from_stored_connections_creates_the_previewed_ddl(
    env, source, target_url, scratch, store
):
    add_connections(source, target_url)
    schema = source.rsplit("/", 1)[1]
    expected = previewed(scratch, schema)
    assert types_of(expected) == OVERRIDDEN  # the preview honours the options (it always did)

    done = run("copy", "src", "tgt", "--project", "shop", "--workers", "1", "--json")
    ok(done)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "succeeded" and summary["validated"]
    created = columns(target_url, schema)
    assert created == expected
    assert types_of(created) != DEFAULT_TYPES  # what the job created before options reached it
    with psycopg.connect(target_url) as conn:
        assert conn.execute(f'SELECT count(*), sum(flag) FROM "{schema}".items').fetchone() == (
            ROWS,
            ROWS // 2,
        )
    # the job records its connections and the options it ran with (a resume runs the same)
    from workbench.store import jobs

    job = jobs.get_job(store, summary["job_id"])
    assert job.parameters["options"]["type_options"] == TYPES
    assert (job.source_connection_id, job.target_connection_id) == (
        connections.get_connection(store, "shop", "src").id,
        connections.get_connection(store, "shop", "tgt").id,
    )


def test_copy_by_url_keeps_the_plain_type_map(env, source, target_url):
    """A URL is no stored connection: no options, the type map's defaults (as before)."""
    ok(run("project", "create", "shop"))
    ok(run("copy", source, target_url, "--project", "shop", "--workers", "1", "--json"))
    assert types_of(columns(target_url, source.rsplit("/", 1)[1])) == DEFAULT_TYPES


def test_copy_needs_a_project_for_connection_names(env, target_url):
    result = CliRunner().invoke(main, ["copy", "src", target_url])
    assert result.exit_code == 2 and "--project" in result.output


# --- workbench migrate / run_migration ----------------------------------------------------------


def accepted_identity_mappings(target_url: str, schema: str, statements: list[str]) -> None:
    """Mappings items -> items as `workbench match` suggests them against target tables of
    the previewed shape, accepted; then those tables are dropped again, so that the
    migration creates them itself from the type map."""
    run_statements(target_url, statements)
    ok(run("match", "shop", "--source", "src", "--target", "tgt"))
    listed = json.loads(ok(run("mapping", "list", "shop", "--json")).stdout)
    assert len(listed) == 1
    accepted = json.loads(
        ok(run("mapping", "accept", "shop", str(listed[0]["id"]), "--all", "--json")).stdout
    )
    pairs = {c["source_column"]: c["target_column"] for c in accepted["columns"]}
    assert pairs == {c: c for c in OVERRIDDEN}
    run_statements(target_url, [f'DROP SCHEMA "{schema}" CASCADE'])


def test_migrate_creates_the_previewed_ddl(env, source, target_url, scratch):
    add_connections(source, target_url)
    schema = source.rsplit("/", 1)[1]
    expected = previewed(scratch, schema)
    ddl = preview()
    accepted_identity_mappings(target_url, schema, ddl["create"])

    done = run("migrate", "shop", "--workers", "1", "--json")
    ok(done)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "succeeded" and summary["rows_copied"] == ROWS
    created = columns(target_url, schema)
    assert created == expected
    assert types_of(created) == OVERRIDDEN != DEFAULT_TYPES


def test_run_migration_adds_the_callers_type_options_to_the_connections(
    env, source, target_url, store
):
    """run_migration (the notebook's call): the connection's options, and a caller's own
    type_options on top of them, key by key."""
    add_connections(source, target_url)
    schema = source.rsplit("/", 1)[1]
    accepted_identity_mappings(target_url, schema, preview()["create"])
    mine = CopyOptions(
        if_exists="append",
        workers=1,
        type_options={"column_overrides": {"items.id": "bigint"}},
    )
    result = run_migration("shop", store=store, options=mine)
    assert result.status == "succeeded"
    assert types_of(columns(target_url, schema)) == {**OVERRIDDEN, "id": "bigint"}


# --- the options are checked alike by preview and jobs -------------------------------------------


def test_a_bad_types_option_is_refused_by_preview_and_jobs_alike(env, source, target_url):
    add_connections(source, target_url, types={"type_overide": {"varchar(n)": "text"}})
    shown = run("schema", "ddl", "shop", "src")
    copied = run("copy", "src", "tgt", "--project", "shop", "--workers", "1")
    assert shown.exit_code == copied.exit_code != 0
    assert "Unknown type options ['type_overide']" in shown.stderr
    assert shown.stderr == copied.stderr  # before: the preview refused, the copy ignored it
    with psycopg.connect(target_url) as conn:  # refused before anything was created
        assert conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'items'"
        ).fetchone() == (0,)


def test_with_connection_options_merges_key_by_key(env, store):
    ok(run("project", "create", "shop"))
    ok(run("connection", "add", "shop", "src", "sqlite:////tmp/none.sqlite",
           "--option", "types=" + json.dumps(TYPES)))  # fmt: skip
    record = connections.get_connection(store, "shop", "src")
    assert with_connection_options(CopyOptions(), record).type_options == TYPES
    mine = CopyOptions(
        type_options={"tinyint1_as_boolean": True, "type_overrides": {"date": "text"}}
    )
    assert with_connection_options(mine, record).type_options == {
        "type_overrides": {"varchar(n)": "text", "date": "text"},
        "column_overrides": {"items.price": "numeric(14,2)"},
        "tinyint1_as_boolean": True,
    }
    bare = replace(record, options={"types": "text"})
    with pytest.raises(InvalidInputError, match="must be a JSON object"):
        with_connection_options(CopyOptions(), bare)
