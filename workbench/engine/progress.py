"""How the engine reports progress without knowing any screen.

The engine calls a :class:`ProgressSink`; the CLI passes a tqdm one, notebooks an ipywidgets
one, ``--json`` and papermill runs the silent :class:`NullProgress`.
"""

from __future__ import annotations

from typing import Protocol


class ProgressSink(Protocol):
    def start(self, job_id: int, tables: dict[str, int]) -> None:
        """The job planned these tables with these row estimates."""

    def advance(self, table: str, rows: int) -> None:
        """``rows`` more rows of ``table`` were read (loaded or quarantined)."""

    def phase(self, name: str) -> None:
        """A new phase began: plan, copy, finish, validate."""

    def close(self) -> None:
        """The job ended (any status)."""


class NullProgress:
    def start(self, job_id: int, tables: dict[str, int]) -> None:
        pass

    def advance(self, table: str, rows: int) -> None:
        pass

    def phase(self, name: str) -> None:
        pass

    def close(self) -> None:
        pass
