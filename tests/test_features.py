"""Beat context features: synthetic beats with known answers, then the bundled MIT-BIH excerpts."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.clean import clean_signal
from pipeline.datasets import build_beat_dataset
from pipeline.features import (
    FEATURE_GROUPS,
    NEIGHBOUR_COLUMNS,
    RHYTHM_FEATURE_NAMES,
    FeatureSettings,
    compute_beat_context,
    detrend_segments,
    feature_group,
    line_basis,
    match_p_template,
)
from pipeline.labels import is_beat_symbol, map_symbols_to_aami
from pipeline.records import read_record
from pipeline.rr import RR_FEATURE_NAMES
from pipeline.segment import segment_beats
from pipeline.types import SegmentationSettings

FS_HZ = 360.0
SETTINGS = SegmentationSettings(fs_hz=FS_HZ)


# --------------------------------------------------------------------------------------------- synthetic ECG


def add_wave(signal: np.ndarray, centre: int, amplitudes: tuple[float, float], sigma_s: float) -> None:
    """Add a Gaussian wave at sample ``centre`` with one amplitude per lead (in place)."""
    sigma = sigma_s * FS_HZ
    half = int(5 * sigma) + 1
    index = np.arange(max(centre - half, 0), min(centre + half + 1, len(signal)))
    shape = np.exp(-0.5 * ((index - centre) / sigma) ** 2)
    signal[index] += shape[:, None] * np.asarray(amplitudes, dtype=np.float32)


def synthetic_ecg(peaks: np.ndarray, n_samples: int, *, qrs_sigma_s=None, p_sign=None, p_offset_s=0.16,
                  t_amplitude=0.3) -> np.ndarray:
    """Two-lead ECG of Gaussian P, QRS and T waves; per-beat QRS width and P polarity optional."""
    signal = np.zeros((n_samples, 2), dtype=np.float32)
    for i, peak in enumerate(peaks):
        sigma = 0.012 if qrs_sigma_s is None else qrs_sigma_s[i]
        sign = 1.0 if p_sign is None else p_sign[i]
        add_wave(signal, int(peak), (1.0, -0.6), sigma)
        add_wave(signal, int(peak + 0.30 * FS_HZ), (t_amplitude, 0.5 * t_amplitude), 0.05)
        add_wave(signal, int(peak - p_offset_s * FS_HZ), (0.15 * sign, 0.1 * sign), 0.02)
    return signal


def regular_peaks(n_beats: int, rr_s: float = 0.9, start_s: float = 1.0) -> np.ndarray:
    return (np.round((start_s + rr_s * np.arange(n_beats)) * FS_HZ)).astype(np.int64)


def context_of(signal: np.ndarray, peaks: np.ndarray, settings: FeatureSettings = FeatureSettings()):
    beats = segment_beats(signal, peaks, FS_HZ, SETTINGS)
    return compute_beat_context(signal, peaks, FS_HZ, beats, settings), beats


def n_samples_for(peaks: np.ndarray) -> int:
    return int(peaks[-1] + 2 * FS_HZ)


# --------------------------------------------------------------------------------------------- synthetic checks


def test_identical_beats_match_the_template_exactly():
    peaks = regular_peaks(60)
    signal = synthetic_ecg(peaks, n_samples_for(peaks))
    context, beats = context_of(signal, peaks)
    inner = ~beats.truncated
    assert np.allclose(context.column("qrs_corr_lead0")[inner], 1.0, atol=1e-5)
    assert np.allclose(context.column("qrs_corr_lead1")[inner], 1.0, atol=1e-5)
    assert np.abs(context.template_channels_mv[inner]).max() < 1e-6
    assert context.typical[inner].all()
    assert np.allclose(context.column("qrs_width_diff_ms")[inner], 0.0)
    assert np.allclose(context.column("p_corr_lead0")[2:-1], 1.0, atol=1e-4)


def test_outputs_have_documented_shapes_types_and_groups():
    peaks = regular_peaks(40)
    signal = synthetic_ecg(peaks, n_samples_for(peaks))
    context, beats = context_of(signal, peaks)
    n, k = context.features.shape
    assert n == len(peaks) and k == len(context.feature_names) == len(set(context.feature_names))
    assert context.features.dtype == np.float32 and context.template_channels_mv.dtype == np.float32
    assert context.template_channels_mv.shape == beats.windows_mv.shape
    assert context.template_mv.shape == beats.windows_mv.shape[1:]
    assert set(RHYTHM_FEATURE_NAMES) <= set(context.feature_names)
    assert {feature_group(name) for name in context.feature_names} == set(FEATURE_GROUPS) - {"neighbour"}
    assert not set(context.feature_names) & set(RR_FEATURE_NAMES)  # RR ratios stay in pipeline.rr
    with_neighbours, _ = context_of(signal, peaks, FeatureSettings(neighbour_offsets=(-2, -1, 1, 2)))
    assert with_neighbours.feature_names[:k] == context.feature_names
    np.testing.assert_array_equal(with_neighbours.features[:, :k], context.features)
    assert {feature_group(name) for name in with_neighbours.feature_names} == set(FEATURE_GROUPS)
    assert with_neighbours.features.shape == (n, k + 4 * len(NEIGHBOUR_COLUMNS) + 2)


def test_neighbour_features_show_the_bigeminal_pattern_around_each_beat():
    """In bigeminy (wide beat every other beat) a narrow beat's neighbours are wide and unlike it, and the
    reverse; the edges of the record take a sinus beat's values."""
    peaks = regular_peaks(60)
    wide = np.arange(len(peaks)) % 2 == 1
    signal = synthetic_ecg(peaks, n_samples_for(peaks), qrs_sigma_s=np.where(wide, 0.035, 0.012))
    context, _ = context_of(signal, peaks, FeatureSettings(neighbour_offsets=(-1, 1)))
    inner = np.arange(2, len(peaks) - 2)
    own = context.column("qrs_width_diff_ms")
    np.testing.assert_allclose(context.column("nb-1_qrs_width_diff_ms")[inner], own[inner - 1])
    np.testing.assert_allclose(context.column("nb+1_qrs_corr_lead0")[inner], context.column("qrs_corr_lead0")[inner + 1])
    assert (context.column("nb+1_qrs_width_diff_ms")[inner][~wide[inner]] > 20.0).all()
    assert (context.column("nb_qrs_corr_previous")[inner] < 0.9).all()
    assert (context.column("nb_qrs_corr_next")[inner] < 0.9).all()
    assert context.column("nb-1_qrs_corr_lead0")[0] == 1.0 and context.column("nb_qrs_corr_previous")[0] == 1.0
    regular, _ = context_of(synthetic_ecg(peaks, n_samples_for(peaks)), peaks, FeatureSettings(neighbour_offsets=(1,)))
    assert (regular.column("nb_qrs_corr_next")[inner] > 0.99).all()


