"""Column-name normalization and similarity.

A name is split into lower-case tokens (case changes, separators, digits), glued words
are segmented ("firstname"), abbreviations and synonyms are rewritten to one canonical
spelling from the tables below, and a table-name prefix is stripped ("cust_email" in
table "customer"). Similarities are rapidfuzz scores on the normalized forms, computed
for all pairs at once with ``rapidfuzz.process.cdist``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler

from workbench.matching import pairwise

# Abbreviation -> the words it stands for. Common database shorthand; one token each.
ABBREVIATIONS: dict[str, str] = {
    "acct": "account",
    "addr": "address",
    "adr": "address",
    "amt": "amount",
    "avg": "average",
    "bal": "balance",
    "bdate": "birth date",
    "cat": "category",
    "cnt": "count",
    "co": "company",
    "comp": "company",
    "cntry": "country",
    "ctry": "country",
    "cty": "city",
    "cur": "currency",
    "curr": "currency",
    "cust": "customer",
    "cstmr": "customer",
    "dept": "department",
    "desc": "description",
    "descr": "description",
    "dob": "birth date",
    "dt": "date",
    "dte": "date",
    "dur": "duration",
    "emp": "employee",
    "empl": "employee",
    "eml": "email",
    "fname": "first name",
    "fn": "first name",
    "fk": "id",
    "grp": "group",
    "id": "id",
    "ident": "id",
    "idx": "index",
    "img": "image",
    "inv": "invoice",
    "lang": "language",
    "lname": "last name",
    "ln": "last name",
    "loc": "location",
    "max": "maximum",
    "mgr": "manager",
    "min": "minimum",
    "mod": "modified",
    "msg": "message",
    "nm": "name",
    "nbr": "number",
    "num": "number",
    "no": "number",
    "nr": "number",
    "ord": "order",
    "org": "organization",
    "pct": "percent",
    "ph": "phone",
    "phn": "phone",
    "pk": "id",
    "pos": "position",
    "prc": "price",
    "prod": "product",
    "pwd": "password",
    "pw": "password",
    "ref": "reference",
    "sal": "salary",
    "seq": "sequence",
    "stat": "status",
    "sts": "status",
    "tel": "phone",
    "tot": "total",
    "ts": "timestamp",
    "tstamp": "timestamp",
    "txt": "text",
    "uid": "user id",
    "upd": "update",
    "usr": "user",
    "val": "value",
    "yr": "year",
    "zip": "postal code",
}

# Phrase -> canonical phrase. Applied after abbreviations, longest phrase first.
SYNONYMS: dict[str, str] = {
    # phrases that must stay whole (matched before their parts)
    "postal code": "postal code",
    "user name": "user name",
    "last update": "last update",
    "user id": "user id",
    "surname": "last name",
    "family name": "last name",
    "given name": "first name",
    "forename": "first name",
    "christian name": "first name",
    "e mail": "email",
    "mail": "email",
    "email address": "email",
    "mail address": "email",
    "telephone": "phone",
    "phone number": "phone",
    "telephone number": "phone",
    "mobile": "phone",
    "cell": "phone",
    "postcode": "postal code",
    "post code": "postal code",
    "zipcode": "postal code",
    "zip code": "postal code",
    "province": "region",
    "state": "region",
    "county": "region",
    "district": "region",
    "street address": "address",
    "address line": "address",
    "address line 1": "address",
    "address 1": "address",
    "line 1": "address",
    "address line 2": "address 2",
    "line 2": "address 2",
    "town": "city",
    "nation": "country",
    "modified": "last update",
    "last modified": "last update",
    "modified at": "last update",
    "updated": "last update",
    "updated at": "last update",
    "update date": "last update",
    "last updated": "last update",
    "changed": "last update",
    "created": "create date",
    "created at": "create date",
    "creation date": "create date",
    "created on": "create date",
    "birthday": "birth date",
    "date of birth": "birth date",
    "born": "birth date",
    "identifier": "id",
    "key": "id",
    "username": "user name",
    "login": "user name",
    "passwd": "password",
    "label": "name",
    "caption": "name",
    "cost": "price",
    "fee": "price",
    "sum": "amount",
    "total": "amount",
    "enabled": "active",
    "is active": "active",
    "boss": "manager",
    "supervisor": "manager",
    "reports to": "manager",
    "firm": "company",
    "employer": "company",
    "enterprise": "company",
    "staff": "employee",
    "worker": "employee",
    "client": "customer",
    "buyer": "customer",
    "picture": "image",
    "photo": "image",
    "qty": "quantity",
}

# Words used to segment glued names ("firstname", "postalcode"); grown from the tables.
_EXTRA_WORDS = (
    "first last middle name full display nick date time stamp birth hire start end create "
    "update updated last first city country region state address street postal code zip "
    "phone fax email mail web site url customer client employee staff user account order "
    "invoice item line product price unit quantity amount total sub tax discount number id "
    "key type kind status active flag description title label note comment text value count "
    "rate rental return payment store film movie actor artist album track genre media play "
    "list playlist category language inventory release year month day hour length size bytes "
    "milliseconds duration special features rating replacement cost company billing shipping "
    "manager reports support rep password username login group role department salary "
    "composer original location district picture image"
)


def _vocabulary() -> frozenset[str]:
    words = set(_EXTRA_WORDS.split())
    for phrase in (*ABBREVIATIONS.values(), *SYNONYMS, *SYNONYMS.values()):
        words.update(phrase.split())
    words.update(a for a in ABBREVIATIONS if len(a) >= 3)
    return frozenset(w for w in words if len(w) >= 2)


VOCABULARY = _vocabulary()

# Words that tell two otherwise alike names apart ("first name" is not "last name").
CONTRASTS: tuple[tuple[str, str], ...] = (
    ("first", "last"),
    ("first", "middle"),
    ("middle", "last"),
    ("birth", "hire"),
    ("create", "update"),
    ("start", "end"),
    ("minimum", "maximum"),
    ("billing", "shipping"),
    ("home", "work"),
    ("phone", "fax"),
    ("source", "target"),
    ("sender", "recipient"),
    ("old", "new"),
    ("debit", "credit"),
    ("parent", "child"),
    ("latitude", "longitude"),
    ("width", "height"),
    ("open", "close"),
    ("rental", "return"),
    ("net", "gross"),
)

_OPPOSED = frozenset(word for pair in CONTRASTS for word in pair)

# Placeholder names that carry no meaning: col_7, field3, c12, attr_2, unnamed: 0.
OPAQUE_TOKENS = frozenset(
    {"col", "column", "field", "fld", "attr", "attribute", "var", "c", "f", "x", "v", "unnamed"}
)

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+")


@lru_cache(maxsize=4096)
def split_name(name: str) -> tuple[str, ...]:
    """Lower-case tokens of an identifier: ``"BillingPostalCode"`` -> billing, postal, code."""
    tokens: list[str] = []
    for part in re.split(r"[\s_\-./:#$]+", str(name)):
        tokens.extend(t.lower() for t in _CAMEL.findall(part))
    return tuple(tokens)


@lru_cache(maxsize=4096)
def segment(token: str) -> tuple[str, ...]:
    """Split a glued token into known words if it splits completely ("lastname")."""
    if token in VOCABULARY or len(token) < 5 or not token.isalpha():
        return (token,)
    best: list[tuple[str, ...] | None] = [None] * (len(token) + 1)
    best[0] = ()
    for end in range(2, len(token) + 1):
        for start in range(max(0, end - 14), end - 1):
            prefix = best[start]
            word = token[start:end]
            if prefix is not None and word in VOCABULARY:
                candidate = (*prefix, word)
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[-1] if best[-1] else (token,)


def _rewrite(tokens: Sequence[str], table: dict[str, str], max_len: int) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(max_len, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i : i + size])
            if phrase in table:
                out.extend(table[phrase].split())
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


_SYNONYM_LEN = max(len(k.split()) for k in SYNONYMS)


def expand(tokens: Sequence[str], synonyms: dict[str, str] | None = None) -> tuple[str, ...]:
    """Segment glued words, expand abbreviations, map synonyms to one spelling.

    ``synonyms`` adds learned phrase rewrites (from feedback) on top of the built-in table.
    """
    words = [w for t in tokens for w in segment(t)]
    words = [w for t in words for w in ABBREVIATIONS.get(t, t).split()]
    table = SYNONYMS if not synonyms else {**SYNONYMS, **synonyms}
    size = _SYNONYM_LEN if not synonyms else max(len(k.split()) for k in table)
    words = _rewrite(words, table, size)
    # drop immediate repeats ("postal code code" after expanding "zip code")
    return tuple(w for i, w in enumerate(words) if i == 0 or w != words[i - 1])


def is_opaque(name: str) -> bool:
    """True for placeholder names such as ``col_7``, ``field3``, ``C12`` or ``42``."""
    return _placeholder(split_name(name))


def _placeholder(tokens: Sequence[str]) -> bool:
    return bool(tokens) and all(t in OPAQUE_TOKENS or t.isdigit() for t in tokens)


def table_prefixes(table: str | None, columns: Sequence[str]) -> set[tuple[str, ...]]:
    """Token prefixes to strip from this table's column names.

    The table's own tokens and their abbreviations ("customer" -> "cust", "c"), and a
    short first token most columns share ("c_name", "c_phone" ...).
    """
    prefixes: set[tuple[str, ...]] = set()
    if table:
        tokens = split_name(table)
        if tokens:
            prefixes.add(tokens)
            prefixes.add((tokens[-1],))
            word = tokens[-1]
            singular = word[:-1] if word.endswith("s") and len(word) > 3 else word
            prefixes.add((singular,))
            for n in (1, 2, 3, 4):
                prefixes.add((singular[:n],))
            initials = "".join(t[0] for t in tokens)
            prefixes.add((initials,))
    firsts = Counter(split_name(c)[0] for c in columns if len(split_name(c)) > 1)
    if columns:
        for token, count in firsts.items():
            # a word of an opposite pair is meaning, not a prefix: in (first_name, last_name,
            # last_update), "last" is shared by most columns but tells last_name from first_name
            if len(token) <= 4 and count >= max(2, 0.6 * len(columns)) and token not in _OPPOSED:
                prefixes.add((token,))
    return prefixes


def strip_prefix(tokens: tuple[str, ...], prefixes: set[tuple[str, ...]]) -> tuple[str, ...]:
    """Remove the longest matching prefix, keeping at least one word ("address2" stays)."""
    for prefix in sorted(prefixes, key=len, reverse=True):
        rest = tokens[len(prefix) :]
        if rest and tokens[: len(prefix)] == prefix and not all(t.isdigit() for t in rest):
            return rest
    return tokens


@dataclass(frozen=True)
class NormalizedName:
    """One column name in the forms the similarities compare."""

    raw: str  # as given
    full: str  # expanded tokens, space-joined, table prefix kept
    stripped: str  # expanded tokens with the table prefix removed
    tokens: frozenset[str]  # expanded tokens of the stripped form
    is_opaque: bool


def normalize(
    name: str,
    prefixes: set[tuple[str, ...]] | None = None,
    synonyms: dict[str, str] | None = None,
) -> NormalizedName:
    """Normalize one column name (see the module docstring)."""
    tokens = split_name(name)
    stripped = strip_prefix(tokens, prefixes or set())
    full_words = expand(tokens, synonyms)
    stripped_words = expand(stripped, synonyms)
    return NormalizedName(
        raw=name,
        full=" ".join(full_words),
        stripped=" ".join(stripped_words),
        tokens=frozenset(stripped_words),
        # a table's prefix on a placeholder (``lymp_col_10``, ``t1_field3``) means nothing more
        is_opaque=_placeholder(tokens) or _placeholder(stripped),
    )


def normalize_columns(
    columns: Sequence[str], table: str | None = None, synonyms: dict[str, str] | None = None
) -> list[NormalizedName]:
    """Normalize all column names of one table together (prefixes are a table property)."""
    prefixes = table_prefixes(table, [str(c) for c in columns])
    return [normalize(str(c), prefixes, synonyms) for c in columns]


def _raw_key(name: str) -> str:
    return "".join(split_name(name))


# Names of the similarity features, in the order name_similarities returns them.
NAME_FEATURES = (
    "name_ratio",
    "name_token_set",
    "name_jaro_winkler",
    "name_tokens",
    "name_raw",
    "name_contrast",
)


# a roman numeral ending a name numbers it as digits do (``stage_ii``, ``stage_iv``); i, v and
# x are left out: placeholders, coordinates and words more often than numbers
_ROMAN = {"ii": 2, "iii": 3, "iv": 4, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "xi": 11, "xii": 12}


def _roman(name: NormalizedName) -> int | None:
    words = split_name(name.raw)
    if len(words) > 1 and words[-1] in _ROMAN and not any(w.isdigit() for w in words):
        return _ROMAN[words[-1]]
    return None


def _numbers(name: NormalizedName) -> frozenset[int]:
    """The numbers a meaningful name holds (``s3`` -> {3}, ``stage_iii`` -> {3}); none for
    placeholders, whose numbers are positions (``col_7``)."""
    if name.is_opaque:
        return frozenset()
    roman = _roman(name)
    if roman is not None:
        return frozenset({roman})
    return frozenset(int(t) for t in name.tokens if t.isdigit())


def _digits(name: NormalizedName) -> str:
    """The name's digits in order: ``num5_17`` and ``num517`` (its glued form) hold the same
    number though their tokens differ ({5, 17} and {517})."""
    roman = _roman(name)
    return str(roman) if roman is not None else "".join(re.findall(r"\d", name.raw))


def _second_of(a: NormalizedName, b: NormalizedName) -> bool:
    """``b`` is ``a``'s numbered sibling: the same words with a number of 2 or more
    (``emp2``, ``nmgrs_2`` beside ``emp``, ``nmgrs``: a second wave, a second line). A 1
    often marks the first of its kind, the plain name's (``address1`` is the address)."""
    if _numbers(a) or not (numbers := _numbers(b)) or max(numbers) < 2:
        return False
    words = frozenset(t for t in b.tokens if not t.isdigit())
    if _roman(b) is not None:
        words -= _ROMAN.keys()
    return bool(a.tokens) and a.tokens == words


