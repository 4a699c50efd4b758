"""RR-interval features of each beat: absolute intervals and patient-relative ratios.

The absolute pre- and post-RR intervals and the local and record averages follow de Chazal
et al. (2004); the ratios make them patient-relative (Llamedo and Martinez 2011; the lessons in
``../shared/CLASSIFIER-NOTES.md``). Both averages are medians, robust to ectopic beats and
missed detections, and are named as such.

References
----------
de Chazal P, O'Dwyer M, Reilly RB, "Automatic classification of heartbeats using ECG morphology
and heartbeat interval features", IEEE Trans Biomed Eng 51(7):1196-1206, 2004.
Llamedo M, Martinez JP, "Heartbeat classification using feature selection driven by database
generalization criteria", IEEE Trans Biomed Eng 58(3):616-625, 2011.
"""

from __future__ import annotations

import logging

import numpy as np

from pipeline.errors import EcgInputError, SamplingRateError
from pipeline.types import SegmentationSettings

logger = logging.getLogger(__name__)

RR_FEATURE_NAMES = (
    "rr_pre_s",
    "rr_post_s",
    "rr_local_median_s",
    "rr_record_median_s",
    "rr_pre_local_ratio",
    "rr_post_local_ratio",
    "rr_pre_record_ratio",
    "rr_post_pre_ratio",
    "rr_prematurity_ratio",
    "rr_pre_filled",
    "rr_post_filled",
)
"""Columns of :func:`compute_rr_features`, in order. ``*_filled`` are 0/1 flags."""

_CHUNK_VALUES = 2_000_000
"""Most interval values held at once while computing local medians (bounds memory)."""


class BeatPositionError(EcgInputError):
    """R-peak positions are not usable (not integers, not ascending, outside the signal)."""


def compute_rr_features(
    r_peaks: np.ndarray, fs_hz: float, settings: SegmentationSettings = SegmentationSettings()
) -> tuple[np.ndarray, tuple[str, ...]]:
    """RR features of every beat, vectorised (O(n log n) in the number of beats).

    Parameters
    ----------
    r_peaks : np.ndarray
        R-peak sample indices, strictly ascending.
    fs_hz : float
        Sampling rate of the indices (required; must equal ``settings.fs_hz``).
    settings : SegmentationSettings
        ``local_window_s`` sets the centred window of the local median.

    Returns
    -------
    features : np.ndarray
        float32 (n_beats, len(RR_FEATURE_NAMES)), never NaN or infinite.
    names : tuple of str
        :data:`RR_FEATURE_NAMES`.

    Notes
    -----
    - ``rr_pre_s``/``rr_post_s``: interval to the previous/next beat.
    - ``rr_local_median_s``: median of the intervals that overlap the centred window of
      ``local_window_s`` around the beat (always includes the beat's own pre and post intervals).
    - ``rr_record_median_s``: median of all the record's intervals.
    - Ratios: pre/local, post/local, pre/record, post/pre, and prematurity = pre RR of the beat
      over the pre RR of the previous beat.
    - Fill rule: the first beat has no pre RR and the last no post RR; each takes the beat's
      local median instead and its flag ``rr_pre_filled``/``rr_post_filled`` is 1. The first
      beat's prematurity is therefore 1, and the second beat's uses the first beat's filled pre RR.
    - With a single beat there is no interval at all: absolute features are 0, ratios 1, both
      flags 1.

    Examples
    --------
    >>> features, names = compute_rr_features(np.array([0, 360, 720, 900]), 360.0)
    >>> features[:, names.index("rr_pre_s")].tolist()
    [1.0, 1.0, 1.0, 0.5]
    >>> features[:, names.index("rr_pre_filled")].tolist()
    [1.0, 0.0, 0.0, 0.0]
    """
    check_fs_matches(fs_hz, settings)
    peaks = check_peaks(r_peaks)
    if len(peaks) < 2:
        return fill_without_intervals(len(peaks)), RR_FEATURE_NAMES
    rr_s = np.diff(peaks) / float(fs_hz)
    local_s = compute_local_median_rr(peaks, rr_s, settings.local_window_s * fs_hz)
    pre_s = np.concatenate([local_s[:1], rr_s])
    post_s = np.concatenate([rr_s, local_s[-1:]])
    record_s = np.full(len(peaks), np.median(rr_s))
    previous_pre_s = np.concatenate([pre_s[:1], pre_s[:-1]])
    pre_filled = np.zeros(len(peaks))
    post_filled = np.zeros(len(peaks))
    pre_filled[0] = post_filled[-1] = 1.0
    columns = (pre_s, post_s, local_s, record_s, pre_s / local_s, post_s / local_s, pre_s / record_s,
               post_s / pre_s, pre_s / previous_pre_s, pre_filled, post_filled)
    return np.stack(columns, axis=1).astype(np.float32), RR_FEATURE_NAMES


