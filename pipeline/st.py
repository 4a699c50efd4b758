"""ST-segment analysis: the ST level of each lead over the record, and its episodes of depression and elevation.

A Holter report states whether the ST segment moved during the recording (ACC/AHA 1999 guidelines for ambulatory
electrocardiography). The measurement follows the one of the European ST-T and Long-Term ST databases:

1. **Fiducial points, once per record**, on the dominant template: the median of up to ``template_beats`` readable N
   beats, each centred on its R wave with its own median removed. The template's slope, each lead normalised to its
   steepest point, the largest over the leads and smoothed over ``slope_smooth_ms``, has its waves (local maxima
   above ``wave_fraction`` of the steepest) within ``qrs_search_ms`` of the R wave: the QRS onset is where the slope
   falls below ``slope_fraction`` before the first of them, the J point where it falls below it after the last. The
   isoelectric point is the middle of the flattest ``level_width_ms`` of the PR segment, within ``iso_search_ms``
   before the QRS onset. The ST point is J + 80 ms, or J + 60 ms where the heart rate is above 120 bpm. Holter
   systems set these points on the dominant template and a reader checks them there; the dashboard shows them on the
   template. On MIT-BIH (``experiments/repolarisation.py``) the dominant QRS of 6 of the 8 records whose beats are
   mostly bundle branch block beats comes out wider than ``max_qrs_ms``; the onset and the J point can fall up to
   about 10 ms inside the complex a reader would mark (record 100). A lead whose steepest slope is under
   ``min_lead_slope_fraction`` of the steepest lead's has no QRS complex to speak of there (a lead nearly off, or one
   seen edge-on), and its normalised slope would be its noise and T wave: it does not take part. A clinical read of
   session 58 found MIT-BIH 200's narrow normal beats (MLII 75 ms) reported as a 197-ms dominant QRS, from a V1 whose
   steepest slope is 0.05 of MLII's, and its ST and QT withheld. Over the 48 records (reference beats,
   ``experiments/repolarisation.py``) the ratio is under 0.1 on 200 and 101 alone (0.097), whose dominant QRS then
   measures 78 and 64 ms instead of 103 (their first lead alone: 75 and 67), and 0.12 or more on every other.
2. **ST level of each readable N beat** and lead: the mean over ``level_width_ms`` around its ST point minus the
   baseline there. The baseline is a cubic spline through the isoelectric levels (means over ``level_width_ms``) of
   the successive N beats (Meyer and Keiser 1977), so that baseline wander does not move the ST level, and the raw
   signal is used: high-pass filters above 0.05 Hz distort the ST segment (AHA 2007 recommendations on ECG
   filtering). The 20-ms means also cancel 50-Hz mains interference.
3. **ST level per window** of ``window_s`` (15 s; the Long-Term ST Database averages beats over 16 s): the median of
   the levels of its beats, given when at least ``min_beats`` were measured.
4. **Episodes**: the deviation from the record's own ST level (the median over its measured windows, the
   patient's reference: a constant displacement from hypertrophy, drugs or the lead's position is not an
   episode) at least ``threshold_mv`` (0.1 mV, 1 mm at standard gain) for at least ``min_duration_s`` (1 min),
   stretches less than ``min_gap_s`` (1 min) apart being one episode: the "1 x 1 x 1" rule of ambulatory ST
   analysis. Each episode gives the heart rate at its largest deviation, since ST changes that follow the rate
   are read differently from those that do not. A shift lasting more than half of the record becomes the reference
   itself, and the rest of the record then shows as the opposite change: for such records, and whenever the reader
   knows a quiet stretch (the patient at rest at the start of a recording, as Holter systems take it), the
   reference can be the median over a stretch instead, from ``reference_start_s`` for ``reference_duration_s``
   (0, the default: the whole record), with at least ``min_reference_windows`` measured windows in it.

Not assessed, with the reason in ``note``: a dominant QRS wider than ``max_qrs_ms`` (bundle branch block, a
ventricular or paced rhythm: repolarisation is then secondary to the conduction and ST criteria do not apply), one
measured narrower than ``min_qrs_ms`` (40 ms, under any QRS complex: the onset and J point were not found, and the
ST and QT would be read inside the complex; 55-165 ms on MIT-BIH's other records, 31 ms on paced record 104's mix of
paced and fusion beats, whose QT then read 187 ms, a clinical read of session 55), a stated pacemaker, or fewer than
``min_reference_windows`` measured windows in every lead.

This is a measurement for a reader to review, not a diagnosis of ischaemia: on ambulatory leads, changes of body
position, axis shifts and rate-related changes also move the ST segment. The MIT-BIH Arrhythmia Database has no
reference ST annotations, so these episodes are not scored against a reference here.

References
----------
Crawford MH et al., "ACC/AHA guidelines for ambulatory electrocardiography", J Am Coll Cardiol 34(3):912-948,
1999.
Taddei A et al., "The European ST-T database: standard for evaluating systems for the analysis of ST-T changes in
ambulatory electrocardiography", Eur Heart J 13(9):1164-1172, 1992.
Jager F et al., "Long-term ST database: a reference for the development and evaluation of automated ischaemia
detectors and for the study of the dynamics of myocardial ischaemia", Med Biol Eng Comput 41(2):172-182, 2003.
Meyer CR, Keiser HN, "Electrocardiogram baseline noise estimation and removal using cubic splines and state-space
computation techniques", Comput Biomed Res 10(5):459-470, 1977.
Kligfield P et al., "Recommendations for the standardization and interpretation of the electrocardiogram, part I",
Circulation 115(10):1306-1324, 2007.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields, replace

import numpy as np
from scipy.interpolate import CubicSpline

from pipeline.quality import find_missing_runs
from pipeline.types import QualitySpan, settings_to_dict, settings_values

KINDS = ("depression", "elevation")
"""Episode kinds, in the order the summary lists them."""

PACED_REASON = "pacemaker (paced beats have secondary repolarisation changes)"
"""Why ST and QT are not assessed for a patient with a pacemaker."""

QRS_CHANGE_LIMIT = 0.2
"""Above this relative difference between the QRS complex at an episode's peak and the dominant one, the QRS itself
changed: the ST shift comes with a conduction change or an axis shift (e.g. a change of body position), which the
Long-Term ST Database annotates apart from ischaemic episodes."""


@dataclass(frozen=True)
class StSettings:
    """Measurement points, averaging and the episode rule (module docstring); times in ms or s as named."""

    window_s: float = 15.0
    min_beats: int = 5
    template_beats: int = 1000
    template_before_s: float = 0.3
    template_after_s: float = 0.5
    slope_fraction: float = 0.1
    wave_fraction: float = 0.3
    min_lead_slope_fraction: float = 0.1
    slope_smooth_ms: float = 10.0
    qrs_search_ms: float = 150.0
    max_qrs_ms: float = 120.0
    min_qrs_ms: float = 40.0
    iso_search_ms: float = 80.0
    level_width_ms: float = 20.0
    st_offset_ms: float = 80.0
    fast_st_offset_ms: float = 60.0
    fast_rate_bpm: float = 120.0
    threshold_mv: float = 0.1
    min_duration_s: float = 60.0
    min_gap_s: float = 60.0
    min_reference_windows: int = 8
    reference_start_s: float = 0.0
    reference_duration_s: float = 0.0

    def __post_init__(self) -> None:
        fractions = ("slope_fraction", "wave_fraction", "min_lead_slope_fraction")
        stretch = ("reference_start_s", "reference_duration_s")
        bad = [f.name for f in fields(self) if f.name not in stretch and not getattr(self, f.name) > 0]
        bad += [name for name in fractions if not getattr(self, name) < 1]
        bad += [name for name in stretch if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0)]
        if bad:
            raise ValueError(f"Received {bad[0]}={getattr(self, bad[0])!r}; expected a positive value "
                             f"(below 1 for {' and '.join(fractions)}, 0 or more for {' and '.join(stretch)}).")
        if not self.min_qrs_ms < self.max_qrs_ms:
            raise ValueError(f"Received min_qrs_ms={self.min_qrs_ms:g} and max_qrs_ms={self.max_qrs_ms:g}; expected "
                             "min_qrs_ms < max_qrs_ms.")
        shortest_s = self.min_reference_windows * self.window_s
        if 0 < self.reference_duration_s < shortest_s:
            raise ValueError(f"Received reference_duration_s={self.reference_duration_s:g}; expected 0 (the whole "
                             f"record) or at least {shortest_s:g} s ({self.min_reference_windows} windows of "
                             f"{self.window_s:g} s).")

    @property
    def reference_stretch_s(self) -> tuple[float, float] | None:
        """(start, stop) of the reference stretch in seconds; None for the whole record."""
        if self.reference_duration_s == 0:
            return None
        return self.reference_start_s, self.reference_start_s + self.reference_duration_s

    def to_dict(self) -> dict:
        return settings_to_dict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "StSettings":
        """Inverse of :meth:`to_dict`, for values from a file (``[st]`` of an event settings file): unknown keys and
        values of the wrong kind raise ``ValueError`` (:func:`pipeline.types.settings_values`); missing keys keep
        their defaults."""
        return cls(**settings_values(cls, values))


QRS_MEASURE_MARGIN_MS = 10.0
"""How far short of a reader's QRS the measured one can fall (the module docstring: the onset and J point up to about
10 ms inside the complex): a dominant QRS measured within this of ``max_qrs_ms`` is assessed, with a note that it may
be a bundle branch block (:func:`pipeline.region_eval.borderline_qrs_note`)."""


@dataclass(frozen=True)
class StFiducials:
    """The record's measurement points in ms from the R wave: isoelectric point, QRS onset, J point."""

    iso_ms: float
    onset_ms: float
    j_ms: float

    @property
    def qrs_ms(self) -> float:
        """QRS duration of the dominant beat (J point minus onset)."""
        return self.j_ms - self.onset_ms

    def to_dict(self) -> dict:
        return {"iso_ms": round(self.iso_ms, 1), "qrs_onset_ms": round(self.onset_ms, 1),
                "j_point_ms": round(self.j_ms, 1), "qrs_ms": round(self.qrs_ms, 1)}


