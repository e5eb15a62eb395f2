"""Schema-matching benchmark: our matcher vs a rapidfuzz baseline vs Valentine's matchers.

Not the judge of our matcher: the shipped model is trained on every family of
benchmarks/matching_families.py, Chinook and Sakila included, so "ours" here is in-sample.
The held-out figure is benchmarks/matching_heldout.py's (leave one family out). This one
compares the same pairs with Valentine's matchers, which learn nothing from them.

    .venv/bin/python benchmarks/matching_bench.py            # everything (~10 min)
    .venv/bin/python benchmarks/matching_bench.py --no-valentine --seeds 1

Pairs:

- fabricated, Valentine style (workbench.matching.fabricate), from Chinook Customer,
  Employee, Invoice and Sakila customer, address, staff, payment, film; 4 split kinds x 3
  schema-noise levels per seed;
- real cross-schema pairs between Chinook and Sakila (REAL_PAIRS, ground truth by hand).

Metrics (micro-averaged over pairs): precision, recall and F1 of the one-to-one matches
each method returns, recall at ground-truth size (the top-|GT| scored pairs, before
one-to-one selection), seconds per pair, and "F1 orcl": F1 with the single global
threshold that suits the method best on these very pairs (an upper bound that needs the
ground truth). Valentine 1.0.1 runs in its own virtualenv (.venv-valentine: it pins
python-dateutil below our constraints; benchmarks/matching_valentine.py) through a
subprocess, on the same pairs written as CSV, with its default instance sample (1000
rows); its one-to-one results use its own default selection (Hungarian, median-score
threshold). The rapidfuzz baseline is fuzz.ratio on lower-cased raw names, Hungarian, threshold 0.5.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

REPO_ROOT = str(REPO)
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from benchmarks import matching_valentine as valentine  # noqa: E402
from benchmarks.matching_families import CROSS_PAIRS as REAL_PAIRS  # noqa: E402
from benchmarks.matching_families import sakila_views  # noqa: E402

# --- building the pairs ---------------------------------------------------------------


def build_pairs(datasets: str | None, seeds: int) -> list:
    from workbench.matching import fabricate, samples
    from workbench.matching.fabricate import TEST_TABLES

    tables = samples.load_all(datasets)
    tables.update(sakila_views(tables))
    pairs = []
    for seed in range(seeds):
        for name in TEST_TABLES:
            for kind in fabricate.KINDS:
                for noise in fabricate.SCHEMA_NOISE:
                    pairs.append(fabricate.fabricate(tables[name], kind, noise, seed=100 + seed))
    for label, s, t, truth in REAL_PAIRS:
        src, tgt = tables[s], tables[t]
        pairs.append(
            fabricate.MatchingPair(
                name=f"real/{label}",
                kind="real",
                source=src.frame,
                target=tgt.frame,
                source_table=src.name,
                target_table=tgt.name,
                ground_truth=set(truth),
                source_types=dict(src.declared),
                target_types=dict(tgt.declared),
            )
        )
    return pairs


# --- methods -------------------------------------------------------------------------------


def run_ours(pairs: list) -> list[dict]:
    import workbench.matching as m

    results = []
    for pair in pairs:
        options = dict(
            source_table=pair.source_table,
            target_table=pair.target_table,
            source_types=pair.source_types,
            target_types=pair.target_types,
        )
        started = time.perf_counter()
        found = m.match_frames(pair.source, pair.target, **options)
        elapsed = time.perf_counter() - started
        ranked = m.score_frames(pair.source, pair.target, **options)
        results.append(
            {
                "matches": [(s.source_column, s.target_column) for s in found],
                "ranked": [(s.source_column, s.target_column, s.confidence) for s in ranked],
                "seconds": elapsed,
            }
        )
    return results


def run_rapidfuzz(pairs: list, threshold: float = 0.5) -> list[dict]:
    """Baseline: rapidfuzz ratio on lower-cased raw names, Hungarian, fixed threshold."""
    import numpy as np
    from rapidfuzz import fuzz, process

    from workbench.matching.assign import assign

    results = []
    for pair in pairs:
        started = time.perf_counter()
        s_cols, t_cols = list(pair.source.columns), list(pair.target.columns)
        scores = (
            process.cdist(
                [c.lower() for c in s_cols], [c.lower() for c in t_cols], scorer=fuzz.ratio
            )
            / 100.0
        )
        chosen = assign(scores, threshold)
        elapsed = time.perf_counter() - started
        order = np.dstack(np.unravel_index(np.argsort(-scores, axis=None), scores.shape))[0]
        results.append(
            {
                "matches": [(s_cols[i], t_cols[j]) for i, j in chosen],
                "ranked": [(s_cols[i], t_cols[j], float(scores[i, j])) for i, j in order],
                "seconds": elapsed,
            }
        )
    return results


VALENTINE_MATCHERS = valentine.MATCHERS


def run_valentine(pairs: list, matchers: list[str], sample: int) -> dict[str, list[dict]]:
    """Valentine's matchers in their own virtualenv, on the same pairs written as CSV."""
    return valentine.run_valentine(pairs, matchers, sample)


# --- scoring -----------------------------------------------------------------------------


