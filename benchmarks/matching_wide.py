"""A 300-column x 300-column match, timed end to end, with where the time goes.

    .venv/bin/python benchmarks/matching_wide.py              # ~1 min with the set-up
    .venv/bin/python benchmarks/matching_wide.py --profile    # and cProfile's top functions

The wide table is built from real columns: every column of the tables of the matching
families (Chinook, Sakila with its views, statsmodels, scikit-learn, generated people;
benchmarks/matching_families.py) in turn, named ``<table>_<column>``, until there are
300, each resampled to 2,000 rows (with replacement where the table is shorter). The
fabricator (workbench/matching/fabricate.py) then makes the pair as another system would
hold the same data: a unionable split (1,000 rows each side, all 300 columns on both),
noisy target names (abbreviations, typos, case styles, synonyms), values in other formats,
the target's columns in another order. The ground truth is known from that construction.

Printed: the median of 3 timed ``workbench.matching.match_frames`` calls (the default
sample of 1,000 values per column, as profiling's matcher reads them), precision and recall
of its suggestions, and the same work split by step (names, value profiles, name/type/value
features, model, assignment, explanations), timed separately in CPU seconds (the machine may
be shared: wall time then follows the load, CPU time less so).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.matching_families import load_families  # noqa: E402
from workbench import matching  # noqa: E402
from workbench.matching import assign, candidates, fabricate, instances, names, types  # noqa: E402
from workbench.matching import rows as row_evidence  # noqa: E402
from workbench.matching.fabricate import MatchingPair  # noqa: E402
from workbench.matching.samples import SampleTable  # noqa: E402

WIDTH = 300
ROWS = 2000  # split in two halves of 1,000


def _snake(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", re.sub(r"(?<=[a-z])(?=[A-Z])", "_", text).lower()).strip("_")


def wide_table(width: int = WIDTH, rows: int = ROWS, seed: int = 0) -> SampleTable:
    """``width`` real columns side by side, each resampled to ``rows`` rows."""
    rng = np.random.default_rng(seed)
    columns: dict[str, pd.Series] = {}
    declared: dict[str, str] = {}
    for family in load_families().values():
        for table in family.tables.values():
            short = _snake(table.name.split(".")[-1])
            for column in table.frame.columns:
                series = table.frame[column]
                if len(columns) == width or series.notna().sum() == 0:
                    continue
                name = f"{short}_{_snake(str(column))}"
                if name in columns:
                    continue
                picks = rng.choice(len(series), rows, replace=len(series) < rows)
                columns[name] = series.iloc[picks].reset_index(drop=True)
                declared[name] = table.declared.get(str(column), "varchar(255)")
    frame = pd.DataFrame(columns)
    return SampleTable("wide", frame, declared)


def wide_pair(seed: int = 0) -> MatchingPair:
    table = wide_table(seed=seed)
    return fabricate.fabricate(
        table, "unionable", "noisy", seed=seed, value_noise=True, drift=False, max_rows=ROWS
    )


def run(pair: MatchingPair) -> list[matching.Suggestion]:
    return matching.match_frames(
        pair.source,
        pair.target,
        source_table=pair.source_table,
        target_table=pair.target_table,
        source_types=pair.source_types,
        target_types=pair.target_types,
    )


def _families(columns: list[str], declared: dict[str, str]) -> list[str]:
    return [types.family(declared.get(c, "text")) for c in columns]


def steps(pair: MatchingPair) -> dict[str, float]:
    """The work of one match_frames call, step by step (seconds)."""
    model = matching.default_model()
    out: dict[str, float] = {}

    def timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
        started = time.process_time()  # CPU: what the step costs, whatever else runs
        result = fn(*args)
        out[label] = out.get(label, 0.0) + time.process_time() - started
        return result

    sides = []
    for df, table, declared in (
        (pair.source, pair.source_table, pair.source_types),
        (pair.target, pair.target_table, pair.target_types),
    ):
        cols = [str(c) for c in df.columns]
        normalized = timed("names: normalize", names.normalize_columns, cols, table, None)
        profiles = timed("values: profile columns", instances.profile_frame, df, 1000)
        families = timed("types: families", _families, cols, declared)
        records = timed("rows: sample", row_evidence.row_sample, df)
        sides.append(candidates.PreparedTable(table, cols, normalized, profiles, families, records))
    source, target = sides
    timed("names: similarities", names.name_similarities, source.names, target.names)
    timed("values: similarities", instances.value_similarities, source.profiles, target.profiles)
    started = time.process_time()
    features = candidates.pair_features(source, target)
    whole = time.process_time() - started
    out["features: margins, types, stacking"] = max(
        0.0, whole - out["names: similarities"] - out["values: similarities"]
    )
    scores = timed("model: predict", model.predict, features)
    pairs = timed("assignment", assign.assign, scores, model.threshold)
    if pairs:
        rows, cols = np.array(pairs).T
        timed("explanations (reasons)", model.contributions_many, features[rows, cols])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile's top 20 functions")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    pair = wide_pair()
    print(
        f"pair: {pair.source.shape[1]} x {pair.target.shape[1]} columns,"
        f" {len(pair.source)} + {len(pair.target)} rows,"
        f" {len(pair.ground_truth)} true pairs (built in {time.perf_counter() - started:.1f} s)"
    )
    run(pair)  # warm: the model file, Faker's name and place lists, imports
    times, cpu, found = [], [], []
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        found = run(pair)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    got = {(s.source_column, s.target_column) for s in found}
    right = len(got & pair.ground_truth)
    print(
        f"match_frames: median {statistics.median(times):.2f} s of {args.repeat}"
        f" ({', '.join(f'{t:.2f}' for t in times)}; CPU {statistics.median(cpu):.2f} s,"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores);"
        f" {len(got)} suggested, {right} right: precision {right / max(len(got), 1):.3f},"
        f" recall {right / len(pair.ground_truth):.3f}"
    )
    parts = steps(pair)
    total = sum(parts.values())
    print(f"where the time goes (one call, steps timed apart, CPU: {total:.2f} s):")
    for label, seconds in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"  {label:<36} {seconds:6.2f} s  {seconds / total:5.1%}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run(pair)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(20)


if __name__ == "__main__":
    main()
