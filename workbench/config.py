"""Settings, resolved once: explicit argument > ``WORKBENCH_*`` environment > config file > default.

The config file is TOML at ``$WORKBENCH_CONFIG`` or ``<user config dir>/workbench/config.toml``
with the same keys as :data:`SETTINGS` (lower case, without the ``WORKBENCH_`` prefix).
Secrets are held as :class:`Secret`, whose ``repr`` and ``str`` never show the value.
"""

from __future__ import annotations

import getpass
import logging
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from workbench.errors import ConfigurationError


class Secret:
    """A string that does not print itself. Use :meth:`reveal` where the value is needed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Setting:
    name: str
    help: str
    secret: bool = False


# Every setting with its one-line help; tests check the README documents each one.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        "URL of the PostgreSQL metadata store; empty = the embedded PostgreSQL under data_dir.",
        secret=True,
    ),
    Setting(
        "database_admin_url",
        "URL of a store owner, for `workbench init` and role setup when database_url is the "
        "application role; empty = database_url.",
        secret=True,
    ),
    Setting("data_dir", "Folder for the embedded store, the key file and run artifacts."),
    Setting("secret_key", "Fernet key that encrypts connection secrets (else the key file).", True),
    Setting("key_file", "File holding the Fernet key; created with mode 0600 when missing."),
    Setting("dask_address", "Address of an existing Dask scheduler; empty = a local cluster."),
    Setting(
        "user", "Name recorded as the actor of changes; defaults to JUPYTERHUB_USER or the OS user."
    ),
    Setting(
        "organization",
        "Organization to work in; empty = the user's only organization, else `default`.",
    ),
    Setting("log_level", "Logging level for the CLI and notebooks: DEBUG, INFO, WARNING, ERROR."),
    Setting("connect_timeout", "Seconds to wait for a database to answer before giving up."),
)


@dataclass(frozen=True)
class Settings:
    """The workbench's configuration. Build it with :func:`load_settings`."""

    database_url: Secret | None = None
    database_admin_url: Secret | None = None
    data_dir: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir("workbench")))
    secret_key: Secret | None = None
    key_file: Path | None = None
    dask_address: str | None = None
    user: str = ""
    organization: str | None = None
    log_level: str = "WARNING"
    connect_timeout: float = 10.0

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "secret.key"

    @property
    def pgdata_dir(self) -> Path:
        return self.data_dir / "pgdata"

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def default_user() -> str:
    for var in ("WORKBENCH_USER", "JUPYTERHUB_USER"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers)
        return "unknown"


def config_file_path() -> Path:
    explicit = os.environ.get("WORKBENCH_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(platformdirs.user_config_dir("workbench")) / "config.toml"


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"Config file {path} is not valid TOML: {exc}") from exc
    known = {s.name for s in SETTINGS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigurationError(
            f"Config file {path} has unknown keys {unknown}; known keys are {sorted(known)}"
        )
    return data


def _convert(name: str, raw: Any) -> Any:
    if raw is None or raw == "":
        return None
    spec = {s.name: s for s in SETTINGS}[name]
    if spec.secret:
        return Secret(str(raw))
    if name in ("data_dir", "key_file"):
        return Path(str(raw)).expanduser()
    if name == "connect_timeout":
        try:
            value = float(raw)
        except ValueError as exc:
            raise ConfigurationError(
                f"connect_timeout must be a number of seconds, got {raw!r}"
            ) from exc
        if value <= 0:
            raise ConfigurationError("connect_timeout must be positive")
        return value
    if name == "log_level":
        level = str(raw).upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigurationError(
                f"log_level must be DEBUG, INFO, WARNING or ERROR, got {raw!r}"
            )
        return level
    return str(raw)


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner may enter (0700), created if missing, whatever the
    umask and whoever created its parents: it holds keys, the store's lock and state."""
    path = Path(path).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_uid == os.geteuid() and path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def load_settings(**overrides: Any) -> Settings:
    """Resolve settings from arguments, environment, config file and defaults (in that order)."""
    file_values = _read_config_file(config_file_path())
    values: dict[str, Any] = {}
    for spec in SETTINGS:
        if overrides.get(spec.name) is not None:
            raw = overrides[spec.name]
            values[spec.name] = (
                raw if isinstance(raw, Secret | Path | float) else _convert(spec.name, raw)
            )
            continue
        env = os.environ.get(f"WORKBENCH_{spec.name.upper()}")
        if env:
            values[spec.name] = _convert(spec.name, env)
        elif spec.name in file_values:
            values[spec.name] = _convert(spec.name, file_values[spec.name])
    values = {k: v for k, v in values.items() if v is not None}
    settings = Settings(**values)
    if not settings.user:
        settings = settings.with_(user=default_user())
    return settings


def setting_names() -> list[str]:
    return [f.name for f in fields(Settings)]


def configure_logging(level: str | int = "WARNING") -> None:
    """Install one stderr handler for the CLI and notebooks; the library never calls this itself."""
    root = logging.getLogger("workbench")
    root.setLevel(level if isinstance(level, int) else level.upper())
    if not any(getattr(h, "_workbench", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._workbench = True  # type: ignore[attr-defined]
        root.addHandler(handler)
