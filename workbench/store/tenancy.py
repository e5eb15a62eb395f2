"""Tenant isolation enforced by PostgreSQL, bound to who is logged in.

Every workbench user works in the store as a PostgreSQL role of their own (``users.db_role``):

- with a per-user login (``WORKBENCH_DATABASE_URL`` holds the user's own credentials: a
  shared server, JupyterHub), the login itself is that role, and the store knows the user
  from it; ``WORKBENCH_USER`` cannot claim another identity;
- with the owner's login (the embedded single-user store, a developer's server) or on a
  server acting for many users (the dashboards), the workbench logs in as the store's
  *gateway* role and switches to the user's role with ``SET LOCAL ROLE`` in every
  transaction; the gateway holds no table rights of its own (NOINHERIT), only the right to
  become the users it was granted.

Row-level security then keys everything on the role in use (``current_user``): a session sees
the organizations its role's user belongs to, and nothing else, whatever it sets;
``workbench.organization_id`` only picks one of them for the transaction. Users' roles are
members of the store's group role, which holds the grants:

- tables with ``organization_id`` show and accept only rows of the chosen organization, and
  only if the user is a member of it;
- ``organizations`` and ``memberships`` show the user's own organizations; a membership can
  be added only to an organization the user belongs to (or to a new one, by its creator);
- ``audit_events`` can be read and inserted, never updated or deleted;
- ``users`` shows names; a user may change only their own dashboard password (or, as an
  owner, a member's); nobody may change which role a user is;
- ``organization_keys`` (each organization's data key, wrapped) is readable by members only.

All roles are per store database (``<database>_workbench_*``), so two stores on one server
cannot reach each other. :func:`secure` creates or refreshes the group, the gateway, the
grants, functions and policies; it runs with the owner's rights after every upgrade and is
skipped when a marker says nothing changed. :func:`ensure_user_role` gives a user a role.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from typing import Any, cast

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import Connection

from workbench.errors import ConfigurationError

ORG_SETTING = "workbench.organization_id"
USER_SETTING = "workbench.user_id"
CURRENT_ORG = f"nullif(current_setting('{ORG_SETTING}', true), '')::bigint"
# the organizations of the user whose role is in use: computed by a function that runs with
# the owner's rights (it reads memberships without their own policies)
MEMBER_ORGS = "(SELECT workbench_member_orgs(current_user::text))"

# tables with their own policies; every other table with organization_id gets TENANT_POLICY
IDENTITY_TABLES = ("organizations", "memberships", "users")
AUDIT_TABLE = "audit_events"
VERSION_TABLE = "workbench_alembic_version"
MARKER_PREFIX = "workbench tenancy "


def _role_base(database: str) -> str:
    plain = re.sub(r"[^a-z0-9_]", "_", database.lower())
    if len(plain) > 40 or plain != database.lower():
        digest = hashlib.sha256(database.encode()).hexdigest()[:12]
        return f"{plain[:26]}_{digest}"
    return plain


def app_role_name(database: str) -> str:
    """The store's gateway role (``<database>_workbench_app``): logs in, becomes users."""
    return f"{_role_base(database)}_workbench_app"


def group_role_name(database: str) -> str:
    """The group every user's role belongs to; it holds the grants the policies act on."""
    return f"{_role_base(database)}_workbench_users"


def user_role_name(database: str, user_id: int) -> str:
    """The role a user works as when the workbench switches to it (NOLOGIN)."""
    return f"{_role_base(database)}_wb_u{user_id}"


def drop_store_roles(conn: psycopg.Connection, database: str) -> None:
    """Drop the roles a store in ``database`` made (roles are cluster-wide, so dropping the
    database leaves them behind): its users' roles, the gateway, then the group."""
    base = _role_base(database)
    users = conn.execute(
        "SELECT rolname FROM pg_roles WHERE rolname ~ %s",
        ("^" + re.escape(base) + r"_wb_u[0-9]+$",),
    ).fetchall()
    for role in [name for (name,) in users] + [app_role_name(database), group_role_name(database)]:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677)."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}"
        f"${b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


