"""Connections of a project: add, list, get, test, update, remove.

A connection is stored as its URL without the password plus the password encrypted apart
(``secret``). :func:`connection_url` puts the two together for connecting; nothing else
ever sees the password. Each change records an audit event (without the secret).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workbench.errors import (
    AlreadyExistsError,
    InUseError,
    InvalidInputError,
    NotFoundError,
)
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.models import CONNECTION_ROLES, Connection, Project, SchemaMapping
from workbench.store.names import clean_name
from workbench.store.projects import ProjectRef, project_row, require_active
from workbench.store.redact import redact
from workbench.urls import kind_of, mask_text, split_secret, with_password

if TYPE_CHECKING:
    from workbench.store.handle import Store

ConnectionRef = str | int  # a connection's name (within its project) or id


@dataclass(frozen=True)
class ConnectionRecord:
    """A stored connection. ``url`` never holds the password; ``has_secret`` tells if one is set."""

    id: int
    project_id: int
    project: str
    name: str
    kind: str
    role: str
    url: str
    has_secret: bool
    options: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        return data


def add_connection(
    store: Store,
    project: ProjectRef,
    name: str,
    url: str,
    *,
    role: str = "source",
    password: str | None = None,
    options: dict[str, Any] | None = None,
) -> ConnectionRecord:
    """Add a connection; the password comes from ``url`` or ``password`` (not both)."""
    require(store, "edit")
    name = clean_name(name, "connection name")
    role = _clean_role(role)
    kind = kind_of(url)
    bare_url, secret = _split(url, password)
    options = _clean_options(options)
    with store.session() as session:
        project_obj = project_row(session, store, project)
        require_active(project_obj)
        if _connection_row(session, project_obj, name, missing_ok=True) is not None:
            raise _exists(project_obj.name, name)
        row = Connection(
            project_id=project_obj.id,
            name=name,
            kind=kind,
            role=role,
            url=bare_url,
            secret=store.cipher.encrypt(secret) if secret else None,
            options=options,
            created_by=store.user,
        )
        session.add(row)
        _flush_unique(session, project_obj.name, name)
        record_event(
            session,
            store,
            "connection.add",
            object_type="connection",
            object_id=row.id,
            object_name=name,
            project_id=project_obj.id,
            kind=kind,
            role=role,
            url=bare_url,
            has_secret=secret is not None,
            options=options,
        )
        return _record(row, project_obj)


def list_connections(store: Store, project: ProjectRef) -> list[ConnectionRecord]:
    require(store, "read")
    with store.session() as session:
        project_obj = project_row(session, store, project)
        rows = session.scalars(
            select(Connection)
            .where(Connection.project_id == project_obj.id)
            .order_by(Connection.name)
        )
        return [_record(row, project_obj) for row in rows]


def get_connection(
    store: Store, project: ProjectRef | None, connection: ConnectionRef
) -> ConnectionRecord:
    """A connection by name within ``project``, or by id (``project`` may then be None)."""
    require(store, "read")
    with store.session() as session:
        row, project_obj = _lookup(session, store, project, connection)
        return _record(row, project_obj)


def masked_url(connection: ConnectionRecord) -> str:
    """The URL as ``mask_url`` shows it with its password (``user:***@host``), without
    decrypting anything: for display and as a key (stored profiles), at any role."""
    from urllib.parse import urlsplit, urlunsplit

    shown = mask_text(connection.url)
    if not connection.has_secret:
        return shown
    parts = urlsplit(shown)
    if "@" not in parts.netloc or ":***@" in parts.netloc:
        return shown
    user, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def connection_url(store: Store, connection: ConnectionRecord) -> str:
    """The URL with the decrypted password, for connecting only: never print or log it.

    Editors and owners only: viewers read the store's records, not the databases."""
    require(store, "edit", f"use the credentials of connection {connection.name!r}")
    with store.session() as session:
        secret = session.scalar(select(Connection.secret).where(Connection.id == connection.id))
    if secret is None:
        return connection.url
    what = f"the password of connection {connection.name!r} (project {connection.project!r})"
    return with_password(connection.url, store.cipher.decrypt(secret, what))


