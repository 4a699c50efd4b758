"""The supraventricular run rule: which N calls inside S runs it makes S, and that it travels with the model."""

from __future__ import annotations

import numpy as np
import pytest

from models.atrial_rule import AtrialRule, DecisionRules, decide_classes
from models.conduction_rule import ConductionRule
from models.run_rule import FEATURES, SupraventricularRunRule, extend_supraventricular_runs, find_run_continuations
from models.train import TrainingConfig

N, S, V = 0, 1, 2
NAMES = FEATURES
SINUS = {"rr_pre_record_ratio": 1.0, "qrs_corr_lead0": 0.99, "rhythm_af_score_rel": 0.01}
FAST = {**SINUS, "rr_pre_record_ratio": 0.6}


def features_for(rows: list[dict]) -> np.ndarray:
    return np.array([[row[name] for name in NAMES] for row in rows], dtype=np.float32)


def extend(classes: list[int], rows: list[dict], rule: SupraventricularRunRule | None = None) -> list[bool]:
    return extend_supraventricular_runs(np.array(classes), features_for(rows), NAMES,
                                        rule or SupraventricularRunRule()).tolist()


def test_a_run_is_followed_from_its_first_s_beat_until_the_rate_returns():
    # sinus, premature S, four N calls at the same fast rate, back to sinus rate, one more fast N call
    rows = [SINUS, FAST, FAST, FAST, {**FAST, "rr_pre_record_ratio": 0.55}, FAST, SINUS, FAST]
    classes = [N, S, N, N, N, N, N, N]
    assert extend(classes, rows) == [False, False, True, True, True, True, False, False]


def test_nothing_changes_without_an_s_beat_in_front():
    rows = [SINUS, FAST, FAST, FAST]
    assert extend([N, N, N, N], rows) == [False] * 4
    assert extend([N, V, N, N], rows) == [False] * 4  # a V beat does not start a supraventricular run


@pytest.mark.parametrize("change", [
    {"qrs_corr_lead0": 0.5},         # a QRS unlike the dominant one
    {"rhythm_af_score_rel": 0.2},    # fibrillation-like surroundings
])
def test_each_beat_condition_is_needed(change):
    rows = [FAST, FAST, {**FAST, **change}]
    assert find_run_continuations(features_for(rows), NAMES, SupraventricularRunRule()).tolist() == [False, True, False]


def test_the_rr_must_continue_and_stay_fast():
    sudden = [FAST, FAST, {**FAST, "rr_pre_record_ratio": 0.45}]  # 25 % shorter than the previous RR
    found = find_run_continuations(features_for(sudden), NAMES, SupraventricularRunRule())
    assert found.tolist() == [False, True, False]
    moderate = [{**FAST, "rr_pre_record_ratio": 0.8}] * 3  # regular, but not fast for the record
    assert not find_run_continuations(features_for(moderate), NAMES, SupraventricularRunRule()).any()
    looser = SupraventricularRunRule(rate_ratio_max=0.85)
    assert find_run_continuations(features_for(moderate), NAMES, looser).tolist() == [False, True, True]


def test_only_n_calls_change_and_a_break_ends_the_run():
    rows = [FAST] * 5
    assert extend([S, V, N, S, N], rows) == [False, False, False, False, True]


def test_a_beat_that_may_not_change_ends_the_run():
    found = extend_supraventricular_runs(np.array([S, N, N, N]), features_for([FAST] * 4), NAMES,
                                         SupraventricularRunRule(), eligible=np.array([True, True, False, True]))
    assert found.tolist() == [False, True, False, False]


def test_decision_applies_it_after_the_atrial_rule_and_never_to_conducted_beats():
    atrial_names = ("p_corr_best", "p_template_quality", "rr_pre_local_ratio", "rr_post_pre_ratio",
                    "qrs_width_diff_ms") + FEATURES
    start = {"p_corr_best": 0.0, "p_template_quality": 0.9, "rr_pre_local_ratio": 0.7, "rr_post_pre_ratio": 1.0,
             "qrs_width_diff_ms": 0.0, **FAST}
    inside = {**start, "p_corr_best": 0.7, "rr_pre_local_ratio": 1.0}
    conducted = {**inside, "p_corr_best": 0.9}
    features = np.array([[row[n] for n in atrial_names] for row in (start, inside, inside, conducted)], np.float32)
    n_call, v_call = [0.9, 0.05, 0.03, 0.01, 0.01], [0.3, 0.02, 0.66, 0.01, 0.01]
    probabilities = np.array([n_call, n_call, n_call, v_call], np.float32)
    decision = decide_classes(probabilities, features, atrial_names, AtrialRule(), conduction=ConductionRule(),
                              run_rule=SupraventricularRunRule())
    assert decision.atrial.tolist() == [True, False, False, False]  # the atrial rule starts the run
    assert decision.run.tolist() == [False, True, True, False]
    assert decision.conducted.tolist() == [False, False, False, True]
    assert decision.classes.tolist() == [S, S, S, N]
    without = decide_classes(probabilities, features, atrial_names, AtrialRule(), conduction=ConductionRule())
    assert without.classes.tolist() == [S, N, N, N] and not without.run.any()