def is_privileged(conn: Connection) -> bool:
    """True when the connected role would bypass row-level security on the store's tables:
    a superuser, a BYPASSRLS role, or the owner of the store (or of an empty database)."""
    row = conn.execute(
        text(
            "SELECT r.rolsuper OR r.rolbypassrls"
            " OR coalesce(pg_has_role(current_user, c.relowner, 'USAGE'),"
            "             pg_has_role(current_user, d.datdba, 'USAGE'))"
            " FROM pg_roles r"
            " CROSS JOIN pg_database d"
            " LEFT JOIN pg_class c ON c.oid = to_regclass(:version)"
            " WHERE r.rolname = current_user AND d.datname = current_database()"
        ),
        {"version": VERSION_TABLE},
    ).scalar_one()
    return bool(row)


# the SECURITY DEFINER functions below: only the group of users may call them
FUNCTION_SIGNATURES = (
    ("workbench_user_id", "text"),
    ("workbench_member_orgs", "text"),
    ("workbench_owner_orgs", "text"),
    ("workbench_org_is_new", "bigint"),
)

FUNCTIONS = [
    # the user (id) a role works as, and the organizations it belongs to / owns: SECURITY
    # DEFINER so that policies can read memberships without recursing into their policies
    """CREATE OR REPLACE FUNCTION workbench_user_id(role_name text) RETURNS bigint
       LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
       $$ SELECT id FROM users WHERE db_role = role_name $$""",
    """CREATE OR REPLACE FUNCTION workbench_member_orgs(role_name text) RETURNS SETOF bigint
       LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
       $$ SELECT m.organization_id FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE u.db_role = role_name $$""",
    """CREATE OR REPLACE FUNCTION workbench_owner_orgs(role_name text) RETURNS SETOF bigint
       LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
       $$ SELECT m.organization_id FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE u.db_role = role_name AND m.role = 'owner' $$""",
    """CREATE OR REPLACE FUNCTION workbench_org_is_new(org bigint) RETURNS boolean
       LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
       $$ SELECT NOT EXISTS (SELECT 1 FROM memberships WHERE organization_id = org) $$""",
]


