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
import scipy.ndimage

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


ANCHOR_ITERATIONS = 3
"""Hill-climbing steps of :func:`anchor_beats` (each moves at most ``anchor_search_s``)."""
ANCHOR_MAJOR_FRACTION = 0.5
"""A deflection is major in :func:`anchor_beats` when it reaches this fraction of the largest one nearby.
(Models save the anchoring settings, not these two constants: changing either needs a new settings key.)"""


def anchor_beats(signal_mv: np.ndarray, r_peaks: np.ndarray, fs_hz: float,
                 settings: SegmentationSettings) -> np.ndarray:
    """Move each beat position to the same point of its QRS, whoever placed it.

    Annotators and detectors put the fiducial point of a wide beat in different places (the
    MIT-BIH reference and this project's detector differ by 40 ms or more on about 40 % of DS1's
    ventricular beats, and by 80-100 ms on the PVCs of records 119 and 208), while a beat's window
    and RR intervals should not depend on who marked it. Two steps, on the first lead:

    1. the QRS: the slope energy (squared first difference, missing samples as 0, centred moving
       average over ``settings.anchor_smooth_s``) has one hump per QRS; from the given position the
       anchor climbs to its top, ``ANCHOR_ITERATIONS`` times taking the largest energy within
       ``settings.anchor_search_s`` (it stays where nothing nearby is larger);
    2. the point: within ``settings.anchor_fine_s`` of that top, the earliest peak of the deflection
       from the local median that reaches ``ANCHOR_MAJOR_FRACTION`` of the largest one. For a narrow
       beat this is the R (or S) peak the annotators marked, so normal beats stay where they were
       (the first step alone left them with several ms of jitter, enough for record 208's
       ventricular beats to outnumber the normal ones in the dominant-beat template); for a wide
       beat it is its first major deflection, near where annotators mark it, so its prematurity is
       kept (the largest deflection, which the detector takes, lies ~100 ms later on 208's PVCs).
       EXPERIMENTS.md row N has the measurements behind each choice.

    Positions whose anchors would not be strictly ascending (two beats reaching one QRS) keep their
    given place. ``anchor_search_s == 0`` returns the positions as given.

    Examples
    --------
    >>> x = np.exp(-((np.arange(3600) - 1000) / 10.0) ** 2)  # one QRS-like bump at sample 1000
    >>> s = SegmentationSettings(anchor_search_s=0.08)
    >>> anchor_beats(x, np.array([970]), 360.0, s).tolist(), anchor_beats(x, np.array([1030]), 360.0, s).tolist()
    ([1000], [1000])
    >>> anchor_beats(x, np.array([970, 1030, 2000]), 360.0, s).tolist()  # one bump for two beats: kept as given
    [970, 1030, 2000]
    """
    peaks = check_peaks(r_peaks)
    half = int(round(settings.anchor_search_s * fs_hz))
    if half == 0 or peaks.size == 0:
        return peaks
    lead = np.nan_to_num(as_2d_signal(signal_mv)[:, 0])
    slope = np.diff(lead, prepend=lead[:1])
    width = max(1, int(round(settings.anchor_smooth_s * fs_hz)))
    energy = scipy.ndimage.uniform_filter1d(slope * slope, width, mode="nearest")
    anchored = peaks.copy()
    for _ in range(ANCHOR_ITERATIONS):
        window = _windows(anchored, half, lead.size)
        best = window[np.arange(peaks.size), np.argmax(energy[window], axis=1)]
        anchored = np.where(energy[best] > energy[anchored], best, anchored)
    window = _windows(anchored, int(round(settings.anchor_fine_s * fs_hz)), lead.size)
    values = lead[window]
    deflection = np.abs(values - np.median(values, axis=1, keepdims=True))
    major = np.zeros(deflection.shape, bool)
    major[:, 1:-1] = (deflection[:, 1:-1] >= deflection[:, :-2]) & (deflection[:, 1:-1] >= deflection[:, 2:])
    major &= (deflection >= ANCHOR_MAJOR_FRACTION * deflection.max(axis=1, keepdims=True)) & (deflection > 0)
    major[:, deflection.shape[1] // 2] |= ~major.any(axis=1)  # nothing stands out: keep the energy peak
    return _keep_order(window[np.arange(peaks.size), np.argmax(major, axis=1)], peaks)


EVENT_TIMING = SegmentationSettings(anchor_search_s=0.08, anchor_smooth_s=0.1, anchor_fine_s=0.1)
"""How a beat's reported position is placed (:func:`time_beats`): EXPERIMENTS.md row N's anchoring."""


def time_beats(lead_mv: np.ndarray, r_peaks: np.ndarray, fs_hz: float) -> np.ndarray:
    """The position each beat is reported at: ``r_peaks`` anchored on ``lead_mv`` with :data:`EVENT_TIMING`.

    The detector's fiducial point on a wide beat lies up to 100 ms from where annotators mark it, and by different
    amounts on consecutive beats, so about a fifth of the RR intervals next to ventricular beats came out more than
    50 ms off (BENCHMARKS.md section 17). Event rates, coupling intervals, the 100-bpm VT decision and the
    annotation files are read off the anchored positions; the classifier keeps the detector's (row N: anchoring its
    inputs cost V sensitivity). REGIONS.md, session 39, has the measurements. ``lead_mv`` is the cleaned primary
    lead (a 2-D signal: its first lead).

    Examples
    --------
    >>> x = np.exp(-((np.arange(3600) - 1000) / 10.0) ** 2)
    >>> time_beats(x, np.array([980, 2500]), 360.0).tolist()
    [1000, 2500]
    """
    return anchor_beats(lead_mv, r_peaks, fs_hz, EVENT_TIMING)


def _windows(centres: np.ndarray, half: int, n_samples: int) -> np.ndarray:
    """Sample indices ``centre - half ... centre + half`` of each centre, clipped to the signal."""
    return np.clip(centres[:, None] + np.arange(-half, half + 1)[None, :], 0, n_samples - 1)


def _keep_order(anchored: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """``anchored`` where it is strictly ascending; beats that break the order return to ``peaks``."""
    anchored = anchored.copy()
    while True:
        bad = np.flatnonzero(np.diff(anchored) <= 0)
        if bad.size == 0:
            return anchored
        anchored[bad] = peaks[bad]
        anchored[bad + 1] = peaks[bad + 1]


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
