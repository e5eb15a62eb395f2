"""Learning from the user: records, retraining, and its effect on unseen pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd

import workbench.matching as matching
from workbench.matching.feedback import FeedbackRecord, learned_synonyms, record_feedback, retrain


def _codes(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"PX{rng.integers(10, 99)}-{rng.integers(1000, 9999)}" for _ in range(n)]


def _pair(key: str, other: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Source ``key`` holds part codes. In the target, ``key`` holds regions and part codes
    of the same shape (other parts: the values do not overlap) sit under ``other``: the
    name points one way, the values' shape the other."""
    rng = np.random.default_rng(seed)
    n = 200
    parts = _codes(n, seed)
    source = pd.DataFrame({"item_id": np.arange(n), key: parts, "qty": rng.integers(1, 9, n)})
    target = pd.DataFrame(
        {
            "item_id": np.arange(n),
            key: rng.choice(["north", "south", "east", "west"], n),
            other: _codes(n, seed + 100),
            "qty": rng.integers(1, 9, n),
        }
    )
    return source, target


def _suggested(found: list[matching.Suggestion], source_column: str) -> str | None:
    return next((s.target_column for s in found if s.source_column == source_column), None)


def _confidence(model: matching.MatcherModel, source, target, pair: tuple[str, str]) -> float:
    ranked = matching.score_frames(source, target, model=model)
    return next(s.confidence for s in ranked if (s.source_column, s.target_column) == pair)


def test_a_correction_changes_the_suggestion_on_a_similar_unseen_pair() -> None:
    base = matching.default_model()
    # the user moves "code" from the name-alike "code" to "sku", where its values are
    source, target = _pair("code", "sku", seed=1)
    records = record_feedback(
        source, target, "correct", "code", "sku", suggested_target="code", model=base
    )
    assert [(r.target_column, r.label) for r in records] == [("code", 0), ("sku", 1)]
    learned = retrain(records, base)

    # an unseen pair with other names and other values, shaped alike
    unseen_source, unseen_target = _pair("ref", "part_no", seed=2)
    before = matching.match_frames(unseen_source, unseen_target, model=base)
    after = matching.match_frames(unseen_source, unseen_target, model=learned)
    assert _suggested(before, "ref") != "part_no"
    assert _suggested(after, "ref") == "part_no"
    pair = ("ref", "part_no")
    assert _confidence(learned, unseen_source, unseen_target, pair) > (
        _confidence(base, unseen_source, unseen_target, pair) + 0.3
    )
    # pairs the correction says nothing about keep their suggestions
    assert _suggested(after, "item_id") == "item_id"
    assert _suggested(after, "qty") == "qty"
    assert "feedback" in next(s for s in after if s.source_column == "ref").reasons


def test_accepting_a_renamed_pair_teaches_the_word() -> None:
    records = [
        FeedbackRecord("accept", "kunde_id", "customer_id", 1, {}),
        FeedbackRecord("reject", "kunde_id", "company_id", 0, {}),
        FeedbackRecord("accept", "OrderDate", "order_date", 1, {}),  # same words: nothing new
    ]
    assert learned_synonyms(records) == {"kunde": "customer"}

    rng = np.random.default_rng(3)
    source = pd.DataFrame({"kunde_name": rng.choice(["Anna", "Ben", "Carl"], 50)})
    target = pd.DataFrame(
        {
            "company_name": rng.choice(["Acme", "Globex"], 50),
            "customer_name": rng.choice(["Dora", "Emil"], 50),
        }
    )
    base = matching.default_model()
    learned = retrain([r for r in records if r.features] or [], base)  # no features: no change
    assert learned is base
    taught = matching.MatcherModel.from_dict(
        {**base.to_dict(), "synonyms": learned_synonyms(records)}
    )
    score_before = {
        (s.source_column, s.target_column): s.confidence
        for s in matching.score_frames(source, target)
    }
    score_after = {
        (s.source_column, s.target_column): s.confidence
        for s in matching.score_frames(source, target, model=taught)
    }
    pair = ("kunde_name", "customer_name")
    assert score_after[pair] > score_before[pair]
    assert (
        _suggested(matching.match_frames(source, target, model=taught), "kunde_name")
        == "customer_name"
    )


def test_records_round_trip_as_plain_dicts(source_people, target_people) -> None:
    records = record_feedback(source_people, target_people, "accept", "email", "email")
    again = [FeedbackRecord.from_dict(r.to_dict()) for r in records]
    assert again == records
    assert set(records[0].features) == set(matching.default_model().features)


def test_an_acceptance_keeps_its_rows_strongest_rivals_as_non_matches() -> None:
    """Accepting sku for code says the row's other candidates are not code's partner: the
    record carries their features (the suggestion it corrected is its own record)."""
    from workbench.matching import candidates
    from workbench.matching.feedback import RIVALS

    base = matching.default_model()
    source, target = _pair("code", "sku", seed=1)
    rejected, accepted = record_feedback(
        source, target, "correct", "code", "sku", suggested_target="code", model=base
    )
    assert rejected.rivals == ()
    others = len(target.columns) - 2  # neither sku (accepted) nor code (rejected itself)
    assert len(accepted.rivals) == min(RIVALS, others) == 2
    assert all(len(r) == len(candidates.FEATURES) for r in accepted.rivals)
    assert FeedbackRecord.from_dict(accepted.to_dict()) == accepted

    # the rivals are fitted as non-matches: without them the adjustment differs
    bare = FeedbackRecord(**{**accepted.to_dict(), "rivals": ()})
    with_rivals, without = retrain([rejected, accepted], base), retrain([rejected, bare], base)
    assert with_rivals.adjustment != without.adjustment
    x = np.array(accepted.rivals)
    assert with_rivals.logits(x).mean() < without.logits(x).mean()  # pushed further down