@dataclass(frozen=True)
class StEpisode:
    """One episode of ST depression or elevation in one lead; ``deviation_mv`` is the largest (signed) deviation
    from the record's reference level, at ``peak_s``, with the heart rate of that window; ``qrs_change`` and
    ``slope_mv`` describe the median beat there (:func:`measure_peak_beat`)."""

    lead: int
    lead_name: str
    kind: str
    start_s: float
    stop_s: float
    deviation_mv: float
    peak_s: float
    heart_rate_bpm: float
    qrs_change: float = float("nan")
    slope_mv: float = float("nan")

    @property
    def duration_s(self) -> float:
        return self.stop_s - self.start_s

    @property
    def qrs_changed(self) -> bool:
        """The QRS complex itself differs from the dominant one at the peak (:data:`QRS_CHANGE_LIMIT`)."""
        return self.qrs_change > QRS_CHANGE_LIMIT

    def to_dict(self) -> dict:
        return {"lead": self.lead_name, "kind": self.kind, "start_s": round(self.start_s, 1),
                "stop_s": round(self.stop_s, 1), "duration_s": round(self.duration_s, 1),
                "deviation_mv": round(self.deviation_mv, 3), "peak_s": round(self.peak_s, 1),
                "heart_rate_bpm": none_if_nan(self.heart_rate_bpm, 0), "qrs_change": none_if_nan(self.qrs_change, 2),
                "qrs_changed": self.qrs_changed, "slope_mv": none_if_nan(self.slope_mv, 3)}


