"""Name normalization and similarity, as tables of input and expected output."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.matching import names

SPLITS = [
    ("BillingPostalCode", ("billing", "postal", "code")),
    ("customer_id", ("customer", "id")),
    ("CustomerID", ("customer", "id")),
    ("HTTPServerURL", ("http", "server", "url")),
    ("address2", ("address", "2")),
    ("zip code", ("zip", "code")),
    ("last-update", ("last", "update")),
    ("EMAIL_ADDR", ("email", "addr")),
]


@pytest.mark.parametrize(("name", "tokens"), SPLITS, ids=[s[0] for s in SPLITS])
def test_split_name(name: str, tokens: tuple[str, ...]) -> None:
    assert names.split_name(name) == tokens


NORMALIZED = [
    # (column, table, expected stripped form)
    ("firstname", None, "first name"),
    ("lastUpdate", None, "last update"),
    ("EMAIL_ADDR", None, "email"),
    ("cust_fname", None, "customer first name"),
    ("dob", None, "birth date"),
    ("zipcode", None, "postal code"),
    ("ZIP", None, "postal code"),
    ("surname", None, "last name"),
    ("tel_no", None, "phone"),
    ("qty", None, "quantity"),
    ("CustomerId", "Customer", "id"),
    ("cust_email", "customer", "email"),
    ("address2", "address", "address 2"),
    ("district", None, "region"),
    ("custkey", None, "customer id"),
]


@pytest.mark.parametrize(
    ("column", "table", "expected"), NORMALIZED, ids=[n[0] for n in NORMALIZED]
)
def test_normalize(column: str, table: str | None, expected: str) -> None:
    normalized = names.normalize_columns([column, "other_column"], table)[0]
    assert normalized.stripped == expected


def test_common_short_prefix_is_stripped() -> None:
    normalized = names.normalize_columns(["c_custkey", "c_name", "c_phone", "c_address"])
    assert [n.stripped for n in normalized] == ["customer id", "name", "phone", "address"]


def test_a_shared_first_word_of_an_opposite_pair_is_not_a_prefix() -> None:
    # "last" begins most of these names, but it is what tells last_name from first_name
    src = names.normalize_columns(["first_name", "last_name", "last_update"])
    assert [n.stripped for n in src] == ["first name", "last name", "last update"]
    tgt = names.normalize_columns(["FirstName", "LastName"])
    sims = names.name_similarities(src, tgt)
    assert sims["name_contrast"][1, 0] == 1  # last_name vs FirstName: opposite words
    assert sims["name_contrast"][1, 1] == 0


def test_names_holding_different_numbers_contrast_but_placeholders_do_not() -> None:
    src = names.normalize_columns(["s3", "score1", "col_7", "bmi"])
    tgt = names.normalize_columns(["S_6", "S3", "score_2", "score", "field8"])
    contrast = names.name_similarities(src, tgt)["name_contrast"]
    assert contrast[0].tolist() == [1, 0, 1, 0, 0]  # s3: S_6 and score_2 hold other numbers
    assert contrast[1].tolist() == [1, 1, 1, 0, 0]  # but score1 vs score (no number): no
    assert not contrast[2].any()  # col_7's 7 is a position, as field8's 8
    assert not contrast[3].any()


def test_a_reference_contrasts_with_what_it_refers_to() -> None:
    """``address_id`` holds which address, ``address`` the address itself (Chinook's
    Customer.Address was matched to Sakila's customer.address_id); two references, or a
    reference named by its table's prefix, do not contrast."""
    src = names.normalize_columns(["Address", "CustomerId", "City"], "Customer")
    tgt = names.normalize_columns(["address_id", "customer_id", "city", "city_key"], "customer")
    contrast = names.name_similarities(src, tgt)["name_contrast"]
    assert contrast.tolist() == [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]
    for i, a in enumerate(src):  # the one-pair definition agrees
        for j, b in enumerate(tgt):
            assert names._contrast(a, b) == bool(contrast[i, j]), (a.raw, b.raw)


OPAQUE = [
    ("col_7", True),
    ("field3", True),
    ("C12", True),
    ("42", True),
    ("attr_2", True),
    ("col_name", False),
    ("city", False),
    ("c_phone", False),
]


@pytest.mark.parametrize(("name", "expected"), OPAQUE, ids=[o[0] for o in OPAQUE])
def test_is_opaque(name: str, expected: bool) -> None:
    assert names.is_opaque(name) is expected


SIMILAR = [
    # (a, b, which is more similar to a than c is)
    ("FirstName", "first_name", "last_name"),
    ("PostalCode", "zip", "phone"),
    ("EmailAddress", "e_mail", "address"),
    ("LastName", "surname", "first_name"),
    ("InvoiceDate", "invoice_dt", "invoice_id"),
    ("Quantity", "qty", "unit_price"),
    ("customer_nmae", "customer_name", "customer_id"),
]


@pytest.mark.parametrize(("a", "b", "c"), SIMILAR, ids=[s[0] + "~" + s[1] for s in SIMILAR])
def test_similarity_prefers_the_right_name(a: str, b: str, c: str) -> None:
    sims = names.name_similarities(names.normalize_columns([a]), names.normalize_columns([b, c]))
    combined = sims["name_ratio"] + sims["name_token_set"] + sims["name_tokens"]
    assert combined[0, 0] > combined[0, 1]


def test_similarities_are_in_unit_range_and_contrast_flags_first_vs_last() -> None:
    src = names.normalize_columns(["first_name", "city"])
    tgt = names.normalize_columns(["LastName", "City", "col_3"])
    sims = names.name_similarities(src, tgt)
    for matrix in sims.values():
        assert matrix.shape == (2, 3)
        assert np.all((matrix >= 0) & (matrix <= 1))
    assert sims["name_contrast"][0, 0] == 1
    assert sims["name_contrast"][1, 1] == 0
    assert sims["name_ratio"][1, 1] == pytest.approx(1.0)


def test_a_plain_name_and_its_second_numbered_sibling_contrast() -> None:
    """``emp`` and ``emp2`` (a second wave), ``address`` and ``address2`` (a second line) are
    siblings; ``address1`` is still the address."""
    src = names.normalize_columns(["emp", "address1", "nmgrs"])
    tgt = names.normalize_columns(["emp2", "address", "nmgrs_2", "employees"])
    contrast = names.name_similarities(src, tgt)["name_contrast"]
    assert contrast[0].tolist() == [1, 0, 0, 0]
    assert contrast[1].tolist() == [0, 0, 0, 0]
    assert contrast[2].tolist() == [0, 0, 1, 0]
    assert [names._contrast(a, b) for a in src for b in tgt] == contrast.ravel().tolist()


def test_two_months_or_two_weekdays_are_siblings() -> None:
    src = names.normalize_columns(["apr", "sales_mon", "january"])
    tgt = names.normalize_columns(["jul", "sales_fri", "jan", "monday_sales"])
    contrast = names.name_similarities(src, tgt)["name_contrast"]
    assert contrast[0].tolist() == [1, 0, 1, 0]  # April vs July, vs January
    assert contrast[1].tolist() == [0, 1, 0, 0]  # Monday vs Friday; vs Monday: the same day
    assert contrast[2].tolist() == [1, 0, 0, 0]  # January is jan
    assert [names._contrast(a, b) for a in src for b in tgt] == contrast.ravel().tolist()


def test_a_number_glued_to_its_neighbour_is_the_same_number() -> None:
    """``num5_17`` written glued is ``num517``: the same digits, no contrast."""
    src = names.normalize_columns(["num5_17", "r26_40"])
    tgt = names.normalize_columns(["num517", "R2640", "r41_60"])
    contrast = names.name_similarities(src, tgt)["name_contrast"]
    assert contrast.tolist() == [[0, 1, 1], [1, 0, 1]]
    assert [names._contrast(a, b) for a in src for b in tgt] == contrast.ravel().tolist()


def test_a_roman_numeral_ending_a_name_numbers_it() -> None:
    """``Stage_II`` and ``stageIii`` are two stages, as ``stage2`` and ``stage3`` would be;
    the same numeral in another case is the same stage."""
    src = names.normalize_columns(["Stage_II", "Stage_IV", "stage"])
    tgt = names.normalize_columns(["stageIii", "STAGE_IV", "stage_ii", "vitamin_iv"])
    contrast = names.name_similarities(src, tgt)["name_contrast"]
    assert contrast[0].tolist() == [1, 1, 0, 1]
    assert contrast[1].tolist() == [1, 0, 1, 0]
    assert contrast[2].tolist() == [1, 1, 1, 0]  # stage and its second or fourth, as emp, emp2
    assert [names._contrast(a, b) for a in src for b in tgt] == contrast.ravel().tolist()


def test_a_placeholder_behind_a_table_prefix_is_still_a_placeholder() -> None:
    """``lymp_col_10`` is ``col_10`` with its table's prefix: no more meaning."""
    cols = names.normalize_columns(["lymp_col_10", "lymp_age", "lymp_field3"], "lymph_node")
    assert [n.is_opaque for n in cols] == [True, False, True]
    assert not names.normalize_columns(["col_age", "col_sex", "colour"])[0].is_opaque
