"""Training on one-lead copies of the training beats (``TrainingConfig.one_lead_fraction``): the copies are the same
beats read from the primary lead only, they train where their patient trains, and they never validate."""

from __future__ import annotations

import numpy as np
import pytest

from models.network import NetworkConfig
from models.prepare import InputSettings
from models.train import NullTracker, TrainingConfig, plan_ensemble, train_ensemble
from models.training_data import load_labelled_inputs

EXCERPTS = ("100", "106", "119", "201", "208", "232")
TINY = TrainingConfig(n_folds=3, epochs=1, patience=1, network=NetworkConfig(gru_units=8, dense_units=16),
                      ensemble_members=2, one_lead_fraction=0.5)


@pytest.fixture(scope="module")
def both_ways(excerpts_dir, tmp_path_factory):
    cache = tmp_path_factory.mktemp("inputs")
    two = load_labelled_inputs(EXCERPTS, excerpts_dir, cache, InputSettings(), progress=False)
    one = load_labelled_inputs(EXCERPTS, excerpts_dir, cache, InputSettings(), progress=False, primary_lead_only=True)
    return two, one


def test_one_lead_inputs_are_the_same_beats_read_from_the_primary_lead(both_ways):
    two, one = both_ways
    np.testing.assert_array_equal(one.samples, two.samples)
    np.testing.assert_array_equal(one.labels, two.labels)
    np.testing.assert_array_equal(one.record_names, two.record_names)
    # Both leads are the primary one: the lead channels and the beat-minus-template channels repeat.
    np.testing.assert_array_equal(one.inputs.waveform[:, :, 0], one.inputs.waveform[:, :, 1])
    np.testing.assert_array_equal(one.inputs.waveform[:, :, 2], one.inputs.waveform[:, :, 3])
    # The primary lead (MLII in these records) is the two-lead inputs' first lead; the second differs. (The dominant
    # beat is chosen from both leads, so in a few records its scaling of the first lead moves too: 106, 208.)
    same_first = np.all(np.abs(one.inputs.waveform[:, :, 0] - two.inputs.waveform[:, :, 0]) < 1e-5, axis=1)
    same_second = np.all(np.abs(one.inputs.waveform[:, :, 1] - two.inputs.waveform[:, :, 1]) < 1e-5, axis=1)
    assert same_first.mean() > 0.6 and same_second.mean() < 0.01


def test_copies_train_with_their_patient_and_never_validate(both_ways):
    two, one = both_ways
    tasks, beat_fold = plan_ensemble(two, TINY, one_lead=one)
    n_copies = len(tasks[0].pool) - len(two)
    assert 0.4 * len(two) < n_copies < 0.6 * len(two)
    original = np.arange(len(tasks[0].pool)) < len(two)
    for task in tasks:
        assert np.array_equal(task.held_out_mask, original & np.isin(task.pool.record_names, task.validation_records))
        assert np.array_equal(task.held_out_mask[original], beat_fold == task.fold)  # the two-lead beats as before
        copies_trained = set(task.pool.record_names[task.train_mask & ~original].tolist())
        assert copies_trained and not copies_trained & set(task.validation_records)
        assert not (task.train_mask & task.held_out_mask).any()
    # The copies are the one-lead rows of the beats drawn.
    copy_waveform = tasks[0].pool.inputs.waveform[~original]
    np.testing.assert_array_equal(copy_waveform[:, :, 0], copy_waveform[:, :, 1])


def test_the_option_needs_the_one_lead_inputs_row_for_row(both_ways):
    two, one = both_ways
    with pytest.raises(ValueError, match="one-lead inputs, row for row"):
        plan_ensemble(two, TINY)
    with pytest.raises(ValueError, match="one-lead inputs, row for row"):
        plan_ensemble(two, TINY, one_lead=one.select(np.arange(len(one)) > 0))
    tasks, _ = plan_ensemble(two, TrainingConfig(n_folds=3), one_lead=one)  # off: no copies, as before
    assert len(tasks[0].pool) == len(two) and tasks[0].validation_mask is None


@pytest.mark.parametrize("value", [-0.1, 1.5, True, "half"])
def test_the_fraction_is_checked(value):
    with pytest.raises(ValueError, match="one_lead_fraction"):
        TrainingConfig(one_lead_fraction=value)


def test_configurations_without_the_option_serialise_as_before():
    assert "one_lead_fraction" not in TrainingConfig().to_dict()
    assert TrainingConfig.from_dict(TINY.to_dict()) == TINY


@pytest.mark.slow
def test_an_ensemble_trains_with_the_copies_and_scores_only_two_lead_patients(both_ways):
    two, one = both_ways
    result = train_ensemble(two, TINY, NullTracker(), progress=False, one_lead=one)
    assert len(result.oof_probabilities) == len(two)
    assert np.allclose(result.oof_probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert sorted(v for f in result.folds for v in f.validation_records) == sorted(EXCERPTS)
