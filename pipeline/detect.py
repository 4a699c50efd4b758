"""R-peak detection.

Draft: Pan-Tompkins-style energy detector (band-pass, derivative, squaring, moving-window
integration) on the combined leads, with adaptive signal/noise peak levels, search-back and
T-wave discrimination.

References
----------
Pan J, Tompkins WJ, "A real-time QRS detection algorithm", IEEE Trans Biomed Eng 32(3):230-236, 1985.
Hamilton PS, Tompkins WJ, "Quantitative investigation of QRS detection rules using the MIT/BIH
arrhythmia database", IEEE Trans Biomed Eng 33(12):1157-1165, 1986.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.ndimage
import scipy.signal

from pipeline.types import Detection
import os
TW=float(os.environ.get("TW","0.5"))


@dataclass(frozen=True)
class DetectorSettings:
    band_hz: tuple[float, float] = (5.0, 18.0)
    integration_s: float = 0.10
    refractory_s: float = 0.20
    t_wave_window_s: float = 0.36
    searchback_factor: float = 1.66
    locate_s: float = 0.08


def compute_qrs_energy(signal_mv: np.ndarray, fs_hz: float, settings: DetectorSettings) -> np.ndarray:
    """Per-lead QRS energy (band-pass, derivative, square, moving-window integral), shape like input."""
    sos = scipy.signal.butter(2, settings.band_hz, btype="bandpass", fs=fs_hz, output="sos")
    band = scipy.signal.sosfiltfilt(sos, signal_mv, axis=0)
    slope = np.gradient(band, axis=0)
    width = max(1, int(round(settings.integration_s * fs_hz)))
    return scipy.ndimage.uniform_filter1d(slope * slope, width, axis=0, mode="nearest"), band


def detect_r_peaks(signal_mv: np.ndarray, fs_hz: float, settings: DetectorSettings = DetectorSettings()) -> Detection:
    signal_mv = np.nan_to_num(np.asarray(signal_mv, dtype=np.float64))
    if signal_mv.ndim == 1:
        signal_mv = signal_mv[:, None]
    energy, band = compute_qrs_energy(signal_mv, fs_hz, settings)
    scale = np.array([np.percentile(energy[:, j], 99) or 1.0 for j in range(energy.shape[1])])
    combined = (energy / scale).sum(axis=1)
    if os.environ.get("SQRT"): combined = np.sqrt(combined)
    peaks, props = scipy.signal.find_peaks(combined, distance=int(settings.refractory_s * fs_hz))
    heights = combined[peaks]
    K=float(os.environ.get("DOM","0"))
    if K:
        before = int(float(os.environ.get("DB","0.3"))*fs_hz); after=int(float(os.environ.get("DA","0.36"))*fs_hz)
        lo = np.searchsorted(peaks, peaks - after); hi = np.searchsorted(peaks, peaks + before, side="right")
        keep = np.ones(len(peaks), bool)
        for i in range(len(peaks)):
            if heights[lo[i]:hi[i]].max() > K*heights[i]: keep[i]=False
        peaks, heights = peaks[keep], heights[keep]
    beats = _threshold_peaks(peaks, heights, combined, band[:, 0], fs_hz, settings)
    located = _locate_r(beats, band[:, 0], fs_hz, settings)
    return Detection(samples=located, fs_hz=fs_hz)


def _threshold_peaks(peaks, heights, combined, band, fs_hz, settings):
    n_init = int(2 * fs_hz)
    init = combined[: n_init * 4]
    spk = 0.25 * float(init.max()) if init.size else 1.0
    npk = 0.5 * float(init.mean()) if init.size else 0.0
    refractory = int(settings.refractory_s * fs_hz)
    t_window = int(settings.t_wave_window_s * fs_hz)
    slope = np.abs(np.gradient(band))
    half = int(0.075 * fs_hz)
    beats: list[int] = []
    rr: list[int] = []
    last_slope = 0.0
    i = 0
    n = len(peaks)
    pending_start = 0  # index of first candidate after the last beat
    while i < n:
        p, h = int(peaks[i]), float(heights[i])
        thr1 = npk + 0.25 * (spk - npk)
        rr_avg = np.mean(rr[-8:]) if rr else fs_hz
        # search-back: a gap too long since the last beat
        if beats and p - beats[-1] > settings.searchback_factor * rr_avg:
            gap = [k for k in range(pending_start, i) if peaks[k] - beats[-1] > refractory
                   and heights[k] > 0.5 * thr1]
            if gap:
                k = max(gap, key=lambda k: heights[k])
                rr.append(int(peaks[k]) - beats[-1])
                beats.append(int(peaks[k]))
                spk = 0.25 * heights[k] + 0.75 * spk
                pending_start = k + 1
                continue
        if h > thr1:
            s = float(slope[max(0, p - half): p + half].max())
            if beats and p - beats[-1] < t_window and s < TW * last_slope:
                npk = 0.125 * h + 0.875 * npk
            else:
                if beats:
                    rr.append(p - beats[-1])
                beats.append(p)
                last_slope = s
                spk = 0.125 * h + 0.875 * spk
                pending_start = i + 1
        else:
            npk = 0.125 * h + 0.875 * npk
        i += 1
    return np.asarray(beats, dtype=np.int64)


def _locate_r(beats, band, fs_hz, settings):
    half = int(settings.locate_s * fs_hz)
    if beats.size == 0:
        return beats
    offsets = np.arange(-half, half + 1)
    idx = np.clip(beats[:, None] + offsets[None, :], 0, band.size - 1)
    return idx[np.arange(beats.size), np.argmax(np.abs(band[idx]), axis=1)].astype(np.int64)