# words naming one of a series: two different ones make siblings, not partners
MONTHS = (
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
    ("october", "oct"), ("november", "nov"), ("december", "dec"),
)  # fmt: skip
_WEEKDAYS = (
    ("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"),
    ("thursday", "thu", "thurs"), ("friday", "fri"), ("saturday", "sat"), ("sunday", "sun"),
)  # fmt: skip
_SERIES = {word: (k, i) for k, series in enumerate((MONTHS, _WEEKDAYS))
           for i, words in enumerate(series) for word in words}  # fmt: skip


def _series(name: NormalizedName) -> frozenset[tuple[int, int]]:
    """The (series, member) of each month or weekday word of a meaningful name."""
    if name.is_opaque:
        return frozenset()
    return frozenset(_SERIES[t] for t in name.tokens if t in _SERIES)


def _other_sibling(a: NormalizedName, b: NormalizedName) -> bool:
    """``apr`` and ``jul``, ``sales_mon`` and ``sales_fri``: other members of one series."""
    x, y = _series(a), _series(b)
    return any(s == t and i != j for s, i in x for t, j in y) and not x & y


# words that make a name a reference to the thing the rest of it names: ``address_id``
# holds which address, ``address`` the address itself
_REFERENCE = frozenset({"id", "key"})


def _referent(name: NormalizedName) -> tuple[frozenset[str], bool]:
    """(the words of the full name but reference words, whether it has one)."""
    words = frozenset(name.full.split())
    return words - _REFERENCE, bool(words & _REFERENCE)


