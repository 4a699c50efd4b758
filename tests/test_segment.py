"""Beat segmentation and RR features on synthetic signals with known answers."""

import numpy as np
import pytest

from pipeline.errors import SamplingRateError
from pipeline.rr import RR_FEATURE_NAMES, BeatPositionError, compute_rr_features
from pipeline.segment import anchor_beats, segment_beats
from pipeline.types import SegmentationSettings

FS_HZ = 360.0
SETTINGS = SegmentationSettings(fs_hz=FS_HZ, pre_s=0.25, post_s=0.45, local_window_s=30.0)


def spike_signal(n_samples, peaks, n_leads=2):
    """Zero signal with unit spikes at ``peaks`` (lead j scaled by j + 1)."""
    signal = np.zeros((n_samples, n_leads), dtype=np.float32)
    signal[peaks] = np.arange(1, n_leads + 1, dtype=np.float32)
    return signal


def feature(features, name):
    return features[:, RR_FEATURE_NAMES.index(name)]


def test_windows_are_centred_on_the_peaks():
    peaks = np.array([400, 900, 1500, 2300])
    beats = segment_beats(spike_signal(3000, peaks), peaks, FS_HZ, SETTINGS)
    assert beats.windows_mv.shape == (4, SETTINGS.window_samples, 2)
    assert beats.windows_mv.dtype == np.float32
    assert (beats.windows_mv.argmax(axis=1) == SETTINGS.pre_samples).all()
    assert np.allclose(beats.windows_mv.max(axis=1), [1.0, 2.0])
    assert not beats.truncated.any() and not beats.has_gap.any()


def test_one_lead_signal_gives_one_column():
    peaks = np.array([500, 1000])
    beats = segment_beats(spike_signal(2000, peaks, n_leads=1)[:, 0], peaks, FS_HZ, SETTINGS)
    assert beats.windows_mv.shape == (2, SETTINGS.window_samples, 1)


def test_edge_beats_are_kept_flagged_and_edge_padded():
    n = 2000
    peaks = np.array([10, 1000, n - 20])
    signal = spike_signal(n, peaks)
    signal[:5] = 0.5
    signal[-3:] = -0.5
    beats = segment_beats(signal, peaks, FS_HZ, SETTINGS)
    assert len(beats) == 3
    assert beats.truncated.tolist() == [True, False, True]
    pre = SETTINGS.pre_samples
    first, last = beats.windows_mv[0, :, 0], beats.windows_mv[2, :, 0]
    assert (first[: pre - 10] == 0.5).all()
    assert (last[pre + 20:] == -0.5).all()
    assert first[pre] == last[pre] == 1.0


def test_gaps_are_flagged_and_kept_as_nan():
    peaks = np.array([300, 1000, 1700])
    signal = spike_signal(2000, peaks)
    signal[1050:1060, 1] = np.nan
    beats = segment_beats(signal, peaks, FS_HZ, SETTINGS)
    assert beats.has_gap.tolist() == [False, True, False]
    assert np.isnan(beats.windows_mv[1]).sum() == 10
    assert np.isfinite(beats.rr_features).all()


def test_sampling_rate_mismatch_raises():
    peaks = np.array([300, 1000])
    with pytest.raises(SamplingRateError, match="fs_hz=250"):
        segment_beats(spike_signal(2000, peaks), peaks, 250.0, SETTINGS)
    with pytest.raises(SamplingRateError):
        compute_rr_features(peaks, 250.0, SETTINGS)


@pytest.mark.parametrize("peaks", [np.array([500, 400]), np.array([400, 400]), np.array([-1, 400]),
                                   np.array([400, 2000]), np.array([400.5, 900.0])])
def test_unusable_peaks_raise(peaks):
    with pytest.raises(BeatPositionError):
        segment_beats(spike_signal(2000, []), peaks, FS_HZ, SETTINGS)


def test_no_peaks_give_empty_beats():
    beats = segment_beats(spike_signal(2000, []), np.array([], dtype=np.int64), FS_HZ, SETTINGS)
    assert beats.windows_mv.shape == (0, SETTINGS.window_samples, 2)
    assert beats.rr_features.shape == (0, len(RR_FEATURE_NAMES))


