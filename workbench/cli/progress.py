"""Terminal progress for jobs: tqdm bars, overall and for the largest tables."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm

MAX_TABLE_BARS = 6


class TqdmProgress:
    """A :class:`workbench.engine.progress.ProgressSink` drawing tqdm bars on stderr."""

    def __init__(self, file=None) -> None:
        self.file = file or sys.stderr
        self.overall: tqdm | None = None
        self.bars: dict[str, tqdm] = {}

    def start(self, job_id: int, tables: dict[str, int]) -> None:
        self.overall = tqdm(
            total=sum(tables.values()) or None,
            desc=f"job {job_id}",
            unit="rows",
            unit_scale=True,
            file=self.file,
            dynamic_ncols=True,
            position=0,
        )
        largest = sorted(tables, key=lambda t: -tables[t])[:MAX_TABLE_BARS]
        for i, name in enumerate(largest, start=1):
            self.bars[name] = tqdm(
                total=tables[name] or None,
                desc=name[-24:],
                unit="rows",
                unit_scale=True,
                file=self.file,
                dynamic_ncols=True,
                position=i,
                leave=False,
            )

    def advance(self, table: str, rows: int) -> None:
        if self.overall is not None:
            self.overall.update(rows)
        if table in self.bars:
            self.bars[table].update(rows)

    def phase(self, name: str) -> None:
        if self.overall is not None:
            self.overall.set_postfix_str(name)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        if self.overall is not None:
            self.overall.close()
