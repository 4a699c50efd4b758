"""The fusion rule: which F calls it relabels N, where it sits among the rules, and that it travels with the model."""

from __future__ import annotations

import numpy as np
import pytest

from models.atrial_rule import DecisionRules, decide_classes
from models.fusion_rule import NEIGHBOUR_BEATS, find_lone_fusion_calls
from models.train import TrainingConfig
from models.wide_qrs_rule import FEATURES, WideQrsRule
from pipeline.labels import AAMI_CLASSES

N, S, V, F, Q = (AAMI_CLASSES.index(c) for c in "NSVFQ")
NAMES = FEATURES + ("p_corr_best", "p_template_quality", "rr_pre_local_ratio")


def one_hot(classes: list[int]) -> np.ndarray:
    probabilities = np.full((len(classes), len(AAMI_CLASSES)), 0.02, np.float32)
    probabilities[np.arange(len(classes)), classes] = 0.92
    return probabilities


@pytest.mark.parametrize("v_at, kept", [(None, False), (2, False), (3, True), (4, True), (6, True), (7, True),
                                        (8, False)])
def test_an_f_call_keeps_its_class_only_with_a_v_call_within_two_beats(v_at, kept):
    classes = np.full(11, N)
    classes[5] = F
    if v_at is not None:
        classes[v_at] = V
    assert find_lone_fusion_calls(classes)[5] == (not kept)
    assert find_lone_fusion_calls(classes).sum() == (not kept)  # no other beat is touched


def test_record_edges_and_runs_of_f_calls():
    # a run of F calls at the start with no V call, and one ending in a couplet; the ends count as no beat
    classes = np.array([F, F, N, N, N, N, N, F, F, V, N])
    assert find_lone_fusion_calls(classes).tolist() == [True, True] + [False] * 9
    assert not find_lone_fusion_calls(np.array([], np.int64)).any()
    assert find_lone_fusion_calls(np.array([F])).tolist() == [True]
    assert find_lone_fusion_calls(np.array([F, N, N, V]), neighbour_beats=3).tolist() == [False, False, False, False]
    with pytest.raises(ValueError, match="neighbour_beats"):
        find_lone_fusion_calls(np.array([F]), neighbour_beats=0)


def test_only_f_calls_become_n_after_every_other_rule():
    """The rule looks at the classes once the per-beat rules have decided (a V call the wide-QRS rule makes keeps its
    neighbour's F), and turns F calls into N only: S, V and Q calls stay, and so do the probabilities."""
    wide = {"qrs_width_diff_ms": 30.0, "qrs_corr_lead0": 0.8, "rhythm_af_score_rel": 0.0}
    plain = {"qrs_width_diff_ms": 0.0, "qrs_corr_lead0": 0.99, "rhythm_af_score_rel": 0.0}
    rows = [plain, plain, plain, plain, plain, wide, plain, plain, plain, plain]
    features = np.array([[row.get(name, 1.0) for name in NAMES] for row in rows], np.float32)
    calls = [F, S, N, V, Q, S, F, N, N, F]
    probabilities = one_hot(calls)
    before = probabilities.copy()
    decision = decide_classes(probabilities, features, NAMES, None, wide_rule=WideQrsRule(), fusion_rule=True)
    # beat 0: no V within two beats -> N; beat 5: S made V by the wide-QRS rule, so beat 6 keeps F; beat 9: alone -> N
    assert decision.classes.tolist() == [N, S, N, V, Q, V, F, N, N, N]
    assert decision.fusion.tolist() == [True] + [False] * 8 + [True]
    np.testing.assert_array_equal(probabilities, before)
    without = decide_classes(probabilities, features, NAMES, None, wide_rule=WideQrsRule())
    assert without.classes.tolist() == [F, S, N, V, Q, V, F, N, N, F] and not without.fusion.any()


def test_rule_comes_from_the_model_settings_and_the_training_configuration():
    assert not DecisionRules.from_settings({}).fusion_rule  # models saved before the rule keep their classes
    assert DecisionRules.from_settings({"fusion_rule": True}).fusion_rule
    with pytest.raises(ValueError, match="fusion_rule"):
        DecisionRules.from_settings({"fusion_rule": "yes"})
    config = TrainingConfig(fusion_rule=True)
    assert TrainingConfig.from_dict(config.to_dict()) == config
    assert "fusion_rule" not in TrainingConfig().to_dict()  # configurations without it serialise as before
    with pytest.raises(ValueError, match="fusion_rule"):
        TrainingConfig(fusion_rule=1)
    rules = DecisionRules(fusion_rule=True)
    decided = rules.decide(one_hot([F, N, N, N]), np.ones((4, len(NAMES)), np.float32), NAMES)
    assert decided.classes.tolist() == [N, N, N, N]


@pytest.mark.mitdb
def test_most_real_fusion_beats_have_a_ventricular_beat_within_two_beats(mitdb_dir):
    """The rule's premise, on the reference labels of record 208, DS1's fusion-rich patient (373 F beats): most of its
    fusion beats sit within two beats of a ventricular one, so an F call there keeps its class; the others (fusion
    beats between conducted beats, farther from the ventricular ones) are what the rule would cost were the networks
    to call them F."""
    import wfdb

    from pipeline.labels import is_beat_symbol, map_symbols_to_aami

    symbols = np.asarray(wfdb.rdann(str(mitdb_dir / "208"), "atr").symbol)
    classes = np.array([AAMI_CLASSES.index(c) for c in map_symbols_to_aami(symbols[is_beat_symbol(symbols)])])
    fusion = classes == F
    assert fusion.sum() > 300
    kept = 1 - find_lone_fusion_calls(classes, NEIGHBOUR_BEATS)[fusion].mean()
    assert 0.7 <= kept < 1.0, kept  # 296 of 373
