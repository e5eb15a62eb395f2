"""Semantic types of text values, shape patterns, and the PII flags derived from them.

This is the one detector of the package: profiling (PII flags, quality) and matching
(``matching.instances``) both call :func:`detect`, so they never disagree on a column.

Each detector is a row of :data:`DETECTORS`: a name, a value test, and whether the column
name must hint at it (a five-digit number is a postal code only in a column called "zip").
A column takes the first type in that order that at least ``min_share`` of its sampled
non-null values match; the share is reported with it. Checksummed types (credit cards by
Luhn, IBANs by ISO 7064 mod 97) count only values whose check digits are right. Some types
also test the column as a whole (``column_test``): a person's name must read as people or
be named so, a category must repeat or be a small vocabulary of short labels.

The descriptive types (place, address, code, category, title) keep apart what a column
called "name" or "city" holds, so that song titles, genres and cities never get a person's
PII flag; benchmarks/semantic_bench.py scores every type on labelled columns of real data.
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
# dates written the other common ways ("15/02/2006", "Feb 15, 2006", "15 Feb 2006", and
# compact "20060215": eight digits only where they make a day of 1900-2099), optionally
# with a time of day
_TEXT_DATE = re.compile(
    r"^((19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])|"
    r"\d{4}/\d{1,2}/\d{1,2}|\d{4}\.\d{1,2}\.\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|"
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
    r"contact|customer|employee|person|owner|manager|composer|writer|director)s?(_?name)?$|"
    r"(first|last)name",
    re.I,
)
# a column name that says whose name it is; a bare "name" (Track.Name, category.name) does
# not, and its values must then read as given name + family name (see _reads_as_people)
_PERSON_HINT = re.compile(
    r"(first|last|full|given|family|middle|sur|maiden|nick)_?name|^(author|contact|customer|"
    r"employee|person|owner|manager|user|member|patient|student|client|composer|writer|"
    r"director)s?(_?name)?$",
    re.I,
)
# locales whose given and family names stand for "a person's name" in the data we meet
_NAME_LOCALES = (
    "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL",
    "pl_PL", "sv_SE", "da_DK", "fi_FI", "no_NO", "cs_CZ", "hu_HU", "tr_TR",
)  # fmt: skip
_POSTAL_HINT = re.compile(r"post(al)?_?code|zip|postleitzahl|\bplz\b|postcode", re.I)
# a person's name, or several in one value ("Angus Young, Malcolm Young & Brian Johnson")
_PEOPLE_LIST = re.compile(
    rf"^{_NAME_WORD}(\s{_NAME_WORD}){{0,3}}((\s*[,/&]\s*|\s+and\s+){_NAME_WORD}(\s{_NAME_WORD}){{0,3}})+$"
)
# descriptive types, hinted by a word of the column name (split at case and separators)
_PLACE_WORDS = frozenset({
    "city", "cities", "town", "village", "country", "countries", "state", "province",
    "region", "district", "county", "municipality", "suburb", "location", "locality",
    "place", "nation", "territory", "continent",
})  # fmt: skip
_ADDRESS_WORDS = frozenset({"address", "addr", "street"})
_NOT_ADDRESS = frozenset({"email", "mail", "ip", "mac", "web", "url", "ipv4", "ipv6"})
# a column named "country code" or "state id" holds codes, not the place's name
_CODE_WORDS = frozenset({"code", "id", "iso", "abbr", "abbreviation", "key", "no", "num"})
_CATEGORY_WORDS = frozenset({
    "category", "categories", "genre", "type", "kind", "class", "status", "language",
    "rating", "level", "group", "segment", "tier", "gender", "sex", "department", "role",
    "grade", "priority",
})  # fmt: skip
_TITLE_WORDS = frozenset(
    {"title", "name", "album", "song", "track", "film", "movie", "book", "product", "headline"}
)
# "name" of things that are not titles: logins, hosts, files, database objects
_NOT_TITLE = frozenset({"user", "host", "file", "domain", "schema", "table", "column", "field"})
_PLACE_TEXT = re.compile(r"^[^\W\d_][^\d@]{0,59}$")  # letters, no digits, one line
_WORD_BREAK = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_CODE = re.compile(r"^[A-Z0-9]{1,12}([._/-][A-Z0-9]{1,12}){0,3}$")


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


def _is_person(text: str) -> bool:
    return bool(_PERSON_NAME.match(text) or _PEOPLE_LIST.match(text))


def _is_place_text(text: str) -> bool:
    return bool(_PLACE_TEXT.match(text)) and len(text.split()) <= 6


def _is_code(text: str) -> bool:
    # "PG-13", "SP.DYN.TFRT.IN", "ABW"; an upper-case word ("MARY") is no code
    return (
        bool(_CODE.match(text))
        and any(c.isalpha() for c in text)
        and (len(text) <= 5 or not text.isalpha())
    )


def _is_label(text: str) -> bool:
    return any(c.isalpha() for c in text) and len(text) <= 60 and len(text.split()) <= 8


def _is_phrase(text: str) -> bool:
    return any(c.isalpha() for c in text) and len(text) <= 120 and len(text.split()) <= 12


def name_words(column_name: str) -> frozenset[str]:
    """``"BillingCity"`` -> {"billing", "city"}: the lower-case words of a column name."""
    spaced = _WORD_BREAK.sub(" ", column_name)
    return frozenset(w for w in re.split(r"[\W_]+", spaced.lower()) if w)


def _person_column(texts: Sequence[str], column_name: str) -> bool:
    """Names, not categories; and a bare "name" (Track.Name) must read as people."""
    if _looks_categorical(texts):
        return False
    return bool(_PERSON_HINT.search(column_name)) or _reads_as_people(texts)


def _address_column(texts: Sequence[str], column_name: str) -> bool:
    words = name_words(column_name)
    return bool(words & _ADDRESS_WORDS) and not words & _NOT_ADDRESS


def _place_column(texts: Sequence[str], column_name: str) -> bool:
    """Named like a place ("BillingCity", not "country_code"), or most values are known
    places (countries, regions, cities of CLDR, the time-zone database and Faker)."""
    words = name_words(column_name)
    if words & _PLACE_WORDS:
        return not words & _CODE_WORDS
    known = _known_places()
    return sum(t.casefold() in known for t in texts) >= 0.5 * len(texts)


def _category_column(texts: Sequence[str], column_name: str) -> bool:
    """Short labels that classify rows: they repeat ("Sales Manager" x 3), the column is
    named so ("genre", "status"), or they are a small vocabulary of one- or two-word labels
    (a lookup table's 25 genres) that no title hint claims."""
    distinct = len(set(texts))
    if distinct <= 0.7 * len(texts) and len(texts) >= 4:
        return True
    words = name_words(column_name)
    if words & _CATEGORY_WORDS:
        return True
    mean_words = sum(len(t.split()) for t in texts) / len(texts)
    return distinct <= 30 and mean_words <= 2.5 and not words & _TITLE_WORDS - {"name"}


def _title_column(texts: Sequence[str], column_name: str) -> bool:
    words = name_words(column_name)
    return bool(words & _TITLE_WORDS) and not words & _NOT_TITLE


@dataclass(frozen=True)
class Detector:
    name: str
    test: Callable[[str], bool]
    needs_name_hint: re.Pattern[str] | None = None
    pii: str | None = None  # PII category this type implies
    # a test of the whole column (its values, its name) once enough values pass ``test``
    column_test: Callable[[Sequence[str], str], bool] | None = None


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
        _is_person,
        needs_name_hint=_NAME_HINT,
        pii="identity",
        column_test=_person_column,
    ),
    # descriptive types: what a column of names and labels holds when it is not people
    Detector("address", _is_phrase, pii="location", column_test=_address_column),
    Detector("place", _is_place_text, column_test=_place_column),
    Detector("code", _is_code),
    Detector("category", _is_label, column_test=_category_column),
    Detector("title", _is_phrase, column_test=_title_column),
    Detector("free_text", _is_free_text),
)
# types that describe rather than format: their share says little about a value's validity
DESCRIPTIVE = frozenset({"free_text", "address", "place", "category", "title"})
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
    skip: frozenset[str] = frozenset(),
) -> Semantic:
    """The semantic type of a column's non-null text values (a sample), with its share.

    ``all_shares=False`` stops at the chosen type and skips detectors that can no longer
    reach ``min_share`` (what matching needs, many columns at a time); the default also
    reports every other type's share, as a profile shows them. Types in ``skip`` are not
    tried (matching has no use for the descriptive ones).
    """
    texts = [str(v).strip() for v in values if v is not None and str(v).strip()]
    if not texts:
        return Semantic(None, 0.0, {})
    shares: dict[str, float] = {}
    chosen: tuple[str, float] | None = None
    allowed_misses = len(texts) - min_share * len(texts)
    counted = Counter(texts)  # each distinct value is tested once, counted as often as it occurs
    for det in DETECTORS:
        if det.name in skip:
            continue
        hinted = det.needs_name_hint is None or det.needs_name_hint.search(column_name)
        if not all_shares and not hinted:
            continue
        share = _share(det.test, counted, None if all_shares else allowed_misses)
        if share:
            shares[det.name] = round(share, 4)
        if chosen is None and share >= min_share and hinted:
            if det.column_test is not None and not det.column_test(texts, column_name):
                continue
            chosen = (det.name, share)
            if not all_shares:
                break
    if chosen is None:
        return Semantic(None, 0.0, shares)
    return Semantic(chosen[0], round(chosen[1], 4), shares)


