"""R-peak detector: accuracy on real records under EC57 rules, robustness, and no-beat inputs."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.detect import LOCATED_MIN_GAP_S, DetectorSettings, RegularIntervals, detect_r_peaks
from pipeline.errors import SamplingRateError
from pipeline.labels import is_beat_symbol
from pipeline.records import read_record, resample_signal
from pipeline.scoring import DetectionCounts, compare_beats, count_detections
from pipeline.splits import MITDB_RECORDS


def score_record(record, samples, start_s=300.0) -> DetectionCounts:
    match = compare_beats(record.annotations, samples, record.fs_hz, record.n_samples, start_s=start_s)
    return count_detections(match)


def detect(record, signal=None):
    signal = record.signal_mv if signal is None else signal
    return detect_r_peaks(signal, record.fs_hz, primary_lead=record.primary_lead)


@pytest.mark.parametrize("name", ["100", "106", "119", "201", "208", "232"])
def test_excerpts_detected_almost_perfectly(excerpts_dir, name):
    """Scored from the first sample (no learning period), so a few errors are allowed."""
    record = read_record(excerpts_dir / name)
    counts = score_record(record, detect(record).samples, start_s=0.0)
    assert counts.sensitivity >= 0.98 and counts.positive_predictivity >= 0.98, counts


def test_no_beats_in_the_pause_that_opens_a_record(excerpts_dir):
    """232 opens with 1.4 s of baseline before its first beat; its noise must not pass for beats."""
    record = read_record(excerpts_dir / "232")
    first_reference_s = record.annotations.samples[is_beat_symbol(record.annotations.symbols)][0] / record.fs_hz
    samples = detect(record).samples
    assert first_reference_s > 1.3
    assert samples[0] / record.fs_hz == pytest.approx(first_reference_s, abs=0.05), samples[:4] / record.fs_hz


@pytest.mark.slow
def test_all_48_records_meet_the_target(mitdb_dir):
    """Gross QRS Se and +P over all 48 MIT-BIH records (EC57, from 5 min, VF excluded) >= 99.8%, the issue's target;
    and no more than about 20 beats missed or extra beyond what the shipped detector gives (85 missed, 104 extra,
    session 55), since the target alone would let ~100 more of each through. No two beats closer than 150 ms: one QRS
    counted twice made a "PVC" coupled at 117 ms in 104 and two beats of a false tachycardia in 116."""
    total = DetectionCounts(0, 0, 0)
    for name in MITDB_RECORDS:
        record = read_record(mitdb_dir / name)
        samples = detect(record).samples
        assert np.diff(samples).min() >= LOCATED_MIN_GAP_S * record.fs_hz, name
        total = total + score_record(record, samples)
    assert total.tp > 90_000
    assert total.sensitivity >= 0.998, total
    assert total.positive_predictivity >= 0.998, total
    assert total.fn <= 100 and total.fp <= 130, total


def test_beats_placed_too_close_are_kept_once_and_handed_on_as_waves(mitdb_dir):
    """207's ventricular flutter: neighbouring waves placed under 150 ms apart are one beat among the beats, but the
    flutter finder's rate check counts them all (:attr:`Detection.wave_samples`); without them its first flutter
    episode was reported as ventricular tachycardia (session 55). Detected in 10-minute chunks, the same waves."""
    record = read_record(mitdb_dir / "207")
    detection = detect(record)
    assert np.diff(detection.samples).min() >= LOCATED_MIN_GAP_S * record.fs_hz
    assert np.isin(detection.samples, detection.wave_samples).all()
    assert np.diff(detection.wave_samples).min() < LOCATED_MIN_GAP_S * record.fs_hz
    assert detection.wave_samples.size - detection.samples.size >= 10
    chunked = detect_r_peaks(record.signal_mv, record.fs_hz, primary_lead=record.primary_lead,
                             settings=DetectorSettings(chunk_s=600.0))
    assert np.diff(chunked.samples).min() >= LOCATED_MIN_GAP_S * record.fs_hz
    assert abs(chunked.wave_samples.size - detection.wave_samples.size) <= 3
    assert np.isin(chunked.samples, chunked.wave_samples).all()


@pytest.mark.parametrize("name", ["105", "108", "203"])
def test_hardest_records_stay_usable(mitdb_dir, name):
    """Noise (105), tall P and T waves (108), multiform ventricular beats (203)."""
    record = read_record(mitdb_dir / name)
    counts = score_record(record, detect(record).samples)
    assert counts.sensitivity >= 0.99 and counts.positive_predictivity >= 0.97, counts


def test_detections_sit_on_the_r_peak(excerpts_dir):
    record = read_record(excerpts_dir / "100")
    match = compare_beats(record.annotations, detect(record).samples, record.fs_hz, record.n_samples, start_s=0)
    detected = detect(record).samples[match.test_index]
    reference = record.annotations.samples[match.ref_index]
    assert np.median(np.abs(detected - reference)) <= 2  # samples at 360 Hz (about 5 ms)


def test_reversed_polarity_and_scaling_do_not_change_beats(excerpts_dir):
    record = read_record(excerpts_dir / "208")
    base = detect(record).samples
    flipped = detect(record, -record.signal_mv).samples
    scaled = detect(record, record.signal_mv * 3.0 + 0.7).samples
    assert len(flipped) == pytest.approx(len(base), abs=2)
    assert len(scaled) == len(base)
    assert np.isin(flipped, np.concatenate([base + k for k in range(-3, 4)])).mean() > 0.99


def test_low_sampling_rate_recording_is_detected(excerpts_dir):
    """A 128 Hz Holter-style recording, resampled to the internal rate, loses no beats."""
    record = read_record(excerpts_dir / "119")
    holter = resample_signal(record.signal_mv, record.fs_hz, 128.0)
    back = resample_signal(holter, 128.0, record.fs_hz)
    counts = score_record(record, detect(record, back).samples, start_s=0.0)
    assert counts.sensitivity >= 0.99 and counts.positive_predictivity >= 0.99, counts


def test_one_dead_lead_falls_back_to_the_other(excerpts_dir):
    record = read_record(excerpts_dir / "100")
    signal = record.signal_mv.copy()
    signal[:, record.primary_lead] = 0.0
    counts = score_record(record, detect(record, signal).samples, start_s=0.0)
    assert counts.sensitivity >= 0.98, counts


def test_gap_yields_no_beats_inside_it(excerpts_dir):
    record = read_record(excerpts_dir / "100")
    signal = record.signal_mv.copy()
    lo, hi = int(60 * record.fs_hz), int(80 * record.fs_hz)
    signal[lo:hi] = np.nan
    samples = detect(record, signal).samples
    assert not np.any((samples > lo + 40) & (samples < hi - 40))
    assert np.sum(samples < lo) > 60 and np.sum(samples > hi) > 200


def test_no_beats_in_a_gap_of_every_lead_when_one_lead_stays_missing_after_it(excerpts_dir):
    """A multi-segment record's gap followed by a segment with one lead only (MIMIC-like): ringing is not beats."""
    record = read_record(excerpts_dir / "100")
    signal = record.signal_mv.copy()
    lo, hi = int(60 * record.fs_hz), int(70 * record.fs_hz)
    signal[lo:hi] = np.nan
    signal[hi:, 1] = np.nan
    samples = detect(record, signal).samples
    assert not np.any((samples >= lo) & (samples < hi))
    assert np.sum(samples < lo) > 70 and np.sum(samples >= hi) > 280


