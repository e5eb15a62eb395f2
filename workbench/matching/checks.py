"""Checks of a project's saved mappings before a run: the problems, each with a clear message.

- ``type_mismatch``: the source column's PostgreSQL type (from the type map) cannot go into
  the target column's type without a cast, and the transform has none;
- ``required_unmapped``: a target column that is NOT NULL, without a default or identity,
  receives nothing;
- ``duplicate_target``: two source columns go into one target column;
- ``transform_fails``: a transform rule rejects sample values (a dry run with the engine's
  own ``apply_transforms`` on a sample read from the source), or is not a valid rule;
- ``missing_column`` / ``missing_table``: the mapping names what the databases lack.

Severity ``error`` stops a run; ``warning`` is worth a look.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from workbench.connectors import Connector, connect
from workbench.errors import NotFoundError, WorkbenchError
from workbench.matching import types as families
from workbench.matching.mappings import SchemaMappingRecord, list_mappings
from workbench.matching.reading import read_batch
from workbench.schema.model import DatabaseSchema, Table
from workbench.schema.types import plan_column
from workbench.store import connections
from workbench.transforms.rules import ColumnTransform, apply_transforms, arrow_type

if TYPE_CHECKING:
    from workbench.store import Store
    from workbench.store.projects import ProjectRef

SAMPLE_ROWS = 200

# (source family, target family) pairs that need no cast: widening, or anything into text
_SAFE = {("integer", "decimal"), ("date", "datetime"), ("boolean", "integer")}


@dataclass(frozen=True)
class MappingProblem:
    severity: str  # "error" | "warning"
    code: str
    mapping_id: int
    source_table: str
    target_table: str
    column: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fits_without_cast(source_type: str, target_type: str) -> bool:
    """Can a value of PostgreSQL type ``source_type`` go into ``target_type`` as it is?"""
    a, b = families.family(source_type), families.family(target_type)
    return a == b or b == "text" or "other" in (a, b) or (a, b) in _SAFE


def _cast_family(cast: str) -> str:
    t = arrow_type(cast)
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_timestamp(t):
        return "datetime"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_binary(t):
        return "binary"
    return "text"


def check_mappings(
    store: Store, project: ProjectRef, *, sample_rows: int = SAMPLE_ROWS
) -> list[MappingProblem]:
    """Every problem of the project's mappings (accepted column mappings), errors first."""
    problems: list[MappingProblem] = []
    by_pair: dict[tuple[int, int], list[SchemaMappingRecord]] = defaultdict(list)
    records = list_mappings(store, project)
    ids = {}
    for m in records:
        src = connections.get_connection(store, project, m.source_connection)
        tgt = connections.get_connection(store, project, m.target_connection)
        ids[m.id] = (src, tgt)
        by_pair[(src.id, tgt.id)].append(m)
    for (_src_id, _tgt_id), mappings in by_pair.items():
        src, tgt = ids[mappings[0].id]
        source = connect(connections.connection_url(store, src), options=src.options)
        target = connect(connections.connection_url(store, tgt), options=tgt.options)
        try:
            s_schema, t_schema = source.introspect(), target.introspect()
            for m in mappings:
                problems += check_mapping(m, source, s_schema, t_schema, sample_rows)
        finally:
            source.close()
            target.close()
    return sorted(problems, key=lambda p: (p.severity != "error", p.mapping_id, p.column or ""))


@dataclass(frozen=True)
class _Check:
    """What every rule of one mapping's check sees."""

    mapping: SchemaMappingRecord
    source: Connector
    s_table: Table
    t_table: Table | None  # None: the engine creates the target table from the mapping
    dialect: str
    sample_rows: int

    @property
    def label(self) -> str:
        return f"{self.mapping.source_table} -> {self.mapping.target_table}"

    def problem(self, severity: str, code: str, column: str | None, message: str) -> MappingProblem:
        """A problem whose message is prefixed with the table pair."""
        return self.raw_problem(severity, code, column, f"{self.label}: {message}")

    def raw_problem(
        self, severity: str, code: str, column: str | None, message: str
    ) -> MappingProblem:
        m = self.mapping
        return MappingProblem(severity, code, m.id, m.source_table, m.target_table, column, message)


