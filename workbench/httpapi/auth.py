"""Who is calling: a user's token, checked on every request, and its rate limit.

The server opens the store once with the owner's login (a trusted process, like the
dashboards' server); a token is looked up by its hash with that login, and the request then
works through the store's gateway as the token's user, in the token's organization: row-level
security and the role checks apply exactly as they do for that user's notebook.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.engine import Engine

from workbench.errors import InvalidInputError
from workbench.httpapi.problems import NotAuthenticatedError, RateLimitedError
from workbench.store.handle import Store
from workbench.store.tokens import TokenOwner, find_token

bearer = HTTPBearer(auto_error=False, description="A token from `workbench token create NAME`")


class RateLimit:
    """At most ``limit`` requests per token (``"600/minute"``, ``"20/second"``), in a moving
    window; kept in memory, or in Redis (``storage="redis://host:6379"``) when several server
    processes share the limit."""

    def __init__(self, limit: str, storage: str | None = None) -> None:
        try:
            self.item: RateLimitItem = parse(limit)
        except ValueError as exc:
            raise InvalidInputError(
                f"A rate limit reads like '600/minute' or '20/second', got {limit!r}"
            ) from exc
        self.limit = limit
        backend = storage_from_string(storage) if storage else MemoryStorage()
        self.limiter = MovingWindowRateLimiter(backend)

    def hit(self, token_id: int) -> None:
        key = f"token-{token_id}"
        if self.limiter.hit(self.item, key):
            return
        reset = self.limiter.get_window_stats(self.item, key).reset_time
        retry_after = max(1, math.ceil(reset - time.time()))
        raise RateLimitedError(
            f"This token made more than {self.limit} requests; retry after {retry_after} s",
            limit=self.limit,
            retry_after=retry_after,
        )


class Callers:
    """Tokens to the store as their user sees it; one store (and pool) per user and
    organization, made on first use."""

    def __init__(self, store: Store, admin: Engine, rate_limit: RateLimit) -> None:
        self.store, self.admin, self.rate_limit = store, admin, rate_limit
        self._stores: dict[tuple[int, str], Store] = {}
        self._lock = threading.Lock()

    def store_for(self, token: str) -> Store:
        owner = find_token(self.admin, token)
        if owner is None:
            raise NotAuthenticatedError(
                "The token is unknown, revoked or expired; make one with "
                "`workbench token create NAME` and send it as 'Authorization: Bearer TOKEN'"
            )
        self.rate_limit.hit(owner.token_id)
        return self._user_store(owner)

    def _user_store(self, owner: TokenOwner) -> Store:
        key = (owner.user_id, owner.organization)
        with self._lock:
            found = self._stores.get(key)
        if found is None:
            if owner.db_role is None:
                raise NotAuthenticatedError(
                    f"User {owner.user!r} has no role in the store yet; run `workbench init` "
                    "once as the store's owner"
                )
            found = self.store.as_user(owner.user, owner.user_id, owner.db_role, owner.organization)
            with self._lock:
                self._stores[key] = found
        return found


def caller_store(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Store:
    """The dependency every ``/api/v1`` route takes: the store as the token's user sees it."""
    if credentials is None:
        raise NotAuthenticatedError(
            "No token: send 'Authorization: Bearer TOKEN' with a token from "
            "`workbench token create NAME`"
        )
    callers: Callers = request.app.state.callers
    return callers.store_for(credentials.credentials)


CallerStore = Annotated[Store, Depends(caller_store)]