def test_rule_comes_from_the_model_settings_and_the_training_configuration():
    assert SupraventricularRunRule.from_settings({}) is None
    assert DecisionRules.from_settings({}).run_rule is None
    rule = SupraventricularRunRule(rate_ratio_max=0.8)
    assert DecisionRules.from_settings({"supraventricular_run_rule": rule.to_dict()}).run_rule == rule
    config = TrainingConfig(supraventricular_run_rule=rule)
    assert TrainingConfig.from_dict(config.to_dict()) == config
    assert TrainingConfig.from_dict(TrainingConfig().to_dict()).supraventricular_run_rule is None


def test_missing_features_are_reported():
    with pytest.raises(ValueError, match="rhythm_af_score_rel"):
        find_run_continuations(np.zeros((1, 2), np.float32), FEATURES[:2], SupraventricularRunRule())


@pytest.mark.mitdb
def test_real_supraventricular_runs_are_followed_from_their_first_beat(mitdb_dir):
    """Record 209 (DS1) at its reference beats: with only the first beat of each run of 3 or more S beats
    called S, as if the network had missed the rest, the rule follows the runs on the record's real rate, QRS
    and rhythm features (to the first RR that changes by more than 15 %: a third of the runs' beats from their
    first beats alone; the network's own S calls inside a run restart it), and makes S no beat outside them."""
    from models.bundled import BUNDLED_MODEL
    from models.prepare import InputSettings, prepare_reference_beats
    from models.registry import load_model
    from pipeline.records import read_record

    settings = InputSettings.from_dict(load_model(BUNDLED_MODEL).settings["inputs"])
    prepared, labels = prepare_reference_beats(read_record(mitdb_dir / "209"), settings)
    is_s = labels == S
    starts = np.flatnonzero(is_s & ~np.r_[False, is_s[:-1]])
    lengths = [int(np.argmin(np.r_[is_s[start:], False])) for start in starts]
    classes, inside = np.full(len(labels), N), np.zeros(len(labels), bool)
    for start, length in zip(starts, lengths):
        if length >= 3:
            classes[start] = S
            inside[start + 1:start + length] = True
    assert inside.sum() > 200
    extended = extend_supraventricular_runs(classes, prepared.inputs.features, prepared.inputs.feature_names,
                                            SupraventricularRunRule())
    assert extended[inside].mean() >= 0.3  # 87 of 250
    assert not extended[~inside].any()


@pytest.mark.mitdb
def test_bundled_model_follows_the_supraventricular_runs_of_record_209(mitdb_dir):
    """Record 209 (DS1) has runs of supraventricular tachycardia. The delivered model's rule, on 209's own features,
    follows a run from its first S beat: told only the first beat of each reference S run (every other beat N), the
    beats it makes S are reference S beats and cover a third of the runs (its rate and QRS thresholds, chosen on DS1,
    are strict). The networks themselves already call these runs S: they were trained on 209, and the session-24
    networks leave the rule nothing to do on it."""
    from models.bundled import BUNDLED_MODEL
    from models.prepare import InputSettings, prepare_beats
    from models.registry import load_model
    from pipeline.labels import is_beat_symbol, map_symbols_to_aami
    from pipeline.records import read_record

    loaded = load_model(BUNDLED_MODEL)
    rule = DecisionRules.from_settings(loaded.settings).run_rule
    assert rule is not None
    record = read_record(mitdb_dir / "209")
    beat = is_beat_symbol(record.annotations.symbols)
    prepared = prepare_beats(record, record.annotations.samples[beat], InputSettings.from_dict(loaded.settings["inputs"]))
    reference = map_symbols_to_aami(record.annotations.symbols[beat])
    is_s = reference == "S"
    follows_s = np.r_[False, is_s[:-1]]
    classes = np.where(is_s & ~follows_s, S, N)  # each run told by its first beat only
    changed = extend_supraventricular_runs(classes, prepared.inputs.features, prepared.inputs.feature_names, rule)
    assert (reference[changed] == "S").mean() >= 0.9
    continuation = is_s & follows_s  # the S beats after a run's first
    assert continuation.sum() > 200
    assert changed[continuation].sum() >= 50, (changed[continuation].sum(), continuation.sum())  # 87 of 252
    # without the S beat in front, nothing
    assert not extend_supraventricular_runs(np.full(len(classes), N), prepared.inputs.features,
                                            prepared.inputs.feature_names, rule).any()