@pytest.mark.parametrize("offsets", [(0,), (1.5,)])
def test_neighbour_offsets_must_be_non_zero_whole_numbers(offsets):
    with pytest.raises(ValueError, match="neighbour_offsets"):
        FeatureSettings(neighbour_offsets=offsets)


def test_feature_settings_with_neighbours_survive_json():
    import json

    settings = FeatureSettings(neighbour_offsets=(-2, -1, 1, 2))
    assert FeatureSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings


def test_wider_qrs_gives_larger_width_and_lower_correlation():
    peaks = regular_peaks(40)
    sigma = np.full(len(peaks), 0.012)
    sigma[20] = 0.03
    context, _ = context_of(synthetic_ecg(peaks, n_samples_for(peaks), qrs_sigma_s=sigma), peaks)
    width = context.column("qrs_width_ms")
    assert width[20] > width[19] + 20.0
    assert context.column("qrs_width_diff_ms")[20] > 20.0
    assert context.column("qrs_corr_lead0")[20] < context.column("qrs_corr_lead0")[19]


def test_template_survives_a_majority_of_ectopic_beats():
    # 45 % wide beats in bigeminy: the template stays the narrow (dominant) beat.
    peaks = regular_peaks(80)
    sigma = np.where(np.arange(len(peaks)) % 2 == 1, 0.035, 0.012)
    sigma[::9] = 0.012
    context, beats = context_of(synthetic_ecg(peaks, n_samples_for(peaks), qrs_sigma_s=sigma), peaks)
    narrow = (sigma == 0.012) & ~beats.truncated
    assert context.typical[narrow].mean() > 0.9 and not context.typical[sigma > 0.02].any()
    assert np.abs(context.template_channels_mv[narrow]).max() < 1e-5


def test_regular_rhythm_has_low_irregularity_and_random_rhythm_high():
    rng = np.random.default_rng(0)
    regular = regular_peaks(200, rr_s=0.8) + rng.integers(-2, 3, 200)
    irregular = np.round((1.0 + np.cumsum(rng.uniform(0.4, 1.2, 200))) * FS_HZ).astype(np.int64)
    low, _ = context_of(synthetic_ecg(regular, n_samples_for(regular)), regular)
    high, _ = context_of(synthetic_ecg(irregular, n_samples_for(irregular)), irregular)
    for name in ("rhythm_rr_cv", "rhythm_rmssd_rel", "rhythm_pnn50_frac", "rhythm_rr_entropy_bits",
                 "rhythm_af_score_rel"):
        assert np.median(high.column(name)) > 3 * np.median(low.column(name)) + 0.05, name


