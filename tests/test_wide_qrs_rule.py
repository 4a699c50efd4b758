"""The wide-QRS rule: which S calls it relabels V, where it sits among the rules, and that it travels with the model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.atrial_rule import AtrialRule, DecisionRules, decide_classes
from models.train import TrainingConfig
from models.wide_qrs_rule import FEATURES, WideQrsRule, find_wide_beats
from pipeline.labels import AAMI_CLASSES

N, S, V = (AAMI_CLASSES.index(c) for c in "NSV")
NAMES = FEATURES + ("p_corr_best", "p_template_quality", "rr_pre_local_ratio")
WIDE = {"qrs_width_diff_ms": 30.0, "qrs_corr_lead0": 0.8, "rhythm_af_score_rel": 0.0}
S_CALL = [0.1, 0.8, 0.08, 0.01, 0.01]


def features_for(rows: list[dict]) -> np.ndarray:
    return np.array([[row.get(name, 1.0) for name in NAMES] for row in rows], dtype=np.float32)


@pytest.mark.parametrize("change", [
    {"qrs_width_diff_ms": 5.0},        # conducted: about as wide as the dominant beat
    {"qrs_corr_lead0": 0.97},          # shaped like the dominant beat
    {"rhythm_af_score_rel": 0.2},      # in fibrillation-like rhythm (aberrant conduction is common there)
    {"qrs_width_diff_ms": math.nan},   # width not measured
])
def test_each_condition_is_needed(change):
    features = features_for([WIDE, {**WIDE, **change}])
    assert find_wide_beats(features, NAMES, WideQrsRule()).tolist() == [True, False]


def test_only_s_calls_become_v_and_the_probabilities_stay():
    features = features_for([WIDE] * 3)
    probabilities = np.array([S_CALL, [0.8, 0.1, 0.08, 0.01, 0.01], [0.2, 0.05, 0.05, 0.69, 0.01]], np.float32)
    before = probabilities.copy()
    decision = decide_classes(probabilities, features, NAMES, None, wide_rule=WideQrsRule())
    assert decision.classes.tolist() == [V, N, AAMI_CLASSES.index("F")]
    assert decision.wide.tolist() == [True, False, False]
    np.testing.assert_array_equal(probabilities, before)
    without = decide_classes(probabilities, features, NAMES, None)
    assert without.classes.tolist() == [S, N, AAMI_CLASSES.index("F")] and not without.wide.any()


def test_it_follows_the_atrial_rule():
    """An N call the atrial rule makes S keeps S (the atrial rule asks for the dominant QRS, so the two rules cannot
    meet on one beat), and a wide S call becomes V."""
    atrial = {"qrs_width_diff_ms": 0.0, "qrs_corr_lead0": 0.99, "rhythm_af_score_rel": 0.0, "p_corr_best": 0.1,
              "p_template_quality": 0.9, "rr_pre_local_ratio": 0.8}
    features = features_for([atrial, WIDE])
    probabilities = np.array([[0.8, 0.1, 0.08, 0.01, 0.01], S_CALL], np.float32)
    decision = decide_classes(probabilities, features, NAMES, AtrialRule(), wide_rule=WideQrsRule())
    assert decision.classes.tolist() == [S, V]
    assert decision.atrial.tolist() == [True, False] and decision.wide.tolist() == [False, True]


def test_rule_comes_from_the_model_settings_and_the_training_configuration():
    assert WideQrsRule.from_settings({}) is None
    assert DecisionRules.from_settings({}).wide_rule is None
    rule = WideQrsRule(width_diff_min_ms=20.0)
    assert DecisionRules.from_settings({"wide_qrs_rule": rule.to_dict()}).wide_rule == rule
    config = TrainingConfig(wide_qrs_rule=rule)
    assert TrainingConfig.from_dict(config.to_dict()) == config
    assert "wide_qrs_rule" not in TrainingConfig().to_dict()  # configurations without it serialise as before
    with pytest.raises(ValueError, match="qrs_corr_max"):
        WideQrsRule(qrs_corr_max=2.0)


def test_missing_features_are_reported():
    with pytest.raises(ValueError, match="rhythm_af_score_rel"):
        find_wide_beats(np.zeros((1, 2), np.float32), FEATURES[:2], WideQrsRule())


@pytest.mark.mitdb
def test_real_ventricular_beats_are_wide_and_real_supraventricular_beats_are_not(mitdb_dir):
    """At the reference beats of DS1 records, on their own features: most of record 119's and 223's ventricular
    beats meet the rule's conditions (223's ventricular tachycardia alternates between two shapes, one close to
    the dominant beat, which the networks call S out of fold), and almost none of the supraventricular beats of
    records 209 and 220 (atrial premature beats and supraventricular tachycardia, conducted normally) do."""
    from models.bundled import BUNDLED_MODEL
    from models.prepare import InputSettings, prepare_reference_beats
    from models.registry import load_model
    from pipeline.records import read_record

    settings = InputSettings.from_dict(load_model(BUNDLED_MODEL).settings["inputs"])

    def wide_share(name: str, cls: int) -> tuple[float, int]:
        prepared, labels = prepare_reference_beats(read_record(mitdb_dir / name), settings)
        wide = find_wide_beats(prepared.inputs.features, prepared.inputs.feature_names, WideQrsRule())
        return float(wide[labels == cls].mean()), int((labels == cls).sum())

    for name, least in (("119", 0.9), ("223", 0.5)):  # 0.97 and 0.61 of 444 and 473
        share, count = wide_share(name, V)
        assert count > 400 and share >= least, (name, share, count)
    for name in ("209", "220"):  # none of 383 and 94
        share, count = wide_share(name, S)
        assert count > 90 and share <= 0.02, (name, share, count)
