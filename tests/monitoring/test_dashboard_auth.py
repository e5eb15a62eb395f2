"""Dashboard logins: passwords kept as scrypt hashes, who may set them, the login check and
its audit event, and the monitor's command line per auth mode (the browser test logs in)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.store.conftest import owner_engine
from workbench.cli.dashboard import dashboard_env, monitor_command
from workbench.errors import ConfigurationError, InvalidInputError, PermissionDeniedError
from workbench.monitoring import panel_auth
from workbench.store import audit, credentials, organizations

PASSWORD = "Correct-Horse-42"


@pytest.fixture
def store(pg_server, tmp_path, monkeypatch):
    from workbench.config import load_settings
    from workbench.store import open_store

    name = pg_server.create_database("wbauth")
    url = pg_server.url(name)
    # the login handler opens the store from the environment, as the Panel server does
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", url)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WORKBENCH_CONFIG", str(tmp_path / "none.toml"))
    s = open_store(load_settings(user="boss"))
    yield s
    s.close()
    for opened in panel_auth._stores.values():
        opened.close()
    panel_auth._stores.clear()
    pg_server.drop_database(name)


def test_hash_round_trip_and_no_clear_text():
    stored = credentials.hash_password(PASSWORD)
    assert PASSWORD not in stored and stored.startswith("scrypt$")
    assert credentials.password_matches(stored, PASSWORD)
    assert not credentials.password_matches(stored, PASSWORD + "x")
    assert credentials.hash_password(PASSWORD) != stored  # salted
    assert not credentials.password_matches("garbage", PASSWORD)


def test_who_may_set_a_password_and_the_login_check(store):
    organizations.add_member(store, "vic", "viewer")
    with pytest.raises(InvalidInputError, match="10 characters"):
        credentials.set_password(store, "short")
    credentials.set_password(store, PASSWORD)  # one's own
    credentials.set_password(store, "Vics-Password-1", "vic")  # an owner, for a member
    from workbench.store import open_store

    vic_store = open_store(store.settings.with_(user="vic"))
    with pytest.raises(PermissionDeniedError, match="is viewer"):
        credentials.set_password(vic_store, "Another-Password-1", "boss")
    credentials.set_password(vic_store, "Vics-New-Password-2")  # but their own, yes
    vic_store.close()

    with owner_engine(store).connect() as conn:
        hashes = conn.execute(text("SELECT name, password_hash FROM users")).all()
    assert all(h is None or h.startswith("scrypt$") for _, h in hashes)
    events = audit.list_events(store)
    assert [e.object_name for e in events if e.action == "user.password"] == ["vic", "vic", "boss"]
    assert not any(PASSWORD in str(e.details) for e in events)

    assert panel_auth.login("boss", PASSWORD) is True
    assert panel_auth.login("boss", "Wrong-Password-1") is False
    assert panel_auth.login("vic", "Vics-Password-1") is False  # changed since
    assert panel_auth.login("vic", "Vics-New-Password-2") is True
    assert panel_auth.login("nobody", PASSWORD) is False
    logins = [
        (e.actor, e.details) for e in audit.list_events(store) if e.action == "dashboard.login"
    ]
    assert logins == [("vic", {"via": "password"}), ("boss", {"via": "password"})]
    # an unknown name is not recorded as a user by trying it
    with owner_engine(store).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE name = 'nobody'")).scalar() == 0


def test_monitor_command_per_auth_mode(store, monkeypatch):
    assert "--oauth-provider" in monitor_command(5006)  # the store's login by default
    assert monitor_command(5006)[monitor_command(5006).index("--oauth-provider") + 1] == "workbench"
    assert "--oauth-provider" not in monitor_command(5006, auth="none")
    monkeypatch.delenv("PANEL_OAUTH_PROVIDER", raising=False)
    with pytest.raises(ConfigurationError, match="PANEL_OAUTH_PROVIDER"):
        monitor_command(5006, auth="oauth")
    monkeypatch.setenv("PANEL_OAUTH_PROVIDER", "github")
    assert "--signin=oauth" in monitor_command(5006, auth="oauth")
    env = dashboard_env(store.master_cipher)
    assert env["PANEL_COOKIE_SECRET"] == dashboard_env(store.master_cipher)["PANEL_COOKIE_SECRET"]
    assert len(env["PANEL_OAUTH_ENCRYPTION"]) == 44  # 32 bytes, url-safe base64
    assert not any(env["PANEL_COOKIE_SECRET"] in a for a in monitor_command(5006))
