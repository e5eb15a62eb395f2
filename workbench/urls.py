"""Parsing, masking and splitting connection URLs.

A URL shown anywhere (repr, log, CLI, error) goes through :func:`mask_url`. The store keeps
the URL without its password (:func:`split_secret`) and the password encrypted apart.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from workbench.errors import InvalidInputError

MASK = "***"  # what a password is replaced by wherever it would be shown

# URL scheme (before any "+driver") -> connector kind
SCHEME_KINDS: dict[str, str] = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
    "csv": "files",
    "parquet": "files",
    "files": "files",
}

_PASSWORD_IN_TEXT = re.compile(
    r"(?P<pre>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<post>@)"
)
# user:password@host where the scheme is missing or mangled (mysql//u:pw@h, u:pw@h/db)
_BARE_PASSWORD = re.compile(
    r"(?P<pre>(?:^|(?<=[\s'\"(/=,]))[^:/@\s'\"(=,]+:)(?P<pw>[^@\s/'\"]+)(?P<post>@)"
)


def parse_url(url: str) -> URL:
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError("A connection URL is required, e.g. postgresql://user@host:5432/db")
    try:
        parsed = make_url(url.strip())
        port = parsed.port  # a bad port ('[::1:3306') fails here, as ValueError
    except (ArgumentError, ValueError):
        raise InvalidInputError(
            f"Cannot parse connection URL {mask_text(url)!r}: expected "
            "kind://user:password@host:port/database, an IPv6 host in brackets "
            "([::1]:5432) (kinds: "
            f"{', '.join(sorted(set(SCHEME_KINDS)))})"
        ) from None
    if port is not None and not 0 < port < 65536:
        raise InvalidInputError(
            f"Connection URL {mask_text(url)!r} has port {port}: a port is 1 to 65535"
        )
    return parsed


def kind_of(url: str) -> str:
    parsed = parse_url(url)
    scheme = parsed.drivername.split("+", 1)[0].lower()
    try:
        return SCHEME_KINDS[scheme]
    except KeyError:
        from difflib import get_close_matches

        close = get_close_matches(scheme, list(SCHEME_KINDS), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise InvalidInputError(
            f"Unknown connection kind {scheme!r} in URL {mask_url(url)!r}.{hint} "
            f"Known kinds: {', '.join(sorted(SCHEME_KINDS))}"
        ) from None


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***`` (safe to print)."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparsable: mask anything that looks like user:password@
        return mask_text(url)


def mask_text(text: str) -> str:
    """Mask passwords of any URLs embedded in free text (error messages, logs)."""
    masked = _PASSWORD_IN_TEXT.sub(lambda m: f"{m['pre']}***{m['post']}", str(text))
    return _BARE_PASSWORD.sub(
        lambda m: m[0] if m["pw"] == "***" else f"{m['pre']}***{m['post']}", masked
    )


def split_secret(url: str) -> tuple[str, str | None]:
    """Return (URL without password, password or None)."""
    parsed = parse_url(url)
    password = parsed.password
    without = parsed._replace(password=None).render_as_string(hide_password=False)
    return without, (str(password) if password is not None else None)


def with_password(url: str, password: str | None) -> str:
    """Put a password back into a URL (for connecting only; never print the result)."""
    parsed = parse_url(url)
    if password is None:
        return parsed.render_as_string(hide_password=False)
    return parsed.set(password=password).render_as_string(hide_password=False)
