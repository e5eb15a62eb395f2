"""Tenant isolation enforced by PostgreSQL and bound to the login: raw SQL in another user's
session, whatever it sets, cannot read, change or decrypt an organization's rows it does not
belong to, nor claim another identity; the audit trail is insert-only; the embedded
single-user store needs no set-up (tests/store/test_embedded.py)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from tests.store.conftest import owner_engine
from workbench.config import load_settings
from workbench.errors import ConfigurationError, PermissionDeniedError
from workbench.governance import policy
from workbench.store import connections, flags, jobs, open_store, organizations, projects


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


def test_the_api_of_one_organization_does_not_see_the_other(two_orgs):
    a, b, b_project = two_orgs
    assert [p.name for p in projects.list_projects(a)] == ["shop-default"]
    assert [p.name for p in projects.list_projects(b)] == ["shop-beta"]
    assert {j.project_id for j in jobs.list_jobs(b)} == {b_project}
    # even a Python-side bug that forgets the organization filter gets only its own rows
    with a.connection() as conn:
        names = conn.exec_driver_sql("SELECT name FROM projects").scalars().all()
    assert names == ["shop-default"]


def test_audit_trail_is_insert_only(logins):
    with psycopg.connect(logins.url("bob")) as conn:
        _as_org(conn, logins.beta)
        assert conn.execute("SELECT count(*) FROM audit_events").fetchone()[0] >= 1
        for statement in (
            "UPDATE audit_events SET actor = 'someone else'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
            _as_org(conn, logins.beta)
        conn.execute(
            "INSERT INTO audit_events (actor, action, object_type, organization_id)"
            " VALUES ('t', 'test.insert', 'test', %s)",
            (logins.beta,),
        )


# --- per-user logins on a server that checks passwords --------------------------------------


class Logins:
    """A store on a SCRAM server: alice's organization 'default', bob's 'beta'; each works
    with a login of their own (bound to them once, with the owner's login)."""

    def __init__(self, server, tmp_path):
        self.server, self.tmp_path = server, tmp_path
        self.passwords = {"alice": "Alice-Pw-1", "bob": "Bob-Pw-1"}

    def url(self, who: str, password: str | None = None) -> str:
        from sqlalchemy.engine import make_url

        user, pw = {"owner": ("wb_owner", "Owner-Pw-9")}.get(
            who, (f"{who}_login", self.passwords.get(who, ""))
        )
        return (
            make_url(self.server.url("wbtenants"))
            .set(username=user, password=password or pw)
            .render_as_string(hide_password=False)
        )

    def settings(self, who: str, as_user: str | None = None, admin: bool = False):
        from workbench.config import Secret

        base = load_settings(
            database_url=self.url(who), data_dir=self.tmp_path / "d", user=as_user or who
        )
        return base.with_(database_admin_url=Secret(self.url("owner"))) if admin else base


@pytest.fixture
def logins(scram_pg, tmp_path):
    _drop_everything(scram_pg)
    with psycopg.connect(scram_pg.url("postgres"), autocommit=True) as conn:
        conn.execute("CREATE ROLE wb_owner LOGIN CREATEROLE PASSWORD 'Owner-Pw-9'")
        conn.execute("CREATE ROLE alice_login LOGIN PASSWORD 'Alice-Pw-1'")
        conn.execute("CREATE ROLE bob_login LOGIN PASSWORD 'Bob-Pw-1'")
        conn.execute("CREATE DATABASE wbtenants OWNER wb_owner")
    env = Logins(scram_pg, tmp_path)
    alice = open_store(env.settings("alice", admin=True))  # binds alice_login; owns default
    organizations.create_organization(alice, "beta")
    beta = alice.in_organization("beta")
    organizations.add_member(beta, "bob", "owner")
    organizations.remove_member(beta, "alice")
    _fill(alice)
    bob = open_store(env.settings("bob", admin=True))  # binds bob_login
    env.beta = bob.identity.organization_id
    env.default = alice.identity.organization_id
    env.bob_project = _fill(bob)
    env.alice, env.bob = alice, bob
    yield env
    alice.close()
    bob.close()
    _drop_everything(scram_pg)


def _drop_everything(server) -> None:
    from workbench.store.tenancy import drop_store_roles

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS wbtenants WITH (FORCE)")
        drop_store_roles(conn, "wbtenants")
        for role in ("alice_login", "bob_login", "carol_login", "wb_owner"):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_a_users_session_sees_nothing_of_another_organization_whatever_it_sets(logins):
    """Bob, with raw SQL in his own session, names alice's organization: nothing shows,
    nothing changes, nothing is written there, and he cannot become alice."""
    with owner_engine(logins.alice).connect() as conn:
        tables = conn.exec_driver_sql(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND column_name = 'organization_id' AND table_name <> 'organizations'"
        ).scalars().all()  # fmt: skip
        alice_rows = {
            t: conn.exec_driver_sql(
                f"SELECT count(*) FROM {t} WHERE organization_id = {logins.default}"
            ).scalar()
            for t in tables
        }
    for t in ("projects", "connections", "migration_jobs", "audit_events", "organization_keys"):
        assert alice_rows[t] > 0, t
    with psycopg.connect(logins.url("bob")) as conn:
        role = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert role == (False, False)
        _as_org(conn, logins.default)  # alice's organization, by its id
        for t in tables:
            seen = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE organization_id = %s").format(
                    sql.Identifier(t)
                ),
                (logins.default,),
            )
            assert seen.fetchone() == (0,), t
            if t not in ("audit_events", "organization_keys"):
                gone = conn.execute(
                    sql.SQL("DELETE FROM {} WHERE organization_id = %s").format(sql.Identifier(t)),
                    (logins.default,),
                )
                assert gone.rowcount == 0, t
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO projects (organization_id, name, created_by) VALUES (%s, 'x', 'b')",
                (logins.default,),
            )
    with psycopg.connect(logins.url("bob")) as conn:
        _as_org(conn, logins.default)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(  # nor can he join alice's organization
                "INSERT INTO memberships (organization_id, user_id, role)"
                " SELECT %s, id, 'owner' FROM users WHERE db_role = current_user",
                (logins.default,),
            )
    with (
        psycopg.connect(logins.url("bob")) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("SET ROLE alice_login")  # he is not a member of her role
    with (
        psycopg.connect(logins.url("bob")) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),  # nor rebind his login
    ):
        conn.execute("UPDATE users SET db_role = 'bob_login' WHERE name = 'alice'")
    with psycopg.connect(logins.url("bob")) as conn:
        _as_org(conn, logins.beta)  # alice's dashboard password is hers to change
        hashed = conn.execute(
            "UPDATE users SET password_hash = 'x' WHERE name = 'alice'"
        ).rowcount  # fmt: skip
        assert hashed == 0
        # his own organization is there, as usual
        assert conn.execute("SELECT count(*) FROM projects").fetchone() == (1,)
    with (
        psycopg.connect(logins.url("bob")) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("ALTER TABLE projects DISABLE ROW LEVEL SECURITY")
    # alice's rows are untouched
    with owner_engine(logins.alice).connect() as conn:
        for t, n in alice_rows.items():
            assert conn.exec_driver_sql(
                f"SELECT count(*) FROM {t} WHERE organization_id = {logins.default}"
            ).scalar() == n, t  # fmt: skip


def test_secrets_are_encrypted_with_each_organizations_own_key(logins):
    """Bob holds the store's key too, but not alice's organization key: her password
    cannot be decrypted in his session, whatever it sets."""
    from workbench.store.secrets import ORG_PREFIX

    with owner_engine(logins.alice).connect() as conn:
        secret = conn.exec_driver_sql(
            f"SELECT secret FROM connections WHERE organization_id = {logins.default}"
        ).scalar()
        keys = dict(
            conn.exec_driver_sql("SELECT organization_id, wrapped_key FROM organization_keys").all()
        )
    assert bytes(secret).startswith(ORG_PREFIX) and keys[logins.default] != keys[logins.beta]
    assert "Pw-T1" in repr(
        connections.connection_url(logins.alice, connections.get_connection(
            logins.alice, "shop-default", "src"))
    )  # fmt: skip
    with psycopg.connect(logins.url("bob")) as conn:
        _as_org(conn, logins.default)
        assert conn.execute("SELECT wrapped_key FROM organization_keys").fetchall() == []
    with pytest.raises(PermissionDeniedError):
        logins.bob.in_organization("default")


def test_identity_comes_from_the_login_not_from_variables(logins):
    """A JupyterHub-style user with their own login cannot become another by WORKBENCH_USER."""
    with pytest.raises(PermissionDeniedError, match="belongs to the workbench user 'bob'"):
        open_store(logins.settings("bob", as_user="alice"))
    # a login nobody bound yet, without the owner's login: told what to do, nothing else
    with psycopg.connect(logins.server.url("postgres"), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS carol_login")
        conn.execute("CREATE ROLE carol_login LOGIN PASSWORD 'Carol-Pw-1'")
    logins.passwords["carol"] = "Carol-Pw-1"
    with pytest.raises(ConfigurationError, match="not bound to a workbench user"):
        open_store(logins.settings("carol"))
    # bound by the owner's login, carol still sees nothing until an owner adds her
    with pytest.raises(PermissionDeniedError, match="workbench member add carol"):
        open_store(logins.settings("carol", admin=True))
    organizations.add_member(logins.alice, "carol", "viewer")
    carol = open_store(logins.settings("carol"))  # her own login alone, from now on
    try:
        assert carol.user == "carol" and carol.identity.organization == "default"
    finally:
        carol.close()
        with psycopg.connect(logins.server.url("postgres"), autocommit=True) as conn:
            conn.execute("REVOKE ALL ON DATABASE wbtenants FROM carol_login")


def test_an_owner_login_that_cannot_create_roles_is_told_what_to_do(scram_pg, tmp_path):
    from workbench.config import Secret

    with psycopg.connect(scram_pg.url("postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS wbnocreate WITH (FORCE)")
        conn.execute("DROP ROLE IF EXISTS wb_plain_owner")
        conn.execute("CREATE ROLE wb_plain_owner LOGIN PASSWORD 'Plain-Pw-9'")
        conn.execute("CREATE DATABASE wbnocreate OWNER wb_plain_owner")
    from sqlalchemy.engine import make_url

    url = make_url(scram_pg.url("wbnocreate")).set(username="wb_plain_owner", password="Plain-Pw-9")
    settings = load_settings(database_url=url.render_as_string(hide_password=False),
                             data_dir=tmp_path / "d", user="ann")  # fmt: skip
    try:
        with pytest.raises(ConfigurationError, match="CREATEROLE"):
            open_store(settings)
        assert isinstance(settings.database_url, Secret)
    finally:
        with psycopg.connect(scram_pg.url("postgres"), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS wbnocreate WITH (FORCE)")
            conn.execute("DROP ROLE IF EXISTS wb_plain_owner")


def test_a_bound_login_works_without_the_owners_login(logins):
    bob = open_store(logins.settings("bob"))
    try:
        assert bob.engine.url.username == "bob_login" and bob.user == "bob"
        assert [p.name for p in projects.list_projects(bob)] == ["shop-beta"]
    finally:
        bob.close()
