"""The atrial-origin rule: which beats it relabels, and that it travels with the model."""

from __future__ import annotations

import numpy as np
import pytest

from models.atrial_rule import FEATURES, AtrialRule, DecisionRules, decide_classes, find_atrial_beats, network_classes

NAMES = ("rr_post_pre_ratio",) + FEATURES
ATRIAL = {"p_corr_best": 0.05, "p_template_quality": 0.9, "rhythm_af_score_rel": 0.01, "qrs_corr_lead0": 0.99,
          "rr_pre_local_ratio": 0.98}


def features_for(rows: list[dict]) -> np.ndarray:
    return np.array([[row.get(name, 1.0) for name in NAMES] for row in rows], dtype=np.float32)


@pytest.mark.parametrize("change", [
    {"p_corr_best": 0.9},            # sinus-like P wave
    {"p_template_quality": 0.3},     # no clear sinus P template (e.g. AF throughout)
    {"rhythm_af_score_rel": 0.09},   # fibrillation-like rhythm around the beat
    {"qrs_corr_lead0": 0.6},         # aberrant / ventricular-looking QRS
    {"rr_pre_local_ratio": 1.4},     # late beat: an escape, not an ectopic
])
def test_each_condition_is_needed(change):
    features = features_for([ATRIAL, {**ATRIAL, **change}])
    assert find_atrial_beats(features, NAMES, AtrialRule()).tolist() == [True, False]


def test_only_beats_the_network_calls_n_are_relabelled():
    features = features_for([ATRIAL] * 3)
    probabilities = np.array([[0.9, 0.05, 0.03, 0.01, 0.01],   # N -> S
                              [0.1, 0.1, 0.78, 0.01, 0.01],    # V stays V
                              [0.2, 0.7, 0.08, 0.01, 0.01]], np.float32)  # S stays S
    decision = decide_classes(probabilities, features, NAMES, AtrialRule())
    assert decision.atrial.tolist() == [True, False, False]
    assert decision.classes.tolist() == [1, 2, 1]
    assert not decide_classes(probabilities, features, NAMES, None).atrial.any()


def test_weak_v_calls_give_way_to_the_next_class():
    probabilities = np.array([[0.30, 0.05, 0.55, 0.09, 0.01],   # weak V -> N
                              [0.05, 0.02, 0.90, 0.02, 0.01],   # confident V stays
                              [0.10, 0.05, 0.50, 0.34, 0.01]], np.float32)  # weak V -> F
    assert network_classes(probabilities).tolist() == [2, 2, 2]
    assert network_classes(probabilities, 0.6).tolist() == [0, 2, 3]
    features = features_for([ATRIAL] * 3)  # a weak V that falls back to N can then meet the atrial rule
    decision = decide_classes(probabilities, features, NAMES, AtrialRule(), 0.6)
    assert decision.classes.tolist() == [1, 2, 3] and decision.atrial.tolist() == [True, False, False]
    rules = DecisionRules.from_settings({"atrial_rule": AtrialRule().to_dict(), "v_min_probability": 0.6})
    assert rules.decide(probabilities, features, NAMES).classes.tolist() == [1, 2, 3]


def test_the_temperature_tempers_the_reported_probabilities_and_never_changes_a_class():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=4.0, size=(500, 5))
    probabilities = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    probabilities[7] = np.nan  # a beat in a signal gap
    features = features_for([ATRIAL] * 250 + [{**ATRIAL, "p_corr_best": 0.9}] * 250)
    plain = DecisionRules.from_settings({"atrial_rule": AtrialRule().to_dict()}).decide(probabilities, features, NAMES)
    tempered = DecisionRules.from_settings({"atrial_rule": AtrialRule().to_dict(), "temperature": 1.5}).decide(
        probabilities, features, NAMES)
    assert np.array_equal(tempered.classes, plain.classes) and np.array_equal(tempered.atrial, plain.atrial)
    assert np.array_equal(plain.probabilities, probabilities, equal_nan=True)  # no temperature: as decided from
    rows = np.isfinite(probabilities).all(axis=1)
    top, top_tempered = probabilities[rows].max(axis=1), tempered.probabilities[rows].max(axis=1)
    assert np.all(top_tempered <= top + 1e-6) and np.mean(top_tempered < top - 1e-3) > 0.9  # less sure, same order
    assert np.array_equal(tempered.probabilities[rows].argmax(axis=1), probabilities[rows].argmax(axis=1))
    assert np.allclose(tempered.probabilities[rows].sum(axis=1), 1.0, atol=1e-5)
    assert np.isnan(tempered.probabilities[7]).all() and tempered.probabilities.dtype == np.float32


def test_the_temperature_is_configuration_saved_with_the_model_and_rules_only_can_drop_it():
    from models.train import TrainingConfig
    from models.training_run import replace_post_training_settings

    assert "temperature" not in TrainingConfig().to_dict()  # older configurations serialise as before
    assert TrainingConfig.from_dict(TrainingConfig(temperature=1.4).to_dict()).temperature == 1.4
    for wrong in (0.0, -1.0, True, "1.4", 20.0):
        with pytest.raises(ValueError, match="temperature"):
            TrainingConfig(temperature=wrong)
    settings = {"training": TrainingConfig(ensemble_members=2).to_dict(), "n_members": 2}
    tempered = replace_post_training_settings(settings, TrainingConfig(ensemble_members=2, temperature=1.4))
    assert tempered["temperature"] == 1.4 and DecisionRules.from_settings(tempered).temperature == 1.4
    dropped = replace_post_training_settings(tempered, TrainingConfig(ensemble_members=2))
    assert "temperature" not in dropped and "temperature" not in dropped["training"]
    assert DecisionRules.from_settings(dropped).temperature is None


def test_rule_comes_from_the_model_settings_and_is_absent_otherwise():
    assert AtrialRule.from_settings({}) is None
    assert AtrialRule.from_settings({"atrial_rule": None}) is None
    rule = AtrialRule(corr_max=0.1)
    assert AtrialRule.from_settings({"atrial_rule": rule.to_dict()}) == rule


def test_missing_features_are_reported():
    with pytest.raises(ValueError, match="p_corr_best"):
        find_atrial_beats(np.zeros((1, 1), np.float32), ("rr_post_pre_ratio",), AtrialRule())


def test_bundled_model_carries_the_rule_and_it_fires_on_real_atrial_beats(mitdb_dir):
    """Record 232 (frequent non-premature atrial beats): with the bundled rule some N calls become S, and only those."""
    from models.bundled import BUNDLED_MODEL
    from models.predict import classify_record
    from models.prepare import InputSettings
    from models.registry import load_model
    from pipeline.records import read_record

    loaded = load_model(BUNDLED_MODEL)
    decisions = DecisionRules.from_settings(loaded.settings)
    assert decisions.atrial_rule is not None
    record = read_record(mitdb_dir / "232", annotator=None)
    settings = InputSettings.from_dict(loaded.settings["inputs"])
    with_rule = classify_record(loaded.model, settings, record, decisions=DecisionRules(decisions.atrial_rule))
    without = classify_record(loaded.model, settings, record)
    changed = with_rule.classes != without.classes
    assert changed.any()
    assert set(without.classes[changed]) == {"N"} and set(with_rule.classes[changed]) == {"S"}
