"""Ventricular flutter and fibrillation: stretches whose waveform is a continuous oscillation.

In ventricular flutter (VFL) and fibrillation (VF) the ECG loses its QRS complexes and isoelectric
baseline and becomes a sinusoid-like (flutter) or irregular (fibrillation) oscillation. The beat
detector still finds "beats" there (one per wave), and the beat rules would report them as a
string of short ventricular runs; the noise rule of :mod:`pipeline.quality` may flag the stretch
as noise. This module finds such stretches from the signal itself, with the VF filter of Kuo and
Dillman (1978), one of the classic VF detectors compared by Amann et al. (2005).

VF filter leakage
    In each ``window_s`` window (hop ``hop_s``) of one lead, reduced to about ``ANALYSIS_FS_HZ``
    and band-passed (``PASSBAND_HZ``, the beats' cleaning band), the mean half-period of the oscillation is
    ``N = floor(pi * sum|x_i| / sum|x_i - x_{i-1}| + 1/2)`` samples; shifting the signal by ``N``
    and adding it cancels a sinusoid of that period, so the leakage
    ``sum|x_i + x_{i-N}| / sum(|x_i| + |x_{i-N}|)`` is near 0 for flutter and fibrillation and
    near 1 for QRS complexes separated by a flat baseline. A window is VF-like in a lead when its
    leakage is below ``leakage_threshold`` (0.625, Kuo and Dillman's value, kept by Amann et al.)
    and the oscillation's frequency ``fs / (2 N)`` lies within ``band_hz`` (2-7 Hz, 120-420 waves
    per minute: flutter's 180-300/min and most of surface VF's 3-9 Hz, not baseline wander or
    muscle noise; the upper edge chosen on DS1 for single-lead recordings, REGIONS.md).
Decision
    A window is VF-like when every usable lead says so (a lead is usable in a window that no
    missing, flat or saturated span of :mod:`pipeline.quality` touches: a clipped lead also
    looks like a square wave) and at least one lead is usable. Each VF-like window marks its
    central ``hop_s``. With the detected beats given, each run of marked seconds is kept only when
    those beats run at ``min_rate_bpm`` (150/min, the lower bound of flutter's rate) or faster
    inside it: where the beat detector follows a normal rhythm under the oscillation, the
    oscillation is not the heart's; in a run where it detected no beat at all (a recording of flutter
    alone: no QRS stands out of it), the oscillation's own frequency stands for the wave rate
    (session 51). The runs kept that lie within ``merge_gap_s`` (15 s) of each
    other are one episode, reported when it lasts at least ``min_duration_s``.

The leakage threshold and the lead rule's idea come from the literature; the lead rule and minimum
duration were chosen on DS1 (``experiments/vf_study.py``), the band's upper edge and the rate gate on
DS1 for single-lead recordings (``experiments/vf_single_lead_study.py``), the merge gap last
(``experiments/vf_merge_study.py``; REGIONS.md).
Limitations: MIT-BIH holds one patient with ventricular flutter (record 207, six episodes); fast
monomorphic ventricular tachycardia with a sinusoidal waveform (record 205, about 190 bpm) passes
the same test, as it does for the VF filter in Amann et al.; fine fibrillation of which the beat
detector finds only a few waves fails the rate check. The MIT-BIH Malignant Ventricular Ectopy and Creighton
University databases are the standard test sets for this detector.

References
----------
Kuo S, Dillman R, "Computer detection of ventricular fibrillation", Computers in Cardiology
5:347-349, 1978.
Amann A, Tratnig R, Unterkofler K, "Reliability of old and new ventricular fibrillation detection
algorithms for automated external defibrillators", BioMed Eng OnLine 4:60, 2005.
Clayton RH, Murray A, Campbell RWF, "Comparison of four techniques for recognition of ventricular
fibrillation from the surface ECG", Med Biol Eng Comput 31(2):111-117, 1993.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.signal
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.clean import fill_gaps
from pipeline.kept_results import KeptResults, digest_inputs
from pipeline.quality import ARTEFACT_KIND
from pipeline.types import QualitySpan, settings_to_dict, settings_values

BLOCKING_KINDS = ("missing", "flat", "saturated", ARTEFACT_KIND)
"""Quality-span kinds that make a lead unusable for the VF filter in a window (``artefact``: a reader's mark,
:data:`pipeline.quality.ARTEFACT_KIND`)."""

ANALYSIS_FS_HZ = 80.0
"""The leads are analysed at the record's rate divided by an integer, at least this rate."""