TYPES_EXAMPLE = """--option types='{"type_overrides": {"varchar(n)": "text"}}'"""


def type_options(connection: ConnectionRecord | Mapping[str, Any] | None) -> dict[str, Any]:
    """The type-map switches a connection carries in its ``types`` option (a connection
    record, or its options): what ``workbench schema ddl`` previews and what a job started
    from the connection creates (``engine.migrate.with_connection_options``).

    Checked here, so a preview and a job refuse the same options with the same message: an
    unknown switch is an error, never silently dropped."""
    from workbench.schema.types import TypeOptions  # heavy: sqlglot, kept out of the CLI

    options = connection.options if isinstance(connection, ConnectionRecord) else connection
    values = (options or {}).get("types") or {}
    if not isinstance(values, Mapping):
        raise InvalidInputError(
            f"The connection option types must be a JSON object of type options, got "
            f"{values!r}; e.g. {TYPES_EXAMPLE} (see docs/type-mapping.md)"
        )
    values = dict(values)
    TypeOptions.from_dict(values)
    return values


def connection_to_test(
    store: Store, project: ProjectRef | None, connection: ConnectionRef
) -> tuple[str, str, dict[str, Any]]:
    """(url with its password, label, options) of a stored connection, for
    ``connectors.check_url``: the store hands over what to open and opens nothing itself."""
    require(store, "edit")
    record = get_connection(store, project, connection)
    label = f"Connection {record.name!r} (project {record.project!r})"
    return connection_url(store, record), label, dict(record.options or {})


def update_connection(
    store: Store,
    project: ProjectRef | None,
    connection: ConnectionRef,
    *,
    name: str | None = None,
    url: str | None = None,
    role: str | None = None,
    password: str | None = None,
    clear_password: bool = False,
    options: dict[str, Any] | None = None,
) -> ConnectionRecord:
    """Change a connection. A new ``url`` without a password keeps the stored one unless
    ``password`` is given or ``clear_password`` is set."""
    require(store, "edit")
    with store.session() as session:
        row, project_obj = _lookup(session, store, project, connection)
        require_active(project_obj)
        changes: dict[str, Any] = {}
        if name is not None and clean_name(name, "connection name") != row.name:
            name = clean_name(name, "connection name")
            if _connection_row(session, project_obj, name, missing_ok=True) is not None:
                raise _exists(project_obj.name, name)
            changes["name"] = {"old": row.name, "new": name}
            row.name = name
        if role is not None and _clean_role(role) != row.role:
            changes["role"] = {"old": row.role, "new": role}
            row.role = _clean_role(role)
        secret: str | None = None
        if url is not None:
            kind = kind_of(url)
            bare_url, secret = _split(url, password)
            if bare_url != row.url:
                changes["url"] = {"old": row.url, "new": bare_url}
            row.url, row.kind = bare_url, kind
        elif password is not None:
            secret = password or None
        if clear_password:
            if secret is not None:
                raise InvalidInputError("Give a new password or clear it, not both")
            row.secret = None
            changes["auth"] = "password cleared"
        elif secret is not None:
            row.secret = store.cipher.encrypt(secret)
            changes["auth"] = "password replaced"
        if options is not None:
            options = _clean_options(options)
            changes["options"] = {"old": row.options, "new": options}
            row.options = options
        if not changes:
            return _record(row, project_obj)
        _flush_unique(session, project_obj.name, row.name)
        record_event(
            session,
            store,
            "connection.update",
            object_type="connection",
            object_id=row.id,
            object_name=row.name,
            project_id=project_obj.id,
            changes=changes,
        )
        return _record(row, project_obj)


