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


def test_a_threshold_change_keeps_the_blocked_p_waves_and_spike_share_and_a_relabel_measures_again(
        mitdb_dir, monkeypatch):
    """Session 64's profile: on a 24-hour record the blocked P waves and the pacing-spike share took 0.6 of the 1.0 s
    of a threshold change, which changes neither; they are kept (pipeline.kept_results) and the result is the same as
    measuring again. MIT-BIH 231 has 2:1 AV block, found from its blocked P waves."""
    from pipeline import region_eval

    analysis = analyse_record(read_record(mitdb_dir / "231"), load_default_model())
    calls = {"blocked": 0, "spikes": 0}
    blocked, spikes = region_eval.find_blocked_p_waves, region_eval.measure_spike_share
    monkeypatch.setattr(region_eval, "find_blocked_p_waves",
                        lambda *a, **k: calls.__setitem__("blocked", calls["blocked"] + 1) or blocked(*a, **k))
    monkeypatch.setattr(region_eval, "measure_spike_share",
                        lambda *a, **k: calls.__setitem__("spikes", calls["spikes"] + 1) or spikes(*a, **k))
    settings = dataclasses.replace(analysis.region_settings, pause_s=1.5)
    changed = change_region_settings(analysis, settings)
    assert calls == {"blocked": 0, "spikes": 0}
    region_eval.forget_kept_measures()
    again = change_region_settings(analysis, settings)
    assert calls == {"blocked": 1, "spikes": 1}
    assert repr(changed.regions) == repr(again.regions) and repr(changed.summary) == repr(again.summary)  # NaN too
    assert any(r.kind in ("dropped_beat", "av_block_2_to_1") for r in again.regions)  # what the P waves make
    n_calls = dict(calls)
    relabelled = relabel_beats(analysis, {k: "V" for k in range(0, 40, 2)})  # N beats changed: measured again
    assert calls["blocked"] == n_calls["blocked"] + 1 and relabelled.summary.n_beats == analysis.summary.n_beats
