"""Valentine-style matching pairs fabricated from one real table.

A table is split in two (Koutras et al., "Valentine: Evaluating Matching Techniques for
Dataset Discovery", ICDE 2021):

- unionable: rows split in two disjoint halves, all columns on both sides;
- view-unionable: disjoint rows, and each side keeps only some of the columns;
- joinable: overlapping rows, a few shared columns, the rest split between the sides;
- semantically-joinable: joinable with noisy values on the target side.

The target side's names are then made noisy (case styles, abbreviations, synonyms,
typos, dropped vowels, table prefixes, or opaque names such as ``col_3``), its values
may change format (dates, case, phone layouts, currency strings, flags), unit (kg -> lb,
cm -> in, units -> cents) or code (a category's values as another system's codes or
labels, one for one: "active" -> "ACT" or 1, 0/1/2 -> "bravo"/"kilo"/...), and they may
drift (ids from another range, dates years apart, other prices) as two databases of one
domain do. The ground truth is the set of (source column, target column) pairs that
came from the same column.

The noise tables here are written apart from the matcher's own tables in ``names``: some
entries agree (common knowledge), many do not, so names alone cannot solve every pair.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.matching import types
from workbench.matching.names import MONTHS, split_name
from workbench.matching.samples import SampleTable

# scripts/train_matcher.py fabricates the default model's training pairs from these, and
# from the wide joined tables of training_views(), built from these alone.
TRAIN_TABLES = (
    "chinook.Album",
    "chinook.Artist",
    "chinook.Genre",
    "chinook.MediaType",
    "chinook.Playlist",
    "chinook.PlaylistTrack",
    "chinook.InvoiceLine",
    "chinook.Track",
    "sakila.actor",
    "sakila.category",
    "sakila.city",
    "sakila.country",
    "sakila.film_actor",
    "sakila.film_category",
    "sakila.inventory",
    "sakila.language",
    "sakila.rental",
    "sakila.store",
)
# Kept out of training: the benchmark fabricates its pairs from these, and its real
# cross-schema pairs are between these.
TEST_TABLES = (
    "chinook.Customer",
    "chinook.Employee",
    "chinook.Invoice",
    "sakila.customer",
    "sakila.address",
    "sakila.staff",
    "sakila.payment",
    "sakila.film",
)


def training_views(tables: dict[str, SampleTable]) -> dict[str, SampleTable]:
    """Wide tables joined from training tables only: many look-alike columns per table."""

    def view(name: str, frame: pd.DataFrame, *parts: str) -> SampleTable:
        declared: dict[str, str] = {}
        for part in parts:
            declared.update(tables[part].declared)
        for column in frame.columns:
            declared.setdefault(column, tables[parts[0]].declared.get(column, "varchar(100)"))
        return SampleTable(name, frame, {c: declared[c] for c in frame.columns})

    t = {k: v.frame for k, v in tables.items()}
    track = (
        t["chinook.Track"]
        .merge(t["chinook.Album"].rename(columns={"Title": "AlbumTitle"}), on="AlbumId")
        .merge(t["chinook.Artist"].rename(columns={"Name": "ArtistName"}), on="ArtistId")
        .merge(t["chinook.Genre"].rename(columns={"Name": "GenreName"}), on="GenreId")
        .merge(t["chinook.MediaType"].rename(columns={"Name": "MediaTypeName"}), on="MediaTypeId")
    )
    line = t["chinook.InvoiceLine"].merge(
        t["chinook.Track"][["TrackId", "Name", "Composer", "Milliseconds"]], on="TrackId"
    )
    rental = t["sakila.rental"].merge(
        t["sakila.inventory"].drop(columns=["last_update"]), on="inventory_id"
    )
    cast = t["sakila.film_actor"].merge(
        t["sakila.actor"].drop(columns=["last_update"]), on="actor_id"
    )
    city = t["sakila.city"].merge(
        t["sakila.country"].drop(columns=["last_update"]), on="country_id"
    )
    playlist = (
        t["chinook.PlaylistTrack"]
        .merge(t["chinook.Playlist"].rename(columns={"Name": "PlaylistName"}), on="PlaylistId")
        .merge(t["chinook.Track"][["TrackId", "Name", "Composer", "UnitPrice"]], on="TrackId")
    )
    return {
        "chinook.PlaylistDetail": view(
            "PlaylistDetail", playlist, "chinook.PlaylistTrack", "chinook.Track"
        ),
        "synthetic.contact": _contacts(tables),
        "chinook.TrackDetail": view("TrackDetail", track, "chinook.Track", "chinook.Album"),
        "chinook.InvoiceLineDetail": view(
            "InvoiceLineDetail", line, "chinook.InvoiceLine", "chinook.Track"
        ),
        "sakila.rental_detail": view("rental_detail", rental, "sakila.rental", "sakila.inventory"),
        "sakila.actor_film": view("actor_film", cast, "sakila.film_actor", "sakila.actor"),
        "sakila.city_country": view("city_country", city, "sakila.city", "sakila.country"),
    }


def _contacts(tables: dict[str, SampleTable], rows: int = 400) -> SampleTable:
    """A people table generated from training tables (actor names, cities, artists).

    The training tables hold few person and address columns, the kind real schemas are
    full of; this gives the model such look-alike columns (first vs last name, city vs
    country, phone vs fax) without touching the benchmark's tables.
    """
    rng = np.random.default_rng(7)
    actor = tables["sakila.actor"].frame
    place = tables["sakila.city"].frame.merge(tables["sakila.country"].frame, on="country_id")
    artists = tables["chinook.Artist"].frame["Name"].dropna().to_numpy()
    first = actor["first_name"].str.title().to_numpy()[rng.integers(0, len(actor), rows)]
    last = actor["last_name"].str.title().to_numpy()[rng.integers(0, len(actor), rows)]
    where = place.iloc[rng.integers(0, len(place), rows)]
    street = [f"{rng.integers(1, 999)} {w} Street" for w in last[rng.permutation(rows)]]

    def phone() -> list[str]:
        return [
            f"+{rng.integers(1, 99)} ({rng.integers(100, 999)}) {rng.integers(100, 999)}-"
            f"{rng.integers(1000, 9999)}"
            for _ in range(rows)
        ]

    start = pd.Timestamp("1950-01-01")
    frame = pd.DataFrame(
        {
            "contact_id": np.arange(1, rows + 1),
            "first_name": first,
            "last_name": last,
            "company": np.where(  # np.array(None) is what numpy makes of None (stubs refuse None)
                rng.random(rows) < 0.3, artists[rng.integers(0, len(artists), rows)], np.array(None)
            ),
            "street": street,
            "city": where["city"].to_numpy(),
            "country": where["country"].to_numpy(),
            "zip": [f"{rng.integers(10000, 99999)}" for _ in range(rows)],
            "phone": phone(),
            "fax": np.where(rng.random(rows) < 0.4, phone(), np.array(None)),
            "email": [f"{a}.{b}@example.org".lower() for a, b in zip(first, last, strict=True)],
            "birth_date": start + pd.to_timedelta(rng.integers(0, 18000, rows), unit="D"),
            "joined": start + pd.to_timedelta(rng.integers(18000, 27000, rows), unit="D"),
            "manager_id": rng.integers(1, 20, rows),
        }
    )
    declared = {c: "varchar(60)" for c in frame.columns}
    declared.update(contact_id="int", manager_id="int", birth_date="datetime", joined="datetime")
    return SampleTable("contact", frame, declared)


KINDS = ("unionable", "view-unionable", "joinable", "semantically-joinable")
SCHEMA_NOISE = ("verbatim", "noisy", "opaque")

# Alternative spellings a designer might have chosen, keyed by the normalized name.
_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "first_name": ("given_name", "forename", "fname", "name_first"),
    "last_name": ("surname", "family_name", "lname", "name_last"),
    "email": ("mail", "email_address", "e_mail", "contact_email"),
    "phone": ("telephone", "phone_number", "tel", "contact_phone"),
    "fax": ("fax_number", "facsimile", "fax_no"),
    "address": ("street", "street_address", "address_line1", "addr"),
    "address2": ("address_line2", "street2"),
    "postal_code": ("zip", "postcode", "zip_code"),
    "city": ("town", "city_name", "municipality"),
    "state": ("province", "region", "state_code"),
    "district": ("region", "area", "province"),
    "country": ("nation", "country_name"),
    "company": ("organisation", "employer", "firm"),
    "last_update": ("modified_at", "updated", "changed_on", "last_modified"),
    "create_date": ("created_at", "creation_date", "created"),
    "amount": ("sum", "total_amount", "paid"),
    "total": ("amount", "grand_total", "sum"),
    "title": ("name", "heading", "label"),
    "name": ("title", "label", "designation"),
    "description": ("summary", "details", "synopsis"),
    "active": ("enabled", "is_active", "status"),
    "username": ("login", "user_name", "account"),
    "password": ("pwd", "passwd", "secret"),
    "length": ("duration", "runtime", "minutes"),
    "rating": ("classification", "grade", "age_rating"),
    "birth_date": ("dob", "date_of_birth", "born"),
    "hire_date": ("start_date", "employed_since", "joined"),
    "payment_date": ("paid_on", "paid_at", "date_paid"),
    "invoice_date": ("billed_on", "date_invoiced", "inv_date"),
    "release_year": ("year_released", "year", "released"),
    "quantity": ("qty", "units", "count"),
    "unit_price": ("price", "price_each", "cost"),
    "composer": ("writer", "author", "songwriter"),
    "milliseconds": ("duration_ms", "length_ms", "ms"),
    "bytes": ("size", "file_size", "size_bytes"),
    "reports_to": ("manager", "boss_id", "supervisor"),
    "support_rep_id": ("account_manager", "rep_id", "sales_rep"),
    "rental_rate": ("rate", "price_per_rental", "rent"),
    "replacement_cost": ("replacement_price", "cost_to_replace", "value"),
    "rental_duration": ("rental_days", "loan_period", "days"),
    "special_features": ("extras", "features", "bonus_material"),
}


@dataclass
class MatchingPair:
    """Two tables and the column pairs that truly correspond."""

    name: str
    kind: str
    source: pd.DataFrame
    target: pd.DataFrame
    source_table: str
    target_table: str
    ground_truth: set[tuple[str, str]]
    source_types: dict[str, str] = field(default_factory=dict)
    target_types: dict[str, str] = field(default_factory=dict)


def _snake(name: str) -> str:

    return "_".join(split_name(name))


def _case_style(tokens: list[str], style: str) -> str:
    if style == "camel":
        return tokens[0] + "".join(t.capitalize() for t in tokens[1:])
    if style == "pascal":
        return "".join(t.capitalize() for t in tokens)
    if style == "upper":
        return "_".join(tokens).upper()
    if style == "glued":
        return "".join(tokens)
    return "_".join(tokens)


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(("delete", "swap", "replace", "insert"))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if op == "delete":
        return word[:i] + word[i + 1 :]
    if op == "swap":
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if op == "replace":
        return word[:i] + letter + word[i + 1 :]
    return word[:i] + letter + word[i:]


def _abbreviate(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    if rng.random() < 0.5:
        return word[: rng.choice((3, 4))]
    return word[0] + "".join(c for c in word[1:] if c not in "aeiou")


def noisy_name(name: str, rng: random.Random, style: str) -> str:
    """One column name as another designer might have written it."""
    snake = _snake(name)
    if snake in _ALTERNATIVES and rng.random() < 0.5:
        snake = rng.choice(_ALTERNATIVES[snake])
    tokens = snake.split("_")
    for k, token in enumerate(tokens):
        roll = rng.random()
        if roll < 0.25:
            tokens[k] = _abbreviate(token, rng)
        elif roll < 0.4:
            tokens[k] = _typo(token, rng)
    return _case_style(tokens, style)


# labels another system might give a category's codes (unrelated to the codes, as "setosa"
# is to 0): the NATO alphabet
_LABELS = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
    "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
    "sierra", "tango", "uniform", "victor", "whiskey", "xray", "yankee", "zulu",
)  # fmt: skip
# kg -> lb, cm -> in, km -> mi, units -> hundredths (cents), g -> kg, l -> US gallons
_UNITS = (2.20462, 0.393701, 0.621371, 100.0, 0.001, 0.264172)


def _recoded(values: pd.Series, rng: random.Random) -> pd.Series | None:
    """A category's values under another system's codes or labels, one for one; None if the
    column is no category (too many distinct values, or too few repeats)."""
    present = values.dropna()
    distinct = sorted(present.unique().tolist(), key=str)
    if not 3 <= len(distinct) <= len(_LABELS) or len(present) < 4 * len(distinct):
        return None
    mapping: dict[object, object]
    if pd.api.types.is_numeric_dtype(values):
        mapping = dict(zip(distinct, rng.sample(_LABELS, len(distinct)), strict=True))
    else:
        abbreviated = {v: str(v).strip()[:3].upper() for v in distinct}
        if rng.random() < 0.5 and len(set(abbreviated.values())) == len(distinct):
            mapping = dict(abbreviated)
        else:
            mapping = {v: k + 1 for k, v in enumerate(distinct)}
    return values.map(mapping)


# a decoy's name: the source column's name, or its first word, with a word that makes it
# something else (address -> address_id, last_name -> last_update), by the kind of values
# the decoy then holds, always another kind than the column's
_DECOY_WORDS = {"integer": ("id", "no", "count"), "datetime": ("date", "update"),
                "text": ("code", "flag", "name")}  # fmt: skip
DECOY_SHARE = 0.3  # of pairs whose target gets one decoy


def _decoy(
    source: pd.DataFrame, taken: set[str], rows: int, rng: random.Random, nprng: np.random.Generator
) -> tuple[str, pd.Series, str] | None:
    """(name, values, declared type) of a target column named like a source column but
    holding unrelated values of another kind: it has no partner. Real schemas hold such
    neighbours (Sakila's address_id beside Chinook's Address, last_update beside last_name)."""
    column = rng.choice(list(source.columns))
    series = source[column]
    if pd.api.types.is_datetime64_any_dtype(series):
        own = "datetime"
    elif pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        own = "integer"
    else:
        own = "text"
    kind = rng.choice([k for k in _DECOY_WORDS if k != own])
    words = [w.lower() for w in split_name(str(column))] or [str(column)]
    stem = "_".join(words) if rng.random() < 0.5 else words[0]
    name = f"{stem}_{rng.choice(_DECOY_WORDS[kind])}"
    if name.lower() in {t.lower() for t in taken}:
        return None
    if kind == "integer":
        values = pd.Series(nprng.integers(1, 10 * rows + 10, rows), dtype="int64")
        declared = "integer"
    elif kind == "datetime":
        days = nprng.integers(0, 3650, rows)
        values = pd.Series(pd.Timestamp("2015-01-01") + pd.to_timedelta(days, unit="D"))
        declared = "timestamp"
    else:
        letters = nprng.integers(65, 91, (rows, 3))
        values = pd.Series(["".join(map(chr, r)) for r in letters], dtype=object)
        declared = "varchar(8)"
    return name, values, declared


SIBLING_SHARE = 0.3  # of pairs whose target gets a sibling decoy
_MONTH_WORDS = tuple(words[0][:3] for words in MONTHS)  # jan ... dec


def _sibling_name(name: str, rng: random.Random) -> str | None:
    """A sibling of a column's name: another month (``sales_jan`` -> ``sales_mar``), the next
    number (``score3`` -> ``score4``), or a second of a plain name (``emp`` -> ``emp_2``)."""
    words = re.split(r"(?<=[a-z])(?=[A-Z])|[^A-Za-z0-9]+", name)
    for word in words:
        if word.lower() in _MONTH_WORDS:
            other = rng.choice([m for m in _MONTH_WORDS if m != word.lower()])
            return name.replace(word, other.capitalize() if word[0].isupper() else other, 1)
    if match := re.search(r"(\d+)$", name):
        digits = match.group(1)
        number = int(digits)
        number = number + 1 if number < 2 or rng.random() < 0.5 else number - 1
        return name[: match.start()] + str(number).zfill(len(digits))
    if not re.search(r"[A-Za-z]", name):
        return None
    return name + rng.choice(("2", "_2"))


def _sibling_decoy(
    source: pd.DataFrame,
    taken: set[str],
    rows: int,
    declared: dict[str, str],
    rng: random.Random,
    nprng: np.random.Generator,
) -> tuple[str, pd.Series, str] | None:
    """(name, values, declared type) of a target column named as a sibling of a source column
    and holding values of its kind and spread (its own, drawn again): a second wave, another
    month, the next score. It has no partner; real tables hold such series (``emp`` beside
    ``emp2``, ``gwbush00`` beside ``gwbush04``), where values alone cannot tell them apart."""
    column = rng.choice(list(source.columns))
    name = _sibling_name(str(column), rng)
    if name is None or name.lower() in {t.lower() for t in taken}:
        return None
    values = source[column].dropna().to_numpy()
    if not len(values):
        return None
    return name, pd.Series(nprng.choice(values, rows, replace=True)), declared[column]


def _noisy_values(series: pd.Series, declared: str, rng: random.Random) -> pd.Series:
    """The same values in another format, unit or code (what a different system would
    store)."""
    fam = types.family(declared)
    values = series.copy()
    if fam in ("datetime", "date") and pd.api.types.is_datetime64_any_dtype(values):
        fmt = rng.choice((
            "%d/%m/%Y %H:%M", "%m/%d/%Y", "%b %d, %Y", "%Y-%m-%dT%H:%M:%S", "%Y%m%d",
            "%d.%m.%Y",
        ))  # fmt: skip
        return values.dt.strftime(fmt)
    if rng.random() < 0.5 and (recoded := _recoded(values, rng)) is not None:
        return recoded
    if fam == "decimal" and pd.api.types.is_numeric_dtype(values):
        draw = rng.random()
        if draw < 0.35:
            return values.map(lambda v: None if pd.isna(v) else f"${v:,.2f}")
        if draw < 0.7:
            return (values * rng.choice(_UNITS)).round(2)
        return values.round(1)
    if fam in ("integer", "boolean") and pd.api.types.is_numeric_dtype(values):
        if values.dropna().isin([0, 1]).all() and rng.random() < 0.7:
            return values.map({1: "Y", 0: "N"})
        return values
    if values.dtype != object:
        return values
    text = values.dropna().astype(str)
    if len(text) and text.str.match(r"^\+?[\d\s().-]{7,}$").mean() > 0.8:
        return values.map(lambda v: v if pd.isna(v) else "".join(c for c in str(v) if c.isdigit()))
    style = rng.choice(("upper", "lower", "title", "typos"))
    if style == "typos":
        return values.map(lambda v: v if pd.isna(v) or rng.random() > 0.2 else _typo(str(v), rng))
    return values.map(lambda v: v if pd.isna(v) else getattr(str(v), style)())


def _drifted(series: pd.Series, rng: random.Random) -> pd.Series:
    """Other data of the same kind: ids from another range, dates years apart, other prices.

    Two databases of one domain hold different entities; their distributions differ even
    where the columns correspond. (Valentine's splits keep one distribution; real pairs
    do not.)
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        return series + pd.DateOffset(years=rng.randint(2, 15), days=rng.randint(0, 200))
    if not pd.api.types.is_numeric_dtype(series) or series.dropna().isin([0, 1]).all():
        return series
    if pd.api.types.is_integer_dtype(series):
        # as 64-bit integers: a Stata file's int8 column cannot hold the shifted ids
        wide = "Int64" if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) else "int64"
        return series.astype(wide) + rng.randint(len(series), 20 * len(series) + 10)
    return (series * rng.uniform(0.3, 3.0)).round(2)