def statements(group: str, tenant_tables: list[str], database: str) -> list[sql.Composable]:
    """The grants, functions and policies, in order; every statement is idempotent."""
    g = sql.Identifier(group)
    org, mine = sql.SQL(CURRENT_ORG), sql.SQL(MEMBER_ORGS)
    me = sql.SQL("workbench_user_id(current_user::text)")

    def policy(table: str, name: str, body: str, **parts: sql.Composable) -> list[sql.Composable]:
        t, n = sql.Identifier(table), sql.Identifier(name)
        return [
            sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(n, t),
            sql.SQL("CREATE POLICY {} ON {} " + body).format(n, t, g, **parts),
        ]

    out: list[sql.Composable] = [sql.SQL(f) for f in FUNCTIONS]
    signatures = [(sql.SQL(f), sql.SQL(a)) for f, a in FUNCTION_SIGNATURES]
    revoke = "REVOKE ALL ON FUNCTION {}({}) FROM PUBLIC"
    grant = "GRANT EXECUTE ON FUNCTION {}({}) TO {}"
    out += [sql.SQL(revoke).format(f, a) for f, a in signatures]
    out += [sql.SQL(grant).format(f, a, g) for f, a in signatures]
    out += [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), g),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(g),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(g),
        sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(VERSION_TABLE), g),
    ]
    for table in ("organizations", "memberships", "users", AUDIT_TABLE, *tenant_tables):
        out.append(
            sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(sql.Identifier(table))
        )
    # users: names are shared; which role a user is can only be set by the owner
    out += [
        sql.SQL("REVOKE ALL ON users FROM {}").format(g),
        sql.SQL("GRANT SELECT ON users TO {}").format(g),
        sql.SQL("GRANT UPDATE (password_hash, password_set_at) ON users TO {}").format(g),
    ]
    out += policy("users", "read", "FOR SELECT TO {} USING (true)")
    out += policy(
        "users",
        "own_password",
        "FOR UPDATE TO {} USING (id = {me} OR id IN (SELECT m.user_id FROM memberships m "
        "WHERE m.organization_id IN (SELECT workbench_owner_orgs(current_user::text)))) "
        "WITH CHECK (true)",
        me=me,
    )
    # organizations: the user's own; anyone may create one (owning it in that transaction)
    out += [sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON organizations TO {}").format(g)]
    out += policy(
        "organizations",
        "member_read",  # and the one being created in this transaction (no members yet)
        "FOR SELECT TO {} USING (id IN {mine} OR (id = {org} AND workbench_org_is_new(id)))",
        mine=mine,
        org=org,
    )
    out += policy("organizations", "create", "FOR INSERT TO {} WITH CHECK (id = {org})", org=org)
    out += policy(
        "organizations",
        "own_update",
        "FOR UPDATE TO {} USING (id = {org} AND id IN {mine}) WITH CHECK (id = {org})",
        org=org,
        mine=mine,
    )
    out += policy(
        "organizations",
        "own_delete",
        "FOR DELETE TO {} USING (id = {org} AND id IN {mine})",
        org=org,
        mine=mine,
    )
    # memberships: of the user's organizations; added only to one of them, or to a new one
    out += [sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO {}").format(g)]
    out += policy(
        "memberships",
        "read",  # co-members, and one's own (also the one being inserted, RETURNING it)
        "FOR SELECT TO {} USING (organization_id IN {mine} OR user_id = {me})",
        mine=mine,
        me=me,
    )
    out += policy(
        "memberships",
        "add",
        "FOR INSERT TO {} WITH CHECK (organization_id = {org} AND (organization_id IN {mine} "
        "OR workbench_org_is_new(organization_id)))",
        org=org,
        mine=mine,
    )
    out += policy(
        "memberships",
        "change",
        "FOR UPDATE TO {} USING (organization_id = {org} AND organization_id IN {mine}) "
        "WITH CHECK (organization_id = {org})",
        org=org,
        mine=mine,
    )
    out += policy(
        "memberships",
        "remove",
        "FOR DELETE TO {} USING (organization_id = {org} AND organization_id IN {mine})",
        org=org,
        mine=mine,
    )
    # audit: insert and read only; no UPDATE or DELETE is granted, whatever the code does
    out += [
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
            sql.Identifier(AUDIT_TABLE), g
        ),
        sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(sql.Identifier(AUDIT_TABLE), g),
    ]
    out += policy(
        AUDIT_TABLE,
        "read",
        "FOR SELECT TO {} USING (organization_id = {org} AND (organization_id IN {mine} "
        "OR workbench_org_is_new(organization_id)))",
        org=org,
        mine=mine,
    )
    out += policy(
        AUDIT_TABLE,
        "write",
        "FOR INSERT TO {} WITH CHECK (organization_id = {org} AND (organization_id IN {mine} "
        "OR workbench_org_is_new(organization_id)))",
        org=org,
        mine=mine,
    )
    for table in tenant_tables:
        grant = (
            "GRANT SELECT, INSERT ON {} TO {}"  # a key is made once and never changed
            if table == "organization_keys"
            else "GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}"
        )
        out.append(sql.SQL(grant).format(sql.Identifier(table), g))
        out += policy(
            table,
            "tenant",
            "TO {} USING (organization_id = {org} AND organization_id IN {mine}) "
            "WITH CHECK (organization_id = {org} AND organization_id IN {mine})",
            org=org,
            mine=mine,
        )
    return out


def tenant_tables(conn: Connection) -> list[str]:
    """The store's tables that carry ``organization_id`` (other than the identity ones)."""
    rows = conn.execute(
        text(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND column_name = 'organization_id'"
            " ORDER BY table_name"
        )
    ).scalars()
    return [t for t in rows if t not in (*IDENTITY_TABLES, AUDIT_TABLE)]


def secure(conn: Connection, gateway: str, password: str | None) -> bool:
    """Create or refresh the group role, the gateway, grants, functions and policies; True if
    it ran.

    ``password``: the gateway is the workbench's own (created or updated here, logging in
    with that password); None: the store is used through per-user logins only (no gateway).
    Runs in the caller's transaction, with the owner's rights. A marker comment on the
    version table records what was applied, so an unchanged store costs a few queries.
    """
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    group = group_role_name(database)
    tables = tenant_tables(conn)
    raw = conn.connection.dbapi_connection
    assert raw is not None
    # SQLAlchemy types the DBAPI connection generically; the store's driver is psycopg
    pg = cast("psycopg.Connection[Any]", raw)
    body = statements(group, tables, database)
    rendered = "\n".join(s.as_string(pg) for s in body)
    key = hashlib.sha256(f"{password}\n{gateway}\n{rendered}".encode()).hexdigest()
    marker = MARKER_PREFIX + key
    roles = set(
        conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:r)"), {"r": [group, gateway]}
        ).scalars()
    )
    current = conn.execute(
        text("SELECT obj_description(to_regclass(:t), 'pg_class')"), {"t": VERSION_TABLE}
    ).scalar()
    if group in roles and (password is None or gateway in roles) and current == marker:
        return False
    cursor = raw.cursor()
    _create_role(cursor, group, "NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS")
    if password is not None:
        _ensure_gateway(cursor, gateway, password, exists=gateway in roles)
    for statement in body:
        cursor.execute(statement)
    cursor.execute(
        sql.SQL("COMMENT ON TABLE {} IS {}").format(
            sql.Identifier(VERSION_TABLE), sql.Literal(marker)
        )
    )
    return True