def score(pairs: list, results: list[dict]) -> dict[str, float]:
    tp = fp = fn = hits_at_gt = gt = 0
    for pair, result in zip(pairs, results, strict=True):
        truth = {tuple(x) for x in pair.ground_truth}
        found = {tuple(x) for x in result["matches"]}
        tp += len(found & truth)
        fp += len(found - truth)
        fn += len(truth - found)
        top = {(x[0], x[1]) for x in result["ranked"][: len(truth)]}
        hits_at_gt += len(top & truth)
        gt += len(truth)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    seconds = sum(r["seconds"] for r in results) / max(len(results), 1)
    return {"P": precision, "R": recall, "F1": f1, "R@GT": hits_at_gt / max(gt, 1), "s": seconds}


def oracle_f1(pairs: list, results: list[dict]) -> float:
    """F1 with the one global threshold that suits this method best on these very pairs.

    An upper bound no method could set without the ground truth; it shows how much of a
    gap is the selection step rather than the scores.
    """
    import numpy as np

    from workbench.matching.assign import assign

    matrices = []
    for pair, result in zip(pairs, results, strict=True):
        s_cols = sorted({x[0] for x in result["ranked"]})
        t_cols = sorted({x[1] for x in result["ranked"]})
        m = np.full((len(s_cols), len(t_cols)), -np.inf)
        for s, t, v in result["ranked"]:
            m[s_cols.index(s), t_cols.index(t)] = v
        matrices.append((s_cols, t_cols, m, pair.ground_truth))
    values = np.concatenate([m[np.isfinite(m)].ravel() for _, _, m, _ in matrices] or [[0.0]])
    best = 0.0
    for threshold in np.unique(np.quantile(values, np.linspace(0.0, 1.0, 101))):
        tp = fp = fn = 0
        for s_cols, t_cols, m, truth in matrices:
            chosen = {
                (s_cols[i], t_cols[j]) for i, j in assign(np.nan_to_num(m, neginf=-1.0), threshold)
            }
            tp += len(chosen & truth)
            fp += len(chosen - truth)
            fn += len(truth - chosen)
        best = max(best, 2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return best


def report(pairs: list, by_method: dict[str, list[dict]]) -> str:
    groups = {
        "all": [k for k in range(len(pairs))],
        "fabricated": [k for k, p in enumerate(pairs) if p.kind != "real"],
        "real": [k for k, p in enumerate(pairs) if p.kind == "real"],
    }
    header = (
        f"{'method':34s} {'P':>6s} {'R':>6s} {'F1':>6s} {'R@GT':>6s} {'F1 fab':>7s} "
        f"{'F1 real':>7s} {'s/pair':>7s} {'F1 orcl':>7s}"
    )
    lines = [header, "-" * len(header)]
    for method, results in by_method.items():
        sub = {
            g: score([pairs[k] for k in idx], [results[k] for k in idx])
            for g, idx in groups.items()
        }
        a = sub["all"]
        lines.append(
            f"{method:34s} {a['P']:6.3f} {a['R']:6.3f} {a['F1']:6.3f} {a['R@GT']:6.3f} "
            f"{sub['fabricated']['F1']:7.3f} {sub['real']['F1']:7.3f} {a['s']:7.3f} "
            f"{oracle_f1(pairs, results):7.3f}"
        )
    return "\n".join(lines)


def by_kind(pairs: list, by_method: dict[str, list[dict]]) -> str:
    kinds = sorted({p.kind for p in pairs})
    lines = [f"{'F1 by kind':34s} " + " ".join(f"{k[:12]:>12s}" for k in kinds)]
    for method, results in by_method.items():
        cells = []
        for kind in kinds:
            idx = [k for k, p in enumerate(pairs) if p.kind == kind]
            cells.append(score([pairs[k] for k in idx], [results[k] for k in idx])["F1"])
        lines.append(f"{method:34s} " + " ".join(f"{c:12.3f}" for c in cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", help="folder with chinook.sqlite and the sakila scripts")
    parser.add_argument("--seeds", type=int, default=1, help="fabrication seeds per table")
    parser.add_argument("--no-valentine", action="store_true")
    parser.add_argument("--valentine", default=",".join(VALENTINE_MATCHERS))
    parser.add_argument(
        "--instance-sample",
        type=int,
        default=1000,
        help="rows Valentine's instance matchers sample per column",
    )
    parser.add_argument("--details", action="store_true", help="list each pair's errors")
    args = parser.parse_args()

    pairs = build_pairs(args.datasets, args.seeds)
    n_fab = sum(p.kind != "real" for p in pairs)
    print(
        f"{len(pairs)} pairs: {n_fab} fabricated, {len(pairs) - n_fab} real; "
        f"{sum(len(p.ground_truth) for p in pairs)} true matches"
    )
    by_method = {"workbench (ours)": run_ours(pairs), "rapidfuzz baseline": run_rapidfuzz(pairs)}
    if not args.no_valentine:
        wanted = [m.strip() for m in args.valentine.split(",") if m.strip()]
        for name, rows in run_valentine(pairs, wanted, args.instance_sample).items():
            by_method[f"valentine {name}"] = rows
    print()
    print(report(pairs, by_method))
    print()
    print(by_kind(pairs, by_method))
    if args.details:
        ours = by_method["workbench (ours)"]
        for pair, result in zip(pairs, ours, strict=True):
            found = {tuple(x) for x in result["matches"]}
            missed, wrong = pair.ground_truth - found, found - pair.ground_truth
            if missed or wrong:
                print(f"{pair.name}: missed {sorted(missed)} wrong {sorted(wrong)}")


if __name__ == "__main__":
    main()
