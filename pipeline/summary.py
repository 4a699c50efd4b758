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

As Holter reports do, the summary also says when the lowest and highest rates occurred, which readable
RR interval was the longest and when, and tabulates each hour of the recording (:class:`HourSummary`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from pipeline.families import VentricularForms, find_ventricular_forms
from pipeline.hours import HourGrid
from pipeline.hrv import HrvSettings, HrvSummary, compute_hrv_by_hour, not_assessed
from pipeline.hrt import NOT_ASSESSED as HRT_NOT_ASSESSED
from pipeline.hrt import HrtSummary, compute_hrt
from pipeline.pr import PrSummary
from pipeline.qt import QtSummary
from pipeline.rhythm import PredominantRhythm
from pipeline.st import StSummary
from pipeline.labels import AAMI_CLASSES
from pipeline.regions import (
    REGION_KINDS,
    SUPRAVENTRICULAR_RUN_KINDS,
    VENTRICULAR_RUN_KINDS,
    BeatContext,
    Region,
    RegionSettings,
    beats_in_kind,
    count_af_usable_intervals,
    is_counted_not_timed,
    merge_intervals,
    prepare_beats,
    region_intervals,
    subtract_intervals,
)
from pipeline.types import QualitySpan

RUN_EVENTS = {family: tuple(k for k in kinds if not is_counted_not_timed(k))
              for family, kinds in (("ventricular", VENTRICULAR_RUN_KINDS),
                                    ("supraventricular", SUPRAVENTRICULAR_RUN_KINDS))}
"""Region kinds counted as runs (3 beats or more) in the hourly table: runs and tachycardias, ventricular also
idioventricular rhythm; couplets are counted apart, as Holter reports do."""

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
    """Number of the regions of one kind and their time outside unreadable signal (``total_s``): an episode that
    spans a stretch of noise counts its readable parts only, the definition of the AF burden and the hourly AF
    time, so that the three agree. The regions' own durations, onset to offset, are in the event table."""

    kind: str
    count: int
    total_s: float


@dataclass(frozen=True)
class HourSummary:
    """One hour of the recording, as a Holter report's hourly table (the last hour may be shorter).

    Attributes
    ----------
    start_s, duration_s : float
        Where the hour starts and how long it is (seconds from the start of the record).
    readable_s : float
        Its time outside unreadable stretches.
    n_beats : int
        Readable beats in the hour (as the record's ``n_beats``); ``beat_counts`` per AAMI class.
    heart_rate_min_bpm, heart_rate_mean_bpm, heart_rate_max_bpm : float
        As the record's, over the hour's ``hr_window_s`` windows and readable intervals (NaN when too little).
    ventricular_couplets, supraventricular_couplets : int
        Couplets starting in the hour.
    ventricular_runs, supraventricular_runs : int
        Runs of 3 beats or more and tachycardias (ventricular: also idioventricular rhythm) starting in the hour.
    pauses : int
        Pauses starting in the hour.
    af_s : float
        Seconds of atrial fibrillation inside the hour.
    st_lowest_mv, st_highest_mv : float
        The lowest and highest ST change from the record's level over the hour's ST windows and leads
        (:mod:`pipeline.st`; NaN when ST was not measured there).
    qtc_fridericia_ms : float
        The median Fridericia QTc of the hour's windows (:mod:`pipeline.qt`; NaN when not measured).
    sdnn_ms, rmssd_ms, pnn50_pct, lf_hf_ratio : float
        Heart-rate variability of the hour's NN intervals (:func:`pipeline.hrv.compute_hrv_by_hour`; NaN when too
        few, or HRV is not assessed for the record).
    """

    start_s: float
    duration_s: float
    readable_s: float
    n_beats: int
    beat_counts: tuple[int, ...]
    heart_rate_min_bpm: float
    heart_rate_mean_bpm: float
    heart_rate_max_bpm: float
    ventricular_couplets: int
    ventricular_runs: int
    supraventricular_couplets: int
    supraventricular_runs: int
    pauses: int
    af_s: float
    st_lowest_mv: float = float("nan")
    st_highest_mv: float = float("nan")
    qtc_fridericia_ms: float = float("nan")
    sdnn_ms: float = float("nan")
    rmssd_ms: float = float("nan")
    pnn50_pct: float = float("nan")
    lf_hf_ratio: float = float("nan")


@dataclass(frozen=True)
class RecordSummary:
    """What a reviewer reads first about one record.

    Attributes
    ----------
    duration_s, readable_fraction : float
        Record length, and the share of it outside unreadable stretches.
    n_beats, beat_counts : int, tuple of int
        Readable beats, and those per AAMI class in :data:`pipeline.labels.AAMI_CLASSES` order: beats inside
        unreadable stretches or ventricular flutter/fibrillation are left out (a Holter analysis leaves artefact out
        of its counts), as they are from the burdens.
    n_beats_unreadable : int
        The beats left out (they keep their class in the beat table and the annotation file).
    heart_rate_min_bpm, heart_rate_mean_bpm, heart_rate_max_bpm : float
        NaN when not computable (see ``notes``).
    heart_rate_min_time_s, heart_rate_max_time_s : float
        Start of the ``hr_window_s`` window of the lowest (highest) rate; NaN with the rate.
    longest_rr_s, longest_rr_time_s : float
        The longest readable RR interval and the time of the beat that opens it (NaN when there is none);
        reported whether or not it is a pause.
    heart_rate_trend_bpm : tuple of float
        Mean rate of each consecutive ``trend_window_s`` (NaN where there is too little readable signal).
    ventricular_burden_pct, supraventricular_burden_pct : float
        V (S) beats as a percentage of the readable beats.
    events : tuple of EventTally
        One per kind in :data:`pipeline.regions.REGION_KINDS`, zeros included.
    longest_ventricular_run, longest_supraventricular_run : int
        Beats in the longest group of consecutive ectopic beats (0 when none).
    longest_ventricular_run_time_s, longest_supraventricular_run_time_s : float
        Start of that group (the first when several are as long), when it has 2 beats or more; else NaN.
    fastest_ventricular_run_bpm, fastest_supraventricular_run_bpm : float
        The highest mean rate of a run of 3 beats or more (a Holter report's "fastest run"); NaN when none.
    fastest_ventricular_run_time_s, fastest_supraventricular_run_time_s : float
        Start of that run; NaN when none.
    af_burden_pct : float
        Time in AF as a percentage of the readable time; NaN when AF could not be assessed.
    notes : tuple of str
        Plain statements of what could not be assessed and why.
    hrv : HrvSummary
        Heart-rate variability of the normal-to-normal intervals, time and frequency domain (:mod:`pipeline.hrv`).
    hourly : tuple of HourSummary
        One row per hour of the recording (one for a record under an hour).
    st : StSummary
        ST-segment levels and episodes (:mod:`pipeline.st`); measured from the signal, so only by
        :func:`pipeline.region_eval.summarize_labelled_record` (not assessed here).
    qt : QtSummary
        QT interval and QTc (:mod:`pipeline.qt`), measured with the ST analysis.
    pr : PrSummary
        PR interval of the dominant beat (:mod:`pipeline.pr`), measured with the ST analysis.
    hrt : HrtSummary
        Heart-rate turbulence after isolated ventricular premature beats (:mod:`pipeline.hrt`).
    predominant_rhythm : PredominantRhythm
        The rhythm the events interrupted (:mod:`pipeline.rhythm`); read from the signal, so only by
        :func:`pipeline.region_eval.summarize_labelled_record` (not determined here).
    pacing_spike_share : float
        Share of the readable beats with a pacing spike (:func:`pipeline.pacing.measure_spike_share`), measured when
        no pacemaker is stated, by :func:`pipeline.region_eval.summarize_labelled_record`; NaN when not measured.
    ventricular_forms : VentricularForms
        Uniform or multiform ventricular ectopic beats (:func:`pipeline.families.find_ventricular_forms`); from the
        morphology families, so only where :func:`pipeline.region_eval.summarize_labelled_record` is given them.
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
    heart_rate_min_time_s: float = float("nan")
    heart_rate_max_time_s: float = float("nan")
    longest_rr_s: float = float("nan")
    longest_rr_time_s: float = float("nan")
    hourly: tuple[HourSummary, ...] = ()
    st: StSummary = StSummary(False, "ST not measured")
    qt: QtSummary = QtSummary(False, "QT not measured")
    pr: PrSummary = PrSummary(False, "PR not measured")
    hrt: HrtSummary = HrtSummary(False, "HRT not measured")
    n_beats_unreadable: int = 0
    longest_ventricular_run_time_s: float = float("nan")
    longest_supraventricular_run_time_s: float = float("nan")
    fastest_ventricular_run_bpm: float = float("nan")
    fastest_ventricular_run_time_s: float = float("nan")
    fastest_supraventricular_run_bpm: float = float("nan")
    fastest_supraventricular_run_time_s: float = float("nan")
    heart_rate_minutes_bpm: tuple[float, ...] = ()
    """Mean rate of each consecutive ``hr_window_s`` (the windows the minimum and maximum come from; NaN where under
    half readable): the dashboard's fine trend (a QA pass, session 49, found 5-minute values alone too coarse)."""
    hr_window_s: float = 60.0
    predominant_rhythm: PredominantRhythm = PredominantRhythm()
    ventricular_forms: VentricularForms = VentricularForms()
    pacing_spike_share: float = float("nan")

    @property
    def readable_s(self) -> float:
        """The record's readable time (s): its duration times :attr:`readable_fraction`."""
        return self.duration_s * self.readable_fraction

    def event(self, kind: str) -> EventTally:
        """The tally of one region kind."""
        for tally in self.events:
            if tally.kind == kind:
                return tally
        raise KeyError(f"Received kind={kind!r}; expected one of {REGION_KINDS}.")


def summary_context(regions: list[Region], beat_samples: np.ndarray, beat_classes: np.ndarray, fs_hz: float,
                    quality_spans: list[QualitySpan], n_samples: int, settings: RegionSettings = RegionSettings(),
                    n_leads: int | None = None, af_excluded_beats: np.ndarray | None = None) -> BeatContext:
    """The beats as :func:`summarize_record` reads them; ``.readable`` marks the beats its counts and burdens cover
    (outside unreadable stretches and ventricular flutter/fibrillation, not next to a dropout of every lead).
    ``af_excluded_beats`` as in :func:`pipeline.regions.find_regions`."""
    return prepare_beats(beat_samples, beat_classes, fs_hz, quality_spans, n_samples, n_leads,
                         unreadable_kinds=settings.unreadable_kinds,
                         fibrillation_intervals=region_intervals(regions, "ventricular_flutter_fibrillation"),
                         af_excluded_beats=af_excluded_beats)


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
    pacemaker: str | None = None,
    af_excluded_beats: np.ndarray | None = None,
    paced_often: bool = True,
    hours: HourGrid = HourGrid(),
    families: np.ndarray | None = None,
    spiked: bool = False,
) -> RecordSummary:
    """Summarise one record from its beats, quality spans and regions (module docstring). For a patient with a
    pacemaker (``pacemaker`` describes it), a note says what the classifier cannot do, and HRV and heart-rate
    turbulence are not assessed unless the pacemaker seldom paced (``paced_often`` False: then they are measured on the
    intrinsic beats, the paced ones being Q, and a note says so). ``hours``: the hourly table's rows
    (:func:`pipeline.hours.clock_hour_grid` of the start time; hours from the start by default). Given the beats'
    morphology ``families`` (:func:`pipeline.families.group_beat_families`), whether the counted V beats are uniform or
    multiform (:func:`pipeline.families.find_ventricular_forms`). ``spiked``: no pacemaker is stated but the beats show
    pacing spikes (:mod:`pipeline.pacing`), which leaves HRV and heart-rate turbulence out as a stated pacemaker that
    paced often does (:data:`UNSTATED_PACEMAKER` names it in their notes).
    ``af_excluded_beats`` (per beat) are left out of the AF assessment's usable intervals, as the regions' AF
    evidence leaves them out (:func:`pipeline.regions.find_regions`).

    Examples
    --------
    >>> t = np.arange(0, 360 * 120, 288)  # two minutes at 75 bpm
    >>> s = summarize_record([], t, np.full(len(t), "N"), 360.0, [], 360 * 120)
    >>> round(s.heart_rate_mean_bpm), s.beat_counts
    (75, (150, 0, 0, 0, 0))
    """
    context = summary_context(regions, beat_samples, beat_classes, fs_hz, quality_spans, n_samples, settings, n_leads,
                              af_excluded_beats)
    duration_s = n_samples / fs_hz
    unreadable_s = sum(r.duration_s(fs_hz) for r in regions if r.kind == "unreadable")
    readable_fraction = 1.0 - unreadable_s / duration_s if duration_s > 0 else 0.0
    counts = tuple(int(np.count_nonzero(context.classes[context.readable] == k)) for k in range(len(AAMI_CLASSES)))
    n_readable = int(np.count_nonzero(context.readable))
    minute, mean, peak, trend = summarize_heart_rate(context, summary_settings)
    per_window = binned_rates(context, summary_settings.hr_window_s) if len(context.samples) else np.empty(0)
    minute_at, peak_at = time_heart_rate_extremes(per_window, summary_settings.hr_window_s)
    longest_rr, longest_rr_at = find_longest_interval(context)
    unreadable = region_intervals(regions, "unreadable")
    af = subtract_intervals(region_intervals(regions, "atrial_fibrillation"), unreadable)  # not AF time: noise
    # an episode is an assessment too: one a reader stated over fewer intervals (pipeline.reader_rhythm) is not "not
    # assessed" (session 63's code review found its burden NaN beside it)
    af_assessed = count_af_usable_intervals(context) >= settings.af_window_beats or len(af) > 0
    af_s = intervals_overlap_s(af, 0.0, duration_s, fs_hz)
    readable_s = duration_s * readable_fraction
    hourly = summarize_hours(context, regions, duration_s, per_window, summary_settings.hr_window_s, unreadable, af,
                             hours)
    paced = pacemaker if paced_often else None  # a pacemaker that seldom paced: the intrinsic beats are measured
    unstated = pacemaker is None and spiked  # paced intervals are not heart-rate variability, stated or not
    if paced is None and not unstated:  # paced intervals follow the pacemaker: no HRV, for the record or by the hour
        hrv, by_hour = compute_hrv_by_hour(context, regions, len(hourly), hours, settings=hrv_settings)
        hourly = tuple(replace(hour, **asdict(values)) for hour, values in zip(hourly, by_hour))
    else:
        hrv = not_assessed(f"HRV not assessed: {UNSTATED_PACEMAKER} (paced intervals are not heart-rate "
                           "variability)") if unstated else not_assessed_hrv(paced)
    hrt = (HrtSummary(False, f"{HRT_NOT_ASSESSED}{UNSTATED_PACEMAKER} (paced intervals do not follow the sinus node)")
           if unstated else compute_hrt(context, regions, settings.hrt, pacemaker=paced))
    notes = describe_limits(context, readable_fraction, af_assessed, minute, settings, summary_settings,
                            paced=pacemaker is not None,
                            in_vf=count_beats_in(regions, "ventricular_flutter_fibrillation", context.readable))
    notes += describe_fusion_in_runs(regions, context.classes)
    if pacemaker is not None:
        notes = (f"pacemaker ({pacemaker}): the classifier was not trained on paced beats; those the pacing rule "
                 "does not find may be called N or V: review the ventricular events and the beat classes",
                 *(() if paced_often else (SELDOM_PACED_NOTE,))) + notes
    return RecordSummary(
        duration_s=duration_s,
        readable_fraction=readable_fraction,
        n_beats=n_readable,
        beat_counts=counts,
        n_beats_unreadable=len(context.samples) - n_readable,
        heart_rate_min_bpm=minute,
        heart_rate_mean_bpm=mean,
        heart_rate_max_bpm=peak,
        heart_rate_trend_bpm=trend,
        trend_window_s=summary_settings.trend_window_s,
        ventricular_burden_pct=percentage(counts[2], n_readable),
        supraventricular_burden_pct=percentage(counts[1], n_readable),
        events=tally_events(regions, fs_hz),
        af_burden_pct=percentage(af_s, readable_s) if af_assessed else float("nan"),
        notes=notes + ((hrv.note,) if not hrv.assessed and len(context.samples) else ()),
        hrv=hrv,
        hrt=hrt,
        heart_rate_min_time_s=minute_at,
        heart_rate_max_time_s=peak_at,
        longest_rr_s=longest_rr,
        longest_rr_time_s=longest_rr_at,
        hourly=hourly,
        heart_rate_minutes_bpm=tuple(round(float(v), 1) if np.isfinite(v) else float("nan") for v in per_window),
        hr_window_s=summary_settings.hr_window_s,
        **time_run_extremes(regions, VENTRICULAR_RUN_KINDS, fs_hz, "ventricular"),
        **time_run_extremes(regions, SUPRAVENTRICULAR_RUN_KINDS, fs_hz, "supraventricular"),
        ventricular_forms=VentricularForms() if families is None else find_ventricular_forms(
            families, np.asarray(AAMI_CLASSES)[context.classes], context.readable),
    )


