"""The learned model that turns a pair's signal features into a confidence.

Gradient-boosted trees (scikit-learn's ``HistGradientBoostingClassifier``, monotone in
every similarity: more name or value agreement never lowers a confidence) over the
features of :mod:`candidates`. Trees let one signal count only when another allows it
(values decide when names are opaque, a name match needs compatible values).

The model is kept as plain numbers, so the shipped default (``default_model.json`` beside
this module, written by ``scripts/train_matcher.py``) loads without pickle. Each
suggestion's ``reasons`` split its logit exactly among the features (path attribution:
each split on the way to a leaf credits its feature with the change in expected value),
so the raw score is ``sigmoid(base_logit + sum(reasons))``. The confidence shown is that score
calibrated: an increasing map (isotonic regression) fitted on predictions for families of
data the model was not trained on (benchmarks/matching_heldout.py), so that "80%" means
about four in five such suggestions were right on data never seen.

Feedback (see :mod:`feedback`) adds a linear ``adjustment`` on top of the trees.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from workbench.errors import InvalidInputError

DEFAULT_MODEL_PATH = Path(__file__).with_name("default_model.json")


@dataclass(frozen=True)
class Tree:
    """One regression tree as arrays; ``value`` is the expected logit share at each node."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    is_leaf: np.ndarray
    value: np.ndarray

    def to_dict(self) -> dict[str, list]:
        return {
            "feature": self.feature.tolist(),
            "threshold": [round(float(t), 6) for t in self.threshold],
            "left": self.left.tolist(),
            "right": self.right.tolist(),
            "is_leaf": self.is_leaf.astype(int).tolist(),
            "value": [round(float(v), 6) for v in self.value],
        }

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> Tree:
        return cls(
            feature=np.asarray(data["feature"], dtype=np.int64),
            threshold=np.asarray(data["threshold"], dtype=np.float64),
            left=np.asarray(data["left"], dtype=np.int64),
            right=np.asarray(data["right"], dtype=np.int64),
            is_leaf=np.asarray(data["is_leaf"], dtype=bool),
            value=np.asarray(data["value"], dtype=np.float64),
        )

    @functools.cached_property
    def _walk(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """The tree with each leaf leading to itself (feature 0, threshold +inf), so that
        every row takes ``depth`` steps with no test for having arrived: half the array
        operations of walking until all rows sit on leaves."""
        feature = np.where(self.is_leaf, 0, self.feature)
        threshold = np.where(self.is_leaf, np.inf, self.threshold)
        nodes = np.arange(len(self.is_leaf))
        left = np.where(self.is_leaf, nodes, self.left)
        right = np.where(self.is_leaf, nodes, self.right)
        depth, level = 0, np.zeros(1, dtype=np.int64)
        while not self.is_leaf[level].all():
            inner = level[~self.is_leaf[level]]
            level = np.concatenate([self.left[inner], self.right[inner]])
            depth += 1
        return feature, threshold, left, right, depth

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """Leaf index of each row of ``x`` (rows of features)."""
        return self.leaves_by_column(np.ascontiguousarray(x.T, dtype=np.float64).ravel(), len(x))

    def leaves_by_column(self, columns: np.ndarray, n: int) -> np.ndarray:
        """Leaf index of each of ``n`` rows, their features given column after column
        (``columns[f * n + row]``): rows at one node read one feature, close together."""
        feature, threshold, left, right, depth = self._walk
        offset = feature * n
        rows = np.arange(n)
        root = columns[offset[0] : offset[0] + n] <= threshold[0]  # every row: one slice
        node = np.where(root, left[0], right[0])
        for _ in range(depth - 1):
            go_left = columns[offset[node] + rows] <= threshold[node]
            node = np.where(go_left, left[node], right[node])
        return node

    def add_path_contributions(self, rows: np.ndarray, out: np.ndarray) -> None:
        """:meth:`path_contributions` of many rows at once (``out``: rows x features)."""
        feature, threshold, left, right, depth = self._walk
        flat = np.ascontiguousarray(rows, dtype=np.float64).ravel()
        index = np.arange(len(rows))
        starts = index * rows.shape[1]
        node = np.zeros(len(rows), dtype=np.int64)
        for _ in range(depth):
            child = np.where(
                flat[starts + feature[node]] <= threshold[node], left[node], right[node]
            )
            inner = ~self.is_leaf[node]  # a row on its leaf already adds nothing
            at = node[inner]
            out[index[inner], self.feature[at]] += self.value[child[inner]] - self.value[at]
            node = child

    def path_contributions(self, row: np.ndarray, out: np.ndarray) -> None:
        """Add each split feature's change in expected value along ``row``'s path."""
        node = 0
        while not self.is_leaf[node]:
            child = (
                self.left[node]
                if row[self.feature[node]] <= self.threshold[node]
                else self.right[node]
            )
            out[self.feature[node]] += self.value[child] - self.value[node]
            node = child


@dataclass(frozen=True)
class MatcherModel:
    """Trees, a base logit, the acceptance threshold, and what feedback taught."""

    features: tuple[str, ...]
    base_logit: float
    trees: tuple[Tree, ...]
    threshold: float = 0.5
    adjustment: tuple[float, ...] = ()  # per-feature linear correction from feedback
    adjustment_intercept: float = 0.0
    synonyms: dict[str, str] = field(default_factory=dict)  # learned name rewrites
    info: dict[str, Any] = field(default_factory=dict)  # how it was trained
    # raw score -> calibrated confidence, as increasing knots (empty: the raw score)
    calibration: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())

    def tree_logits(self, features: np.ndarray) -> np.ndarray:
        """The trees' logits (no feedback adjustment) for rows of shape (..., n_features)."""
        rows = features.reshape(-1, features.shape[-1])
        columns = np.ascontiguousarray(rows.T, dtype=np.float64).ravel()
        total = np.full(len(rows), self.base_logit)
        for tree in self.trees:
            total += tree.value[tree.leaves_by_column(columns, len(rows))] - tree.value[0]
        return total.reshape(features.shape[:-1])

    def logits(self, features: np.ndarray) -> np.ndarray:
        out = self.tree_logits(features)
        if self.adjustment:
            out = out + features @ np.asarray(self.adjustment) + self.adjustment_intercept
        return out

    def raw_scores(self, features: np.ndarray) -> np.ndarray:
        """The trees' (and feedback's) scores in [0, 1], before calibration."""
        return 1.0 / (1.0 + np.exp(-self.logits(features)))

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Calibrated confidences in [0, 1] for feature rows of shape (..., n_features)."""
        return self.calibrate(self.raw_scores(features))

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        xs, ys = self.calibration
        return np.interp(raw, xs, ys) if xs else raw

    def with_calibration(self, xs: Any, ys: Any) -> MatcherModel:
        knots = (tuple(float(x) for x in xs), tuple(float(y) for y in ys))
        return replace(self, calibration=knots)

    def contributions(self, row: np.ndarray) -> dict[str, float]:
        """Each feature's additive share of one pair's logit (near-zero shares left out)."""
        return self.contributions_many(np.asarray(row)[None, :])[0]

    def contributions_many(self, rows: np.ndarray) -> list[dict[str, float]]:
        """:meth:`contributions` of each row of ``rows`` (pairs x features)."""
        parts = np.zeros((len(rows), len(self.features)))
        for tree in self.trees:
            tree.add_path_contributions(rows, parts)
        out = []
        for row, shares in zip(rows, parts, strict=True):
            reasons = {f: round(float(v), 3) for f, v in zip(self.features, shares, strict=True)}
            if self.adjustment:
                for f, v in zip(self.features, row * np.asarray(self.adjustment), strict=True):
                    reasons[f] = round(reasons[f] + float(v), 3)
                reasons["feedback"] = round(self.adjustment_intercept, 3)
            out.append({f: v for f, v in reasons.items() if abs(v) >= 0.001})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "boosted-trees",
            "features": list(self.features),
            "base_logit": self.base_logit,
            "threshold": self.threshold,
            "adjustment": list(self.adjustment),
            "adjustment_intercept": self.adjustment_intercept,
            "synonyms": dict(self.synonyms),
            "info": dict(self.info),
            "calibration": [list(self.calibration[0]), list(self.calibration[1])],
            "trees": [t.to_dict() for t in self.trees],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatcherModel:
        return cls(
            features=tuple(data["features"]),
            base_logit=float(data["base_logit"]),
            trees=tuple(Tree.from_dict(t) for t in data["trees"]),
            threshold=float(data.get("threshold", 0.5)),
            adjustment=tuple(float(v) for v in data.get("adjustment", ())),
            adjustment_intercept=float(data.get("adjustment_intercept", 0.0)),
            synonyms=dict(data.get("synonyms", {})),
            info=dict(data.get("info", {})),
            calibration=tuple(
                tuple(float(v) for v in k) for k in data.get("calibration", ((), ()))
            ),  # type: ignore[arg-type]
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), separators=(",", ":")) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> MatcherModel:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def with_threshold(self, threshold: float) -> MatcherModel:
        return replace(self, threshold=threshold)

    def check_features(self, expected: tuple[str, ...]) -> None:
        """Refuse a model trained on other features than the code computes."""
        if self.features != expected:
            raise InvalidInputError(
                "The matching model was trained on other features than this version "
                "computes; retrain it with scripts/train_matcher.py",
                expected=expected,
                found=self.features,
            )


@lru_cache(maxsize=1)
def default_model() -> MatcherModel:
    """The model shipped with the package."""
    return MatcherModel.load(DEFAULT_MODEL_PATH)


def _export_tree(nodes: np.ndarray) -> Tree:
    """A fitted scikit-learn tree predictor as a :class:`Tree` with expected node values."""
    value = nodes["value"].astype(np.float64).copy()
    count = nodes["count"].astype(np.float64)
    is_leaf = nodes["is_leaf"].astype(bool)
    left, right = nodes["left"].astype(np.int64), nodes["right"].astype(np.int64)
    # children come after their parent: fill inner nodes bottom-up with the
    # count-weighted mean of their children (scikit-learn keeps unshrunk values there)
    for k in range(len(nodes) - 1, -1, -1):
        if not is_leaf[k]:
            lc, rc = count[left[k]], count[right[k]]
            value[k] = (value[left[k]] * lc + value[right[k]] * rc) / max(lc + rc, 1.0)
    return Tree(
        feature=nodes["feature_idx"].astype(np.int64),
        threshold=nodes["num_threshold"].astype(np.float64),
        left=left,
        right=right,
        is_leaf=is_leaf,
        value=value,
    )


def fit(
    features: np.ndarray,
    labels: np.ndarray,
    feature_names: tuple[str, ...],
    monotonic: dict[str, int] | None = None,
    max_iter: int = 200,
    info: dict[str, Any] | None = None,
) -> MatcherModel:
    """Fit boosted trees on feature rows and 0/1 labels; monotone as ``monotonic`` says."""
    signs = [int((monotonic or {}).get(f, 0)) for f in feature_names]
    clf = HistGradientBoostingClassifier(
        max_iter=max_iter,
        max_depth=4,
        learning_rate=0.1,
        min_samples_leaf=40,
        l2_regularization=1.0,
        monotonic_cst=signs,
        early_stopping=False,
        random_state=0,
    )
    clf.fit(features, labels)
    trees = tuple(_export_tree(p[0].nodes) for p in clf._predictors)
    base = float(np.ravel(clf._baseline_prediction)[0]) + sum(float(t.value[0]) for t in trees)
    model = MatcherModel(features=feature_names, base_logit=base, trees=trees, info=info or {})
    check = features[: min(len(features), 2000)]
    if not np.allclose(model.logits(check), clf.decision_function(check), atol=1e-4):
        raise AssertionError("exported trees disagree with the fitted model")
    return model
