"""Feature flags per organization, read through one function: :func:`is_enabled`.

A flag is off for everyone, or on for its named users plus a rollout percentage of the
others. Who falls in the percentage is stable: the bucket of a user is the first 8 bytes of
``sha256(flag + ":" + user)`` modulo 100, so raising the percentage only adds users and a
user's answer never flips between calls or processes. A flag with no stored row has its
default from :data:`KNOWN_FLAGS` (unknown flags default to off).

    from workbench.store import flags
    flags.set_flag(store, "learned_matcher", enabled=False)
    flags.is_enabled(store, "learned_matcher")  # False
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from workbench.errors import InvalidInputError
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.governance_models import FeatureFlag
from workbench.store.names import clean_name

if TYPE_CHECKING:
    from workbench.store import Store

# flag -> (default, what it gates)
KNOWN_FLAGS: dict[str, tuple[bool, str]] = {
    "learned_matcher": (True, "suggest matches with the model retrained from feedback"),
    "experimental_engine": (False, "experimental engine options"),
}

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class FlagState:
    name: str
    enabled: bool
    users: tuple[str, ...] = ()
    rollout: int = 100
    is_default: bool = False  # no stored row: the flag's default
    description: str = ""
    updated_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "enabled": self.enabled,
            "users": list(self.users),
            "rollout": self.rollout,
            "is_default": self.is_default,
            "description": self.description,
            "updated_by": self.updated_by,
        }


def bucket(flag: str, user: str) -> int:
    """The user's stable bucket 0..99 for this flag."""
    digest = hashlib.sha256(f"{flag}:{user}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def evaluate(state: FlagState, user: str) -> bool:
    """Whether ``state`` lets ``user`` in (pure; no store)."""
    if not state.enabled:
        return False
    return user in state.users or bucket(state.name, user) < state.rollout


def _check_name(flag: str) -> str:
    if not isinstance(flag, str) or not _NAME.match(flag):
        raise InvalidInputError(
            f"Flag name {flag!r} is not valid; use lower-case letters, digits, '_', '.' or '-'"
            f" (known flags: {', '.join(sorted(KNOWN_FLAGS))})"
        )
    return flag


def _default(flag: str) -> FlagState:
    default, description = KNOWN_FLAGS.get(flag, (False, ""))
    return FlagState(flag, default, is_default=True, description=description)


def _from_row(row: FeatureFlag) -> FlagState:
    return FlagState(
        name=row.name,
        enabled=row.enabled,
        users=tuple(row.users or ()),
        rollout=row.rollout,
        description=KNOWN_FLAGS.get(row.name, (False, ""))[1],
        updated_by=row.updated_by,
    )


def get_flag(store: Store, flag: str, *, organization_id: int | None = None) -> FlagState:
    """The flag's state in the organization (the current one by default)."""
    require(store, "read")
    _check_name(flag)
    org = store.identity.organization_id if organization_id is None else organization_id
    with store.session() as session:
        row = session.get(FeatureFlag, (org, flag))
        return _default(flag) if row is None else _from_row(row)


def is_enabled(
    store: Store, flag: str, user: str | None = None, *, organization_id: int | None = None
) -> bool:
    """Whether ``flag`` is on for ``user`` (default: the store's current user)."""
    state = get_flag(store, flag, organization_id=organization_id)
    return evaluate(state, store.user if user is None else user)


def set_flag(
    store: Store,
    flag: str,
    *,
    enabled: bool,
    users: Sequence[str] = (),
    rollout: int = 100,
) -> FlagState:
    """Store the flag's state for the current organization (replacing the previous one)."""
    require(store, "manage")
    _check_name(flag)
    if isinstance(rollout, bool) or not isinstance(rollout, int) or not 0 <= rollout <= 100:
        raise InvalidInputError(f"Rollout of flag {flag!r} must be 0..100 percent, got {rollout!r}")
    names = sorted({clean_name(u, "user name") for u in users})
    values = {
        "enabled": enabled,
        "users": names,
        "rollout": rollout,
        "updated_by": store.user,
    }
    with store.session() as session:
        session.execute(
            insert(FeatureFlag)
            .values(organization_id=store.identity.organization_id, name=flag, **values)
            .on_conflict_do_update(
                index_elements=["organization_id", "name"],
                set_={**values, "updated_at": func.now()},
            )
        )
        record_event(
            session,
            store,
            "feature_flag.set",
            object_type="feature_flag",
            object_name=flag,
            enabled=enabled,
            users=names,
            rollout=rollout,
        )
    return get_flag(store, flag)


def list_flags(store: Store) -> list[FlagState]:
    """Every known flag and every stored one of the current organization, by name."""
    require(store, "read")
    with store.session() as session:
        rows = session.scalars(
            select(FeatureFlag).where(FeatureFlag.organization_id == store.identity.organization_id)
        ).all()
        stored = {r.name: _from_row(r) for r in rows}
    names = sorted(set(KNOWN_FLAGS) | set(stored))
    return [stored.get(n) or _default(n) for n in names]