@pytest.mark.parametrize(
    ("signal", "reason"),
    [
        (np.zeros((7200, 2)), "flat"),
        (np.full((7200, 1), np.nan), "missing"),
        (np.ones(300), "too short"),
        (np.random.default_rng(1).normal(0, 1, (36000, 2)), "noise"),
        (np.cumsum(np.random.default_rng(2).normal(0, 0.05, 36000)), "noise"),
        (np.random.default_rng(3).standard_t(3, (360000, 2)), "noise"),
    ],
    ids=["silence", "all-missing", "too-short", "white-noise", "random-walk", "impulsive-noise"],
)
def test_no_beats_with_a_reason(signal, reason):
    detection = detect_r_peaks(signal, 360.0)
    assert len(detection) == 0
    assert reason in detection.reason
    # only noise is noise from end to end; silence, gaps and scraps are the quality rules' to name
    assert detection.noise_only == (((0, len(signal)),) if reason == "noise" else ())


def test_chunks_of_a_long_record_that_hold_only_noise_are_reported(excerpts_dir):
    """Chunked detection (here 120-s chunks with 10-s margins): the chunk that is noise with its margins is named,
    no chunk of ECG is, and the beats on both sides are still found."""
    record = read_record(excerpts_dir / "100")
    fs = int(record.fs_hz)
    ecg = record.signal_mv[:240 * fs]
    noise = np.random.default_rng(4).normal(0, 0.3, (360 * fs, ecg.shape[1]))
    signal = np.concatenate([ecg, noise, ecg])  # noise from 240 s to 600 s
    settings = DetectorSettings(chunk_s=120.0, chunk_margin_s=10.0)
    detection = detect_r_peaks(signal, record.fs_hz, settings=settings)
    assert any(a <= 360 * fs and b >= 480 * fs for a, b in detection.noise_only)  # the chunk inside the noise
    assert all(a >= 240 * fs and b <= 600 * fs for a, b in detection.noise_only)  # never a chunk of ECG
    assert np.sum(detection.samples < 230 * fs) > 250 and np.sum(detection.samples >= 610 * fs) > 250
    assert detection.reason == ""


