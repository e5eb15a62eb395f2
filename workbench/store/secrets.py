"""Encryption of connection secrets with Fernet (AES-128-CBC + HMAC-SHA256).

Two levels of keys:

- the store's key, from ``settings.secret_key`` (``WORKBENCH_SECRET_KEY``) or else the key
  file (``settings.resolved_key_file``), created on first use with mode 0600 in a folder
  with mode 0700 (:class:`SecretCipher`);
- a data key per organization, made on first use and kept in ``organization_keys`` wrapped
  with the store's key (:class:`OrganizationCipher`). Row-level security lets only members
  read it, so a process can decrypt only the secrets of its user's organizations, even
  holding the store's key.

Losing the store's key loses the stored passwords, nothing else. Secrets written before
organization keys (no ``org1:`` prefix) are still read with the store's key, and re-encrypted
with their organization's key the next time the store is upgraded or opened by its owner.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import stat
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from workbench.config import Settings, private_dir
from workbench.errors import SecretError

log = logging.getLogger(__name__)


class SecretCipher:
    """Encrypts and decrypts connection secrets; loads (or creates) its key on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._fernet: Fernet | None = None

    @property
    def key_source(self) -> str:
        """Where the key comes from, for messages (never the key itself)."""
        if self._settings.secret_key:
            return "WORKBENCH_SECRET_KEY"
        return f"key file {self._settings.resolved_key_file}"

    def __repr__(self) -> str:
        return f"SecretCipher({self.key_source})"

    def encrypt(self, value: str) -> bytes:
        return self._key(create=True).encrypt(value.encode("utf-8"))

    def decrypt(self, token: bytes, what: str = "a secret") -> str:
        fernet = self._key(create=False)
        try:
            return fernet.decrypt(bytes(token)).decode("utf-8")
        except InvalidToken:
            raise SecretError(
                f"Cannot decrypt {what} with the key from {self.key_source}: it was encrypted "
                "with another key. Restore the original key, or enter the password again "
                "(remove and add the connection)"
            ) from None

    def derive(self, purpose: str) -> str:
        """A stable secret for ``purpose`` (HMAC-SHA256 keyed with the store's key): the same
        for the same key and purpose, never stored anywhere. Masking salts come from here."""
        return hmac.new(self._load_key(create=True), purpose.encode(), hashlib.sha256).hexdigest()

    def project_salt(self, project_id: int) -> str:
        """The masking salt of a project: equal values mask alike across its jobs and tables
        (joins line up), differently in other projects; never stored, never shown."""
        return self.derive(f"workbench/mask-salt/project/{project_id}")

    def ensure_key(self) -> None:
        """Create the key file now if there is no key yet (``workbench init``)."""
        self._key(create=True)

    def _key(self, create: bool) -> Fernet:
        if self._fernet is None:
            self._fernet = Fernet(self._load_key(create))
        return self._fernet

    def _load_key(self, create: bool) -> bytes:
        if self._settings.secret_key:
            key = self._settings.secret_key.reveal().encode()
            _check_key(key, "WORKBENCH_SECRET_KEY")
            return key
        path = self._settings.resolved_key_file
        if not path.exists():
            if not create:
                raise SecretError(
                    f"Cannot decrypt stored secrets: the key file {path} does not exist. "
                    "Restore it (or set WORKBENCH_SECRET_KEY), or enter the passwords again"
                )
            return create_key_file(path)
        key = path.read_bytes().strip()
        _check_key(key, f"key file {path}")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("key file %s is readable by others (mode %o); chmod 600 it", path, mode)
        return key


def create_key_file(path: Path) -> bytes:
    """Write a new Fernet key to ``path`` (0600; a new parent folder gets 0700)."""
    if not path.parent.exists():
        private_dir(path.parent)
    key = Fernet.generate_key()
    # written whole to a private temporary file, then linked into place: the key file appears
    # complete or not at all (created empty and then written, a second process starting at
    # the same moment could read it empty)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret.key.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(key + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process made it first: use theirs
            existing = path.read_bytes().strip()
            _check_key(existing, f"key file {path}")
            return existing
    finally:
        os.unlink(temporary)
    log.info("created key file %s", path)
    return key


def _check_key(key: bytes, source: str) -> None:
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise SecretError(
            f"The secret key from {source} is not a valid Fernet key (32 url-safe base64 "
            "bytes); generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from None


ORG_PREFIX = b"org1:"


class OrganizationCipher:
    """Encrypts with one organization's own data key; derives (salts, passwords of the
    store's roles) with the store's key. ``load``/``save`` read and write the wrapped key
    (through row-level security, as the current user)."""

    def __init__(self, master: SecretCipher, load, save) -> None:
        self.master = master
        self._load, self._save = load, save
        self._fernet: Fernet | None = None

    @property
    def key_source(self) -> str:
        return self.master.key_source

    def __repr__(self) -> str:
        return f"OrganizationCipher({self.key_source})"

    def _org(self, what: str = "a secret") -> Fernet:
        if self._fernet is None:
            wrapped = self._load()
            if wrapped is None:
                fresh = Fernet.generate_key()
                wrapped = self._save(self.master.encrypt(fresh.decode()).decode("ascii"))
            try:
                self._fernet = Fernet(self.master._key(create=False).decrypt(wrapped.encode()))
            except InvalidToken:
                raise SecretError(
                    f"Cannot decrypt {what}: the organization's key was encrypted with another "
                    f"key than the one from {self.key_source}. Restore the original key, or "
                    "enter the password again (remove and add the connection)"
                ) from None
        return self._fernet

    def encrypt(self, value: str) -> bytes:
        return ORG_PREFIX + self._org("the organization's key").encrypt(value.encode("utf-8"))

    def decrypt(self, token: bytes, what: str = "a secret") -> str:
        token = bytes(token)
        if not token.startswith(ORG_PREFIX):
            return self.master.decrypt(token, what)  # written before organization keys
        try:
            return self._org(what).decrypt(token[len(ORG_PREFIX) :]).decode("utf-8")
        except InvalidToken:
            raise SecretError(
                f"Cannot decrypt {what}: it belongs to another organization, or its key was "
                "replaced. Enter the password again (remove and add the connection)"
            ) from None

    def derive(self, purpose: str) -> str:
        return self.master.derive(purpose)

    def project_salt(self, project_id: int) -> str:
        return self.master.project_salt(project_id)

    def ensure_key(self) -> None:
        self.master.ensure_key()
