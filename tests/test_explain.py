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
    samples = predictions.detected_samples[chosen]  # the classifier's inputs were taken there
    probabilities, attention, starts = explain_beats(loaded, record, samples, predictions.detected_samples)
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


def test_beats_are_reported_where_the_reference_marks_them_and_classified_where_detected(loaded, record):
    """Excerpt 208: the detector's point on a PVC lies up to 100 ms from the annotated one; the reported positions
    (pipeline.segment.time_beats) bring V beats and the intervals next to them near the reference, leave N beats
    where they were, and the classifier's inputs stay at the detector's positions."""
    from pipeline.detect import detect_record_peaks
    from pipeline.scoring import match_beats

    settings = InputSettings.from_dict(loaded.settings["inputs"])
    predictions = classify_record(loaded.model, settings, record)
    np.testing.assert_array_equal(predictions.detected_samples, detect_record_peaks(record).samples)
    assert np.all(np.diff(predictions.samples) > 0)
    reference = record.annotations
    ref_index, beat_index = match_beats(reference.samples, predictions.samples, record.fs_hz)
    symbols = reference.symbols[ref_index]
    ms = 1000.0 / record.fs_hz

    def median_offset_ms(positions, symbol):
        chosen = symbols == symbol
        return float(np.median(np.abs(positions[beat_index[chosen]] - reference.samples[ref_index[chosen]]))) * ms

    detected_v, timed_v = median_offset_ms(predictions.detected_samples, "V"), median_offset_ms(predictions.samples, "V")
    assert (symbols == "V").sum() > 100 and detected_v > 40 and timed_v < 20
    assert median_offset_ms(predictions.samples, "N") <= median_offset_ms(predictions.detected_samples, "N") + 3
    consecutive = np.flatnonzero((np.diff(ref_index) == 1) & (np.diff(beat_index) == 1))
    pairs = consecutive[(symbols[consecutive] == "V") | (symbols[consecutive + 1] == "V")]

    def share_off(positions):
        interval = np.diff(positions[beat_index])[pairs]
        return np.mean(np.abs(interval - np.diff(reference.samples[ref_index])[pairs]) * ms > 50)

    assert len(pairs) > 200 and share_off(predictions.detected_samples) > 0.5 and share_off(predictions.samples) < 0.1
