"""What a report kernel may read: the store as the user who opened the page.

The Voilà server side (login page, prelaunch hook) is ``voila_login``; this module is what
runs inside the report's kernel, and what the command line needs without importing Voilà.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.config import load_settings
from workbench.errors import PermissionDeniedError
from workbench.store import open_store

if TYPE_CHECKING:
    from workbench.store import Store

CONFIG_DIR = Path(__file__).with_name("voila_config")
AUTH_ENV = "WORKBENCH_REPORT_AUTH"  # "store" in the server's env: kernels must be bound
_bound_user: str | None = None


def bind(user: str) -> None:
    """In a report kernel: the user the page was opened by (set once, never changed)."""
    global _bound_user
    if _bound_user is not None and _bound_user != user:
        raise PermissionDeniedError("this report kernel already belongs to another user")
    _bound_user = user


def report_store() -> Store:
    """The store as the report's viewer sees it.

    Under a login (``WORKBENCH_REPORT_AUTH=store``): the bound user, or an error when the
    page was opened without one. Without: the kernel's own user (``open_store()``).
    """

    if _bound_user is not None:
        return open_store(load_settings(user=_bound_user), migrate=False, create_user=False)
    if os.environ.get(AUTH_ENV) == "store":
        raise PermissionDeniedError(
            "this report server asks for a login, and this kernel has no logged-in user"
        )
    return open_store()
