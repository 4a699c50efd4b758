"""Attention of chosen beats (models.explain) on a real excerpt with the bundled model."""

from __future__ import annotations

import numpy as np
import pytest

from models.bundled import BUNDLED_MODEL
from models.explain import explain_beats
from models.predict import classify_record
from models.prepare import InputSettings
from models.registry import load_model
from pipeline.records import read_record


@pytest.fixture(scope="module")
def loaded():
    return load_model(BUNDLED_MODEL)


@pytest.fixture(scope="module")
def record(excerpts_dir):
    return read_record(excerpts_dir / "208")


def test_explain_beats_matches_classifier_and_weights_sum_to_one(loaded, record):
    settings = InputSettings.from_dict(loaded.settings["inputs"])
    predictions = classify_record(loaded.model, settings, record)
    classes = predictions.classes
    chosen = np.concatenate([np.flatnonzero(classes == "V")[:3], np.flatnonzero(classes == "N")[:3], [0]])
    assert len(chosen) == 7
    samples = predictions.samples[chosen]
    probabilities, attention, starts = explain_beats(loaded, record, samples, predictions.samples)
    window = settings.segmentation.window_samples
    assert attention.shape == (7, window)
    np.testing.assert_allclose(attention.sum(axis=1), 1.0, atol=1e-4)
    assert np.all(attention >= 0)
    np.testing.assert_allclose(probabilities, predictions.probabilities[chosen], atol=1e-4)
    np.testing.assert_array_equal(starts, samples - settings.segmentation.pre_samples)


def test_explain_beats_rejects_a_sample_that_is_not_a_beat(loaded, record):
    peaks = np.array([1000, 2000, 3000])
    with pytest.raises(ValueError, match="expected R peaks"):
        explain_beats(loaded, record, np.array([1500]), peaks)
