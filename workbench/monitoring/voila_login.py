"""Logins to the Voilà report: the monitor's dashboard passwords, audit trail and tenancy.

``workbench dashboard report`` (``--auth store``, the default) runs Voilà with
``--Voila.identity_provider_class`` set to :class:`StoreIdentityProvider` and the config in
``voila_config/`` (which sets :func:`bind_user` as Voilà's prelaunch hook):

1. every page needs a login; the login form checks the user's dashboard password in the
   store (``workbench dashboard password``) as the monitor does, and records the login;
2. each page view starts a kernel; the hook puts a hidden first cell in its notebook that
   binds the kernel to the logged-in user (``report_access.bind``), so the report reads the store as
   that user: their organization's rows only, through row-level security;
3. the report refuses to run when the server asks for logins and no user was bound.

Voilà lets a browser send only widget messages to a kernel (no ``execute_request``), so a
logged-in user cannot run code in it to become someone else. ``--auth none`` serves the
report as the server's own user, for a local, single-user report.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.identity import IdentityProvider, User
from voila.voila_identity_provider import VoilaLoginHandler

from workbench.monitoring.panel_auth import login

if TYPE_CHECKING:
    from tornado.web import RequestHandler


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Migration report: log in</title>
<style>
 body {{ font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; }}
 form {{ max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem;
        border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
 h1 {{ font-size: 1.3rem; margin: 0 0 1.2rem; }}
 label {{ display: block; margin: .8rem 0 .3rem; font-size: .9rem; color: #333; }}
 input {{ width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }}
 button {{ margin-top: 1.2rem; width: 100%; padding: .6rem; font-size: 1rem;
          background: #2f6fb0; color: #fff; border: 0; border-radius: 4px; }}
 .error {{ color: #b00020; margin-top: 1rem; }}
 .hint {{ color: #666; font-size: .8rem; margin-top: 1rem; }}
</style></head>
<body><form action="{action}" method="post">{xsrf}
<h1>Migration report</h1>
<label for="username">User</label><input id="username" name="username" autocomplete="username">
<label for="password">Dashboard password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Log in</button>{error}
<p class="hint">Set your password with <code>workbench dashboard password</code>.</p>
</form></body></html>
"""


class StoreLoginHandler(VoilaLoginHandler):
    """The login page: a user name and their dashboard password (no token field)."""

    def _render(self, message: dict[str, str] | None = None) -> None:
        action = f"{self.base_url}login?next={html.escape(self.get_argument('next', ''))}"
        error = "".join(f'<p class="error">{html.escape(m)}</p>' for m in (message or {}).values())
        self.write(LOGIN_PAGE.format(action=action, xsrf=self.xsrf_form_html(), error=error))


class StoreIdentityProvider(IdentityProvider):
    """Every request needs a user logged in with their store dashboard password."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["login_handler_class"] = StoreLoginHandler  # Voilà passes its own
        kwargs["token"] = ""  # no token logins: only users of the store
        super().__init__(**kwargs)

    @property
    def auth_enabled(self) -> bool:
        return True

    @property
    def login_available(self) -> bool:
        return True

    def process_login_form(self, handler: RequestHandler) -> User | None:

        user = handler.get_argument("username", default="").strip()
        password = handler.get_argument("password", default="")
        if user and password and login(user, password, dashboard="report"):
            return User(username=user)
        return None


def bind_user(handler: RequestHandler, notebook: Any, cwd: str) -> Any:
    """Voilà's prelaunch hook: the kernel's first cell binds it to the logged-in user."""
    import nbformat
    from tornado.web import HTTPError

    user = handler.current_user
    if not isinstance(user, User) or not user.username:
        raise HTTPError(403, "log in first")
    # the name goes in as a Python string literal (repr): a name can never become code
    name = repr(str(user.username))
    source = f"import workbench.monitoring.report_access as _wb\n_wb.bind({name})"
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["workbench-login"]})
    notebook.cells.insert(0, cell)
    return notebook
