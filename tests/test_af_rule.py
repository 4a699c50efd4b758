"""The atrial-fibrillation rule: S calls inside the record's AF episodes become N, nothing else changes, and the
setting travels with the model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from models.af_rule import apply_af_rule, find_supraventricular_in_af
from models.atrial_rule import DecisionRules, read_switch
from models.predict import BeatPredictions
from models.train import TrainingConfig
from models.training_run import replace_post_training_settings
from pipeline.detect import detect_record_peaks
from pipeline.labels import AAMI_CLASSES
from pipeline.quality import find_quality_spans, spare_beat_trains
from pipeline.records import read_record
from pipeline.region_eval import flag_record_regions, measure_rhythm_evidence
from pipeline.regions import RegionSettings, beats_in_kind

EXCERPTS = Path(__file__).resolve().parents[1] / "data" / "excerpts"
N, S, V = (AAMI_CLASSES.index(c) for c in "NSV")


def test_only_s_calls_inside_af_are_flagged():
    classes = np.array([N, S, S, V, S, N])
    in_af = np.array([True, True, False, True, True, False])
    assert find_supraventricular_in_af(classes, in_af).tolist() == [False, True, False, False, True, False]
    with pytest.raises(ValueError, match="one flag per beat"):
        find_supraventricular_in_af(classes, in_af[:3])


def test_the_setting_is_read_from_the_model_settings():
    assert read_switch({}, "af_rule") is False  # models saved before the rule keep their classes
    assert read_switch({"af_rule": True}, "af_rule") is True
    assert DecisionRules.from_settings({"af_rule": True}).af_rule
    with pytest.raises(ValueError, match="expected true or false"):
        read_switch({"af_rule": "yes"}, "af_rule")


def test_training_configuration_keeps_the_rule_and_rules_only_can_switch_it():
    config = TrainingConfig(af_rule=True)
    assert config.to_dict()["af_rule"] is True
    assert TrainingConfig.from_dict(config.to_dict()).af_rule
    assert "af_rule" not in TrainingConfig().to_dict()  # older configurations serialise as before
    with pytest.raises(ValueError, match="af_rule"):
        TrainingConfig(af_rule=1)
    settings = {"training": TrainingConfig(ensemble_members=2).to_dict(), "n_members": 2, "af_rule": True}
    switched_off = replace_post_training_settings(settings, TrainingConfig(ensemble_members=2))
    assert switched_off["af_rule"] is False and switched_off["training"]["af_rule"] is False
    switched_on = replace_post_training_settings(switched_off, TrainingConfig(ensemble_members=2, af_rule=True))
    assert switched_on["af_rule"] is True


def made_up_predictions(record) -> tuple[BeatPredictions, list]:
    """The record's detected beats called S, every twelfth V; and its quality spans as ``ecg score`` finds them."""
    samples = detect_record_peaks(record).samples
    spans = spare_beat_trains(find_quality_spans(record.signal_mv, record.fs_hz), record.signal_mv, samples,
                              record.fs_hz)
    classes = np.where(np.arange(len(samples)) % 12 == 0, V, S)
    return BeatPredictions(samples, np.full((len(samples), 5), 0.2, np.float32), decided=classes), spans


def test_s_calls_inside_the_af_of_a_real_record_become_n_and_no_other_beat_changes():
    """Excerpt 201 (MIT-BIH, atrial fibrillation throughout its 5 minutes) with made-up classes. The rule makes N
    exactly the S beats inside the AF episodes the region finder reports for these beats and leaves the V calls
    alone; in excerpt 100 (sinus rhythm), and in 201 with an AF minimum longer than the excerpt, nothing changes."""
    settings = RegionSettings()
    record = read_record(EXCERPTS / "201")
    predictions, spans = made_up_predictions(record)
    classes = predictions.class_indices
    in_af = beats_in_kind(flag_record_regions(record, predictions.samples, predictions.classes, spans, settings),
                          "atrial_fibrillation", len(predictions))
    assert in_af.mean() > 0.9

    after = apply_af_rule(record, predictions, spans, settings)
    changed = after.in_af_mask
    assert changed.tolist() == (in_af & (classes == S)).tolist()
    assert (after.class_indices[changed] == N).all()
    assert (after.class_indices[~changed] == classes[~changed]).all()
    assert (after.class_indices[classes == V] == V).all()
    # rhythm evidence measured once and given gives the same result
    evidence = measure_rhythm_evidence(record, predictions.samples, spans, settings)
    assert apply_af_rule(record, predictions, spans, settings, evidence).in_af_mask.tolist() == changed.tolist()
    # the event settings are the analysis's: no AF episode shorter than 10 minutes, no change in a 5-minute excerpt
    assert not apply_af_rule(record, predictions, spans, replace(settings, af_min_duration_s=600.0)).in_af_mask.any()

    sinus = read_record(EXCERPTS / "100")
    predictions, spans = made_up_predictions(sinus)
    after = apply_af_rule(sinus, predictions, spans, settings)
    assert not after.in_af_mask.any() and (after.class_indices == predictions.class_indices).all()


