"""Model inputs, patient-wise folds, class weights, cross-validated training and EC57 evaluation."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from models.atrial_rule import AtrialRule
from models.evaluate import evaluate_records, expected_calibration_error, reference_classes, write_report
from models.folds import assign_patient_folds, compute_class_weights, find_ventricular_run_beats
from models.inputs import build_waveform, compute_lead_scales, select_rr_columns
from models.network import NetworkConfig
from models.prepare import InputSettings, clean_record, prepare_beats, prepare_reference_beats
from models.train import NullTracker, TrainingConfig, ValidationMonitor, build_training_model, train_ensemble
from models.training_data import LabelledInputs, load_labelled_inputs
from pipeline.clean import CleaningSettings
from pipeline.detect import detect_record_peaks
from pipeline.records import read_annotations, read_record
from pipeline.scoring import NO_BEAT, match_beats
from pipeline.segment import time_beats
from pipeline.types import SegmentationSettings

EXCERPTS = ("100", "106", "119", "201", "208", "232")


@pytest.fixture(scope="module")
def excerpt_inputs(excerpts_dir, tmp_path_factory) -> LabelledInputs:
    cache = tmp_path_factory.mktemp("inputs")
    return load_labelled_inputs(EXCERPTS, excerpts_dir, cache, InputSettings(), progress=False)


def test_inputs_are_patient_relative(excerpts_dir):
    """Amplitude scaling and reversed polarity leave the network's inputs unchanged."""
    record = read_record(excerpts_dir / "119")
    base, _ = prepare_reference_beats(record, InputSettings())
    changed = dataclasses.replace(record, signal_mv=-2.5 * record.signal_mv)
    other, _ = prepare_reference_beats(changed, InputSettings())
    np.testing.assert_allclose(other.inputs.waveform, base.inputs.waveform, atol=1e-3)
    assert base.inputs.waveform.shape[1:] == (252, 4)
    assert not any(name.endswith("_s") for name in base.inputs.feature_names)


def test_anchored_inputs_do_not_depend_on_who_placed_the_beat(excerpts_dir):
    """119's PVCs: reference and detector fiducials differ by ~90 ms; with anchoring the inputs agree."""
    record = read_record(excerpts_dir / "119")
    detected = detect_record_peaks(record).samples
    differences = {}
    for search_s in (0.0, 0.08):
        settings = InputSettings(segmentation=SegmentationSettings(anchor_search_s=search_s))
        reference, labels = prepare_reference_beats(record, settings)
        found = prepare_beats(record, detected, settings)
        assert np.array_equal(found.beats.samples, detected)  # outputs keep the positions given
        ref_index, det_index = match_beats(reference.beats.samples, detected, record.fs_hz)
        is_v = labels[ref_index] == 2
        for part in ("waveform", "features"):
            gap = getattr(reference.inputs, part)[ref_index[is_v]] - getattr(found.inputs, part)[det_index[is_v]]
            differences[search_s, part] = np.mean(np.abs(gap))
    assert is_v.sum() > 50
    assert differences[0.08, "waveform"] < 0.01 * differences[0.0, "waveform"]
    assert differences[0.08, "features"] < 0.01 * differences[0.0, "features"]


def test_ensemble_size_is_checked_and_old_configurations_serialise_unchanged():
    assert "ensemble_members" not in TrainingConfig().to_dict() and TrainingConfig().n_members == 4
    assert TrainingConfig.from_dict(TrainingConfig(ensemble_members=2).to_dict()).n_members == 2
    with pytest.raises(ValueError, match="ensemble_members"):
        TrainingConfig(n_folds=4, ensemble_members=5)


def test_lead_scales_make_the_template_positive_and_unit_size():
    bump = np.zeros(50)
    bump[20:30] = np.sin(np.linspace(0, np.pi, 10))
    template = np.stack([bump, -2 * bump], axis=1)
    scales = compute_lead_scales(template)
    assert scales[0] > 0 > scales[1]
    scaled = template * scales
    np.testing.assert_allclose(np.ptp(scaled, axis=0), 1.0, atol=1e-6)
    waveform = build_waveform(template[None].astype(np.float32), np.zeros((1, 50, 2), np.float32), template)
    assert waveform.shape == (1, 50, 4) and waveform[0, :, 1].max() == pytest.approx(1.0, abs=1e-6)


def test_only_relative_rr_features_are_used():
    assert select_rr_columns(("rr_pre_s", "rr_pre_local_ratio", "rr_post_s", "rr_pre_filled")) == [1, 3]


