"""Prove a copy: row counts and content checksums per partition, inside both databases.

Source partitions are checksummed with the source's own SQL (see ``connectors.checksums``)
over the values as the job reads them (pushed-down read expressions included); the target
table over the same key range. Rows the job quarantined are excluded from the source side by
their keys, so "loaded + quarantined = read" is checked exactly. Columns transformed in
Python (trim, case, value maps, masks...) cannot be recomputed by the source and are listed
as not content-checked. Keys whose order may differ between the two databases (text under
different collations) are compared per table rather than per partition.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import psycopg
from psycopg import sql as psql

from workbench.connectors import connect
from workbench.connectors.base import Partition, PartitionChecksum
from workbench.connectors.checksums import (
    APPROXIMATE,
    PRESENCE,
    ChecksumColumn,
    binary_hash_agrees,
    category_of,
    contiguous,
    same_engine,
)
from workbench.connectors.checksums import checksum_partition as run_checksum
from workbench.connectors.checksums import checksum_partitions as run_checksums
from workbench.connectors.sqltext import quote_ident
from workbench.engine import bookkeeping
from workbench.engine.partitions import INTEGER_TYPES, target_ranges_safe
from workbench.engine.plan import MigrationPlan, TablePlan
from workbench.errors import ValidationFailedError
from workbench.schema.model import same_type

log = logging.getLogger(__name__)

MAX_EXCLUDED_KEYS = 5000
_T = TypeVar("_T")

# (non-NULL count, sum[, largest magnitude]) of a float or JSON column
_Approximate = tuple[int, float | None] | tuple[int, float | None, float | None]


@dataclass
class PartitionCheck:
    table: str
    index: int
    source_rows: int
    target_rows: int
    quarantined: int
    ok: bool
    reason: str = ""
    lower: Any = None
    upper: Any = None


@dataclass
class TableCheck:
    table: str
    target: str
    source_rows: int = 0
    target_rows: int = 0
    quarantined: int = 0
    ok: bool = True
    per_partition: bool = True
    mismatched_partitions: list[int] = field(default_factory=list)
    unchecked_columns: dict[str, str] = field(default_factory=dict)
    approximate_columns: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass
class ValidationReport:
    ok: bool
    tables: list[TableCheck]
    partitions: list[PartitionCheck]

    @property
    def mismatched(self) -> list[TableCheck]:
        return [t for t in self.tables if not t.ok]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tables": [asdict(t) for t in self.tables],
            "mismatched_partitions": [asdict(p) for p in self.partitions if not p.ok],
        }


def checksum_columns(
    plan: TablePlan, source_dialect: str
) -> tuple[list[ChecksumColumn], list[ChecksumColumn], dict[str, str], dict[str, str]]:
    """Source and target checksum columns, target types, and the columns left unchecked."""
    src, tgt, types, unchecked = [], [], {}, {}
    for col in plan.columns:
        if col.transform is not None and not col.transform.is_identity:
            unchecked[col.name] = (
                "transformed in Python ("
                + ", ".join(sorted(k for k in col.transform.to_rule() if k != "expression"))
                + ")"
            )
            continue
        # a computed column of a saved mapping is named after its target: no such source column
        source_col = next((c for c in plan.source.columns if c.name == col.source), None)
        if source_col is None and not col.read_expression:
            unchecked[col.name] = "no source column"
            continue
        native = source_col.native.raw if source_col else ""
        category = category_of(col.pg_type, (native or "").lower(), source_dialect)
        # a read expression may turn values into NULL (zero dates): keep the NULL marker then
        nullable = col.read_expression is not None or source_col is None or source_col.nullable
        charset = (source_col.charset or "") if source_col else ""
        is_utf8 = not charset or charset.lower().startswith(("utf8", "ascii"))
        if col.read_expression:
            expression = col.read_expression
        else:
            assert col.source is not None  # no source column and no read: skipped above
            expression = quote_ident(col.source, source_dialect)
        if category in ("set", "bit") and col.source:
            # the read renders PostgreSQL input text (an array literal, a 0/1 string): the
            # canonical form is computed from the stored value instead
            expression = quote_ident(col.source, source_dialect)
        same = (
            source_col is not None
            and not col.read_expression
            and same_engine(source_dialect)
            and same_type(source_col.native, col.pg_type)
        )
        src.append(ChecksumColumn(col.name, expression, category, nullable, is_utf8, same))
        target_expr = quote_ident(col.name, "postgresql")
        tgt.append(
            ChecksumColumn(col.name, target_expr, category, nullable or col.nullable, True, same)
        )
        types[col.name] = col.pg_type
    return src, tgt, types, unchecked


def target_partition(plan: TablePlan, partition: Partition) -> Partition:
    rename = {c.source: c.name for c in plan.columns if c.source}
    keys = tuple(rename.get(k, k) for k in partition.key_columns)
    return Partition(
        plan.target_name,
        plan.target_schema,
        partition.index,
        keys,
        partition.lower,
        partition.upper,
    )


def _approx_equal(a: _Approximate, b: _Approximate) -> bool:
    """(count, sum, largest magnitude) of a float column on each side, sums in double."""
    if a[0] != b[0]:
        return False
    if a[1] is None or b[1] is None:
        return (a[1] is None and b[1] is None) or a[0] == 0
    if not (math.isfinite(a[1]) and math.isfinite(b[1])):  # infinities, NaN: the same or not
        return a[1] == b[1] or (math.isnan(a[1]) and math.isnan(b[1]))
    # the same n values summed in another order: each addition rounds by at most 2^-53 of a
    # partial sum, itself at most n * max|x| (cancelling values such as 3.4e38 and -3.4e38)
    magnitude = max((s[2] for s in (a, b) if len(s) > 2 and s[2] is not None), default=0.0)
    slack = 2.0 * a[0] * a[0] * 2.0**-53 * magnitude
    return math.isclose(a[1], b[1], rel_tol=1e-9, abs_tol=max(1e-9, slack))


CONTENT_DIFFERS = "content checksums differ"


def _differing_columns(
    sides: ValidationSides,
    tp: TablePlan,
    p: Partition,
    src_cols: list[ChecksumColumn],
    tgt_cols: list[ChecksumColumn],
    types: dict[str, str],
    excluded: list[tuple[Any, ...]] | None,
) -> list[str]:
    """Name the columns whose values differ: one single-column checksum per side and column."""
    out = []
    target_p = target_partition(tp, p)
    for s_col, t_col in zip(src_cols, tgt_cols, strict=True):
        if s_col.category in (APPROXIMATE, PRESENCE):
            continue
        a = sides.source(tp, p, [s_col], types, excluded)
        b = sides.target(tp, target_p, [t_col], types)
        if a.checksum != b.checksum:
            out.append(s_col.name)
    return out


def _compare(src: PartitionChecksum, tgt: PartitionChecksum) -> str:
    if src.rows != tgt.rows:
        return f"row counts differ: source {src.rows}, target {tgt.rows}"
    if src.checksum != tgt.checksum:
        return CONTENT_DIFFERS
    for col, value in src.approximate.items():
        if not _approx_equal(value, tgt.approximate.get(col, (-1, None))):
            other = tgt.approximate.get(col)
            return f"column {col}: count/sum differ (source {value}, target {other})"
    return ""


class ValidationSides:
    """Runs checksum queries on either side, each in its own short-lived connection."""

    def __init__(self, source_url: str, target_url: str, connect_timeout: float) -> None:
        self.source_url, self.target_url, self.timeout = source_url, target_url, connect_timeout
        probe = connect(source_url, connect_timeout=connect_timeout)
        try:
            self.source_dialect = probe.capabilities.dialect
            # PostgreSQL on both sides: rows hashed by their values' binary hashes, not as text
            self.binary = False
            if same_engine(self.source_dialect):
                target = connect(target_url, connect_timeout=connect_timeout)
                try:
                    self.binary = binary_hash_agrees(probe, target)
                finally:
                    target.close()
        finally:
            probe.close()

    def source(
        self,
        tp: TablePlan,
        p: Partition,
        cols: list[ChecksumColumn],
        types: dict[str, str],
        excluded: list[tuple[Any, ...]] | None,
    ) -> PartitionChecksum:
        conn = connect(self.source_url, connect_timeout=self.timeout)
        try:
            exclude = (tp.key_columns, excluded) if excluded else None
            return run_checksum(
                conn,
                tp.source,
                p,
                cols,
                self.source_dialect,
                types,
                exclude=exclude,
                binary=self.binary,
            )
        finally:
            conn.close()

    def source_rows(self, tp: TablePlan, p: Partition) -> PartitionChecksum:
        """The partition's row count alone: where quarantined rows cannot be left out by key,
        only counts are compared, and the checksum would hash the rows the reader refused."""
        conn = connect(self.source_url, connect_timeout=self.timeout)
        try:
            return PartitionChecksum(rows=conn.count(tp.source, p), checksum=0)
        finally:
            conn.close()

    def source_count(self, tp: TablePlan) -> int:
        conn = connect(self.source_url, connect_timeout=self.timeout)
        try:
            return conn.count(tp.source)
        finally:
            conn.close()

    def target_count(self, tp: TablePlan) -> int:
        query = psql.SQL("SELECT count(*) FROM {}").format(
            psql.Identifier(tp.target_schema, tp.target_name)
        )
        with psycopg.connect(self.target_url, connect_timeout=int(self.timeout)) as conn:
            row = conn.execute(query).fetchone()
            assert row is not None  # an aggregate without GROUP BY returns one row
            return int(row[0])

    def target_duplicate_keys(self, tp: TablePlan) -> int:
        """How many key values the target holds more than once (0 when every key is unique)."""
        rename = {c.source: c.name for c in tp.columns if c.source}
        keys = [rename.get(k, k) for k in tp.key_columns]
        query = psql.SQL(
            "SELECT count(*) FROM (SELECT 1 FROM {} GROUP BY {} HAVING count(*) > 1) d"
        ).format(
            psql.Identifier(tp.target_schema, tp.target_name),
            psql.SQL(", ").join(psql.Identifier(k) for k in keys),
        )
        with psycopg.connect(self.target_url, connect_timeout=int(self.timeout)) as conn:
            row = conn.execute(query).fetchone()
            assert row is not None  # an aggregate without GROUP BY returns one row
            return int(row[0])

    def target_partitions(
        self,
        tp: TablePlan,
        parts: list[Partition],
        cols: list[ChecksumColumn],
        types: dict[str, str],
    ) -> list[PartitionChecksum]:
        """Contiguous ranges of the target in one scan (see ``checksum_partitions``)."""
        return self._on_target(run_checksums, tp, parts, cols, types)

    def target(
        self, tp: TablePlan, p: Partition, cols: list[ChecksumColumn], types: dict[str, str]
    ) -> PartitionChecksum:
        return self._on_target(run_checksum, tp, p, cols, types)

    def _on_target(
        self,
        checksum: Callable[..., _T],
        tp: TablePlan,
        ranges: Partition | list[Partition],
        cols: list[ChecksumColumn],
        types: dict[str, str],
    ) -> _T:
        """``checksum`` of the target table over ``ranges`` (in target column names)."""
        conn = connect(self.target_url, connect_timeout=self.timeout)
        try:
            return checksum(
                conn,
                tp.source,
                ranges,
                cols,
                self.source_dialect,
                types,
                schema=tp.target_schema,
                name=tp.target_name,
                binary=self.binary,
            )
        finally:
            conn.close()


def check_table(
    pool: ThreadPoolExecutor,
    sides: ValidationSides,
    tp: TablePlan,
    quarantine_keys: dict[tuple[str, int], list[dict[str, Any] | None]],
    whole_counts: bool = True,
    after_target: Callable[[], None] | None = None,
) -> tuple[TableCheck, list[PartitionCheck]]:
    """``whole_counts``: also compare the partitions' sum with the whole table's count (only
    meaningful when the source stands still and every partition is checked).
    ``after_target`` runs once the target's side is read, while the source's is still being
    checked (a copy builds the table's keys then: the build locks the table against reads)."""
    src_cols, tgt_cols, types, unchecked = checksum_columns(tp, sides.source_dialect)
    tc = TableCheck(
        tp.name,
        f"{tp.target_schema}.{tp.target_name}",
        unchecked_columns=unchecked,
        approximate_columns=[c.name for c in src_cols if c.category in (APPROXIMATE, PRESENCE)],
        per_partition=target_ranges_safe(tp.source, tp.partitions),
    )
    ranged = len(tp.partitions) > 1 and whole_counts and not ranges_exact(tp)
    # what partitioning cannot hide: the whole table's count on the source (overlapping
    # ranges would count rows twice) and, where ranges cannot be compared in the target,
    # that no key landed twice
    whole_count = pool.submit(sides.source_count, tp) if ranged else None
    duplicates = (
        pool.submit(sides.target_duplicate_keys, tp)
        if ranged and not tc.per_partition and tp.key_columns
        else None
    )
    target_parts = (
        [target_partition(tp, p) for p in tp.partitions]
        if tc.per_partition
        else [Partition(tp.target_name, tp.target_schema, 0)]
    )
    # the target's side first: its keys can then be built while the source is still checked
    if one_scan(tp, target_parts):  # the target has no index yet: one scan, not one a range
        grouped = pool.submit(sides.target_partitions, tp, target_parts, tgt_cols, types)
        targets = None
    else:
        targets = [pool.submit(sides.target, tp, p, tgt_cols, types) for p in target_parts]
    sources = []
    for p in tp.partitions:
        keys = quarantine_keys.get((tp.name, p.index), [])
        excluded = _exclusion(tp, keys)
        if keys and excluded is None:  # counts only (below)
            future = pool.submit(sides.source_rows, tp, p)
        else:
            future = pool.submit(sides.source, tp, p, src_cols, types, excluded)
        sources.append((p, len(keys), excluded, future))
    tgt = grouped.result() if targets is None else [f.result() for f in targets]
    if duplicates is not None:
        duplicates.result()  # read before the keys' build too
    if after_target is not None:
        after_target()
    src = [(p, q, ex, f.result()) for p, q, ex, f in sources]
    for _, q, ex, s in src:
        tc.source_rows += s.rows + (q if ex else 0)  # excluded rows were not counted
        tc.quarantined += q
    tc.target_rows = sum(t.rows for t in tgt)
    checks: list[PartitionCheck] = []
    if tc.per_partition:
        for (p, q, ex, s), t in zip(src, tgt, strict=True):
            reason = _compare(s, t) if ex or not q else _compare_counts(s.rows - q, t.rows)
            if reason == CONTENT_DIFFERS:
                columns = _differing_columns(sides, tp, p, src_cols, tgt_cols, types, ex)
                reason += f" in column(s) {', '.join(columns) or '(combination)'}"
            checks.append(
                PartitionCheck(
                    tp.name, p.index, s.rows, t.rows, q, not reason, reason, p.lower, p.upper
                )
            )
            if reason:
                tc.mismatched_partitions.append(p.index)
                tc.reasons.append(f"partition {p.index}: {reason}")
    else:
        quarantined_unexcluded = sum(q for _, q, ex, _ in src if not ex)
        total = _sum_checksums([s for _, _, _, s in src])
        reason = (
            _compare(total, tgt[0])
            if not quarantined_unexcluded
            else _compare_counts(total.rows - quarantined_unexcluded, tgt[0].rows)
        )
        if reason:
            tc.mismatched_partitions = [p.index for p in tp.partitions]
            tc.reasons.append(reason)
    if whole_count is not None:
        table_rows = whole_count.result()
        if table_rows != tc.source_rows:
            tc.reasons.insert(
                0,
                f"the partitions overlap or leave gaps: they hold {tc.source_rows} rows, the "
                f"source table {table_rows} (rows may have been copied twice; re-run the copy "
                "with --if-exists replace, and report the table's key type)",
            )
            tc.mismatched_partitions = [p.index for p in tp.partitions]
    if duplicates is not None:
        repeated = duplicates.result()
        if repeated:
            tc.reasons.insert(0, f"{repeated} key value(s) appear more than once in the target")
            tc.mismatched_partitions = [p.index for p in tp.partitions]
    tc.ok = not tc.reasons
    return tc, checks


def ranges_exact(tp: TablePlan) -> bool:
    """Whether the source's ranges hold every row exactly once by construction, so that the
    whole table's count (another scan of the source) could tell nothing: contiguous ranges
    of one NOT NULL integer key (no collation to disagree on the order, no NULL outside
    every range; a value of another storage class in SQLite still falls in one range)."""
    parts = tp.partitions
    if not contiguous(parts) or len(parts[0].key_columns) != 1:
        return False
    column = tp.source.column(parts[0].key_columns[0])
    native = column.native.base or column.native
    integer = native.name.lower() in INTEGER_TYPES and not column.native.array_dims
    return integer and not column.nullable


def one_scan(tp: TablePlan, parts: list[Partition]) -> bool:
    """Whether the target's ranges are checked in one scan (``checksum_partitions``): they
    cover the keys without gaps, and no key column holds NULL (a NULL key is in no range)."""
    keys = parts[0].key_columns if parts else ()
    by_target = {c.name: c for c in tp.columns}
    return contiguous(parts) and all(k in by_target and not by_target[k].nullable for k in keys)


def _compare_counts(source_rows: int, target_rows: int) -> str:
    """Where quarantined rows could not be excluded by key, only counts can be compared."""
    if source_rows == target_rows:
        return ""
    return f"row counts differ: source {source_rows} (less quarantined), target {target_rows}"


def validate_plan(
    plan: MigrationPlan,
    source_url: str,
    target_url: str,
    quarantine_keys: dict[tuple[str, int], list[dict[str, Any] | None]] | None = None,
    threads: int = 2,
    connect_timeout: float = 10.0,
    whole_counts: bool = True,
) -> ValidationReport:
    """Compare every partition of every table of ``plan``; both sides queried in parallel.
    ``whole_counts=False``: a plan holding some partitions only, or a source still written
    to (see ``check_table``)."""
    sides = ValidationSides(source_url, target_url, connect_timeout)
    tables: list[TableCheck] = []
    checks: list[PartitionCheck] = []
    with ThreadPoolExecutor(max_workers=max(2, threads)) as pool:
        for tp in plan.tables:
            tc, partition_checks = check_table(pool, sides, tp, quarantine_keys or {}, whole_counts)
            tables.append(tc)
            checks += partition_checks
    return ValidationReport(all(t.ok for t in tables), tables, checks)


def _sum_checksums(parts: list[PartitionChecksum]) -> PartitionChecksum:
    approx: dict[str, tuple[int, float | None, float | None]] = {}
    for p in parts:
        for col, (count, total, *magnitude) in p.approximate.items():
            c0, t0, m0 = approx.get(col, (0, None, None))
            m = max((v for v in (m0, *magnitude) if v is not None), default=None)
            approx[col] = (c0 + count, t0 if total is None else (t0 or 0.0) + total, m)
    return PartitionChecksum(
        sum(p.rows for p in parts), sum(p.checksum for p in parts), approximate=approx
    )


def _exclusion(tp: TablePlan, keys: list[dict[str, Any] | None]) -> list[tuple[Any, ...]] | None:
    """Source keys of quarantined rows to leave out of the source checksum, if usable."""
    if not keys:
        return None
    key_cols = tp.key_columns
    if not key_cols or len(keys) > MAX_EXCLUDED_KEYS or any(k is None for k in keys):
        return None
    try:
        excluded = [tuple(k[c] for c in key_cols) for k in keys]  # type: ignore[index]
    except KeyError:
        return None
    # a key the reader could not read as its type (SQLite: a text in an INTEGER key) was
    # recorded as null, and NOT IN (..., NULL) leaves out every row: counts only then
    return None if any(v is None for key in excluded for v in key) else excluded


def quarantine_keys(
    plan: MigrationPlan, target_url: str, timeout: float
) -> dict[tuple[str, int], list[dict[str, Any] | None]]:
    """(table, partition) -> the source keys of its quarantined rows."""
    keys: dict[tuple[str, int], list[dict[str, Any] | None]] = {}
    with psycopg.connect(target_url, connect_timeout=int(timeout)) as conn:
        for row in bookkeeping.quarantined(conn, plan.job_key, limit=1_000_000):
            keys.setdefault((row["table_name"], row["partition_index"]), []).append(
                row["source_key"]
            )
    return keys


def validate_job_plan(
    plan: MigrationPlan,
    source_url: str,
    target_url: str,
    timeout: float,
    whole_counts: bool = True,
) -> ValidationReport:
    keys = quarantine_keys(plan, target_url, timeout)
    return validate_plan(
        plan, source_url, target_url, keys, connect_timeout=timeout, whole_counts=whole_counts
    )


def count_mismatches(
    plan: MigrationPlan, source_url: str, target_url: str, timeout: float
) -> dict[str, str]:
    """Table -> why its whole row count differs (source = target + quarantined), for every
    table of ``plan``: what checking some partitions only cannot see (overlaps, gaps)."""
    sides = ValidationSides(source_url, target_url, timeout)
    quarantined: dict[str, int] = {}
    for (table, _), keys in quarantine_keys(plan, target_url, timeout).items():
        quarantined[table] = quarantined.get(table, 0) + len(keys)
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = [
            (
                tp,
                pool.submit(sides.source_count, tp),
                pool.submit(sides.target_count, tp),
            )
            for tp in plan.tables
        ]
        out = {}
        for tp, source, target in counts:
            s, t, q = source.result(), target.result(), quarantined.get(tp.name, 0)
            if s != t + q:
                out[tp.name] = f"row counts differ: source {s}, target {t}" + (
                    f" (+{q} quarantined)" if q else ""
                )
    return out


def validation_failed(
    job_id: int, report: ValidationReport, unfollowed: bool = False
) -> ValidationFailedError:
    """The typed error of a failed validation: which tables, partitions and columns differ;
    ``unfollowed``: a copy that did not follow its source, which may have taken writes."""
    bad = "; ".join(f"{t.table}: {', '.join(t.reasons[:3])}" for t in report.mismatched)
    columns = sorted(
        {
            col.strip()
            for t in report.mismatched
            for r in t.reasons
            if " in column(s) " in r
            for col in r.split(" in column(s) ", 1)[1].split(",")
        }
    )
    return ValidationFailedError(
        f"Validation failed for job {job_id}: {bad}. Run `workbench validate {job_id} "
        "--repair` to re-copy the mismatching partitions."
        + (
            " (A source that took writes while it was copied differs by them too: copy it "
            "quiet, or copy and follow it with `workbench copy --follow`.)"
            if unfollowed
            else ""
        ),
        job_id=job_id,
        tables=[t.table for t in report.mismatched],
        partitions={t.table: t.mismatched_partitions for t in report.mismatched},
        columns=columns,
    )
