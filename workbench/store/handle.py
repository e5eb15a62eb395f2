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
from workbench.store.models import Connection as StoredConnection
from workbench.store.models import Membership, Organization, OrganizationKey, User
from workbench.store.names import clean_name
from workbench.store.secrets import ORG_PREFIX, OrganizationCipher, SecretCipher

log = logging.getLogger(__name__)

DEFAULT_ORGANIZATION = "default"


@dataclass(frozen=True)
class Identity:
    user: str
    user_id: int
    organization: str
    organization_id: int
    # the role the gateway switches to in every transaction; None: the login is the user's
    switch_to: str | None = None


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
        self.master_cipher = SecretCipher(settings)
        self._ciphers: dict[int, OrganizationCipher] = {}
        self.is_embedded = is_embedded
        self.schema_before = schema_before  # revision found when opening (None = was empty)
        self.schema_revision = schema_revision
        self._admin_url = admin_url  # the owner's login, when configured; never shown
        # the user's role as a server read it for this request (see knowing_role)
        self.role_hint: str | None = None

    @property
    def user(self) -> str:
        return self.identity.user

    @property
    def cipher(self) -> OrganizationCipher:
        """Encrypts with the current organization's own key (``store/secrets.py``)."""
        org_id = self.identity.organization_id
        if org_id not in self._ciphers:
            self._ciphers[org_id] = OrganizationCipher(
                self.master_cipher, self._load_org_key, self._save_org_key
            )
        return self._ciphers[org_id]

    def _load_org_key(self) -> str | None:
        with self.session() as session:
            return session.scalar(
                select(OrganizationKey.wrapped_key).where(
                    OrganizationKey.organization_id == self.identity.organization_id
                )
            )

    def _save_org_key(self, wrapped: str) -> str:
        """Store a new wrapped key; a key another process stored first wins (returned)."""
        with self.session() as session:
            session.execute(
                insert(OrganizationKey)
                .values(organization_id=self.identity.organization_id, wrapped_key=wrapped)
                .on_conflict_do_nothing(index_elements=["organization_id"])
            )
        stored = self._load_org_key()
        assert stored is not None
        return stored

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
            ident = self.identity
            set_tenant(session, ident.organization_id, ident.user_id, ident.switch_to)
            yield session

    @contextlib.contextmanager
    def connection(self) -> Iterator[Connection]:
        """A Core connection in one tenant transaction (like :meth:`session`), for raw SQL."""
        with self.engine.begin() as conn:
            ident = self.identity
            set_tenant(conn, ident.organization_id, ident.user_id, ident.switch_to)
            yield conn

    def in_organization(self, organization: str) -> Store:
        """The same store, working in ``organization`` (the user must be a member of it)."""
        other = copy.copy(self)
        other.role_hint = None
        ident = self.identity
        other.identity = resolve_identity(
            self.engine, ident.user, ident.user_id, ident.switch_to, organization
        )
        return other

    def as_user(self, user: str, user_id: int, db_role: str, organization: str) -> Store:
        """The same store (and connection pool) working as another user, for a server that
        authenticated them (the HTTP API). Only a store working through the gateway can
        switch: its login becomes the user's role in every transaction."""
        if self.identity.switch_to is None:
            raise ConfigurationError(
                "This store is opened with a user's own login, which cannot act for other "
                "users; a server for many users (the HTTP API, the dashboards) needs the "
                "store owner's login in WORKBENCH_DATABASE_URL"
            )
        other = copy.copy(self)
        other.role_hint = None
        other.identity = resolve_identity(self.engine, user, user_id, db_role, organization)
        return other

    def with_pool(self, size: int, pre_ping: bool = True) -> Store:
        """The same store on an engine of its own that keeps ``size`` connections open (a
        server answering many requests at once; see ``create_store_engine``); close it when
        done."""
        other = copy.copy(self)
        timeout = self.settings.connect_timeout
        other.engine = create_store_engine(self.engine.url, timeout, size, pre_ping)
        return other

    def knowing_role(self, role: str | None) -> Store:
        """The same store for one request whose caller read the user's role a moment ago (the
        HTTP API reads it with the token): role checks take it instead of reading it again.
        Row-level security is unchanged; a store kept beyond the request must not use this."""
        other = copy.copy(self)
        other.role_hint = role
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

    Who the user is, and what PostgreSQL lets them see, depends on the login
    (``store/tenancy.py``):

    - a login that would bypass row-level security (superuser, owner: the embedded store, a
      developer's server, a dashboard server) administers the store and makes the work run
      through the gateway role, switching to the user's own role in every transaction; the
      user is ``settings.user`` (WORKBENCH_USER, JUPYTERHUB_USER or the OS user), which such
      a trusted process may name;
    - any other login is a user's own: the store knows the user from it, and
      ``settings.user`` must be that user (it cannot claim another identity). The first time,
      ``database_admin_url`` (a login with CREATEROLE) binds the login to ``settings.user``.
    """
    settings = settings or load_settings()
    is_embedded = settings.database_url is None
    raw = (
        start_embedded(settings)
        if settings.database_url is None
        else settings.database_url.reveal()
    )
    url = store_url(raw)
    cipher = SecretCipher(settings)
    engine = _connect(url, settings)
    admin: Engine | None = None
    admin_url: URL | None = None
    try:
        with engine.connect() as conn:
            privileged = tenancy.is_privileged(conn)
        database = url.database or ""
        gateway = tenancy.app_role_name(database)
        if privileged:  # administer with it; work through the gateway, as the user's role
            admin, admin_url = engine, url
            password: str | None = cipher.derive(APP_ROLE_PURPOSE)
        else:  # the configured login is a user's own; the owner's only if given
            password = None
            if settings.database_admin_url is not None:
                admin_url = store_url(settings.database_admin_url.reveal())
                admin = _connect(admin_url, settings)
        if admin is not None:
            before, after = _prepare(admin, settings, gateway, password, migrate=migrate)
        else:
            _login_user(engine, None, settings.user, url.username or "")  # bound? (clear error)
            after = revisions.require_current(engine, admin_hint=True)
            before = after
        switch_to: str | None
        if privileged:
            user_id, switch_to = _user_role(admin, settings.user, create=create_user)
            url = url.set(username=gateway, password=password)
            engine = _connect(url, settings)
        else:
            user_id, switch_to = _login_user(engine, admin, settings.user, url.username or "")
        name = _user_name(engine, user_id, switch_to)
        identity = resolve_identity(engine, name, user_id, switch_to, settings.organization)
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
    gateway: str,
    password: str | None,
    *,
    migrate: bool,
) -> tuple[revisions.SchemaState, revisions.SchemaState]:
    """With the owner's rights: upgrade, secure the roles and policies, make sure the default
    organization exists."""
    if migrate:
        before, after = revisions.upgrade(admin)
    else:
        after = revisions.require_current(admin)
        before = after
    with admin.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TENANCY_LOCK})
        tenancy.secure(conn, gateway, password)
        conn.execute(
            insert(Organization)
            .values(name=DEFAULT_ORGANIZATION)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        _reencrypt_legacy_secrets(conn, SecretCipher(settings))
    return before, after


def _reencrypt_legacy_secrets(conn: Connection, master: SecretCipher) -> None:
    """Connection secrets written before organization keys: decrypt with the store's key,
    encrypt with their organization's own (made here if it has none yet)."""

    rows = conn.execute(
        select(
            StoredConnection.id, StoredConnection.organization_id, StoredConnection.secret
        ).where(StoredConnection.secret.is_not(None))
    ).all()
    legacy = [r for r in rows if not bytes(r.secret).startswith(ORG_PREFIX)]
    ciphers: dict[int, OrganizationCipher] = {}
    for row in legacy:
        org = row.organization_id
        if org not in ciphers:
            ciphers[org] = OrganizationCipher(
                master,
                lambda org=org: conn.scalar(
                    select(OrganizationKey.wrapped_key).where(
                        OrganizationKey.organization_id == org
                    )
                ),
                lambda wrapped, org=org: conn.execute(
                    insert(OrganizationKey)
                    .values(organization_id=org, wrapped_key=wrapped)
                    .returning(OrganizationKey.wrapped_key)
                ).scalar_one(),
            )
        try:
            clear = master.decrypt(row.secret, "a stored password")
        except Exception:  # a key mix-up: leave the row as it is; reading it says what to do
            log.warning("cannot re-encrypt the secret of connection %s", row.id)
            continue
        conn.execute(
            text("UPDATE connections SET secret = :s WHERE id = :i"),
            {"s": ciphers[org].encrypt(clear), "i": row.id},
        )


TENANCY_LOCK = 0x776B_7465_6E61  # "wktena": serializes role setup between openers


def ensure_user(admin: Engine, user: str, *, create: bool = True, login: str | None = None
                ) -> tuple[int, str]:  # fmt: skip
    """(id, role) of ``user``, recorded (``create``) and given a role if needed, with the
    owner's rights; while the default organization has no members, they become its owner."""
    user = clean_name(user, "user name (WORKBENCH_USER)")
    with admin.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TENANCY_LOCK})
        if create:
            conn.execute(
                insert(User).values(name=user).on_conflict_do_nothing(index_elements=["name"])
            )
        user_id = conn.scalar(select(User.id).where(User.name == user))
        if user_id is None:
            raise PermissionDeniedError(f"Unknown user {user!r}", user=user)
        role = tenancy.ensure_user_role(conn, user_id, login)
        org_id = conn.scalar(
            select(Organization.id).where(Organization.name == DEFAULT_ORGANIZATION)
        )
        has_members = conn.scalar(
            select(Membership.user_id).where(Membership.organization_id == org_id).limit(1)
        )
        if create and has_members is None:
            conn.execute(
                insert(Membership)
                .values(organization_id=org_id, user_id=user_id, role="owner")
                .on_conflict_do_nothing()
            )
    return user_id, role


