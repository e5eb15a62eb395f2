"""Validation of names and descriptions entered by people."""

from __future__ import annotations

import unicodedata

from workbench.errors import InvalidInputError
from workbench.store.models import DESCRIPTION_MAX, NAME_MAX

# Unicode categories refused in names: controls, format (e.g. bidi overrides), surrogates,
# private use, unassigned, line/paragraph separators. Joiners stay allowed (emoji, scripts).
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_ALLOWED_FORMAT = {"\u200c", "\u200d"}


def clean_name(value: object, what: str = "name") -> str:
    """Strip and check a name: 1-200 characters, no control characters."""
    if not isinstance(value, str):
        raise InvalidInputError(f"The {what} must be text, got {type(value).__name__}")
    name = value.strip()
    if not name:
        raise InvalidInputError(f"The {what} must not be empty")
    if len(name) > NAME_MAX:
        raise InvalidInputError(
            f"The {what} {name[:40]!r}... is {len(name)} characters; the limit is {NAME_MAX}"
        )
    bad = [c for c in name if _is_bad(c)]
    if bad:
        raise InvalidInputError(
            f"The {what} {name!r} contains control characters ({_codes(bad)}); "
            "use printable characters only"
        )
    return name


def clean_description(value: object) -> str | None:
    """Strip and check a description: at most 1000 characters; newlines and tabs allowed."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"The description must be text, got {type(value).__name__}")
    text = value.strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInputError(
            f"The description is {len(text)} characters; the limit is {DESCRIPTION_MAX}"
        )
    bad = [c for c in text if c not in "\n\t" and _is_bad(c)]
    if bad:
        raise InvalidInputError(f"The description contains control characters ({_codes(bad)})")
    return text or None


def _is_bad(char: str) -> bool:
    return unicodedata.category(char) in _BAD_CATEGORIES and char not in _ALLOWED_FORMAT


def _codes(chars: list[str]) -> str:
    return ", ".join(sorted({f"U+{ord(c):04X}" for c in chars}))
