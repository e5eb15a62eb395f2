"""What each source table becomes in the target, and the target DDL around the load.

Types, names and DDL come from the schema part (``schema.types.plan_schema``,
``schema.ddl.target_ddl``); this module adds the engine's side: the plan's columns with
their read expressions and transforms, creating tables before the load (per ``if_exists``),
and finishing after it: keys, uniques and indexes built in parallel, then foreign keys,
checks, identities past the loaded maximum and comments, then ANALYZE in parallel.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NoReturn

import psycopg
from psycopg import sql

from workbench.connectors.pgcopy import NO_STATEMENT_TIMEOUT
from workbench.engine.plan import TablePlan, TargetColumn
from workbench.errors import AlreadyExistsError, InvalidInputError, UnsupportedError
from workbench.schema.ddl import DdlScript, target_ddl
from workbench.schema.model import DatabaseSchema, Table
from workbench.schema.sqlexpr import column_expression
from workbench.schema.types import ColumnPlan, TableTypePlan, TypeOptions, plan_schema
from workbench.transforms.rules import ColumnTransform

if TYPE_CHECKING:
    from workbench.engine.run import CopyOptions

log = logging.getLogger(__name__)


def type_options(options: CopyOptions) -> TypeOptions:
    return TypeOptions(**options.type_options)


def build_table_plans(
    schema: DatabaseSchema, chosen: Sequence[Table], options: CopyOptions
) -> list[TablePlan]:
    """Engine plans for ``chosen`` tables: the type map's columns plus the job's transforms."""
    typed = plan_schema(
        schema, type_options(options), options.target_schema, tables=[t.name for t in chosen]
    )
    wanted = {(t.schema, t.name) for t in chosen}
    plans = []
    for tp in typed:
        if (tp.table.schema, tp.table.name) not in wanted:
            continue
        mapped = options.mapping.get(tp.table.qualified_name) or options.mapping.get(tp.table.name)
        if mapped is not None:
            tp = apply_mapping(
                tp,
                mapped,
                options.transforms.get(tp.table.name)
                or options.transforms.get(tp.table.qualified_name)
                or {},
            )
        table = tp.table
        rules = (
            options.transforms.get(table.name) or options.transforms.get(table.qualified_name) or {}
        )
        columns = []
        for c in tp.columns:
            if c.generated:
                continue  # the target computes it again
            rule = rules.get(c.source) or rules.get(c.target)
            transform = ColumnTransform.from_rule(c.target, c.source, rule) if rule else None
            if transform is not None and transform.expression:
                # an editor's SQL: only a value of the row, rendered from its parse tree
                transform = replace(
                    transform,
                    expression=column_expression(
                        transform.expression, schema.dialect, table.column_names,
                        what=f"Transform expression of {table.qualified_name}.{c.target}",
                    ),
                )  # fmt: skip
            columns.append(
                TargetColumn(
                    name=c.target,
                    pg_type=c.pg_type,
                    nullable=c.nullable,
                    source=c.source,
                    # a rule's SQL expression is pushed down into the read like the type map's
                    read_expression=(transform.expression if transform else None)
                    or c.read_expression,
                    transform=transform,
                    nulled_when=None if transform and transform.expression else c.nulled_when,
                    nulled_what=c.nulled_what,
                    rejected_when=c.rejected_when,
                    rejected_why=c.rejected_why,
                )
            )
        plans.append(
            TablePlan(
                source=table,
                target_schema=tp.target_schema or "public",
                target_name=tp.target_name,
                columns=columns,
                notes=[n for c in tp.columns for n in c.notes],
                typed=tp,
            )
        )
    return plans


def apply_mapping(
    tp: TableTypePlan, mapped: dict[str, Any], rules: dict[str, dict[str, Any]]
) -> TableTypePlan:
    """Narrow a type-map plan to a saved mapping: only mapped columns, under mapped names;
    computed target columns (no source column) typed by their transform's cast, else text."""
    columns = mapped.get("columns", {})
    kept = [replace(c, target=columns[c.source]) for c in tp.columns if c.source in columns]
    missing = sorted(set(columns) - {c.source for c in tp.columns})
    if missing:
        raise InvalidInputError(
            f"The mapping of {tp.table.qualified_name} names source columns that do not exist: "
            f"{missing}; the source schema changed: update the mapping.",
            table=tp.table.qualified_name,
        )
    for target in mapped.get("computed", []):
        cast = (rules.get(target) or {}).get("cast")
        kept.append(ColumnPlan(source=target, target=target, pg_type=_pg_type_of_cast(cast)))
    return replace(
        tp,
        target_schema=mapped.get("target_schema") or tp.target_schema,
        target_name=mapped.get("target_table") or tp.target_name,
        columns=tuple(kept),
    )


