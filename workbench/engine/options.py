"""The options of a copy or migration job and the result it returns (both plain data)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from workbench import render
from workbench.engine.validate import ValidationReport
from workbench.errors import InvalidInputError

# option -> (its proven default, what changes): any other value needs the feature flag
# `experimental_engine` (see workbench.store.flags and engine.run.check_experimental)
EXPERIMENTAL_FLAG = "experimental_engine"
EXPERIMENTAL_OPTIONS: dict[str, tuple[Any, str]] = {
    "read_ahead": (2, "batches read ahead of the COPY per task"),
}


def with_tuples(options: dict[str, Any]) -> dict[str, Any]:
    """``tables="orders"`` or ``tables=["orders"]`` as CopyOptions keeps them (tuples), for
    options that come from Python, JSON or the store."""
    out = dict(options)
    for name in ("tables", "exclude"):
        value = out.get(name)
        if isinstance(value, str):
            out[name] = (value,)
        elif value is not None:
            out[name] = tuple(value)
    return out


@dataclass(frozen=True)
class CopyOptions:
    """Everything that shapes a copy job (all JSON-able; stored on the job)."""

    tables: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    target_schema: str | None = None  # default: the source's schema/database name
    workers: int | None = None
    dask_address: str | None = None
    validate: bool = True
    if_exists: str = "fail"  # fail | replace | append
    partition_rows: int = 250_000
    batch_rows: int = 50_000
    max_bad_rows: int | None = 10_000
    max_bad_ratio: float | None = None
    max_rows_per_second: float | None = None  # the job's total, across all its partitions
    # partitions copied at once (each holds a source and a target connection); None: the
    # cluster's threads, but at most half the connections each server has free
    max_connections: int | None = None
    # a file source (SQLite, DuckDB, CSV/Parquet folder) is at the same path on every worker
    shared_files: bool = False
    finish: bool = True  # keys, indexes, foreign keys, sequences after the load
    type_options: dict[str, Any] = field(default_factory=dict)
    # table -> column -> transform rule (see transforms.rules)
    transforms: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # a project's saved mappings (see engine.migrate): source table -> target table and columns
    mapping: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the source connection's connector options (e.g. sample_threshold): a stored
    # connection's options reach every connection the job opens to it
    source_options: dict[str, Any] = field(default_factory=dict)
    # batches each task reads ahead of its COPY; deeper overlaps slow sources more but holds
    # more batches in memory per worker (experimental: see EXPERIMENTAL_OPTIONS)
    read_ahead: int = 2
    # SQL run on the target (as pgloader's BEFORE/AFTER LOAD DO): before its tables are made,
    # and after the job's tables are loaded, keyed and validated; each list in one transaction
    before_sql: tuple[str, ...] = ()
    after_sql: tuple[str, ...] = ()
    # record where the source's change stream ends before the first row is read, so that
    # `workbench follow JOB` can apply every later change (engine.follow)
    follow: bool = False

    def __post_init__(self) -> None:
        if self.if_exists not in ("fail", "replace", "append"):
            raise InvalidInputError("if_exists must be fail, replace or append")
        if self.partition_rows < 1 or self.batch_rows < 1:
            raise InvalidInputError("partition_rows and batch_rows must be positive")
        if self.workers is not None and self.workers < 1:
            raise InvalidInputError("--workers must be at least 1")
        if self.max_connections is not None and self.max_connections < 1:
            raise InvalidInputError("--max-connections must be at least 1")
        if isinstance(self.read_ahead, bool) or not 1 <= self.read_ahead <= 64:
            raise InvalidInputError(f"read_ahead must be 1..64 batches, got {self.read_ahead!r}")

    def experimental(self) -> list[str]:
        """Names of the experimental options this job sets away from their default."""
        return [
            name
            for name, (default, _why) in EXPERIMENTAL_OPTIONS.items()
            if getattr(self, name) != default
        ]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tables"], data["exclude"] = list(self.tables), list(self.exclude)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CopyOptions:
        data = dict(data)
        data["tables"] = tuple(data.get("tables") or ())
        data["exclude"] = tuple(data.get("exclude") or ())
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class JobResult:
    job_id: int
    status: str
    tables: dict[str, dict[str, Any]]
    rows_copied: int
    rows_quarantined: int
    rows_read: int
    seconds: float
    rows_per_second: float
    validated: bool
    validation: ValidationReport | None = None
    warnings: list[str] = field(default_factory=list)
    dashboard_link: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    # objects the target does not have, with the reason: {"object": ..., "reason": ...}
    not_migrated: list[dict[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The JSON object the CLI prints last with --json."""
        return {
            "job_id": self.job_id,
            "status": self.status,
            "tables": self.tables,
            "rows_read": self.rows_read,
            "rows_copied": self.rows_copied,
            "rows_quarantined": self.rows_quarantined,
            "seconds": self.seconds,
            "rows_per_second": self.rows_per_second,
            "validated": self.validated,
            "validation": self.validation.as_dict() if self.validation else None,
            "warnings": self.warnings,
            "not_migrated": self.not_migrated,
            "phases": self.phases,
        }

    def _repr_html_(self) -> str:  # a notebook cell shows the job at a glance
        return render.job_html(self.summary())

    def __str__(self) -> str:
        return render.job_text(self.summary())