def _is_reference_to(a: NormalizedName, b: NormalizedName) -> bool:
    stem_a, ref_a = _referent(a)
    stem_b, ref_b = _referent(b)
    return bool(stem_a) and stem_a == stem_b and ref_a != ref_b


def _contrast(a: NormalizedName, b: NormalizedName) -> bool:
    """Whether two names differ by an opposite word (first/last), are numbered siblings
    (``s3`` vs ``s6``, ``score1`` vs ``score_2``) or one is a reference to what the other
    names (``address_id`` vs ``address``)."""
    numbers_a, numbers_b = _numbers(a), _numbers(b)
    if numbers_a and numbers_b and numbers_a != numbers_b and _digits(a) != _digits(b):
        return True
    if _second_of(a, b) or _second_of(b, a) or _other_sibling(a, b):
        return True
    if _is_reference_to(a, b):
        return True
    x_, y_ = a.tokens, b.tokens
    return any(
        (x in x_ and y in y_ and y not in x_) or (y in x_ and x in y_ and x not in x_)
        for x, y in CONTRASTS
    )


def _contrasts(source: Sequence[NormalizedName], target: Sequence[NormalizedName]) -> np.ndarray:
    """:func:`_contrast` of every pair: the numbers compared pair by pair, references by
    their stems, then one opposite pair of words at a time over all pairs."""
    a_numbers, b_numbers = [_numbers(a) for a in source], [_numbers(b) for b in target]
    a_digits, b_digits = [_digits(a) for a in source], [_digits(b) for b in target]
    out = np.array(
        [
            [
                bool(a and b and a != b and da != db)
                for b, db in zip(b_numbers, b_digits, strict=True)
            ]
            for a, da in zip(a_numbers, a_digits, strict=True)
        ],
        dtype=bool,
    ).reshape(len(source), len(target))
    # numbered siblings of a plain name and members of one series: few names qualify
    for i, a in enumerate(source):
        for j, b in enumerate(target):
            if not out[i, j] and (a_numbers[i] or b_numbers[j] or _SERIES.keys() & a.tokens):
                out[i, j] = _second_of(a, b) or _second_of(b, a) or _other_sibling(a, b)
    a_ref, b_ref = [_referent(a) for a in source], [_referent(b) for b in target]
    stems = {stem: k for k, stem in enumerate({r[0] for r in a_ref + b_ref if r[0]})}
    a_stem = np.array([stems.get(r[0], -1) for r in a_ref], dtype=np.int64)
    b_stem = np.array([stems.get(r[0], -2) for r in b_ref], dtype=np.int64)
    a_has = np.array([r[1] for r in a_ref], dtype=bool)
    b_has = np.array([r[1] for r in b_ref], dtype=bool)
    out |= (a_stem[:, None] == b_stem[None, :]) & (a_has[:, None] != b_has[None, :])
    for x, y in CONTRASTS:
        ax = np.array([x in a.tokens for a in source], dtype=bool)
        ay = np.array([y in a.tokens for a in source], dtype=bool)
        bx = np.array([x in b.tokens for b in target], dtype=bool)
        by = np.array([y in b.tokens for b in target], dtype=bool)
        out |= ((ax & ~ay)[:, None] & by[None, :]) | ((ay & ~ax)[:, None] & bx[None, :])
    return out


