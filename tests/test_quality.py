"""Signal-quality spans: each rule on synthetic signals with known problems, then on MIT-BIH records."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.signal

from pipeline import quality
from pipeline.errors import EcgInputError, SamplingRateError
from pipeline.quality import (
    LeadQualitySummary,
    QualitySettings,
    find_quality_spans,
    merge_runs,
    noise_floors,
    spare_beat_trains,
    subtract_runs,
    summarize_quality,
    window_medians,
)
from pipeline.records import read_record
from pipeline.types import QualitySpan

FS_HZ = 360.0


def synthetic_ecg(duration_s: float, seed: int = 0) -> np.ndarray:
    """P-QRS-T complexes every ~0.8 s, 10 uV recorder noise, quantised to 5 uV as in MIT-BIH (float32, mV)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * FS_HZ)) / FS_HZ
    x = rng.normal(0.0, 0.01, t.size)
    beat = 0.5
    while beat < duration_s:
        for amplitude, offset_s, width_s in ((0.15, -0.16, 0.025), (1.2, 0.0, 0.012), (-0.2, 0.03, 0.01),
                                             (0.3, 0.25, 0.06)):
            x += amplitude * np.exp(-0.5 * ((t - beat - offset_s) / width_s) ** 2)
        beat += 0.8 + rng.normal(0.0, 0.02)
    return (np.round(x / 0.005) * 0.005).astype(np.float32)


def spans_of(kind: str, spans: list[QualitySpan]) -> list[tuple[int, int, int]]:
    return [(s.lead, s.start, s.stop) for s in spans if s.kind == kind]


# --- each rule on a synthetic lead --------------------------------------------------------------------------


def test_clean_synthetic_ecg_has_no_spans():
    assert find_quality_spans(synthetic_ecg(60.0)[:, None], FS_HZ) == []


def test_nan_runs_are_missing_and_nothing_else():
    x = synthetic_ecg(60.0)
    x[1000:1100] = np.nan
    x[5000] = np.nan
    expected = [QualitySpan("missing", 0, 1000, 1100), QualitySpan("missing", 0, 5000, 5001)]
    assert find_quality_spans(x, FS_HZ) == expected


def test_flat_stretch_of_two_seconds_is_found_and_half_a_second_is_not():
    x = synthetic_ecg(60.0)
    x[3600:4320] = x[3600]
    x[9000:9180] = x[9000]
    flat = spans_of("flat", find_quality_spans(x, FS_HZ))
    assert len(flat) == 1
    lead, start, stop = flat[0]
    assert abs(start - 3600) <= 18 and abs(stop - 4320) <= 18  # merging across glitches may take in 50 ms


def test_flat_runs_interrupted_by_a_glitch_are_merged():
    x = synthetic_ecg(60.0)
    x[3600:4000] = 0.1
    x[4000] = 0.3  # one-sample glitch
    x[4001:4400] = 0.1
    flat = spans_of("flat", find_quality_spans(x, FS_HZ))
    assert len(flat) == 1 and flat[0][1] <= 3600 and flat[0][2] >= 4400


def test_constant_lead_is_flat_not_saturated():
    spans = find_quality_spans(np.full(3600, 0.2, np.float32), FS_HZ)
    assert spans == [QualitySpan("flat", 0, 0, 3600)]


CLIPPED_STARTS = (1800, 5400, 9000, 12600)


def clipped_ecg() -> np.ndarray:
    """A minute of synthetic ECG held at a rail above its maximum for 100 ms at each of :data:`CLIPPED_STARTS`."""
    x = synthetic_ecg(60.0)
    rail = float(x.max()) + 0.5
    for start in CLIPPED_STARTS:
        x[start:start + 36] = rail
    return x


