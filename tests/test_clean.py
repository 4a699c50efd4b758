"""Cleaning filters checked in the frequency domain, for zero phase, and for gaps, shapes and dtypes.

The cleaning band-pass runs forward and backward (``sosfiltfilt``), so its overall magnitude is the
square of the designed section's: dB figures below are for the two passes together.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from pipeline.clean import CleaningSettings, clean_signal, design_bandpass, fill_gaps
from pipeline.errors import SamplingRateError

FS_HZ = 360.0
N_IMPULSE = 2**17  # 364 s: fine enough frequency resolution (2.7 mHz) for 0.05 Hz wander


def two_pass_db(frequencies_hz: np.ndarray, fs_hz: float = FS_HZ) -> np.ndarray:
    """Magnitude in dB of the band-pass applied forward and backward."""
    _, h = scipy.signal.sosfreqz(design_bandpass(fs_hz), worN=frequencies_hz, fs=fs_hz)
    return 40 * np.log10(np.abs(h))


@pytest.fixture(scope="module")
def impulse_response() -> np.ndarray:
    """Response of the complete cleaning to a unit impulse in the middle of a long zero signal."""
    impulse = np.zeros(N_IMPULSE)
    impulse[N_IMPULSE // 2] = 1.0
    return clean_signal(impulse, FS_HZ).astype(np.float64)


@pytest.fixture(scope="module")
def cleaning_db(impulse_response) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies, magnitude in dB) of the complete cleaning, from the FFT of its impulse response."""
    spectrum = np.abs(np.fft.rfft(impulse_response))
    return np.fft.rfftfreq(N_IMPULSE, 1 / FS_HZ), 20 * np.log10(np.maximum(spectrum, 1e-12))


def db_at(cleaning_db, frequency_hz: float) -> float:
    frequencies, db = cleaning_db
    return float(db[np.argmin(np.abs(frequencies - frequency_hz))])


# --- designed band-pass -------------------------------------------------------------------------------------


@pytest.mark.parametrize("frequency_hz, at_least_db", [(0.05, 80.0), (0.1, 55.0), (0.2, 30.0)])
def test_bandpass_removes_baseline_wander(frequency_hz, at_least_db):
    assert two_pass_db(np.array([frequency_hz]))[0] < -at_least_db


def test_bandpass_passband_is_flat_from_1_to_25_hz():
    db = two_pass_db(np.linspace(1.0, 25.0, 200))
    assert db.min() > -1.1 and db.max() < 0.01
    assert two_pass_db(np.array([30.0]))[0] > -2.5  # the 40 Hz cut-off is the two-pass -6 dB point


def test_bandpass_cutoffs_are_the_two_pass_6_db_points():
    np.testing.assert_allclose(two_pass_db(np.array([0.5, 40.0])), [-6.02, -6.02], atol=0.01)


# --- complete cleaning (band-pass and powerline notches) ----------------------------------------------------


def test_impulse_response_spectrum_equals_the_designed_filters(cleaning_db):
    frequencies, db = cleaning_db
    expected = two_pass_db(frequencies[1:])
    for f0 in CleaningSettings().powerline_hz:
        b, a = scipy.signal.iirnotch(f0, CleaningSettings().notch_quality, fs=FS_HZ)
        expected += 40 * np.log10(np.maximum(np.abs(scipy.signal.freqz(b, a, worN=frequencies[1:], fs=FS_HZ)[1]),
                                             1e-12))
    audible = (expected > -30.0) & (frequencies[1:] > 0.3)
    np.testing.assert_allclose(db[1:][audible], expected[audible], atol=0.01)


@pytest.mark.parametrize("mains_hz", [50.0, 60.0])
def test_cleaning_removes_mains_hum(cleaning_db, mains_hz):
    assert db_at(cleaning_db, mains_hz) < -80.0
    assert db_at(cleaning_db, mains_hz - 0.2) < -35.0 and db_at(cleaning_db, mains_hz + 0.2) < -35.0


@pytest.mark.parametrize("frequency_hz", [0.05, 0.1, 0.2])
def test_cleaning_removes_baseline_wander(cleaning_db, frequency_hz):
    assert db_at(cleaning_db, frequency_hz) < -30.0


def test_cleaning_passes_the_qrs_band(cleaning_db):
    assert min(db_at(cleaning_db, f) for f in np.arange(1.0, 25.5, 0.5)) > -1.1


