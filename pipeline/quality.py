"""Signal-quality assessment: missing, flat, saturated and noisy stretches of each lead.

Runs on the raw (uncleaned) signal in mV at the record's internal rate and returns
:class:`~pipeline.types.QualitySpan` objects that go into the record report. Every rule works on
boolean masks or on fixed windows with NumPy, so a 24-hour two-lead record (31 M samples per
lead at 360 Hz) takes a few seconds; the filters and window statistics run chunk by chunk, so
the working memory stays at a few bytes per sample.

Rules (defaults in :class:`QualitySettings`)
--------------------------------------------
missing
    Runs of NaN samples (WFDB "invalid sample" values, gaps in EDF files).
flat
    At least ``flat_min_s`` during which consecutive samples differ by at most ``flat_step_mv``
    (below one quantisation step of ECG recorders, above the rounding noise that resampling
    leaves on a constant), after merging runs separated by interruptions of at most
    ``flat_merge_s``, like the flat-line checks of the PhysioNet/CinC Challenge 2011 on ECG
    acceptability (Redmond et al. 2012; Clifford et al. 2012).
saturated
    Stretches of at least ``saturation_min_s`` stuck (as for flat) at or beyond the lead's
    largest or smallest value, give or take a band, kept when the lead spends at least
    ``saturation_min_total_s`` in all at that extreme: the amplifier or converter sat at its rail
    (clipping) again and again, which a QRS peak never does and the top of a single slow artefact
    does only once. The extremes are those of the moving signal (the samples outside stuck
    stretches), so that a stuck filler far beyond the ECG (an EDF file padded with its physical
    minimum) does not move the other rail; the band on each side is ``saturation_band_fraction``
    of twice the distance from the lead's median to that extreme, so that an outlier on one side
    does not widen the other side's band and bring ordinary isoelectric stretches into it. On the
    MIT-BIH Arrhythmia Database this finds the +-5.12 mV converter limits in records 103, 116 and
    223 and nothing in the other records.
noise
    Each 2 s window (hop 1 s) whose noise floor, the median absolute value of the
    high-frequency component (above ``hf_cutoff_hz``: muscle artefact, mains, electrode noise)
    or of the in-band component (``band_hz``: electrode motion artefact), exceeds
    ``noise_factor`` times the lead's typical floor (the median over the windows free of missing
    and flat samples, at least ``min_floor_mv``). The median ignores the QRS complexes, which
    fill only a small part of a window, as the median absolute deviation of the finest wavelet
    scale ignores a signal's sparse large coefficients (Donoho and Johnstone 1994); the two
    bands follow the noise types of the MIT-BIH noise stress test (Moody et al. 1984) and the
    in-band / out-of-band power split of the spectral quality indices (Li, Mark and Clifford
    2008; Clifford et al. 2012).
    Baseline steps are noise too: wherever the signal's baseline, taken by median filters of
    200 and 600 ms in turn (``step_median_s``; de Chazal et al. 2004), changes by at least
    ``step_min_mv`` within 100 ms (``step_lag_s`` each side), padded by ``step_pad_s`` on each
    side. An electrode pop or a lead that is moved shifts the whole signal at once, which the
    noise rule's medians hardly show (it takes up a few samples of a 2-s window), while the
    cleaning's baseline filter rings on it and the beats there look ventricular; the median
    filters take out the QRS complexes and the P and T waves but keep a step's edge, and
    respiratory wander moves the baseline far more slowly.

Limitations: the noise rule is relative to the record itself, so a lead that is noisy for most
of the record raises its own reference and only its worst stretches are flagged; ventricular
flutter or fibrillation and long runs of wide ectopic beats can be flagged as noise (as with
most published quality indices; once the beats are known, :func:`spare_beat_trains` gives back
the runs whose beats repeat one QRS shape, which leaves polymorphic runs and flutter flagged);
a clipped plateau shorter than about 20 source samples loses
its flatness when the record was resampled to the internal rate.

References
----------
Redmond SJ, Xie Y, Chang D, Basilakis J, Lovell NH, "Electrocardiogram signal quality measures
for unsupervised telehealth environments", Physiol Meas 33(9):1517-1533, 2012.
Clifford GD, Behar J, Li Q, Rezek I, "Signal quality indices and data fusion for determining
clinical acceptability of electrocardiograms", Physiol Meas 33(9):1419-1433, 2012.
Li Q, Mark RG, Clifford GD, "Robust heart rate estimation from multiple asynchronous noisy
sources using signal quality indices and a Kalman filter", Physiol Meas 29(1):15-32, 2008.
Moody GB, Muldrow WE, Mark RG, "A noise stress test for arrhythmia detectors", Computers in
Cardiology 11:381-384, 1984.
Donoho DL, Johnstone IM, "Ideal spatial adaptation by wavelet shrinkage", Biometrika
81(3):425-455, 1994.
de Chazal P, O'Dwyer M, Reilly RB, "Automatic classification of heartbeats using ECG morphology and
heartbeat interval features", IEEE Trans Biomed Eng 51(7):1196-1206, 2004.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.ndimage
import scipy.signal

from pipeline.errors import EcgInputError, SamplingRateError
from pipeline.types import QualitySpan

logger = logging.getLogger(__name__)

QUALITY_KINDS = ("missing", "flat", "saturated", "noise")
"""Order in which span kinds are listed for each lead."""

ARTEFACT_KIND = "artefact"
"""Kind of the spans a reader marks as artefact (every lead): unreadable whatever the region settings'
``unreadable_kinds``, and no lead there is usable for the flutter/fibrillation detector."""

_CHUNK_WINDOWS = 2048
"""Noise windows handled per chunk (bounds the memory of the filtered copies)."""


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"Received {name}={value}; expected a positive number.")


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the signal-quality rules (see the module docstring for the rules).

    Attributes
    ----------
    flat_min_s : float
        Shortest flat stretch reported (1 s: on all of MIT-BIH, ECG never stays still, in this
        sense and after merging, for more than 0.4 s outside clipped plateaus).
    flat_step_mv : float
        Largest sample-to-sample change counted as "no change" (1 uV: below the 5 uV step of
        MIT-BIH's converter, above float rounding after resampling).
    flat_merge_s : float
        Interruptions up to this long between still runs are bridged (10 ms: one- to three-sample
        glitches on a disconnected lead).
    saturation_min_s : float
        Shortest stuck-at-the-extreme stretch reported as saturation (50 ms).
    saturation_band_fraction : float
        How close to the lead's maximum or minimum a stuck level must lie to count as a rail, as a
        fraction of the lead's range on that side (twice the distance from its median to the extreme).
    saturation_min_total_s : float
        Time the lead must spend stuck at that rail, over the whole record, before any of it is
        reported: a clipping recorder hits its rail again and again, while the top of a single
        slow artefact that happens to be the lead's maximum stays there once, for under 0.1 s.
    window_s : float
        Length of the noise windows; consecutive windows overlap by half.
    hf_cutoff_hz : float
        Cut-off of the high-pass filter for the high-frequency noise floor.
    band_hz : tuple of float
        Pass band of the in-band (motion artefact) noise floor.
    noise_factor : float
        A window is noisy when a floor exceeds this multiple of the lead's typical floor.
    min_floor_mv : float
        Lower bound of the typical floor, so that a quantisation-limited, very clean lead does
        not turn ordinary recorder noise into "noise" spans.
    train_sparing : bool
        Whether :func:`spare_beat_trains` cuts trains of like beats out of the noise spans (on by
        default; off gives the noise spans of :func:`find_quality_spans` unchanged).
    train_min_corr : float
        Smallest correlation of a beat's QRS with the previous beat's QRS on the lead for the two
        to belong to one train (0.9, chosen on DS1 only: 0.8, 0.9 and 0.95 gave the same DS1
        figures, ``experiments/noise_span_study.py``, REGIONS.md).
    train_min_beats : int
        Fewest beats in a train (3: the shortest ventricular run, EC57).
    train_max_rr_s : float
        Longest RR interval inside a train (2 s: the pause threshold of :mod:`pipeline.regions`).
    train_qrs_half_s : float
        Half-width of the QRS segment compared around each beat (60 ms).
    train_max_lag_s : float
        Largest shift of the previous beat's QRS segment tried when the two are compared; the best
        correlation over the shifts counts. A detector's fiducial point wanders inside wide,
        notched ventricular complexes by up to a few tens of milliseconds, which a fixed
        alignment reads as two different shapes (0 s: fixed alignment).
    train_pad_s : float
        Margin cut out of the noise spans before the first and after the last beat of a train
        (0.3 s: the QRS and most of the T wave of a beat at 100-200 bpm).
    step_min_mv : float
        Smallest baseline step flagged as noise (0.7 mV; ``math.inf`` turns the step rule off).
        Chosen on DS1 with ``experiments/baseline_step_study.py`` (REGIONS.md, session 31).
    step_median_s : tuple of float
        Lengths of the median filters, applied in turn, that take the baseline (200 and 600 ms,
        de Chazal et al. 2004: the first removes the QRS complexes, the second the P and T waves;
        a median filter keeps a step's edge where a linear filter smears it).
    step_lag_s : float
        The baseline's change is measured from ``step_lag_s`` before a point to ``step_lag_s``
        after it (50 ms: a step is there within that time; respiratory wander of 1 mV at 0.3 Hz
        moves it by 0.2 mV).
    step_pad_s : float
        Margin added on each side of the points where a step is found (0.5 s: the beats whose window,
        0.25 s before to 0.45 s after the peak, holds the step, and the cleaning filter's ringing).
    """

    flat_min_s: float = 1.0
    flat_step_mv: float = 0.001
    flat_merge_s: float = 0.01
    saturation_min_s: float = 0.05
    saturation_band_fraction: float = 0.02
    saturation_min_total_s: float = 0.2
    window_s: float = 2.0
    hf_cutoff_hz: float = 25.0
    band_hz: tuple[float, float] = (1.0, 25.0)
    noise_factor: float = 3.0
    min_floor_mv: float = 0.005
    train_sparing: bool = True
    train_min_corr: float = 0.9
    train_min_beats: int = 3
    train_max_rr_s: float = 2.0
    train_qrs_half_s: float = 0.06
    train_max_lag_s: float = 0.0
    train_pad_s: float = 0.3
    step_min_mv: float = 0.7
    step_median_s: tuple[float, float] = (0.2, 0.6)
    step_lag_s: float = 0.05
    step_pad_s: float = 0.5

    def __post_init__(self) -> None:
        for name in ("flat_min_s", "flat_step_mv", "saturation_min_s", "saturation_min_total_s", "window_s",
                     "hf_cutoff_hz", "noise_factor", "min_floor_mv", "train_max_rr_s", "train_qrs_half_s",
                     "step_min_mv", "step_lag_s"):
            _check_positive(name, getattr(self, name))
        if not -1.0 <= self.train_min_corr <= 1.0:
            raise ValueError(f"Received train_min_corr={self.train_min_corr}; expected a value in [-1, 1].")
        if self.train_min_beats < 2:
            raise ValueError(f"Received train_min_beats={self.train_min_beats}; expected at least 2.")
        for name in ("train_pad_s", "step_pad_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"Received {name}={getattr(self, name)}; expected a value >= 0.")
        if not 0 <= self.train_max_lag_s <= self.train_qrs_half_s:
            raise ValueError(f"Received train_max_lag_s={self.train_max_lag_s}; expected a value in "
                             f"[0, train_qrs_half_s={self.train_qrs_half_s}].")
        if self.flat_merge_s < 0:
            raise ValueError(f"Received flat_merge_s={self.flat_merge_s}; expected a value >= 0.")
        if not 0 <= self.saturation_band_fraction < 0.5:
            raise ValueError(
                f"Received saturation_band_fraction={self.saturation_band_fraction}; expected 0 <= value < 0.5."
            )
        if not self.step_median_s or min(self.step_median_s) <= 0:
            raise ValueError(f"Received step_median_s={self.step_median_s}; expected positive lengths in seconds.")
        low, high = self.band_hz
        if not 0 < low < high:
            raise ValueError(f"Received band_hz={self.band_hz}; expected (low, high) with 0 < low < high.")


@dataclass(frozen=True)
class LeadQualitySummary:
    """Seconds of each quality problem in one lead, and the share of the lead that is usable.

    ``affected_s`` counts every sample covered by at least one span once (kinds can overlap, e.g.
    a clipped plateau is both flat and saturated); ``usable_fraction`` is the rest over the length.
    """

    lead: int
    missing_s: float
    flat_s: float
    saturated_s: float
    noise_s: float
    affected_s: float
    usable_fraction: float


def find_quality_spans(
    signal_mv: np.ndarray, fs_hz: float, settings: QualitySettings = QualitySettings()
) -> list[QualitySpan]:
    """Find missing, flat, saturated and noisy stretches in every lead.

    Parameters
    ----------
    signal_mv : np.ndarray
        Raw signal in mV, (n_samples, n_leads) or (n_samples,); NaN marks missing samples.
    fs_hz : float
        Sampling rate (required).
    settings : QualitySettings

    Returns
    -------
    list of QualitySpan
        Sorted by lead, then kind (missing, flat, saturated, noise), then start; spans of the
        same kind in the same lead never overlap or touch.

    Examples
    --------
    >>> x = 0.3 * np.sin(2 * np.pi * 1.2 * np.arange(3600) / 360.0)[:, None]
    >>> x[1000:1100] = np.nan
    >>> find_quality_spans(x, 360.0)
    [QualitySpan(kind='missing', lead=0, start=1000, stop=1100)]
    """
    x = _as_leads(signal_mv)
    _check_rate(fs_hz, settings)
    spans: list[QualitySpan] = []
    for lead in range(x.shape[1]):
        spans.extend(find_lead_spans(x[:, lead], fs_hz, lead, settings))
    logger.debug("%d quality spans in %d leads of %d samples", len(spans), x.shape[1], x.shape[0])
    return spans


def find_lead_spans(x: np.ndarray, fs_hz: float, lead: int, settings: QualitySettings) -> list[QualitySpan]:
    """Quality spans of one lead (1-D raw signal in mV), in :data:`QUALITY_KINDS` order."""
    still = still_runs(x, settings.flat_step_mv)
    found = {
        "missing": find_missing_runs(x),
        "flat": find_flat_runs(x, fs_hz, settings, still=still),
        "saturated": find_saturated_runs(x, fs_hz, settings, still=still),
    }
    noise = find_noise_runs(x, fs_hz, settings, exclude=_concat_runs(found["missing"], found["flat"]))
    noise = _concat_runs(noise, find_step_runs(x, fs_hz, settings))
    found["noise"] = merge_runs(noise[np.argsort(noise[:, 0], kind="stable")], 0)
    return [QualitySpan(kind, lead, int(a), int(b)) for kind in QUALITY_KINDS for a, b in found[kind]]


def find_missing_runs(x: np.ndarray) -> np.ndarray:
    """(k, 2) array of [start, stop) sample runs where ``x`` is NaN."""
    return mask_runs(np.isnan(x))


def find_flat_runs(x: np.ndarray, fs_hz: float, settings: QualitySettings,
                   still: np.ndarray | None = None) -> np.ndarray:
    """(k, 2) runs of at least ``flat_min_s`` without change (see :class:`QualitySettings`).

    ``still`` may pass in :func:`still_runs` of ``x`` when it is already at hand.
    """
    runs = still_runs(x, settings.flat_step_mv) if still is None else still
    runs = merge_runs(runs, int(round(settings.flat_merge_s * fs_hz)))
    return keep_long_runs(runs, int(round(settings.flat_min_s * fs_hz)))


def find_saturated_runs(x: np.ndarray, fs_hz: float, settings: QualitySettings,
                        still: np.ndarray | None = None) -> np.ndarray:
    """(k, 2) runs stuck for at least ``saturation_min_s`` at a level next to the lead's extremes.

    ``still`` may pass in :func:`still_runs` of ``x`` when it is already at hand. The extremes and bands are those
    of :func:`rail_levels`, so that one outlier (a padded end, a spike) does not turn ordinary flat stretches at the
    other extreme into saturation.
    """
    if np.all(np.isnan(x)):
        return _no_runs()
    runs = still_runs(x, settings.flat_step_mv) if still is None else still
    stuck = keep_long_runs(merge_runs(runs, int(round(settings.flat_merge_s * fs_hz))),
                           int(round(settings.saturation_min_s * fs_hz)))
    levels = rail_levels(x, stuck, settings)
    if levels is None:
        return _no_runs()  # a constant lead is flat, not clipped
    high, low = levels
    level = x[runs[:, 0]]
    sides = [rail_runs(runs[near], fs_hz, settings) for near in (level >= high, level <= low)]
    runs = np.concatenate(sides)
    return runs[np.argsort(runs[:, 0], kind="stable")]


def rail_levels(x: np.ndarray, stuck: np.ndarray, settings: QualitySettings) -> tuple[float, float] | None:
    """The levels at or beyond which a stuck stretch counts as the high and the low rail; None for a constant lead.

    Each is the extreme of the moving signal (``x`` outside the ``stuck`` runs; the whole lead when nothing moves),
    moved towards the median by ``saturation_band_fraction`` of twice its distance from the lead's median: a stuck
    filler far beyond the ECG sets neither the other extreme nor the other band.

    Examples
    --------
    >>> x = np.tile([0.0, 0.5, 0.0, 1.0, 0.0, -0.5], 100)
    >>> x[-50:] = -100.0  # a padded end, stuck far below the signal
    >>> rail_levels(x, np.array([[550, 600]]), QualitySettings())
    (0.96, -0.48)
    """
    high, low = moving_extremes(x, stuck)
    if high - low <= settings.flat_step_mv:
        return None
    middle = float(np.nanmedian(x[:: max(x.size // 1_000_000, 1)]))
    fraction = 2 * settings.saturation_band_fraction
    return high - fraction * max(high - middle, 0.0), low + fraction * max(middle - low, 0.0)


def moving_extremes(x: np.ndarray, stuck: np.ndarray) -> tuple[float, float]:
    """Largest and smallest value of ``x`` outside the sorted, disjoint ``stuck`` runs (of the whole lead when the
    runs cover it), NaN ignored.

    Examples
    --------
    >>> moving_extremes(np.array([0.0, 5.0, 5.0, 5.0, 1.0, -9.0, -9.0]), np.array([[1, 4], [5, 7]]))
    (1.0, 0.0)
    """
    bounds = np.unique(np.concatenate([[0], stuck.ravel()]))
    bounds = bounds[bounds < x.size]
    moving = ~np.isin(bounds, stuck[:, 0])
    highs, lows = np.fmax.reduceat(x, bounds)[moving], np.fmin.reduceat(x, bounds)[moving]
    if not np.isfinite(highs).any():
        return float(np.nanmax(x)), float(np.nanmin(x))
    return float(np.nanmax(highs)), float(np.nanmin(lows))


def rail_runs(runs: np.ndarray, fs_hz: float, settings: QualitySettings) -> np.ndarray:
    """Stuck runs at one extreme that are long enough and, together, reach the rail often enough.

    Runs closer than ``flat_merge_s`` are merged; those of at least ``saturation_min_s`` are kept
    when they add up to ``saturation_min_total_s``.
    """
    runs = keep_long_runs(merge_runs(runs, int(round(settings.flat_merge_s * fs_hz))),
                          int(round(settings.saturation_min_s * fs_hz)))
    if np.sum(runs[:, 1] - runs[:, 0]) < settings.saturation_min_total_s * fs_hz:
        return _no_runs()
    return runs


def find_noise_runs(x: np.ndarray, fs_hz: float, settings: QualitySettings,
                    exclude: np.ndarray | None = None) -> np.ndarray:
    """(k, 2) runs covered by noisy windows (see the module docstring for the rule).

    ``exclude`` holds runs (missing, flat) whose windows do not count towards the typical floor.
    """
    win, hop = window_samples(fs_hz, settings)
    if x.shape[0] < win:
        return _no_runs()
    floors = noise_floors(x, fs_hz, settings)
    typical = typical_floors(floors, _windows_touching(exclude, floors.shape[0], win, hop), settings)
    noisy = np.any(floors > settings.noise_factor * typical, axis=1)
    starts = np.flatnonzero(noisy) * hop
    return merge_runs(np.column_stack([starts, starts + win]).astype(np.int64), 0)


def find_step_runs(x: np.ndarray, fs_hz: float, settings: QualitySettings) -> np.ndarray:
    """(k, 2) runs around abrupt baseline steps of ``x`` (see the module docstring for the rule).

    The signal is averaged over blocks of about 10 ms (NaN blocks held at the last valid one), its baseline taken by
    median filters of ``step_median_s`` in turn, and the baseline's change over ``2 * step_lag_s`` compared with
    ``step_min_mv``. Changes whose filters reach a missing sample, or past either end of the record, are not counted
    (a gap is its own span).

    Examples
    --------
    >>> fs_hz = 360.0
    >>> t = np.arange(int(20 * fs_hz)) / fs_hz
    >>> x = 0.3 * np.sin(2 * np.pi * 0.3 * t) + np.where(t >= 10.0, 1.5, 0.0)
    >>> (find_step_runs(x, fs_hz, QualitySettings()) / fs_hz).round(1).tolist()
    [[9.5, 10.5]]
    """
    block = max(int(round(0.01 * fs_hz)), 1)
    n_blocks = x.shape[0] // block
    rate = fs_hz / block
    sizes = [int(round(s * rate)) // 2 * 2 + 1 for s in settings.step_median_s]  # odd lengths
    lag = max(int(round(settings.step_lag_s * rate)), 1)
    reach = sum(size // 2 for size in sizes) + lag  # blocks on either side that a change depends on
    if not np.isfinite(settings.step_min_mv) or n_blocks <= 2 * reach + 1:
        return _no_runs()
    baseline = block_means(x, block)  # NaN where a gap is
    missing = np.isnan(baseline)
    if missing.all():
        return _no_runs()
    if missing.any():  # held block by block: the blocks whose filters reach a gap are not counted below anyway
        baseline = hold_gaps(baseline, _first_valid(baseline))[0].astype(np.float32)
    for size in sizes:
        baseline = scipy.ndimage.median_filter(baseline, size, mode="nearest")
    change = np.zeros(n_blocks, np.float32)
    change[lag:n_blocks - lag] = baseline[2 * lag:] - baseline[:-2 * lag]
    steps = np.abs(change) >= settings.step_min_mv
    steps[:reach] = steps[n_blocks - reach:] = False
    if missing.any():
        steps &= ~scipy.ndimage.maximum_filter1d(missing, 2 * reach + 1)
    pad = int(round(settings.step_pad_s * fs_hz))
    runs = mask_runs(steps) * block
    runs[:, 0] -= pad
    runs[:, 1] += pad
    return merge_runs(np.clip(runs, 0, x.shape[0]), 0)


def block_means(x: np.ndarray, block: int, dtype=np.float32) -> np.ndarray:
    """Means (in ``dtype``) of the consecutive ``block``-sample blocks of ``x`` (a last partial block dropped; NaN
    where a block holds one), summed slice by slice: several times faster than a reshaped ``mean``. The detector's
    decimation (:func:`pipeline.detect.decimate_signal`) is the same, lead by lead, in float64.

    >>> block_means(np.array([1.0, 3.0, 5.0, np.nan, 7.0]), 2).tolist()
    [2.0, nan]
    """
    n_blocks = x.shape[0] // block
    total = x[0:n_blocks * block:block].astype(dtype)
    for k in range(1, block):
        total += x[k:n_blocks * block:block]
    total /= block
    return total


def spare_beat_trains(spans: list[QualitySpan], signal_mv: np.ndarray, beat_samples: np.ndarray, fs_hz: float,
                      settings: QualitySettings = QualitySettings()) -> list[QualitySpan]:
    """Noise spans without the stretches where the beats inside repeat one QRS shape; other spans unchanged.

    A run of wide ventricular beats (ventricular tachycardia, idioventricular rhythm) raises the
    in-band floor of the noise rule as electrode motion does, so :func:`find_quality_spans` flags
    it as noise, and no event would be claimed there (REGIONS.md: on MIT-BIH every missed V run
    with reference labels lay in such a span). Artefact does not make a train of beats with the
    same QRS. A train is at least ``train_min_beats`` consecutive beats, each QRS (within
    +-``train_qrs_half_s`` of the beat, mean removed) correlating at least ``train_min_corr``
    with the previous one on that lead, with RR intervals up to ``train_max_rr_s``. Each train,
    widened by ``train_pad_s`` on both sides, is cut out of the noise spans of its lead.

    Parameters
    ----------
    spans : list of QualitySpan
        From :func:`find_quality_spans` on ``signal_mv``.
    signal_mv : np.ndarray
        The signal the spans were found on, (n_samples, n_leads) or (n_samples,), in mV.
    beat_samples : np.ndarray
        Sorted beat positions (samples at ``fs_hz``), e.g. the detected R peaks.
    fs_hz : float
        Sampling rate (required).
    settings : QualitySettings

    Returns
    -------
    list of QualitySpan
        In the order of ``spans``; a noise span may be shortened, split or removed.
    """
    x = _as_leads(signal_mv)
    _check_rate(fs_hz, settings)
    if not settings.train_sparing:
        return list(spans)
    beats = np.asarray(beat_samples, dtype=np.int64).reshape(-1)
    if beats.size > 1 and np.any(np.diff(beats) <= 0):
        raise ValueError("Received unsorted or repeated beat_samples; expected strictly increasing sample indices.")
    out: list[QualitySpan] = []
    for span in spans:
        if span.kind != "noise":
            out.append(span)
            continue
        inside = beats[(beats >= span.start) & (beats < span.stop)]
        trains = find_beat_trains(x[:, span.lead], inside, fs_hz, settings)
        out.extend(QualitySpan("noise", span.lead, int(a), int(b)) for a, b in subtract_runs(span.start, span.stop,
                                                                                              trains))
    return out


def find_record_quality_spans(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray, noise_only=(),
                              settings: QualitySettings = QualitySettings()) -> list[QualitySpan]:
    """A record's quality spans as the analysis reports them: :func:`find_quality_spans`, noise over trains of like
    beats given back (:func:`spare_beat_trains`, with ``beat_samples``), and the detector's noise-only stretches
    (:attr:`pipeline.types.Detection.noise_only`) added (:func:`add_noise_only_spans`)."""
    spans = spare_beat_trains(find_quality_spans(signal_mv, fs_hz, settings), signal_mv, beat_samples, fs_hz, settings)
    return add_noise_only_spans(spans, noise_only, _as_leads(signal_mv).shape[1])


def add_noise_only_spans(spans: list[QualitySpan], noise_only, n_leads: int) -> list[QualitySpan]:
    """``spans`` with the detector's noise-only stretches (:attr:`pipeline.types.Detection.noise_only`) as noise on
    every lead, joined with the noise spans they overlap or touch; sorted as :func:`find_quality_spans` sorts.

    The noise rule is relative to the record's own floor, so a record that is noise from end to end has no noisy
    stretch by that rule; the detector, which finds no QRS complex standing out of it, knows better.

    >>> add_noise_only_spans([QualitySpan("noise", 0, 50, 120)], ((100, 400),), 1)
    [QualitySpan(kind='noise', lead=0, start=50, stop=400)]
    """
    if not noise_only:
        return list(spans)
    out = [span for span in spans if span.kind != "noise"]
    for lead in range(n_leads):
        stretches = [(span.start, span.stop) for span in spans if span.kind == "noise" and span.lead == lead]
        runs = np.array(sorted(stretches + list(noise_only)), dtype=np.int64).reshape(-1, 2)
        out.extend(QualitySpan("noise", lead, int(a), int(b)) for a, b in merge_runs(runs, 0))
    return sorted(out, key=lambda span: (span.lead, QUALITY_KINDS.index(span.kind), span.start))


def find_beat_trains(lead_mv: np.ndarray, beat_samples: np.ndarray, fs_hz: float,
                     settings: QualitySettings) -> np.ndarray:
    """(k, 2) sample runs covered by trains of like beats (see :func:`spare_beat_trains`), padded."""
    if beat_samples.size < settings.train_min_beats:
        return _no_runs()
    corr = successive_qrs_correlations(lead_mv, beat_samples, int(round(settings.train_qrs_half_s * fs_hz)),
                                       int(round(settings.train_max_lag_s * fs_hz)))
    linked = (corr >= settings.train_min_corr) & (np.diff(beat_samples) <= settings.train_max_rr_s * fs_hz)
    links = mask_runs(linked)  # links i..j-1 join beats i..j
    links = links[links[:, 1] - links[:, 0] + 1 >= settings.train_min_beats]
    pad = int(round(settings.train_pad_s * fs_hz))
    return np.column_stack([beat_samples[links[:, 0]] - pad, beat_samples[links[:, 1]] + pad]).astype(np.int64)


def successive_qrs_correlations(lead_mv: np.ndarray, beat_samples: np.ndarray, half: int,
                                max_lag: int = 0) -> np.ndarray:
    """Correlation of each beat's QRS segment (+-``half`` samples) with the previous beat's, the best over
    shifts of the previous segment by up to +-``max_lag`` samples; 0 where every pairing leaves the
    signal, holds a missing sample or is constant. Length ``len(beats) - 1``."""
    offsets = np.arange(-half, half + 1)
    current, current_ok = _centred_segments(lead_mv, beat_samples[1:, None] + offsets)
    current_energy = (current ** 2).sum(axis=1)
    best = np.full(max(beat_samples.size - 1, 0), -np.inf)
    for lag in range(-max_lag, max_lag + 1):
        previous, previous_ok = _centred_segments(lead_mv, beat_samples[:-1, None] + lag + offsets)
        scale = np.sqrt(current_energy * (previous ** 2).sum(axis=1))
        valid = current_ok & previous_ok & (scale > 1e-12)
        best = np.maximum(best, np.where(valid, (current * previous).sum(axis=1) / np.where(valid, scale, 1.0), 0.0))
    return best


def _centred_segments(lead_mv: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segments of ``lead_mv`` at the rows of ``index``, mean removed (zero rows where a segment leaves the
    signal or holds a missing sample), and which rows are usable."""
    inside = (index[:, 0] >= 0) & (index[:, -1] < lead_mv.shape[0])
    segments = lead_mv[np.clip(index, 0, lead_mv.shape[0] - 1)].astype(np.float64)
    inside &= ~np.isnan(segments).any(axis=1)
    segments = np.where(inside[:, None], segments, 0.0)
    return segments - segments.mean(axis=1, keepdims=True), inside


def subtract_runs(start: int, stop: int, runs: np.ndarray) -> list[tuple[int, int]]:
    """Pieces of ``[start, stop)`` outside the sorted, non-overlapping ``runs``.

    Examples
    --------
    >>> subtract_runs(0, 100, np.array([[10, 20], [50, 120]]))
    [(0, 10), (20, 50)]
    """
    pieces, cursor = [], start
    for a, b in runs:
        if b <= cursor or a >= stop:
            continue
        if a > cursor:
            pieces.append((cursor, int(a)))
        cursor = max(cursor, int(b))
    if cursor < stop:
        pieces.append((cursor, stop))
    return pieces


def window_samples(fs_hz: float, settings: QualitySettings) -> tuple[int, int]:
    """Length and hop (half the length) of the noise windows, in samples."""
    hop = max(int(round(settings.window_s * fs_hz / 2)), 1)
    return 2 * hop, hop


def noise_floors(x: np.ndarray, fs_hz: float, settings: QualitySettings) -> np.ndarray:
    """(n_windows, 2) median absolute value of the high-frequency and in-band components.

    Window k covers samples ``[k * hop, k * hop + win)`` (see :func:`window_samples`).
    """
    win, hop = window_samples(fs_hz, settings)
    filters = (
        scipy.signal.butter(4, settings.hf_cutoff_hz, btype="highpass", fs=fs_hz, output="sos"),
        scipy.signal.butter(2, settings.band_hz, btype="bandpass", fs=fs_hz, output="sos"),
    )
    tails = [np.empty(0, np.float32) for _ in filters]
    out = []
    for magnitudes in filter_chunks(x, filters, _CHUNK_WINDOWS * hop):
        columns = []
        for k, magnitude in enumerate(magnitudes):
            extended = np.concatenate([tails[k], magnitude])
            columns.append(window_medians(extended, win, hop))
            tails[k] = extended[columns[-1].shape[0] * hop:]  # the start of the next window onwards
        out.append(np.column_stack(columns))
    return np.concatenate(out) if out else np.empty((0, 2), np.float32)


def filter_chunks(x: np.ndarray, filters: tuple[np.ndarray, ...], chunk: int) -> Iterator[list[np.ndarray]]:
    """Yield, chunk by chunk, the absolute output (float32) of each filter applied to ``x``.

    Filter states are carried across chunks (started in steady state at the first valid value)
    and NaN gaps are held at the last valid value (:func:`hold_gaps`), so the result equals
    filtering the whole lead at once while memory stays bounded for day-long records.
    """
    last = _first_valid(x)
    states = [scipy.signal.sosfilt_zi(sos) * last for sos in filters]
    for start in range(0, x.shape[0], chunk):
        segment, last = hold_gaps(x[start:start + chunk], last)
        magnitudes = []
        for k, sos in enumerate(filters):
            y, states[k] = scipy.signal.sosfilt(sos, segment, zi=states[k])
            magnitudes.append(np.abs(y).astype(np.float32))
        yield magnitudes


def window_medians(values: np.ndarray, win: int, hop: int) -> np.ndarray:
    """Median of each full window of ``values`` (length ``win``, starting every ``hop``)."""
    if values.shape[0] < win:
        return np.empty(0, np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(values, win)[::hop]
    return np.partition(windows, win // 2, axis=1)[:, win // 2]


def typical_floors(floors: np.ndarray, excluded: np.ndarray, settings: QualitySettings) -> np.ndarray:
    """Per-band typical floor: median over the windows not ``excluded``, at least ``min_floor_mv``."""
    usable = floors[~excluded] if (~excluded).any() else floors
    return np.maximum(np.median(usable, axis=0), settings.min_floor_mv)


def hold_gaps(segment: np.ndarray, last: float) -> tuple[np.ndarray, float]:
    """Float64 copy of ``segment`` with each NaN replaced by the last valid value before it.

    ``last`` is the value before the segment; returns the filled copy and its last value.
    Holding (rather than interpolating) depends on the past only, so filling chunk by chunk
    gives the same result as filling the whole lead.

    Examples
    --------
    >>> hold_gaps(np.array([np.nan, 1.0, np.nan, 3.0]), 0.5)[0].tolist()
    [0.5, 1.0, 1.0, 3.0]
    """
    out = np.array(segment, dtype=np.float64)
    bad = np.isnan(out)
    if bad.any():
        index = np.where(bad, -1, np.arange(out.size))
        np.maximum.accumulate(index, out=index)
        out = np.where(index >= 0, out[np.maximum(index, 0)], last)
    return out, float(out[-1]) if out.size else last


def still_runs(x: np.ndarray, step_mv: float) -> np.ndarray:
    """(k, 2) runs of samples in which each sample differs from the previous by <= ``step_mv``.

    A run covers both ends of its still differences, so it is at least two samples long. NaN
    samples never belong to a run. The differences are taken chunk by chunk (bounded memory).
    """
    n = x.shape[0]
    if n < 2:
        return _no_runs()
    still = np.empty(n - 1, bool)
    chunk = _CHUNK_WINDOWS * 1024
    for a in range(0, n - 1, chunk):
        b = min(a + chunk, n - 1)
        step = np.abs(x[a + 1:b + 1] - x[a:b])
        np.less_equal(step, step_mv, out=still[a:b])
    runs = mask_runs(still)
    runs[:, 1] += 1
    return runs


def mask_runs(mask: np.ndarray) -> np.ndarray:
    """(k, 2) int64 array of the [start, stop) runs where ``mask`` is true.

    Examples
    --------
    >>> mask_runs(np.array([0, 1, 1, 0, 1], bool)).tolist()
    [[1, 3], [4, 5]]
    """
    mask = np.asarray(mask, bool)
    if mask.size == 0:
        return _no_runs()
    bounds = np.concatenate([[0], np.flatnonzero(mask[1:] != mask[:-1]) + 1, [mask.size]])
    starts, stops = bounds[:-1], bounds[1:]
    true = mask[starts]
    return np.column_stack([starts[true], stops[true]]).astype(np.int64)


def merge_runs(runs: np.ndarray, max_gap: int) -> np.ndarray:
    """Merge sorted runs that overlap or are separated by at most ``max_gap`` samples.

    Examples
    --------
    >>> merge_runs(np.array([[0, 5], [7, 9], [20, 30]]), 2).tolist()
    [[0, 9], [20, 30]]
    """
    if runs.shape[0] < 2:
        return runs.reshape(-1, 2).astype(np.int64)
    reach = np.maximum.accumulate(runs[:, 1])
    new = np.concatenate([[True], runs[1:, 0] - reach[:-1] > max_gap])
    group_end = np.concatenate([np.flatnonzero(new)[1:] - 1, [runs.shape[0] - 1]])
    return np.column_stack([runs[new, 0], reach[group_end]]).astype(np.int64)


def keep_long_runs(runs: np.ndarray, min_samples: int) -> np.ndarray:
    """The runs at least ``min_samples`` long."""
    return runs[(runs[:, 1] - runs[:, 0]) >= min_samples]


def summarize_quality(spans: list[QualitySpan], n_samples: int, fs_hz: float,
                      n_leads: int | None = None) -> tuple[LeadQualitySummary, ...]:
    """Seconds of each kind of problem per lead and the usable fraction of each lead.

    Parameters
    ----------
    spans : list of QualitySpan
        Output of :func:`find_quality_spans`.
    n_samples : int
        Length of the record.
    fs_hz : float
        Sampling rate of the span indices.
    n_leads : int, optional
        Number of leads; by default one more than the largest lead index in ``spans`` (at least 1).

    Examples
    --------
    >>> spans = [QualitySpan("missing", 0, 0, 360), QualitySpan("noise", 0, 180, 720)]
    >>> summarize_quality(spans, 3600, 360.0)[0].usable_fraction
    0.8
    """
    if n_samples <= 0 or fs_hz <= 0:
        raise ValueError(f"Received n_samples={n_samples}, fs_hz={fs_hz}; expected positive values.")
    if n_leads is None:
        n_leads = 1 + max((s.lead for s in spans), default=0)
    return tuple(summarize_lead([s for s in spans if s.lead == lead], lead, n_samples, fs_hz)
                 for lead in range(n_leads))


def summarize_lead(spans: list[QualitySpan], lead: int, n_samples: int, fs_hz: float) -> LeadQualitySummary:
    """Summary of the spans of one lead (see :func:`summarize_quality`)."""
    seconds = {kind: sum(s.stop - s.start for s in spans if s.kind == kind) / fs_hz for kind in QUALITY_KINDS}
    runs = np.array(sorted((s.start, s.stop) for s in spans), dtype=np.int64).reshape(-1, 2)
    affected = int(np.sum(np.diff(merge_runs(runs, 0), axis=1)))
    return LeadQualitySummary(
        lead=lead,
        missing_s=seconds["missing"],
        flat_s=seconds["flat"],
        saturated_s=seconds["saturated"],
        noise_s=seconds["noise"],
        affected_s=affected / fs_hz,
        usable_fraction=1.0 - affected / n_samples,
    )


def _windows_touching(runs: np.ndarray | None, n_windows: int, win: int, hop: int) -> np.ndarray:
    """Boolean per window: does it overlap any of ``runs``?"""
    touched = np.zeros(n_windows, bool)
    if runs is None or runs.shape[0] == 0 or n_windows == 0:
        return touched
    first = np.maximum((runs[:, 0] - win) // hop + 1, 0)  # first window whose end passes the start
    last = np.minimum((runs[:, 1] - 1) // hop, n_windows - 1)  # last window starting before the stop
    delta = np.zeros(n_windows + 1, np.int64)
    valid = first <= last
    np.add.at(delta, first[valid], 1)
    np.add.at(delta, last[valid] + 1, -1)
    return np.cumsum(delta[:-1]) > 0


def _concat_runs(*runs: np.ndarray) -> np.ndarray:
    return np.concatenate([r.reshape(-1, 2) for r in runs]).astype(np.int64)


def _first_valid(x: np.ndarray) -> float:
    valid = ~np.isnan(x)
    return float(x[np.argmax(valid)]) if valid.any() else 0.0


def _no_runs() -> np.ndarray:
    return np.empty((0, 2), np.int64)


def _as_leads(signal_mv: np.ndarray) -> np.ndarray:
    x = np.asarray(signal_mv)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.floating):
        raise EcgInputError(
            f"Received a signal of shape {x.shape} and dtype {x.dtype}; expected a float array of shape "
            "(n_samples, n_leads) in mV."
        )
    return x


def _check_rate(fs_hz: float, settings: QualitySettings) -> None:
    if not fs_hz > 2 * max(settings.hf_cutoff_hz, settings.band_hz[1]):
        raise SamplingRateError(
            f"Received fs_hz={fs_hz}; expected more than twice the highest analysis frequency "
            f"({max(settings.hf_cutoff_hz, settings.band_hz[1]):g} Hz)."
        )