def test_folds_keep_patients_whole_and_spread_s_beats():
    records = np.repeat(np.array(["a", "b", "c", "d", "e", "f"]), 10)
    labels = np.zeros(60, dtype=np.int64)
    labels[[0, 1, 2, 10, 11, 20]] = 1  # S beats in a, b, c
    folds = assign_patient_folds(records, labels, 3)
    assert set(folds) == set(records.tolist())
    assert len({folds[r] for r in ("a", "b", "c")}) == 3  # each S patient in its own fold
    with pytest.raises(ValueError, match="expected 2 to 6"):
        assign_patient_folds(records, labels, 7)


def test_class_weights_are_square_root_inverse_and_capped():
    labels = np.array([0] * 900 + [1] * 100 + [4] * 1)
    weights = compute_class_weights(labels, max_ratio=5.0)
    assert weights[1] / weights[0] == pytest.approx(3.0)
    assert weights[4] / weights[0] == pytest.approx(5.0)  # 30x uncapped
    assert weights[2] == 0.0 and weights[labels].mean() == pytest.approx(1.0)


def test_run_weight_moves_v_weight_onto_couplets_and_runs_only(excerpt_inputs):
    """``v_run_weight``: the V beats of couplets and runs (208's, 119's, 106's, read from the reference labels) weigh
    that many times an isolated V beat; the V class's total weight and every other beat's weight stay."""
    data = excerpt_inputs
    runs = find_ventricular_run_beats(data.labels, data.record_names, data.samples)
    v = data.labels == 2
    assert runs[v].sum() >= 10 and (~runs[v]).sum() >= 10 and not runs[~v].any()
    for name in np.unique(data.record_names[runs]):  # every run beat has a V neighbour in its record, in time order
        mine = data.record_names == name
        order = np.argsort(data.samples[mine])
        is_v, member = v[mine][order], runs[mine][order]
        neighbour = np.zeros_like(is_v)
        neighbour[1:] |= is_v[:-1]
        neighbour[:-1] |= is_v[1:]
        np.testing.assert_array_equal(member, is_v & neighbour)
    _, plain = build_training_model(data, TrainingConfig())
    _, weighted = build_training_model(data, TrainingConfig(v_run_weight=3.0))
    np.testing.assert_array_equal(plain[~v], weighted[~v])
    assert weighted[v].sum() == pytest.approx(plain[v].sum(), rel=1e-5)
    assert np.allclose(weighted[runs] / weighted[v & ~runs].mean(), 3.0)
    assert "v_run_weight" not in TrainingConfig().to_dict()  # earlier configurations serialise as they did
    assert TrainingConfig.from_dict(TrainingConfig(v_run_weight=3.0).to_dict()).v_run_weight == 3.0
    for value in (0.5, True, "3", 11.0):
        with pytest.raises(ValueError, match="v_run_weight"):
            TrainingConfig(v_run_weight=value)


def test_cached_inputs_are_reused(excerpt_inputs, excerpts_dir, tmp_path):
    first = load_labelled_inputs(("119",), excerpts_dir, tmp_path, InputSettings(), progress=False)
    second = load_labelled_inputs(("119",), excerpts_dir, tmp_path, InputSettings(), progress=False)
    np.testing.assert_array_equal(first.inputs.waveform, second.inputs.waveform)
    assert len(list(tmp_path.glob("119-*.npz"))) == 1
    assert set(np.unique(excerpt_inputs.record_names)) == set(EXCERPTS)


@pytest.mark.slow
def test_cross_validated_training_learns_and_scores_every_patient(excerpt_inputs):
    config = TrainingConfig(n_folds=3, epochs=3, patience=3, network=NetworkConfig(gru_units=8, dense_units=16),
                            ensemble_members=2)
    result = train_ensemble(excerpt_inputs, config, progress=False)
    assert len(result.folds) == 3  # every fold trained and scored; the first two delivered
    assert [layer.name for layer in result.ensemble.layers if layer.name.startswith("member_")] == [
        "member_0", "member_1"]
    assert result.oof_probabilities.shape == (len(excerpt_inputs), 5)
    assert np.allclose(result.oof_probabilities.sum(axis=1), 1.0, atol=1e-4)  # every beat scored out of fold
    assert result.oof_counts.matrix[:-1].sum() == len(excerpt_inputs)
    # Learned from the other patients: most held-out ventricular beats are recognised.
    assert result.validation_metrics["cv_V_se"] > 0.6
    held_out = [set(f.validation_records) for f in result.folds]
    assert set().union(*held_out) == set(EXCERPTS) and sum(len(h) for h in held_out) == len(EXCERPTS)
    probabilities = result.ensemble.predict(excerpt_inputs.inputs.as_dict(), verbose=0)
    assert probabilities.shape == (len(excerpt_inputs), 5)