def test_repeated_plateaus_at_the_extreme_are_saturated():
    x = clipped_ecg()
    x[15000:15036] = float(x.min()) - 0.5  # a single 100 ms excursion at the other extreme
    assert spans_of("saturated", find_quality_spans(x, FS_HZ)) == [(0, a, a + 36) for a in CLIPPED_STARTS]


def test_a_padded_end_far_below_the_signal_leaves_ordinary_stretches_unsaturated(excerpts_dir):
    """wfdb's ``wfdb_to_edf`` pads the last data record with the physical minimum (-163.84 mV at 200 adu/mV). That one
    outlier used to widen the band of the other extreme to 3.3 mV, and record 100's isoelectric stretches (5 uV
    steps, still for 50-80 ms) came out as hundreds of saturated fragments; only the padding is stuck at a rail."""
    record = read_record(excerpts_dir / "100", annotator=None)
    n = int(60 * FS_HZ)
    x = np.concatenate([record.signal_mv[:n], np.full((n // 6, 2), -163.84, np.float32)])
    assert spans_of("saturated", find_quality_spans(x, FS_HZ)) == [(0, n, n + n // 6), (1, n, n + n // 6)]


def test_clipping_is_still_found_beside_a_padded_end():
    x = clipped_ecg()
    x[-3600:] = -163.84
    found = spans_of("saturated", find_quality_spans(x, FS_HZ))
    assert found == [(0, a, a + 36) for a in CLIPPED_STARTS] + [(0, x.size - 3600, x.size)]


def test_single_plateau_at_the_maximum_is_not_saturation():
    # The top of one slow artefact that happens to be the lead's maximum (records 108, 111, 121).
    x = synthetic_ecg(60.0)
    x[9000:9025] = float(x.max()) + 1.0
    assert spans_of("saturated", find_quality_spans(x, FS_HZ)) == []


def test_short_stuck_runs_at_the_extreme_are_not_saturation():
    x = synthetic_ecg(60.0)
    rail = float(x.max()) + 0.5
    for start in range(1800, 18000, 1800):
        x[start:start + 10] = rail  # 28 ms, below the 50 ms minimum
    assert spans_of("saturated", find_quality_spans(x, FS_HZ)) == []


def test_muscle_noise_burst_is_noise():
    x = synthetic_ecg(60.0)
    x[7200:9360] += np.random.default_rng(1).normal(0.0, 0.05, 2160).astype(np.float32)
    assert find_quality_spans(x, FS_HZ) == [QualitySpan("noise", 0, 7200, 9360)]


def test_motion_artefact_is_noise():
    x = synthetic_ecg(60.0)
    t = np.arange(10800, 12240) / FS_HZ
    x[10800:12240] += np.sin(2 * np.pi * 3.0 * t).astype(np.float32)
    assert find_quality_spans(x, FS_HZ) == [QualitySpan("noise", 0, 10800, 12240)]


def test_steady_baseline_wander_is_not_noise():
    x = synthetic_ecg(60.0)
    x += np.sin(2 * np.pi * 0.3 * np.arange(x.size) / FS_HZ).astype(np.float32)
    assert find_quality_spans(x, FS_HZ) == []


def test_a_baseline_step_is_noise_in_its_lead_only():
    """An electrode pop: both leads clean, then one of them 1.5 mV lower from 20 s on, decaying back over seconds."""
    x = np.column_stack([synthetic_ecg(40.0), synthetic_ecg(40.0, seed=1)])
    t = np.arange(x.shape[0]) / FS_HZ
    x[:, 0] -= np.where(t >= 20.0, 1.5 * np.exp(-(t - 20.0) / 3.0), 0.0).astype(np.float32)
    noise = spans_of("noise", find_quality_spans(x, FS_HZ))
    assert len(noise) == 1 and noise[0][0] == 0
    assert 19.0 < noise[0][1] / FS_HZ < 19.8 and 20.2 < noise[0][2] / FS_HZ < 21.0


def test_wander_tall_wide_beats_and_fast_rhythms_are_not_steps():
    x = synthetic_ecg(60.0)
    wide_beat_run(x, 20.0, 30, rr_s=0.4)  # 12 s at 150 bpm of 2-mV wide complexes
    wide_beat_run(x, 40.0, 6, rr_s=1.2)  # slow ones, 2 mV up and a long deep S wave
    x += np.sin(2 * np.pi * 0.3 * np.arange(x.size) / FS_HZ).astype(np.float32)  # 1 mV of respiratory wander
    assert quality.find_step_runs(x, FS_HZ, QualitySettings()).size == 0
    assert quality.find_step_runs(x + 1.0, FS_HZ, QualitySettings()).size == 0  # offset, no step


def test_a_level_change_across_a_gap_is_missing_signal_not_a_step():
    """A lead off for a second that comes back 1.5 mV higher: the gap is the span; holding its last value would
    have made a step of the return."""
    x = synthetic_ecg(30.0)
    x[5400:] += 1.5
    x[5040:5400] = np.nan
    assert find_quality_spans(x, FS_HZ) == [QualitySpan("missing", 0, 5040, 5400)]


def test_the_step_rule_can_be_turned_off():
    x = synthetic_ecg(30.0)
    x[5400:] += 3.0
    assert quality.find_step_runs(x, FS_HZ, QualitySettings()).shape[0] == 1
    assert find_quality_spans(x, FS_HZ, QualitySettings(step_min_mv=float("inf"))) == []


def wide_beat_run(x: np.ndarray, start_s: float, n_beats: int, rr_s: float = 0.4) -> np.ndarray:
    """Replace ``x`` from ``start_s`` by a run of identical wide (120 ms), tall ventricular-like complexes (with
    the recorder noise of :func:`synthetic_ecg`); returns their samples."""
    t = np.arange(x.size) / FS_HZ
    peaks = start_s + rr_s * np.arange(n_beats)
    stretch = slice(int((start_s - 0.2) * FS_HZ), int((peaks[-1] + 0.4) * FS_HZ))
    x[stretch] = np.random.default_rng(2).normal(0.0, 0.01, x[stretch].size)
    for peak in peaks:
        x += (2.0 * np.exp(-0.5 * ((t - peak) / 0.03) ** 2) - 0.8 * np.exp(-0.5 * ((t - peak - 0.08) / 0.04) ** 2)
              ).astype(np.float32)
    return np.round(peaks * FS_HZ).astype(np.int64)


def test_a_run_of_like_wide_beats_flagged_as_noise_is_spared():
    x = synthetic_ecg(60.0)
    run = wide_beat_run(x, 20.0, 15)  # 6 s of ventricular tachycardia at 150 bpm
    spans = find_quality_spans(x, FS_HZ)
    assert any(s.kind == "noise" and s.start <= run[7] < s.stop for s in spans)  # what the noise rule alone does
    spared = spare_beat_trains(spans, x, run, FS_HZ)
    assert not any(s.kind == "noise" and s.start < run[-1] and s.stop > run[0] for s in spared)


def test_a_wandering_fiducial_point_breaks_a_train_unless_shifts_are_allowed():
    x = synthetic_ecg(60.0)
    run = wide_beat_run(x, 20.0, 15)
    jitter = np.tile([0, 18, -4], 5)  # the detector's point moving over the wide complex (up to 61 ms apart)
    spans = find_quality_spans(x, FS_HZ)
    fixed = spare_beat_trains(spans, x, run + jitter, FS_HZ)
    assert any(s.kind == "noise" and s.start <= run[7] < s.stop for s in fixed)
    shifted = spare_beat_trains(spans, x, run + jitter, FS_HZ, QualitySettings(train_max_lag_s=0.06))
    assert not any(s.kind == "noise" and s.start < run[-1] and s.stop > run[0] for s in shifted)
    with pytest.raises(ValueError, match="train_max_lag_s"):
        QualitySettings(train_max_lag_s=0.1)


def test_artefact_with_unlike_detections_stays_noise():
    x = synthetic_ecg(60.0)
    rng = np.random.default_rng(3)
    x[10800:12240] += (np.sin(2 * np.pi * 3.0 * np.arange(10800, 12240) / FS_HZ)
                       + rng.normal(0.0, 0.3, 1440)).astype(np.float32)
    spans = find_quality_spans(x, FS_HZ)
    detections = np.sort(rng.choice(np.arange(10900, 12100), 12, replace=False))  # beats "found" in the artefact
    assert spare_beat_trains(spans, x, detections, FS_HZ) == spans


def test_sparing_keeps_other_kinds_and_checks_its_input():
    x = synthetic_ecg(30.0)
    x[1000:1100] = np.nan
    run = wide_beat_run(x, 10.0, 10)
    spans = [QualitySpan("missing", 0, 1000, 1100), QualitySpan("noise", 0, int(run[0]) - 100, int(run[-1]) + 100)]
    assert spare_beat_trains(spans, x, run, FS_HZ) == spans[:1]
    with pytest.raises(ValueError, match="strictly increasing"):
        spare_beat_trains(spans, x, run[::-1], FS_HZ)
    with pytest.raises(ValueError, match="train_min_beats"):
        QualitySettings(train_min_beats=1)


def test_subtract_runs_leaves_the_pieces_outside():
    assert subtract_runs(0, 100, np.array([[10, 20], [50, 120]])) == [(0, 10), (20, 50)]
    assert subtract_runs(0, 100, np.array([[-5, 200]])) == []
    assert subtract_runs(0, 100, np.zeros((0, 2), np.int64)) == [(0, 100)]


def test_noise_is_judged_per_lead():
    x = np.column_stack([synthetic_ecg(60.0, seed=0), synthetic_ecg(60.0, seed=1)])
    x[7200:9360, 1] += np.random.default_rng(2).normal(0.0, 0.05, 2160).astype(np.float32)
    assert find_quality_spans(x, FS_HZ) == [QualitySpan("noise", 1, 7200, 9360)]


def test_flat_and_missing_stretches_do_not_lower_the_typical_noise_floor():
    # Half the record disconnected: the connected half must not be called noisy.
    x = synthetic_ecg(60.0)
    x[:10800] = 0.0
    x[10800:12000] = np.nan
    assert {s.kind for s in find_quality_spans(x, FS_HZ)} == {"flat", "missing"}


def test_signal_shorter_than_a_noise_window_is_still_checked():
    x = np.full(300, np.nan, np.float32)
    x[100:] = 0.1
    assert find_quality_spans(x, FS_HZ) == [QualitySpan("missing", 0, 0, 100)]  # 200 flat samples: below 1 s


def test_all_nan_lead_is_one_missing_span():
    x = np.column_stack([synthetic_ecg(10.0), np.full(3600, np.nan, np.float32)])
    assert find_quality_spans(x, FS_HZ) == [QualitySpan("missing", 1, 0, 3600)]


def test_spans_are_sorted_and_same_kind_spans_never_touch():
    x = np.column_stack([synthetic_ecg(60.0, seed=3), synthetic_ecg(60.0, seed=4)])
    noise = np.random.default_rng(5).normal(0.0, 0.05, x.shape).astype(np.float32)
    x[3000:6000] += noise[3000:6000]
    x[5000:8000] += noise[5000:8000]
    x[10000:10100, 0] = np.nan
    x[14000:15000, 1] = 0.0
    spans = find_quality_spans(x, FS_HZ)
    order = [(s.lead, quality.QUALITY_KINDS.index(s.kind), s.start) for s in spans]
    assert order == sorted(order)
    for a, b in zip(spans, spans[1:]):
        if (a.lead, a.kind) == (b.lead, b.kind):
            assert b.start > a.stop


# --- building blocks ----------------------------------------------------------------------------------------


def test_merge_runs_joins_overlapping_touching_and_close_runs():
    runs = np.array([[0, 5], [3, 8], [8, 10], [13, 20], [40, 50]])
    np.testing.assert_array_equal(merge_runs(runs, 0), [[0, 10], [13, 20], [40, 50]])
    np.testing.assert_array_equal(merge_runs(runs, 3), [[0, 20], [40, 50]])


def test_window_medians_match_numpy_median_of_each_window():
    values = np.random.default_rng(0).random(1001).astype(np.float32)
    expected = [np.sort(values[k:k + 100])[50] for k in range(0, 902, 50)]
    np.testing.assert_array_equal(window_medians(values, 100, 50), expected)


def test_chunked_noise_floors_equal_filtering_the_whole_lead(monkeypatch):
    x = synthetic_ecg(120.0)
    x[5000:5400] = np.nan
    settings = QualitySettings()
    whole = noise_floors(x, FS_HZ, settings)
    monkeypatch.setattr(quality, "_CHUNK_WINDOWS", 7)  # chunks of 7 hops, not a multiple of the window
    np.testing.assert_allclose(noise_floors(x, FS_HZ, settings), whole, rtol=1e-5, atol=1e-7)
    filled = x.astype(np.float64)
    filled[5000:5400] = filled[4999]  # gaps are held at the last valid value
    sos = scipy.signal.butter(4, settings.hf_cutoff_hz, btype="highpass", fs=FS_HZ, output="sos")
    direct = np.abs(scipy.signal.sosfilt(sos, filled, zi=scipy.signal.sosfilt_zi(sos) * filled[0])[0])
    np.testing.assert_allclose(whole[:, 0], window_medians(direct.astype(np.float32), 720, 360), rtol=1e-4)


def test_settings_are_checked():
    with pytest.raises(ValueError, match=r"Received noise_factor=0; expected a positive number"):
        QualitySettings(noise_factor=0)
    with pytest.raises(ValueError, match=r"Received band_hz=\(25.0, 1.0\)"):
        QualitySettings(band_hz=(25.0, 1.0))


def test_bad_signal_or_rate_raises():
    with pytest.raises(EcgInputError, match=r"Received a signal of shape \(10, 2, 2\)"):
        find_quality_spans(np.zeros((10, 2, 2), np.float32), FS_HZ)
    with pytest.raises(EcgInputError, match=r"dtype int64"):
        find_quality_spans(np.zeros((10, 2), np.int64), FS_HZ)
    with pytest.raises(SamplingRateError, match=r"Received fs_hz=40"):
        find_quality_spans(np.zeros((400, 1), np.float32), 40.0)


def test_summary_counts_seconds_per_kind_and_overlaps_once():
    spans = [QualitySpan("missing", 0, 0, 360), QualitySpan("noise", 0, 180, 720), QualitySpan("flat", 1, 0, 3600),
             QualitySpan("saturated", 1, 0, 36)]
    first, second, third = summarize_quality(spans, 3600, FS_HZ, n_leads=3)
    assert first == LeadQualitySummary(0, 1.0, 0.0, 0.0, 1.5, 2.0, 0.8)
    assert second == LeadQualitySummary(1, 0.0, 10.0, 0.1, 0.0, 10.0, 0.0)
    assert third == LeadQualitySummary(2, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    assert len(summarize_quality(spans, 3600, FS_HZ)) == 2


# --- MIT-BIH records ----------------------------------------------------------------------------------------


def noise_seconds(spans: list[QualitySpan], lead: int) -> float:
    return sum(s.duration_s(FS_HZ) for s in spans if s.kind == "noise" and s.lead == lead)


def test_clean_record_100_has_no_spans(mitdb_dir):
    record = read_record(mitdb_dir / "100")
    assert find_quality_spans(record.signal_mv, record.fs_hz) == []


@pytest.mark.parametrize("name", ["105", "203"])
def test_noisy_records_have_minutes_of_noise_in_mlii(mitdb_dir, name):
    # Both carry long stretches of muscle and motion artefact (MIT-BIH directory; '~' annotations).
    record = read_record(mitdb_dir / name)
    assert noise_seconds(find_quality_spans(record.signal_mv, record.fs_hz), record.primary_lead) > 90.0


def test_ventricular_tachycardia_of_record_205_is_not_noise_once_beats_are_known(mitdb_dir):
    """Record 205's VT runs raise the noise floor; with the reference beats the noise spans leave them."""
    from pipeline.labels import is_beat_symbol

    record = read_record(mitdb_dir / "205")
    beats = record.annotations.select(is_beat_symbol(record.annotations.symbols))
    v_samples = beats.samples[beats.symbols == "V"]
    spans = find_quality_spans(record.signal_mv, record.fs_hz)

    def v_beats_in_noise(found):
        return sum(any(s.kind == "noise" and s.lead == record.primary_lead and s.start <= v < s.stop for s in found)
                   for v in v_samples)

    before = v_beats_in_noise(spans)
    assert before >= 10  # the noise rule alone hides VT beats (REGIONS.md)
    assert v_beats_in_noise(spare_beat_trains(spans, record.signal_mv, beats.samples, record.fs_hz)) <= before // 4


@pytest.mark.parametrize("name", ["105", "203"])
def test_real_artefact_stays_noise_after_sparing(mitdb_dir, name):
    from pipeline.detect import detect_record_peaks

    record = read_record(mitdb_dir / name)
    spans = spare_beat_trains(find_quality_spans(record.signal_mv, record.fs_hz), record.signal_mv,
                              detect_record_peaks(record).samples, record.fs_hz)
    assert noise_seconds(spans, record.primary_lead) > 60.0


def test_the_electrode_pop_of_record_208_is_noise_in_mlii_only(mitdb_dir):
    """At 20:16.8 MLII jumps by about 3 mV and decays back over a second (the reference marks noise, '~', there);
    V1 is clean."""
    record = read_record(mitdb_dir / "208")
    spans = find_quality_spans(record.signal_mv[int(1200 * FS_HZ):int(1230 * FS_HZ)], record.fs_hz)
    noise = [(lead, start / FS_HZ + 1200, stop / FS_HZ + 1200) for lead, start, stop in spans_of("noise", spans)]
    assert {lead for lead, _, _ in noise} == {0}
    assert any(start < 1216.8 < stop for _, start, stop in noise)


def test_record_119_has_little_noise(mitdb_dir):
    record = read_record(mitdb_dir / "119")
    spans = find_quality_spans(record.signal_mv, record.fs_hz)
    assert noise_seconds(spans, 0) + noise_seconds(spans, 1) < 10.0


def test_converter_limits_of_record_116_are_saturation(mitdb_dir):
    record = read_record(mitdb_dir / "116")
    saturated = [s for s in find_quality_spans(record.signal_mv, record.fs_hz) if s.kind == "saturated"]
    assert saturated and {s.lead for s in saturated} == {0}
    levels = {round(float(record.signal_mv[s.start, 0]), 3) for s in saturated}
    assert levels <= {5.115, -5.12}  # the 11-bit converter's limits around baseline 1024


@pytest.mark.slow
def test_day_long_two_lead_record_takes_seconds(mitdb_dir):
    record = read_record(mitdb_dir / "105")
    day = np.tile(record.signal_mv, (48, 1))  # 24 h at 360 Hz: 31.2 M samples per lead
    start = time.perf_counter()
    spans = find_quality_spans(day, record.fs_hz)
    elapsed_s = time.perf_counter() - start
    assert elapsed_s < 20.0  # about 3 s on an idle core; generous for shared CI machines
    assert noise_seconds(spans, 0) > 48 * 90.0
