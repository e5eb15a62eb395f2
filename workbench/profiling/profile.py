"""Profile one table of a connection: push-down aggregates, a sample, then the column facts.

:func:`profile_table` is the one entry point the CLI, the widget, Dask tasks and the store
cache call. Its cost on a large table is two scans inside the database (aggregates, then
the HyperLogLog sketches), an exact ``COUNT(*)`` and one sample of ``sample_size`` rows;
nothing bigger than the sample is ever held in memory.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from workbench.connectors.base import Connector
from workbench.connectors.dialect import SqlDialect
from workbench.connectors.sqltext import quote_ident, table_ref
from workbench.errors import NotFoundError
from workbench.profiling import fingerprint as fp
from workbench.profiling import pushdown, quality, sampling, stats
from workbench.profiling.model import ColumnProfile, TableProfile
from workbench.schema.model import Table
from workbench.schema.types import plan_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProfileOptions:
    sample_size: int = 10_000  # rows sampled for quantiles, top values, shapes, semantics
    exact_distinct_rows: int = 200_000  # up to this many rows: exact distinct counts, FK checks
    fingerprint_exact_rows: int = 500_000  # up to this many rows: exact content hash
    min_share: float = 0.6  # share of values a semantic type needs
    seed: int = 0

    def to_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def find_table(connector: Connector, name: str) -> Table:
    """A table by name (``schema.name`` or ``name``), introspected from the connection."""
    schema, _, bare = name.rpartition(".")
    found = connector.introspect(tables=[bare]).tables
    matches = [t for t in found if t.name == bare and (not schema or t.schema == schema)]
    if not matches:
        raise NotFoundError(
            f"No table {name!r} in {connector!r}; list tables with `workbench schema show`",
            table=name,
        )
    return matches[0]


def column_categories(table: Table, dialect: str) -> tuple[dict[str, str], dict[str, str]]:
    """(column -> category, column -> planned PostgreSQL type)."""
    plan = plan_table(table, dialect)
    pg_types = {c.source: c.pg_type for c in plan.columns}
    return {n: pushdown.category(pg_types.get(n, "")) for n in table.column_names}, pg_types


def _invalid_counts(connector: Connector, table: Table, pg_types: dict[str, str]) -> dict[str, int]:
    """Values that break the declared type, where the connector can count them."""
    if hasattr(connector, "count_type_mismatches"):  # SQLite
        return connector.count_type_mismatches(table, pg_types)
    if hasattr(connector, "count_zero_dates"):  # MySQL / MariaDB
        return connector.count_zero_dates(table)
    return {}


def text_reads(
    dialect: SqlDialect, categories: dict[str, str], which: tuple[str, ...]
) -> dict[str, str]:
    """Columns of the ``which`` categories read as text (values a driver hands out badly)."""
    if not dialect.profile.json_as_text:
        return {}
    as_text = dialect.profile.as_text
    return {n: as_text.format(dialect.quote(n)) for n, cat in categories.items() if cat in which}


def _orphans(connector: Connector, table: Table, dialect: str) -> dict[str, int]:
    """Per single-column foreign key: child values with no parent row (an anti-join)."""
    out: dict[str, int] = {}
    for fk in table.foreign_keys:
        if len(fk.columns) != 1 or len(fk.ref_columns) != 1:
            continue
        parent = Table(fk.ref_schema or table.schema, fk.ref_table, ())
        c, p = quote_ident(fk.columns[0], dialect), quote_ident(fk.ref_columns[0], dialect)
        sql = (
            f"SELECT COUNT(*) FROM {table_ref(table, dialect)} ch WHERE ch.{c} IS NOT NULL AND "
            f"NOT EXISTS (SELECT 1 FROM {table_ref(parent, dialect)} pa WHERE pa.{p} = ch.{c})"
        )
        out[fk.columns[0]] = int(connector.run(sql)[0][0])
    return out


def profile_table(
    connector: Connector, table: Table | str, options: ProfileOptions | None = None
) -> TableProfile:
    """Profile every column of ``table`` (a :class:`Table` or its name)."""
    options = options or ProfileOptions()
    start = time.perf_counter()
    if isinstance(table, str):
        table = find_table(connector, table)
    dialect = connector.dialect
    run = connector.run
    categories, pg_types = column_categories(table, dialect.name)
    rows = connector.count(table)
    exact = rows <= options.exact_distinct_rows
    rows, aggs = pushdown.aggregates(run, table, dialect, categories, exact_distinct=exact)
    if not exact:
        wanted = [n for n, a in aggs.items() if a.distinct is None]
        for name, n in pushdown.approximate_distinct(run, table, dialect, wanted).items():
            aggs[name].distinct, aggs[name].distinct_method = n, "approximate (hyperloglog)"
    read = text_reads(dialect, categories, ("json", "other"))
    sample = sampling.sample_rows(
        run, table, dialect, rows, options.sample_size, seed=options.seed, read=read
    )
    whole = sample.method == "whole table"
    invalid = _invalid_counts(connector, table, pg_types)
    orphans = _orphans(connector, table, dialect.name) if exact else {}
    keys = set(table.primary_key) | {u.columns[0] for u in table.uniques if len(u.columns) == 1}
    if len(table.primary_key) > 1:
        keys -= set(table.primary_key)  # a composite key says nothing about one column
    columns: list[ColumnProfile] = []
    for col in table.columns:
        agg = aggs[col.name]
        prof = ColumnProfile(
            name=col.name,
            native_type=col.native.raw or col.native.name,
            pg_type=pg_types.get(col.name, ""),
            category=categories[col.name],
            rows=rows,
            nulls=agg.nulls,
            distinct=agg.distinct,
            distinct_method=agg.distinct_method,
            min=agg.min,
            max=agg.max,
            mean=agg.mean,
            stddev=agg.stddev,
            length=agg.length or {},
            invalid=int(invalid.get(col.name, 0)),
            orphans=orphans.get(col.name),
            is_key=col.name in keys,
        )
        stats.fill_from_sample(
            prof, sample.column(col.name), whole_table=whole, min_share=options.min_share
        )
        prof.quality = quality.score_column(prof, nullable=col.nullable)
        columns.append(prof)
    signal = fp.content_signal(run, table, dialect, rows, options.fingerprint_exact_rows)
    result = TableProfile(
        schema=table.schema,
        table=table.name,
        dialect=dialect.name,
        rows=rows,
        sample_rows=len(sample.rows),
        sample_size=options.sample_size,
        sample_method=sample.method,
        fingerprint=fp.fingerprint(table, rows, signal),
        seconds=round(time.perf_counter() - start, 3),
        columns=columns,
        profiled_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    result.quality = quality.score_table(result)
    log.info("profiled %s: %s rows in %.2fs", table.qualified_name, rows, result.seconds)
    return result
