"""Record summary: heart rate, beat counts, ectopic burden, event tallies, AF burden, readable signal, HRV.

Built from the same inputs as :func:`pipeline.regions.find_regions` plus its regions. Problems
that stop an assessment (no beats, too little readable signal for an AF decision, a record too
short for a minute-by-minute heart rate, mostly unreadable signal) are stated in plain words in
``notes``, and the figures they affect are NaN rather than guessed.

Heart rate: the mean is the number of readable RR intervals over their total duration; the
minimum and maximum are taken over consecutive ``hr_window_s`` windows (each with at least half
of its time in readable intervals), as Holter reports take them over fixed averaging periods
rather than from single beats; the trend gives one value per ``trend_window_s``. Heart-rate variability
(time and frequency domain, normal-to-normal intervals only) comes from :mod:`pipeline.hrv`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.hrv import HrvSettings, HrvSummary, compute_hrv
from pipeline.labels import AAMI_CLASSES
from pipeline.regions import (
    REGION_KINDS,
    SUPRAVENTRICULAR_RUN_KINDS,
    VENTRICULAR_RUN_KINDS,
    BeatContext,
    Region,
    RegionSettings,
    count_af_usable_intervals,
    fibrillation_intervals,
    prepare_beats,
)
from pipeline.types import QualitySpan

MIN_READABLE_FRACTION = 0.5
"""Below this share of readable signal the summary says the record is mostly unreadable."""


@dataclass(frozen=True)
class SummarySettings:
    """Averaging periods of the heart-rate figures (seconds)."""

    hr_window_s: float = 60.0
    trend_window_s: float = 300.0

    def __post_init__(self) -> None:
        for name in ("hr_window_s", "trend_window_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Received {name}={getattr(self, name)}; expected a positive duration in s.")


@dataclass(frozen=True)
class EventTally:
    """Number and total duration of the regions of one kind."""

    kind: str
    count: int
    total_s: float


@dataclass(frozen=True)
class RecordSummary:
    """What a reviewer reads first about one record.

    Attributes
    ----------
    duration_s, readable_fraction : float
        Record length, and the share of it outside unreadable stretches.
    beat_counts : tuple of int
        Beats per AAMI class, in :data:`pipeline.labels.AAMI_CLASSES` order.
    heart_rate_min_bpm, heart_rate_mean_bpm, heart_rate_max_bpm : float
        NaN when not computable (see ``notes``).
    heart_rate_trend_bpm : tuple of float
        Mean rate of each consecutive ``trend_window_s`` (NaN where there is too little readable signal).
    ventricular_burden_pct, supraventricular_burden_pct : float
        V (S) beats as a percentage of all beats.
    events : tuple of EventTally
        One per kind in :data:`pipeline.regions.REGION_KINDS`, zeros included.
    longest_ventricular_run, longest_supraventricular_run : int
        Beats in the longest group of consecutive ectopic beats (0 when none).
    af_burden_pct : float
        Time in AF as a percentage of the readable time; NaN when AF could not be assessed.
    notes : tuple of str
        Plain statements of what could not be assessed and why.
    hrv : HrvSummary
        Heart-rate variability of the normal-to-normal intervals, time and frequency domain (:mod:`pipeline.hrv`).
    """

    duration_s: float
    readable_fraction: float
    n_beats: int
    beat_counts: tuple[int, ...]
    heart_rate_min_bpm: float
    heart_rate_mean_bpm: float
    heart_rate_max_bpm: float
    heart_rate_trend_bpm: tuple[float, ...]
    trend_window_s: float
    ventricular_burden_pct: float
    supraventricular_burden_pct: float
    events: tuple[EventTally, ...]
    longest_ventricular_run: int
    longest_supraventricular_run: int
    af_burden_pct: float
    notes: tuple[str, ...]
    hrv: HrvSummary

    def event(self, kind: str) -> EventTally:
        """The tally of one region kind."""
        for tally in self.events:
            if tally.kind == kind:
                return tally
        raise KeyError(f"Received kind={kind!r}; expected one of {REGION_KINDS}.")


def summarize_record(
    regions: list[Region],
    beat_samples: np.ndarray,
    beat_classes: np.ndarray,
    fs_hz: float,
    quality_spans: list[QualitySpan],
    n_samples: int,
    settings: RegionSettings = RegionSettings(),
    summary_settings: SummarySettings = SummarySettings(),
    *,
    n_leads: int | None = None,
    hrv_settings: HrvSettings = HrvSettings(),
) -> RecordSummary:
    """Summarise one record from its beats, quality spans and regions (module docstring).

    Examples
    --------
    >>> t = np.arange(0, 360 * 120, 288)  # two minutes at 75 bpm
    >>> s = summarize_record([], t, np.full(len(t), "N"), 360.0, [], 360 * 120)
    >>> round(s.heart_rate_mean_bpm), s.beat_counts
    (75, (150, 0, 0, 0, 0))
    """
    context = prepare_beats(beat_samples, beat_classes, fs_hz, quality_spans, n_samples, n_leads,
                            unreadable_kinds=settings.unreadable_kinds,
                            fibrillation_intervals=fibrillation_intervals(regions))
    duration_s = n_samples / fs_hz
    unreadable_s = sum(r.duration_s(fs_hz) for r in regions if r.kind == "unreadable")
    readable_fraction = 1.0 - unreadable_s / duration_s if duration_s > 0 else 0.0
    counts = tuple(int(np.count_nonzero(context.classes == k)) for k in range(len(AAMI_CLASSES)))
    minute, mean, peak, trend = summarize_heart_rate(context, summary_settings)
    af_assessed = count_af_usable_intervals(context) >= settings.af_window_beats
    af_s = sum(r.duration_s(fs_hz) for r in regions if r.kind == "atrial_fibrillation")
    readable_s = duration_s * readable_fraction
    hrv = compute_hrv(context, regions, hrv_settings)
    notes = describe_limits(context, readable_fraction, af_assessed, minute, settings, summary_settings)
    return RecordSummary(
        duration_s=duration_s,
        readable_fraction=readable_fraction,
        n_beats=len(context.samples),
        beat_counts=counts,
        heart_rate_min_bpm=minute,
        heart_rate_mean_bpm=mean,
        heart_rate_max_bpm=peak,
        heart_rate_trend_bpm=trend,
        trend_window_s=summary_settings.trend_window_s,
        ventricular_burden_pct=percentage(counts[2], len(context.samples)),
        supraventricular_burden_pct=percentage(counts[1], len(context.samples)),
        events=tally_events(regions, fs_hz),
        longest_ventricular_run=longest_run(regions, VENTRICULAR_RUN_KINDS),
        longest_supraventricular_run=longest_run(regions, SUPRAVENTRICULAR_RUN_KINDS),
        af_burden_pct=percentage(af_s, readable_s) if af_assessed else float("nan"),
        notes=notes + ((hrv.note,) if not hrv.assessed and len(context.samples) else ()),
        hrv=hrv,
    )


def percentage(part: float, whole: float) -> float:
    """``100 * part / whole``; NaN when ``whole`` is 0."""
    return 100.0 * part / whole if whole > 0 else float("nan")


def summarize_heart_rate(context: BeatContext, settings: SummarySettings) -> tuple[float, float, float, tuple]:
    """Minimum, mean and maximum heart rate, and the trend, from the readable RR intervals."""
    rr_s = context.rr_s[context.interval_readable]
    if len(rr_s) == 0:
        return float("nan"), float("nan"), float("nan"), ()
    mean = 60.0 * len(rr_s) / rr_s.sum()
    per_window = binned_rates(context, settings.hr_window_s)
    valid = per_window[~np.isnan(per_window)]
    low, high = (float(valid.min()), float(valid.max())) if len(valid) else (float("nan"), float("nan"))
    trend = tuple(round(float(v), 1) if not np.isnan(v) else float("nan")
                  for v in binned_rates(context, settings.trend_window_s))
    return low, float(mean), high, trend


def binned_rates(context: BeatContext, window_s: float) -> np.ndarray:
    """Mean rate in each consecutive window of ``window_s`` (by interval start); NaN when under half covered."""
    starts_s = context.samples[:-1][context.interval_readable] / context.fs_hz
    rr_s = context.rr_s[context.interval_readable]
    n_bins = max(int(math.ceil((context.samples[-1] / context.fs_hz) / window_s)), 1) if len(context.samples) else 1
    index = np.minimum((starts_s // window_s).astype(np.int64), n_bins - 1)
    covered = np.bincount(index, weights=rr_s, minlength=n_bins)
    beats = np.bincount(index, minlength=n_bins)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = 60.0 * beats / covered
    return np.where(covered >= 0.5 * window_s, rates, np.nan)


def tally_events(regions: list[Region], fs_hz: float) -> tuple[EventTally, ...]:
    """Count and total duration per region kind, every kind listed."""
    counts = {kind: [0, 0.0] for kind in REGION_KINDS}
    for r in regions:
        counts[r.kind][0] += 1
        counts[r.kind][1] += r.duration_s(fs_hz)
    return tuple(EventTally(kind, n, round(total, 3)) for kind, (n, total) in counts.items())


def longest_run(regions: list[Region], kinds: tuple[str, ...]) -> int:
    """Most beats in one region of the given kinds (0 when none)."""
    return max((r.n_beats for r in regions if r.kind in kinds), default=0)


def describe_limits(context: BeatContext, readable_fraction: float, af_assessed: bool, hr_min: float,
                    settings: RegionSettings, summary_settings: SummarySettings) -> tuple[str, ...]:
    """Plain statements of what the record does not allow to assess."""
    notes = []
    if len(context.samples) == 0:
        notes.append("no beats found: heart rate, beat counts, ectopy and rhythm cannot be assessed")
    if readable_fraction < MIN_READABLE_FRACTION:
        notes.append(f"mostly unreadable signal: {100 * readable_fraction:.0f}% readable; events inside "
                     "unreadable stretches are not reported")
    if not af_assessed:
        usable = count_af_usable_intervals(context)
        notes.append(f"insufficient readable signal for AF assessment: {usable} usable RR intervals, "
                     f"at least {settings.af_window_beats} needed")
    if len(context.samples) and np.isnan(hr_min):
        notes.append(f"too little readable signal for a minimum and maximum heart rate (each needs "
                     f"{summary_settings.hr_window_s:g} s windows at least half readable)")
    return tuple(notes)


def summary_to_dict(summary: RecordSummary) -> dict:
    """JSON-ready content of a summary (NaN becomes null)."""
    def clean(value):
        if isinstance(value, float):
            return None if math.isnan(value) else round(value, 3)
        if isinstance(value, tuple):
            return [clean(v) for v in value]
        return value

    return {
        "duration_s": clean(summary.duration_s),
        "readable_pct": clean(100 * summary.readable_fraction),
        "n_beats": summary.n_beats,
        "beat_counts": dict(zip(AAMI_CLASSES, summary.beat_counts)),
        "heart_rate_bpm": {"min": clean(summary.heart_rate_min_bpm), "mean": clean(summary.heart_rate_mean_bpm),
                           "max": clean(summary.heart_rate_max_bpm)},
        "heart_rate_trend_bpm": clean(summary.heart_rate_trend_bpm),
        "trend_window_s": summary.trend_window_s,
        "ventricular_burden_pct": clean(summary.ventricular_burden_pct),
        "supraventricular_burden_pct": clean(summary.supraventricular_burden_pct),
        "events": {t.kind: {"count": t.count, "total_s": t.total_s} for t in summary.events},
        "longest_ventricular_run_beats": summary.longest_ventricular_run,
        "longest_supraventricular_run_beats": summary.longest_supraventricular_run,
        "af_burden_pct": clean(summary.af_burden_pct),
        "hrv": summary.hrv.to_dict(),
        "notes": list(summary.notes),
    }
