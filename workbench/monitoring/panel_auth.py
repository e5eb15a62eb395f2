"""Logins to the Panel monitor: Panel's own login page, checked against the store.

Registered as Panel auth provider ``workbench`` (entry point ``panel.auth`` ->
``panel_login.StoreLoginHandler``), so ``panel serve --oauth-provider workbench`` shows
Panel's login form and calls :func:`login`. A login succeeds when the user has a dashboard
password (``workbench dashboard password``) that matches and is a member of an
organization; it is recorded in that organization's audit trail. OAuth (GitHub, Azure,
Okta, ...) is Panel's, by configuration (``PANEL_OAUTH_*``); the OAuth user name must be
a workbench user, and the monitor records the login when the first session opens.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from workbench.config import load_settings
from workbench.errors import WorkbenchError
from workbench.store import credentials, open_store
from workbench.store.audit import record_dashboard_login

if TYPE_CHECKING:
    from workbench.store import Store

log = logging.getLogger(__name__)

_stores: dict[str, Store] = {}
_lock = threading.Lock()


def user_store(user: str) -> Store:
    """The store as ``user`` sees it (their organization), opened once per server process."""

    with _lock:
        if user not in _stores:
            _stores[user] = open_store(load_settings(user=user), migrate=False, create_user=False)
        return _stores[user]


def login(user: str, password: str, dashboard: str = "monitor") -> bool:
    """Check a dashboard login and record it; False (logged, never the password) when refused."""

    try:
        store = user_store(user)
    except WorkbenchError as exc:
        credentials.spend_a_check(password)  # as long as a wrong password takes
        log.warning("dashboard login refused for %r: %s", user, exc)
        return False
    if not credentials.check_password(store, user, password):
        log.warning("dashboard login refused for %r: wrong or no password", user)
        return False
    record_dashboard_login(store, dashboard, via="password")
    return True
