"""Ventricular flutter/fibrillation: the VF filter on synthetic signals of known shape, then MIT-BIH record 207's
flutter against its reference ``[``...``]`` marks and records without any."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pipeline.detect import detect_record_peaks
from pipeline.fibrillation import FibrillationSettings, find_fibrillation_intervals, measure_leakage
from pipeline.quality import ARTEFACT_KIND, find_quality_spans
from pipeline.records import read_record
from pipeline.region_eval import compare_episodes
from pipeline.rhythm_annotations import flutter_intervals
from pipeline.types import QualitySpan

FS = 250.0


def sinus_like(duration_s: float, rate_bpm: float = 70.0, fs_hz: float = FS) -> np.ndarray:
    """Narrow QRS-like pulses (Gaussian, 20 ms wide) on a flat baseline, with a small T wave."""
    t = np.arange(int(duration_s * fs_hz)) / fs_hz
    x = np.zeros_like(t)
    for beat_s in np.arange(0.5, duration_s, 60.0 / rate_bpm):
        x += np.exp(-0.5 * ((t - beat_s) / 0.02) ** 2) + 0.2 * np.exp(-0.5 * ((t - beat_s - 0.3) / 0.06) ** 2)
    return x


def with_flutter(x: np.ndarray, start_s: float, stop_s: float, frequency_hz: float = 4.0,
                 fs_hz: float = FS) -> np.ndarray:
    t = np.arange(len(x)) / fs_hz
    inside = (t >= start_s) & (t < stop_s)
    return np.where(inside, 0.8 * np.sin(2 * np.pi * frequency_hz * t), x)


def test_leakage_is_low_for_a_sinusoid_and_high_for_narrow_beats():
    window = int(4 * FS)
    flutter, f_hz = measure_leakage(np.sin(2 * np.pi * 4 * np.arange(window) / FS), np.array([0]), window, FS)
    beats, _ = measure_leakage(sinus_like(4.0), np.array([0]), window, FS)
    assert flutter[0] < 0.05 and f_hz[0] == pytest.approx(4.0, rel=0.05)
    assert beats[0] > 0.9


def test_flutter_between_sinus_beats_is_found_on_two_leads_within_the_window_edges():
    x = with_flutter(sinus_like(60.0), 20.0, 40.0)
    found = find_fibrillation_intervals(np.stack([x, 0.5 * x], axis=1), FS)
    assert len(found) == 1
    start_s, stop_s = found[0] / FS
    assert 17.5 <= start_s <= 21.0 and 39.0 <= stop_s <= 42.5  # half a window of slack at each end


def test_sinus_rhythm_fast_or_slow_is_not_flutter():
    for rate in (40.0, 70.0, 150.0):
        x = sinus_like(60.0, rate)
        assert find_fibrillation_intervals(np.stack([x, x], axis=1), FS).size == 0


def test_every_usable_lead_must_agree_by_default():
    flutter = with_flutter(sinus_like(60.0), 20.0, 40.0)
    two_leads = np.stack([flutter, sinus_like(60.0)], axis=1)
    assert find_fibrillation_intervals(two_leads, FS).size == 0
    anyone = dataclasses.replace(FibrillationSettings(), leads="any")
    assert len(find_fibrillation_intervals(two_leads, FS, settings=anyone)) == 1


def test_a_flat_or_clipped_lead_does_not_vote():
    flutter = with_flutter(sinus_like(60.0), 20.0, 40.0)
    clipped = np.clip(4 * np.sin(2 * np.pi * 4 * np.arange(len(flutter)) / FS), -1, 1)  # a square-ish wave
    leads = np.stack([flutter, clipped], axis=1)
    spans = [QualitySpan("saturated", 1, 0, len(flutter))]
    found = find_fibrillation_intervals(leads, FS, spans)
    assert len(found) == 1 and 17 <= found[0, 0] / FS <= 21
    assert find_fibrillation_intervals(clipped, FS, [QualitySpan("saturated", 0, 0, len(clipped))]).size == 0


def test_a_stretch_a_reader_marked_as_artefact_is_not_flutter():
    """A reader's artefact mark on every lead blocks the detector there (the mark is the reader's verdict)."""
    flutter = np.stack([with_flutter(sinus_like(60.0), 20.0, 40.0)] * 2, axis=1)
    assert len(find_fibrillation_intervals(flutter, FS)) == 1
    marks = [QualitySpan(ARTEFACT_KIND, lead, int(15 * FS), int(45 * FS)) for lead in (0, 1)]
    assert find_fibrillation_intervals(flutter, FS, marks).size == 0


def test_high_frequency_noise_and_baseline_wander_are_outside_the_band():
    rng = np.random.default_rng(0)
    t = np.arange(int(60 * FS)) / FS
    for x in (sinus_like(60.0) + 0.5 * rng.standard_normal(len(t)),  # muscle-like broadband noise
              sinus_like(60.0) + 2.0 * np.sin(2 * np.pi * 0.3 * t)):  # breathing baseline
        assert find_fibrillation_intervals(np.stack([x, x], axis=1), FS).size == 0


def test_nan_gaps_short_records_and_disabled_settings():
    x = with_flutter(sinus_like(60.0), 20.0, 40.0)
    x[1000:1100] = np.nan
    assert len(find_fibrillation_intervals(x, FS, [QualitySpan("missing", 0, 1000, 1100)])) == 1
    assert find_fibrillation_intervals(x[:500], FS).shape == (0, 2)
    off = dataclasses.replace(FibrillationSettings(), enabled=False)
    assert find_fibrillation_intervals(x, FS, settings=off).shape == (0, 2)


def test_an_oscillation_over_a_normal_beat_rate_is_not_flutter():
    x = with_flutter(sinus_like(60.0), 20.0, 40.0)
    slow = np.round(np.arange(0.5, 60.0, 60 / 70) * FS).astype(np.int64)  # the detector follows a 70/min rhythm
    fast = np.round(np.arange(20.1, 40.0, 0.25) * FS).astype(np.int64)  # ... or the flutter waves at 240/min
    assert find_fibrillation_intervals(x, FS, beat_samples=slow).size == 0
    waves = np.sort(np.concatenate([slow[slow < 20 * FS], fast]))
    assert len(find_fibrillation_intervals(x, FS, beat_samples=waves)) == 1
    no_gate = dataclasses.replace(FibrillationSettings(), min_rate_bpm=0.0)
    assert len(find_fibrillation_intervals(x, FS, settings=no_gate, beat_samples=slow)) == 1


@pytest.mark.parametrize("field, value", [("window_s", 0.0), ("hop_s", 5.0), ("leakage_threshold", 1.5),
                                          ("band_hz", (10.0, 2.0)), ("merge_gap_s", -1.0), ("leads", "both"),
                                          ("min_rate_bpm", -1.0)])
def test_settings_are_checked(field, value):
    with pytest.raises(ValueError, match=f"Received {field}="):
        dataclasses.replace(FibrillationSettings(), **{field: value})


def test_record_207_flutter_is_found_and_records_without_it_stay_clear(mitdb_dir):
    record = read_record(mitdb_dir / "207", annotator="atr")
    reference = flutter_intervals(record.annotations, record.n_samples)
    found = find_fibrillation_intervals(record.signal_mv, record.fs_hz,
                                        find_quality_spans(record.signal_mv, record.fs_hz),
                                        beat_samples=detect_record_peaks(record).wave_samples)
    counts = compare_episodes(reference, found, record.fs_hz, start_s=0.0)
    assert (counts.detected, counts.missed) == (6, 0)  # every episode
    assert counts.duration_sensitivity > 0.9 and counts.duration_predictivity > 0.8  # DS1 study: 96.1 / 84.4 %
    for name in ("100", "105", "203"):  # clean, very noisy, multiform PVCs and AF with noise
        other = read_record(mitdb_dir / name)
        spans = find_quality_spans(other.signal_mv, other.fs_hz)
        assert find_fibrillation_intervals(other.signal_mv, other.fs_hz, spans).size == 0


def test_a_recording_of_flutter_alone_is_flutter_not_noise(mitdb_dir):
    """100 s of record 207's flutter scored on its own (a monitor's or event recorder's strip) came out as 100 s of
    noise and "none found: ventricular flutter/fibrillation" (a QA pass of session 51): the detector finds no QRS
    there, and the rate check threw the flutter away for want of detected waves. Where none was detected, the
    oscillation's own rate counts."""
    from app.analysis import analyse_record
    from models.bundled import load_default_model

    whole = read_record(mitdb_dir / "207", annotator=None)
    fs = whole.fs_hz
    strip = dataclasses.replace(whole, signal_mv=whole.signal_mv[int(1540 * fs):int(1640 * fs)])  # (VFL 0.9-99.3 s
    detection = detect_record_peaks(strip)
    assert detection.samples.size == 0  # no QRS standing out of the noise
    found = find_fibrillation_intervals(strip.signal_mv, fs, find_quality_spans(strip.signal_mv, fs),
                                        beat_samples=detection.samples) / fs
    assert found.tolist() == [[1.5, 98.5]]
    analysis = analyse_record(strip, load_default_model())
    kinds = {r.kind: r.duration_s(fs) for r in analysis.regions}
    assert kinds["ventricular_flutter_fibrillation"] == 97.0 and kinds["unreadable"] <= 1.5