@dataclass(frozen=True)
class StSummary:
    """ST levels per window and lead, the reference level of each lead and the episodes (module docstring).

    ``levels_mv[k][i]`` is lead ``k``'s ST level in window ``i`` (``[i, i + 1) * window_s``), NaN where it was not
    measured; ``heart_rate_bpm`` the window's rate from its normal beats. ``assessed`` is False when nothing could
    be measured, with the reason in ``note``.
    """

    assessed: bool
    note: str = ""
    lead_names: tuple[str, ...] = ()
    window_s: float = StSettings.window_s
    fiducials: StFiducials | None = None
    reference_mv: tuple[float, ...] = ()
    levels_mv: tuple[tuple[float, ...], ...] = ()
    heart_rate_bpm: tuple[float, ...] = ()
    episodes: tuple[StEpisode, ...] = ()
    threshold_mv: float = StSettings.threshold_mv
    measured_beats: int = 0
    reference_stretch_s: tuple[float, float] | None = None

    def lead_name(self, lead: int) -> str:
        """Lead ``lead``'s name (``lead K`` past the names known): what the QT and PR measurements report their lead
        by."""
        return self.lead_names[lead] if lead < len(self.lead_names) else f"lead {lead}"

    def deviations_mv(self, lead: int) -> np.ndarray:
        """Lead ``lead``'s ST level minus its reference, per window (NaN where not measured)."""
        return np.asarray(self.levels_mv[lead], np.float64) - self.reference_mv[lead]

    def extreme_deviation(self, lead: int, kind: str) -> tuple[float, float]:
        """The lowest (``depression``) or highest (``elevation``) deviation of a lead and the middle of its
        window in seconds; NaN when the lead was not measured."""
        deviations = self.deviations_mv(lead)
        if not np.any(np.isfinite(deviations)):
            return float("nan"), float("nan")
        index = int(np.nanargmin(deviations) if kind == "depression" else np.nanargmax(deviations))
        return float(deviations[index]), (index + 0.5) * self.window_s

    def to_dict(self) -> dict:
        """JSON-ready: the assessment, the measurement points, per lead the reference and extremes, the episodes
        (the window-by-window levels go to ``NAME_st.csv``, :func:`st_rows`)."""
        leads = []
        for k, name in enumerate(self.lead_names if self.assessed else ()):
            row = {"lead": name, "reference_mv": none_if_nan(self.reference_mv[k], 3)}
            for kind in KINDS:
                value, at = self.extreme_deviation(k, kind)
                row[f"most_{kind}_mv"], row[f"most_{kind}_time_s"] = none_if_nan(value, 3), none_if_nan(at, 1)
            leads.append(row)
        stretch = self.reference_stretch_s
        return {"assessed": self.assessed, "note": self.note or None, "window_s": self.window_s,
                "threshold_mv": self.threshold_mv, "measured_beats": self.measured_beats,
                "reference_stretch_s": None if stretch is None else [round(v, 1) for v in stretch],
                "points": None if self.fiducials is None else self.fiducials.to_dict(), "leads": leads,
                "episodes": [e.to_dict() for e in self.episodes]}


def none_if_nan(value: float, digits: int) -> float | None:
    """``value`` rounded, None when it is NaN."""
    return None if not math.isfinite(value) else round(float(value), digits)


def not_assessed(note: str, lead_names=(), fiducials: StFiducials | None = None,
                 settings: StSettings = StSettings()) -> StSummary:
    """An ST summary with no figures and the reason."""
    return StSummary(False, note, tuple(lead_names), settings.window_s, fiducials, threshold_mv=settings.threshold_mv)


def analyse_st(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray, beat_classes: np.ndarray,
               quality_spans: list[QualitySpan] = (), lead_names=(), *, pacemaker: str | None = None,
               unreadable: np.ndarray | list = (), settings: StSettings = StSettings()) -> StSummary:
    """ST levels, reference and episodes of a record (module docstring).

    ``beat_classes`` are class letters; only N beats are measured. A beat is left out of a lead when it lies in
    one of that lead's ``quality_spans`` or in an ``unreadable`` stretch ((start, stop) samples).

    Examples
    --------
    >>> fs = 360.0
    >>> beats = np.arange(180, 360 * 20, 288)
    >>> signal = np.zeros((360 * 20, 1))
    >>> analyse_st(signal, fs, beats, np.full(len(beats), "N"), lead_names=("MLII",)).note
    'ST not assessed: no clear QRS complex in the normal beats'
    """
    signal_mv = np.asarray(signal_mv)
    lead_names = tuple(lead_names) or tuple(f"lead {k}" for k in range(signal_mv.shape[1]))
    if pacemaker is not None:
        return not_assessed(f"ST not assessed: {PACED_REASON}", lead_names, settings=settings)
    beats = np.asarray(beat_samples, np.int64)
    normal = select_measured_beats(beats, np.asarray(beat_classes), signal_mv, fs_hz, quality_spans,
                                   unreadable, settings)
    usable = normal.any(axis=1)
    if usable.sum() < settings.min_beats:
        return not_assessed("ST not assessed: too few readable normal beats", lead_names, settings=settings)
    template = build_template(signal_mv, fs_hz, beats[usable], settings)
    fiducials = find_fiducials(template, fs_hz, settings)
    if fiducials is None:
        return not_assessed("ST not assessed: no clear QRS complex in the normal beats", lead_names,
                            settings=settings)
    if fiducials.qrs_ms > settings.max_qrs_ms:
        return not_assessed(f"ST not assessed: the dominant QRS is {fiducials.qrs_ms:.0f} ms wide (bundle branch "
                            "block, a ventricular or a paced rhythm)", lead_names, fiducials, settings)
    if fiducials.qrs_ms < settings.min_qrs_ms:
        return not_assessed(f"ST not assessed: the QRS onset and end of the dominant beat could not be found "
                            f"(measured width {fiducials.qrs_ms:.0f} ms, under any real QRS complex: beats of several "
                            "shapes, such as paced and fusion beats, or noise); if the patient has a pacemaker, state "
                            "it", lead_names, fiducials, settings)
    window, n_windows = assign_windows(beats, signal_mv.shape[0], fs_hz, settings.window_s)
    rates = window_heart_rates(beats, usable, window, n_windows, fs_hz)
    levels = [measure_lead(signal_mv[:, k], fs_hz, beats[normal[:, k]], window[normal[:, k]], rates, n_windows,
                           fiducials, settings) for k in range(signal_mv.shape[1])]
    counts = [np.count_nonzero(np.isfinite(level)) for level in levels]
    if max(counts) < settings.min_reference_windows:
        return not_assessed(f"ST not assessed: fewer than {settings.min_reference_windows} windows of "
                            f"{settings.window_s:g} s with {settings.min_beats} readable normal beats",
                            lead_names, fiducials, settings)
    reference = reference_levels(levels, settings)
    if not any(math.isfinite(r) for r in reference):
        start_s, stop_s = settings.reference_stretch_s
        return not_assessed(f"ST not assessed: fewer than {settings.min_reference_windows} measured windows in the "
                            f"reference stretch ({start_s:g}-{stop_s:g} s)", lead_names, fiducials, settings)
    duration_s = signal_mv.shape[0] / fs_hz
    episodes = [e for k, (level, ref) in enumerate(zip(levels, reference)) if math.isfinite(ref)
                for e in find_episodes(level - ref, rates, k, lead_names[k], duration_s, settings)]
    episodes = [measure_peak_beat(signal_mv, fs_hz, beats[normal[:, e.lead]], window[normal[:, e.lead]], e,
                                  template, fiducials, rates, settings) for e in episodes]
    return StSummary(True, "", lead_names, settings.window_s, fiducials, reference,
                     tuple(tuple(float(v) for v in level) for level in levels), tuple(float(r) for r in rates),
                     tuple(sorted(episodes, key=lambda e: (e.start_s, e.lead))), settings.threshold_mv,
                     int(usable.sum()), settings.reference_stretch_s)


