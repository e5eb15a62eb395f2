"""open_store with a URL: accepted URL forms, psycopg 3 always, typed errors that fail fast."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.engine import make_url

from tests.servers import free_port
from workbench.errors import CannotConnectError, ConfigurationError, DatabaseMissingError
from workbench.store import open_store


@pytest.mark.parametrize(
    "scheme", ["postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"]
)
def test_postgres_url_forms_all_use_psycopg3(store_settings, store_url, scheme):
    url = make_url(store_url).set(drivername=scheme).render_as_string(hide_password=False)
    store = open_store(store_settings.with_(database_url=type(store_settings.database_url)(url)))
    try:
        assert store.engine.dialect.driver == "psycopg"
        assert store.url.startswith("postgresql+psycopg://")
        assert not store.is_embedded and store.pgdata is None
    finally:
        store.close()


def _with_url(settings, url: str):
    return settings.with_(database_url=type(settings.database_url)(url))


def test_a_store_must_be_postgres(store_settings):
    with pytest.raises(ConfigurationError, match="must be PostgreSQL, got 'mysql'") as caught:
        open_store(_with_url(store_settings, "mysql://u:Store-Pw@h/db"))
    assert "Store-Pw" not in str(caught.value)
    with pytest.raises(ConfigurationError, match="cannot be parsed"):
        open_store(_with_url(store_settings, "::::"))


def test_unreachable_store_fails_fast(store_settings):
    url = f"postgresql://u:Store-Pw@127.0.0.1:{free_port()}/db"
    started = time.monotonic()
    with pytest.raises(CannotConnectError) as caught:
        open_store(_with_url(store_settings, url))
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert "Cannot connect to the store at postgresql+psycopg://u:***@127.0.0.1" in message
    assert "Store-Pw" not in message


def test_missing_store_database_is_named(store_settings, pg_server):
    url = pg_server.url("no_such_db_here")
    with pytest.raises(DatabaseMissingError, match=r"no_such_db_here.*create the database"):
        open_store(_with_url(store_settings, url))


def test_repr_shows_where_and_who(store):
    assert repr(store).startswith("Store('postgresql+psycopg://")
    assert "user='tester'" in repr(store) and "server" in repr(store)