def single_lead(record, lead: int):
    return dataclasses.replace(record, signal_mv=record.signal_mv[:, [lead]], lead_names=(record.lead_names[lead],),
                               primary_lead=0)


def test_single_lead_recordings_keep_the_flutter_and_drop_an_oscillating_v1(mitdb_dir):
    # 101's V1 alone oscillates at 7.5-10.6 Hz for minutes under a normal rhythm (DS1 single-lead study, REGIONS.md);
    # 203's V1 alone keeps 23 s of fast runs, and 207's joined episodes take in the sinus seconds between them
    for name, lead, flutter_expected, false_max_s in (("101", 1, False, 5), ("203", 1, False, 30),
                                                      ("207", 0, True, 30)):
        record = single_lead(read_record(mitdb_dir / name, annotator="atr"), lead)
        found = find_fibrillation_intervals(record.signal_mv, record.fs_hz,
                                            find_quality_spans(record.signal_mv, record.fs_hz),
                                            beat_samples=detect_record_peaks(record).wave_samples)
        counts = compare_episodes(flutter_intervals(record.annotations, record.n_samples), found, record.fs_hz,
                                  start_s=0.0)
        assert counts.test_s - counts.overlap_test_s <= false_max_s
        if flutter_expected:
            assert counts.duration_sensitivity > 0.7


