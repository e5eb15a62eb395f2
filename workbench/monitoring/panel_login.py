"""The Panel login handler of provider ``workbench`` (see ``panel_auth``).

Only Panel imports this module (through the ``panel.auth`` entry point, while ``panel.auth``
itself loads), so it must not be imported before ``panel.auth`` by anything else.
"""

from __future__ import annotations

from panel.auth import BasicLoginHandler

from workbench.monitoring.panel_auth import login


class StoreLoginHandler(BasicLoginHandler):
    """Panel's login page, with users and password hashes from the workbench store."""

    def _validate(self, username: str, password: str) -> bool:
        return bool(username) and login(username, password)