def _pg_type_of_cast(cast: str | None) -> str:
    if not cast:
        return "text"
    name = cast.strip().lower()
    simple = {
        "int8": "smallint",
        "int16": "smallint",
        "int32": "integer",
        "int64": "bigint",
        "float32": "real",
        "float64": "double precision",
        "float": "double precision",
        "double": "double precision",
        "bool": "boolean",
        "boolean": "boolean",
        "date": "date",
        "date32": "date",
        "binary": "bytea",
    }
    if name in simple:
        return simple[name]
    if name.startswith("timestamp"):
        return "timestamptz" if "tz" in name or "utc" in name else "timestamp"
    if name.startswith("decimal"):
        return "numeric" + name[name.find("(") :] if "(" in name else "numeric"
    return "text"


def job_ddl(
    plans: list[TablePlan], schema: DatabaseSchema | None, options: CopyOptions
) -> DdlScript:
    """The DDL a job runs: the same as ``workbench schema ddl`` shows for its tables."""
    return target_ddl([p.typed for p in plans], schema, type_options(options))


def missing_tables(conn: psycopg.Connection, plans: list[TablePlan]) -> list[TablePlan]:
    """The planned tables the target does not have."""
    out = []
    for p in plans:
        ref = sql.Identifier(p.target_schema, p.target_name).as_string(conn)
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (ref,)).fetchone()
        assert row is not None  # a SELECT without FROM returns one row
        if not row[0]:
            out.append(p)
    return out


def create_target_tables(
    conn: psycopg.Connection,
    plans: list[TablePlan],
    schema: DatabaseSchema | None,
    options: CopyOptions,
) -> DdlScript:
    """Run the create phase; return the script with the post-load statements still to run
    (those of tables appended to are dropped: they keep their own keys and indexes, but their
    identity sequences are still moved past the loaded rows)."""
    script = job_ddl(plans, schema, options)
    with conn.transaction():
        existing = []
        for p in plans:
            ref = sql.Identifier(p.target_schema, p.target_name).as_string(conn)
            row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (ref,)).fetchone()
            assert row is not None  # a SELECT without FROM returns one row
            if row[0]:
                existing.append(p)
        if existing and options.if_exists == "fail":
            names = ", ".join(f"{p.target_schema}.{p.target_name}" for p in existing[:10])
            raise AlreadyExistsError(
                f"Target tables already exist: {names}. Use --if-exists replace to drop and "
                "recreate them, or --if-exists append to add rows to them.",
            )
        if options.if_exists == "append":
            _check_appendable(conn, existing)
        if options.if_exists == "replace":
            for p in existing:
                conn.execute(
                    sql.SQL("DROP TABLE {} CASCADE").format(
                        sql.Identifier(p.target_schema, p.target_name)
                    )
                )
        keep = (
            {(p.target_schema, p.target_name) for p in existing}
            if options.if_exists == "append"
            else set()
        )
        for statement in script.create:
            if (
                keep
                and statement.startswith("CREATE TABLE")
                and any(sql.Identifier(s, n).as_string(conn) in statement for s, n in keep)
            ):
                continue
            try:
                with conn.transaction():
                    conn.execute(statement)
            except psycopg.errors.DuplicateObject:  # an enum type or domain from an earlier run
                log.info("already there: %s", statement[:80])
            except psycopg.Error as exc:
                if not statement.startswith(("CREATE EXTENSION", "CREATE COLLATION")) and (
                    "collation" not in str(exc).lower()
                ):
                    raise
                _refuse_unmade(statement, exc)
    if not keep:
        return script
    # tables loaded as they were (append) keep their own keys and indexes
    idents = {
        sql.Identifier(s, n).as_string(conn): (s, n)
        for s, n in {(p.target_schema, p.target_name) for p in plans}
    }
    script.post_load = [
        st
        for st in script.post_load
        if statement_subject(st, idents) not in keep or st.startswith("SELECT setval(")
    ]
    return script


