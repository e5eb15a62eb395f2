"""The :class:`Store` handle and :func:`open_store`: one code path for embedded and real servers."""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workbench.config import Settings, load_settings
from workbench.errors import ConfigurationError, PermissionDeniedError
from workbench.store import revisions, tenancy
from workbench.store.database import connection_error, create_store_engine, store_url
from workbench.store.embedded import embedded_pgdata, start_embedded
from workbench.store.models import Membership, Organization, User
from workbench.store.names import clean_name
from workbench.store.secrets import SecretCipher

log = logging.getLogger(__name__)

DEFAULT_ORGANIZATION = "default"


@dataclass(frozen=True)
class Identity:
    user: str
    user_id: int
    organization: str
    organization_id: int


class Store:
    """An open metadata store: settings, engine, current user and the secret cipher.

    Thread-safe: the engine pools connections and every API call uses its own session.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        url: URL,
        identity: Identity,
        *,
        is_embedded: bool,
        schema_before: str | None,
        schema_revision: str,
        admin_url: URL | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self._url = url
        self.identity = identity
        self.cipher = SecretCipher(settings)
        self.is_embedded = is_embedded
        self.schema_before = schema_before  # revision found when opening (None = was empty)
        self.schema_revision = schema_revision
        self._admin_url = admin_url  # the owner's login, when configured; never shown

    @property
    def user(self) -> str:
        return self.identity.user

    @property
    def url(self) -> str:
        """The store's URL with any password masked."""
        return self._url.render_as_string(hide_password=True)

    @property
    def pgdata(self) -> Path | None:
        return embedded_pgdata(self.settings) if self.is_embedded else None

    @property
    def admin_url(self) -> URL | None:
        """The owner's login (with its password), for admin tasks; None when not configured."""
        return self._admin_url

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        The transaction names the current organization and user first: row-level security
        then shows and accepts only that organization's rows.
        """
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            set_tenant(session, self.identity.organization_id, self.identity.user_id)
            yield session

    @contextlib.contextmanager
    def connection(self) -> Iterator[Connection]:
        """A Core connection in one tenant transaction (like :meth:`session`), for raw SQL."""
        with self.engine.begin() as conn:
            set_tenant(conn, self.identity.organization_id, self.identity.user_id)
            yield conn

    def in_organization(self, organization: str) -> Store:
        """The same store, working in ``organization`` (the user must be a member of it)."""
        other = copy.copy(self)
        other.identity = resolve_identity(self.engine, self.user, organization)
        return other

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "embedded" if self.is_embedded else "server"
        return f"Store({self.url!r}, {kind}, user={self.user!r})"


def open_store(
    settings: Settings | None = None, *, migrate: bool = True, create_user: bool = True
) -> Store:
    """Open the metadata store, starting the embedded PostgreSQL when no URL is configured.

    With ``migrate`` (the default) an empty store is created and an older one upgraded;
    without it, a store not at this code's revision raises :class:`StoreSchemaError`.
    A store made by a newer workbench is always refused. ``create_user=False`` refuses a
    user the store does not know instead of recording them (dashboard logins).

    The configured login is used for administration only when it would bypass row-level
    security (superuser, owner: the embedded store, a developer's server); the work itself
    then runs as the store's application role (``store/tenancy.py``). A login that is
    already unprivileged is used as it is, with ``database_admin_url`` for upgrades.
    """
    settings = settings or load_settings()
    is_embedded = settings.database_url is None
    raw = start_embedded(settings) if is_embedded else settings.database_url.reveal()
    url = store_url(raw)
    cipher = SecretCipher(settings)
    engine = _connect(url, settings)
    admin: Engine | None = None
    admin_url: URL | None = None
    try:
        with engine.connect() as conn:
            privileged = tenancy.is_privileged(conn)
        password: str | None = None
        if privileged:  # administer with it; work as the store's own application role
            admin, admin_url = engine, url
            role = tenancy.app_role_name(url.database or "")
            password = cipher.derive(APP_ROLE_PURPOSE)
        else:  # the configured login is the application's; the owner's only if given
            role = url.username or ""
            if settings.database_admin_url is not None:
                admin_url = store_url(settings.database_admin_url.reveal())
                admin = _connect(admin_url, settings)
        if admin is not None:
            before, after = _prepare(
                admin, settings, role, password, migrate=migrate, bootstrap=create_user
            )
        else:
            after = revisions.require_current(engine, admin_hint=True)
            before = after
        if privileged:
            url = url.set(username=role, password=password)
            engine = _connect(url, settings)
        identity = resolve_identity(
            engine, settings.user, settings.organization, create_user=create_user
        )
    except BaseException:
        engine.dispose()
        if admin is not None:
            admin.dispose()
        raise
    if admin is not None and admin is not engine:
        admin.dispose()  # only needed again by a few admin tasks, which reconnect
    store = Store(
        settings,
        engine,
        url,
        identity,
        is_embedded=is_embedded,
        schema_before=before.current,
        schema_revision=after.current or after.head,
        admin_url=admin_url,
    )
    log.debug("opened %r", store)
    return store


APP_ROLE_PURPOSE = "store-application-role"


def _connect(url: URL, settings: Settings) -> Engine:
    engine = create_store_engine(url, settings.connect_timeout)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        engine.dispose()
        raise connection_error(exc, url) from exc
    return engine


def _prepare(
    admin: Engine,
    settings: Settings,
    role: str,
    password: str | None,
    *,
    migrate: bool,
    bootstrap: bool = True,
) -> tuple[revisions.SchemaState, revisions.SchemaState]:
    """With the owner's rights: upgrade, secure the application role, bootstrap the default
    organization (its first user owns it)."""
    if migrate:
        before, after = revisions.upgrade(admin)
    else:
        after = revisions.require_current(admin)
        before = after
    with admin.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TENANCY_LOCK})
        tenancy.secure(conn, role, password)
    if bootstrap:
        bootstrap_identity(admin, settings.user)
    return before, after


TENANCY_LOCK = 0x776B_7465_6E61  # "wktena": serializes role setup between openers


def bootstrap_identity(admin: Engine, user: str) -> None:
    """The default organization and, while it has no members, the current user as its owner."""
    user = clean_name(user, "user name (WORKBENCH_USER)")
    with Session(admin) as session, session.begin():
        for model, name in ((Organization, DEFAULT_ORGANIZATION), (User, user)):
            session.execute(
                insert(model).values(name=name).on_conflict_do_nothing(index_elements=["name"])
            )
        org_id = session.scalar(
            select(Organization.id).where(Organization.name == DEFAULT_ORGANIZATION)
        )
        user_id = session.scalar(select(User.id).where(User.name == user))
        has_members = session.scalar(
            select(Membership.user_id).where(Membership.organization_id == org_id).limit(1)
        )
        if has_members is None:
            session.execute(
                insert(Membership)
                .values(organization_id=org_id, user_id=user_id, role="owner")
                .on_conflict_do_nothing()
            )


def resolve_identity(
    engine: Engine, user: str, organization: str | None = None, *, create_user: bool = True
) -> Identity:
    """The current user (created on first use) and the organization they work in.

    ``organization`` (WORKBENCH_ORGANIZATION) must be one the user belongs to; without it,
    the user's only organization, or ``default`` among several.
    """
    user = clean_name(user, "user name (WORKBENCH_USER)")
    with Session(engine) as session, session.begin():
        if create_user:
            session.execute(
                insert(User).values(name=user).on_conflict_do_nothing(index_elements=["name"])
            )
        user_id = session.scalar(select(User.id).where(User.name == user))
        if user_id is None:
            raise PermissionDeniedError(f"Unknown user {user!r}", user=user)
        set_tenant(session, None, user_id)
        rows = session.execute(
            select(Organization.name, Organization.id)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == user_id)
            .order_by(Organization.name)
        ).all()
    orgs = {name: org_id for name, org_id in rows}
    if not orgs:
        raise PermissionDeniedError(
            f"User {user!r} is not a member of any organization in this store; an owner can "
            f"add them with `workbench member add {user} --role editor`",
            user=user,
        )
    if organization is None:
        organization = next(iter(orgs)) if len(orgs) == 1 else DEFAULT_ORGANIZATION
        if organization not in orgs:
            raise ConfigurationError(
                f"User {user!r} belongs to several organizations ({', '.join(orgs)}); choose "
                "one with WORKBENCH_ORGANIZATION or `--org`",
                user=user,
            )
    if organization not in orgs:
        raise PermissionDeniedError(
            f"User {user!r} is not a member of organization {organization!r} (member of: "
            f"{', '.join(orgs)}); an owner of it can add them with "
            f"`workbench member add {user} --role editor`",
            user=user,
            organization=organization,
        )
    return Identity(
        user=user, user_id=user_id, organization=organization, organization_id=orgs[organization]
    )


def set_tenant(
    session: Session | Connection, organization_id: int | None, user_id: int | None
) -> None:
    """Name the organization and user for row-level security, for this transaction only."""
    session.execute(
        text("SELECT set_config(:org_key, :org, true), set_config(:user_key, :user, true)"),
        {
            "org_key": tenancy.ORG_SETTING,
            "org": "" if organization_id is None else str(organization_id),
            "user_key": tenancy.USER_SETTING,
            "user": "" if user_id is None else str(user_id),
        },
    )