def percentage(part: float, whole: float) -> float:
    """``100 * part / whole``; NaN when ``whole`` is 0."""
    return 100.0 * part / whole if whole > 0 else float("nan")


def summarize_heart_rate(context: BeatContext, settings: SummarySettings) -> tuple[float, float, float, tuple]:
    """Minimum, mean and maximum heart rate, and the trend, from the readable RR intervals."""
    rr_s = context.rr_s[context.interval_readable]
    if len(rr_s) == 0:
        return float("nan"), float("nan"), float("nan"), ()
    beats, covered = bin_intervals(context, settings.hr_window_s)
    valid = covered >= 0.5 * settings.hr_window_s
    if np.any(valid):  # the windows the minimum and maximum come from, so that min <= mean <= max
        rates = 60.0 * beats[valid] / covered[valid]
        low, mean, high = float(rates.min()), mean_rate_bpm(beats[valid], covered[valid]), float(rates.max())
    else:
        low, mean, high = float("nan"), mean_rate_bpm(np.ones(len(rr_s)), rr_s), float("nan")
    trend = tuple(round(float(v), 1) if not np.isnan(v) else float("nan")
                  for v in binned_rates(context, settings.trend_window_s))
    return low, float(mean), high, trend


def mean_rate_bpm(intervals, seconds) -> float:
    """60 times the RR intervals counted over the seconds they cover (both summed); NaN without time."""
    total_s = float(np.sum(seconds))
    return 60.0 * float(np.sum(intervals)) / total_s if total_s > 0 else float("nan")