def statement_subject(statement: str, idents: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    """The table a post-load statement is about: the first table it names."""
    found = [(statement.find(i), t) for i, t in idents.items() if i in statement]
    return min(found)[1] if found else None


@dataclass(frozen=True)
class Unfinished:
    """A post-load statement that failed: what it would have built, and why not."""

    statement: str
    object: str
    error: str

    def as_dict(self) -> dict[str, str]:
        return {"object": self.object, "error": self.error, "statement": self.statement}


_OBJECTS = (
    (re.compile(r'^ALTER TABLE (\S+) ADD CONSTRAINT (\S+) PRIMARY KEY'), "primary key {1} on {0}"),
    (re.compile(r'^ALTER TABLE (\S+) ADD CONSTRAINT (\S+) UNIQUE'), "unique constraint {1} on {0}"),
    (re.compile(r'^ALTER TABLE (\S+) ADD CONSTRAINT (\S+) FOREIGN KEY'), "foreign key {1} on {0}"),
    (re.compile(r'^ALTER TABLE (\S+) ADD CONSTRAINT (\S+) CHECK'), "check constraint {1} on {0}"),
    (re.compile(r'^CREATE (?:UNIQUE )?INDEX (\S+) ON (\S+)'), "index {0} on {1}"),
    (re.compile(r"^SELECT setval\(pg_get_serial_sequence\('([^']+)', '([^']+)'"),
     "identity sequence of {0}.{1}"),
    (re.compile(r"^COMMENT ON (TABLE|COLUMN) (\S+)"), "comment on {1}"),
    (re.compile(r'^ALTER TABLE (\S+) ADD CONSTRAINT (\S+) EXCLUDE'),
     "exclusion constraint {1} on {0}"),
    (re.compile(r'^CREATE POLICY (\S+) ON (\S+)'), "row-level security policy {0} on {1}"),
    (re.compile(r'^CREATE OR REPLACE FUNCTION (\S+)'), "function {0}"),
    (re.compile(r'^CREATE OR REPLACE TRIGGER (\S+) BEFORE UPDATE ON (\S+)'),
     "ON UPDATE trigger {0} on {1}"),
    (re.compile(r'^ALTER TABLE (\S+) (ENABLE|FORCE) ROW LEVEL SECURITY'),
     "row-level security ({1}) on {0}"),
)  # fmt: skip


def _refuse_unmade(statement: str, exc: psycopg.Error) -> NoReturn:
    """An extension or a collation the source's tables use that the target cannot make."""
    error = str(exc).strip().replace("\n", " ")
    if statement.startswith("CREATE EXTENSION"):
        raise UnsupportedError(
            f"The target cannot create an extension the chosen tables use ({error}): "
            f"{statement}. Nothing was copied. Install it on the target's server (for most: "
            "the postgresql-contrib package) and create it as a user allowed to (--before "
            "'CREATE EXTENSION ...' runs before the tables are made), or leave out the tables "
            "that use it (--exclude)"
        ) from exc
    raise UnsupportedError(
        f"The target cannot make or find a column collation of the source ({error}) for: "
        f"{describe_statement(statement)}. Nothing was copied. Give the target that collation "
        "(a build with ICU), or let such columns take the target database's own: the type "
        "option collations=default (a stored connection's --option "
        """types='{"collations": "default"}')"""
    ) from exc


def describe_statement(statement: str) -> str:
    """What a post-load statement builds, for people: "foreign key fk_x on shop.orders"."""
    for pattern, template in _OBJECTS:
        m = pattern.match(statement)
        if m:
            return template.format(*m.groups())
    return statement.split("(", 1)[0][:120]


# Keys and indexes sort in maintenance_work_mem; a stock server's 64MB spills a big table's
# sort to disk. This session gets 256MB unless the server gives more (a few builds run at once).
INDEX_MEMORY = (
    "SELECT set_config('maintenance_work_mem', '256MB', false) "
    "WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < 256 * 1024 * 1024"
)


def _check_appendable(conn: psycopg.Connection, existing: list[TablePlan]) -> None:
    """Every column the copy writes exists in each table appended to: named, all of them,
    before any row is written (a partition's COPY would fail on the first, after other tables
    were loaded)."""
    problems = []
    for p in existing:
        ref = sql.Identifier(p.target_schema, p.target_name).as_string(conn)
        have = {
            name
            for (name,) in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s)"
                " AND attnum > 0 AND NOT attisdropped",
                (ref,),
            )
        }
        missing = [c.name for c in p.columns if c.name not in have]
        if missing:
            problems.append(
                f"{p.target_schema}.{p.target_name} lacks {', '.join(missing)}"
                f" (it has {', '.join(sorted(have)) or 'no columns'})"
            )
    if problems:
        raise InvalidInputError(
            "Cannot append: " + "; ".join(problems) + ". Add the columns to the target tables, "
            "map the columns to the ones they have (a project's mapping), or use "
            "--if-exists replace to recreate them."
        )


def run_statements(
    target_url: str, statements: Sequence[str], timeout: float, parallel: int
) -> list[Unfinished]:
    """Run each statement in its own connection; return those that failed (none raise)."""
    failed: list[Unfinished] = []

    def run(statement: str) -> None:
        try:
            with psycopg.connect(target_url, connect_timeout=int(timeout), autocommit=True) as conn:
                conn.execute(INDEX_MEMORY)
                conn.execute(NO_STATEMENT_TIMEOUT)
                conn.execute(statement)
        except (psycopg.errors.DuplicateObject, psycopg.errors.DuplicateTable):
            return  # built by an earlier run of this job (a resume)
        except psycopg.errors.InvalidTableDefinition as exc:
            if "multiple primary keys" not in str(exc):
                failed.append(Unfinished(statement, describe_statement(statement), str(exc)))
        except psycopg.Error as exc:
            text = str(exc).strip()
            first = text.splitlines()[0] if text else type(exc).__name__
            detail = getattr(getattr(exc, "diag", None), "message_detail", None)
            why = first + (f" ({detail})" if detail else "")
            failed.append(Unfinished(statement, describe_statement(statement), why))

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        list(pool.map(run, statements))
    return failed


def statement_phase(statement: str) -> int:
    """0: keys, uniques, indexes (parallel); 1: foreign keys; 2: checks, identities, comments."""
    if "FOREIGN KEY" in statement:
        return 1
    if statement.startswith(("CREATE INDEX", "CREATE UNIQUE INDEX")) or (
        " PRIMARY KEY (" in statement or " UNIQUE (" in statement
    ):
        return 0
    return 2