def fill_without_intervals(n_beats: int) -> np.ndarray:
    """Features of a record with fewer than two beats: absolute 0, ratios 1, flags 1."""
    row = [0.0 if name.endswith("_s") else 1.0 for name in RR_FEATURE_NAMES]
    return np.tile(np.asarray(row, dtype=np.float32), (n_beats, 1))


def compute_local_median_rr(peaks: np.ndarray, rr_s: np.ndarray, window_samples: float) -> np.ndarray:
    """Median of the RR intervals overlapping a centred window around each beat.

    Interval ``j`` spans ``[peaks[j], peaks[j + 1]]``; it is counted for beat ``i`` when it
    overlaps ``[peaks[i] - window/2, peaks[i] + window/2]``. Each beat's own pre and post
    intervals always overlap, so no window is empty. Rows are processed in chunks so that memory
    stays bounded for 24-hour records.
    """
    half = window_samples / 2.0
    first = np.searchsorted(peaks[1:], peaks - half, side="left")
    stop = np.searchsorted(peaks[:-1], peaks + half, side="right")
    counts = stop - first
    width = int(counts.max())
    rows = max(1, _CHUNK_VALUES // width)
    out = np.empty(len(peaks))
    for start in range(0, len(peaks), rows):
        part = slice(start, start + rows)
        out[part] = median_of_ranges(rr_s, first[part], counts[part], width)
    return out


def median_of_ranges(values: np.ndarray, first: np.ndarray, counts: np.ndarray, width: int) -> np.ndarray:
    """Median of ``values[first[k] : first[k] + counts[k]]`` for each k (all counts >= 1)."""
    offsets = np.arange(width)
    index = np.minimum(first[:, None] + offsets, len(values) - 1)
    table = np.where(offsets < counts[:, None], values[index], np.inf)
    table.sort(axis=1)
    rows = np.arange(len(first))
    return 0.5 * (table[rows, (counts - 1) // 2] + table[rows, counts // 2])


def check_fs_matches(fs_hz: float, settings: SegmentationSettings) -> None:
    """Raise :class:`SamplingRateError` unless ``fs_hz`` equals the settings' rate."""
    if not np.isclose(float(fs_hz), settings.fs_hz, rtol=0, atol=1e-6):
        raise SamplingRateError(
            f"Received fs_hz={float(fs_hz):g}; the segmentation settings expect {settings.fs_hz:g} Hz. "
            "Resample the record to the settings' rate (as read_record does) or use matching settings."
        )


def check_peaks(r_peaks: np.ndarray, n_samples: int | None = None) -> np.ndarray:
    """Return ``r_peaks`` as int64 after checking they are integral, strictly ascending and in range."""
    peaks = np.asarray(r_peaks)
    if peaks.ndim != 1:
        raise BeatPositionError(f"Received R peaks of shape {peaks.shape}; expected a 1-D array of sample indices.")
    if peaks.size and not np.issubdtype(peaks.dtype, np.integer):
        if not np.all(np.isfinite(peaks)) or not np.all(peaks == np.round(peaks)):
            raise BeatPositionError(f"Received R peaks of dtype {peaks.dtype} with non-integer values; "
                                    "expected integer sample indices.")
    peaks = peaks.astype(np.int64)
    if np.any(np.diff(peaks) <= 0):
        bad = int(np.flatnonzero(np.diff(peaks) <= 0)[0])
        raise BeatPositionError(f"Received R peaks that are not strictly ascending (index {bad + 1}: "
                                f"{peaks[bad + 1]} after {peaks[bad]}); expected unique ascending samples.")
    if n_samples is not None and peaks.size and (peaks[0] < 0 or peaks[-1] >= n_samples):
        raise BeatPositionError(f"Received R peaks from {peaks[0]} to {peaks[-1]}; expected samples within "
                                f"the signal, 0 to {n_samples - 1}.")
    return peaks
