"""Heart-rate variability in the time and frequency domains, from the normal-to-normal (NN) intervals of a record.

A Holter report gives the variability of the sinus rhythm next to the rate (Task Force 1996). Only intervals
between two consecutive readable N beats count, so ectopic beats, the intervals next to them, unreadable signal
and atrial fibrillation (whose irregularity is not sinus variability) are left out, and so are the intervals of 2:1 AV
block and dropped beats (:data:`pipeline.regions.BLOCKED_KINDS`, a P wave not conducted between their beats). The remaining intervals are
edited as HRV software does before any statistic: an interval outside [``min_nn_s``, ``max_nn_s``], or differing
by more than ``relative_limit`` from the median of the ``reference_intervals`` NN intervals centred on it, is dropped
(a missed or extra beat, or an unflagged ectopic beat, doubles or halves an interval). The PhysioNet HRV Toolkit's
``filtnn`` drops the same intervals by their distance from the mean of the intervals around them; the median moves
less where several neighbours are bad (session 50: on MIT-BIH the two differ on a few records, e.g. 222 and 231).

Figures (Task Force 1996, table 1):

- mean NN and SDNN: mean and standard deviation of the NN intervals;
- RMSSD and pNN50: root mean square of, and percentage over 50 ms of, the differences between successive NN
  intervals (two intervals that share a beat, both kept);
- SDANN and SDNN index: standard deviation of the mean NN, and mean of the SDNN, of consecutive
  ``segment_s`` segments, each at least half covered by NN intervals (defined for long recordings; given
  when at least two segments qualify).

Poincare plot (Brennan, Palaniswami and Kamen 2001): over the pairs of successive kept NN intervals (RR_n,
RR_n+1), SD1 is the standard deviation across the identity line, ``(RR_n+1 - RR_n) / sqrt(2)`` (beat-to-beat
variability, RMSSD / sqrt(2)), and SD2 along it, ``(RR_n+1 + RR_n) / sqrt(2)`` (longer-term variability).

Geometric (Task Force 1996, table 1): the HRV triangular index, the number of NN intervals over the height of their
histogram in bins of ``histogram_bin_s`` (1/128 s), given for at least ``geometric_min_s`` (20 minutes) of NN
intervals, which the geometric methods need (and comparable only between recordings of like length: published
limits are for 24 hours).

Deceleration capacity (Bauer et al. 2006, phase-rectified signal averaging): every kept NN interval longer than the
one before it, by at most ``dc_max_change`` (5 %; longer steps are taken for artefacts), is an anchor; with the
intervals around each anchor (two before, one after, all kept and consecutive), DC = the mean of (RR_0 + RR_1 -
RR_-1 - RR_-2) / 4, in ms: how much the heart can slow from one beat to the next. After myocardial infarction, DC
of 2.5 ms or less marks a high risk and over 4.5 ms a low one.

Frequency domain (Task Force 1996, table 2, short-term analysis of 5-minute segments): the Lomb-Scargle periodogram
of each ``segment_s`` segment whose NN intervals cover at least ``spectrum_min_coverage`` of it (the method of the
PhysioNet HRV Toolkit's ``lomb``, made for unevenly sampled series with gaps), each NN interval at the time of its
closing beat, the segment's linear trend removed, computed up to the segment's mean Nyquist frequency (half its
mean rate of intervals, as ``lomb`` does: 0.5 Hz at 60 bpm, 1 Hz at 120) and scaled so that it sums to the
segment's variance there; LF (0.04-0.15 Hz) and HF (0.15-0.4 Hz, up to that frequency when the heart is slower than
48 bpm) power in ms^2 are averaged over the segments, and LF/HF is the ratio of the averages. Until session 50 the
spectrum was scaled over a fixed 0-0.5 Hz, which put the power of a fast heart's variability above 0.5 Hz into the
bands (:func:`segment_band_powers` shows a case) and a slow heart's alias under 0.5 Hz into the total, so that
absolute LF and HF were too high or too low with the heart rate; LF/HF, a ratio within each segment, changed little.

By the hour (:func:`compute_hrv_by_hour`, the hourly table of a Holter report): SDNN, RMSSD and pNN50 of the NN
intervals that start in each hour, edited over the whole record as above, and LF/HF of the hour's 5-minute segments;
an hour with fewer than ``min_total_s`` of NN intervals has none.

Standard deviations are sample standard deviations (``ddof=1``). With atrial fibrillation in the record, ``note``
says that only the stretches outside it count (an AF detection that misses part of the AF lets irregular
intervals in). Fewer than ``min_total_s`` of NN intervals leave every figure NaN, with the reason in ``note``;
240 s by default, four fifths of the Task Force's 5-minute short-term recording, so that 5 minutes of sinus rhythm
with a few ectopic beats are assessed.

References
----------
Task Force of the European Society of Cardiology and the North American Society of Pacing and
Electrophysiology, "Heart rate variability: standards of measurement, physiological interpretation and clinical
use", Circulation 93(5):1043-1065, 1996.
Goldberger AL et al., "PhysioBank, PhysioToolkit, and PhysioNet", Circulation 101(23):e215-e220, 2000 (HRV
Toolkit: ``filtnn``, ``get_hrv``, ``lomb``).
Moody GB, "Spectral analysis of heart rate without resampling", Computers in Cardiology 1993:715-718.
Bauer A et al., "Deceleration capacity of heart rate as a predictor of mortality after myocardial infarction: cohort
study", Lancet 367(9523):1674-1681, 2006.
Brennan M, Palaniswami M, Kamen P, "Do existing measures of Poincare plot geometry reflect nonlinear features of heart
rate variability?", IEEE Trans Biomed Eng 48(11):1342-1347, 2001.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields

import numpy as np
from scipy.ndimage import median_filter
from scipy.signal import lombscargle

from pipeline.hours import LONG_TERM_S, HourGrid
from pipeline.labels import AAMI_CLASSES
from pipeline.regions import BeatContext, Region, beats_in_kind, find_blocked_intervals
from pipeline.wording import count_noun

N = AAMI_CLASSES.index("N")

PNN50_TOLERANCE_MS = 1e-6
"""Differences within this of 50 ms are 50 ms (pNN50 counts those over it); far under one sample at any rate."""


@dataclass(frozen=True)
class HrvSettings:
    """Editing of the NN intervals and the length requirements (module docstring)."""

    min_nn_s: float = 0.3
    max_nn_s: float = 2.0
    relative_limit: float = 0.2
    reference_intervals: int = 41
    segment_s: float = 300.0
    min_total_s: float = 240.0
    lf_band_hz: tuple[float, float] = (0.04, 0.15)
    hf_band_hz: tuple[float, float] = (0.15, 0.40)
    spectrum_min_coverage: float = 0.8
    histogram_bin_s: float = 1.0 / 128.0
    geometric_min_s: float = 1200.0
    dc_max_change: float = 0.05

    def __post_init__(self) -> None:
        if not 0 < self.min_nn_s < self.max_nn_s:
            raise ValueError(f"Received min_nn_s={self.min_nn_s}, max_nn_s={self.max_nn_s}; expected "
                             "0 < min_nn_s < max_nn_s.")
        if not 0 < self.relative_limit < 1:
            raise ValueError(f"Received relative_limit={self.relative_limit}; expected a fraction in (0, 1).")
        if self.reference_intervals < 3 or self.reference_intervals % 2 == 0:
            raise ValueError(f"Received reference_intervals={self.reference_intervals}; expected an odd number >= 3.")
        for name in ("segment_s", "min_total_s", "histogram_bin_s", "geometric_min_s", "dc_max_change"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Received {name}={getattr(self, name)}; expected a positive value.")
        (lf_lo, lf_hi), (hf_lo, hf_hi) = self.lf_band_hz, self.hf_band_hz
        if not 0 < lf_lo < lf_hi <= hf_lo < hf_hi:
            raise ValueError(f"Received lf_band_hz={self.lf_band_hz}, hf_band_hz={self.hf_band_hz}; expected "
                             "0 < LF low < LF high <= HF low < HF high.")
        if not 0 < self.spectrum_min_coverage <= 1:
            raise ValueError(f"Received spectrum_min_coverage={self.spectrum_min_coverage}; expected a fraction in "
                             "(0, 1].")


@dataclass(frozen=True)
class HrvSummary:
    """HRV of one record; figures in ms (pNN50 in %, LF and HF power in ms^2), NaN when not computable (see ``note``).

    ``af_left_out_s`` is the atrial fibrillation time whose intervals were left out; ``note`` says why the
    figures are missing, or that AF was left out. ``spectral_segments`` counts the 5-minute segments the LF and HF
    figures average (none: NaN).
    """

    n_intervals: int
    nn_total_s: float
    af_left_out_s: float
    mean_nn_ms: float
    sdnn_ms: float
    rmssd_ms: float
    pnn50_pct: float
    sdann_ms: float
    sdnn_index_ms: float
    note: str = ""
    lf_ms2: float = float("nan")
    hf_ms2: float = float("nan")
    lf_hf_ratio: float = float("nan")
    spectral_segments: int = 0
    sd1_ms: float = float("nan")
    sd2_ms: float = float("nan")
    triangular_index: float = float("nan")
    deceleration_capacity_ms: float = float("nan")

    @property
    def assessed(self) -> bool:
        """Whether there were enough normal-to-normal intervals for the figures."""
        return not math.isnan(self.sdnn_ms)

    def to_dict(self) -> dict:
        """JSON-ready content (NaN becomes None, figures rounded to 0.1, LF/HF to 0.01)."""
        def clean(name: str, value):
            if isinstance(value, float):
                return None if math.isnan(value) else round(value, 2 if name == "lf_hf_ratio" else 1)
            return value
        return {f.name: clean(f.name, getattr(self, f.name)) for f in fields(self)}


def select_nn_intervals(context: BeatContext, regions: list[Region], settings: HrvSettings = HrvSettings()
                        ) -> np.ndarray:
    """Boolean per RR interval (beat i to i + 1): a kept NN interval (module docstring)."""
    n_beats = len(context.samples)
    if n_beats < 2:
        return np.zeros(max(n_beats - 1, 0), bool)
    normal = context.classes == N
    in_af = beats_in_kind(regions, "atrial_fibrillation", n_beats)
    rr_s = context.rr_s
    candidate = (normal[:-1] & normal[1:] & context.interval_readable & ~in_af[:-1] & ~in_af[1:]
                 & ~find_blocked_intervals(regions, n_beats - 1)
                 & (rr_s >= settings.min_nn_s) & (rr_s <= settings.max_nn_s))
    kept = np.zeros(len(rr_s), bool)
    index = np.flatnonzero(candidate)
    if len(index):
        local = median_filter(rr_s[index], size=settings.reference_intervals, mode="nearest")
        kept[index] = np.abs(rr_s[index] - local) <= settings.relative_limit * local
    return kept


def describe_hrv_span(nn_total_s: float) -> str:
    """``"short-term: not comparable with 24-hour norms"`` where the NN intervals cover under
    :data:`pipeline.hours.LONG_TERM_S` (the Task Force's long-term norms are for 24-hour recordings),
    empty otherwise. SDNN, the triangular index and deceleration capacity grow with the recording's length, so figures
    over 30 minutes read against 24-hour limits mislead (Task Force 1996: recordings of different lengths are not to be
    compared; a clinical read of session 57 found a 30-minute SDNN of 18 ms printed with no such word).

    >>> describe_hrv_span(1800.0), describe_hrv_span(23 * 3600.0)
    ('short-term: not comparable with 24-hour norms', '')
    """
    return "short-term: not comparable with 24-hour norms" if nn_total_s < LONG_TERM_S else ""


def not_assessed(note: str, n_intervals: int = 0, nn_total_s: float = 0.0, af_left_out_s: float = 0.0
                 ) -> HrvSummary:
    """An HRV summary without figures (NaN), ``note`` saying why."""
    return HrvSummary(n_intervals, nn_total_s, af_left_out_s, *([float("nan")] * 6), note=note)


def compute_hrv(context: BeatContext, regions: list[Region], settings: HrvSettings = HrvSettings()) -> HrvSummary:
    """Time- and frequency-domain HRV of one record from its beats (a :class:`pipeline.regions.BeatContext`) and
    regions.

    Examples
    --------
    >>> from pipeline.regions import prepare_beats
    >>> t = np.concatenate([[0], np.cumsum(np.tile([270, 306], 300))])  # 8 min at 360 Hz: RR 0.75, 0.85, 0.75, ...
    >>> hrv = compute_hrv(prepare_beats(t, np.full(len(t), "N"), 360.0, [], t[-1] + 1), [])
    >>> round(hrv.mean_nn_ms), round(hrv.rmssd_ms), hrv.pnn50_pct, round(hrv.sdnn_ms)
    (800, 100, 100.0, 50)
    """
    return compute_hrv_by_hour(context, regions, 1, settings=settings)[0]


def compute_hrv_by_hour(context: BeatContext, regions: list[Region], n_hours: int, grid: HourGrid = HourGrid(),
                        settings: HrvSettings = HrvSettings()) -> tuple[HrvSummary, tuple[HourHrv, ...]]:
    """The record's HRV (:func:`compute_hrv`) and each of its ``n_hours`` hours' (module docstring; the rows of
    ``grid``, :mod:`pipeline.hours`), from one selection of the NN intervals and one set of segment spectra.

    Examples
    --------
    >>> from pipeline.regions import prepare_beats
    >>> rr = np.concatenate([np.tile([270, 306], 2250), np.full(4000, 288)])  # 1 h alternating, then 0.8 s steady
    >>> t = np.concatenate([[0], np.cumsum(rr)])
    >>> record, hours = compute_hrv_by_hour(prepare_beats(t, np.full(len(t), "N"), 360.0, [], t[-1] + 1), [], 2)
    >>> [(round(h.sdnn_ms), round(h.rmssd_ms), h.pnn50_pct) for h in hours], round(record.rmssd_ms)
    ([(50, 100, 100.0), (0, 0, 0.0)], 73)
    """
    kept = select_nn_intervals(context, regions, settings)
    enough = context.rr_s[kept].sum() >= settings.min_total_s
    spectra = compute_segment_spectra(context, kept, settings) if enough else SegmentSpectra.empty()
    return summarize_hrv(context, regions, kept, spectra, settings), hourly_hrv(context, kept, spectra, n_hours,
                                                                                  grid, settings)


def summarize_hrv(context: BeatContext, regions: list[Region], kept: np.ndarray, spectra: SegmentSpectra,
                  settings: HrvSettings) -> HrvSummary:
    """The record's HRV from its kept NN intervals and segment spectra."""
    nn_s = context.rr_s[kept]
    total_s = float(nn_s.sum())
    af_s = sum(r.duration_s(context.fs_hz) for r in regions if r.kind == "atrial_fibrillation")
    note = (f"HRV from the stretches outside atrial fibrillation only ({af_s / 60:.1f} min of atrial "
            "fibrillation left out)") if af_s else ""
    n_blocked = int(find_blocked_intervals(regions, len(context.rr_s)).sum())
    if n_blocked:
        blocked_note = (f"HRV from conducted beats only ({count_noun(n_blocked, 'RR interval')} holding a "
                        "non-conducted P wave, of AV block, left out)")
        note = "; ".join(filter(None, (note, blocked_note)))
    if total_s < settings.min_total_s:
        return not_assessed(f"HRV not assessed: {total_s:.0f} s of normal-to-normal intervals, at least "
                            f"{settings.min_total_s:g} s needed", int(kept.sum()), total_s, af_s)
    successive = kept[:-1] & kept[1:]  # intervals i and i + 1 share beat i + 1
    sd1, sd2 = poincare_axes(1000.0 * context.rr_s[:-1][successive], 1000.0 * context.rr_s[1:][successive])
    sdann, sdnn_index = segment_statistics(context, kept, settings)
    lf, hf, n_spectra = spectra.averaged()
    sdnn, rmssd, pnn50 = time_domain(context.rr_s, kept)
    return HrvSummary(
        n_intervals=int(kept.sum()), nn_total_s=total_s, af_left_out_s=af_s, mean_nn_ms=1000.0 * float(nn_s.mean()),
        sdnn_ms=sdnn, rmssd_ms=rmssd, pnn50_pct=pnn50,
        sdann_ms=sdann, sdnn_index_ms=sdnn_index, note=note, lf_ms2=lf, hf_ms2=hf,
        lf_hf_ratio=lf / hf if hf > 0 else float("nan"), spectral_segments=n_spectra, sd1_ms=sd1, sd2_ms=sd2,
        triangular_index=triangular_index(nn_s, settings) if total_s >= settings.geometric_min_s else float("nan"),
        deceleration_capacity_ms=deceleration_capacity(context.rr_s, kept, settings))


def time_domain(rr_s: np.ndarray, kept: np.ndarray) -> tuple[float, float, float]:
    """SDNN (ms), RMSSD (ms) and pNN50 (%) of the intervals ``rr_s`` of which ``kept`` are NN intervals; RMSSD and
    pNN50 from the pairs of successive kept intervals (NaN without one), SDNN NaN under two intervals.

    >>> [round(v, 1) for v in time_domain(np.array([0.8, 0.9, 0.8, 2.0, 0.8]), np.array([1, 1, 1, 0, 1], bool))]
    [50.0, 100.0, 100.0]
    >>> time_domain(np.array([288, 270, 288]) / 360.0, np.ones(3, bool))[2]  # two differences of exactly 50 ms
    0.0
    """
    nn_s = rr_s[kept]
    successive = kept[:-1] & kept[1:]
    differences_ms = 1000.0 * np.diff(rr_s)[successive]
    sdnn = 1000.0 * float(np.std(nn_s, ddof=1)) if len(nn_s) > 1 else float("nan")
    if not len(differences_ms):
        return sdnn, float("nan"), float("nan")
    # over 50 ms, not equal to it: at 360 Hz a difference of 18 samples is 50 ms, which the subtraction of two
    # intervals in seconds leaves a rounding error above or below (session 50: 21 of record 100's 33 such ties were
    # counted, pNN50 6.3 % instead of 5.4 %)
    over_50 = np.abs(differences_ms) > 50.0 + PNN50_TOLERANCE_MS
    return sdnn, float(np.sqrt(np.mean(differences_ms ** 2))), 100.0 * float(np.mean(over_50))


@dataclass(frozen=True)
class HourHrv:
    """HRV of one hour (:func:`compute_hourly_hrv`): ms, pNN50 in %; NaN when the hour has too few NN intervals."""

    sdnn_ms: float = float("nan")
    rmssd_ms: float = float("nan")
    pnn50_pct: float = float("nan")
    lf_hf_ratio: float = float("nan")


def hourly_hrv(context: BeatContext, kept: np.ndarray, spectra: SegmentSpectra, n_hours: int, grid: HourGrid,
               settings: HrvSettings) -> tuple[HourHrv, ...]:
    """SDNN, RMSSD and pNN50 of each hour's kept NN intervals (those whose opening beat lies in it) and LF/HF of its
    segments' spectra (those starting in it); an hour with under ``min_total_s`` of NN intervals gets NaN."""
    hour = grid.index(context.samples[:-1] / context.fs_hz, n_hours)
    segment_hour = grid.index(spectra.starts_s, n_hours)
    rows = []
    for h in range(n_hours):
        in_hour = kept & (hour == h)
        if context.rr_s[in_hour].sum() < settings.min_total_s:
            rows.append(HourHrv())
            continue
        lf, hf, _ = spectra.averaged(segment_hour == h)
        rows.append(HourHrv(*time_domain(context.rr_s, in_hour), lf / hf if hf > 0 else float("nan")))
    return tuple(rows)


def triangular_index(nn_s: np.ndarray, settings: HrvSettings = HrvSettings()) -> float:
    """The HRV triangular index: NN intervals over the highest count of their histogram (bins of
    ``histogram_bin_s`` from 0 s).

    >>> triangular_index(np.array([0.800, 0.801, 0.802, 0.830, 0.900, 0.901]))
    2.0
    """
    counts = np.bincount(np.floor(np.asarray(nn_s) / settings.histogram_bin_s).astype(np.int64))
    return float(len(nn_s) / counts.max()) if len(nn_s) else float("nan")


def deceleration_capacity(rr_s: np.ndarray, kept: np.ndarray, settings: HrvSettings = HrvSettings()) -> float:
    """Deceleration capacity (ms) of the intervals ``rr_s`` of which ``kept`` are NN intervals (module docstring);
    NaN without an anchor.

    >>> rr = np.tile([0.80, 0.82, 0.84, 0.82], 50)  # every lengthening interval is an anchor, 2.5 % steps
    >>> round(deceleration_capacity(rr, np.ones(len(rr), bool)), 1)  # each anchor: (820 + 840 - 800 - 820) / 4
    10.0
    """
    rr_ms, kept = 1000.0 * np.asarray(rr_s, np.float64), np.asarray(kept, bool)
    i = np.arange(2, len(rr_ms) - 1)
    usable = kept[i - 2] & kept[i - 1] & kept[i] & kept[i + 1]
    anchors = i[usable & (rr_ms[i] > rr_ms[i - 1]) & (rr_ms[i] <= (1 + settings.dc_max_change) * rr_ms[i - 1])]
    if not len(anchors):
        return float("nan")
    return float(np.mean(rr_ms[anchors] + rr_ms[anchors + 1] - rr_ms[anchors - 1] - rr_ms[anchors - 2]) / 4.0)


def poincare_axes(first_ms: np.ndarray, second_ms: np.ndarray) -> tuple[float, float]:
    """SD1 and SD2 (ms) of the Poincare plot of the interval pairs ``(first_ms[k], second_ms[k])``; NaN under 3 pairs.

    >>> [round(v, 1) for v in poincare_axes(np.array([800., 900, 800, 900]), np.array([900., 800, 900, 800]))]
    [81.6, 0.0]
    """
    if len(first_ms) < 3:
        return float("nan"), float("nan")
    across = (second_ms - first_ms) / math.sqrt(2.0)
    along = (second_ms + first_ms) / math.sqrt(2.0)
    return float(np.std(across, ddof=1)), float(np.std(along, ddof=1))


def segment_statistics(context: BeatContext, kept: np.ndarray, settings: HrvSettings) -> tuple[float, float]:
    """SDANN and SDNN index (ms) over the ``segment_s`` segments at least half covered; NaN under two segments."""
    starts_s = context.samples[:-1][kept] / context.fs_hz
    nn_s = context.rr_s[kept]
    segment = (starts_s // settings.segment_s).astype(np.int64)
    means, deviations = [], []
    for k in np.unique(segment):
        values = nn_s[segment == k]
        if values.sum() >= 0.5 * settings.segment_s and len(values) > 1:
            means.append(values.mean())
            deviations.append(np.std(values, ddof=1))
    if len(means) < 2:
        return float("nan"), float("nan")
    return 1000.0 * float(np.std(means, ddof=1)), 1000.0 * float(np.mean(deviations))


@dataclass(frozen=True)
class SegmentSpectra:
    """LF and HF power (ms^2, columns of ``powers``) of each qualifying ``segment_s`` segment, with its start (s)."""

    starts_s: np.ndarray
    powers: np.ndarray

    @classmethod
    def empty(cls) -> "SegmentSpectra":
        return cls(np.empty(0), np.empty((0, 2)))

    def averaged(self, chosen: np.ndarray | None = None) -> tuple[float, float, int]:
        """Mean LF and HF power over the segments (the ``chosen`` ones), and their number; NaN without one."""
        powers = self.powers if chosen is None else self.powers[chosen]
        if not len(powers):
            return float("nan"), float("nan"), 0
        lf, hf = powers.mean(axis=0)
        return float(lf), float(hf), len(powers)


def compute_segment_spectra(context: BeatContext, kept: np.ndarray, settings: HrvSettings) -> SegmentSpectra:
    """LF and HF power of every ``segment_s`` segment its NN intervals cover enough (module docstring)."""
    times_s = np.asarray(context.samples[1:][kept] / context.fs_hz, np.float64)  # each NN interval at its closing beat
    nn_ms = np.asarray(1000.0 * context.rr_s[kept], np.float64)
    segment = (times_s // settings.segment_s).astype(np.int64)
    starts, powers = [], []
    for k in np.unique(segment):
        chosen = segment == k
        if nn_ms[chosen].sum() / 1000.0 >= settings.spectrum_min_coverage * settings.segment_s:
            starts.append(k * settings.segment_s)
            powers.append(recall_band_powers(times_s[chosen].tobytes(), nn_ms[chosen].tobytes(), settings))
    return SegmentSpectra(np.array(starts, np.float64), np.array(powers, np.float64).reshape(-1, 2))


@functools.lru_cache(maxsize=1024)
def recall_band_powers(times_bytes: bytes, nn_bytes: bytes, settings: HrvSettings) -> tuple[float, float]:
    """:func:`segment_band_powers` of a segment given as the bytes of its float64 arrays, remembered for the last
    1,024 segments (3.5 days of 5-minute segments, a few MB): the periodograms are most of the time of a 24-hour
    summary (3.6 s of the 11 s a dashboard reader waited after changing an event threshold, session 47), and an edit
    (a threshold, a relabelled beat, an artefact mark) leaves most segments' NN intervals as they were."""
    return segment_band_powers(np.frombuffer(times_bytes), np.frombuffer(nn_bytes), settings)


def segment_band_powers(times_s: np.ndarray, nn_ms: np.ndarray, settings: HrvSettings) -> tuple[float, float]:
    """LF and HF power (ms^2) of one segment: Lomb-Scargle periodogram scaled to the detrended series' variance.

    Examples
    --------
    >>> t = np.arange(0, 300, 0.8)
    >>> nn = 800 + 30 * np.sin(2 * np.pi * 0.1 * t) + 20 * np.sin(2 * np.pi * 0.25 * t)
    >>> lf, hf = segment_band_powers(t, nn, HrvSettings())
    >>> round(lf, -1), round(hf, -1)  # a sine of amplitude A has power A^2 / 2: 450 and 200 ms^2
    (450.0, 200.0)
    >>> t = np.arange(0, 300, 0.6)  # 100 bpm, and variability at 0.7 Hz, under this heart's Nyquist frequency of 0.83
    >>> nn = (600 + 30 * np.sin(2 * np.pi * 0.1 * t) + 20 * np.sin(2 * np.pi * 0.25 * t)
    ...       + 10 * np.sin(2 * np.pi * 0.7 * t))
    >>> lf, hf = segment_band_powers(t, nn, HrvSettings())
    >>> round(lf, -1), round(hf, -1)  # outside both bands (a spectrum scaled over 0-0.5 Hz gave 480 and 210)
    (450.0, 200.0)
    """
    detrended = nn_ms - np.polyval(np.polyfit(times_s, nn_ms, 1), times_s)
    duration = times_s[-1] - times_s[0]
    nyquist_hz = len(times_s) / (2.0 * duration)  # half the mean rate of intervals, as PhysioNet's lomb
    step = 1.0 / (4.0 * max(duration, settings.segment_s))  # four times finer than the segment's resolution
    freqs = np.arange(step, nyquist_hz + step / 2, step)
    power = lombscargle(times_s, detrended, 2 * np.pi * freqs)
    total = float(np.sum(power))
    if total <= 0:
        return 0.0, 0.0
    density = power * (np.var(detrended) / total)  # power per grid bin, summing to the variance up to the Nyquist

    def band(limits: tuple[float, float]) -> float:
        return float(np.sum(density[(freqs >= limits[0]) & (freqs < limits[1])]))

    return band(settings.lf_band_hz), band(settings.hf_band_hz)
