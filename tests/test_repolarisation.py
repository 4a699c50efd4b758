"""ST and QT measured once for what they are measured from (pipeline/repolarisation.py): an event threshold changed
in a review gives back the same result at once; other beats, classes or signal measure again."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from app.analysis import analyse_record, change_region_settings, relabel_beats
from models.bundled import load_default_model
from pipeline.qt import QtSettings
from pipeline.records import read_record
from pipeline.repolarisation import measure_repolarisation
from pipeline.st import StSettings

NONE = np.empty((0, 2), np.int64)


@pytest.fixture(scope="module")
def record_100(excerpts_dir):
    return read_record(excerpts_dir / "100")


def normal_beats(record) -> np.ndarray:
    return record.annotations.samples[record.annotations.symbols == "N"]


def measure(record, classes=None, st_settings=StSettings()):
    samples = normal_beats(record)
    classes = np.full(len(samples), "N") if classes is None else classes
    return measure_repolarisation(record, samples, classes, [], NONE, NONE, None, st_settings, QtSettings())


def test_the_same_inputs_give_back_the_result_and_any_change_measures_again(record_100):
    st, qt = measure(record_100)
    assert st.assessed and qt.assessed
    again = measure(record_100)
    assert again[0] is st and again[1] is qt  # kept: not measured again
    larger = dataclasses.replace(record_100, signal_mv=1.5 * record_100.signal_mv)  # the same beats, another signal
    scaled, _ = measure(larger)
    assert scaled is not st and scaled.reference_mv != st.reference_mv  # measured on its own signal
    classes = np.full(len(normal_beats(record_100)), "N")
    classes[::2] = "V"
    assert measure(record_100, classes)[0].measured_beats < st.measured_beats
    assert measure(record_100, st_settings=StSettings(threshold_mv=0.2))[0] is not st


def test_a_threshold_change_keeps_st_and_qt_and_a_relabel_measures_them_again(record_100):
    analysis = analyse_record(record_100, load_default_model())
    settings = dataclasses.replace(analysis.region_settings, pause_s=1.5)
    changed = change_region_settings(analysis, settings)
    assert changed.summary.st is analysis.summary.st and changed.summary.qt is analysis.summary.qt
    relabelled = relabel_beats(analysis, {k: "V" for k in range(0, 40, 2)})
    assert relabelled.summary.st is not analysis.summary.st
    assert relabelled.summary.st.measured_beats < analysis.summary.st.measured_beats