def bin_intervals(context: BeatContext, window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Readable RR intervals in each consecutive window of ``window_s`` (by interval start), and the seconds they
    cover."""
    starts_s = context.samples[:-1][context.interval_readable] / context.fs_hz
    rr_s = context.rr_s[context.interval_readable]
    n_bins = max(int(math.ceil((context.samples[-1] / context.fs_hz) / window_s)), 1) if len(context.samples) else 1
    index = np.minimum((starts_s // window_s).astype(np.int64), n_bins - 1)
    return np.bincount(index, minlength=n_bins), np.bincount(index, weights=rr_s, minlength=n_bins)


def binned_rates(context: BeatContext, window_s: float) -> np.ndarray:
    """Mean rate in each consecutive window of ``window_s`` (by interval start); NaN when under half covered."""
    beats, covered = bin_intervals(context, window_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = 60.0 * beats / covered
    return np.where(covered >= 0.5 * window_s, rates, np.nan)


def time_heart_rate_extremes(per_window: np.ndarray, window_s: float) -> tuple[float, float]:
    """Start (s) of the window with the lowest and with the highest rate (the first when tied) among the
    ``window_s`` windows' rates :func:`binned_rates` gives; NaN, NaN when none is known."""
    if not np.any(np.isfinite(per_window)):
        return float("nan"), float("nan")
    return float(np.nanargmin(per_window) * window_s), float(np.nanargmax(per_window) * window_s)


def find_longest_interval(context: BeatContext) -> tuple[float, float]:
    """The longest readable RR interval (s) and the time (s) of its first beat; NaN, NaN when none is readable."""
    readable = np.flatnonzero(context.interval_readable)
    if len(readable) == 0:
        return float("nan"), float("nan")
    k = readable[np.argmax(context.rr_s[readable])]
    return float(context.rr_s[k]), float(context.samples[k] / context.fs_hz)


def summarize_hours(context: BeatContext, regions: list[Region], duration_s: float, per_window: np.ndarray,
                    window_s: float, unreadable: np.ndarray, af: np.ndarray,
                    grid: HourGrid = HourGrid()) -> tuple[HourSummary, ...]:
    """The hourly table (:class:`HourSummary`, one per row of ``grid``): beats by the hour of their sample, events by
    the hour they start in, unreadable and AF time (``unreadable``, ``af``: [start, stop) sample rows) by overlap;
    heart-rate extremes from the ``window_s`` windows' rates ``per_window`` (:func:`binned_rates`), each window in
    the hour it starts in."""
    fs = context.fs_hz
    bounds = grid.bounds(duration_s)
    n_hours = len(bounds)
    beat_hour = grid.index(context.samples / fs, n_hours)
    interval_hour = beat_hour[:-1][context.interval_readable] if len(beat_hour) else beat_hour
    rr_s = context.rr_s[context.interval_readable]
    counts = np.zeros((n_hours, len(AAMI_CLASSES)), np.int64)
    np.add.at(counts, (beat_hour[context.readable], context.classes[context.readable]), 1)
    beats_rr = np.bincount(interval_hour, minlength=n_hours)
    time_rr = np.bincount(interval_hour, weights=rr_s, minlength=n_hours)
    window_hour = grid.index(np.arange(len(per_window)) * window_s, n_hours)
    window_beats, window_time = bin_intervals(context, window_s) if len(per_window) else (np.zeros(0), np.zeros(0))
    region_hour = grid.index(np.array([r.start / fs for r in regions], np.float64), n_hours)
    kinds = np.array([r.kind for r in regions], dtype=object)

    def starting(kinds_counted: tuple[str, ...]) -> np.ndarray:
        chosen = np.isin(kinds, kinds_counted) if len(kinds) else np.zeros(0, bool)
        return np.bincount(region_hour[chosen], minlength=n_hours)

    ventricular, supraventricular = starting(RUN_EVENTS["ventricular"]), starting(RUN_EVENTS["supraventricular"])
    v_couplets, s_couplets = starting(("ventricular_couplet",)), starting(("supraventricular_couplet",))
    pauses = starting(("pause",))
    rows = []
    for h, (start, stop) in enumerate(bounds):
        in_hour = (window_hour == h) & np.isfinite(per_window)
        windows = per_window[in_hour]
        rows.append(HourSummary(
            start_s=start, duration_s=stop - start,
            readable_s=round(stop - start - intervals_overlap_s(unreadable, start, stop, fs), 3),
            n_beats=int(counts[h].sum()), beat_counts=tuple(int(n) for n in counts[h]),
            heart_rate_min_bpm=float(windows.min()) if len(windows) else float("nan"),
            heart_rate_mean_bpm=(mean_rate_bpm(window_beats[in_hour], window_time[in_hour]) if len(windows)
                                 else mean_rate_bpm(beats_rr[h], time_rr[h])),
            heart_rate_max_bpm=float(windows.max()) if len(windows) else float("nan"),
            ventricular_couplets=int(v_couplets[h]), ventricular_runs=int(ventricular[h]),
            supraventricular_couplets=int(s_couplets[h]), supraventricular_runs=int(supraventricular[h]),
            pauses=int(pauses[h]), af_s=round(intervals_overlap_s(af, start, stop, fs), 3)))
    return tuple(rows)


def intervals_overlap_s(intervals: np.ndarray, start_s: float, stop_s: float, fs_hz: float) -> float:
    """Seconds of the [start, stop) sample intervals inside [start_s, stop_s)."""
    rows = np.asarray(intervals, dtype=np.float64).reshape(-1, 2) / fs_hz
    return float(np.clip(np.minimum(rows[:, 1], stop_s) - np.maximum(rows[:, 0], start_s), 0.0, None).sum())


def tally_events(regions: list[Region], fs_hz: float) -> tuple[EventTally, ...]:
    """Count and time per region kind, every kind listed; the time leaves out unreadable stretches
    (:class:`EventTally`), except for the unreadable kind itself.

    >>> from pipeline.regions import Region
    >>> regions = [Region("atrial_fibrillation", 0, 3600, 0, 10, 120.0, 0.9), Region("unreadable", 1800, 2520, 5, 0,
    ...            float("nan"), 1.0)]
    >>> {t.kind: t.total_s for t in tally_events(regions, 360.0) if t.count}
    {'unreadable': 2.0, 'atrial_fibrillation': 8.0}
    """
    by_kind: dict[str, list[tuple[int, int]]] = {kind: [] for kind in REGION_KINDS}
    for r in regions:
        by_kind[r.kind].append((r.start, r.stop))
    unreadable = merge_intervals(by_kind["unreadable"])
    tallies = []
    for kind, intervals in by_kind.items():
        own = merge_intervals(intervals)
        seconds = np.sum(own[:, 1] - own[:, 0]) / fs_hz
        if kind != "unreadable" and len(own) and len(unreadable):
            seconds -= np.sum(covered_samples(unreadable, own[:, 1]) - covered_samples(unreadable, own[:, 0])) / fs_hz
        tallies.append(EventTally(kind, len(intervals), round(float(seconds), 3)))
    return tuple(tallies)


def covered_samples(intervals: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Samples of the disjoint sorted [start, stop) ``intervals`` before each point of ``at`` (one search, not a loop
    over a 24-hour record's thousands of regions).

    >>> covered_samples(np.array([[10, 20], [30, 40]]), np.array([0, 15, 25, 35, 50])).tolist()
    [0, 5, 10, 15, 20]
    """
    lengths = intervals[:, 1] - intervals[:, 0]
    before = np.concatenate([[0], np.cumsum(lengths)])
    k = np.searchsorted(intervals[:, 0], at, side="right")
    last = np.maximum(k - 1, 0)
    inside = np.clip(at - intervals[last, 0], 0, lengths[last]) * (k > 0)
    return before[last] * (k > 0) + inside


MIN_FASTEST_RUN_BEATS = 3
"""A run counts for the fastest one from 3 beats (a couplet has a single interval: its rate is a coupling interval)."""


RUN_EXTREME_KEYS = tuple(f"{part}_{name}_run_{unit}" for name in ("ventricular", "supraventricular")
                         for part, unit in (("longest", "time_s"), ("fastest", "bpm"), ("fastest", "time_s")))
"""The summary's fields (and JSON keys) for when the longest run starts and the fastest run's rate and start."""


def time_run_extremes(regions: list[Region], kinds: tuple[str, ...], fs_hz: float, name: str) -> dict[str, float]:
    """The longest run of the given kinds (its beats, 0 when none; its start when it has 2 beats or more), and the
    fastest run of :data:`MIN_FASTEST_RUN_BEATS` beats or more with its start, as :class:`RecordSummary` fields named
    after ``name`` (``ventricular`` or ``supraventricular``); NaN where there is none.

    >>> from pipeline.regions import Region
    >>> runs = [Region("ventricular_tachycardia", 3600, 4000, 10, 4, 150.0, 1.0),
    ...         Region("ventricular_tachycardia", 7200, 7500, 30, 3, 180.0, 1.0)]
    >>> time_run_extremes(runs, ("ventricular_tachycardia",), 360.0, "ventricular")  # doctest: +NORMALIZE_WHITESPACE
    {'longest_ventricular_run': 4, 'longest_ventricular_run_time_s': 10.0, 'fastest_ventricular_run_bpm': 180.0,
     'fastest_ventricular_run_time_s': 20.0}
    """
    runs = [r for r in regions if r.kind in kinds]
    longest = max(runs, key=lambda r: r.n_beats, default=None)  # the first of the longest
    fast = [r for r in runs if r.n_beats >= MIN_FASTEST_RUN_BEATS and np.isfinite(r.heart_rate_bpm)]
    fastest = max(fast, key=lambda r: r.heart_rate_bpm, default=None)
    return {f"longest_{name}_run": longest.n_beats if longest else 0,
            f"longest_{name}_run_time_s": longest.start / fs_hz if longest and longest.n_beats >= 2 else float("nan"),
            f"fastest_{name}_run_bpm": float(fastest.heart_rate_bpm) if fastest else float("nan"),
            f"fastest_{name}_run_time_s": fastest.start / fs_hz if fastest else float("nan")}


PACED_SHARE_MIN = 0.1
"""Share of a stated paced patient's beats found paced from which the record is read as paced
(:func:`pipeline.region_eval.reads_as_paced`): AF from the RR intervals alone, no HRV, heart-rate turbulence, ST or
QT. Under it (a demand pacemaker that seldom paced) the intrinsic beats' P waves are AF evidence and their intervals
and waves are measured, as for any patient (REGIONS.md, session 45: MIT-BIH's AF patients with a pacemaker stated by
mistake lost a third of their AF duration read RR-only; session 46: HRV, ST and QT)."""

SELDOM_PACED_NOTE = (f"the pacemaker paced under {100 * PACED_SHARE_MIN:g} % of the beats: atrial fibrillation (from "
                     "the RR intervals and the P waves), HRV, heart-rate turbulence, ST and QT are assessed on the "
                     "intrinsic beats, as for any patient (paced beats and the intervals next to them left out); T "
                     "waves of intrinsic beats can change after pacing (cardiac memory)")
"""The summary's note for a stated pacemaker that seldom paced (``summarize_record(paced_often=False)``)."""


UNSTATED_PACEMAKER = "pacing spikes are seen, and no pacemaker was stated"
"""Why HRV and heart-rate turbulence are not assessed for a pacemaker found from its spikes alone (``spiked``): a
clinical read of session 56 found HRV reported from paced intervals (102's LF/HF 0.03) beside the spike note."""


def not_assessed_hrv(pacemaker: str) -> HrvSummary:
    """HRV left out for a paced patient: paced intervals follow the pacemaker, not the autonomic system."""
    return not_assessed(f"HRV not assessed: the patient has a pacemaker ({pacemaker}), whose paced intervals are not "
                        "heart-rate variability")


HIGH_V_BURDEN_PCT = 10.0
"""A ventricular ectopic burden at or over this share of the beats is a main finding (:mod:`app.findings`): the level
from which PVC-induced cardiomyopathy is looked for (Baman TS et al., "Relationship between burden of premature
ventricular complexes and left ventricular function", Heart Rhythm 7(7):865-869, 2010: burdens from about 10 % in the
patients with reduced function, 24 % the best single cut-off; the 2017 AHA/ACC/HRS ventricular arrhythmia guideline
and later consensus statements use 10-15 %). A clinical read of session 60 found 208's 39.5 % and 233's 27 % given as
bare numbers."""


FUSION_RUN_KINDS = ("ventricular_couplet", "ventricular_tachycardia", "idioventricular_rhythm")
"""Ventricular groups a fusion beat can be part of (EC57 counts V and F beats together in a run)."""
_F = AAMI_CLASSES.index("F")


def describe_fusion_in_runs(regions: list[Region], classes: np.ndarray) -> tuple[str, ...]:
    """A note when ventricular couplets or runs hold a fusion beat (F), which EC57 counts with the ventricular beats
    of a run, so that a reader does not take a fusion-led couplet for two premature ventricular beats (MIT-BIH 208:
    over half of its couplets); none otherwise.

    >>> from pipeline.regions import Region
    >>> runs = [Region("ventricular_couplet", 0, 300, 0, 2, 120.0, 1.0), Region("ventricular_couplet", 900, 1200, 4, 2,
    ...         120.0, 1.0), Region("ventricular_tachycardia", 2000, 2600, 8, 3, 130.0, 1.0)]
    >>> classes = np.array([3, 2, 0, 0, 2, 2, 0, 0, 2, 2, 2])  # F V N N V V N N V V V
    >>> print(*describe_fusion_in_runs(runs, classes))  # doctest: +NORMALIZE_WHITESPACE
    1 of the 3 ventricular couplets and runs holds a fusion beat (F), counted with the run's ventricular beats (as the
    AAMI standard counts them): review them
    """
    runs = [r for r in regions if r.kind in FUSION_RUN_KINDS and r.n_beats]
    fused = sum(bool(np.any(classes[r.beats] == _F)) for r in runs)
    if not fused:
        return ()
    return (f"{fused} of the {len(runs)} ventricular couplets and runs {'holds' if fused == 1 else 'hold'} a fusion "
            "beat (F), counted with the run's ventricular beats (as the AAMI standard counts them): review them",)


def count_beats_in(regions: list[Region], kind: str, readable: np.ndarray) -> int:
    """Beats that are not ``readable`` (boolean per beat) inside the regions of ``kind``."""
    return int(np.count_nonzero(beats_in_kind(regions, kind, len(readable)) & ~np.asarray(readable, bool)))


def describe_left_out_beats(left_out: int, in_vf: int) -> str:
    """Where the ``left_out`` beats lie, ``in_vf`` of them in ventricular flutter/fibrillation, the rest in or next to
    unreadable signal: only the reasons that apply (a clinical read of session 57 found flutter/fibrillation named on
    records that have none).

    >>> describe_left_out_beats(1, 0)
    '1 beat in or next to an unreadable stretch is'
    >>> describe_left_out_beats(22, 22)
    '22 beats in ventricular flutter/fibrillation are'
    >>> describe_left_out_beats(30, 22)
    '30 beats in or next to unreadable stretches or in ventricular flutter/fibrillation are'
    """
    beats = f"{left_out} beat{'s' if left_out != 1 else ''}"
    verb = "are" if left_out != 1 else "is"
    if in_vf >= left_out:
        return f"{beats} in ventricular flutter/fibrillation {verb}"
    unreadable = "unreadable stretches" if left_out != 1 else "an unreadable stretch"
    return f"{beats} in or next to {unreadable}{' or in ventricular flutter/fibrillation' if in_vf else ''} {verb}"


def describe_limits(context: BeatContext, readable_fraction: float, af_assessed: bool, hr_min: float,
                    settings: RegionSettings, summary_settings: SummarySettings, *, paced: bool = False,
                    in_vf: int = 0) -> tuple[str, ...]:
    """Plain statements of what the record does not allow to assess (``paced``: the patient has a stated pacemaker,
    whose paced beats, class Q, leave their intervals out of the AF evidence; ``in_vf``: how many of the beats that are
    not readable lie in ventricular flutter/fibrillation, :func:`count_beats_in`)."""
    notes = []
    if len(context.samples) == 0:
        notes.append("no beats found: heart rate, beat counts, ectopy and rhythm cannot be assessed")
    left_out = len(context.samples) - int(np.count_nonzero(context.readable))
    if left_out == len(context.samples) and left_out:
        where = ("in ventricular flutter/fibrillation" if in_vf >= left_out else "in or next to unreadable stretches"
                 + (" or in ventricular flutter/fibrillation" if in_vf else ""))
        notes.append(f"no readable beats: the {left_out} beats found all lie {where}, so beat counts and ectopy cannot "
                     "be assessed")
    elif left_out:
        notes.append(f"{describe_left_out_beats(left_out, in_vf)} left out of the beat counts and burdens")
    if readable_fraction < MIN_READABLE_FRACTION:
        notes.append(f"mostly unreadable signal: {100 * readable_fraction:.0f}% readable; events inside "
                     "unreadable stretches are not reported")
    if not af_assessed and len(context.samples):  # with no beat, the note above says the rhythm cannot be assessed
        usable = count_af_usable_intervals(context)
        notes.append(f"insufficient readable signal for AF assessment: {usable} usable RR intervals, "
                     f"at least {settings.af_window_beats} needed (only the intervals between two readable N or S "
                     "beats count)" + ("; the intervals next to paced beats do not count" if paced else ""))
    if len(context.samples) and np.isnan(hr_min):
        notes.append(f"too little readable signal for a minimum and maximum heart rate (each needs "
                     f"{summary_settings.hr_window_s:g} s windows at least half readable)")
    return tuple(notes)


def summary_to_dict(summary: RecordSummary) -> dict:
    """JSON-ready content of a summary (NaN becomes null)."""
    def clean(value):
        if isinstance(value, tuple):
            return [clean(v) for v in value]
        return round_or_none(value, 3) if isinstance(value, float) else value

    return {
        "duration_s": clean(summary.duration_s),
        "readable_pct": clean(100 * summary.readable_fraction),
        "n_beats": summary.n_beats,
        "n_beats_unreadable": summary.n_beats_unreadable,
        "beat_counts": dict(zip(AAMI_CLASSES, summary.beat_counts)),
        "heart_rate_bpm": {"min": clean(summary.heart_rate_min_bpm), "mean": clean(summary.heart_rate_mean_bpm),
                           "max": clean(summary.heart_rate_max_bpm)},
        "heart_rate_min_time_s": clean(summary.heart_rate_min_time_s),
        "heart_rate_max_time_s": clean(summary.heart_rate_max_time_s),
        "longest_rr_s": clean(summary.longest_rr_s),
        "longest_rr_time_s": clean(summary.longest_rr_time_s),
        "heart_rate_trend_bpm": clean(summary.heart_rate_trend_bpm),
        "trend_window_s": summary.trend_window_s,
        "ventricular_burden_pct": clean(summary.ventricular_burden_pct),
        "supraventricular_burden_pct": clean(summary.supraventricular_burden_pct),
        "events": {t.kind: {"count": t.count, "total_s": None if is_counted_not_timed(t.kind) else t.total_s}
                   for t in summary.events},  # isolated beats and couplets are counted, not timed (a sum of 0.003 s)
        "longest_ventricular_run_beats": summary.longest_ventricular_run,
        "longest_supraventricular_run_beats": summary.longest_supraventricular_run,
        **{key: clean(getattr(summary, key)) for key in RUN_EXTREME_KEYS},
        "af_burden_pct": clean(summary.af_burden_pct),
        "predominant_rhythm": summary.predominant_rhythm.to_dict(),
        "pacing_spike_share": clean(summary.pacing_spike_share),
        "ventricular_forms": summary.ventricular_forms.to_dict(),
        "hrv": summary.hrv.to_dict(),
        "st": summary.st.to_dict(),
        "qt": summary.qt.to_dict(),
        "pr": summary.pr.to_dict(),
        "hrt": summary.hrt.to_dict(),
        "notes": list(summary.notes),
        "hourly": [hour_to_dict(h) for h in summary.hourly],
    }


def hour_to_dict(hour: HourSummary) -> dict:
    """One row of the hourly table, JSON- and CSV-ready (NaN becomes None; beats per class as ``beats_N``...)."""
    return {"start_s": hour.start_s, "duration_s": round(hour.duration_s, 3), "readable_s": hour.readable_s,
            "beats": hour.n_beats, **{f"beats_{c}": n for c, n in zip(AAMI_CLASSES, hour.beat_counts)},
            "heart_rate_min_bpm": round_or_none(hour.heart_rate_min_bpm, 1),
            "heart_rate_mean_bpm": round_or_none(hour.heart_rate_mean_bpm, 1),
            "heart_rate_max_bpm": round_or_none(hour.heart_rate_max_bpm, 1),
            "ventricular_couplets": hour.ventricular_couplets, "ventricular_runs": hour.ventricular_runs,
            "supraventricular_couplets": hour.supraventricular_couplets,
            "supraventricular_runs": hour.supraventricular_runs, "pauses": hour.pauses, "af_s": hour.af_s,
            "st_lowest_mv": round_or_none(hour.st_lowest_mv, 3), "st_highest_mv": round_or_none(hour.st_highest_mv, 3),
            "qtc_fridericia_ms": round_or_none(hour.qtc_fridericia_ms, 0), "sdnn_ms": round_or_none(hour.sdnn_ms, 1),
            "rmssd_ms": round_or_none(hour.rmssd_ms, 1), "pnn50_pct": round_or_none(hour.pnn50_pct, 1),
            "lf_hf_ratio": round_or_none(hour.lf_hf_ratio, 2)}


def round_or_none(value: float, digits: int) -> float | None:
    """``value`` rounded, None when it is NaN (for JSON and CSV)."""
    return None if math.isnan(value) else round(value, digits)
