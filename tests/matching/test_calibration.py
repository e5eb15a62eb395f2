"""The shipped model's confidences are calibrated: an increasing map from the trees' score,
fitted on held-out families (benchmarks/matching_heldout.py), kept in the model file."""

from __future__ import annotations

import numpy as np

from workbench import matching
from workbench.matching.model import MatcherModel


def test_the_shipped_model_carries_its_held_out_calibration():
    shipped = matching.default_model()
    xs, ys = shipped.calibration
    assert len(xs) == len(ys) >= 5
    assert list(xs) == sorted(xs) and list(ys) == sorted(ys)  # increasing: order is kept
    assert ys[0] >= 0.0 and ys[-1] <= 1.0
    assert "held_out_f1_macro" in shipped.info and 0.0 < shipped.threshold < 1.0
    raw = np.linspace(0, 1, 101)
    calibrated = shipped.calibrate(raw)
    assert np.all(np.diff(calibrated) >= 0)
    assert calibrated[-1] < 1.0  # nothing held out was right every time: no "100%"


def test_calibration_survives_a_round_trip_and_is_applied(tmp_path):
    base = matching.default_model()
    plain = MatcherModel(base.features, base.base_logit, base.trees)
    mapped = plain.with_calibration([0.0, 0.5, 1.0], [0.0, 0.2, 0.9])
    path = tmp_path / "m.json"
    mapped.save(path)
    loaded = MatcherModel.load(path)
    assert loaded.calibration == ((0.0, 0.5, 1.0), (0.0, 0.2, 0.9))
    features = np.random.default_rng(0).random((7, len(base.features)))
    raw = plain.predict(features)  # no map: the raw score
    assert np.allclose(plain.raw_scores(features), raw)
    assert np.allclose(loaded.predict(features), np.interp(raw, [0.0, 0.5, 1.0], [0.0, 0.2, 0.9]))
