"""HRV: known values on synthetic RR sequences (time and frequency domain), what is left out, and real records."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.detect import detect_record_peaks
from pipeline.hrv import HrvSettings, compute_hrv, select_nn_intervals
from pipeline.region_eval import evaluate_record, label_with_reference
from pipeline.regions import Region, find_regions, prepare_beats
from pipeline.records import read_record
from pipeline.summary import summarize_record, summary_to_dict
from pipeline.types import QualitySpan

FS = 360.0


def beats_from_rr(rr_s: np.ndarray) -> np.ndarray:
    return np.round((1.0 + np.concatenate([[0.0], np.cumsum(rr_s)])) * FS).astype(np.int64)


def context_of(samples: np.ndarray, classes, spans=()):
    return prepare_beats(samples, np.asarray(classes), FS, list(spans), int(samples[-1] + FS), n_leads=1)


def sinus_rr(n: int, seed: int = 0) -> np.ndarray:
    """A sinus-like RR sequence: 0.8 s, slow wander and beat-to-beat variation (quantised to whole samples)."""
    rng = np.random.default_rng(seed)
    rr = 0.8 + 0.05 * np.sin(np.arange(n) / 40.0) + rng.normal(0.0, 0.02, n)
    return np.round(rr * FS) / FS


def test_figures_match_their_definitions_on_a_clean_sinus_sequence():
    rr = sinus_rr(900)  # 12 minutes
    hrv = compute_hrv(context_of(beats_from_rr(rr), ["N"] * (len(rr) + 1)), [])
    diff = np.diff(rr)
    assert hrv.n_intervals == len(rr)
    assert hrv.mean_nn_ms == pytest.approx(1000 * rr.mean())
    assert hrv.sdnn_ms == pytest.approx(1000 * rr.std(ddof=1))
    assert hrv.rmssd_ms == pytest.approx(1000 * np.sqrt(np.mean(diff ** 2)))
    # differences over 50 ms counted in whole samples, as the intervals are: a tie of exactly 50 ms is not over it
    diff_samples = np.diff(np.round(rr * FS).astype(int))
    assert hrv.pnn50_pct == pytest.approx(100 * np.mean(np.abs(diff_samples) > 0.05 * FS))
    assert hrv.note == ""
    # Poincare plot: SD1 and SD2 are the spreads across and along the identity line (Brennan et al. 2001), which
    # the sample variances tie to the successive differences and the pairs' sums
    first, second = rr[:-1], rr[1:]
    assert hrv.sd1_ms == pytest.approx(1000 * np.std(diff, ddof=1) / np.sqrt(2))
    assert hrv.sd2_ms == pytest.approx(1000 * np.std(first + second, ddof=1) / np.sqrt(2))
    assert hrv.sd1_ms == pytest.approx(hrv.rmssd_ms / np.sqrt(2), rel=0.01)  # the differences average about 0
    assert hrv.sd2_ms > 2 * hrv.sd1_ms  # slow wander: the cloud lies along the identity line
    assert np.isnan(hrv.triangular_index)  # 12 minutes: the geometric methods need 20


def test_triangular_index_and_deceleration_capacity_follow_their_definitions():
    rr = sinus_rr(1800, seed=4)  # 24 minutes
    rr[500] = 0.4  # an interval the editing drops: no anchor's four intervals may span it
    hrv = compute_hrv(context_of(beats_from_rr(rr), ["N"] * (len(rr) + 1)), [])
    kept = np.abs(rr - 0.8) < 0.2
    histogram, _ = np.histogram(rr[kept], bins=np.arange(0.0, 2.0, 1 / 128))
    assert hrv.triangular_index == pytest.approx(kept.sum() / histogram.max())
    terms = []  # Bauer 2006, written out: anchors lengthen by at most 5 %, with two kept intervals before, one after
    for i in range(2, len(rr) - 1):
        if kept[i - 2:i + 2].all() and rr[i - 1] < rr[i] <= 1.05 * rr[i - 1]:
            terms.append((rr[i] + rr[i + 1] - rr[i - 1] - rr[i - 2]) / 4)
    assert len(terms) > 500 and hrv.deceleration_capacity_ms == pytest.approx(1000 * np.mean(terms))
    assert hrv.deceleration_capacity_ms > 0  # a lengthening is on average kept up by the next interval


def test_ectopic_beats_and_their_intervals_are_left_out():
    rr = sinus_rr(600)
    classes = np.full(len(rr) + 1, "N")
    rr_ectopic = rr.copy()
    for beat in range(50, 550, 50):  # a premature V beat with a compensatory pause every 50 beats
        classes[beat] = "V"
        rr_ectopic[beat - 1], rr_ectopic[beat] = 0.5, rr[beat - 1] + rr[beat] - 0.5
    hrv = compute_hrv(context_of(beats_from_rr(rr_ectopic), classes), [])
    keep = np.ones(len(rr), bool)
    for beat in range(50, 550, 50):
        keep[beat - 1:beat + 1] = False
    assert hrv.n_intervals == keep.sum()
    assert hrv.sdnn_ms == pytest.approx(1000 * rr[keep].std(ddof=1), rel=1e-6)
    successive = keep[:-1] & keep[1:]
    assert hrv.rmssd_ms == pytest.approx(1000 * np.sqrt(np.mean(np.diff(rr)[successive] ** 2)), rel=1e-6)


def test_a_missed_beat_is_edited_out_and_unreadable_signal_and_af_are_left_out():
    rr = sinus_rr(600)
    missed = rr.copy()
    missed[100] = rr[100] + rr[101]  # the detector missed a beat: one interval twice as long
    missed = np.delete(missed, 101)
    samples = beats_from_rr(missed)
    kept = select_nn_intervals(context_of(samples, ["N"] * len(samples)), [])
    assert not kept[100] and kept[:100].all() and kept[101:].all()
    noise = QualitySpan("noise", 0, int(samples[200]) - 10, int(samples[230]) + 10)
    af = Region("atrial_fibrillation", int(samples[300]), int(samples[400]) + 1, 300, 101, 75.0, 1.0)
    kept = select_nn_intervals(context_of(samples, ["N"] * len(samples), [noise]), [af])
    assert not kept[199:231].any() and not kept[299:401].any()  # intervals touching the AF beats 300-400 too
    assert kept[150:199].all() and kept[231:299].all() and kept[401:500].all()
    hrv = compute_hrv(context_of(samples, ["N"] * len(samples), [noise]), [af])
    assert hrv.assessed and hrv.af_left_out_s == pytest.approx(af.duration_s(FS))
    assert hrv.note.startswith("HRV from the stretches outside atrial fibrillation only (1.4 min")


def test_segment_figures_use_five_minute_segments():
    means = (0.7, 0.8, 0.9)
    rr = np.concatenate([np.round((m + 0.02 * np.sin(np.arange(int(300 / m)))) * FS) / FS for m in means])
    hrv = compute_hrv(context_of(beats_from_rr(rr), ["N"] * (len(rr) + 1)), [])
    assert hrv.sdann_ms == pytest.approx(100.0, abs=3.0)  # the SD of 700, 800 and 900 ms
    assert hrv.sdnn_index_ms == pytest.approx(1000 * 0.02 / np.sqrt(2), rel=0.1)


def test_too_few_normal_intervals_give_no_figures_and_say_why():
    rr = sinus_rr(200)  # under 3 minutes of normal-to-normal intervals
    hrv = compute_hrv(context_of(beats_from_rr(rr), ["N"] * (len(rr) + 1)), [])
    assert np.isnan([hrv.sdnn_ms, hrv.rmssd_ms, hrv.pnn50_pct, hrv.sdann_ms]).all()
    assert hrv.note.startswith("HRV not assessed: 16") and "at least 240 s needed" in hrv.note
    samples = beats_from_rr(rr)
    summary = summarize_record(find_regions(samples, np.full(len(samples), "N"), FS, [], int(samples[-1] + FS)),
                               samples, np.full(len(samples), "N"), FS, [], int(samples[-1] + FS))
    assert hrv.note in summary.notes
    assert summary_to_dict(summary)["hrv"]["sdnn_ms"] is None


def test_settings_are_checked():
    with pytest.raises(ValueError, match="min_nn_s=2.0, max_nn_s=0.3"):
        HrvSettings(min_nn_s=2.0, max_nn_s=0.3)
    with pytest.raises(ValueError, match="reference_intervals=40"):
        HrvSettings(reference_intervals=40)
    with pytest.raises(ValueError, match="relative_limit=1.5"):
        HrvSettings(relative_limit=1.5)


def test_detected_beats_give_the_hrv_of_the_reference_beats_on_record_100(mitdb_dir):
    """Record 100 (sinus rhythm, a few APCs): HRV from our detector agrees with the annotated beats."""
    reference = evaluate_record(mitdb_dir / "100", label_with_reference).summary.hrv
    record = read_record(mitdb_dir / "100")
    samples = detect_record_peaks(record).samples
    ref_samples = record.annotations.samples[np.isin(record.annotations.symbols, ["N", "A", "V"])]
    ref_classes = record.annotations.symbols[np.isin(record.annotations.symbols, ["N", "A", "V"])]
    # the detected beats take the class of the annotated beat they match (within 150 ms), so only detection differs
    nearest = np.clip(np.searchsorted(ref_samples, samples), 1, len(ref_samples) - 1)
    nearest -= (samples - ref_samples[nearest - 1]) < (ref_samples[nearest] - samples)
    classes = np.where(ref_classes[nearest] == "A", "S", ref_classes[nearest])
    detected = compute_hrv(context_of(samples, classes), [])
    assert reference.sdnn_ms > 20 and reference.n_intervals > 2000
    assert detected.sdnn_ms == pytest.approx(reference.sdnn_ms, rel=0.03)
    assert detected.rmssd_ms == pytest.approx(reference.rmssd_ms, rel=0.1)
    assert detected.mean_nn_ms == pytest.approx(reference.mean_nn_ms, rel=0.005)


def modulated_rr(duration_s: float, lf_ms: float, hf_ms: float, mean_s: float = 0.8) -> np.ndarray:
    """RR intervals of a heart whose NN interval follows 0.8 s + a 0.1 Hz (LF) and a 0.25 Hz (HF) sine, sampled
    at each beat (amplitudes in ms)."""
    t, rr = 0.0, []
    while t < duration_s:
        interval = mean_s + 1e-3 * (lf_ms * np.sin(2 * np.pi * 0.1 * t) + hf_ms * np.sin(2 * np.pi * 0.25 * t))
        t += interval
        rr.append(interval)
    return np.asarray(rr)


def test_lf_and_hf_power_follow_the_modulation_of_the_intervals():
    rr = modulated_rr(900.0, lf_ms=30.0, hf_ms=20.0)  # 15 minutes: three 5-minute spectra
    samples = np.round((1.0 + np.concatenate([[0.0], np.cumsum(rr)])) * FS).astype(np.int64)
    hrv = compute_hrv(context_of(samples, ["N"] * len(samples)), [])
    assert hrv.spectral_segments == 3
    # a sine of amplitude A (ms) has power A^2 / 2; quantising beats to whole samples adds a little broadband power
    assert hrv.lf_ms2 == pytest.approx(450.0, rel=0.1) and hrv.hf_ms2 == pytest.approx(200.0, rel=0.1)
    assert hrv.lf_hf_ratio == pytest.approx(2.25, rel=0.1)
    swapped = modulated_rr(900.0, lf_ms=10.0, hf_ms=30.0)
    samples = np.round((1.0 + np.concatenate([[0.0], np.cumsum(swapped)])) * FS).astype(np.int64)
    assert compute_hrv(context_of(samples, ["N"] * len(samples)), []).lf_hf_ratio < 0.2


def test_segments_with_too_few_normal_intervals_give_no_spectrum():
    rr = modulated_rr(400.0, lf_ms=30.0, hf_ms=20.0)  # one full segment, then 100 s: too little for a second
    samples = np.round((1.0 + np.concatenate([[0.0], np.cumsum(rr)])) * FS).astype(np.int64)
    classes = np.full(len(samples), "N")
    hrv = compute_hrv(context_of(samples, classes), [])
    assert hrv.spectral_segments == 1 and hrv.lf_ms2 > 0
    rr = modulated_rr(900.0, lf_ms=30.0, hf_ms=20.0)
    samples = np.round((1.0 + np.concatenate([[0.0], np.cumsum(rr)])) * FS).astype(np.int64)
    classes = np.full(len(samples), "N")
    classes[::4] = "V"  # every fourth beat ectopic: half the intervals left out, under 80 % of every segment
    hrv = compute_hrv(context_of(samples, classes), [])
    assert hrv.assessed and hrv.spectral_segments == 0 and np.isnan(hrv.lf_hf_ratio)


@pytest.mark.parametrize("kwargs", [{"lf_band_hz": (0.15, 0.04)}, {"hf_band_hz": (0.1, 0.4)},
                                    {"spectrum_min_coverage": 0.0}])
def test_spectral_settings_are_validated(kwargs):
    with pytest.raises(ValueError, match="Received"):
        HrvSettings(**kwargs)


def test_each_hour_gets_the_hrv_of_its_own_normal_intervals():
    """Two hours and a bit: a variable first hour, a steadier second one with ectopic beats, then 7 minutes of
    bigeminy (no normal-to-normal interval: too little for HRV; a part under 5 minutes would join the hour before).
    Each hour's figures are those of its own kept intervals; a paced patient gets none."""
    first, second = sinus_rr(4500, seed=1), 0.8 + (sinus_rr(4500, seed=2) - 0.8) / 4  # 1 h each at 75 bpm
    rr = np.concatenate([first, second, sinus_rr(525, seed=3)])
    samples = beats_from_rr(rr)
    classes = np.full(len(samples), "N")
    classes[4500 + np.arange(100, 4400, 50)] = "V"  # intervals on both sides of each left out
    classes[9001::2] = "V"  # the last 7 minutes in bigeminy
    n = int(samples[-1] + FS)
    s = summarize_record([], samples, classes, FS, [], n)
    hours = s.hourly
    assert len(hours) == 3
    context = context_of(samples, classes)
    kept = select_nn_intervals(context, [])
    hour = np.minimum(samples[:-1] / FS // 3600, 2)
    for h in (0, 1):
        nn = context.rr_s[kept & (hour == h)]
        assert hours[h].sdnn_ms == pytest.approx(1000 * nn.std(ddof=1))
        successive = (kept & (hour == h))[:-1] & (kept & (hour == h))[1:]
        assert hours[h].rmssd_ms == pytest.approx(1000 * np.sqrt(np.mean(np.diff(context.rr_s)[successive] ** 2)))
        assert hours[h].lf_hf_ratio > 0
    assert hours[1].sdnn_ms < hours[0].sdnn_ms / 2 and hours[1].rmssd_ms < hours[0].rmssd_ms / 2
    assert hours[0].pnn50_pct > hours[1].pnn50_pct
    assert np.isnan(hours[2].sdnn_ms) and np.isnan(hours[2].rmssd_ms)  # no NN interval: under min_total_s
    row = summary_to_dict(s)["hourly"][0]
    assert row["sdnn_ms"] == round(hours[0].sdnn_ms, 1) and summary_to_dict(s)["hourly"][2]["sdnn_ms"] is None
    paced = summarize_record([], samples, classes, FS, [], n, pacemaker="stated by the user").hourly
    assert all(np.isnan(h.sdnn_ms) for h in paced)
