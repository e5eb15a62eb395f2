"""Semantic types of text values, shape patterns, and the PII flags derived from them.

This is the one detector of the package: profiling (PII flags, quality) and matching
(``matching.instances``) both call :func:`detect`, so they never disagree on a column.

Each detector is a row of :data:`DETECTORS`: a name, a value test, and whether the column
name must hint at it (a five-digit number is a postal code only in a column called "zip").
A column takes the first type in that order that at least ``min_share`` of its sampled
non-null values match; the share is reported with it. Checksummed types (credit cards by
Luhn, IBANs by ISO 7064 mod 97) count only values whose check digits are right.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

MIN_SHARE = 0.6

_EMAIL = re.compile(r"^[\w.+'-]+@[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}$")
_URL = re.compile(r"^(https?|ftp)://[^\s/$.?#][^\s]*$|^www\.[^\s]+\.[a-z]{2,}\S*$", re.I)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_PHONE = re.compile(r"^\+?[\d\s().\-/]{7,24}(\s*(x|ext\.?)\s*\d{1,5})?$", re.I)
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$"
)
# dates written the other common ways ("15/02/2006", "Feb 15, 2006", "15 Feb 2006"),
# optionally with a time of day
_TEXT_DATE = re.compile(
    r"^(\d{4}/\d{1,2}/\d{1,2}|\d{4}\.\d{1,2}\.\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|"
    r"[A-Za-z]{3,9}\.? \d{1,2},? \d{4}|\d{1,2} [A-Za-z]{3,9}\.? \d{4})"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([AaPp][Mm])?(Z|[+-]\d{2}:?\d{2})?)?$"
)
_TIME = re.compile(r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([AaPp][Mm])?$")
_HASH = re.compile(r"^[0-9a-f]{32,128}$", re.I)
_CURRENCY = re.compile(r"^[-+]?[$€£¥]\s?[\d,]+(\.\d+)?$|^[-+]?[\d,]+(\.\d+)?\s?[$€£¥]$")
_BOOLEAN = re.compile(r"^(true|false|yes|no|y|n|t|f)$", re.I)
_POSTAL = re.compile(
    r"^(\d{5}(-\d{4})?"  # US ZIP, DE, FR, ...
    r"|\d{4}(\s?[A-Z]{2})?"  # NL, BE, AT, CH, DK, AU
    r"|\d{3}-?\d{2,4}"  # SE, JP, PL, ...
    r"|[A-Z]\d[A-Z]\s?\d[A-Z]\d"  # CA
    r"|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"  # UK
    r"|\d{5}-\d{3})$",  # BR
    re.I,
)
_CARD = re.compile(r"^\d(?:[ -]?\d){12,18}$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
_NAME_WORD = r"[A-ZÀ-Þ][A-Za-zÀ-ÿ'\u2019\-]*\.?"
_PERSON_NAME = re.compile(rf"^{_NAME_WORD}(\s{_NAME_WORD}){{0,3}}$")
_NAME_HINT = re.compile(
    r"(^|_|\b)(first|last|full|given|family|middle|sur|maiden|nick)?_?name$|^(author|"
    r"contact|customer|employee|person|owner|manager)(_?name)?$|(first|last)name",
    re.I,
)
# a column name that says whose name it is; a bare "name" (Track.Name, category.name) does
# not, and its values must then read as given name + family name (see _reads_as_people)
_PERSON_HINT = re.compile(
    r"(first|last|full|given|family|middle|sur|maiden|nick)_?name|^(author|contact|customer|"
    r"employee|person|owner|manager|user|member|patient|student|client)s?(_?name)?$",
    re.I,
)
# locales whose given and family names stand for "a person's name" in the data we meet
_NAME_LOCALES = (
    "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL",
    "pl_PL", "sv_SE", "da_DK", "fi_FI", "no_NO", "cs_CZ", "hu_HU", "tr_TR",
)  # fmt: skip
_POSTAL_HINT = re.compile(r"post(al)?_?code|zip|postleitzahl|\bplz\b|postcode", re.I)


def luhn_ok(digits: str) -> bool:
    """The Luhn check of a card number (spaces and dashes removed first)."""
    nums = [int(c) for c in digits if c.isdigit()]
    if not 13 <= len(nums) <= 19:
        return False
    total = 0
    for i, n in enumerate(reversed(nums)):
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """ISO 13616 IBAN: country, check digits, mod 97 of the rearranged number is 1."""
    compact = text.replace(" ", "").upper()
    if not _IBAN.match(compact):
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _is_ip(text: str) -> bool:
    if not (("." in text and text[0].isdigit()) or ":" in text):
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_json(text: str) -> bool:
    if not text or text[0] not in "[{":
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _is_phone(text: str) -> bool:
    return bool(_PHONE.match(text)) and sum(c.isdigit() for c in text) >= 7


def _is_free_text(text: str) -> bool:
    return len(text) > 40 or len(text.split()) > 5


@dataclass(frozen=True)
class Detector:
    name: str
    test: Callable[[str], bool]
    needs_name_hint: re.Pattern[str] | None = None
    pii: str | None = None  # PII category this type implies


# order matters: specific formats before loose ones (a UUID is not a phone number)
DETECTORS: tuple[Detector, ...] = (
    Detector("email", lambda s: bool(_EMAIL.match(s)), pii="contact"),
    Detector("url", lambda s: bool(_URL.match(s))),
    Detector("uuid", lambda s: bool(_UUID.match(s))),
    Detector("json", _is_json),
    Detector("hash", lambda s: bool(_HASH.match(s))),
    Detector("iso_datetime", lambda s: bool(_ISO_DATETIME.match(s))),
    Detector("date", lambda s: bool(_TEXT_DATE.match(s))),
    Detector("time", lambda s: bool(_TIME.match(s))),
    Detector("ip_address", _is_ip, pii="network"),
    Detector("credit_card", lambda s: bool(_CARD.match(s)) and luhn_ok(s), pii="financial"),
    Detector("iban", iban_ok, pii="financial"),
    Detector(
        "postal_code",
        lambda s: bool(_POSTAL.match(s)),
        needs_name_hint=_POSTAL_HINT,
        pii="location",
    ),
    Detector("phone", _is_phone, pii="contact"),
    Detector("currency", lambda s: bool(_CURRENCY.match(s))),
    Detector("boolean", lambda s: bool(_BOOLEAN.match(s))),
    Detector(
        "person_name",
        lambda s: bool(_PERSON_NAME.match(s)),
        needs_name_hint=_NAME_HINT,
        pii="identity",
    ),
    Detector("free_text", _is_free_text),
)
PII_TYPES = {d.name: d.pii for d in DETECTORS if d.pii}
# what to suggest for masking each kind of PII
MASKING = {
    "contact": "hash or replace with a synthetic value of the same format",
    "identity": "replace with a fake name",
    "financial": "keep the last 4 characters, mask the rest",
    "location": "truncate to the region (first characters)",
    "network": "zero the host part",
}


@dataclass(frozen=True)
class Semantic:
    name: str | None
    share: float
    shares: dict[str, float]  # every detector with a share above zero


def detect(
    values: Sequence[str],
    column_name: str = "",
    min_share: float = MIN_SHARE,
    *,
    all_shares: bool = True,
) -> Semantic:
    """The semantic type of a column's non-null text values (a sample), with its share.

    ``all_shares=False`` stops at the chosen type and skips detectors that can no longer
    reach ``min_share`` (what matching needs, many columns at a time); the default also
    reports every other type's share, as a profile shows them.
    """
    texts = [str(v).strip() for v in values if v is not None and str(v).strip()]
    if not texts:
        return Semantic(None, 0.0, {})
    shares: dict[str, float] = {}
    chosen: tuple[str, float] | None = None
    allowed_misses = len(texts) - min_share * len(texts)
    for det in DETECTORS:
        hinted = det.needs_name_hint is None or det.needs_name_hint.search(column_name)
        if not all_shares and not hinted:
            continue
        share = _share(det.test, texts, None if all_shares else allowed_misses)
        if share:
            shares[det.name] = round(share, 4)
        if chosen is None and share >= min_share and hinted:
            if det.name == "person_name" and (
                _looks_categorical(texts)
                or (not _PERSON_HINT.search(column_name) and not _reads_as_people(texts))
            ):
                continue
            chosen = (det.name, share)
            if not all_shares:
                break
    if chosen is None:
        return Semantic(None, 0.0, shares)
    return Semantic(chosen[0], round(chosen[1], 4), shares)


def _share(test: Callable[[str], bool], texts: Sequence[str], give_up: float | None) -> float:
    """Share of ``texts`` that pass ``test``; 0 once more than ``give_up`` have failed."""
    hits = misses = 0
    for t in texts:
        if test(t):
            hits += 1
        else:
            misses += 1
            if give_up is not None and misses > give_up:
                return 0.0
    return hits / len(texts)


@functools.cache
def _known_names() -> tuple[frozenset[str], frozenset[str]]:
    """Given names and family names (lower case) of Faker's person providers."""
    import importlib

    given: set[str] = set()
    family: set[str] = set()
    for locale in _NAME_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr, into in (("first_names", given), ("first_names_male", given),
                           ("first_names_female", given), ("last_names", family)):  # fmt: skip
            into.update(str(n).lower() for n in getattr(provider, attr, ()) or ())
    return frozenset(given), frozenset(family)