def test_the_analysis_hands_the_flutter_finder_every_placed_wave(mitdb_dir):
    """207's first flutter episode (40-60 s) needs the waves the detector's refractory check takes out of the beats
    (session 55 found it reported as ventricular tachycardia without them): ``ecg score``'s analysis keeps them
    (``RecordAnalysis.waves``), and an edit whose settings make the evidence be measured again (an artefact mark)
    keeps the episode too."""
    from app.analysis import analyse_record, edit_analysis
    from models.bundled import load_default_model

    record = read_record(mitdb_dir / "207", annotator=None)
    fs = record.fs_hz
    strip = dataclasses.replace(record, signal_mv=record.signal_mv[:int(120 * fs)])
    analysis = analyse_record(strip, load_default_model())
    assert analysis.waves is not None and len(analysis.waves) > len(analysis.predictions)

    def flutter_s(a):
        return sum(r.duration_s(fs) for r in a.regions if r.kind == "ventricular_flutter_fibrillation"
                   and r.start < 60 * fs and r.stop > 40 * fs)

    assert flutter_s(analysis) >= 10
    edited = edit_analysis(analysis, artefacts=[(int(100 * fs), int(101 * fs))])
    assert edited.rhythm_evidence is not analysis.rhythm_evidence  # measured again, from the waves
    assert flutter_s(edited) == flutter_s(analysis)
