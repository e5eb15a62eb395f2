"""Data of the type map: one rule per row, the options that switch rows, and the plans."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import InvalidInputError
from workbench.schema.model import Column, NativeType, Table
from workbench.schema.sqlexpr import pg_type


@dataclass(frozen=True)
class TypeOptions:
    """Switches of the type map. ``type_overrides`` maps a rule's source label (as in
    docs/type-mapping.md, e.g. ``"tinyint(1)"``, ``"datetime"``) or a raw native type (e.g.
    ``"int(11) unsigned"``) to a PostgreSQL type; ``column_overrides`` maps ``table.column`` or
    ``schema.table.column`` to a PostgreSQL type, or to ``{"type": ..., "read": ...}`` with a
    read expression in the source dialect."""

    tinyint1_as_boolean: bool = True  # MySQL tinyint(1) -> boolean (else smallint)
    enum: str = "check"  # "check": text + CHECK; "pg_enum": CREATE TYPE ... AS ENUM; "text"
    set_as: str = "array"  # MySQL set -> "array" (text[]) or "text" ("a,b")
    zero_dates: str = "null"  # MySQL zero dates: "null" (NULL, counted) or "strict" (fail)
    # MySQL's ENUM error value '' (stored for an invalid value in non-strict mode): "null"
    # (NULL, counted), "keep" (kept as '', allowed by the CHECK) or "quarantine" (refused)
    enum_invalid: str = "null"
    time_as: str = "interval"  # MySQL time (-838:59:59 .. 838:59:59) -> "interval" or "time"
    geometry: str = "wkb"  # spatial -> "wkb" (bytea) or "postgis" (geometry)
    naming: str = "keep"  # target names: "keep" or "snake"
    # PostgreSQL -> PostgreSQL column collations: "keep" (made in the target where they are
    # the source's own; PostgreSQL's must exist there) or "default" (the target database's)
    collations: str = "keep"
    type_overrides: Mapping[str, str] = field(default_factory=dict)
    column_overrides: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Every type name that will be pasted into DDL is a type name and nothing more."""
        if self.collations not in ("keep", "default"):
            raise InvalidInputError(
                f"Type option collations={self.collations!r}: use 'keep' (the source's column "
                "collations) or 'default' (the target database's)"
            )

        for label, target in self.type_overrides.items():
            pg_type(target, what=f"Type override for {label!r}")
        for column, value in self.column_overrides.items():
            column_type = value if isinstance(value, str) else (value or {}).get("type")
            pg_type(column_type, what=f"Column override for {column!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> TypeOptions:
        from dataclasses import fields

        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInputError(f"Unknown type options {unknown}; known: {sorted(known)}")
        return cls(**values)


Match = Callable[[NativeType, Column, TypeOptions], bool]


@dataclass(frozen=True)
class TypeRule:
    """One row of a dialect's map: ``source`` label -> ``target`` PostgreSQL type template.

    Templates use ``{length}``, ``{precision}``, ``{scale}``, ``{fsp}`` (fractional seconds
    precision, rendered as ``(n)`` or nothing) from the native type. ``read`` is a source
    dialect expression template over ``{col}`` (the quoted column) that makes the value exact
    and acceptable to PostgreSQL; ``safe_read`` marks it as kept under a type override.
    """

    source: str
    target: str
    note: str = ""
    names: tuple[str, ...] = ()  # native type names this row covers (default: from source)
    when: Match | None = None
    read: str | None = None
    safe_read: bool = False
    option: str = ""  # the TypeOptions switch this row depends on, for the docs

    def matches(self, native: NativeType, column: Column, options: TypeOptions) -> bool:
        names = self.names or (self.source.split("(")[0].split(" ")[0],)
        if "*" not in names and native.name not in names:
            return False
        return self.when is None or self.when(native, column, options)


@dataclass(frozen=True)
class ColumnPlan:
    """What one source column becomes in PostgreSQL, and how to read it."""

    source: str
    target: str
    pg_type: str
    nullable: bool = True
    default: str | None = None  # PostgreSQL SQL text (literals quoted), or None
    read_expression: str | None = None  # source dialect; None = plain column
    # source-dialect condition under which the read expression turns a stored value into
    # NULL (a zero date, an ENUM error value), and what such values are, for the job's log
    nulled_when: str | None = None
    nulled_what: str = ""
    # source-dialect condition under which the row is refused (quarantined) with this reason
    rejected_when: str | None = None
    rejected_why: str = ""
    is_identity: bool = False
    generated: str | None = None  # PostgreSQL expression of a generated column (not loaded)
    enum_values: tuple[str, ...] = ()  # for "check" and "pg_enum"
    enum_type: str | None = None  # target enum type name (option enum="pg_enum")
    rule: str = ""  # the source label of the rule applied ("override" when overridden)
    notes: tuple[str, ...] = ()
    comment: str | None = None
    # (schema, name) of the column's own collation, PostgreSQL -> PostgreSQL only (other
    # engines' collations have no PostgreSQL name: the target database's default applies)
    collation: tuple[str, str] | None = None

    @property
    def is_loaded(self) -> bool:
        return self.generated is None


@dataclass(frozen=True)
class TableTypePlan:
    table: Table
    target_schema: str | None
    target_name: str
    columns: tuple[ColumnPlan, ...]
    notes: tuple[str, ...] = ()

    def column(self, source: str) -> ColumnPlan:
        for c in self.columns:
            if c.source == source:
                return c
        raise KeyError(source)

    @property
    def read_expressions(self) -> dict[str, str]:
        """Source column -> read expression: pass to ``Connector.read_partition``."""
        return {c.source: c.read_expression for c in self.columns if c.read_expression}

    @property
    def loaded_columns(self) -> tuple[ColumnPlan, ...]:
        return tuple(c for c in self.columns if c.is_loaded)


@dataclass(frozen=True)
class ReadRefinement:
    """What a kind's own value rules add to a column's plan: a read expression, the values
    it turns into NULL (counted) or refuses (quarantined), and the enum members kept."""

    read: str | None
    enum_values: tuple[str, ...] = ()
    nulled_when: str | None = None
    nulled_what: str = ""
    rejected_when: str | None = None
    rejected_why: str = ""
    notes: tuple[str, ...] = ()


# (column, the rule's plain refinement, options) -> the kind's refinement (see TypeMap)
Refine = Callable[[Column, ReadRefinement, TypeOptions], ReadRefinement]


@dataclass(frozen=True)
class TypeMap:
    """One source kind's type rules, and what the planner may assume of that kind."""

    rules: tuple[TypeRule, ...]
    # the target's own engine: types, defaults, checks and generated columns copied verbatim
    same_engine: bool = False
    # its schemas (a MySQL database, a PostgreSQL schema) name the target's schemas
    schemas_are_namespaces: bool = False
    refine: Refine | None = None  # value rules of this kind (MySQL: zero dates, ENUM '')
