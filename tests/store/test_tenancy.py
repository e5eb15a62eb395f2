"""Tenant isolation enforced by PostgreSQL: raw SQL as the application role, whatever the
Python code does, cannot read or change another organization's rows; the audit trail is
insert-only; the production setup (an unprivileged login + the owner's for upgrades)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from tests.store.conftest import owner_engine
from workbench.config import load_settings
from workbench.errors import ConfigurationError, StoreSchemaError
from workbench.governance import flags, policy
from workbench.store import connections, jobs, open_store, organizations, projects


def _fill(store) -> int:
    """A project with a connection, a job with a log and a checkpoint, a flag, a policy."""
    p = projects.create_project(store, f"shop-{store.identity.organization}")
    connections.add_connection(store, p.name, "src", "postgresql://app:Pw-T1@db1/shop")
    job = jobs.create_job(store, p.name, "copy", {})
    jobs.log_event(store, job, "INFO", "started")
    jobs.upsert_checkpoints(store, job, [{"table_name": "t", "partition_index": 0}])
    flags.set_flag(store, "experimental_engine", enabled=True)
    policy.set_policy(store, p.name, require_masking=True)
    return p.id


def _app_url(store) -> str:
    return store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _as_org(conn: psycopg.Connection, org_id: int | None) -> None:
    conn.execute(
        "SELECT set_config('workbench.organization_id', %s, true)",
        ("" if org_id is None else str(org_id),),
    )


@pytest.fixture
def two_orgs(store):
    a = store
    organizations.create_organization(a, "beta")
    b = a.in_organization("beta")
    _fill(a)
    b_project = _fill(b)
    return a, b, b_project


def test_every_tenant_table_has_row_level_security(store):
    with owner_engine(store).connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.relname, c.relrowsecurity FROM pg_class c"
            " JOIN information_schema.columns i ON i.table_name = c.relname"
            " WHERE i.table_schema = 'public' AND i.column_name = 'organization_id'"
            " AND c.relkind = 'r'"
        ).all()
    tables = dict(rows)
    assert {"projects", "connections", "migration_jobs", "migration_logs", "audit_events"} <= set(
        tables
    )
    assert all(tables.values()), [t for t, on in tables.items() if not on]


def test_raw_sql_as_the_application_role_sees_and_changes_only_its_organization(two_orgs):
    a, b, b_project = two_orgs
    with owner_engine(a).connect() as conn:
        tables = (
            conn.exec_driver_sql(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND column_name = 'organization_id' AND table_name <> 'organizations'"
            )
            .scalars()
            .all()
        )
        owner_counts = {
            t: conn.exec_driver_sql(
                f"SELECT count(*) FROM {t} WHERE organization_id = {b.identity.organization_id}"
            ).scalar()
            for t in tables
        }
    # organization B really has rows in the tables this test is about
    for t in (
        "projects",
        "connections",
        "migration_jobs",
        "migration_logs",
        "partition_checkpoints",
        "feature_flags",
        "masking_policies",
        "audit_events",
    ):
        assert owner_counts[t] > 0, t

    with psycopg.connect(_app_url(a)) as conn:
        role = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert role == (False, False)
        _as_org(conn, a.identity.organization_id)
        for t in tables:
            orgs = {
                r[0]
                for r in conn.execute(
                    sql.SQL("SELECT DISTINCT organization_id FROM {}").format(sql.Identifier(t))
                )
            }
            assert orgs <= {a.identity.organization_id}, t
            # B's rows cannot be changed or deleted, not even by naming them
            changed = conn.execute(
                sql.SQL("DELETE FROM {} WHERE organization_id = %s").format(sql.Identifier(t))
                if t != "audit_events"
                else sql.SQL("SELECT 1 WHERE false"),
                (b.identity.organization_id,) if t != "audit_events" else None,
            ).rowcount
            assert changed in (0, -1), t
        assert (
            conn.execute("UPDATE projects SET name = 'stolen' WHERE id = %s", (b_project,)).rowcount
            == 0
        )
        # writing a row into B is refused by the policy
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO projects (organization_id, name, created_by) VALUES (%s, 'x', 'm')",
                (b.identity.organization_id,),
            )
    with psycopg.connect(_app_url(a)) as conn:
        # nor can an own row point at B's project (foreign keys skip row-level security;
        # the same-tenant keys of revision 0008 do not)
        _as_org(conn, a.identity.organization_id)
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="same_tenant"):
            conn.execute(
                "INSERT INTO connections (project_id, name, kind, role, url, created_by)"
                " VALUES (%s, 'spy', 'postgresql', 'source', 'postgresql://x/y', 'm')",
                (b_project,),
            )
    with psycopg.connect(_app_url(a)) as conn:
        _as_org(conn, a.identity.organization_id)
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="same_tenant"):
            conn.execute("UPDATE migration_jobs SET project_id = %s", (b_project,))
    with psycopg.connect(_app_url(a)) as conn:
        # moving an own row into B is refused too
        _as_org(conn, a.identity.organization_id)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("UPDATE projects SET organization_id = %s", (b.identity.organization_id,))
    with psycopg.connect(_app_url(a)) as conn:
        # no organization named: nothing at all
        assert conn.execute("SELECT count(*) FROM projects").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM connections").fetchone() == (0,)
        # and the role cannot switch the policies off
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("ALTER TABLE projects DISABLE ROW LEVEL SECURITY")
    with psycopg.connect(_app_url(a)) as conn:
        conn.execute("SET row_security = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("SELECT * FROM projects")

    # the owner still sees B's rows untouched
    with owner_engine(a).connect() as conn:
        for t, n in owner_counts.items():
            assert (
                conn.exec_driver_sql(
                    f"SELECT count(*) FROM {t} WHERE organization_id = {b.identity.organization_id}"
                ).scalar()
                == n
            ), t
        assert (
            conn.exec_driver_sql(f"SELECT name FROM projects WHERE id = {b_project}").scalar()
            == "shop-beta"
        )


def test_the_api_of_one_organization_does_not_see_the_other(two_orgs):
    a, b, b_project = two_orgs
    assert [p.name for p in projects.list_projects(a)] == ["shop-default"]
    assert [p.name for p in projects.list_projects(b)] == ["shop-beta"]
    assert {j.project_id for j in jobs.list_jobs(b)} == {b_project}
    # even a Python-side bug that forgets the organization filter gets only its own rows
    with a.connection() as conn:
        names = conn.exec_driver_sql("SELECT name FROM projects").scalars().all()
    assert names == ["shop-default"]


def test_audit_trail_is_insert_only_for_the_application_role(store):
    projects.create_project(store, "audited")
    with psycopg.connect(_app_url(store)) as conn:
        _as_org(conn, store.identity.organization_id)
        assert conn.execute("SELECT count(*) FROM audit_events").fetchone()[0] >= 1
        for statement in (
            "UPDATE audit_events SET actor = 'someone else'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
            _as_org(conn, store.identity.organization_id)
        conn.execute(
            "INSERT INTO audit_events (actor, action, object_type, organization_id)"
            " VALUES ('t', 'test.insert', 'test', %s)",
            (store.identity.organization_id,),
        )


def test_unprivileged_login_with_the_owners_login_for_upgrades(scram_pg, tmp_path):
    """Production: WORKBENCH_DATABASE_URL is a plain login, the owner's is only for init."""
    with psycopg.connect(scram_pg.url("postgres"), autocommit=True) as conn:
        for role in ("wb_owner", "wb_login"):
            conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute("DROP DATABASE IF EXISTS wbprod WITH (FORCE)")
        conn.execute("CREATE ROLE wb_owner LOGIN PASSWORD 'Owner-Pw-9'")
        conn.execute("CREATE ROLE wb_login LOGIN PASSWORD 'Login-Pw-9'")
        conn.execute("CREATE DATABASE wbprod OWNER wb_owner")
    base = scram_pg.url("wbprod")
    from sqlalchemy.engine import make_url

    def url(user: str, password: str) -> str:
        return (
            make_url(base)
            .set(username=user, password=password)
            .render_as_string(hide_password=False)
        )

    app_only = load_settings(
        database_url=url("wb_login", "Login-Pw-9"), data_dir=tmp_path / "d", user="ann"
    )
    with pytest.raises(StoreSchemaError, match="WORKBENCH_DATABASE_ADMIN_URL"):
        open_store(app_only)
    # the owner alone cannot create roles: a clear error says what to do
    with pytest.raises(ConfigurationError, match="CREATEROLE"):
        open_store(
            app_only.with_(database_url=type(app_only.database_url)(url("wb_owner", "Owner-Pw-9")))
        )

    settings = app_only.with_(
        database_admin_url=type(app_only.database_url)(url("wb_owner", "Owner-Pw-9"))
    )
    store = open_store(settings)
    try:
        assert store.engine.url.username == "wb_login"
        projects.create_project(store, "prod")
        assert [p.name for p in projects.list_projects(store)] == ["prod"]
        with psycopg.connect(_app_url(store)) as conn:
            assert conn.execute("SELECT count(*) FROM projects").fetchone() == (0,)
            _as_org(conn, store.identity.organization_id)
            assert conn.execute("SELECT count(*) FROM projects").fetchone() == (1,)
    finally:
        store.close()