def _user_role(admin: Engine | None, user: str, *, create: bool) -> tuple[int, str]:
    assert admin is not None
    return ensure_user(admin, user, create=create)


def _login_user(engine: Engine, admin: Engine | None, user: str, login: str) -> tuple[int, None]:
    """The user a per-user login belongs to (bound once by an admin); never another one."""
    try:
        with engine.connect() as conn:
            query = text("SELECT id, name FROM users WHERE db_role = current_user")
            row = conn.execute(query).first()
    except DBAPIError as exc:  # not even in the store's group yet: nobody bound it
        if "permission denied" not in str(exc):
            raise
        row = None
    if row is None:
        if admin is None:
            raise ConfigurationError(
                f"The store's login {login!r} is not bound to a workbench user yet. Run "
                "`workbench init` once with WORKBENCH_DATABASE_ADMIN_URL set to a login with "
                f"CREATEROLE: it binds {login!r} to the user {user!r}"
            )
        user_id, _ = ensure_user(admin, user, login=login)
        return user_id, None
    if row.name != clean_name(user, "user name (WORKBENCH_USER)"):
        raise PermissionDeniedError(
            f"The store's login {login!r} belongs to the workbench user {row.name!r}, not "
            f"{user!r}: who you are comes from the login, and WORKBENCH_USER (or "
            "JUPYTERHUB_USER, the OS user) cannot change it. Use your own login.",
            user=user,
        )
    return int(row.id), None


