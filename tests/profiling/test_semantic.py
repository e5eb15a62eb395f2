"""Semantic types, check digits and shapes as tables of input and expected output."""

from __future__ import annotations

import pytest

from workbench.profiling import pushdown, semantic


@pytest.mark.parametrize(
    ("number", "ok"),
    [("4111 1111 1111 1111", True), ("4111111111111112", False), ("5555555555554444", True)],
)
def test_luhn(number, ok):
    assert semantic.luhn_ok(number) is ok


@pytest.mark.parametrize(
    ("iban", "ok"),
    [
        ("GB82WEST12345698765432", True),
        ("DE89370400440532013000", True),
        ("GB82WEST1234569876543X", False),
    ],
)
def test_iban(iban, ok):
    assert semantic.iban_ok(iban) is ok


@pytest.mark.parametrize(
    ("values", "column", "expected"),
    [
        (["a@b.com", "x.y@z.org", "q@r.io"], "contact", "email"),
        (["https://a.com/x", "http://b.org", "www.c.net"], "site", "url"),
        (["+1 (780) 434-4554", "+55 (12) 3923-5555", "+49 030 26550280"], "tel", "phone"),
        (["0f8fad5b-d9cb-469f-a165-70867728950e"] * 3, "ref", "uuid"),
        (["10.0.0.1", "192.168.1.20", "2001:db8::1"], "ip", "ip_address"),
        (["4111 1111 1111 1111", "5555555555554444", "378282246310005"], "cc", "credit_card"),
        (["GB82WEST12345698765432", "DE89370400440532013000"], "acct", "iban"),
        (["2024-01-05", "2023-12-31T10:00:00Z", "2024-02-29 08:15"], "when", "iso_datetime"),
        (['{"a": 1}', "[1, 2]", '{"b": [true]}'], "payload", "json"),
        (["12345", "02134", "94105-1234"], "postal_code", "postal_code"),
        (["12345", "02134", "94105"], "quantity", None),  # numbers are not postal codes by shape
        (["Mary Smith", "John O'Neil", "Ana Lopez"], "full_name", "person_name"),
        (["a long sentence that goes on and on with many words in it"] * 3, "notes", "free_text"),
        (["ABC", "XYZ", "QRS"], "code", "code"),
        (["ABC", "XYZ", "QRS"], "country_code", "code"),  # a code, though "country" is a place
        (["20251018", "19990228", "20240131"], "joined", "date"),  # compact dates
        (["20251318", "19990232", "20240131"], "joined", "phone"),  # no month 13, no 32nd
    ],
)
def test_detect(values, column, expected):
    found = semantic.detect(values, column)
    assert found.name == expected
    if expected:
        assert found.share == 1.0


def test_credit_card_needs_valid_check_digits():
    assert semantic.detect(["4111111111111112"] * 5, "cc").name != "credit_card"


@pytest.mark.parametrize(
    ("text", "shape"),
    [("AB-1234", "AA-9999"), ("abc123", "aaa999"), ("Main Street 12345678", "Aaaa Aaaaa+ 9999+")],
)
def test_shape(text, shape):
    assert semantic.shape(text) == shape


def test_pii_flags():
    assert semantic.pii_flags("email", "mail") == ["contact"]
    assert semantic.pii_flags(None, "password_hash") == ["credential"]
    assert semantic.pii_flags(None, "amount") == []


@pytest.mark.parametrize(
    ("ranks", "low", "high"),
    [([0] * 1024, 0, 0)],
)
def test_hll_empty(ranks, low, high):
    assert low <= pushdown.hll_estimate(ranks) <= high


def test_a_bare_name_column_is_a_person_only_when_its_values_read_as_people(datasets):
    """Chinook's Track, Genre, Artist, Playlist names and Sakila's category and language names
    are called "name" but hold titles, genres, bands and languages; Sakila's customer names
    (its customer_list view's "name") are people. Columns whose name says whose it is
    (FirstName, customer_name) keep needing only the shape."""
    from workbench.matching.samples import load_all

    tables = load_all(datasets)
    for table, column in [("chinook.Track", "Name"), ("chinook.Genre", "Name"),
                          ("chinook.Artist", "Name"), ("chinook.Playlist", "Name"),
                          ("sakila.category", "name"), ("sakila.language", "name")]:  # fmt: skip
        values = tables[table].frame[column].dropna().astype(str).tolist()
        found = semantic.detect(values, column)
        assert found.name != "person_name", (table, column, found)
    customers = tables["sakila.customer"].frame
    people = (customers["first_name"] + " " + customers["last_name"]).tolist()
    assert semantic.detect(people, "name").name == "person_name"
    assert semantic.detect(people, "customer_name").name == "person_name"
    first = tables["chinook.Employee"].frame["FirstName"].tolist()
    assert semantic.detect(first, "FirstName").name == "person_name"
    # a bare "name" of single words, even of given names, is not enough
    assert semantic.detect(["Maria", "John", "Anna"] * 5, "name").name != "person_name"


