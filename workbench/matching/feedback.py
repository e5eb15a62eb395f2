"""Learning from the user: accept, reject and correct events, and retraining from them.

An event becomes one or two plain :class:`FeedbackRecord` rows (the pair, a 0/1 label and
the pair's signal features at decision time), easy to keep in the store per
organization. :func:`retrain` returns a new model from the shipped one plus all records:

- a linear adjustment on top of the shipped trees, fitted to the records with a pull
  towards "no change" (so a few records nudge, many records steer), which moves every
  similar pair the same way: a correction that prefers matching values over a matching
  name makes the model prefer values on the next schema too. An acceptance also says that
  the row's other strong candidates are *not* the column's partner: each accepted pair
  keeps the features of its row's strongest rivals (``RIVALS``), fitted as non-matches.
  Without them, an adjustment fitted to decided pairs alone lifted look-alike non-matches
  on other tables (held out by family: F1 down 0.01 to 0.10 on the tables not reviewed;
  with them, 0 to +0.02, benchmarks/matching_heldout.py --feedback);
- learned name rewrites: an accepted or corrected pair whose names differ in one word
  ("kunde_id" -> "customer_id") teaches "kunde" = "customer" for every later name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from workbench.errors import InvalidInputError
from workbench.matching import candidates, names
from workbench.matching.model import MatcherModel, default_model

ACTIONS = ("accept", "reject", "correct")
RIVALS = 10  # a row's strongest other candidates kept with an accepted pair


@dataclass(frozen=True)
class FeedbackRecord:
    """One labelled pair: what the user said about (source_column, target_column)."""

    action: str  # accept, reject, correct
    source_column: str
    target_column: str
    label: int  # 1: these belong together, 0: they do not
    features: dict[str, float]
    source_table: str | None = None
    target_table: str | None = None
    # for an accepted pair: its row's strongest other candidates (feature vectors in the
    # order of ``features``), which the acceptance says are not the column's partner
    rivals: tuple[tuple[float, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeedbackRecord:
        found = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        found["rivals"] = tuple(tuple(float(v) for v in r) for r in found.get("rivals") or ())
        return cls(**found)


def record_feedback(
    source_df: pd.DataFrame,
    target_df: pd.DataFrame,
    action: str,
    source_column: str,
    target_column: str,
    *,
    suggested_target: str | None = None,
    source_table: str | None = None,
    target_table: str | None = None,
    source_types: Mapping[str, str] | None = None,
    target_types: Mapping[str, str] | None = None,
    model: MatcherModel | None = None,
) -> list[FeedbackRecord]:
    """Records for one decision on a suggestion.

    ``accept`` and ``reject`` are about (source_column, target_column); ``correct`` means
    the user moved source_column from ``suggested_target`` to target_column, which
    yields a rejection of the suggestion and an acceptance of the user's choice.
    """
    if action not in ACTIONS:
        raise InvalidInputError(f"Unknown feedback action {action!r}; use one of {ACTIONS}")
    if action == "correct" and not suggested_target:
        raise InvalidInputError("A correction needs suggested_target, the rejected suggestion")
    chosen = model or default_model()
    source = candidates.prepare_table(
        source_df, source_table, source_types, chosen.synonyms or None
    )
    target = candidates.prepare_table(
        target_df, target_table, target_types, chosen.synonyms or None
    )
    for column, side in ((source_column, source), (target_column, target)):
        if column not in side.columns:
            raise InvalidInputError(f"Column {column!r} is not in the given frame")
    features = candidates.pair_features(source, target)
    i = source.columns.index(source_column)

    def record(target_name: str, label: int) -> FeedbackRecord:
        j = target.columns.index(target_name)
        rivals: tuple[tuple[float, ...], ...] = ()
        if label == 1:
            explicit = {j, *([target.columns.index(suggested_target)] if suggested_target else [])}
            order = np.argsort(-chosen.predict(features[i]))
            rivals = tuple(
                tuple(round(float(v), 6) for v in features[i, k])
                for k in [int(k) for k in order if int(k) not in explicit][:RIVALS]
            )
        return FeedbackRecord(
            action=action,
            source_column=source_column,
            target_column=target_name,
            label=label,
            features={
                f: round(float(v), 6)
                for f, v in zip(candidates.FEATURES, features[i, j], strict=True)
            },
            source_table=source_table,
            target_table=target_table,
            rivals=rivals,
        )

    if action == "accept":
        return [record(target_column, 1)]
    if action == "reject":
        return [record(target_column, 0)]
    return [record(str(suggested_target), 0), record(target_column, 1)]


def learned_synonyms(records: Iterable[FeedbackRecord]) -> dict[str, str]:
    """Word rewrites taught by accepted pairs whose names differ in exactly one word."""
    learned: dict[str, str] = {}
    for rec in records:
        if rec.label != 1:
            continue
        a = names.expand(names.split_name(rec.source_column))
        b = names.expand(names.split_name(rec.target_column))
        if len(a) != len(b) or a == b:
            continue
        diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        if len(diff) == 1 and not any(w.isdigit() for w in diff[0]):
            learned[diff[0][0]] = diff[0][1]
    return learned


def retrain(
    feedback_records: Iterable[FeedbackRecord],
    base_model: MatcherModel | None = None,
    strength: float = 1.0,
) -> MatcherModel:
    """A new model: ``base_model`` adjusted to all feedback records so far.

    ``strength`` is how much the records count against the pull towards the base model
    (higher follows the user faster). Each record's weight falls with the square root of
    their number, so one decision moves the next suggestion and a thousand do not swamp
    what the trees know.
    """
    base = base_model or default_model()
    records = list(feedback_records)
    if not records:
        return base
    # a feature added after a record was stored counts as no evidence (0) for that record
    rows = [[r.features.get(f, 0.0) for f in base.features] for r in records]
    labels = [float(r.label) for r in records]
    for r in records:
        if r.rivals and len(r.rivals[0]) == len(base.features):
            rows += [list(v) for v in r.rivals]
            labels += [0.0] * len(r.rivals)
    x = np.array(rows, dtype=np.float64)
    y = np.array(labels, dtype=np.float64)
    offset = base.tree_logits(x)
    weight = 20.0 * strength / np.sqrt(len(y))  # the records against a unit pull to no change

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        z = offset + x @ w + b
        p = 1.0 / (1.0 + np.exp(-z))
        nll = np.sum(np.logaddexp(0.0, z) - y * z)
        grad_z = p - y
        grad = np.concatenate([x.T @ grad_z, [grad_z.sum()]]) * weight + params
        return float(nll * weight + 0.5 * params @ params), grad

    start = np.zeros(x.shape[1] + 1)
    fitted = minimize(loss, start, jac=True, method="L-BFGS-B").x
    return replace(
        base,
        adjustment=tuple(float(v) for v in fitted[:-1]),
        adjustment_intercept=float(fitted[-1]),
        synonyms={**base.synonyms, **learned_synonyms(records)},
        info={**base.info, "feedback_records": len(records)},
    )