def _user_name(engine: Engine, user_id: int, switch_to: str | None) -> str:
    with engine.begin() as conn:
        become(conn, switch_to)
        return str(conn.execute(select(User.name).where(User.id == user_id)).scalar_one())


def bootstrap_identity(admin: Engine, user: str) -> None:
    """The default organization and, while it has no members, the current user as its owner."""
    ensure_user(admin, user)


def resolve_identity(
    engine: Engine,
    user: str,
    user_id: int,
    switch_to: str | None,
    organization: str | None = None,
) -> Identity:
    """The organization the user works in: ``organization`` (WORKBENCH_ORGANIZATION) must be
    one they belong to; without it, their only organization, or ``default`` among several."""
    with Session(engine) as session, session.begin():
        become(session, switch_to)
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
        user=user,
        user_id=user_id,
        organization=organization,
        organization_id=orgs[organization],
        switch_to=switch_to,
    )


def become(session: Session | Connection, role: str | None) -> None:
    """Work as ``role`` for this transaction only (the gateway switching to a user)."""
    if role is not None:
        quoted = '"' + role.replace('"', '""') + '"'
        session.execute(text(f"SET LOCAL ROLE {quoted}"))


def set_tenant(
    session: Session | Connection,
    organization_id: int | None,
    user_id: int | None,
    role: str | None = None,
) -> None:
    """Name the organization and user for row-level security, for this transaction only; with
    ``role``, also work as that role (``set_config('role', ...)`` is ``SET LOCAL ROLE``, checked
    alike), all in one round trip."""
    values = {
        "org_key": tenancy.ORG_SETTING,
        "org": "" if organization_id is None else str(organization_id),
        "user_key": tenancy.USER_SETTING,
        "user": "" if user_id is None else str(user_id),
    }
    if role is None:
        session.execute(_SET_TENANT, values)
    else:
        session.execute(_SET_TENANT_AND_ROLE, {**values, "role": role})


_TENANT = "set_config(:org_key, :org, true), set_config(:user_key, :user, true)"
_SET_TENANT = text("SELECT " + _TENANT)
_SET_TENANT_AND_ROLE = text("SELECT set_config('role', :role, true), " + _TENANT)