def test_bigeminy_is_irregular_but_not_af_like():
    rr = np.tile([0.5, 1.1], 100)
    peaks = np.round((1.0 + np.concatenate([[0.0], np.cumsum(rr)])) * FS_HZ).astype(np.int64)
    context, _ = context_of(synthetic_ecg(peaks, n_samples_for(peaks)), peaks)
    assert np.median(context.column("rhythm_rr_cv")) > 0.3
    assert np.median(context.column("rhythm_af_score_rel")) < 0.02


def test_premature_beat_has_prematurity_below_one_and_negative_robust_z():
    peaks = regular_peaks(60)
    peaks[30] -= int(0.3 * FS_HZ)
    context, beats = context_of(synthetic_ecg(peaks, n_samples_for(peaks)), peaks)
    prematurity = beats.rr_features[:, RR_FEATURE_NAMES.index("rr_prematurity_ratio")]
    assert prematurity[30] < 0.8 and prematurity[29] == pytest.approx(1.0)
    z = context.column("rhythm_pre_rr_robust_z")
    assert z[30] < -5 and abs(z[20]) < 1


def test_ectopic_p_wave_is_told_from_sinus_p():
    peaks = regular_peaks(60)
    sign = np.ones(len(peaks))
    sign[[20, 40]] = -1.0
    context, _ = context_of(synthetic_ecg(peaks, n_samples_for(peaks), p_sign=sign), peaks)
    corr = context.column("p_corr_lead0")
    assert corr[20] < -0.9 and corr[40] < -0.9 and corr[30] > 0.99
    assert context.column("p_amp_rel_lead0")[20] < 0.5 < 0.9 < context.column("p_amp_rel_lead0")[30]
    assert context.column("p_corr_best")[20] < 0.5 < 0.95 < context.column("p_corr_best")[30]
    assert context.column("p_template_quality")[0] > 0.95


@pytest.mark.parametrize("shift_s", [-0.03, -0.01])
def test_earlier_p_wave_gives_its_lag(shift_s):
    peaks = regular_peaks(60)
    signal = synthetic_ecg(peaks, n_samples_for(peaks), p_offset_s=0.2)
    add_wave(signal, int(peaks[30] - 0.2 * FS_HZ), (-0.15, -0.1), 0.02)  # remove the sinus P of beat 30
    add_wave(signal, int(peaks[30] - (0.2 - shift_s) * FS_HZ), (0.15, 0.1), 0.02)  # and put it back shifted
    context, _ = context_of(signal, peaks)
    assert context.column("p_lag_ms")[30] == pytest.approx(1000 * shift_s, abs=4.0)
    assert context.column("p_corr_best")[30] > 0.95 and abs(context.column("p_lag_ms")[29]) < 1.0


def test_later_p_wave_gives_a_positive_lag():
    # Shifts towards the QRS take in its onset, so the lag is underestimated (documented).
    peaks = regular_peaks(60)
    signal = synthetic_ecg(peaks, n_samples_for(peaks), p_offset_s=0.2)
    add_wave(signal, int(peaks[30] - 0.2 * FS_HZ), (-0.15, -0.1), 0.02)
    add_wave(signal, int(peaks[30] - 0.17 * FS_HZ), (0.15, 0.1), 0.02)  # 30 ms later
    context, _ = context_of(signal, peaks)
    assert 10.0 < context.column("p_lag_ms")[30] <= 34.0


def test_t_wave_subtraction_recovers_a_p_wave_hidden_in_the_previous_t():
    # A premature beat whose sinus-shaped P wave sits on the preceding T wave.
    peaks = regular_peaks(60)
    peaks[30] -= int(0.38 * FS_HZ)
    signal = synthetic_ecg(peaks, n_samples_for(peaks), t_amplitude=0.4)
    with_t, _ = context_of(signal, peaks)
    without_t, _ = context_of(signal, peaks, FeatureSettings(subtract_previous_t=False))
    assert with_t.column("p_corr_lead0")[30] > 0.95
    assert without_t.column("p_corr_lead0")[30] < with_t.column("p_corr_lead0")[30] - 0.3


def test_sliding_p_match_equals_explicit_detrended_correlation():
    rng = np.random.default_rng(3)
    length, lag = 30, 4
    template = detrend_segments(rng.normal(size=(1, length, 2)))[0]
    segments = rng.normal(size=(5, length + 2 * lag, 2)) + rng.normal(size=(5, 1, 2))
    out = match_p_template(segments, template, {"length": length, "lag": lag}, FS_HZ)
    core = detrend_segments(segments[:, lag:lag + length])
    expected = (core * template).sum(axis=1) / np.sqrt((core ** 2).sum(axis=1) * (template ** 2).sum(axis=0))
    assert np.allclose(out[:, :2], expected)
    assert np.allclose(line_basis(length).T @ line_basis(length), np.eye(2))


