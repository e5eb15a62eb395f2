"""The :class:`Store` handle and :func:`open_store`: one code path for embedded and real servers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workbench.config import Settings, load_settings
from workbench.store import revisions
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
    ) -> None:
        self.settings = settings
        self.engine = engine
        self._url = url
        self.identity = identity
        self.cipher = SecretCipher(settings)
        self.is_embedded = is_embedded
        self.schema_before = schema_before  # revision found when opening (None = was empty)
        self.schema_revision = schema_revision

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

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "embedded" if self.is_embedded else "server"
        return f"Store({self.url!r}, {kind}, user={self.user!r})"


def open_store(settings: Settings | None = None, *, migrate: bool = True) -> Store:
    """Open the metadata store, starting the embedded PostgreSQL when no URL is configured.

    With ``migrate`` (the default) an empty store is created and an older one upgraded;
    without it, a store not at this code's revision raises :class:`StoreSchemaError`.
    A store made by a newer workbench is always refused.
    """
    settings = settings or load_settings()
    is_embedded = settings.database_url is None
    raw = start_embedded(settings) if is_embedded else settings.database_url.reveal()
    url = store_url(raw)
    engine = create_store_engine(url, settings.connect_timeout)
    try:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except DBAPIError as exc:
            raise connection_error(exc, url) from exc
        if migrate:
            before, after = revisions.upgrade(engine)
        else:
            after = revisions.require_current(engine)
            before = after
        identity = ensure_identity(engine, settings.user)
    except BaseException:
        engine.dispose()
        raise
    store = Store(
        settings,
        engine,
        url,
        identity,
        is_embedded=is_embedded,
        schema_before=before.current,
        schema_revision=after.current or after.head,
    )
    log.debug("opened %r", store)
    return store


def ensure_identity(engine: Engine, user: str) -> Identity:
    """The default organization, the current user and their membership, created on first use."""
    user = clean_name(user, "user name (WORKBENCH_USER)")
    with Session(engine) as session, session.begin():
        for model, name in ((Organization, DEFAULT_ORGANIZATION), (User, user)):
            session.execute(
                insert(model).values(name=name).on_conflict_do_nothing(index_elements=["name"])
            )
        org_id = session.scalar(
            select(Organization.id).where(Organization.name == DEFAULT_ORGANIZATION)
        )
        user_id = session.scalar(select(User.id).where(User.name == user))
        assert org_id is not None and user_id is not None
        # the first user of an organization owns it; later ones join as editors
        has_owner = session.scalar(
            select(Membership.user_id).where(
                Membership.organization_id == org_id, Membership.role == "owner"
            )
        )
        session.execute(
            insert(Membership)
            .values(
                organization_id=org_id, user_id=user_id, role="editor" if has_owner else "owner"
            )
            .on_conflict_do_nothing()
        )
    return Identity(
        user=user, user_id=user_id, organization=DEFAULT_ORGANIZATION, organization_id=org_id
    )
