"""The normalized schema model every connector introspects into.

Plain frozen dataclasses: a connector fills them from its catalog, the type map reads
them, DDL renders them, the engine plans from them. Names are kept exactly as the source
spells them (case, quotes, non-ASCII); quoting happens only when SQL is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.errors import NotFoundError


@dataclass(frozen=True)
class NativeType:
    """A column type as the source declares it."""

    name: str  # lower-case base name: "int", "varchar", "decimal", "enum", "timestamptz", ...
    length: int | None = None  # characters for text, bytes for binary, bits for bit(n)
    precision: int | None = None  # numeric precision or fractional-seconds precision
    scale: int | None = None
    unsigned: bool = False
    values: tuple[str, ...] = ()  # enum/set members, in declared order
    array_dims: int = 0  # PostgreSQL arrays: element type in `name`, dimensions here
    raw: str = ""  # the full declared text, e.g. "tinyint(1) unsigned", "character varying(40)[]"
    type_schema: str | None = None  # schema of a user-defined type (PostgreSQL enum/domain)
    base: NativeType | None = None  # a PostgreSQL domain's underlying type


@dataclass(frozen=True)
class Column:
    name: str
    native: NativeType
    nullable: bool = True
    default: str | None = None  # the default as SQL text in the source dialect
    is_identity: bool = False  # auto_increment / identity / serial / sqlite rowid alias
    generated: str | None = None  # expression of a generated (computed) column
    generated_stored: bool = True
    charset: str | None = None
    collation: str | None = None
    comment: str | None = None
    ordinal: int = 0
    # MySQL/MariaDB ON UPDATE CURRENT_TIMESTAMP: set to the time of every change of its row
    on_update_now: bool = False
    # PostgreSQL: functions of the source's own (not PostgreSQL's or an extension's) that
    # the default (or the generated column's expression) calls; functions are not copied, so
    # such a default is left out, such a generated column loaded as plain values
    default_calls: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForeignKey:
    name: str | None
    columns: tuple[str, ...]
    ref_schema: str | None
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "NO ACTION"  # NO ACTION, RESTRICT, CASCADE, SET NULL, SET DEFAULT
    on_update: str = "NO ACTION"


@dataclass(frozen=True)
class UniqueConstraint:
    name: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class CheckConstraint:
    name: str | None
    expression: str  # in the source dialect, as the catalog shows it


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str | None, ...]  # None where the entry is an expression
    unique: bool = False
    expressions: tuple[str, ...] = ()  # expression texts, in order, for the None entries
    method: str | None = None  # btree, hash, gin, spatial, fulltext ...
    where: str | None = None  # partial index predicate
    # per entry, PostgreSQL's words after it: a non-default operator class (pg_trgm's
    # public.gin_trgm_ops), DESC, NULLS FIRST (PostgreSQL sources; () when none has any)
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class TablePartition:
    """A PostgreSQL partition of a partitioned table, or of one of its partitions."""

    schema: str | None
    name: str
    parent_schema: str | None
    parent: str
    bound: str  # "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')", "DEFAULT", ...
    partition_by: str | None = None  # "RANGE (d)": partitioned in turn


@dataclass(frozen=True)
class Policy:
    """A PostgreSQL row-level security policy (CREATE POLICY), its expressions PostgreSQL's."""

    name: str
    permissive: bool
    command: str  # ALL, SELECT, INSERT, UPDATE, DELETE
    roles: tuple[str, ...]  # ("public",) for every role
    using: str | None = None
    check: str | None = None


@dataclass(frozen=True)
class Table:
    schema: str | None
    name: str
    columns: tuple[Column, ...]
    kind: str = "table"  # "table" or "view"
    primary_key: tuple[str, ...] = ()
    primary_key_name: str | None = None
    uniques: tuple[UniqueConstraint, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()
    checks: tuple[CheckConstraint, ...] = ()
    row_estimate: int | None = None
    size_bytes: int | None = None
    comment: str | None = None
    view_definition: str | None = None
    # the value the source would give its identity column next (AUTO_INCREMENT=777, a
    # sequence's last value + 1, sqlite_sequence + 1): the target's sequence starts there at
    # least, even when rows were deleted or the table is empty
    identity_next: int | None = None
    # PostgreSQL: other tables inherit from this one (INHERITS), and a plain SELECT would
    # return their rows too; its own rows are read with ONLY (the children are tables of
    # their own in the plan)
    has_children: bool = False
    # a PostgreSQL materialized view (kind "view"): made as one in the target, its rows
    # computed there from the copied tables, with its indexes
    materialized: bool = False
    # PostgreSQL: exclusion constraints (name, "EXCLUDE USING gist (...)" as PostgreSQL
    # prints it), row-level security ("enabled", "forced" or None) and its policies
    exclusions: tuple[CheckConstraint, ...] = ()
    row_security: str | None = None
    policies: tuple[Policy, ...] = ()
    # PostgreSQL declarative partitioning: the key ("RANGE (d)") and the partitions, each
    # after its parent (the rows are read through this table, the root)
    partition_by: str | None = None
    partitions: tuple[TablePartition, ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col

        raise NotFoundError(
            f"Table {self.qualified_name} has no column {name!r}; "
            f"columns are {[c.name for c in self.columns]}",
            table=self.qualified_name,
            column=name,
        )

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class SchemaObject:
    """A trigger, procedure, function or event of the source: named so a job can say it was
    not migrated (procedural code is not translated)."""

    kind: str  # "trigger", "procedure", "function", "event"
    schema: str | None
    name: str
    table: str | None = None  # a trigger's table

    @property
    def label(self) -> str:
        where = f" on {self.table}" if self.table else ""
        qualified = f"{self.schema}.{self.name}" if self.schema else self.name
        return f"{self.kind} {qualified}{where}"


@dataclass(frozen=True)
class DatabaseSchema:
    """What one connection holds: its tables and views, in catalog order."""

    dialect: str
    server_version: str | None = None
    tables: tuple[Table, ...] = ()
    enum_types: dict[str, tuple[str, ...]] = field(default_factory=dict)  # PostgreSQL enums
    extras: dict[str, Any] = field(default_factory=dict)
    # objects a copy does not carry over (triggers, procedures, functions, events)
    others: tuple[SchemaObject, ...] = ()

    def table(self, name: str, schema: str | None = None) -> Table:
        for t in self.tables:
            if t.name == name and (schema is None or t.schema == schema):
                return t

        known = ", ".join(t.qualified_name for t in self.tables[:20])
        raise NotFoundError(
            f"No table {schema + '.' if schema else ''}{name} in this {self.dialect} database; "
            f"known tables include: {known}",
            table=name,
        )

    @property
    def base_tables(self) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if t.kind == "table")


def same_type(native: NativeType, pg_type: str) -> bool:
    """Whether a source column's own type is exactly the target column's (PostgreSQL sources)."""
    return _bare(native.raw, native.type_schema) == _bare(pg_type, native.type_schema)


def _bare(type_name: str, schema: str | None) -> str:
    """A type's name without quotes, case or its own schema: ``"public"."mood"`` is mood."""
    bare = type_name.replace('"', "").strip().lower()
    prefix = f"{schema.lower()}." if schema else ""
    return bare[len(prefix) :] if prefix and bare.startswith(prefix) else bare
