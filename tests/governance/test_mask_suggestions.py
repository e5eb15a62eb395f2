"""Masks suggested from profiling's PII flags, applied to the mapping, written by a real
migration, and previewed with the project's salt exactly as the migration writes them."""

from __future__ import annotations

import json

import psycopg
import pytest
from click.testing import CliRunner

from tests.governance.masking_data import pii_project
from tests.governance.test_policy import set_role
from workbench.engine.migrate import run_migration
from workbench.engine.run import CopyOptions, mask_salt
from workbench.errors import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PolicyViolationError,
)
from workbench.governance import policy
from workbench.governance.mask_preview import (
    preview_mask,
    preview_values,
    project_salt,
    sample_values,
)
from workbench.governance.masking_suggestions import (
    mask_spec,
    policy_violations,
    propose,
    set_column_mask,
    suggest_masks,
)
from workbench.matching import decisions, mappings
from workbench.profiling.model import ColumnProfile
from workbench.store import jobs
from workbench.store.audit import list_events

EXPECTED = {
    "first_name": {"kind": "fake", "provider": "first_name"},
    "last_name": {"kind": "fake", "provider": "last_name"},
    "email": {"kind": "fake", "provider": "email"},
    "phone": {"kind": "partial", "keep_last": 4},
    "card": {"kind": "partial", "keep_last": 4},
    "ssn": {"kind": "redact"},
}


def by_column(store, project: str = "crm") -> dict:
    return {s.column: s for s in suggest_masks(store, project)}


def transform_of(store, column: str) -> dict | None:
    (m,) = mappings.list_mappings(store, "crm")
    return next(c.transform for c in m.columns if c.source_column == column)


