"""Read what matching needs from a connection: its tables and a sample of rows of each.

Matching compares values, so each table is read once as a small sample (the first
``rows`` rows of a whole-table read, as the connector streams them) into a DataFrame, with
each column's declared type. The profiling part may replace this with its stored samples
once it lands; the interface stays a :class:`TableSample` per table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from workbench.connectors import Connector, Partition, connect
from workbench.connectors.base import REJECT_COLUMN
from workbench.schema.model import DatabaseSchema, Table
from workbench.schema.sqlexpr import column_expression

SAMPLE_ROWS = 500


@dataclass(frozen=True)
class TableSample:
    """One table: its model, a sample of its rows and each column's declared type."""

    table: Table
    frame: pd.DataFrame
    declared: dict[str, str]

    @property
    def name(self) -> str:
        return self.table.name


def table_key(table: Table, schema: DatabaseSchema) -> str:
    """The name a table is matched under: its bare name unless another schema has it too."""
    same = [t for t in schema.tables if t.name == table.name]
    return table.name if len(same) == 1 else table.qualified_name


def read_batch(
    connector: Connector,
    table: Table,
    rows: int = SAMPLE_ROWS,
    columns: Sequence[str] | None = None,
    expressions: dict[str, str] | None = None,
) -> pa.RecordBatch:
    """Up to ``rows`` rows of ``table`` as one Arrow batch (empty when the table is)."""
    partition = Partition(table.name, table.schema, 0)
    if expressions:  # a mapping's expressions: values of the row only, rendered from the parse
        expressions = {
            name: column_expression(
                text, connector.capabilities.dialect, table.column_names,
                what=f"Transform expression of {name!r}",
            )
            for name, text in expressions.items()
        }  # fmt: skip
    stream = connector.read_partition(
        table, partition, columns=columns, batch_rows=rows, expressions=expressions
    )
    try:
        batch = next(iter(stream), None)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # stop the read after the first batch
    if batch is None:
        names = list(columns) if columns is not None else list(table.column_names)
        return pa.RecordBatch.from_pylist([], schema=pa.schema([(n, pa.string()) for n in names]))
    if REJECT_COLUMN in batch.schema.names:
        batch = batch.drop_columns([REJECT_COLUMN])
    return batch.slice(0, rows)


def sample_table(connector: Connector, table: Table, rows: int = SAMPLE_ROWS) -> TableSample:
    batch = read_batch(connector, table, rows)
    frame = batch.to_pandas()
    declared = {c.name: c.native.raw or c.native.name for c in table.columns}
    return TableSample(table=table, frame=frame, declared=declared)


def read_tables(
    url: str,
    tables: Sequence[str] | None = None,
    rows: int = SAMPLE_ROWS,
    *,
    options: dict | None = None,
    connect_timeout: float = 10.0,
) -> tuple[DatabaseSchema, dict[str, TableSample]]:
    """Introspect ``url`` and sample each base table (or only ``tables``, by name)."""
    connector = connect(url, connect_timeout=connect_timeout, options=options)
    try:
        schema = connector.introspect()
        wanted = set(tables) if tables else None
        samples = {}
        for table in schema.tables:
            key = table_key(table, schema)
            if table.kind != "table" or (wanted and not {key, table.name} & wanted):
                continue
            samples[key] = sample_table(connector, table, rows)
        return schema, samples
    finally:
        connector.close()
