"""Valentine's matchers as baselines, run in their own virtualenv on our pairs.

Used by benchmarks/matching_heldout.py (``--valentine``) and benchmarks/matching_bench.py.

Valentine 1.0.1 (PyPI ``valentine``; its Coma is a pure-Python port of COMA 3.0, so no
Java is needed) requires ``python-dateutil<3``, and constraints.txt pins
``python-dateutil==4.0.0``: ``pip install -c constraints.txt valentine`` is
ResolutionImpossible, and installing it into .venv without the constraints would downgrade
dateutil under the rest of the project. So it lives in ``.venv-valentine`` (created on
first use by :func:`ensure_valentine`, with pip, from PyPI) and is driven through a
subprocess: the pairs are written as CSV files, the worker (this file, run by that
virtualenv's Python) matches each with each requested matcher and writes every scored
pair back as JSON.

Valentine's NLTK data cannot be downloaded here; :func:`nltk_data` builds what it asks
for: WordNet from Debian's ``wordnet-base`` and ``wordnet-sense-index`` (Cupid), NLTK's
English stop words (Coma's TF-IDF, Cupid) and an empty Punkt model (Cupid's tokenizer then
splits names with the Treebank rules alone).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VALENTINE_VENV = REPO / ".venv-valentine"
VALENTINE_PYTHON = VALENTINE_VENV / "bin" / "python"
VALENTINE_VERSION = "1.0.1"

WORDNET = Path("/usr/share/wordnet")  # Debian's wordnet-base and wordnet-sense-index

MATCHERS = (
    "Coma (schema)",
    "Coma (schema+instances)",
    "Cupid",
    "SimilarityFlooding",
    "DistributionBased",
    "JaccardDistance",
)


def ensure_valentine() -> Path:
    """The Python of .venv-valentine, created and filled with Valentine if missing."""
    if not VALENTINE_PYTHON.exists():
        print(f"creating {VALENTINE_VENV} with valentine=={VALENTINE_VERSION}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VALENTINE_VENV)], check=True)
    probe = subprocess.run(
        [str(VALENTINE_PYTHON), "-c", "import valentine"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        subprocess.run(
            [
                str(VALENTINE_PYTHON),
                "-m",
                "pip",
                "install",
                "-q",
                f"valentine=={VALENTINE_VERSION}",
            ],
            check=True,
        )
    return VALENTINE_PYTHON


def run_valentine(
    pairs: list, matchers: list[str], sample: int = 1000, timeout: float | None = None
) -> dict[str, list[dict]]:
    """Each matcher on each pair: {matcher: [{"matches", "ranked", "seconds"} per pair]}.

    ``matches`` is Valentine's own one-to-one selection (Hungarian, median-score threshold),
    ``ranked`` every pair it scored, best first. ``pairs`` need ``source``, ``target``
    (DataFrames), ``source_table`` and ``target_table``.
    """
    python = ensure_valentine()
    if "Cupid" in matchers and not (WORDNET / "index.sense").exists():
        sys.exit(
            "Valentine's Cupid needs WordNet: apt-get install wordnet-base wordnet-sense-index"
        )
    with tempfile.TemporaryDirectory(prefix="wbvalentine-") as tmp:
        folder = Path(tmp)
        for k, pair in enumerate(pairs):
            pair.source.to_csv(folder / f"{k}_source.csv", index=False)
            pair.target.to_csv(folder / f"{k}_target.csv", index=False)
        (folder / "pairs.json").write_text(
            json.dumps(
                [{"source": str(p.source_table), "target": str(p.target_table)} for p in pairs]
            )
        )
        subprocess.run(
            [
                str(python),
                str(Path(__file__).resolve()),
                "--valentine-worker",
                str(folder),
                json.dumps(matchers),
                str(sample),
            ],
            check=True,
            timeout=timeout,
            env={**os.environ, "NLTK_DATA": str(nltk_data())},
        )
        results: dict[str, list[dict]] = json.loads((folder / "results.json").read_text())
        return results


def nltk_data() -> Path:
    """The NLTK data Valentine asks for, built without a download.

    - WordNet (Cupid) from Debian's wordnet-base, copied (NLTK refuses symlinks out of
      its data folder), with the lexnames index written from the wndb man page's table;
    - the English stop words (Coma's TF-IDF, Cupid) from the list below;
    - an empty Punkt model (Cupid's word_tokenize): no learned abbreviations, which
      column names do not need; words are still split by the Treebank tokenizer.
    """
    root = VALENTINE_VENV / "nltk_data"
    stopwords = root / "corpora" / "stopwords"
    stopwords.mkdir(parents=True, exist_ok=True)
    (stopwords / "english").write_text("\n".join(_STOPWORDS_TEXT.split()) + "\n")
    punkt = root / "tokenizers" / "punkt_tab" / "english"
    punkt.mkdir(parents=True, exist_ok=True)
    for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
        (punkt / name).touch()
    wordnet = root / "corpora" / "wordnet"
    source = WORDNET
    if not (wordnet / "index.sense").exists() and (source / "index.sense").exists():
        import gzip
        import shutil

        wordnet.mkdir(parents=True, exist_ok=True)
        for path in source.iterdir():
            if path.is_file():
                shutil.copy(path, wordnet / path.name)
        pos = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
        with gzip.open("/usr/share/man/man5/lexnames.5WN.gz", "rt") as f:
            man = f.read()
        lines = []
        for m in re.finditer(r"^(\d\d)\t([a-z]+)\.(\w+)\s*\t", man, re.M):
            lines.append(f"{m.group(1)}\t{m.group(2)}.{m.group(3)}\t{pos[m.group(2)]}")
        (wordnet / "lexnames").write_text("\n".join(lines) + "\n")
    return root


# NLTK's English stop-word list (its stopwords corpus cannot be downloaded here).
_STOPWORDS_TEXT = """i me my myself we our ours ourselves you you're you've you'll you'd your
yours yourself yourselves he him his himself she she's her hers herself it it's its itself
they them their theirs themselves what which who whom this that that'll these those am is
are was were be been being have has had having do does did doing a an the and but if or
because as until while of at by for with about against between into through during before
after above below to from up down in out on off over under again further then once here
there when where why how all any both each few more most other some such no nor not only
own same so than too very s t can will just don don't should should've now d ll m o re ve
y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven
haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn
shouldn't wasn wasn't weren weren't won won't wouldn wouldn't"""


def valentine_worker(folder: str, matcher_names: str, sample: str) -> None:
    """Runs inside .venv-valentine: match every pair with each requested matcher."""
    import warnings

    warnings.filterwarnings("ignore")  # dateutil's noise while Valentine guesses dates
    import pandas as pd
    from valentine import valentine_match
    from valentine.algorithms import (
        Coma,
        Cupid,
        DistributionBased,
        JaccardDistanceMatcher,
        SimilarityFlooding,
    )

    factories = {
        "Coma (schema)": lambda: Coma(use_instances=False),
        "Coma (schema+instances)": lambda: Coma(use_instances=True),
        "Cupid": Cupid,
        "SimilarityFlooding": SimilarityFlooding,
        "DistributionBased": DistributionBased,
        "JaccardDistance": JaccardDistanceMatcher,
    }
    base = Path(folder)
    meta = json.loads((base / "pairs.json").read_text())
    frames = [
        (pd.read_csv(base / f"{k}_source.csv"), pd.read_csv(base / f"{k}_target.csv"))
        for k in range(len(meta))
    ]
    results: dict[str, list[dict]] = {}
    for name in json.loads(matcher_names):
        rows = []
        for (source, target), info in zip(frames, meta, strict=True):
            started = time.perf_counter()
            found = valentine_match(
                [source, target],
                factories[name](),
                df_names=[info["source"], info["target"] + "_t"],
                instance_sample_size=int(sample),
            )
            one_to_one = found.one_to_one_hungarian()
            elapsed = time.perf_counter() - started
            rows.append(
                {
                    "matches": [(p.source_column, p.target_column) for p in one_to_one],
                    "ranked": [
                        (p.source_column, p.target_column, float(v)) for p, v in found.items()
                    ],
                    "seconds": elapsed,
                }
            )
        results[name] = rows
        total = sum(r["seconds"] for r in rows)
        print(f"  valentine {name}: {total:.1f} s for {len(rows)} pairs", flush=True)
    (base / "results.json").write_text(json.dumps(results))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--valentine-worker":
        valentine_worker(*sys.argv[2:5])