def name_similarities(
    source: Sequence[NormalizedName], target: Sequence[NormalizedName]
) -> dict[str, np.ndarray]:
    """All-pairs name similarities in [0, 1], each an (n_source, n_target) matrix.

    Each score is the better of the stripped and the full form, so a prefix that was
    wrongly taken for a table prefix costs nothing.
    """

    def best(scorer, a_attr: str, b_attr: str, **kw) -> np.ndarray:
        matrices = []
        for attr_a, attr_b in ((a_attr, b_attr), ("full", "full")):
            a = [getattr(n, attr_a) for n in source]
            b = [getattr(n, attr_b) for n in target]
            matrices.append(process.cdist(a, b, scorer=scorer, dtype=np.float32, **kw))
        return np.maximum(*matrices)

    ratio = best(fuzz.ratio, "stripped", "stripped") / 100.0
    token_set = best(fuzz.token_set_ratio, "stripped", "stripped") / 100.0
    jaro = best(JaroWinkler.normalized_similarity, "stripped", "stripped")
    jaccard, _ = pairwise.set_overlap([a.tokens for a in source], [b.tokens for b in target])
    tokens = jaccard.astype(np.float32)
    contrast = _contrasts(source, target).astype(np.float32)
    raw = (
        process.cdist(
            [_raw_key(n.raw) for n in source],
            [_raw_key(n.raw) for n in target],
            scorer=fuzz.ratio,
            dtype=np.float32,
        )
        / 100.0
    )
    return {
        "name_ratio": ratio,
        "name_token_set": token_set,
        "name_jaro_winkler": jaro,
        "name_tokens": tokens,
        "name_raw": raw,
        "name_contrast": contrast,
    }