def test_clean_minutes_of_a_mostly_noisy_stretch_are_detected(excerpts_dir):
    """Two minutes of excerpt 100, then six of heavy noise (detected as one stretch): as a whole it does not stand out
    of the noise, but its clean 30-s blocks do, so their beats are found (scored against the reference from the first
    sample) and only the noise is reported as noise only. Before, the whole stretch was unreadable with no beat."""
    record = read_record(excerpts_dir / "100")
    fs = int(record.fs_hz)
    ecg = record.signal_mv[:120 * fs]
    noise = np.random.default_rng(5).normal(0, 1.0, (360 * fs, ecg.shape[1]))
    detection = detect_r_peaks(np.concatenate([ecg, noise]), record.fs_hz)
    clean = detection.samples[detection.samples < 120 * fs]
    reference = record.annotations.samples[is_beat_symbol(record.annotations.symbols)]
    reference = reference[reference < 119 * fs]
    found = np.min(np.abs(reference[:, None] - clean[None, :]), axis=1) <= 0.15 * fs
    assert found.mean() > 0.97 and len(clean) <= len(reference) + 3
    assert detection.noise_only and detection.noise_only[0][0] >= 90 * fs
    assert all(b <= 480 * fs for _, b in detection.noise_only) and detection.noise_only[-1][1] == 480 * fs
    only_noise = detect_r_peaks(noise, record.fs_hz)
    assert len(only_noise) == 0 and only_noise.noise_only == ((0, len(noise)),)


def test_beats_after_a_stretch_held_at_the_rail_are_found(excerpts_dir):
    """Both leads of excerpt 100 held at the amplifier's rail (10.2 mV, as an 11-bit ADC at 200/mV clips) from 30 to
    60 s: the steps in and out raised the detector's levels so far that it missed most beats of the next 20 s (five
    false pauses); the held stretch is now bridged as a gap, and the beats after it are found as before it."""
    record = read_record(excerpts_dir / "100")
    fs = int(record.fs_hz)
    signal = record.signal_mv[:120 * fs].copy()
    signal[30 * fs:60 * fs] = 10.235
    samples = detect_r_peaks(signal, record.fs_hz).samples
    reference = record.annotations.samples[is_beat_symbol(record.annotations.symbols)]
    after = reference[(reference > 61 * fs) & (reference < 119 * fs)]
    found = np.min(np.abs(after[:, None] - samples[None, :]), axis=1) <= 0.15 * fs
    assert found.all() and not np.any((samples > 30.5 * fs) & (samples < 59.5 * fs))
    assert np.max(np.diff(samples[samples > 60 * fs])) < 1.5 * fs


def test_out_of_range_rate_is_rejected():
    with pytest.raises(SamplingRateError, match="expected 100 to 1000 Hz"):
        detect_r_peaks(np.zeros(1000), 50.0)


def test_settings_change_behaviour(excerpts_dir):
    """The threshold is a real parameter: a much higher one misses beats."""
    record = read_record(excerpts_dir / "201")
    strict = DetectorSettings(threshold_fraction=0.95, searchback_fraction=1.0)
    assert len(detect_r_peaks(record.signal_mv, record.fs_hz, settings=strict)) < len(detect(record))