@pytest.mark.slow
def test_a_seed_ensemble_trains_each_fold_from_several_seeds_and_averages_them(excerpt_inputs):
    config = TrainingConfig(n_folds=2, epochs=1, patience=1, network=NetworkConfig(gru_units=8, dense_units=16),
                            ensemble_members=1, seeds_per_fold=2)
    result = train_ensemble(excerpt_inputs, config, progress=False)
    assert [(f.fold, f.seed_index) for f in result.folds] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert config.n_networks == 2 and len([layer for layer in result.ensemble.layers
                                           if layer.name.startswith("member_")]) == 2  # fold 0's two seeds
    first, second = result.folds[2].model, result.folds[3].model  # fold 1's networks: different seeds, different
    inputs = excerpt_inputs.inputs.as_dict()
    assert not np.allclose(first.predict(inputs, verbose=0), second.predict(inputs, verbose=0))
    held_out = np.isin(excerpt_inputs.record_names, result.folds[2].validation_records)
    averaged = (first.predict(excerpt_inputs.select(held_out).inputs.as_dict(), verbose=0)
                + second.predict(excerpt_inputs.select(held_out).inputs.as_dict(), verbose=0)) / 2
    np.testing.assert_allclose(result.oof_probabilities[held_out], averaged, atol=1e-5)  # out of fold: the mean


def test_seeds_per_fold_is_checked_and_saved_only_when_used():
    assert "seeds_per_fold" not in TrainingConfig().to_dict()  # earlier configurations serialise as they did
    config = TrainingConfig(seeds_per_fold=2)
    assert TrainingConfig.from_dict(config.to_dict()) == config and config.n_networks == 8
    for value in (0, 1.5):
        with pytest.raises(ValueError, match="seeds_per_fold"):
            TrainingConfig(seeds_per_fold=value)


@pytest.mark.parametrize("values, message", [
    ({"n_folds": 1}, r"n_folds=1; expected a whole number, 2 or more"),
    ({"epochs": "x"}, r"epochs='x'; expected a whole number, 1 or more"),
    ({"epochs": 15.0}, r"epochs=15.0; expected a whole number"),
    ({"patience": 0}, r"patience=0"),
    ({"batch_size": True}, r"batch_size=True"),
    ({"seed": -1}, r"seed=-1; expected a whole number, 0 or more"),
    ({"class_weight_power": "0.3"}, r"class_weight_power='0.3'; expected a number, 0 or more"),
    ({"max_class_weight_ratio": 0.5}, r"max_class_weight_ratio=0.5; expected a number, 1 or more"),
    ({"epoch": 15}, r"unknown key\(s\) epoch; expected keys among .*epochs"),
    ({"inputs": {"segmentaton": {}}}, r"unknown input section\(s\) segmentaton; expected segmentation"),
    # the nested sections: a mistyped key, a value of the wrong kind or out of its range, named with its section
    ({"network": {"gru_unit": 8}}, r"\[network\]: Received unknown setting\(s\) gru_unit; expected keys among .*gru_units"),
    ({"atrial_rule": {"rr_max": "x"}}, r"\[atrial_rule\]: Received rr_max='x'; expected a number"),
    ({"atrial_rule": {"corr_max": -5}}, r"\[atrial_rule\]: Received corr_max=-5.0; expected a number from -1 to 1"),
    ({"atrial_rule": {"af_max": None}}, r"\[atrial_rule\]: Received af_max=None; expected a number"),
    ({"conduction_rule": {"rr_min": "a"}}, r"\[conduction_rule\]: Received rr_min='a'"),
    ({"conduction_rule": {"v_probability_max": 2}}, r"v_probability_max=2.0; expected a number from 0 to 1"),
    ({"supraventricular_run_rule": {"qrs_mn": 0.9}}, r"\[supraventricular_run_rule\]: Received unknown setting"),
    ({"atrial_rule": 0.2}, r"atrial_rule=0.2; expected a section of keys"),
    ({"v_min_probability": 2}, r"v_min_probability=2; expected a probability between 0 and 1"),
    ({"v_min_probability": "x"}, r"v_min_probability='x'"),
    ({"seeds_per_fold": True}, r"seeds_per_fold=True; expected a whole number"),
    ({"inputs": {"cleaning": {"lowpass_hz": "35"}}}, r"lowpass_hz='35'; expected a number"),
])
def test_a_training_configuration_is_checked_where_it_is_read(values, message):
    """A mistyped or out-of-range value in a configuration file is refused before any training starts (a string or a
    float epoch count used to fail deep inside Keras; an unknown key, as a Python argument error)."""
    with pytest.raises(ValueError, match=message):
        TrainingConfig.from_dict(values)