def _reads_as_people(texts: Sequence[str], min_share: float = 0.5) -> bool:
    """Most values are a known given name ... a known family name ("Mary Smith"): song titles,
    genres and languages are not, though their column is called "name" too."""
    given, family = _known_names()
    hits = 0
    for text in texts:
        words = re.findall(r"[^\W\d_][\w'\u2019\-]*", text.lower())
        hits += len(words) >= 2 and words[0] in given and words[-1] in family
    return hits >= min_share * len(texts)


def _looks_categorical(texts: Sequence[str]) -> bool:
    """Few distinct values repeated many times: a category ("Action", "Comedy"), not names."""
    return len(texts) >= 20 and len(set(texts)) <= max(3, len(texts) // 20)


def pii_flags(semantic: str | None, column_name: str) -> list[str]:
    """PII categories of a column: from its semantic type, or from a telling name."""
    flags: list[str] = []
    if semantic in PII_TYPES:
        flags.append(PII_TYPES[semantic])
    low = column_name.lower()
    if re.search(r"(^|_)(ssn|social_security|passport|tax_?id|national_id)($|_)", low):
        flags.append("government_id")
    if re.search(r"password|passwd|secret", low):
        flags.append("credential")
    if re.search(r"(birth|dob)", low):
        flags.append("identity")
    return sorted(set(flags))


def shape(text: str, limit: int = 40) -> str:
    """``"AB-1234"`` -> ``"AA-9999"``: upper A, lower a, digit 9; punctuation kept.

    Runs longer than 4 of one class are cut to 4 plus ``+`` so that values of different
    lengths share a shape.
    """
    out: list[str] = []
    run_char, run_len = "", 0
    for ch in text[:limit]:
        c = "A" if ch.isupper() else "a" if ch.isalpha() else "9" if ch.isdigit() else ch
        if c == run_char:
            run_len += 1
            if run_len == 5:
                out.append("+")
            if run_len >= 5:
                continue
        else:
            run_char, run_len = c, 1
        out.append(c)
    return "".join(out) + ("…" if len(text) > limit else "")


def shapes(values: Iterable[str]) -> Counter[str]:
    return Counter(shape(v) for v in values)