def check_mapping(
    mapping: SchemaMappingRecord,
    source: Connector,
    source_schema: DatabaseSchema,
    target_schema: DatabaseSchema,
    sample_rows: int = SAMPLE_ROWS,
) -> list[MappingProblem]:
    """The problems of one schema_mapping against both databases as they are now: each rule of
    :data:`RULES` in turn (a mapping whose source table is gone has only that problem)."""
    try:
        s_table = source_schema.table(mapping.source_table, mapping.source_schema)
    except NotFoundError:
        label = f"{mapping.source_table} -> {mapping.target_table}"
        return [MappingProblem("error", "missing_table", mapping.id, mapping.source_table,
                               mapping.target_table, None,
                               f"{label}: the source table is gone")]  # fmt: skip
    try:
        t_table: Table | None = target_schema.table(mapping.target_table, mapping.target_schema)
    except NotFoundError:
        t_table = None
    check = _Check(mapping, source, s_table, t_table, source_schema.dialect, sample_rows)
    return [found for rule in RULES for found in rule(check)]


def _duplicate_targets(check: _Check) -> list[MappingProblem]:
    """Two sources on one target: accepted ones conflict; an open suggestion is a warning."""
    by_target: dict[str, list[Any]] = defaultdict(list)
    for c in check.mapping.columns:
        if c.state != "rejected":
            by_target[c.target_column].append(c)
    out = []
    for target_column, rows in by_target.items():
        if len(rows) > 1:
            n_accepted = sum(c.state == "accepted" for c in rows)
            who = ", ".join(f"{c.source_column or '(computed)'} ({c.state})" for c in rows)
            out.append(
                check.problem(
                    "error" if n_accepted > 1 else "warning",
                    "duplicate_target",
                    target_column,
                    f"target column {target_column!r} has {len(rows)} sources: {who}; "
                    "reject all but one",
                )
            )
    return out


def _missing_columns(check: _Check) -> list[MappingProblem]:
    """Accepted mappings naming a column that is not there (source, or an existing target)."""
    out = []
    for c in check.mapping.accepted():
        if c.source_column and c.source_column not in check.s_table.column_names:
            out.append(
                check.problem(
                    "error",
                    "missing_column",
                    c.source_column,
                    f"source column {c.source_column!r} does not exist; update the mapping",
                )
            )
        t_table = check.t_table
        if t_table is not None and c.target_column not in t_table.column_names:
            out.append(
                check.problem(
                    "error",
                    "missing_column",
                    c.target_column,
                    f"target column {c.target_column!r} does not exist in {t_table.qualified_name}",
                )
            )
    return out


def _required_unmapped(check: _Check) -> list[MappingProblem]:
    """NOT NULL target columns without a default that nothing is mapped to."""
    if check.t_table is None:
        return []
    mapped = {c.target_column for c in check.mapping.accepted()}
    out = []
    for col in check.t_table.columns:
        required = not col.nullable and col.default is None and not col.is_identity
        if required and not col.generated and col.name not in mapped:
            out.append(
                check.problem(
                    "error",
                    "required_unmapped",
                    col.name,
                    f"target column {col.name!r} is NOT NULL without a default but no source "
                    "column is mapped to it; map one, or add a computed column with a default",
                )
            )
    return out


def _types(check: _Check) -> list[MappingProblem]:
    """Accepted pairs whose source type (or cast) does not fit an existing target column."""
    if check.t_table is None:
        return []
    return _type_problems(check.mapping, check.s_table, check.t_table, check.dialect,
                          check.raw_problem, check.label)  # fmt: skip


def _dry_runs(check: _Check) -> list[MappingProblem]:
    """The accepted transforms, run on sample rows as the engine would run them."""
    return _dry_run(check.mapping, check.source, check.s_table, check.sample_rows,
                    check.raw_problem, check.label)  # fmt: skip


# the checks of one mapping, in the order their problems are listed
RULES: tuple[Callable[[_Check], list[MappingProblem]], ...] = (
    _duplicate_targets,
    _missing_columns,
    _types,
    _required_unmapped,
    _dry_runs,
)