def test_select_keeps_fields_aligned():
    peaks = np.array([300, 1000, 1700])
    beats = segment_beats(spike_signal(2000, peaks), peaks, FS_HZ, SETTINGS).select(np.array([True, False, True]))
    assert beats.samples.tolist() == [300, 1700]
    assert beats.windows_mv.shape[0] == beats.rr_features.shape[0] == beats.truncated.size == 2


def test_rr_features_of_a_regular_rhythm():
    peaks = np.arange(100, 100 + 60 * 288, 288)  # 0.8 s intervals
    features, names = compute_rr_features(peaks, FS_HZ, SETTINGS)
    assert names == RR_FEATURE_NAMES and features.shape == (60, len(names))
    for name in ("rr_pre_s", "rr_post_s", "rr_local_median_s", "rr_record_median_s"):
        assert np.allclose(feature(features, name), 0.8)
    for name in names:
        if name.endswith("_ratio"):
            assert np.allclose(feature(features, name), 1.0)
    assert feature(features, "rr_pre_filled").tolist() == [1.0] + [0.0] * 59
    assert feature(features, "rr_post_filled").tolist() == [0.0] * 59 + [1.0]


def test_rr_features_of_an_irregular_sequence():
    rr_samples = np.array([360, 360, 180, 540, 360, 360])  # one premature beat and its pause
    peaks = np.concatenate([[0], np.cumsum(rr_samples)])
    features, _ = compute_rr_features(peaks, FS_HZ, SETTINGS)  # 30 s window covers everything
    rr_s = rr_samples / FS_HZ
    record = np.median(rr_s)  # 1.0
    assert np.allclose(feature(features, "rr_pre_s")[1:], rr_s)
    assert np.allclose(feature(features, "rr_post_s")[:-1], rr_s)
    assert np.allclose(feature(features, "rr_local_median_s"), record)
    assert np.allclose(feature(features, "rr_record_median_s"), record)
    premature = 3  # the beat after the 0.5 s interval
    assert feature(features, "rr_pre_s")[premature] == pytest.approx(0.5)
    assert feature(features, "rr_prematurity_ratio")[premature] == pytest.approx(0.5)
    assert feature(features, "rr_post_pre_ratio")[premature] == pytest.approx(3.0)
    assert feature(features, "rr_pre_record_ratio")[premature] == pytest.approx(0.5)
    assert feature(features, "rr_prematurity_ratio")[premature + 1] == pytest.approx(3.0)
    assert feature(features, "rr_pre_s")[0] == pytest.approx(record)  # filled with the local median
    assert feature(features, "rr_post_s")[-1] == pytest.approx(record)


def test_local_median_follows_a_rate_change_within_its_window():
    slow, fast = np.full(100, 360), np.full(200, 180)  # 100 s at 1.0 s then 100 s at 0.5 s
    peaks = np.concatenate([[0], np.cumsum(np.concatenate([slow, fast]))])
    features, _ = compute_rr_features(peaks, FS_HZ, SETTINGS)
    local = feature(features, "rr_local_median_s")
    assert local[50] == pytest.approx(1.0) and local[-50] == pytest.approx(0.5)
    assert feature(features, "rr_record_median_s")[0] == pytest.approx(0.5)
    assert feature(features, "rr_pre_local_ratio")[50] == pytest.approx(1.0)


def test_local_median_matches_a_direct_computation_across_chunks(monkeypatch):
    monkeypatch.setattr("pipeline.rr._CHUNK_VALUES", 500)  # force many chunks
    rng = np.random.default_rng(1)
    peaks = np.cumsum(rng.integers(60, 900, size=400))
    settings = SegmentationSettings(local_window_s=10.0)
    local = feature(compute_rr_features(peaks, FS_HZ, settings)[0], "rr_local_median_s")
    half = settings.local_window_s * FS_HZ / 2
    starts, ends = peaks[:-1], peaks[1:]
    for i, peak in enumerate(peaks):
        overlapping = (ends >= peak - half) & (starts <= peak + half)
        assert local[i] == pytest.approx(np.median((ends - starts)[overlapping]) / FS_HZ, rel=1e-6)