@pytest.mark.parametrize("frequency_hz, expected_gain", [(0.1, 0.0), (10.0, 1.0), (50.0, 0.0), (60.0, 0.0)])
def test_sinusoid_amplitudes_after_cleaning(frequency_hz, expected_gain):
    t = np.arange(int(120 * FS_HZ)) / FS_HZ
    y = clean_signal(np.sin(2 * np.pi * frequency_hz * t), FS_HZ)
    middle = y[int(30 * FS_HZ):int(90 * FS_HZ)]
    assert np.sqrt(2 * np.mean(middle.astype(np.float64) ** 2)) == pytest.approx(expected_gain, abs=0.01)


# --- zero phase ---------------------------------------------------------------------------------------------


def test_impulse_response_is_symmetric_and_centred(impulse_response):
    centre = N_IMPULSE // 2
    assert np.argmax(np.abs(impulse_response)) == centre
    after = impulse_response[centre + 1:centre + 5000]
    before = impulse_response[centre - 1:centre - 5000:-1]
    np.testing.assert_allclose(after, before, atol=1e-7)


def test_qrs_like_pulse_keeps_its_peak_position():
    t = np.arange(int(20 * FS_HZ)) / FS_HZ
    for centre_s in (5.0, 10.0, 12.345):
        pulse = np.exp(-0.5 * ((t - centre_s) / 0.012) ** 2)
        assert np.argmax(clean_signal(pulse, FS_HZ)) == np.argmax(pulse)


# --- gaps, shapes, dtypes -----------------------------------------------------------------------------------


def test_nan_gaps_stay_nan_and_the_rest_is_finite():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7200, 2))
    x[1000:1100, 0] = np.nan
    x[5000, 1] = np.nan
    y = clean_signal(x, FS_HZ)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(x))


def test_gap_does_not_disturb_the_signal_far_from_it():
    t = np.arange(int(60 * FS_HZ)) / FS_HZ
    x = np.sin(2 * np.pi * 5.0 * t)
    gapped = x.copy()
    gapped[10000:10100] = np.nan
    far = slice(15000, 20000)
    np.testing.assert_allclose(clean_signal(gapped, FS_HZ)[far], clean_signal(x, FS_HZ)[far], atol=1e-3)


@pytest.mark.parametrize("shape", [(3600,), (3600, 1), (3600, 3)])
def test_shape_is_kept_and_output_is_float32(shape):
    y = clean_signal(np.random.default_rng(1).normal(size=shape), FS_HZ)
    assert y.shape == shape and y.dtype == np.float32


def test_leads_are_cleaned_independently():
    x = np.zeros((3600, 2))
    x[:, 0] = np.random.default_rng(2).normal(size=3600)
    y = clean_signal(x, FS_HZ)
    np.testing.assert_array_equal(y[:, 1], 0.0)
    np.testing.assert_allclose(y[:, 0], clean_signal(x[:, 0], FS_HZ))


def test_sampling_rate_too_low_for_the_lowpass_raises():
    with pytest.raises(SamplingRateError, match=r"Received fs_hz=60; expected more than twice the low-pass"):
        clean_signal(np.zeros(600), 60.0)


def test_the_bandpass_designed_for_a_rate_too_low_says_what_was_expected():
    """design_bandpass passed scipy's own error on ("Digital filter critical frequencies must be 0 < Wn < 1"; a code
    review of session 54)."""
    for fs_hz in (50.0, 80.0, float("nan")):
        with pytest.raises(SamplingRateError, match=r"Received fs_hz=(50|80|nan); expected more than twice the "
                           r"low-pass cut-off \(40 Hz\)"):
            design_bandpass(fs_hz)
    with pytest.raises(SamplingRateError, match=r"Received fs_hz=100; .*\(60 Hz\)"):
        design_bandpass(100.0, CleaningSettings(lowpass_hz=60.0))


@pytest.mark.parametrize("shape", [(), (100, 2, 3)])
def test_a_signal_neither_one_nor_two_dimensional_is_refused_with_its_shape(shape):
    import re

    with pytest.raises(ValueError, match=re.escape(f"Received signal_mv of shape {shape}; expected (n_samples,) or "
                                                   "(n_samples, n_leads).")):
        clean_signal(np.zeros(shape), 360.0)


def test_fill_gaps_interpolates_linearly_and_zeroes_empty_leads():
    x = np.array([[0.0, np.nan], [np.nan, np.nan], [np.nan, np.nan], [3.0, np.nan]])
    np.testing.assert_array_equal(fill_gaps(x), [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    assert np.isnan(x).sum() == 6  # the input is not modified
