"""Tokens for the HTTP API: made, listed and revoked by their user; only a hash is kept.

A token acts as the user who made it, in the organization they made it in, with the role they
hold there *now* (``access.require`` reads it on every call): a demoted member's tokens lose
rights at once, a removed member's stop working. It is shown once, when made
(``workbench token create NAME``); the store keeps its SHA-256 (the token is 256 random bits, so
a slow password hash would add nothing) and its first characters, to tell tokens apart.

    token, secret = create_token(store, "airflow", expires_days=90)
    find_token(admin_engine, secret)      # the API server: who is calling, or None
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from workbench.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.models import ApiToken, Membership, Organization, User
from workbench.store.names import clean_name

if TYPE_CHECKING:
    from workbench.store.handle import Store

TOKEN_PREFIX = "wbt_"
SHOWN_CHARACTERS = 12  # of the token, kept to tell tokens apart (4 of them are "wbt_")


@dataclass(frozen=True)
class TokenRecord:
    name: str
    user: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > datetime.now(UTC)
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "user": self.user,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "active": self.active,
        }


@dataclass(frozen=True)
class TokenOwner:
    """Who a presented token acts as."""

    token_id: int
    token_name: str
    user: str
    user_id: int
    db_role: str | None
    organization: str
    role: str | None  # their role in that organization as the token was read; None: not a member


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    store: Store, name: str, *, expires_days: int | None = None
) -> tuple[TokenRecord, str]:
    """A new token for the current user in the current organization: its record and the token
    itself, which is shown this once and never stored."""
    require(store, "read", f"create API token {name!r}")
    name = clean_name(name, "token name")
    if expires_days is not None and expires_days <= 0:
        raise InvalidInputError(
            f"A token's lifetime is a positive number of days, got {expires_days}"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    ident = store.identity
    with store.session() as session:
        taken = session.scalar(
            select(ApiToken.id).where(ApiToken.user_id == ident.user_id, ApiToken.name == name)
        )
        if taken is not None:
            raise AlreadyExistsError(
                f"You already have a token named {name!r} in organization "
                f"{ident.organization!r}; revoke it (`workbench token revoke {name}`) or choose "
                "another name",
                token=name,
            )
        row = ApiToken(
            user_id=ident.user_id,
            name=name,
            token_hash=token_hash(secret),
            prefix=secret[:SHOWN_CHARACTERS],
            expires_at=expires,
        )
        session.add(row)
        session.flush()
        record_event(session, store, "token.create", object_type="api_token",
                     object_id=row.id, object_name=name, expires_at=expires)  # fmt: skip
        session.refresh(row)
        return _record(row, ident.user), secret


def list_tokens(store: Store, *, every_user: bool = False) -> list[TokenRecord]:
    """The current user's tokens in this organization (an owner: ``every_user``'s too)."""
    require(store, "manage" if every_user else "read", "list API tokens")
    with store.session() as session:
        query = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
        if not every_user:
            query = query.where(ApiToken.user_id == store.identity.user_id)
        rows = session.execute(query.order_by(User.name, ApiToken.created_at)).all()
        return [_record(token, user) for token, user in rows]


def revoke_token(store: Store, name: str, *, user: str | None = None) -> TokenRecord:
    """Revoke the current user's token ``name`` (an owner may name another ``user``'s)."""
    own = user is None or user == store.user
    require(store, "read" if own else "manage", f"revoke API token {name!r}")
    with store.session() as session:
        query = (
            select(ApiToken, User.name)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.name == name, User.name == (user or store.user))
        )
        found = session.execute(query).first()
        if found is None:
            raise NotFoundError(
                f"No API token named {name!r} for user {user or store.user!r} in organization "
                f"{store.identity.organization!r}; `workbench token list` shows them",
                token=name,
            )
        token, owner = found
        if token.revoked_at is None:
            token.revoked_at = datetime.now(UTC)
            record_event(session, store, "token.revoke", object_type="api_token",
                         object_id=token.id, object_name=name, user=owner)  # fmt: skip
        return _record(token, owner)


# built once: the API runs it on every request
_FIND_TOKEN = (
    select(
        ApiToken.id,
        ApiToken.name,
        User.name,
        User.id,
        User.db_role,
        Organization.name,
        Membership.role,
    )
    .join(User, User.id == ApiToken.user_id)
    .join(Organization, Organization.id == ApiToken.organization_id)
    .outerjoin(
        Membership,
        (Membership.user_id == ApiToken.user_id)
        & (Membership.organization_id == ApiToken.organization_id),
    )
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > func.now()),
    )
)


def find_token(admin: Engine, secret: str) -> TokenOwner | None:
    """Who ``secret`` acts as, or None (unknown, revoked or expired). Reads with the owner's
    login (``admin``), which sees every organization: only a trusted server calls this."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    with admin.connect() as conn:
        row = conn.execute(_FIND_TOKEN, {"token_hash": token_hash(secret)}).first()
    if row is None:
        return None
    return TokenOwner(*row)


# the same query as SQL text, for a plain psycopg connection (the API's asyncio pool)
FIND_TOKEN_SQL = str(_FIND_TOKEN.compile(dialect=postgresql.psycopg.dialect()))


async def find_token_async(conn: psycopg.AsyncConnection[Any], secret: str) -> TokenOwner | None:
    """:func:`find_token` on an asyncio connection (the owner's login, autocommit): the API
    looks tokens up on its event loop."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    cursor = await conn.execute(FIND_TOKEN_SQL, {"token_hash": token_hash(secret)})
    row = await cursor.fetchone()
    return None if row is None else TokenOwner(*row)


def _record(row: ApiToken, user: str) -> TokenRecord:
    return TokenRecord(row.name, user, row.prefix, row.created_at, row.expires_at, row.revoked_at)