def reference_levels(levels: list[np.ndarray], settings: StSettings) -> tuple[float, ...]:
    """Each lead's reference ST level: the median of its measured windows over the whole record, or over the
    windows that lie inside the reference stretch (module docstring, step 4); NaN for a lead with fewer than
    ``min_reference_windows`` of them."""
    stretch = settings.reference_stretch_s
    references = []
    for level in levels:
        chosen = np.asarray(level, np.float64)
        if stretch is not None:
            starts = np.arange(len(chosen)) * settings.window_s
            chosen = chosen[(starts >= stretch[0]) & (starts + settings.window_s <= stretch[1])]
        measured = chosen[np.isfinite(chosen)]
        references.append(float(np.median(measured)) if len(measured) >= settings.min_reference_windows
                          else float("nan"))
    return tuple(references)


def dominant_template(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray, beat_classes: np.ndarray,
                      quality_spans=(), unreadable=(), settings: StSettings = StSettings()) -> np.ndarray | None:
    """The template the measurement points are set on (time from ``template_before_s`` before the R wave, leads;
    :func:`build_template` of the beats :func:`analyse_st` measures); None without such beats."""
    beats = np.asarray(beat_samples, np.int64)
    usable = select_measured_beats(beats, np.asarray(beat_classes), signal_mv, fs_hz, quality_spans,
                                   unreadable, settings).any(axis=1)
    return build_template(signal_mv, fs_hz, beats[usable], settings) if usable.any() else None


def select_measured_beats(beats: np.ndarray, classes: np.ndarray, signal_mv: np.ndarray, fs_hz: float,
                          quality_spans, unreadable, settings: StSettings) -> np.ndarray:
    """Boolean (beats, leads): an N beat whose whole template window is in the record and readable in the lead:
    outside the ``unreadable`` stretches, the lead's ``quality_spans`` and its missing samples (NaN, whatever the
    spans say)."""
    n_samples, n_leads = np.shape(signal_mv)
    before, after = int(settings.template_before_s * fs_hz), int(settings.template_after_s * fs_hz)
    keep = (classes == "N") & (beats - before >= 0) & (beats + after < n_samples)
    keep &= ~overlaps(beats - before, beats + after, unreadable)
    mask = np.repeat(keep[:, None], n_leads, axis=1)
    for lead in range(n_leads):
        spans = [(s.start, s.stop) for s in quality_spans if s.lead == lead]
        spans += [tuple(run) for run in find_missing_runs(np.asarray(signal_mv)[:, lead])]
        mask[:, lead] &= ~overlaps(beats - before, beats + after, spans)
    return mask


def overlaps(starts: np.ndarray, stops: np.ndarray, intervals) -> np.ndarray:
    """Boolean per [start, stop] stretch: it overlaps one of the [start, stop) ``intervals`` (any order, overlapping
    or not)."""
    rows = np.asarray(intervals, dtype=np.int64).reshape(-1, 2)
    if len(rows) == 0:
        return np.zeros(len(starts), bool)
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    reach = np.maximum.accumulate(rows[:, 1])  # the furthest end among the intervals begun so far
    last = np.searchsorted(rows[:, 0], stops, side="right") - 1  # the last interval begun by each stretch's stop
    result = np.zeros(len(starts), bool)
    begun = last >= 0
    result[begun] = reach[last[begun]] > starts[begun]
    return result


def build_template(signal_mv: np.ndarray, fs_hz: float, beats: np.ndarray, settings: StSettings,
                   iso_ms: float | None = None) -> np.ndarray:
    """The median beat (time, leads) of up to ``template_beats`` of ``beats`` spread over the record, from
    ``template_before_s`` before to ``template_after_s`` after the R wave, each segment less its median, or less its
    isoelectric level (the mean over ``level_width_ms`` around ``iso_ms`` from the R wave) when ``iso_ms`` is given,
    so that its ST level reads off the amplitude axis.

    A beat's segment with a missing sample (NaN) in a lead takes no part in that lead's median: the beats are those
    readable in some lead, and one such beat made the lead's whole template NaN, which dropped the lead from the
    measurement points and the QRS-change check of every episode (a QA pass of session 51: a 10-s gap in V1 of record
    113 moved the J point and measured the QRS 44 ms wide instead of 75)."""
    chosen = beats[np.unique(np.linspace(0, len(beats) - 1, min(len(beats), settings.template_beats)).astype(int))]
    before = int(settings.template_before_s * fs_hz)
    offsets = np.arange(-before, int(settings.template_after_s * fs_hz) + 1)
    segments = np.asarray(signal_mv[chosen[:, None] + offsets[None, :]], np.float64)  # beats, time, leads
    gaps = np.isnan(segments)
    if gaps.any():
        segments[np.broadcast_to(gaps.any(axis=1, keepdims=True), segments.shape)] = np.nan  # the whole segment
    median, mean = (np.nanmedian, np.nanmean) if gaps.any() else (np.median, np.mean)
    with warnings.catch_warnings():  # a lead missing in every chosen beat: NaN, as before
        warnings.simplefilter("ignore", RuntimeWarning)
        if iso_ms is None:
            segments -= median(segments, axis=1, keepdims=True)
        else:
            half = level_half_width(fs_hz, settings)
            centre = before + int(round(iso_ms / 1000 * fs_hz))
            segments -= mean(segments[:, centre - half:centre + half + 1], axis=1, keepdims=True)
        return median(segments, axis=0)


