"""The folders shipped beside the package: ``dashboards/`` and ``notebooks/``.

In a checkout (an editable install) they sit beside ``workbench/``; a wheel installs them as
data files under ``<prefix>/share/workbench/`` (pyproject ``[tool.setuptools.data-files]``),
so ``workbench demo`` and ``workbench dashboard ...`` work from either.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

from workbench.errors import ConfigurationError


def shipped_dir(name: str) -> Path:
    """The checkout's ``name`` folder, else the installed copy."""
    beside = Path(__file__).resolve().parents[2] / name
    if beside.is_dir():
        return beside
    installed = Path(sysconfig.get_path("data")) / "share" / "workbench" / name
    if installed.is_dir():
        return installed
    raise ConfigurationError(
        f"The workbench's {name}/ folder is neither beside the package ({beside}) nor "
        f"installed ({installed}): reinstall the workbench from its wheel or checkout"
    )