PASSBAND_HZ = (0.5, 40.0)
"""Band-pass before the VF filter: the beats' cleaning band (:mod:`pipeline.clean`), the upper edge
lowered to 0.45 of the analysis rate where that is lower."""


@dataclass(frozen=True)
class FibrillationSettings:
    """Thresholds of the ventricular flutter/fibrillation detector (module docstring).

    Attributes
    ----------
    window_s, hop_s : float
        Analysis window and hop of the VF filter.
    leakage_threshold : float
        A lead's window is VF-like below this leakage (Kuo and Dillman 1978).
    band_hz : tuple of float
        Frequencies of the oscillation accepted as flutter or fibrillation.
    merge_gap_s : float
        VF-like stretches closer than this are one episode (chosen on DS1, REGIONS.md).
    min_duration_s : float
        Shortest episode reported (chosen on DS1, REGIONS.md).
    leads : str
        ``"all"``: a window is VF-like when every usable lead says so; ``"any"``: when one does
        (chosen on DS1, REGIONS.md).
    min_rate_bpm : float
        With the detected beats given, a stretch is kept only when they run at this rate or
        faster inside it (at least two beats); 0 keeps every stretch (REGIONS.md).
    rate_check : str
        ``"joined"``: the rate is checked on the stretches after joining; ``"stretch"``: on each
        run of VF-like windows before joining (chosen on DS1, REGIONS.md).
    enabled : bool
        Off: no stretch is ever reported.
    """

    window_s: float = 4.0
    hop_s: float = 1.0
    leakage_threshold: float = 0.625
    band_hz: tuple[float, float] = (2.0, 7.0)
    merge_gap_s: float = 15.0
    min_duration_s: float = 1.0
    leads: str = "all"
    min_rate_bpm: float = 150.0
    rate_check: str = "stretch"
    enabled: bool = True

    def __post_init__(self) -> None:
        for name in ("window_s", "hop_s", "min_duration_s"):
            if not (np.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"Received {name}={getattr(self, name)!r}; expected a positive duration in s.")
        if not self.hop_s <= self.window_s:
            raise ValueError(f"Received hop_s={self.hop_s} and window_s={self.window_s}; expected hop_s <= window_s.")
        if not 0 < self.leakage_threshold < 1:
            raise ValueError(f"Received leakage_threshold={self.leakage_threshold!r}; expected a number in (0, 1).")
        if len(self.band_hz) != 2:
            raise ValueError(f"Received band_hz={self.band_hz!r}; expected (low, high) with 0 < low < high.")
        low, high = self.band_hz
        if not 0 < low < high:
            raise ValueError(f"Received band_hz={self.band_hz!r}; expected (low, high) with 0 < low < high.")
        if not (np.isfinite(self.min_rate_bpm) and self.min_rate_bpm >= 0):
            raise ValueError(f"Received min_rate_bpm={self.min_rate_bpm!r}; expected a non-negative rate in bpm.")
        if self.rate_check not in ("joined", "stretch"):
            raise ValueError(f"Received rate_check={self.rate_check!r}; expected 'joined' or 'stretch'.")
        if self.leads not in ("all", "any"):
            raise ValueError(f"Received leads={self.leads!r}; expected 'all' or 'any'.")
        if not self.merge_gap_s >= 0:
            raise ValueError(f"Received merge_gap_s={self.merge_gap_s!r}; expected a non-negative duration in s.")

    def to_dict(self) -> dict:
        return settings_to_dict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "FibrillationSettings":
        """Inverse of :meth:`to_dict`, for values from a file: unknown keys and values of the wrong kind raise
        ``ValueError`` (:func:`pipeline.types.settings_values`); missing keys keep their defaults."""
        return cls(**settings_values(cls, values))