def test_search_back_finds_low_aberrated_beats_of_201(mitdb_dir):
    """Record 201's low aberrated atrial premature beats sit under the threshold; the shipped search-back (an RR gap
    over 1.4 times the recent mean, EXPERIMENTS.md row AL) finds more of them than Pan and Tompkins's 1.66."""
    record = read_record(mitdb_dir / "201")
    shipped = score_record(record, detect(record).samples)
    pan_tompkins = score_record(record, detect_r_peaks(record.signal_mv, record.fs_hz, primary_lead=record.primary_lead,
                                                       settings=DetectorSettings(searchback_rr_factor=1.66,
                                                                                 searchback_noise_floor=0.0)).samples)
    assert shipped.fn < pan_tompkins.fn - 5, (shipped, pan_tompkins)
    assert shipped.fp <= pan_tompkins.fp + 2, (shipped, pan_tompkins)


def test_regular_intervals_leave_out_a_premature_beat_and_follow_a_new_rate():
    """Pan and Tompkins's RR AVERAGE2: a premature beat's short and long intervals do not enter it; after 8 intervals in
    a row outside 92-116 % of it, it restarts from the recent ones."""
    regular = RegularIntervals()
    for rr in [300.0] * 8 + [180.0, 400.0, 300.0]:
        regular.add(rr)
    assert regular.mean() == pytest.approx(300.0)
    for rr in [200.0] * 7:
        regular.add(rr)
    assert regular.mean() == pytest.approx(300.0)
    regular.add(200.0)
    assert regular.mean() == pytest.approx(200.0)


def test_search_back_noise_floor_changes_nothing_in_clean_signal_and_cuts_false_beats_in_noise(excerpts_dir):
    """A floor under the search-back's threshold (``searchback_noise_floor``, off by default; EXPERIMENTS.md rows AP and
    AQ) lies under that threshold in clean signal: the same beats as without it. In white noise as strong as the QRS
    complexes the search-back without it accepts the noise's peaks."""
    record = read_record(excerpts_dir / "119")
    floor = DetectorSettings(searchback_noise_floor=1.5)
    clean = detect_r_peaks(record.signal_mv, record.fs_hz, primary_lead=record.primary_lead, settings=floor)
    assert np.array_equal(clean.samples, detect(record).samples)
    noisy = record.signal_mv + np.random.default_rng(0).normal(0.0, 0.5, record.signal_mv.shape)
    shipped = score_record(record, detect(record, noisy).samples, start_s=0.0)
    with_floor = score_record(record, detect_r_peaks(noisy, record.fs_hz, primary_lead=record.primary_lead,
                                                     settings=floor).samples, start_s=0.0)
    assert with_floor.fp < shipped.fp / 2 and with_floor.fn <= shipped.fn + 2, (with_floor, shipped)


def test_clean_search_back_finds_more_of_201s_aberrated_beats_and_leaves_noise_alone(mitdb_dir, excerpts_dir):
    """``searchback_clean_fraction`` (off by default; EXPERIMENTS.md row BJ) lowers the search-back's threshold only
    where the running noise level is a small part of the beat level: in record 201 it finds low aberrated atrial
    premature beats the shipped detector misses, adding no detection that is not a reference beat; in white noise as
    strong as the QRS complexes (the noise level there is not small) it changes nothing."""
    clean = DetectorSettings(searchback_clean_fraction=0.5, searchback_clean_noise_ratio=0.15)
    record = read_record(mitdb_dir / "201")
    shipped = score_record(record, detect(record).samples, start_s=0.0)
    lower = score_record(record, detect_r_peaks(record.signal_mv, record.fs_hz, primary_lead=record.primary_lead,
                                                settings=clean).samples, start_s=0.0)
    assert lower.fn <= shipped.fn - 10 and lower.fp <= shipped.fp, (lower, shipped)
    excerpt = read_record(excerpts_dir / "119")
    noisy = excerpt.signal_mv + np.random.default_rng(0).normal(0.0, 0.5, excerpt.signal_mv.shape)
    lowered = detect_r_peaks(noisy, excerpt.fs_hz, primary_lead=excerpt.primary_lead, settings=clean)
    assert np.array_equal(lowered.samples, detect(excerpt, noisy).samples)
