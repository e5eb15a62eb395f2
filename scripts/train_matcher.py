"""Train the matcher's default model: workbench/matching/default_model.json.

    .venv/bin/python scripts/train_matcher.py [--datasets DIR] [--seeds 4]

Training pairs are fabricated (Valentine style, see workbench.matching.fabricate) from
the TRAIN_TABLES of the shared Chinook and Sakila samples only. The benchmark
(benchmarks/matching_bench.py) evaluates on pairs fabricated from other tables
(TEST_TABLES) and on real cross-schema pairs among those test tables, so no test table
is ever seen in training. Seeds < last fit the model; the last seed tunes C and the
threshold; the final model is refit on all seeds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from workbench.matching import assign, candidates, fabricate, model, samples
from workbench.matching.fabricate import TEST_TABLES, TRAIN_TABLES


def pair_examples(pair: fabricate.MatchingPair) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and labels of all column pairs of one fabricated pair."""
    source = candidates.prepare_table(pair.source, pair.source_table, pair.source_types)
    target = candidates.prepare_table(pair.target, pair.target_table, pair.target_types)
    features = candidates.pair_features(source, target)
    labels = np.zeros(features.shape[:2])
    for s, t in pair.ground_truth:
        labels[source.columns.index(s), target.columns.index(t)] = 1
    return features, labels


def f1_at(
    examples: list[tuple[np.ndarray, np.ndarray]], m: model.MatcherModel, threshold: float
) -> float:
    tp = fp = fn = 0
    for features, labels in examples:
        chosen = assign.assign(m.predict(features), threshold)
        hits = sum(labels[i, j] for i, j in chosen)
        tp, fp, fn = tp + hits, fp + len(chosen) - hits, fn + labels.sum() - hits
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def stack(examples: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([f.reshape(-1, f.shape[-1]) for f, _ in examples])
    y = np.concatenate([lab.reshape(-1) for _, lab in examples])
    return x, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", help="folder with chinook.sqlite and the sakila scripts")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--out", default=str(model.DEFAULT_MODEL_PATH))
    args = parser.parse_args()

    started = time.perf_counter()
    tables = samples.load_all(args.datasets)
    views = fabricate.training_views(tables)
    tables.update(views)
    by_seed: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    for seed in range(args.seeds):
        for name in (*TRAIN_TABLES, *views):
            for kind in fabricate.KINDS:
                for noise in fabricate.SCHEMA_NOISE:
                    pair = fabricate.fabricate(tables[name], kind, noise, seed=seed)
                    by_seed.setdefault(seed, []).append(pair_examples(pair))
    fit_part = [e for s, ex in by_seed.items() if s < args.seeds - 1 for e in ex]
    tune_part = by_seed[args.seeds - 1]
    n_pairs = sum(len(v) for v in by_seed.values())
    print(f"{n_pairs} training pairs in {time.perf_counter() - started:.1f}s")

    best = (-1.0, 100, 0.5)
    x, y = stack(fit_part)
    for rounds in (100, 200, 400):
        trial = model.fit(x, y, candidates.FEATURES, candidates.MONOTONIC, max_iter=rounds)
        for threshold in np.arange(0.2, 0.85, 0.05):
            score = f1_at(tune_part, trial, float(threshold))
            if score > best[0]:
                best = (score, rounds, float(threshold))
    print(f"tuning: F1 {best[0]:.3f} with {best[1]} trees at threshold {best[2]:.2f}")

    x, y = stack(fit_part + tune_part)
    final = model.fit(
        x,
        y,
        candidates.FEATURES,
        candidates.MONOTONIC,
        max_iter=best[1],
        info={
            "trained_on": [*TRAIN_TABLES, *views],
            "held_out_for_benchmark": list(TEST_TABLES),
            "pairs": sum(len(v) for v in by_seed.values()),
            "examples": len(y),
            "tuning_f1": round(best[0], 4),
            "script": "scripts/train_matcher.py",
        },
    )
    final = final.with_threshold(round(best[2], 2))
    final.save(Path(args.out))
    elapsed = time.perf_counter() - started
    print(f"{len(final.trees)} trees; wrote {args.out} in {elapsed:.1f}s")


if __name__ == "__main__":
    main()
