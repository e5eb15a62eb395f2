"""The workbench: migrate databases into PostgreSQL from a notebook or a terminal.

From Python, ``import workbench as wb`` then ``wb.copy(src, tgt)`` or ``wb.project("shop")``
(see :mod:`workbench.api`). The names load on first use: importing the package stays cheap
for the command line and for Dask workers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["copy", "open_store", "project"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from workbench import api

        return getattr(api, name)
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")
