"""Tenant isolation enforced by PostgreSQL: the application role and row-level security.

The workbench works in its store as a role that is neither superuser, nor owner of the
tables, nor ``BYPASSRLS``, so PostgreSQL applies these policies to everything it runs:

- every table with an ``organization_id`` shows and accepts only rows of the organization
  named by the transaction-local setting ``workbench.organization_id`` (set by
  :meth:`Store.session` at the start of each transaction, gone at its end);
- ``memberships`` also shows the current user's own memberships (``workbench.user_id``), so
  a user can find their organizations; ``organizations`` shows the current one and those;
- ``audit_events`` can be read and inserted, never updated or deleted (not granted);
- ``users`` holds names only and is shared.

The role is one per store database (``<database>_workbench_app``, so two stores on one
server cannot reach each other) and logs in with a password derived from the store's key.
Its SCRAM verifier is computed here, so the clear password never reaches the server's logs.
:func:`secure` creates or refreshes all of it; it runs with the owner's rights after every
upgrade and is skipped when a marker says nothing changed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import Connection

from workbench.errors import ConfigurationError

ORG_SETTING = "workbench.organization_id"
USER_SETTING = "workbench.user_id"
CURRENT_ORG = f"nullif(current_setting('{ORG_SETTING}', true), '')::bigint"
CURRENT_USER = f"nullif(current_setting('{USER_SETTING}', true), '')::bigint"

# tables with their own policies; every other table with organization_id gets TENANT_POLICY
IDENTITY_TABLES = ("organizations", "memberships", "users")
AUDIT_TABLE = "audit_events"
VERSION_TABLE = "workbench_alembic_version"
MARKER_PREFIX = "workbench tenancy "


def app_role_name(database: str) -> str:
    """The application role of the store in ``database``: readable, unique per database."""
    plain = re.sub(r"[^a-z0-9_]", "_", database.lower())
    name = f"{plain}_workbench_app"
    if len(name) > 63 or plain != database.lower():
        digest = hashlib.sha256(database.encode()).hexdigest()[:12]
        name = f"{plain[:30]}_{digest}_workbench_app"
    return name


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


def statements(role: str, tenant_tables: list[str], database: str) -> list[sql.Composable]:
    """The grants and policies, in order; every statement is idempotent."""
    r = sql.Identifier(role)
    org, usr = sql.SQL(CURRENT_ORG), sql.SQL(CURRENT_USER)

    def policy(table: str, name: str, body: str, **parts: sql.Composable) -> list[sql.Composable]:
        t, n = sql.Identifier(table), sql.Identifier(name)
        return [
            sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(n, t),
            sql.SQL("CREATE POLICY {} ON {} " + body).format(n, t, r, **parts),
        ]

    out: list[sql.Composable] = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), r),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(r),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(r),
        sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(VERSION_TABLE), r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE ON users TO {}").format(r),
    ]
    for table in ("organizations", "memberships", AUDIT_TABLE, *tenant_tables):
        out.append(
            sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(sql.Identifier(table))
        )
    # organizations: anyone may create one (and becomes its owner in the same transaction)
    out += [sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON organizations TO {}").format(r)]
    out += policy(
        "organizations",
        "member_read",
        "FOR SELECT TO {} USING (id = {org} OR id IN "
        "(SELECT organization_id FROM memberships WHERE user_id = {usr}))",
        org=org,
        usr=usr,
    )
    out += policy("organizations", "create", "FOR INSERT TO {} WITH CHECK (id = {org})", org=org)
    out += policy(
        "organizations",
        "own_update",
        "FOR UPDATE TO {} USING (id = {org}) WITH CHECK (id = {org})",
        org=org,
    )
    out += policy("organizations", "own_delete", "FOR DELETE TO {} USING (id = {org})", org=org)
    # memberships: the organization's, plus the user's own (to list their organizations)
    out += [sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO {}").format(r)]
    out += policy(
        "memberships",
        "read",
        "FOR SELECT TO {} USING (organization_id = {org} OR user_id = {usr})",
        org=org,
        usr=usr,
    )
    out += policy(
        "memberships", "add", "FOR INSERT TO {} WITH CHECK (organization_id = {org})", org=org
    )
    out += policy(
        "memberships",
        "change",
        "FOR UPDATE TO {} USING (organization_id = {org}) WITH CHECK (organization_id = {org})",
        org=org,
    )
    out += policy(
        "memberships", "remove", "FOR DELETE TO {} USING (organization_id = {org})", org=org
    )
    # audit: insert and read only; no UPDATE or DELETE is granted, whatever the code does
    out += [
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
            sql.Identifier(AUDIT_TABLE), r
        ),
        sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(sql.Identifier(AUDIT_TABLE), r),
    ]
    out += policy(AUDIT_TABLE, "read", "FOR SELECT TO {} USING (organization_id = {org})", org=org)
    out += policy(
        AUDIT_TABLE, "write", "FOR INSERT TO {} WITH CHECK (organization_id = {org})", org=org
    )
    for table in tenant_tables:
        out.append(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
                sql.Identifier(table), r
            )
        )
        out += policy(
            table,
            "tenant",
            "TO {} USING (organization_id = {org}) WITH CHECK (organization_id = {org})",
            org=org,
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


def secure(conn: Connection, role: str, password: str | None) -> bool:
    """Create or refresh the application role, its grants and the policies; True if it ran.

    ``password``: the role is the workbench's own (created or updated here, logging in with
    that password); None: the role is a login someone else made (WORKBENCH_DATABASE_URL),
    which must exist. Runs in the caller's transaction, with the owner's rights. A marker
    comment on the version table records what was applied, so an unchanged store costs a
    few catalog queries.
    """
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    tables = tenant_tables(conn)
    raw = conn.connection.dbapi_connection
    assert raw is not None
    body = statements(role, tables, database)
    rendered = "\n".join(s.as_string(raw) for s in body)
    key = hashlib.sha256(f"{password}\n{rendered}".encode()).hexdigest()
    marker = MARKER_PREFIX + key
    role_exists = conn.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).first()
    current = conn.execute(
        text("SELECT obj_description(to_regclass(:t), 'pg_class')"), {"t": VERSION_TABLE}
    ).scalar()
    if role_exists and current == marker:
        return False
    cursor = raw.cursor()
    if password is None:
        if not role_exists:
            raise ConfigurationError(f"The store's application login {role!r} does not exist")
    else:
        _ensure_role(cursor, role, password, exists=bool(role_exists))
    for statement in body:
        cursor.execute(statement)
    cursor.execute(
        sql.SQL("COMMENT ON TABLE {} IS {}").format(
            sql.Identifier(VERSION_TABLE), sql.Literal(marker)
        )
    )
    return True


def _ensure_role(cursor: Any, role: str, password: str, *, exists: bool) -> None:
    verifier = sql.Literal(scram_verifier(password))
    name = sql.Identifier(role)
    if exists:
        statement = sql.SQL("ALTER ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD {}")
    else:
        statement = sql.SQL(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD {}"
        )
    # two stores opening at once on one server may race on the (cluster-wide) role name
    cursor.execute("SAVEPOINT ensure_role")
    try:
        cursor.execute(statement.format(name, verifier))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ConfigurationError(
            "The store's login owns the store and would bypass row-level security, so the "
            f"workbench works as the role {role!r}, which this login may not create or change "
            f"({exc.diag.message_primary}). Either grant it CREATEROLE, or create a login role "
            "for the workbench yourself, set WORKBENCH_DATABASE_URL to it and "
            "WORKBENCH_DATABASE_ADMIN_URL to the owner, then run `workbench init`"
        ) from exc
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        cursor.execute("ROLLBACK TO SAVEPOINT ensure_role")
    else:
        cursor.execute("RELEASE SAVEPOINT ensure_role")
