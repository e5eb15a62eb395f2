"""Planning: each source column through its dialect's rules (and the overrides) to a plan."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from psycopg import sql

from workbench.errors import InvalidInputError, UnsupportedError
from workbench.schema.model import Column, DatabaseSchema, NativeType, Table
from workbench.schema.naming import NameAllocator, apply_policy, truncate
from workbench.schema.quoting import quote_ident
from workbench.schema.sqlexpr import column_expression, generated_expression
from workbench.schema.types import duckdb, mysql, postgres, sqlite
from workbench.schema.types.model import (
    ColumnPlan,
    ReadRefinement,
    TableTypePlan,
    TypeMap,
    TypeOptions,
    TypeRule,
)

# source kind -> its type map; a new kind adds its module's TYPE_MAP here
TYPE_MAPS: dict[str, TypeMap] = {
    "mysql": mysql.TYPE_MAP,
    "postgresql": postgres.TYPE_MAP,
    "sqlite": sqlite.TYPE_MAP,
    "duckdb": duckdb.TYPE_MAP,
    "files": duckdb.TYPE_MAP,
}
_INTEGER_PG = {"smallint", "integer", "bigint"}
_NUMERIC_PG = {*_INTEGER_PG, "numeric", "real", "double precision"}


def type_map(dialect: str) -> TypeMap:
    try:
        return TYPE_MAPS[dialect]
    except KeyError:
        raise UnsupportedError(
            f"No type map for dialect {dialect!r}; known: {sorted(TYPE_MAPS)}"
        ) from None


def rules_for(dialect: str) -> tuple[TypeRule, ...]:
    return type_map(dialect).rules


def literal(value: Any) -> str:
    """A PostgreSQL literal, quoted by psycopg (never by string formatting)."""
    return sql.Literal(value).as_string(None).strip()


def array_literal(items: Sequence[str]) -> str:
    inner = ",".join('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in items)
    return literal("{" + inner + "}")


def _render(template: str, native: NativeType) -> str:
    fsp = f"({native.precision})" if native.precision else ""
    return template.format(
        length=native.length if native.length is not None else "",
        precision=native.precision if native.precision is not None else "",
        scale=native.scale if native.scale is not None else 0,
        fsp=fsp,
    ).replace("()", "")


def _override(
    table: Table, column: Column, options: TypeOptions, dialect: str
) -> tuple[str, str | None] | None:
    keys = [f"{table.name}.{column.name}"]
    if table.schema:
        keys.insert(0, f"{table.schema}.{table.name}.{column.name}")
    for key in keys:
        if key in options.column_overrides:
            value = options.column_overrides[key]
            if isinstance(value, str):
                return value, None
            read = value.get("read")
            if read is not None:
                read = column_expression(
                    read, dialect, table.column_names, what=f"Read expression of {key!r}"
                )
            return value["type"], read
    return None


def pick_rule(dialect: str, column: Column, options: TypeOptions) -> TypeRule:
    native = column.native
    for rule in rules_for(dialect):
        if rule.matches(native, column, options):
            return rule
    raise UnsupportedError(
        f"Column {column.name!r} has {dialect} type {native.raw or native.name!r}, which the "
        "type map does not cover; add a column override (column_overrides) with its "
        "PostgreSQL type"
    )


def plan_column(
    table: Table,
    column: Column,
    dialect: str,
    options: TypeOptions | None = None,
    target: str | None = None,
    target_schema: str | None = None,
) -> ColumnPlan:
    """What ``column`` becomes in PostgreSQL: type, nullability, default, read expression."""
    options = options or TypeOptions()
    target = target or apply_policy(column.name, options.naming)
    kind = type_map(dialect)
    if kind.same_engine:
        return _plan_postgres(table, column, target, target_schema, options)
    native = column.native
    rule = pick_rule(dialect, column, options)
    pg_type = _render(rule.target, native)
    col_q = quote_ident(column.name, dialect)
    read = rule.read.format(col=col_q, length=native.length or 1) if rule.read else None
    notes = [rule.note] if rule.note else []
    enum_type = None
    if rule.target == "enum type":
        enum_type = truncate(apply_policy(f"{table.name}_{column.name}", options.naming))
        pg_type = sql.Identifier(*filter(None, [target_schema, enum_type])).as_string(None)
    if rule.source == "list (x[])":
        pg_type = _duckdb_list_type(native, options)
    if options.geometry == "postgis" and pg_type == "geometry":
        notes.append("needs the PostGIS extension in the target")
    is_identity = column.is_identity
    if is_identity and pg_type == "numeric(20)":
        pg_type = "bigint"  # identities never reach 2^63; numeric cannot be an identity
        notes.append("auto_increment bigint unsigned kept as bigint identity")
    if is_identity and pg_type not in _INTEGER_PG:
        is_identity = False
    overridden = options.type_overrides.get(rule.source) or options.type_overrides.get(native.raw)
    over = _override(table, column, options, dialect)
    rule_label = rule.source
    if overridden or over:
        if over:
            pg_type = over[0]
        elif overridden:  # always set when there is no column override
            pg_type = overridden
        read = (over[1] if over and over[1] else None) or (read if rule.safe_read else None)
        rule_label = "override"
    default, note = _default(column, pg_type)
    if note:
        notes.append(note)
    generated = None
    if column.generated:
        notes.append(
            f"generated column ({column.generated}) loaded as plain values; the expression "
            "is not translated"
        )
    enum_values = native.values if native.name == "enum" and options.enum != "text" else ()
    got = ReadRefinement(read, enum_values)
    if kind.refine is not None:
        got = kind.refine(column, got, options)
    notes.extend(got.notes)
    return ColumnPlan(
        source=column.name,
        target=target,
        pg_type=pg_type,
        nullable=column.nullable,
        default=None if is_identity else default,
        read_expression=got.read,
        nulled_when=got.nulled_when if got.read else None,
        nulled_what=got.nulled_what,
        rejected_when=got.rejected_when,
        rejected_why=got.rejected_why,
        is_identity=is_identity,
        generated=generated,
        enum_values=got.enum_values if rule_label != "override" else (),
        enum_type=enum_type if rule_label != "override" else None,
        rule=rule_label,
        notes=tuple(notes),
        comment=column.comment,
    )


def _duckdb_list_type(native: NativeType, options: TypeOptions) -> str:
    base = native.base or NativeType(name="varchar")
    inner = pick_rule("duckdb", Column("x", base), options)
    return _render(inner.target, base) + "[]"


def _default(column: Column, pg_type: str) -> tuple[str | None, str]:
    """A source default in PostgreSQL (another engine's defaults are translated, never
    copied: MySQL's rules read SQLite's and DuckDB's literals too)."""
    if column.default is None or column.generated:
        return None, ""
    value, note = mysql.translate_default(column.default, pg_type, column)
    if value is None:
        return None, note
    kind, v = value
    if kind == "sql":
        return v, ""
    if kind == "bits":
        return (f"B'{v}'" if re.fullmatch(r"[01]+", v) else None), ""
    if kind == "array":
        return array_literal(v), ""
    if isinstance(v, str) and mysql.NUMBER.match(v) and pg_type.split("(")[0] in _NUMERIC_PG:
        return v, ""  # a validated number needs no quotes
    return literal(v), ""


def _plan_postgres(
    table: Table, column: Column, target: str, target_schema: str | None, options: TypeOptions
) -> ColumnPlan:
    native = column.native
    notes: list[str] = []
    if native.type_schema:  # enum, domain or composite: same name, created before the tables
        schema = target_schema if native.type_schema == table.schema else native.type_schema
        if schema is None:
            raise InvalidInputError(
                f"Column {column.name!r} has the type {native.raw or native.name!r} of the "
                "table's own schema: its target schema must be given"
            )
        pg_type = sql.Identifier(schema, native.name).as_string(None) + "[]" * native.array_dims
    else:
        pg_type = native.raw
    default = column.default
    generated = column.generated
    if column.default_calls and generated:  # listed as not migrated by the DDL (schema.ddl)
        generated = None
        notes.append(
            f"generated column ({column.generated}) loaded as plain values: it calls "
            f"{', '.join(column.default_calls)}, a function of the source's (functions are not "
            "copied)"
        )
    elif column.default_calls:
        default = None
        notes.append(f"default {column.default} left out: it calls a function of the source's")
    is_identity = column.is_identity and native.name in ("int2", "int4", "int8")
    if default and default.startswith("nextval("):
        default = None
        notes.append("serial default replaced by an identity")
    collation = None
    if column.collation and options.collations == "keep":
        # "schema.name": a collation of the table's own schema goes with it
        coll_schema, _, coll_name = column.collation.partition(".")
        if coll_schema == table.schema and target_schema:
            coll_schema = target_schema
        collation = (coll_schema, coll_name)
    return ColumnPlan(
        source=column.name,
        target=target,
        pg_type=pg_type,
        nullable=column.nullable,
        default=None if is_identity else default,
        is_identity=is_identity,
        generated=generated,
        collation=collation,
        rule="postgresql",
        notes=tuple(notes),
        comment=column.comment,
    )


def default_target_schema(table: Table, dialect: str, options: TypeOptions) -> str:
    if table.schema and type_map(dialect).schemas_are_namespaces:
        return apply_policy(table.schema, options.naming)
    return "public"


def plan_table(
    table: Table,
    dialect: str,
    options: TypeOptions | None = None,
    target_schema: str | None = None,
    target_name: str | None = None,
) -> TableTypePlan:
    options = options or TypeOptions()
    schema = target_schema or default_target_schema(table, dialect, options)
    names = NameAllocator(options.naming)
    cols = tuple(
        plan_column(table, c, dialect, options, names.take(c.name), schema) for c in table.columns
    )
    if not type_map(dialect).same_engine and any(c.generated for c in table.columns):
        cols = _translate_generated(table, dialect, cols)
    name = target_name or truncate(apply_policy(table.name, options.naming))
    return TableTypePlan(table, schema, name, cols)


def _translate_generated(
    table: Table, dialect: str, cols: tuple[ColumnPlan, ...]
) -> tuple[ColumnPlan, ...]:
    """Generated columns PostgreSQL can compute itself become GENERATED ALWAYS AS ... STORED
    (not loaded); the others stay plain columns loaded with the source's values."""

    types = {c.source: c.pg_type for c in cols}
    rename = {c.source: c.target for c in cols}
    out = []
    for plan, column in zip(cols, table.columns, strict=True):
        kept = tuple(n for n in plan.notes if not n.startswith("generated column ("))
        if column.generated and column.generated != "(see table definition)":
            try:
                expr = generated_expression(column.generated, dialect, types, rename)
            except UnsupportedError as exc:
                note = f"generated column loaded as plain values: {exc}"
                plan = replace(plan, notes=(*kept, note))
            else:
                note = f"generated column translated: GENERATED ALWAYS AS ({expr}) STORED"
                plan = replace(plan, generated=expr, default=None, notes=(*kept, note))
        out.append(plan)
    return tuple(out)


def plan_schema(
    schema: DatabaseSchema,
    options: TypeOptions | None = None,
    target_schema: str | None = None,
    tables: Sequence[str] | None = None,
) -> list[TableTypePlan]:
    """Plans for every base table; table names unique per target schema; FK columns take the
    type of the column they reference (so e.g. widened unsigned keys still match)."""
    options = options or TypeOptions()
    relations: dict[str, NameAllocator] = {}
    plans: list[TableTypePlan] = []
    for table in schema.base_tables:
        if tables is not None and table.name not in tables:
            continue
        tschema = target_schema or default_target_schema(table, schema.dialect, options)
        alloc = relations.setdefault(tschema, NameAllocator(options.naming))
        plans.append(plan_table(table, schema.dialect, options, tschema, alloc.take(table.name)))
    by_source = {(p.table.schema, p.table.name): p for p in plans}
    aligned: list[TableTypePlan] = []
    for plan in plans:
        cols = list(plan.columns)
        for fk in plan.table.foreign_keys:
            ref = by_source.get((fk.ref_schema or plan.table.schema, fk.ref_table))
            if ref is None:
                continue
            for src, dst in zip(fk.columns, fk.ref_columns, strict=False):
                i = next(i for i, c in enumerate(cols) if c.source == src)
                want = ref.column(dst).pg_type
                if cols[i].pg_type != want and cols[i].rule != "override":
                    note = f"type {want} taken from referenced {ref.target_name}.{dst}"
                    cols[i] = replace(cols[i], pg_type=want, notes=(*cols[i].notes, note))
        aligned.append(replace(plan, columns=tuple(cols)))
    return aligned