def migrate(store, target_url: str, **kwargs) -> tuple[int, dict[int, tuple]]:
    """Run the project's mappings; the job id and the written rows by id."""
    options = CopyOptions(if_exists="append", workers=1)
    result = run_migration("crm", store=store, options=options, **kwargs)
    assert result.status == "succeeded" and result.rows_quarantined == 0
    with psycopg.connect(target_url) as conn:
        rows = conn.execute("SELECT id, first_name, email, phone, card, ssn FROM persons")
        return result.job_id, {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize(
    ("semantic", "pii", "name", "is_key", "kind"),
    [
        ("email", ["contact"], "email", True, "hash"),
        ("ip_address", ["network"], "ip", False, "hash"),
        ("iban", ["financial"], "account", False, "partial"),
        ("person_name", ["identity"], "customer", False, "fake"),
        ("postal_code", ["location"], "zip", False, "fake"),
        ("address", ["location"], "street", False, "fake"),
        (None, ["credential"], "password", False, "null"),
        (None, ["identity"], "birth_date", False, "null"),
        (None, [], "country", False, None),
    ],
    ids=["email-key", "ip", "iban", "name", "postcode", "address", "credential", "birth", "no-pii"],
)
def test_proposed_mask_per_kind_of_pii(semantic, pii, name, is_key, kind) -> None:
    col = ColumnProfile(name, "text", "text", "text", 10, 0, semantic=semantic, pii=pii)
    col.semantic_share, col.is_key = 0.9, is_key
    proposed = propose(col)
    if kind is None:
        assert proposed is None
        return
    mask, reason = proposed
    assert mask["kind"] == kind
    if semantic == "address":  # a street address, not "hash it": the fake keeps the form
        assert mask["provider"] == "street"
    assert all(p in reason for p in pii) and "\n" not in reason
    assert ("90%" in reason) if semantic else (name in reason)


def test_suggestions_from_the_stored_profiles(store, tmp_path, target_url) -> None:
    pii_project(store, tmp_path, target_url)
    found = by_column(store)
    assert {c: s.mask for c, s in found.items()} == EXPECTED  # id, country: no PII
    email = found["email"]
    assert email.status == "suggested" and email.target_column == "email"
    assert email.table == "persons" and email.name == "persons.email"
    assert email.reason.startswith("email in 100% of sampled values (PII contact)")
    assert "government_id" in found["ssn"].reason
    assert json.loads(json.dumps(email.to_dict()))["pii"] == ["contact"]
    assert [s.column for s in suggest_masks(store, "crm", tables=["other"])] == []
    # nothing profiled: nothing to suggest
    assert policy_violations(store, "crm") == []  # masking not required yet
    policy.set_policy(store, "crm", require_masking=True)
    assert {s.column for s in policy_violations(store, "crm")} == set(EXPECTED)


def test_apply_marks_masked_keeps_other_keys_and_migration_writes_masks(
    store, tmp_path, target_url
) -> None:
    source = pii_project(store, tmp_path, target_url)
    (m,) = mappings.list_mappings(store, "crm")
    decisions.set_transform(store, "crm", m.id, "phone", {"trim": "both"})
    found = by_column(store)
    for column in ("email", "phone", "card", "first_name"):
        set_column_mask(store, "crm", "persons", column, found[column].mask)
    assert transform_of(store, "phone") == {"trim": "both", "mask": EXPECTED["phone"]}
    assert transform_of(store, "email") == {"mask": EXPECTED["email"]}
    policy.exempt_column(store, "crm", "persons.last_name", "pseudonymous already")

    again = by_column(store)
    assert again["email"].status == "masked" and again["email"].mask == EXPECTED["email"]
    assert again["email"].reason == "masked by its mapping (fake)"
    assert again["last_name"].status == "exempt"
    assert again["last_name"].reason == "exempt by policy: pseudonymous already"
    policy.set_policy(store, "crm", require_masking=True)
    assert [s.column for s in policy_violations(store, "crm")] == ["ssn"]
    events = [e for e in list_events(store, "crm") if e.action == "masking_policy.mask"]
    assert len(events) == 4
    assert events[-1].details["before"] is None  # the first: email, unmasked before
    assert events[-1].details["after"] == EXPECTED["email"]
    assert events[-1].object_name == "persons.email"

    # the policy requires masking and ssn is neither masked nor exempt: the run is refused
    # before anything is copied, naming the column and the ways out
    jobs_before = len(jobs.list_jobs(store, "crm"))
    with pytest.raises(PolicyViolationError, match=r"persons\.ssn \(") as refused:
        migrate(store, target_url)
    assert "workbench masking apply" in str(refused.value)
    assert "--allow-unmasked-pii" in str(refused.value)
    assert len(jobs.list_jobs(store, "crm")) == jobs_before
    _, written = migrate(store, target_url, allow_unmasked_pii=True)
    originals = source.set_index("id")
    assert len(written) == len(source)
    for key, (_first, email, phone, card, ssn) in written.items():
        row = originals.loc[key]
        assert "@" in email and email != row["email"]
        assert phone.endswith(row["phone"][-4:]) and phone != row["phone"]
        assert card == "*" * (len(row["card"]) - 4) + row["card"][-4:]
        assert ssn == row["ssn"]  # not masked: the policy reports it
    same = sum(written[k][0] == originals.loc[k, "first_name"] for k in written)
    assert same < len(written) // 10  # fake first names (a pool of 4096 may hit one)


def test_preview_equals_what_the_migration_writes(store, tmp_path, target_url) -> None:
    source = pii_project(store, tmp_path, target_url)
    masks = {c: EXPECTED[c] for c in ("email", "phone", "first_name")}
    previews = {
        c: preview_mask(store, "crm", "persons", c, mask, rows=8) for c, mask in masks.items()
    }
    assert all(len(rows) == 8 for rows in previews.values())
    for column, mask in masks.items():
        set_column_mask(store, "crm", "persons", column, mask)
    job_id, written = migrate(store, target_url)
    position = {"first_name": 0, "email": 1, "phone": 2}
    for column, rows in previews.items():
        for row in rows:
            ids = source.loc[source[column] == row.before, "id"]
            assert len(ids) >= 1
            assert {written[int(i)][position[column]] for i in ids} == {row.after}
    # the preview's salt is the one every job of the project uses
    project_id = mappings.list_mappings(store, "crm")[0].project_id
    assert project_salt(store, project_id) == mask_salt(store, job_id)


def test_preview_kinds_and_reuse_of_values(store, tmp_path, target_url) -> None:
    pii_project(store, tmp_path, target_url)
    values = sample_values(store, "crm", "persons", "card", rows=3)
    assert len(values) == 3 and len(set(values.to_pylist())) == 3
    plain = preview_mask(store, "crm", "persons", "card", None, values=values)
    assert [r.before for r in plain] == [r.after for r in plain] == values.to_pylist()
    redacted = preview_mask(store, "crm", "persons", "card", mask_spec("redact"), values=values)
    assert [r.after for r in redacted] == ["***"] * 3
    nulls = preview_mask(store, "crm", "persons", "card", mask_spec("null"), values=values)
    assert [r.after for r in nulls] == [None] * 3
    hash8 = mask_spec("hash", length=8)
    hashed = preview_mask(store, "crm", "persons", "card", hash8, values=values)
    assert all(len(r.after) == 8 for r in hashed)
    assert preview_values(values, {"mask": {"kind": "hash"}}, "other salt") != hashed
    secret = preview_values(values, {"mask": {"kind": "redact"}}, "s", hide_before=True)
    assert {r.before for r in secret} == {"***"}
    with pytest.raises(NotFoundError, match="no column"):
        sample_values(store, "crm", "persons", "nope")
    # a pushed-down expression is previewed on its result, as the engine reads it
    (m,) = mappings.list_mappings(store, "crm")
    decisions.set_transform(store, "crm", m.id, "email", {"expression": "upper(email)"})
    rows = preview_mask(store, "crm", "persons", "email", {"kind": "partial"}, rows=3)
    assert all(r.before.isupper() and r.after.endswith(r.before[-4:]) for r in rows)


def test_bad_masks_and_unmapped_columns_are_refused(store, tmp_path, target_url) -> None:
    pii_project(store, tmp_path, target_url)
    (m,) = mappings.list_mappings(store, "crm")
    decisions.reject(store, "crm", m.id, "ssn")
    with pytest.raises(NotFoundError, match="no accepted mapping"):
        set_column_mask(store, "crm", "persons", "ssn", {"kind": "redact"})
    with pytest.raises(NotFoundError, match="No single mapping"):
        set_column_mask(store, "crm", "orders", "email", {"kind": "redact"})
    for bad in ({"kind": "scramble"}, {"kind": "fake", "provider": "horoscope"}, {"x": 1}):
        with pytest.raises(InvalidInputError):
            set_column_mask(store, "crm", "persons", "email", bad)
    with pytest.raises(InvalidInputError, match="Unknown mask kind"):
        mask_spec("scramble")
    assert mask_spec("none") is None
    assert mask_spec("fake", like={"kind": "fake", "provider": "email"}) == EXPECTED["email"]
    assert mask_spec("partial", like=EXPECTED["email"], keep_last=2) == {
        "kind": "partial",
        "keep_last": 2,
    }
    # removing a mask keeps the other keys
    decisions.set_transform(store, "crm", m.id, "email", {"trim": "both"})
    set_column_mask(store, "crm", "persons", "email", {"kind": "hash"})
    set_column_mask(store, "crm", "persons", "email", None)
    assert transform_of(store, "email") == {"trim": "both"}


def test_viewers_cannot_apply_masks(store, tmp_path, target_url) -> None:
    pii_project(store, tmp_path, target_url)
    set_role(store, "viewer")
    assert by_column(store)["email"].status == "suggested"  # may read
    with pytest.raises(PermissionDeniedError, match="needs editor"):
        set_column_mask(store, "crm", "persons", "email", {"kind": "hash"})
    set_role(store, "editor")
    set_column_mask(store, "crm", "persons", "email", {"kind": "hash"})
    set_role(store, "owner")


def test_cli_suggest_preview_apply(store, tmp_path, target_url, monkeypatch) -> None:
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_DATABASE_URL", store.settings.database_url.reveal())
    monkeypatch.setenv("WORKBENCH_USER", store.user)
    pii_project(store, tmp_path, target_url)

    def run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    result = run("masking", "suggest", "crm")
    assert result.exit_code == 0, result.output
    assert "persons.email" in result.output and "fake(provider=email)" in result.output
    rows = json.loads(run("--json", "masking", "suggest", "crm").output)
    assert {r["column"]: r["mask"] for r in rows} == EXPECTED

    result = run("--json", "masking", "preview", "crm", "persons.phone", "partial", "--rows", "3")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["mask"] == EXPECTED["phone"] and len(data["rows"]) == 3
    assert all(r["after"].endswith(r["before"][-4:]) for r in data["rows"])
    result = run("masking", "preview", "crm", "persons.email", "fake")  # the suggested provider
    assert result.exit_code == 0 and "BEFORE" in result.output and "@" in result.output

    result = run("masking", "apply", "crm", "persons.email", "hash", "--length", "12")
    assert result.exit_code == 0, result.output
    assert "persons.email is masked with hash(length=12)" in result.output
    assert transform_of(store, "email") == {"mask": {"kind": "hash", "length": 12}}
    result = run("--json", "masking", "apply", "crm", "persons.email", "none")
    assert json.loads(result.output)["mask"] is None and transform_of(store, "email") is None
    assert run("masking", "apply", "crm", "email", "hash").exit_code == 2
    assert run("masking", "apply", "crm", "persons.email", "scramble").exit_code == 2
    assert run("masking", "apply", "crm", "persons.nope", "hash").exit_code == 1