def test_a_partial_section_keeps_the_defaults_of_the_keys_left_out():
    """``[inputs.cleaning]`` with one key was refused with a bare ``'powerline_hz'``; like the other sections, the keys
    left out keep their defaults. A rule section given in part is the rule with the rest at the DS1 defaults."""
    config = TrainingConfig.from_dict({"inputs": {"cleaning": {"lowpass_hz": 35}},
                                       "atrial_rule": {"rr_max": 1.1}})
    assert config.inputs.cleaning == CleaningSettings(lowpass_hz=35.0)
    assert config.atrial_rule == AtrialRule(rr_max=1.1)
    assert TrainingConfig.from_dict(config.to_dict()) == config


@pytest.mark.slow
def test_weight_averaging_scores_and_keeps_the_averaged_weights(excerpt_inputs):
    """With ``ema_momentum`` each epoch is scored and kept with the optimizer's moving average of the weights, and
    training goes on from the weights trained."""
    config = TrainingConfig(network=NetworkConfig(gru_units=8, dense_units=16), ema_momentum=0.9)
    train = excerpt_inputs.select(np.isin(excerpt_inputs.record_names, ("100", "119", "201")))
    held_out = excerpt_inputs.select(np.isin(excerpt_inputs.record_names, ("106", "208")))
    model, sample_weight = build_training_model(train, config)
    assert model.optimizer.use_ema and model.optimizer.ema_momentum == 0.9
    model.fit(train.inputs.as_dict(), train.labels, sample_weight=sample_weight, batch_size=256, epochs=1, verbose=0)
    averages = [np.asarray(v).copy() for v in model.optimizer._model_variables_moving_average]
    for variable in model.trainable_weights:  # stands for the weights trained, unlike their average
        variable.assign(np.asarray(variable) + 0.01)
    trained = model.get_weights()
    monitor = ValidationMonitor(held_out.inputs.as_dict(), held_out.labels, 2, 256, NullTracker(), "")
    monitor.set_model(model)
    monitor.on_epoch_end(0)
    kept = dict(zip([w.path for w in model.weights], monitor.best_weights))
    for variable, average in zip(model.trainable_weights, averages):
        np.testing.assert_allclose(kept[variable.path], average, atol=1e-6)  # the average was scored and kept
    for now, before in zip(model.get_weights(), trained):
        np.testing.assert_array_equal(now, before)  # training goes on from the weights trained
    assert TrainingConfig.from_dict(config.to_dict()).ema_momentum == 0.9
    assert "ema_momentum" not in TrainingConfig().to_dict()  # earlier configurations serialise as they did
    for value in (1.0, 0.0, 1):
        with pytest.raises(ValueError, match="ema_momentum"):  # a wrong configuration fails when read, not in training
            TrainingConfig.from_dict({**config.to_dict(), "ema_momentum": value})


def test_reference_classes_mark_non_beats(excerpts_dir):
    annotations = read_record(excerpts_dir / "201").annotations
    classes = reference_classes(annotations)
    assert (classes[annotations.symbols == "+"] == NO_BEAT).all()
    assert (classes[annotations.symbols == "N"] == 0).all()
    assert (classes[annotations.symbols == "A"] == 1).all()


def test_calibration_error_is_zero_when_confidence_matches_accuracy():
    confidence = np.array([0.9] * 10 + [0.6] * 10)
    correct = np.array([1] * 9 + [0] + [1] * 6 + [0] * 4, dtype=bool)
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.0)
    assert expected_calibration_error(np.full(4, 0.99), np.zeros(4, bool)) == pytest.approx(0.99)


@pytest.mark.slow
def test_evaluation_writes_reports_and_readable_annotations(excerpt_inputs, excerpts_dir, tmp_path):
    config = TrainingConfig(n_folds=2, epochs=1, network=NetworkConfig(gru_units=8, dense_units=16))
    model = train_ensemble(excerpt_inputs, config, progress=False).ensemble
    report = evaluate_records(model, InputSettings(), excerpts_dir, ("119", "missing"), tmp_path, "cls",
                              progress=False)
    assert report.records == ["119"] and "missing" in report.failures
    result = write_report(report, tmp_path, {"model": "test"})
    gross = result["modes"]["reference"]["gross"]
    assert gross["beats"] == int((excerpt_inputs.record_names == "119").sum())
    assert json.loads((tmp_path / "classification_report.json").read_text())["modes"]["end_to_end"]
    record = read_record(excerpts_dir / "119")
    annotations = read_annotations(tmp_path / "119", "cls", source_fs_hz=record.source_fs_hz)
    assert set(annotations.symbols.tolist()) <= {"N", "S", "V", "F", "Q"}
    detected = detect_record_peaks(record).samples  # written where ecg score reports beats (pipeline.segment.time_beats)
    timed = time_beats(clean_record(record, InputSettings())[:, :1], detected, record.fs_hz)
    np.testing.assert_array_equal(annotations.samples, timed)
    assert np.sum(timed != detected) > 20  # 119's PVCs: the detector's point lies late on them