def _split_rows(n: int, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(n)
    if n < 10:  # too few rows to split: both sides see them all
        return order, rng.permutation(n)
    if kind in ("unionable", "view-unionable"):
        half = n // 2
        return order[:half], order[half:]
    size = max(2, int(n * 0.7))
    return order[:size], order[n - size :]


def _split_columns(
    columns: list[str], kind: str, rng: random.Random
) -> tuple[list[str], list[str]]:
    if kind == "unionable" or len(columns) < 3:
        return list(columns), list(columns)
    shuffled = columns[:]
    rng.shuffle(shuffled)
    share = 0.5 if kind == "view-unionable" else 0.35
    n_shared = max(1, round(len(columns) * share))
    if kind != "view-unionable" and columns[0] not in shuffled[:n_shared]:
        # joins go through a key: keep the first column (the id) shared
        shuffled.remove(columns[0])
        shuffled.insert(0, columns[0])
    shared, rest = shuffled[:n_shared], shuffled[n_shared:]
    half = len(rest) // 2
    keep_source = [c for c in columns if c in shared or c in rest[:half]]
    keep_target = [c for c in columns if c in shared or c in rest[half:]]
    return keep_source, keep_target


def fabricate(
    table: SampleTable,
    kind: str,
    schema_noise: str,
    seed: int,
    value_noise: bool | None = None,
    drift: bool | None = None,
    max_rows: int = 2000,
    siblings: bool = False,
) -> MatchingPair:
    """One pair from one table; ``value_noise`` and ``drift`` default to a random choice.
    ``siblings``: some targets also get a sibling decoy (training pairs; the judged pairs
    stay as they were, so that their figures compare across versions)."""
    rng = random.Random(f"{table.name}/{kind}/{schema_noise}/{seed}")
    nprng = np.random.default_rng(rng.randrange(2**32))
    frame = table.frame
    if len(frame) > 2 * max_rows:
        frame = frame.iloc[nprng.choice(len(frame), 2 * max_rows, replace=False)]
    frame = frame.reset_index(drop=True)
    rows_s, rows_t = _split_rows(len(frame), kind, nprng)
    cols_s, cols_t = _split_columns(list(frame.columns), kind, rng)
    source = frame.iloc[rows_s][cols_s].reset_index(drop=True)
    target = frame.iloc[rows_t][cols_t].reset_index(drop=True)
    if value_noise is None:
        value_noise = kind == "semantically-joinable" or rng.random() < 0.3
    if drift is None:
        drift = rng.random() < 0.3
    if drift:
        for column in target.columns:
            if rng.random() < 0.7:
                target[column] = _drifted(target[column], rng)
    if value_noise:
        for column in target.columns:
            if rng.random() < 0.7:
                target[column] = _noisy_values(target[column], table.declared[column], rng)
    decoy = None
    if rng.random() < DECOY_SHARE:
        decoy = _decoy(source, set(frame.columns), len(target), rng, nprng)
        if decoy is not None:
            target[decoy[0]] = decoy[1].to_numpy()
    sibling = None
    if siblings and rng.random() < SIBLING_SHARE:
        taken = set(frame.columns) | set(target.columns)
        sibling = _sibling_decoy(source, taken, len(target), table.declared, rng, nprng)
        if sibling is not None:
            target[sibling[0]] = sibling[1].to_numpy()
    style = rng.choice(("snake", "camel", "pascal", "upper", "glued"))
    renamed: dict[str, str] = {}
    for k, column in enumerate(target.columns):
        if schema_noise == "verbatim":
            new = _case_style(_snake(column).split("_"), style)
        elif schema_noise == "opaque" and rng.random() < 0.5:
            new = rng.choice(("col_{}", "field{}", "c{}", "attr_{}")).format(k + 1)
        else:
            new = noisy_name(column, rng, style)
        while new in renamed.values() or not new:
            new = f"{new}_{k}"
        renamed[column] = new
    target_table = table.name.split(".")[-1]
    if schema_noise != "verbatim" and rng.random() < 0.3:
        prefix = _abbreviate(_snake(target_table).split("_")[0], rng)[:4]
        renamed = {c: f"{prefix}_{n}" for c, n in renamed.items()}
    # the target lists its columns in another order
    order = list(target.columns)
    rng.shuffle(order)
    target = target[order].rename(columns=renamed)
    return MatchingPair(
        name=f"{table.name}/{kind}/{schema_noise}/{seed}",
        kind=kind,
        source=source,
        target=target,
        source_table=table.name.split(".")[-1],
        target_table=target_table,
        ground_truth={(c, renamed[c]) for c in cols_s if c in renamed},
        source_types={c: table.declared[c] for c in cols_s},
        target_types={
            **{
                renamed[c]: ("varchar" if value_noise and target[renamed[c]].dtype == object else t)
                for c, t in table.declared.items()
                if c in renamed
            },
            **({renamed[decoy[0]]: decoy[2]} if decoy is not None else {}),
            **({renamed[sibling[0]]: sibling[2]} if sibling is not None else {}),
        },
    )