def remove_connection(store: Store, project: ProjectRef | None, connection: ConnectionRef) -> None:
    """Remove a connection; refused while a schema mapping uses it (jobs keep their history)."""
    require(store, "edit")
    with store.session() as session:
        row, project_obj = _lookup(session, store, project, connection)
        users = session.scalars(
            select(SchemaMapping).where(
                or_(
                    SchemaMapping.source_connection_id == row.id,
                    SchemaMapping.target_connection_id == row.id,
                )
            )
        ).all()
        if users:
            shown = ", ".join(_mapping_label(m) for m in users[:5])
            more = f" and {len(users) - 5} more" if len(users) > 5 else ""
            raise InUseError(
                f"Connection {row.name!r} (project {project_obj.name!r}) is used by "
                f"{len(users)} schema mapping(s): {shown}{more}; remove those mappings first",
                connection=row.name,
                schema_mappings=[m.id for m in users],
            )
        session.delete(row)
        session.flush()
        record_event(
            session,
            store,
            "connection.remove",
            object_type="connection",
            object_id=row.id,
            object_name=row.name,
            project_id=project_obj.id,
            kind=row.kind,
            url=row.url,
        )


# --- helpers ---------------------------------------------------------------------------------


def _lookup(
    session: Session, store: Store, project: ProjectRef | None, connection: ConnectionRef
) -> tuple[Connection, Project]:
    if project is None:
        if not isinstance(connection, int) or isinstance(connection, bool):
            raise InvalidInputError("Name the project, or give the connection's id")
        row = session.get(Connection, connection)
        project_obj = session.get(Project, row.project_id) if row is not None else None
        if (
            row is None
            or project_obj is None
            or project_obj.organization_id != store.identity.organization_id
        ):
            raise NotFoundError(f"No connection with id {connection}", connection=connection)
        return row, project_obj
    project_obj = project_row(session, store, project)
    row = _connection_row(session, project_obj, connection)
    assert row is not None
    return row, project_obj


def _connection_row(
    session: Session, project: Project, connection: ConnectionRef, *, missing_ok: bool = False
) -> Connection | None:
    query = select(Connection).where(Connection.project_id == project.id)
    if isinstance(connection, int) and not isinstance(connection, bool):
        query = query.where(Connection.id == connection)
    elif isinstance(connection, str):
        query = query.where(Connection.name == connection.strip())
    else:
        raise InvalidInputError(f"A connection is named by its name or id, got {connection!r}")
    row = session.scalars(query).one_or_none()
    if row is None and not missing_ok:
        raise NotFoundError(
            f"No connection {connection!r} in project {project.name!r}; list them with "
            f"`workbench connection list {project.name}`",
            project=project.name,
            connection=connection,
        )
    return row


def _split(url: str, password: str | None) -> tuple[str, str | None]:
    bare_url, url_password = split_secret(url)
    url_password = url_password or None  # "user:@host" means no password
    if password is not None and url_password is not None and password != url_password:
        raise InvalidInputError(
            f"Two different passwords given for {mask_text(url)!r} (in the URL and apart); "
            "give it once"
        )
    secret = password if password is not None else url_password
    return bare_url, secret or None


def _clean_role(role: str) -> str:
    if role not in CONNECTION_ROLES:
        raise InvalidInputError(
            f"A connection's role is 'source' or 'target', got {role!r}", role=role
        )
    return role


def _clean_options(options: dict[str, Any] | None) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise InvalidInputError(f"Options must be a mapping, got {type(options).__name__}")
    if redact(options) != options:  # a secret-looking key, a URL password, or a non-JSON value
        raise InvalidInputError(
            "Connection options must be plain JSON values without secrets (password, token, "
            "key); give the password in the URL or apart, where it is stored encrypted"
        )
    return dict(options)


def _mapping_label(mapping: SchemaMapping) -> str:
    source = ".".join(p for p in (mapping.source_schema, mapping.source_table) if p)
    target = ".".join(p for p in (mapping.target_schema, mapping.target_table) if p)
    return f"#{mapping.id} {source} -> {target}"


def _flush_unique(session: Session, project: str, name: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == "23505":
            raise _exists(project, name) from exc
        raise


def _exists(project: str, name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"Project {project!r} already has a connection named {name!r}; choose another name, "
        "or remove the old one first",
        project=project,
        connection=name,
    )


def _record(row: Connection, project: Project) -> ConnectionRecord:
    return ConnectionRecord(
        id=row.id,
        project_id=project.id,
        project=project.name,
        name=row.name,
        kind=row.kind,
        role=row.role,
        url=row.url,
        has_secret=row.secret is not None,
        options=dict(row.options or {}),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
