"""Connection URLs sealed for the trip through a Dask scheduler.

A partition task names its source and target by URL; the scheduler keeps each task's
arguments in memory, where any client of that scheduler can read them. A URL that holds a
password therefore travels as a :class:`SealedUrl`: Fernet-encrypted with a key that only the
driver and the workers hold, and shown everywhere (reprs, logs, the dashboard) masked.

The key: a local cluster the job starts gets this process's own key in its workers'
environment; a cluster someone else runs (``--dask``, a caller's client) needs
``WORKBENCH_WORKER_KEY`` (a Fernet key: ``python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"``, or ``WORKBENCH_WORKER_KEY_FILE`` naming a file that
holds it) set alike on the driver and every worker. A URL
without a password needs no key and travels as it is.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

from workbench.errors import ConfigurationError
from workbench.urls import mask_url, split_secret

ENV_KEY = "WORKBENCH_WORKER_KEY"


@dataclass(frozen=True)
class SealedUrl:
    token: bytes
    masked: str  # the URL with its password masked: all anyone sees

    def __repr__(self) -> str:
        return f"SealedUrl({self.masked!r})"

    __str__ = __repr__


@functools.cache
def process_key() -> bytes:
    """This process's own key, for the local clusters it starts (their workers' env)."""
    return Fernet.generate_key()


def shared_key() -> bytes | None:
    """The key set for clusters that others run (driver and workers alike), if any: the
    variable itself, or the file ``WORKBENCH_WORKER_KEY_FILE`` names (a container secret)."""
    value = os.environ.get(ENV_KEY, "").strip()
    path = os.environ.get(f"{ENV_KEY}_FILE", "").strip()
    if not value and path:
        try:
            with open(path) as fh:
                value = fh.read().strip()
        except OSError as exc:
            raise ConfigurationError(
                f"{ENV_KEY}_FILE names {path}, which cannot be read ({exc.strerror}): mount the "
                "worker key there, or set " + ENV_KEY
            ) from None
    return value.encode() if value else None


def needs_sealing(url: str) -> bool:
    return bool(split_secret(url)[1])  # an empty password hides nothing


def seal(url: str, key: bytes) -> str | SealedUrl:
    """``url`` sealed with ``key`` if it holds a password; else ``url`` itself."""
    if not needs_sealing(url):
        return url
    return SealedUrl(Fernet(key).encrypt(url.encode()), mask_url(url))


def reveal(url: str | SealedUrl) -> str:
    """The URL to connect with (on a worker or the driver)."""
    if isinstance(url, str):
        return url
    for key in filter(None, (shared_key(), process_key())):
        try:
            return Fernet(key).decrypt(url.token).decode()
        except InvalidToken:
            continue
    raise ConfigurationError(
        f"This worker cannot open the job's sealed URL {url.masked}: set {ENV_KEY} in the "
        "workers' environment to the driver's value (the same Fernet key on both sides)"
    )