def test_single_beat_has_filled_features_without_nan():
    features, _ = compute_rr_features(np.array([500]), FS_HZ, SETTINGS)
    assert features.shape == (1, len(RR_FEATURE_NAMES)) and np.isfinite(features).all()
    assert feature(features, "rr_pre_filled")[0] == feature(features, "rr_post_filled")[0] == 1.0


def test_rr_features_scale_to_a_day_long_record():
    rng = np.random.default_rng(0)
    peaks = np.cumsum(rng.integers(100, 700, size=100_000))
    features, _ = compute_rr_features(peaks, FS_HZ, SETTINGS)
    assert features.shape == (100_000, len(RR_FEATURE_NAMES)) and np.isfinite(features).all()


def test_settings_round_trip_and_validate():
    assert SegmentationSettings.from_dict(SETTINGS.to_dict()) == SETTINGS
    assert SETTINGS.pre_samples == 90 and SETTINGS.post_samples == 162
    with pytest.raises(ValueError, match="post_s"):
        SegmentationSettings(post_s=0.0)


ANCHORED = SegmentationSettings(anchor_search_s=0.08)


def test_anchoring_is_off_by_default_and_old_settings_serialise_unchanged():
    assert set(SETTINGS.to_dict()) == {"fs_hz", "pre_s", "post_s", "local_window_s"}
    peaks = np.array([100, 1000, 3000])
    assert anchor_beats(np.random.default_rng(0).normal(size=3600), peaks, FS_HZ, SETTINGS).tolist() == peaks.tolist()
    assert SegmentationSettings.from_dict(ANCHORED.to_dict()) == ANCHORED
    with pytest.raises(ValueError, match="anchor_search_s"):
        SegmentationSettings(anchor_search_s=0.5)


def test_anchors_climb_to_the_qrs_from_either_side_and_keep_order():
    t = np.arange(7200)
    x = np.exp(-((t - 1000) / 10.0) ** 2) + np.exp(-((t - 1300) / 10.0) ** 2)
    assert anchor_beats(x, np.array([975, 1325]), FS_HZ, ANCHORED).tolist() == [1000, 1300]
    assert anchor_beats(x, np.array([1025, 1275]), FS_HZ, ANCHORED).tolist() == [1000, 1300]
    # two positions on one bump would collide: both stay where they were given
    assert anchor_beats(x, np.array([980, 1020, 1300]), FS_HZ, ANCHORED).tolist() == [980, 1020, 1300]
    # a flat stretch gives no direction: the position stays
    assert anchor_beats(x, np.array([5000]), FS_HZ, ANCHORED).tolist() == [5000]


def test_reference_and_detected_positions_anchor_alike_on_wide_pvcs(mitdb_dir):
    """Record 119's PVCs: the detector's fiducial is 80-100 ms from the annotation's; the anchors agree."""
    from models.evaluate import reference_classes
    from models.prepare import InputSettings, clean_record
    from pipeline.detect import detect_record_peaks
    from pipeline.records import read_record
    from pipeline.scoring import match_beats

    record = read_record(mitdb_dir / "119")
    classes = reference_classes(record.annotations)
    reference = record.annotations.samples[classes >= 0]
    detected = detect_record_peaks(record).samples
    ref_index, det_index = match_beats(reference, detected, record.fs_hz)
    is_v = classes[classes >= 0][ref_index] == 2
    clean = clean_record(record, InputSettings())
    before_ms = (detected[det_index] - reference[ref_index])[is_v] / record.fs_hz * 1000
    after_ms = (anchor_beats(clean, detected, record.fs_hz, ANCHORED)[det_index]
                - anchor_beats(clean, reference, record.fs_hz, ANCHORED)[ref_index])[is_v] / record.fs_hz * 1000
    assert is_v.sum() > 400
    assert np.mean(np.abs(before_ms) > 40) > 0.5
    assert np.mean(np.abs(after_ms) <= 20) > 0.98