def template_offsets_ms(length: int, fs_hz: float, before_s: float) -> np.ndarray:
    """Time from the R wave (ms) of each sample of a template that starts ``before_s`` before it
    (:func:`build_template`)."""
    return (np.arange(length) - int(before_s * fs_hz)) * 1000.0 / fs_hz


def episode_beats(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray, beat_classes: np.ndarray,
                  summary: StSummary, episode: StEpisode, quality_spans=(), unreadable=(),
                  settings: StSettings = StSettings()) -> tuple[np.ndarray, np.ndarray] | None:
    """The episode's lead as the record's dominant beat and as the median beat of the episode's largest change
    (its window), both less their isoelectric level (:func:`build_template`): the comparison a reader checks.
    None without measured beats in that window."""
    beats = np.asarray(beat_samples, np.int64)
    measured = select_measured_beats(beats, np.asarray(beat_classes), signal_mv, fs_hz, quality_spans,
                                     unreadable, settings)[:, episode.lead]
    window, _ = assign_windows(beats, np.shape(signal_mv)[0], fs_hz, summary.window_s)
    at_peak = measured & (window == int(episode.peak_s // summary.window_s))
    if not at_peak.any():
        return None
    lead = np.asarray(signal_mv)[:, episode.lead:episode.lead + 1]
    return tuple(build_template(lead, fs_hz, beats[chosen], settings, summary.fiducials.iso_ms)[:, 0]
                 for chosen in (measured, at_peak))


def find_fiducials(template: np.ndarray, fs_hz: float, settings: StSettings) -> StFiducials | None:
    """QRS onset, J point and isoelectric point of a template whose R wave is at ``template_before_s``; None when
    the template has no QRS complex (a flat or featureless signal)."""
    r_index = int(settings.template_before_s * fs_hz)
    slope = np.abs(np.diff(template, axis=0))
    peaks = slope.max(axis=0)
    if not np.any(peaks > 1e-6):  # NaN (a lead missing in every beat) compares False
        return None
    steepest = np.nanmax(np.where(peaks > 1e-6, peaks, np.nan))
    used = peaks > max(1e-6, settings.min_lead_slope_fraction * steepest)
    combined = (slope[:, used] / peaks[used]).max(axis=1)
    smooth = max(1, int(round(settings.slope_smooth_ms / 1000 * fs_hz)))
    combined = np.convolve(combined, np.ones(smooth) / smooth, mode="same")
    reach = int(round(settings.qrs_search_ms / 1000 * fs_hz))
    lo, hi = max(1, r_index - reach), min(len(combined) - 1, r_index + reach)
    middle = combined[lo:hi]
    tops = lo + np.flatnonzero((middle >= combined[lo - 1:hi - 1]) & (middle > combined[lo + 1:hi + 1])
                               & (middle >= settings.wave_fraction * combined[lo:hi].max()))
    if len(tops) == 0:
        return None
    low = settings.slope_fraction * combined[lo:hi].max()
    onset, j = tops[0], tops[-1]
    while onset > 0 and combined[onset - 1] > low:
        onset -= 1
    while j + 1 < len(combined) and combined[j] > low:
        j += 1
    width = max(1, int(round(settings.level_width_ms / 1000 * fs_hz)))
    first = max(0, onset - int(round(settings.iso_search_ms / 1000 * fs_hz)))
    if onset - first < width:
        return None
    flatness = np.convolve(slope.sum(axis=1)[first:onset], np.ones(width), mode="valid")
    iso = first + int(np.argmin(flatness)) + width / 2
    to_ms = 1000.0 / fs_hz
    return StFiducials((iso - r_index) * to_ms, (onset - r_index) * to_ms, (j - r_index) * to_ms)


def measure_peak_beat(signal_mv: np.ndarray, fs_hz: float, beats: np.ndarray, window: np.ndarray,
                      episode: StEpisode, template: np.ndarray, fiducials: StFiducials, rates: np.ndarray,
                      settings: StSettings) -> StEpisode:
    """The episode with what the median beat of its peak window shows (its lead's measured beats there):

    - ``qrs_change``: how much its QRS complex (onset to J point, all leads, each less its mean) differs from the
      dominant template's, the RMS of the difference over the template's RMS;
    - ``slope_mv``: its lead's level at the ST point less its level at J + 20 ms (both from the isoelectric level;
      negative for a downsloping segment, the form that weighs most in ischaemia, positive for an upsloping one).
    """
    peak = int(episode.peak_s // settings.window_s)
    inside = beats[window == peak]
    if len(inside) == 0:
        return episode
    r_index = int(settings.template_before_s * fs_hz)
    first, stop = (r_index + int(round(ms / 1000 * fs_hz)) for ms in (fiducials.onset_ms, fiducials.j_ms))
    reference = template[first:stop] - template[first:stop].mean(axis=0)
    offsets = np.arange(first, stop) - r_index
    qrs = np.median(np.asarray(signal_mv[inside[:, None] + offsets[None, :]], np.float64), axis=0)
    qrs -= qrs.mean(axis=0)
    size = float(np.sqrt(np.mean(reference ** 2)))
    change = float(np.sqrt(np.mean((qrs - reference) ** 2)) / size) if size > 0 else float("nan")
    beat = build_template(signal_mv[:, episode.lead:episode.lead + 1], fs_hz, inside, settings, fiducials.iso_ms)[:, 0]
    half = level_half_width(fs_hz, settings)
    fast = math.isfinite(rates[peak]) and rates[peak] > settings.fast_rate_bpm
    levels = [beat[centre - half:centre + half + 1].mean() for centre in
              (r_index + int(round((fiducials.j_ms + ms) / 1000 * fs_hz))
               for ms in (20.0, settings.fast_st_offset_ms if fast else settings.st_offset_ms))]
    return replace(episode, qrs_change=change, slope_mv=float(levels[1] - levels[0]))


def assign_windows(beats: np.ndarray, n_samples: int, fs_hz: float, window_s: float) -> tuple[np.ndarray, int]:
    """Each beat's window (``[i, i + 1) * window_s``) and the record's number of windows (at least one)."""
    return (beats // (window_s * fs_hz)).astype(np.int64), max(1, math.ceil(n_samples / (window_s * fs_hz)))


def level_half_width(fs_hz: float, settings: StSettings) -> int:
    """Samples on each side of a point over which a level is averaged (``level_width_ms`` in all, one at least)."""
    return max(1, int(round(settings.level_width_ms / 2000 * fs_hz)))


def window_heart_rates(beats: np.ndarray, normal: np.ndarray, window: np.ndarray, n_windows: int,
                       fs_hz: float) -> np.ndarray:
    """Heart rate (bpm) per window from the median RR interval ending at one of its measured normal beats."""
    rates = np.full(n_windows, np.nan)
    if len(beats) < 2:
        return rates
    rr_s = np.diff(beats) / fs_hz
    ends = np.flatnonzero(normal[1:]) + 1
    if len(ends):
        index, medians, _ = group_medians(rr_s[ends - 1], window[ends])
        rates[index] = 60.0 / medians
    return rates


def group_medians(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct ``groups`` (ascending), the median of each one's ``values`` less their NaNs (NaN where all are
    NaN) and each one's size (NaNs included).

    What pandas' ``Series(values).groupby(groups).agg(["median", "size"])`` gives, in numpy since ``pipeline/``
    does not import pandas.

    Examples
    --------
    >>> group_medians(np.array([3.0, 1.0, np.nan, 2.0, 5.0]), np.array([4, 4, 7, 4, 4]))
    (array([4, 7]), array([2.5, nan]), array([4, 1]))
    """
    values = np.asarray(values, np.float64)
    keys, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    ordered = values[np.lexsort((values, inverse))]  # group by group, each ascending with its NaNs last
    counts = np.bincount(inverse, weights=~np.isnan(values), minlength=len(keys)).astype(np.int64)
    starts = np.cumsum(sizes) - sizes
    low, high = ordered[starts + np.maximum(counts - 1, 0) // 2], ordered[starts + counts // 2]
    with np.errstate(invalid="ignore"):  # -inf and inf in the middle: NaN, as pandas gives it
        return keys, np.where(counts > 0, (low + high) / 2, np.nan), sizes


def measure_lead(lead_mv: np.ndarray, fs_hz: float, beats: np.ndarray, window: np.ndarray, rates: np.ndarray,
                 n_windows: int, fiducials: StFiducials, settings: StSettings) -> np.ndarray:
    """ST level (mV) per window of one lead from its measured beats (module docstring, steps 2 and 3)."""
    levels = np.full(n_windows, np.nan)
    if len(beats) < max(settings.min_beats, 2):
        return levels
    half = level_half_width(fs_hz, settings)
    spread = np.arange(-half, half + 1)

    def mean_at(offset_ms: float) -> tuple[np.ndarray, np.ndarray]:
        centres = beats + int(round(offset_ms / 1000 * fs_hz))
        index = np.clip(centres[:, None] + spread[None, :], 0, len(lead_mv) - 1)
        return centres, np.asarray(lead_mv[index], np.float64).mean(axis=1)

    knots, iso = mean_at(fiducials.iso_ms)
    baseline = CubicSpline(knots, iso)
    per_beat = {}
    for offset in (settings.st_offset_ms, settings.fast_st_offset_ms):
        centres, values = mean_at(fiducials.j_ms + offset)
        per_beat[offset] = group_medians(values - baseline(centres), window)
    fast = np.nan_to_num(rates, nan=0.0) > settings.fast_rate_bpm
    for offset, chosen in ((settings.st_offset_ms, ~fast), (settings.fast_st_offset_ms, fast)):
        index, medians, sizes = per_beat[offset]
        enough = sizes >= settings.min_beats
        index, medians = index[enough], medians[enough]
        keep = chosen[index]
        levels[index[keep]] = medians[keep]
    return levels


def find_episodes(deviation_mv: np.ndarray, rates: np.ndarray, lead: int, lead_name: str, duration_s: float,
                  settings: StSettings) -> list[StEpisode]:
    """Episodes of one lead from its per-window deviation (NaN: not measured), by the 1 x 1 x 1 rule."""
    episodes = []
    window_s = settings.window_s
    max_gap = int(math.ceil(settings.min_gap_s / window_s))
    for kind, sign in (("depression", -1.0), ("elevation", 1.0)):
        beyond = np.nan_to_num(sign * deviation_mv, nan=-np.inf) >= settings.threshold_mv
        stretches = []
        for index in np.flatnonzero(beyond):
            if stretches and index - stretches[-1][1] - 1 < max_gap:
                stretches[-1][1] = index
            else:
                stretches.append([index, index])
        for first, last in stretches:
            start_s, stop_s = first * window_s, min((last + 1) * window_s, duration_s)
            if stop_s - start_s < settings.min_duration_s:
                continue
            part = np.nan_to_num(sign * deviation_mv[first:last + 1], nan=-np.inf)
            peak = first + int(np.argmax(part))
            episodes.append(StEpisode(lead, lead_name, kind, start_s, stop_s, float(deviation_mv[peak]),
                                      min((peak + 0.5) * window_s, duration_s), float(rates[peak])))
    return episodes


def st_episode_marks(summary: StSummary, fs_hz: float) -> tuple[tuple[int, str], ...]:
    """The episodes as ST change annotations (sample at ``fs_hz``, aux text), the European ST-T Database's
    convention: ``(STks`` at the start, ``ASTks<microvolts>`` at the largest change and ``STks)`` at the last sample,
    ``k`` the lead's column in the analysed record and ``s`` the sign (``-`` depression, ``+`` elevation).

    Examples
    --------
    >>> episode = StEpisode(1, "V1", "depression", 60.0, 150.0, -0.213, 90.0, 80.0)
    >>> st_episode_marks(StSummary(True, episodes=(episode,)), 360.0)
    ((21600, '(ST1-'), (32400, 'AST1-213'), (53999, 'ST1-)'))
    """
    marks = []
    for e in summary.episodes:
        tag = f"ST{e.lead}{'-' if e.kind == 'depression' else '+'}"
        marks += [(int(round(e.start_s * fs_hz)), f"({tag}"),
                  (int(round(e.peak_s * fs_hz)), f"A{tag}{abs(round(e.deviation_mv * 1000))}"),
                  (max(int(round(e.stop_s * fs_hz)) - 1, int(round(e.start_s * fs_hz))), f"{tag})")]
    return tuple(marks)


def read_st_marks(samples, symbols, aux_notes, fs_hz: float) -> list[tuple[int, str, float, float, float]]:
    """ST episodes read back from ST change annotations (:func:`st_episode_marks`): (lead, kind, start_s, stop_s,
    deviation_mv) per episode whose start and end are both present."""
    opened, episodes = {}, []
    for sample, symbol, text in zip(samples, symbols, aux_notes):
        text = str(text).strip("\x00 ")
        if symbol != "s" or len(text) < 4:
            continue
        if text.startswith("(ST"):
            opened[text[1:]] = [int(sample), float("nan")]
        elif text.startswith("AST") and text[1:5] in opened:
            opened[text[1:5]][1] = int(text[5:]) / 1000.0 * (-1 if text[4] == "-" else 1)
        elif text.endswith(")") and text[:-1] in opened:
            start, deviation = opened.pop(text[:-1])
            episodes.append((int(text[2]), "depression" if text[3] == "-" else "elevation", start / fs_hz,
                             (int(sample) + 1) / fs_hz, deviation))
    return episodes


def st_rows(summary: StSummary) -> list[dict]:
    """One row per window for ``NAME_st.csv``: start and end (s), heart rate, and per lead the ST level and its
    deviation from the reference (mV); empty when ST was not assessed."""
    if not summary.assessed:
        return []
    rows = []
    for i, rate in enumerate(summary.heart_rate_bpm):
        row = {"start_s": round(i * summary.window_s, 1), "end_s": round((i + 1) * summary.window_s, 1),
               "heart_rate_bpm": none_if_nan(rate, 1)}
        for k, name in enumerate(summary.lead_names):
            level = summary.levels_mv[k][i]
            row[f"st_{name}_mv"] = none_if_nan(level, 3)
            row[f"deviation_{name}_mv"] = none_if_nan(level - summary.reference_mv[k], 3)
        rows.append(row)
    return rows


def describe_method(settings: StSettings = StSettings()) -> str:
    """The measurement and the episode rule in a sentence, for the dashboard and the report."""
    return (f"ST level at J+{settings.st_offset_ms:g} ms (J+{settings.fast_st_offset_ms:g} ms above "
            f"{settings.fast_rate_bpm:g} bpm) against a spline through the isoelectric points, median of the normal "
            f"beats of each {settings.window_s:g} s; an episode is a change from {describe_reference(settings)} of "
            f"{settings.threshold_mv:g} mV or more for {settings.min_duration_s / 60:g} min or longer. A measurement "
            "for review, not a diagnosis of ischaemia: posture, axis shifts, conduction changes and the heart rate "
            "move the ST segment too.")


def describe_reference(settings: StSettings) -> str:
    """What ST changes are measured from, in words.

    >>> describe_reference(StSettings()), describe_reference(StSettings(reference_duration_s=300))
    ("the record's own level", 'the level of 0-300 s')
    """
    stretch = settings.reference_stretch_s
    return "the record's own level" if stretch is None else f"the level of {stretch[0]:g}-{stretch[1]:g} s"


SHIFTED_REFERENCE_SHARE = 0.4
"""Share of a lead's measured windows whose ST lies at least the threshold from the record's own level from which
that level is said to be doubtful (:func:`shifted_reference_note`)."""


def shifted_reference_note(summary: StSummary) -> str | None:
    """The note for a record measured against its own median level (no reference stretch) whose ST lies at least the
    threshold from that level in :data:`SHIFTED_REFERENCE_SHARE` of a lead's measured windows or more: the level may
    itself be shifted, and episodes of the other sign be false; None otherwise.

    A QA pass of session 51 added -0.3 mV to MLII over the second half of 2-minute stretches of record 113: the
    median fell between the halves, and "elevation +0.15 mV" was reported where there was none, beside a depression
    of half its size, with no word. On MIT-BIH's 36 records with ST assessed (their reference beats), only 230, in
    intermittent pre-excitation, reaches the share (42 and 47 % in its two leads; every other record 12 % or less).

    >>> flat = StSummary(True, lead_names=("II",), reference_mv=(0.0,), levels_mv=((0.0,) * 6 + (-0.3,) * 4,))
    >>> print(shifted_reference_note(flat))
    ST in II lies 0.1 mV or more from the record's own level in 4 of its 10 measured windows: that level (the \
median of the record) may itself be shifted, and episodes of the other sign be false; take the reference from a \
stretch at baseline (the ST reference of the dashboard, or reference_start_s under [st] of an events file)
    """
    if not summary.assessed or summary.reference_stretch_s is not None:
        return None
    for lead, name in enumerate(summary.lead_names):
        deviations = summary.deviations_mv(lead)
        deviations = deviations[np.isfinite(deviations)]
        off = int(np.count_nonzero(np.abs(deviations) >= summary.threshold_mv))
        if len(deviations) and off >= SHIFTED_REFERENCE_SHARE * len(deviations):
            return (f"ST in {name} lies {summary.threshold_mv:g} mV or more from the record's own level in {off} of "
                    f"its {len(deviations)} measured windows: that level (the median of the record) may itself be "
                    "shifted, and episodes of the other sign be false; take the reference from a stretch at baseline "
                    "(the ST reference of the dashboard, or reference_start_s under [st] of an events file)")
    return None


def describe_qrs_changes(changed: int, n: int) -> str:
    """The share of a kind's episodes whose QRS complex changed too, and what that means for reading them (a clinical
    read, session 53: record 223's one "elevation episode" came with its R wave halved before a VT, an axis or
    conduction change that the count alone presented as an ischaemic episode).

    >>> describe_qrs_changes(1, 1), describe_qrs_changes(1, 3), describe_qrs_changes(0, 2)
    ('; with a QRS change: an axis or conduction change, not read as ischaemia', '; 1 with a QRS change (axis or conduction), not read as ischaemia', '')
    """
    if not changed:
        return ""
    if changed == n:
        return f"; {'all ' if n > 1 else ''}with a QRS change: an axis or conduction change, not read as ischaemia"
    return f"; {changed} with a QRS change (axis or conduction), not read as ischaemia"


def describe_st(summary: StSummary) -> str:
    """One line for a report: the episodes per kind with the largest deviation, or why ST was not assessed.

    The deviation is a change from the record's own level (:func:`describe_reference`); where that level is itself
    off the baseline, so that an "elevation" leaves the ST segment below it (or a "depression" above it), the line
    gives the ST level at the peak too (a clinical read of the PDF reports, session 47: record 223's "+0.13 mV
    elevation" was a depression of -0.18 mV lessened to -0.05 mV, and "ST elevation" reads as an injury pattern), in
    words ("the ST segment still 0.05 mV below the baseline": a clinical read of session 60 found a signed level beside
    the signed change confusing).
    A lead whose reference level lies the threshold or more off the baseline is named with it
    (:func:`describe_own_level`).
    """
    if not summary.assessed:
        return summary.note
    parts = []
    for kind in KINDS:
        found = [e for e in summary.episodes if e.kind == kind]
        if not found:
            parts.append(f"no {kind} episode")
            continue
        worst = max(found, key=lambda e: abs(e.deviation_mv))
        changed = sum(e.qrs_changed for e in found)
        level = (summary.reference_mv[worst.lead] + worst.deviation_mv if worst.lead < len(summary.reference_mv)
                 else float("nan"))
        opposite = (kind == "elevation" and level < 0) or (kind == "depression" and level > 0)
        at_peak = (f", the ST segment still {abs(level):.2f} mV {'below' if level < 0 else 'above'} the baseline"
                   if opposite else "")  # "the ST level there -0.06 mV" beside "+0.13 mV" confused a reader (s60)
        parts.append(f"{len(found)} {kind} episode{'s' if len(found) > 1 else ''} (largest {worst.deviation_mv:+.2f} "
                     f"mV in {worst.lead_name}{at_peak}, {worst.duration_s / 60:.1f} min"
                     f"{describe_qrs_changes(changed, len(found))})")
    return "; ".join(describe_own_level(summary) + parts)  # the record's own level first (a read of session 57)


def describe_own_level(summary: StSummary) -> list[str]:
    """The leads whose reference level, against the baseline before the QRS, lies ``threshold_mv`` or more off it, for
    :func:`describe_st`: a depression or elevation that lasts the whole record is the record's own level, so it makes
    no episode (a clinical read, session 54: MIT-BIH 112, "S-T segment depression in the upper channel" by its
    header, read "no depression episode" while its MLII level was -0.14 mV); empty otherwise. Said as a persistent
    offset from that baseline, neither an episode nor a diagnosis (a clinical read of session 55 took "median ST
    level +0.12 mV ..., what the episodes are measured from" for an elevation episode).

    A clinical read of session 57 found 112's "persistent ST offset ... -0.14 mV in MLII" easy to miss after "no
    depression episode": the line now names the direction and the size in mm at the standard 10 mm/mV, and comes
    first; a second read found "from the PR baseline, the record's median level" ambiguous. A read of session 58 found
    "the PR baseline" wrong in atrial fibrillation (210, 219), which has no PR segment: the baseline is the level just
    before the QRS onset (module docstring), whatever the rhythm.

    >>> describe_own_level(StSummary(True, "", lead_names=("MLII", "V1"), reference_mv=(-0.139, 0.02)))
    ["persistent ST depression in MLII: the record's median ST level lies 0.14 mV (1.4 mm at 10 mm/mV) below the \
baseline before the QRS (not an episode; episodes are changes from it)"]
    >>> print(describe_own_level(StSummary(True, "", lead_names=("MLII", "V1"), reference_mv=(-0.139, 0.12)))[0])
    persistent ST depression in MLII and elevation in V1: the record's median ST level lies 0.14 mV (1.4 mm at 10 \
mm/mV) below the baseline before the QRS in MLII and 0.12 mV (1.2 mm) above it in V1 (not an episode; episodes are \
changes from it)
    """
    off = [(name, level) for name, level in zip(summary.lead_names, summary.reference_mv)
           if math.isfinite(level) and abs(level) >= summary.threshold_mv]
    if not off:
        return []
    kinds = " and ".join(f"{'depression' if level < 0 else 'elevation'} in {name}" for name, level in off)
    levels = [f"{abs(level):.2f} mV ({10 * abs(level):.1f} mm{' at 10 mm/mV' if k == 0 else ''}) "
              f"{'below' if level < 0 else 'above'} {'the baseline before the QRS' if k == 0 else 'it'}"
              + (f" in {name}" if len(off) > 1 else "") for k, (name, level) in enumerate(off)]
    whose = "the record's median" if summary.reference_stretch_s is None else "the reference stretch's"
    return [f"persistent ST {kinds}: {whose} ST level lies {' and '.join(levels)} (not an episode; episodes are "
            "changes from it)"]
