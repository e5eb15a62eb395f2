"""Feature flags: defaults, on/off, named users, stable rollout buckets, per organization,
the learned matcher gated, and the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.matching.stored import other_organization
from workbench.errors import InvalidInputError
from workbench.matching import learning
from workbench.store import feedback as stored_feedback
from workbench.store import flags
from workbench.store.audit import list_events
from workbench.store.flags import FlagState, bucket, evaluate

USERS = [f"user{i}" for i in range(1000)]


@pytest.mark.parametrize(
    ("state", "user", "expected"),
    [
        (FlagState("f", False, users=("ann",)), "ann", False),  # off beats the user list
        (FlagState("f", True), "anyone", True),  # on, rollout 100
        (FlagState("f", True, users=("ann",), rollout=0), "ann", True),
        (FlagState("f", True, users=("ann",), rollout=0), "bob", False),
        (FlagState("f", True, rollout=0), "bob", False),
    ],
    ids=["off", "on", "named-user", "not-named", "rollout-0"],
)
def test_evaluate(state: FlagState, user: str, expected: bool) -> None:
    assert evaluate(state, user) is expected


def test_rollout_is_stable_and_grows_monotonically() -> None:
    assert bucket("f", "ann") == bucket("f", "ann")  # sha256: same in every process
    on = {p: {u for u in USERS if evaluate(FlagState("f", True, rollout=p), u)} for p in (10, 50)}
    assert on[10] <= on[50]
    assert 50 <= len(on[10]) <= 150 and 400 <= len(on[50]) <= 600
    # another flag puts other users first
    other = {u for u in USERS if evaluate(FlagState("g", True, rollout=10), u)}
    assert other != on[10]


def test_defaults_set_and_per_organization(store) -> None:
    assert flags.is_enabled(store, "learned_matcher") is True  # default on
    assert flags.is_enabled(store, "experimental_engine") is False  # default off
    assert flags.is_enabled(store, "never_heard_of") is False
    flags.set_flag(store, "experimental_engine", enabled=True, users=["ann"], rollout=0)
    assert flags.is_enabled(store, "experimental_engine", user="ann") is True
    assert flags.is_enabled(store, "experimental_engine", user="bob") is False
    assert flags.is_enabled(store, "experimental_engine") is False  # the store's user
    flags.set_flag(store, "experimental_engine", enabled=True, rollout=100)  # replaces
    assert flags.is_enabled(store, "experimental_engine", user="bob") is True
    acme = other_organization(store)
    assert flags.is_enabled(acme, "experimental_engine", user="bob") is False
    listed = {f.name: f for f in flags.list_flags(store)}
    assert listed["experimental_engine"].updated_by == store.user
    assert listed["learned_matcher"].is_default
    events = [e for e in list_events(store) if e.action == "feature_flag.set"]
    assert len(events) == 2


@pytest.mark.parametrize(
    ("name", "rollout"), [("Bad Name", 100), ("", 100), ("ok", 101), ("ok", -1)]
)
def test_bad_names_and_rollouts_are_refused(store, name: str, rollout: int) -> None:
    with pytest.raises(InvalidInputError):
        flags.set_flag(store, name, enabled=True, rollout=rollout)


def test_learned_matcher_flag_gates_the_organization_model(store) -> None:
    shipped = learning.organization_model(store)
    record = {
        "action": "accept",
        "source_column": "kunde_id",
        "target_column": "customer_id",
        "label": 1,
        "features": dict.fromkeys(shipped.features, 0.5),
    }
    with store.session() as session:
        stored_feedback.add_feedback(session, store, [record])
    assert learning.origin_of(learning.organization_model(store)) == "learned"
    flags.set_flag(store, "learned_matcher", enabled=False)
    off = learning.organization_model(store)
    assert learning.origin_of(off) == "fuzzy" and off.info == shipped.info
    flags.set_flag(store, "learned_matcher", enabled=True)
    assert learning.origin_of(learning.organization_model(store)) == "learned"


def test_cli_flag_list_and_set(store, monkeypatch) -> None:
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_DATABASE_URL", store.settings.database_url.reveal())
    monkeypatch.setenv("WORKBENCH_USER", store.user)

    def run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    result = run("flag", "set", "experimental_engine", "on", "--user", "ann")
    assert result.exit_code == 0, result.output
    assert "on for ann and 0% of other users" in result.output
    result = run("--json", "flag", "list")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["experimental_engine"]["users"] == ["ann"]
    assert rows["experimental_engine"]["rollout"] == 0
    assert rows["learned_matcher"]["enabled"] is True
    result = run("flag", "set", "learned_matcher", "off")
    assert result.exit_code == 0 and "is off" in result.output
    assert flags.is_enabled(store, "learned_matcher") is False
    assert run("flag", "set", "learned_matcher", "maybe").exit_code == 2
