"""Secrets: encrypted at rest, never in a dump, repr, log, or message; key file handling."""

from __future__ import annotations

import logging
import stat
import subprocess

import psycopg
import pytest
from cryptography.fernet import Fernet

from tests.store.conftest import SCRAM_PASSWORD, SCRAM_USER, scram_url
from workbench.errors import AuthenticationError, SecretError
from workbench.store import connections, jobs, open_store, projects

PASSWORDS = ["Zq8-url-Secret", "Kx3-apart-Secret", "Wm5-update-Secret", "Pj2-param-Secret"]


def _fill(store) -> None:
    projects.create_project(store, "vault", "passwords live here")
    connections.add_connection(store, "vault", "a", f"mysql://app:{PASSWORDS[0]}@db1/shop")
    connections.add_connection(store, "vault", "b", "postgresql://me@pg/db", password=PASSWORDS[1])
    connections.add_connection(store, "vault", "c", "postgresql://me@pg2/db")
    connections.update_connection(store, "vault", "c", url=f"postgresql://me:{PASSWORDS[2]}@pg3/db")
    job = jobs.create_job(
        store, "vault", "migrate", {"source": f"mysql://app:{PASSWORDS[3]}@db1/shop"}
    )
    jobs.log_event(
        store, job, "error", f"failed on mysql://app:{PASSWORDS[3]}@db1/shop", password=PASSWORDS[3]
    )
    jobs.update_job_statistics(store, job, {"token": PASSWORDS[3]})
    jobs.set_job_status(store, job, "failed", error=f"mysql://app:{PASSWORDS[3]}@db1 refused")


def test_no_secret_in_a_dump_of_every_table(store, store_url):
    _fill(store)
    assert connections.connection_url(store, connections.get_connection(store, "vault", "a"))
    with psycopg.connect(store_url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ]
        assert len(tables) >= 12
        dump = "\n".join(
            str(row[0])
            for table in tables
            for row in conn.execute(f'SELECT t::text FROM "{table}" t')
        )
    assert "vault" in dump and "mysql://app@db1/shop" in dump  # the dump has the data
    # pg_dump (the server's own version, shipped with pgserver) sees the same
    from pgserver._commands import POSTGRES_BIN_PATH

    pg_dump = subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_dump"), "--data-only", "-d", store_url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "mysql://app@db1/shop" in pg_dump
    for password in PASSWORDS:
        assert password not in dump, password
        assert password not in pg_dump, password


def test_reprs_logs_and_errors_mask_the_store_password(scram_pg, tmp_path, caplog):
    with psycopg.connect(scram_pg.url("postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS wbsecret WITH (FORCE)")
        conn.execute(f"CREATE DATABASE wbsecret OWNER {SCRAM_USER}")
        conn.execute(f"ALTER ROLE {SCRAM_USER} CREATEROLE")  # to make the application role
    from workbench.config import load_settings

    url = scram_url(scram_pg, SCRAM_PASSWORD, "wbsecret")
    settings = load_settings(database_url=url, data_dir=tmp_path / "d", user="tester")
    caplog.set_level(logging.DEBUG)
    store = open_store(settings)
    try:
        _fill(store)
        record = connections.get_connection(store, "vault", "a")
        shown = " ".join([repr(store), store.url, repr(settings), repr(record), repr(store.cipher)])
        # the owner's login prepared the store; the work runs as its application role, which
        # logged in with its SCRAM password
        assert "***" in repr(store) and "wbsecret_workbench_app" in repr(store)
    finally:
        store.close()
    with pytest.raises(AuthenticationError) as caught:
        open_store(
            settings.with_(database_url=None)
            if False
            else load_settings(
                database_url=scram_url(scram_pg, "Wrong-Store-Pw", "wbsecret"),
                data_dir=tmp_path / "d",
            )
        )
    shown += " " + str(caught.value) + " " + caplog.text
    assert "wbsecret" in str(caught.value) and "check the user name and password" in str(
        caught.value
    )
    for secret in [SCRAM_PASSWORD, "Wrong-Store-Pw", *PASSWORDS]:
        assert secret not in shown, secret


def test_key_file_is_created_private(store_settings):
    store = open_store(store_settings)
    key_file = store_settings.resolved_key_file
    assert key_file.exists()  # needed at once: the application role's password derives from it
    projects.create_project(store, "p")
    connections.add_connection(store, "p", "c", "postgresql://u:pw@h/db")
    store.close()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    Fernet(key_file.read_bytes().strip())  # a valid key


def test_wrong_key_names_the_key_file(store_settings, tmp_path):
    store = open_store(store_settings)
    projects.create_project(store, "p")
    record = connections.add_connection(store, "p", "c", "postgresql://u:Pw-Key-1@h/db")
    store.close()

    other_key = tmp_path / "other" / "secret.key"
    other = open_store(store_settings.with_(key_file=other_key))
    other.cipher.ensure_key()
    with pytest.raises(SecretError) as caught:
        connections.connection_url(other, record)
    message = str(caught.value)
    assert str(other_key) in message and "encrypted with another key" in message
    assert "'c'" in message and "Pw-Key-1" not in message
    other.close()

    # a missing key file gets a new key at open (the application role's password derives
    # from it), which then cannot decrypt the old secrets: the error names the file
    missing = open_store(store_settings.with_(key_file=tmp_path / "gone.key"))
    wrong = r"encrypted with another key than the one from key file .*gone\.key"
    with pytest.raises(SecretError, match=wrong):
        connections.connection_url(missing, record)
    missing.close()


def test_secret_key_setting_replaces_the_key_file(store_settings, monkeypatch):
    from workbench.config import load_settings

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("WORKBENCH_SECRET_KEY", key)
    settings = load_settings(
        database_url=store_settings.database_url, data_dir=store_settings.data_dir, user="tester"
    )
    store = open_store(settings)
    projects.create_project(store, "p")
    record = connections.add_connection(store, "p", "c", "postgresql://u:Pw-Env@h/db")
    assert connections.connection_url(store, record) == "postgresql://u:Pw-Env@h/db"
    assert not settings.resolved_key_file.exists()
    assert "WORKBENCH_SECRET_KEY" in repr(store.cipher) and key not in repr(store.cipher)
    store.close()

    # a bad key is refused when the store opens (the application role's password needs it)
    with pytest.raises(SecretError, match="WORKBENCH_SECRET_KEY is not a valid Fernet key"):
        open_store(settings.with_(secret_key=type(settings.secret_key)("not-a-key")))
