"""Segment beats: fixed windows of the cleaned signal around each R peak, plus RR features.

References
----------
de Chazal P, O'Dwyer M, Reilly RB, "Automatic classification of heartbeats using ECG morphology
and heartbeat interval features", IEEE Trans Biomed Eng 51(7):1196-1206, 2004 (fixed windows
around the fiducial point, RR features).
"""

from __future__ import annotations

import logging

import numpy as np

from pipeline.errors import SignalTooShortError
from pipeline.rr import check_fs_matches, check_peaks, compute_rr_features
from pipeline.types import Beats, SegmentationSettings

logger = logging.getLogger(__name__)


def segment_beats(
    signal_mv: np.ndarray,
    r_peaks: np.ndarray,
    fs_hz: float,
    settings: SegmentationSettings = SegmentationSettings(),
) -> Beats:
    """Cut a window of every lead around each R peak and compute the beats' RR features.

    Every peak gives a beat; none is dropped, so labelled counts stay exact:

    - A window that runs past the start or end of the record is padded with the first/last
      sample value (edge padding) and the beat's ``truncated`` flag is set.
    - A window containing missing signal (NaN) keeps its NaN and the beat's ``has_gap`` flag
      is set; nothing is filled.

    Parameters
    ----------
    signal_mv : np.ndarray
        Cleaned signal (output of :func:`pipeline.clean.clean_signal`), (n_samples,) or
        (n_samples, n_leads), in mV.
    r_peaks : np.ndarray
        R-peak sample indices, strictly ascending, within the signal.
    fs_hz : float
        Sampling rate of the signal (required); must equal ``settings.fs_hz``.
    settings : SegmentationSettings
        Window extent (``pre_s``, ``post_s``) and local RR window; saved with a trained model.

    Returns
    -------
    Beats
        Windows (n_beats, settings.window_samples, n_leads) float32 with the peak at index
        ``settings.pre_samples``, flags, and RR features (:func:`pipeline.rr.compute_rr_features`).

    Raises
    ------
    SamplingRateError
        ``fs_hz`` differs from ``settings.fs_hz``.
    BeatPositionError
        Peaks are not integral, not strictly ascending or outside the signal.

    Examples
    --------
    >>> x = np.zeros((3600, 2), dtype=np.float32)
    >>> x[[100, 1000, 3550]] = 1.0
    >>> beats = segment_beats(x, np.array([100, 1000, 3550]), 360.0)
    >>> beats.windows_mv.shape, beats.truncated.tolist()
    ((3, 252, 2), [False, False, True])
    >>> int(beats.windows_mv[1, :, 0].argmax()) == beats.settings.pre_samples
    True
    """
    check_fs_matches(fs_hz, settings)
    signal = as_2d_signal(signal_mv)
    peaks = check_peaks(r_peaks, n_samples=signal.shape[0])
    if settings.window_samples < 1:
        raise ValueError(f"Received pre_s={settings.pre_s:g}, post_s={settings.post_s:g}; expected a window of "
                         f"at least one sample at {settings.fs_hz:g} Hz.")
    windows = extract_windows(signal, peaks, settings.pre_samples, settings.post_samples)
    truncated = (peaks - settings.pre_samples < 0) | (peaks + settings.post_samples > signal.shape[0])
    has_gap = np.isnan(windows).any(axis=(1, 2))
    if truncated.any() or has_gap.any():
        logger.debug("%d beats truncated at the record edges, %d with missing signal", truncated.sum(), has_gap.sum())
    features, names = compute_rr_features(peaks, fs_hz, settings)
    return Beats(peaks, windows, truncated, has_gap, features, names, settings)


def as_2d_signal(signal_mv: np.ndarray) -> np.ndarray:
    """``signal_mv`` as float32 (n_samples, n_leads); raise when it holds no sample."""
    signal = np.asarray(signal_mv, dtype=np.float32)
    if signal.ndim == 1:
        signal = signal[:, None]
    if signal.ndim != 2 or signal.shape[0] == 0 or signal.shape[1] == 0:
        raise SignalTooShortError(f"Received a signal of shape {np.shape(signal_mv)}; expected (n_samples,) or "
                                  "(n_samples, n_leads) with at least one sample and one lead.")
    return signal


def extract_windows(signal: np.ndarray, peaks: np.ndarray, pre_samples: int, post_samples: int) -> np.ndarray:
    """Windows ``signal[p - pre : p + post]`` for each peak p, edge-padded, (n_peaks, window, n_leads).

    Uses a strided view of the edge-padded signal, so only the selected windows are copied.
    """
    window = pre_samples + post_samples
    padded = np.pad(signal, ((pre_samples, post_samples), (0, 0)), mode="edge")
    view = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)
    return np.ascontiguousarray(view[peaks].transpose(0, 2, 1))