def test_missing_signal_and_tiny_records_never_give_nan():
    peaks = regular_peaks(40)
    signal = synthetic_ecg(peaks, n_samples_for(peaks))
    signal[int(peaks[10] - 50):int(peaks[10] + 50), :] = np.nan
    context, beats = context_of(signal, peaks)
    assert beats.has_gap[10] and np.isfinite(context.features).all()
    assert np.isfinite(context.template_channels_mv).all()
    for n_beats in (0, 1, 2, 3):
        few = peaks[:n_beats]
        context, _ = context_of(signal[: int(peaks[5])], few)
        assert context.features.shape == (n_beats, len(context.feature_names))
        assert np.isfinite(context.features).all()


def test_inputs_and_settings_are_checked():
    peaks = regular_peaks(10)
    signal = synthetic_ecg(peaks, n_samples_for(peaks))
    beats = segment_beats(signal, peaks, FS_HZ, SETTINGS)
    with pytest.raises(ValueError, match="R peaks"):
        compute_beat_context(signal, peaks[1:], FS_HZ, beats)
    with pytest.raises(ValueError, match="fs_hz"):
        compute_beat_context(signal, peaks, 250.0, beats)
    with pytest.raises(ValueError, match="template_min_corr"):
        FeatureSettings(template_min_corr=1.5)
    settings = FeatureSettings(p_max_lag_s=0.03)
    assert FeatureSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(TypeError, match="unknown"):
        FeatureSettings.from_dict({"nope": 1})


# --------------------------------------------------------------------------------------------- bundled excerpts


def excerpt_context(excerpts_dir, name):
    """Context of every reference beat of an excerpt, with the AAMI class of each beat."""
    record = read_record(excerpts_dir / name)
    order = [record.primary_lead] + [j for j in range(record.signal_mv.shape[1]) if j != record.primary_lead]
    signal = clean_signal(record.signal_mv, record.fs_hz)[:, order]
    beat = is_beat_symbol(record.annotations.symbols)
    peaks = record.annotations.samples[beat]
    beats = segment_beats(signal, peaks, record.fs_hz)
    context = compute_beat_context(signal, peaks, record.fs_hz, beats)
    return context, map_symbols_to_aami(record.annotations.symbols[beat])


@pytest.fixture(scope="module")
def excerpts(excerpts_dir):
    return {name: excerpt_context(excerpts_dir, name) for name in ("100", "119", "201", "232")}


def test_excerpts_give_finite_features(excerpts):
    for context, classes in excerpts.values():
        assert context.features.shape[0] == len(classes)
        assert np.isfinite(context.features).all() and np.isfinite(context.template_channels_mv).all()


def test_ventricular_beats_of_119_differ_from_the_template(excerpts):
    context, classes = excerpts["119"]
    normal, ventricular = classes == "N", classes == "V"
    corr = context.column("qrs_corr_lead0")
    assert np.median(corr[normal]) > 0.97 and np.median(corr[ventricular]) < 0.8
    assert np.quantile(corr[normal], 0.05) > np.quantile(corr[ventricular], 0.95)
    width = context.column("qrs_width_ms")
    assert np.median(width[ventricular]) > np.median(width[normal]) + 30.0
    assert context.typical[ventricular].mean() < 0.05


def test_atrial_fibrillation_of_201_is_irregular_and_has_no_sinus_p(excerpts):
    af, _ = excerpts["201"]
    sinus, _ = excerpts["100"]
    for name, factor in (("rhythm_rr_entropy_bits", 2.0), ("rhythm_af_score_rel", 3.0), ("rhythm_pnn50_frac", 3.0)):
        assert np.median(af.column(name)) > factor * np.median(sinus.column(name)), name
    assert af.column("p_template_quality")[0] < 0.5 < 0.9 < sinus.column("p_template_quality")[0]


def test_atrial_premature_beats_of_232_have_an_abnormal_p_wave(excerpts):
    # Record 232: sinus bradycardia with atrial premature beats that are mostly not premature
    # relative to the local rhythm; the P wave, not the RR interval, tells them apart.
    context, classes = excerpts["232"]
    corr = context.column("p_corr_lead0")
    assert np.median(corr[classes == "N"]) > 0.7 > 0.3 > np.median(corr[classes == "S"])


def test_datasets_carry_the_context(excerpts_dir, tmp_path, excerpts):
    data = build_beat_dataset(["119"], excerpts_dir, tmp_path, progress=False)
    context, classes = excerpts["119"]
    assert data.context_feature_names == context.feature_names
    assert np.array_equal(data.context_features, context.features[classes != ""])
    assert np.allclose(data.template_channels_mv(), context.template_channels_mv[classes != ""])
