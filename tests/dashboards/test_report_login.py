"""The Voilà report's login, over HTTP against the real server, and its kernel binding."""

from __future__ import annotations

import ast
import http.client
import json
import urllib.parse

import pytest
from click.testing import CliRunner
from jupyter_server.auth.identity import User
from tornado.web import HTTPError

from tests.dashboards.conftest import PASSWORDS
from workbench.cli import main
from workbench.errors import PermissionDeniedError
from workbench.monitoring import report_access
from workbench.monitoring.voila_login import bind_user


def _request(base: str, method: str, path: str, body: str | None = None,
             headers: dict | None = None) -> http.client.HTTPResponse:  # fmt: skip
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _post_login(base: str, user: str, password: str) -> http.client.HTTPResponse:
    """The form as a browser sends it: with the XSRF token the login page set as a cookie."""
    page = _request(base, "GET", "/login")
    xsrf = page.getheader("Set-Cookie").split(";")[0]
    assert xsrf.startswith("_xsrf=")
    form = urllib.parse.urlencode({"username": user, "password": password, "_xsrf": xsrf[6:]})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": xsrf}
    return _request(base, "POST", "/login?next=%2F", form, headers)


def test_every_report_path_needs_a_login(voila):
    page = _request(voila, "GET", "/")
    assert page.status == 302 and page.getheader("Location").startswith("/login")
    assert _request(voila, "GET", "/api/kernels").status in (302, 403)
    # a cookie made up by the client (the JSON the server would sign) is not a login
    port = urllib.parse.urlsplit(voila).port
    forged = json.dumps({"username": "tester", "name": "tester", "display_name": "tester",
                         "initials": None, "avatar_url": None, "color": None})  # fmt: skip
    cookie = f"username-127-0-0-1-{port}={urllib.parse.quote(forged)}"
    assert _request(voila, "GET", "/", headers={"Cookie": cookie}).status == 302


def test_the_login_form_checks_the_store_password(voila):
    form = urllib.parse.urlencode({"username": "rita", "password": PASSWORDS["rita"]})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert _request(voila, "POST", "/login", form, headers).status == 403  # no XSRF token
    assert _post_login(voila, "rita", "wrong").status == 401
    assert _post_login(voila, "nobody", PASSWORDS["rita"]).status == 401
    accepted = _post_login(voila, "rita", PASSWORDS["rita"])
    assert accepted.status == 302 and accepted.getheader("Location") == "/"
    cookie = next(c.split(";")[0] for c in accepted.headers.get_all("Set-Cookie")
                  if c.startswith("username-"))  # fmt: skip
    assert PASSWORDS["rita"] not in cookie
    assert _request(voila, "GET", "/", headers={"Cookie": cookie}).status == 200


class _Request:
    """What the prelaunch hook reads of Tornado's request handler: the logged-in user."""

    def __init__(self, user: User | None) -> None:
        self.current_user = user


def test_the_kernel_is_bound_by_a_literal_never_by_code():
    import nbformat

    hostile = 'x")\nimport os; os.system("id") #'
    notebook = bind_user(_Request(User(username=hostile)), nbformat.v4.new_notebook(), ".")
    tree = ast.parse(notebook.cells[0].source)
    assert [type(node) for node in tree.body] == [ast.Import, ast.Expr]
    call = tree.body[1].value
    assert isinstance(call, ast.Call) and call.func.attr == "bind"
    assert [type(a) for a in call.args] == [ast.Constant] and call.args[0].value == hostile
    with pytest.raises(HTTPError) as refused:
        bind_user(_Request(None), nbformat.v4.new_notebook(), ".")
    assert refused.value.status_code == 403


def test_a_report_kernel_needs_its_user_under_a_login(monkeypatch):
    monkeypatch.setattr(report_access, "_bound_user", None)
    monkeypatch.setenv(report_access.AUTH_ENV, "store")
    with pytest.raises(PermissionDeniedError, match="no logged-in user"):
        report_access.report_store()
    report_access.bind("rita")
    report_access.bind("rita")  # the same user again is fine
    with pytest.raises(PermissionDeniedError, match="another user"):
        report_access.bind("tester")


def test_no_login_only_on_the_local_address():
    args = ["dashboard", "report", "--auth", "none", "--address", "0.0.0.0"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "--auth none" in result.output and "local use" in result.output
