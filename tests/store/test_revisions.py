"""Schema versions: init creates and is idempotent, models match the head, newer is refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from tests.store.conftest import owner_engine
from workbench.errors import StoreSchemaError
from workbench.store import open_store
from workbench.store.database import store_url
from workbench.store.models import Base
from workbench.store.revisions import HEAD, VERSION_TABLE, head_revision

TABLES = {
    "organizations",
    "users",
    "memberships",
    "projects",
    "connections",
    "schema_mappings",
    "column_mappings",
    "migration_jobs",
    "migration_logs",
    "partition_checkpoints",
    "audit_events",
}


def _engine(url: str):
    return create_engine(store_url(url))


def test_init_creates_every_table_and_is_idempotent(store_settings, store_url):
    first = open_store(store_settings)
    assert (first.schema_before, first.schema_revision) == (None, head_revision())
    first.close()
    second = open_store(store_settings)
    assert second.schema_before == second.schema_revision == head_revision()
    second.close()
    engine = _engine(store_url)
    assert TABLES | {VERSION_TABLE} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar() == 1
        # the default organization and the user are created once
        assert conn.execute(text("SELECT name FROM organizations")).scalars().all() == ["default"]
        assert conn.execute(text("SELECT name FROM users")).scalars().all() == ["tester"]
        assert conn.execute(text("SELECT role FROM memberships")).scalars().all() == ["owner"]
    engine.dispose()


def test_models_match_the_head_revision(store):
    """A model change without a new revision fails here."""
    with owner_engine(store).connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_the_head_known_without_alembic_is_alembics_head():
    """A new revision without HEAD moved fails here (a store one behind would pass as current)."""
    assert head_revision() == HEAD


def test_opening_a_current_store_does_not_import_alembic(store_settings, store_url):
    """Every command opens the store: Alembic's import was 0.15-0.2 s of a small copy."""
    import subprocess
    import sys

    open_store(store_settings).close()  # created and stamped
    code = (
        "import sys\n"
        "from workbench.config import load_settings\n"
        "from workbench.store import open_store\n"
        f"open_store(load_settings(database_url={store_url!r}, "
        f"data_dir={str(store_settings.data_dir)!r}, user='tester')).close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_store_from_a_newer_workbench_is_refused(store_settings, store_url):
    open_store(store_settings).close()
    engine = _engine(store_url)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999_from_the_future'"))
    for migrate in (True, False):
        with pytest.raises(StoreSchemaError) as caught:
            open_store(store_settings, migrate=migrate)
        message = str(caught.value)
        assert "9999_from_the_future" in message
        assert "newer workbench" in message and "Upgrade the workbench" in message
    with engine.connect() as conn:  # nothing was touched
        assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() == (
            "9999_from_the_future"
        )
    engine.dispose()


def test_empty_store_without_migrate_asks_for_init(store_settings):
    with pytest.raises(StoreSchemaError, match="workbench init"):
        open_store(store_settings, migrate=False)


def test_older_store_is_upgraded_by_init(store_settings, store_url):
    """An empty stamp (the state before revision 0001) is upgraded, not refused."""
    engine = _engine(store_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {VERSION_TABLE} (version_num varchar(32) PRIMARY KEY)"))
    engine.dispose()
    store = open_store(store_settings)
    assert store.schema_before is None and store.schema_revision == head_revision()
    store.close()