@pytest.mark.mitdb
def test_bundled_model_clears_the_s_calls_inside_the_af_of_record_202(mitdb_dir):
    """Record 202 (DS2) has atrial fibrillation and flutter in its second half. With the bundled model no beat inside
    the reported AF episodes is S, and the beats the rule changed are mostly reference N beats (both ways of
    ``ecg evaluate``: the rule removes false S calls and costs few true ones)."""
    from app.analysis import analyse_record, change_region_settings, relabel_beats
    from models.bundled import BUNDLED_MODEL
    from models.evaluate import evaluate_record
    from models.prepare import InputSettings
    from models.registry import load_model

    loaded = load_model(BUNDLED_MODEL)
    assert loaded.settings["af_rule"] is True
    record = read_record(mitdb_dir / "202")
    analysis = analyse_record(record, loaded)
    in_af = beats_in_kind(analysis.regions, "atrial_fibrillation", len(analysis.predictions))
    assert in_af.sum() > 300
    assert not ((analysis.classes == "S") & in_af).any()
    # how many S calls the networks make inside AF is the networks' own (session 23's: 40; session 24's, trained with
    # one-lead copies: 9); the rule must have some to clear for the checks below to mean anything
    assert analysis.predictions.in_af_mask.sum() >= 5
    assert not (analysis.predictions.in_af_mask & ~in_af).any()
    note = f"{analysis.predictions.in_af_mask.sum()} beats the classifier called supraventricular ectopic lie inside"
    assert any(n.startswith(note) for n in analysis.summary.notes)
    edited = change_region_settings(analysis, replace(analysis.region_settings, pause_s=3.0))
    assert any(n.startswith(note) for n in edited.summary.notes)  # the AF episodes, so the labels, stay
    # a reader who asks for longer AF episodes than the record holds gets the S calls back, corrections kept
    corrected = int(np.flatnonzero(~in_af)[0])
    reviewed = relabel_beats(analysis, {corrected: "V"})
    no_af = change_region_settings(reviewed, replace(analysis.region_settings, af_min_duration_s=4000.0))
    assert not beats_in_kind(no_af.regions, "atrial_fibrillation", len(no_af.predictions)).any()
    assert not no_af.predictions.in_af_mask.any()
    assert (no_af.classes[analysis.predictions.in_af_mask] == "S").all()
    assert no_af.classes[corrected] == "V" and no_af.reviewed_mask.sum() == 1
    assert not any(n.startswith(note) for n in no_af.summary.notes)
    back = change_region_settings(no_af, analysis.region_settings)
    assert back.predictions.in_af_mask.tolist() == analysis.predictions.in_af_mask.tolist()

    settings = InputSettings.from_dict(loaded.settings["inputs"])
    decisions = DecisionRules.from_settings(loaded.settings)
    with_rule, _, _ = evaluate_record(loaded.model, record, settings, None, "ecg", decisions)
    without, _, _ = evaluate_record(loaded.model, record, settings, None, "ecg", replace(decisions, af_rule=False))
    for mode in ("reference", "end_to_end"):
        false_s = [counts[mode].matrix[N, S] for counts in (without, with_rule)]
        true_s = [counts[mode].matrix[S, S] for counts in (without, with_rule)]
        cleared = [counts[mode].matrix[:, S].sum() for counts in (without, with_rule)]
        assert cleared[0] - cleared[1] >= 5, (mode, cleared)
        # it clears at least twice as many false S calls (reference N beats) as true ones, and few true ones
        assert false_s[0] - false_s[1] >= 2 * (true_s[0] - true_s[1]), (mode, false_s, true_s)
        assert true_s[1] >= true_s[0] - 3, (mode, true_s)


def test_a_beat_s_confidence_is_in_its_delivered_class_and_in_n_or_s_where_a_rule_chose_between_them():
    from app.analysis import ATRIAL_RULE_PRECISION, beat_confidence

    probabilities = np.array([[0.90, 0.05, 0.03, 0.01, 0.01],    # N, as the network said
                              [0.85, 0.10, 0.03, 0.01, 0.01],    # the atrial rule made it S
                              [0.30, 0.65, 0.03, 0.01, 0.01],    # the AF rule made it N
                              [0.55, 0.02, 0.40, 0.02, 0.01],    # the conduction rule made it N (V -> N)
                              [np.nan] * 5], np.float32)          # a beat in a signal gap
    predictions = BeatPredictions(np.arange(5) * 300, probabilities, relabelled=np.array([0, 1, 0, 0, 0], bool),
                                  decided=np.array([0, 1, 0, 0, 0]), conducted=np.array([0, 0, 0, 1, 0], bool),
                                  in_af=np.array([0, 0, 1, 0, 0], bool))
    # the atrial rule's S: at most its DS1 precision (session 54); V -> N: unsure
    assert np.allclose(beat_confidence(predictions), [0.90, ATRIAL_RULE_PRECISION, 0.95, 0.55, 1.0])
    plain = BeatPredictions(np.arange(5) * 300, probabilities)  # no rule: the top class, its probability
    assert np.allclose(beat_confidence(plain), [0.90, 0.85, 0.65, 0.55, 1.0])