def ensure_user_role(conn: Connection, user_id: int, login: str | None = None) -> str:
    """The role user ``user_id`` works as, created if needed (owner's rights): ``login`` (a
    per-user login, bound to them) or a NOLOGIN role the gateway may switch to."""
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    group, gateway = group_role_name(database), app_role_name(database)
    current = conn.execute(
        text("SELECT db_role FROM users WHERE id = :u"), {"u": user_id}
    ).scalar_one()
    role = login or current or user_role_name(database, user_id)
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    if login is None:
        _create_role(cursor, role, "NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS")
    cursor.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(role)))
    has_gateway = conn.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :g"), {"g": gateway}
    ).first()
    if has_gateway:  # servers acting for users (dashboards) switch to them through it
        cursor.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), sql.Identifier(gateway))
        )
    if current != role:
        conn.execute(text("UPDATE users SET db_role = :r WHERE id = :u"), {"r": role, "u": user_id})
    return role


def _create_role(cursor: Any, role: str, attributes: str) -> None:
    # two stores opening at once on one server may race on the (cluster-wide) role name
    cursor.execute("SAVEPOINT create_role")
    try:
        cursor.execute(sql.SQL("CREATE ROLE {} " + attributes).format(sql.Identifier(role)))
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        cursor.execute("ROLLBACK TO SAVEPOINT create_role")
    except psycopg.errors.InsufficientPrivilege as exc:
        cursor.execute("ROLLBACK TO SAVEPOINT create_role")
        raise _needs_createrole(role, exc) from exc
    else:
        cursor.execute("RELEASE SAVEPOINT create_role")


def _needs_createrole(role: str, exc: Exception) -> ConfigurationError:
    detail = getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc)
    return ConfigurationError(
        "The store's login owns the store and would bypass row-level security, so the "
        f"workbench works through roles of its own ({role!r} among them), which this login "
        f"may not create or change ({detail}). Either grant it CREATEROLE, or give each user "
        "a login of their own in WORKBENCH_DATABASE_URL and set WORKBENCH_DATABASE_ADMIN_URL "
        "to a login with CREATEROLE, then run `workbench init`"
    )


def _ensure_gateway(cursor: Any, role: str, password: str, *, exists: bool) -> None:
    verifier = sql.Literal(scram_verifier(password))
    name = sql.Identifier(role)
    # NOINHERIT: the gateway has no rights of its own, only the right to SET ROLE to users
    if exists:
        statement = sql.SQL("ALTER ROLE {} LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD {}")
    else:
        statement = sql.SQL(
            "CREATE ROLE {} LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS "
            "PASSWORD {}"
        )
    cursor.execute("SAVEPOINT ensure_role")
    try:
        cursor.execute(statement.format(name, verifier))
    except psycopg.errors.InsufficientPrivilege as exc:
        cursor.execute("ROLLBACK TO SAVEPOINT ensure_role")
        raise _needs_createrole(role, exc) from exc
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        cursor.execute("ROLLBACK TO SAVEPOINT ensure_role")
    else:
        cursor.execute("RELEASE SAVEPOINT ensure_role")
    # the grants of the old single application role (before 0010) go away
    cursor.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(name))