def _share(test: Callable[[str], bool], counted: Counter[str], give_up: float | None) -> float:
    """Share of the values (``counted``: value -> occurrences) that pass ``test``; 0 once
    more than ``give_up`` have failed."""
    hits = misses = 0
    for text, count in counted.items():
        if test(text):
            hits += count
        else:
            misses += count
            if give_up is not None and misses > give_up:
                return 0.0
    return hits / counted.total()


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


@functools.cache
def _known_places() -> frozenset[str]:
    """Names of places (lower case): countries and regions in CLDR's English, German,
    French, Spanish, Portuguese and Italian, the cities of the time-zone database, and the
    states, provinces, regions and cities of Faker's address providers."""
    import importlib
    import pkgutil
    import zoneinfo

    from babel import Locale
    from faker.providers import address

    places: set[str] = set()
    for lang in ("en", "de", "fr", "es", "pt", "it"):
        places.update(n.casefold() for n in Locale(lang).territories.values())
    for zone in zoneinfo.available_timezones():
        places.add(zone.rsplit("/", 1)[-1].replace("_", " ").casefold())
    for module in pkgutil.iter_modules(address.__path__):
        provider = importlib.import_module(f"{address.__name__}.{module.name}").Provider
        for attr in ("states", "provinces", "regions", "departments", "cities", "city_names"):
            for item in getattr(provider, attr, ()) or ():
                if isinstance(item, str):
                    places.add(item.casefold())
    return frozenset(places)


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
