"""Dashboard passwords: scrypt hashes in ``users.password_hash``, never the password itself.

Users set their own (``workbench dashboard password``); owners may set a member's. The
Panel monitor checks logins against these (``monitoring/panel_auth.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from workbench.errors import InvalidInputError, NotFoundError
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.models import Membership, User

if TYPE_CHECKING:
    from workbench.store.handle import Store

MIN_LENGTH = 10
# scrypt cost: about 50 ms and 16 MB per check on our machines; slows guessing, not logins
N, R, P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${N}${R}${P}${b64(salt).decode()}${b64(digest).decode()}"


def password_matches(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(digest)),
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


# checked against when the user is unknown, so a wrong name costs as long as a wrong password
_DUMMY = hash_password(os.urandom(12).hex())


def spend_a_check(password: str) -> None:
    """Take as long as checking a password, for a login refused before any check."""
    password_matches(_DUMMY, password)


def set_password(store: Store, password: str, user: str | None = None) -> None:
    """Set the dashboard password of ``user`` (default: yourself; others: owners only, and
    only for members of the current organization)."""
    user = user or store.user
    if len(password) < MIN_LENGTH:
        raise InvalidInputError(f"A dashboard password needs {MIN_LENGTH} characters at least")
    if user != store.user:
        require(store, "manage", f"set the dashboard password of {user!r}")
    else:
        require(store, "read")
    with store.session() as session:
        user_id = session.scalar(
            select(User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(User.name == user, Membership.organization_id == store.identity.organization_id)
        )
        if user_id is None:
            raise NotFoundError(
                f"{user!r} is not a member of {store.identity.organization!r}; add them first "
                f"with `workbench member add {user}`",
                user=user,
            )
        session.execute(
            update(User)
            .where(User.id == user_id)
            .values(password_hash=hash_password(password), password_set_at=datetime.now(UTC))
        )
        record_event(
            session, store, "user.password", object_type="user", object_id=user_id, object_name=user
        )


def check_password(store: Store, user: str, password: str) -> bool:
    """True when ``user`` has a dashboard password and ``password`` is it."""
    with store.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.name == user))
    if stored is None:
        spend_a_check(password)
        return False
    return password_matches(stored, password)