def find_fibrillation_intervals(signal_mv: np.ndarray, fs_hz: float, quality_spans: list[QualitySpan] = (),
                                settings: FibrillationSettings = FibrillationSettings(),
                                beat_samples: np.ndarray | None = None) -> np.ndarray:
    """(k, 2) [start, stop) samples of the ventricular flutter/fibrillation stretches of a record.

    Parameters
    ----------
    signal_mv : np.ndarray
        (n_samples, n_leads) or (n_samples,) raw signal in mV, NaN where missing.
    fs_hz : float
        Sampling rate (required).
    quality_spans : list of QualitySpan
        From :func:`pipeline.quality.find_quality_spans`; missing, flat and saturated spans make
        a lead unusable where they lie.
    settings : FibrillationSettings
    beat_samples : np.ndarray, optional
        Detected beats (the waves of a flutter), for ``settings.min_rate_bpm``.

    Examples
    --------
    >>> fs = 250.0
    >>> t = np.arange(int(60 * fs)) / fs
    >>> x = np.where((t > 20) & (t < 40), np.sin(2 * np.pi * 4 * t), 0.0)  # 20 s of 240/min flutter
    >>> x = x + np.where(np.mod(t, 1.0) < 0.04, 1.0, 0.0) * (x == 0)      # 60/min spikes elsewhere
    >>> (find_fibrillation_intervals(x, fs) / fs).round().tolist()  # no beats given: no rate check
    [[18.0, 41.0]]
    """
    if not fs_hz > 0:
        raise ValueError(f"Received fs_hz={fs_hz}; expected a positive sampling rate in Hz.")
    x = np.asarray(signal_mv)
    x = x[:, None] if x.ndim == 1 else x
    if not settings.enabled:
        return np.empty((0, 2), np.int64)
    k = decimation_factor(fs_hz)
    flags = _KEPT_WINDOWS.recall(signal_mv, digest_inputs(x.shape, fs_hz, tuple(quality_spans), settings),
                                 lambda: vf_like_windows(x, fs_hz, quality_spans, settings))
    if not flags.any():
        return np.empty((0, 2), np.int64)
    window, hop = window_lengths(fs_hz / k, settings)
    centre = (np.arange(len(flags)) * hop + (window - hop) // 2) * k
    marked = np.stack([centre[flags], centre[flags] + hop * k], axis=1)
    checking = beat_samples is not None and settings.min_rate_bpm > 0
    if checking and settings.rate_check == "stretch":  # each run of VF-like windows on its own, then joined
        marked = join_stretches(marked, 0)
        marked = marked[wave_rates_bpm(marked, np.asarray(beat_samples), fs_hz, x) >= settings.min_rate_bpm]
        if len(marked) == 0:
            return np.empty((0, 2), np.int64)
    stretches = keep_long_stretches(marked, fs_hz, settings)
    if not checking or settings.rate_check == "stretch":
        return stretches
    return stretches[wave_rates_bpm(stretches, np.asarray(beat_samples), fs_hz, x) >= settings.min_rate_bpm
                     ].reshape(-1, 2)


_KEPT_WINDOWS = KeptResults()
"""The ventricular-flutter-like windows of the last few records (:func:`vf_like_windows`), which depend on the signal
and its quality spans, not on the beats: a reader's added or deleted beat finds the AF and flutter evidence again, and
on a 24-hour record these windows took 1.3 of the 5.8 s such an edit cost (session 64's profile)."""


def forget_kept_windows() -> None:
    """Drop the kept flutter-like windows (a benchmark's "before")."""
    _KEPT_WINDOWS.forget()


def wave_rates_bpm(stretches: np.ndarray, beat_samples: np.ndarray, fs_hz: float,
                   signal_mv: np.ndarray | None = None) -> np.ndarray:
    """Rate of the beats detected inside each stretch (0 with fewer than two).

    In a stretch where none was detected (the beat detector found no QRS standing out of the noise there, no rhythm
    under the oscillation), the rate is the oscillation's, given ``signal_mv`` (:func:`count_waves_bpm`). A QA pass
    of session 51 found 100 s of record 207's flutter, scored alone, called unreadable: the detector finds no beat in
    a recording that is all flutter, and the rate check then threw the flutter away.
    """
    first = np.searchsorted(beat_samples, stretches[:, 0])
    after = np.searchsorted(beat_samples, stretches[:, 1])
    rates = np.zeros(len(stretches))
    for i, (f, a) in enumerate(zip(first.tolist(), after.tolist())):
        if a - f >= 2 and beat_samples[a - 1] > beat_samples[f]:
            rates[i] = 60.0 * fs_hz * (a - f - 1) / (beat_samples[a - 1] - beat_samples[f])
        elif a == f and signal_mv is not None:
            rates[i] = count_waves_bpm(signal_mv[stretches[i, 0]:stretches[i, 1]], fs_hz)
    return rates


def count_waves_bpm(signal_mv: np.ndarray, fs_hz: float) -> float:
    """Waves a minute of the oscillation in ``signal_mv`` (n_samples, n_leads): the VF filter's frequency
    (:func:`measure_leakage`) over the whole stretch, the median over the leads with signal; 0 when none has.

    >>> fs = 360.0
    >>> t = np.arange(int(20 * fs)) / fs
    >>> flutter = np.column_stack([np.sin(2 * np.pi * 4 * t), 0.5 * np.sin(2 * np.pi * 4 * t + 1)])
    >>> round(count_waves_bpm(flutter, fs))  # 4 Hz, 240 a minute, to the half-period's whole samples
    245
    """
    rates = []
    for lead in np.asarray(signal_mv).reshape(len(signal_mv), -1).T:
        if not np.isfinite(lead).any():
            continue
        reduced, rate_hz = filter_lead(lead, fs_hz)
        if len(reduced) < 2:
            continue
        _, frequency_hz = measure_leakage(reduced, np.array([0]), len(reduced), rate_hz)
        if frequency_hz[0] > 0:
            rates.append(60.0 * frequency_hz[0])
    return float(np.median(rates)) if rates else 0.0


def decimation_factor(fs_hz: float) -> int:
    """The integer the record's rate is divided by for the analysis (at least ``ANALYSIS_FS_HZ`` remains)."""
    return max(int(fs_hz // ANALYSIS_FS_HZ), 1)


def window_lengths(rate_hz: float, settings: FibrillationSettings) -> tuple[int, int]:
    """Window and hop in samples at ``rate_hz``."""
    return int(round(settings.window_s * rate_hz)), max(int(round(settings.hop_s * rate_hz)), 1)


def vf_like_windows(x: np.ndarray, fs_hz: float, quality_spans, settings: FibrillationSettings) -> np.ndarray:
    """Boolean per analysis window (hop ``hop_s`` from the start): VF-like in every usable lead (``leads="all"``)
    or in one (``"any"``), with one usable lead at least."""
    k = decimation_factor(fs_hz)
    window, hop = window_lengths(fs_hz / k, settings)
    n_reduced = x.shape[0] // k
    n_windows = (n_reduced - window) // hop + 1 if n_reduced >= window else 0
    starts = np.arange(n_windows) * hop
    every = settings.leads == "all"
    verdict = np.full(n_windows, every)
    usable_any = np.zeros(n_windows, bool)
    low, high = settings.band_hz
    for lead in range(x.shape[1] if n_windows else 0):
        blocking = [s for s in quality_spans if s.lead == lead and s.kind in BLOCKING_KINDS]
        usable = ~windows_touching(starts * k, window * k, blocking)
        reduced, rate_hz = filter_lead(x[:, lead], fs_hz)
        leakage, frequency_hz = measure_leakage(reduced, starts, window, rate_hz)
        like = (leakage < settings.leakage_threshold) & (frequency_hz >= low) & (frequency_hz <= high)
        verdict = verdict & (like | ~usable) if every else verdict | (like & usable)
        usable_any |= usable
        if every and not verdict.any():  # no window left that another lead could confirm
            break
    return verdict & usable_any


def filter_lead(lead_mv: np.ndarray, fs_hz: float) -> tuple[np.ndarray, float]:
    """The lead reduced to about ``ANALYSIS_FS_HZ`` and band-passed (module docstring); returns it and its rate.

    The reduction averages blocks of ``k`` samples (a moving-average low-pass, as in the
    preprocessing of Amann et al. 2005), so that the record's own samples are read once.
    """
    k = decimation_factor(fs_hz)
    x = np.asarray(lead_mv)
    if np.isnan(x).any():
        x = fill_gaps(x[:, None].astype(np.float64))[:, 0]
    n = len(x) // k * k
    x = sum(x[j:n:k].astype(np.float64) for j in range(k)) / k  # strided sums: faster than reshape().mean()
    rate_hz = fs_hz / k
    if len(x) <= 15:
        return x, rate_hz
    return scipy.signal.sosfiltfilt(design_filter(rate_hz), x), rate_hz


@functools.lru_cache(maxsize=8)
def design_filter(rate_hz: float) -> np.ndarray:
    """Second-order sections of the band-pass before the VF filter (Butterworth, order 2 each side)."""
    band_hz = (PASSBAND_HZ[0], min(PASSBAND_HZ[1], 0.45 * rate_hz))
    return scipy.signal.butter(2, band_hz, btype="bandpass", fs=rate_hz, output="sos")


def measure_leakage(x: np.ndarray, starts: np.ndarray, window: int, fs_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """VF filter leakage and oscillation frequency (Hz) of each window ``x[s:s + window]``.

    Windows without any variation get leakage 1 and frequency 0.

    Examples
    --------
    >>> t = np.arange(1000) / 250.0
    >>> leak, f = measure_leakage(np.sin(2 * np.pi * 5 * t), np.array([0, 500]), 500, 250.0)
    >>> bool((leak < 0.1).all()), f.round(1).tolist()
    (True, [5.0, 5.0])
    """
    x = np.asarray(x, dtype=np.float64)
    absolute = np.concatenate([[0.0], np.cumsum(np.abs(x))])
    steps = np.concatenate([[0.0, 0.0], np.cumsum(np.abs(np.diff(x)))])
    level = absolute[starts + window] - absolute[starts + 1]
    change = steps[starts + window] - steps[starts + 1]
    half_period = np.floor(np.pi * level / np.where(change > 0, change, np.inf) + 0.5).astype(np.int64)
    leakage = np.ones(len(starts))
    windows = sliding_window_view(x, window)
    for n in np.unique(half_period[(half_period >= 1) & (half_period < window)]):
        for rows in np.array_split(np.flatnonzero(half_period == n), -(-np.sum(half_period == n) // 4096)):
            s = starts[rows]  # pairs (i, i - n) inside each window
            both = (absolute[s + window] - absolute[s + n]) + (absolute[s + window - n] - absolute[s])
            v = windows[s]
            summed = np.abs(v[:, n:] + v[:, :-n]).sum(axis=1)
            leakage[rows] = np.where(both > 0, summed / np.where(both > 0, both, 1), 1.0)
    frequency_hz = np.where(half_period > 0, fs_hz / (2 * np.maximum(half_period, 1)), 0.0)
    return leakage, frequency_hz


def windows_touching(starts: np.ndarray, window: int, spans: list[QualitySpan]) -> np.ndarray:
    """Boolean per window ``[s, s + window)``: some span overlaps it."""
    touched = np.zeros(len(starts), bool)
    for span in spans:
        touched |= (starts < span.stop) & (starts + window > span.start)
    return touched


def keep_long_stretches(marked: np.ndarray, fs_hz: float, settings: FibrillationSettings) -> np.ndarray:
    """Join sorted [start, stop) stretches closer than ``merge_gap_s``; keep those of ``min_duration_s`` or more."""
    out = join_stretches(marked, settings.merge_gap_s * fs_hz)
    return out[(out[:, 1] - out[:, 0]) >= settings.min_duration_s * fs_hz].reshape(-1, 2)


def join_stretches(marked: np.ndarray, gap: float) -> np.ndarray:
    """Sorted [start, stop) stretches with those at most ``gap`` samples apart joined."""
    merged = [list(marked[0])]
    for start, stop in marked[1:]:
        if start - merged[-1][1] <= gap:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return np.asarray(merged, dtype=np.int64).reshape(-1, 2)
