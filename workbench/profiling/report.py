"""The full report: ydata-profiling's HTML report of a table's sample.

ydata-profiling is the optional extra ``profiling`` (it pins pandas, numpy and matplotlib
below what the rest of the stack could use; see RECIPES), so it is imported only here,
only when a report is asked for.
"""

from __future__ import annotations

from pathlib import Path

from workbench.connectors.base import Connector
from workbench.errors import DriverMissingError
from workbench.profiling import sampling
from workbench.profiling.profile import ProfileOptions, column_categories, find_table, text_reads
from workbench.schema.model import Table


def sample_frame(connector: Connector, table: Table, options: ProfileOptions):
    """The table's sample as a pandas DataFrame (text for values pandas cannot type)."""
    import pandas as pd

    dialect = connector.dialect
    categories, _ = column_categories(table, dialect.name)
    read = text_reads(dialect, categories, ("json", "other", "binary"))
    rows = connector.count(table)
    sample = sampling.sample_rows(
        connector.run, table, dialect, rows, options.sample_size, seed=options.seed, read=read
    )
    frame = pd.DataFrame.from_records(sample.rows, columns=sample.columns)
    for name, cat in categories.items():  # Decimal and bytes confuse the report's type guess
        if cat == "numeric":
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
        elif cat == "binary":
            frame[name] = frame[name].map(lambda v: None if v is None else len(bytes(v)))
    return frame, sample


def full_report(
    connector: Connector,
    table: Table | str,
    path: str | Path,
    options: ProfileOptions | None = None,
    *,
    minimal: bool = True,
):
    """Write the ydata-profiling HTML report of ``table``'s sample to ``path``; return the
    ``ProfileReport`` (it displays inline in a notebook)."""
    try:
        from ydata_profiling import ProfileReport
    except ImportError as exc:
        raise DriverMissingError(
            "The full report needs ydata-profiling: pip install 'workbench[profiling]'"
        ) from exc
    options = options or ProfileOptions()
    if isinstance(table, str):
        table = find_table(connector, table)
    frame, sample = sample_frame(connector, table, options)
    title = f"{table.qualified_name}: {len(sample.rows):,} rows ({sample.method})"
    report = ProfileReport(frame, title=title, minimal=minimal, progress_bar=False)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    report.to_file(Path(path))
    return report
