"""The sinus-conduction rule: which V calls it relabels N, and that it travels with the model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models.atrial_rule import AtrialRule, DecisionRules, decide_classes
from models.conduction_rule import FEATURES, ConductionRule, find_conducted_beats
from models.train import TrainingConfig

NAMES = FEATURES + ("rhythm_af_score_rel", "qrs_corr_lead0")
CONDUCTED = {"p_corr_best": 0.85, "p_template_quality": 0.9, "rr_pre_local_ratio": 1.0, "rr_post_pre_ratio": 1.0}
V_CALL = [0.25, 0.02, 0.70, 0.02, 0.01]


def features_for(rows: list[dict]) -> np.ndarray:
    return np.array([[row.get(name, 1.0) for name in NAMES] for row in rows], dtype=np.float32)


@pytest.mark.parametrize("change", [
    {"p_corr_best": 0.1},            # no sinus-like P wave in front of it
    {"p_template_quality": 0.3},     # no clear sinus P template (e.g. AF)
    {"rr_pre_local_ratio": 0.7},     # premature
    {"rr_post_pre_ratio": 1.6},      # followed by a compensatory pause
    {"qrs_width_diff_ms": 70.0},     # a wide (ventricular) QRS
])
def test_each_condition_is_needed(change):
    features = features_for([CONDUCTED, {**CONDUCTED, **change}])
    assert find_conducted_beats(features, NAMES, np.array([0.7, 0.7]), ConductionRule()).tolist() == [True, False]


def test_confident_v_calls_are_kept():
    features = features_for([CONDUCTED, CONDUCTED])
    found = find_conducted_beats(features, NAMES, np.array([0.7, 0.995]), ConductionRule())
    assert found.tolist() == [True, False]


def test_only_v_calls_become_n_and_the_probabilities_stay():
    features = features_for([CONDUCTED] * 3)
    probabilities = np.array([V_CALL, [0.1, 0.8, 0.08, 0.01, 0.01], [0.2, 0.05, 0.05, 0.69, 0.01]], np.float32)
    before = probabilities.copy()
    decision = decide_classes(probabilities, features, NAMES, None, conduction=ConductionRule())
    assert decision.classes.tolist() == [0, 1, 3]
    assert decision.conducted.tolist() == [True, False, False] and not decision.atrial.any()
    np.testing.assert_array_equal(probabilities, before)
    assert decide_classes(probabilities, features, NAMES, None).classes.tolist() == [2, 1, 3]


def test_a_conducted_beat_is_not_then_made_s_by_the_atrial_rule():
    """With thresholds that overlap, the V -> N beat keeps N: it was conducted by the sinus node."""
    atrial_like = {**CONDUCTED, "p_corr_best": 0.15, "rhythm_af_score_rel": 0.01, "qrs_corr_lead0": 0.99}
    features = features_for([atrial_like])
    decision = decide_classes(np.array([V_CALL], np.float32), features, NAMES, AtrialRule(),
                              conduction=ConductionRule(p_corr_min=0.1))
    assert decision.classes.tolist() == [0] and decision.conducted.tolist() == [True]
    assert not decision.atrial.any()


def test_rule_comes_from_the_model_settings_and_the_training_configuration():
    assert ConductionRule.from_settings({}) is None
    assert DecisionRules.from_settings({}).conduction_rule is None
    rule = ConductionRule(p_corr_min=0.6)
    assert DecisionRules.from_settings({"conduction_rule": rule.to_dict()}).conduction_rule == rule
    config = TrainingConfig(conduction_rule=rule)
    assert TrainingConfig.from_dict(config.to_dict()) == config
    assert TrainingConfig.from_dict(TrainingConfig().to_dict()).conduction_rule is None


def test_missing_features_are_reported():
    with pytest.raises(ValueError, match="rr_post_pre_ratio"):
        find_conducted_beats(np.zeros((1, 3), np.float32), FEATURES[:3], np.zeros(1), ConductionRule())


def test_rules_replace_only_the_rules_and_refuse_other_networks():
    from models.bundled import BUNDLED_MODEL
    from models.training_run import replace_post_training_settings as replace_decision_rules

    settings = json.loads(BUNDLED_MODEL.with_suffix(".json").read_text())
    config = TrainingConfig.from_dict(settings["training"])
    changed = replace_decision_rules(settings, TrainingConfig.from_dict(
        {**config.to_dict(), "conduction_rule": ConductionRule(p_corr_min=0.6).to_dict()}))
    assert changed["conduction_rule"]["p_corr_min"] == 0.6 == changed["training"]["conduction_rule"]["p_corr_min"]
    assert changed["network"] == settings["network"] and changed["feature_names"] == settings["feature_names"]
    with pytest.raises(ValueError, match="seed"):
        replace_decision_rules(settings, TrainingConfig.from_dict({**config.to_dict(), "seed": 7}))


@pytest.mark.mitdb
def test_bundled_model_carries_the_rule_and_it_turns_conducted_beats_back_to_n(mitdb_dir):
    """Record 105 (DS2; sinus rhythm, heavy noise and artefact): the network calls some noisy sinus beats V;
    the rule makes them N, and the beats it changes are nearly all reference N beats."""
    from models.bundled import BUNDLED_MODEL
    from models.predict import classify_record
    from models.prepare import InputSettings
    from models.registry import load_model
    from pipeline.labels import is_beat_symbol, map_symbols_to_aami
    from pipeline.records import read_record

    loaded = load_model(BUNDLED_MODEL)
    decisions = DecisionRules.from_settings(loaded.settings)
    assert decisions.conduction_rule is not None
    record = read_record(mitdb_dir / "105")
    beat = is_beat_symbol(record.annotations.symbols)
    predictions = classify_record(loaded.model, InputSettings.from_dict(loaded.settings["inputs"]), record,
                                  record.annotations.samples[beat], decisions=decisions)
    changed = predictions.conducted_mask
    assert changed.sum() >= 5  # 9 with the 2-member bundled ensemble
    assert (np.argmax(predictions.probabilities[changed], axis=1) == 2).all()
    assert set(predictions.classes[changed]) == {"N"}
    reference = map_symbols_to_aami(record.annotations.symbols[beat])
    assert (reference[changed] == "N").mean() >= 0.9


@pytest.mark.mitdb
def test_bundle_model_rules_only_keeps_the_networks_and_rewrites_rules_and_card(tmp_path, mitdb_dir):
    import shutil

    from click.testing import CliRunner

    from app.cli import cli
    from models.bundled import BUNDLED_DIR

    for name in ("model.keras", "model.json"):
        shutil.copy(BUNDLED_DIR / name, tmp_path / name)
    settings = json.loads((tmp_path / "model.json").read_text())
    config = {**TrainingConfig.from_dict(settings["training"]).to_dict(),
              "conduction_rule": ConductionRule(p_corr_min=0.6).to_dict()}
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    result = CliRunner().invoke(cli, ["bundle-model", "--config", str(config_path), "--out", str(tmp_path),
                                      "--data-dir", str(mitdb_dir), "--rules-only"])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "model.json").read_text())
    assert saved["conduction_rule"]["p_corr_min"] == 0.6
    assert saved["context_stage"] == settings["context_stage"]  # same networks and ensemble size: the stage is kept
    assert saved["ds2_evaluation"]["beats"]["reference"] > 49000
    assert (tmp_path / "model.keras").read_bytes() == (BUNDLED_DIR / "model.keras").read_bytes()
    assert "--rules-only" in (tmp_path / "MODEL_CARD.md").read_text()
    config_path.write_text(json.dumps({**config, "network": {**config["network"], "gru_units": 64}}))
    refused = CliRunner().invoke(cli, ["bundle-model", "--config", str(config_path), "--out", str(tmp_path),
                                       "--data-dir", str(mitdb_dir), "--rules-only"])
    assert refused.exit_code != 0 and "network" in refused.output


def test_wide_pvcs_stay_v_end_to_end_when_the_detector_marks_them_late(excerpts_dir):
    """Record 208's excerpt: on wide PVCs the detector's R point can fall ~90 ms after the annotation, so the
    beat looks on time and its own QRS onset fills the P window. The QRS-width condition keeps them V."""
    from models.bundled import BUNDLED_MODEL
    from models.predict import classify_record
    from models.prepare import InputSettings
    from models.registry import load_model
    from pipeline.labels import is_beat_symbol, map_symbols_to_aami
    from pipeline.records import read_record

    loaded = load_model(BUNDLED_MODEL)
    settings = InputSettings.from_dict(loaded.settings["inputs"])
    record = read_record(excerpts_dir / "208")
    beat = is_beat_symbol(record.annotations.symbols)
    reference_v = record.annotations.samples[beat][map_symbols_to_aami(record.annotations.symbols[beat]) == "V"]
    rules = DecisionRules.from_settings(loaded.settings)
    predictions = classify_record(loaded.model, settings, record, decisions=rules)  # detected beats
    changed = predictions.samples[predictions.conducted_mask]
    near_v = np.abs(changed[:, None] - reference_v[None, :]).min(axis=1) <= 0.15 * record.fs_hz if len(changed) else []
    assert len(reference_v) > 100 and np.sum(near_v) <= 0.05 * len(reference_v)
    without_width = DecisionRules(rules.atrial_rule, None, ConductionRule(**{
        **rules.conduction_rule.to_dict(), "width_diff_max_ms": float("inf")}))
    loose = classify_record(loaded.model, settings, record, decisions=without_width)
    assert loose.conducted_mask.sum() > predictions.conducted_mask.sum()  # the condition is what holds them