def _type_problems(mapping, s_table, t_table, dialect, problem, label) -> list[MappingProblem]:
    out = []
    for c in mapping.accepted():
        if (
            not c.source_column
            or c.source_column not in s_table.column_names
            or c.target_column not in t_table.column_names
        ):
            continue
        rule = c.transform or {}
        if rule.get("expression") or rule.get("date_format") or rule.get("value_map"):
            continue  # the value changes shape: the dry run tells
        target_type = t_table.column(c.target_column).native.raw
        if rule.get("cast"):
            try:
                cast_family = _cast_family(rule["cast"])
            except WorkbenchError:
                continue  # reported by the dry run as an invalid rule
            if not fits_without_cast(cast_family, target_type):
                out.append(
                    problem(
                        "error",
                        "type_mismatch",
                        c.target_column,
                        f"{label}: {c.source_column} is cast to {rule['cast']}, which does not "
                        f"fit target column {c.target_column!r} of type {target_type}",
                    )
                )
            continue
        try:
            source_type = plan_column(s_table, s_table.column(c.source_column), dialect).pg_type
        except WorkbenchError as exc:
            out.append(problem("error", "type_mismatch", c.source_column, f"{label}: {exc}"))
            continue
        if not fits_without_cast(source_type, target_type):
            out.append(
                problem(
                    "error",
                    "type_mismatch",
                    c.target_column,
                    f"{label}: source column {c.source_column!r} becomes {source_type} but "
                    f"target column {c.target_column!r} is {target_type}; add a cast to the "
                    "transform (e.g. {'cast': 'int64'}) or map another column",
                )
            )
    return out


def _dry_run(mapping, source, s_table, sample_rows, problem, label) -> list[MappingProblem]:
    """Run the accepted transforms on a sample of source rows, as the engine would."""
    out: list[MappingProblem] = []
    transforms: list[ColumnTransform] = []
    for c in mapping.accepted():
        if not c.transform:
            continue
        if c.source_column and c.source_column not in s_table.column_names:
            continue
        try:
            transforms.append(
                ColumnTransform.from_rule(c.target_column, c.source_column, c.transform)
            )
        except WorkbenchError as exc:
            out.append(
                problem(
                    "error",
                    "transform_fails",
                    c.target_column,
                    f"{label}: the transform of {c.target_column!r} is not valid: {exc}",
                )
            )
    if not transforms:
        return out
    columns = sorted({t.source for t in transforms if t.source and not t.expression})
    expressions = {t.target: t.expression for t in transforms if t.expression}
    if not columns and not expressions:
        columns = [s_table.column_names[0]]  # computed columns only: any column gives the rows
    try:
        batch = read_batch(
            source, s_table, sample_rows, columns=[*columns, *expressions], expressions=expressions
        )
    except WorkbenchError as exc:
        return [*out, problem("error", "transform_fails", None, f"{label}: {exc}")]
    for t in transforms:
        out += _dry_run_one(t, batch, problem, label)
    return out


def _dry_run_one(t: ColumnTransform, batch: pa.RecordBatch, problem, label) -> list:
    try:
        _, rejected = apply_transforms(batch, [t])
    except (pa.ArrowException, ValueError, TypeError, WorkbenchError) as exc:
        return [
            problem(
                "error",
                "transform_fails",
                t.target,
                f"{label}: the transform of {t.target!r} fails on sample values: "
                f"{type(exc).__name__}: {exc}",
            )
        ]
    if not rejected:
        return []
    column = t.target if t.expression else t.source
    values = batch.column(batch.schema.get_field_index(column)) if column else None
    first = min(rejected)
    example = values[first].as_py() if values is not None else None
    return [
        problem(
            "error",
            "transform_fails",
            t.target,
            f"{label}: the transform of {t.target!r} rejects {len(rejected)} of "
            f"{batch.num_rows} sample rows ({rejected[first]}; e.g. value {example!r}); fix "
            "the rule, or set on_error to 'null'",
        )
    ]