def _column(tables, table: str, column: str) -> list[str]:
    values = tables[table].frame[column].dropna().astype(str).str.strip()
    return values[values != ""].tolist()


@pytest.fixture(scope="module")
def sample_tables(datasets):
    from workbench.matching.samples import load_all

    return load_all(datasets)


@pytest.mark.parametrize(
    ("table", "column", "expected"),
    [
        ("chinook.Track", "Name", "title"),
        ("chinook.Album", "Title", "title"),
        ("sakila.film", "title", "title"),
        ("chinook.Genre", "Name", "category"),  # a lookup table: a small vocabulary
        ("sakila.category", "name", "category"),
        ("sakila.language", "name", "category"),
        ("chinook.Employee", "Title", "category"),  # job titles repeat
        ("chinook.Customer", "City", "place"),
        ("chinook.Invoice", "BillingCountry", "place"),
        ("sakila.city", "city", "place"),
        ("sakila.address", "district", "place"),
        ("chinook.Customer", "Address", "address"),
        ("sakila.address", "address", "address"),
        ("sakila.film", "rating", "code"),
        ("chinook.Track", "Composer", "person_name"),  # credits: several people in one value
    ],
)
def test_descriptive_types_on_real_columns(sample_tables, table, column, expected):
    """benchmarks/semantic_bench.py scores these and more; here the verdicts that keep titles
    and categories apart from people, and streets (PII) apart from cities (not)."""
    found = semantic.detect(_column(sample_tables, table, column), column)
    assert found.name == expected, found
    flags = semantic.pii_flags(found.name, column)
    if expected in ("title", "category", "place", "code"):
        assert flags == []
    elif expected == "address":
        assert flags == ["location"]


def test_a_title_or_category_column_never_gets_a_persons_pii_flag(sample_tables):
    """Track names and genres sit in columns called "Name", as people's names do."""
    for table in ("chinook.Track", "chinook.Genre", "chinook.Artist", "chinook.Playlist"):
        found = semantic.detect(_column(sample_tables, table, "Name"), "Name")
        assert found.name in ("title", "category"), (table, found)
        assert semantic.pii_flags(found.name, "Name") == [], table


def test_known_places_tell_a_place_column_by_its_values(sample_tables):
    """Without a telling name, countries (CLDR) and cities (time zones, Faker) still read as
    places; song titles do not, and a title needs its column's name to be one."""
    countries = _column(sample_tables, "sakila.country", "country")
    assert semantic.detect(countries, "col_7").name == "place"
    assert semantic.detect(["Berlin", "Paris", "Tokyo", "Lisbon", "Chicago"], "x").name == "place"
    tracks = _column(sample_tables, "chinook.Track", "Name")
    assert semantic.detect(tracks, "col_7").name not in ("place", "title")


def test_a_category_is_labels_that_repeat_or_a_small_vocabulary():
    labels = ["Sales Manager", "IT Staff", "Sales Manager", "IT Staff", "Sales Manager"] * 3
    assert semantic.detect(labels, "col_3").name == "category"
    # a small vocabulary of one-word labels, each once: a lookup table's names
    assert semantic.detect(["Action", "Comedy", "Drama", "Horror"], "name").name == "category"
    # upper-case words are no codes (codes are short, or carry digits or separators)
    assert semantic.detect(["PATRICIA", "BARBARA", "ELIZABETH"], "x").name == "category"
    # many different multi-word phrases under a title hint are titles, not categories
    phrases = [f"Song Number {k} Of The Album" for k in range(40)]
    assert semantic.detect(phrases, "name").name == "title"


def test_descriptive_types_do_not_judge_validity():
    """quality: "60% of values are title" would call 40% of titles invalid."""
    from workbench.profiling.model import ColumnProfile
    from workbench.profiling.quality import score_column

    col = ColumnProfile("Name", "text", "text", "text", 10, 0, semantic="title")
    col.semantic_share = 0.6
    assert "validity" not in score_column(col).dimensions
    col = ColumnProfile("rating", "text", "text", "text", 10, 0, semantic="code")
    col.semantic_share = 0.6
    assert score_column(col).dimensions["validity"] == pytest.approx(0.6)
