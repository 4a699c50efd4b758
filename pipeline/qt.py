"""QT interval and its correction for heart rate, from the median normal beats of the record.

A Holter report gives the QT interval corrected for the heart rate: a long QTc (congenital long-QT syndromes, drugs,
electrolytes) is a risk of torsade de pointes, and Holter recordings are used to follow it over day and night.
The measurement is the usual one of automatic QT analysis on averaged beats:

1. **Median beat of each** ``window_s`` (1 minute) of readable normal beats followed by a normal beat (the beats
   the ST analysis measures, :func:`pipeline.st.select_measured_beats`, at least ``min_beats``; an ectopic beat
   after a beat cuts or takes over its T wave, :func:`select_qt_beats`), from ``after_s`` after the R wave, each beat
   less its isoelectric level (:func:`pipeline.st.build_template` at the ST analysis's isoelectric point).
2. **QRS onset**: the record's, from the ST analysis's measurement points (:class:`pipeline.st.StFiducials`).
3. **End of the T wave** by the tangent method (Lepeschkin and Surawicz 1952): on the median beat smoothed over
   ``smooth_ms``, the T peak is the largest deviation from the isoelectric level between J + ``t_search_from_ms``
   and the next beat's P wave (:func:`find_t_end`); the tangent at the steepest point of its descending limb
   crosses the isoelectric level at the T end.
   One lead is measured: the one with the largest dominant T wave (at least ``min_t_mv``), or another whose T
   wave is clear and ends more than :data:`LATER_T_END_MS` later (:func:`choose_t_lead`), as a global QT ends at the
   latest T end over the leads.
4. **QT** = T end - QRS onset; **QTc** by Fridericia (QT / RR^(1/3), RR in s, the correction drug-safety studies
   prefer, closer to rate-independent than Bazett's) and by Bazett (QT / RR^(1/2), the one most clinicians know; it
   over-corrects at fast rates and under-corrects at slow ones), RR the window's median interval between normal
   beats.

The record's figures are the medians over the measured windows, with the longest QTc (Fridericia, from its running
median over five windows) and when it occurred; a note says when that QTc was 500 ms or more (the level that
guidelines take as a high risk of torsade de pointes whatever the patient's sex; the sex-specific limits of 450-470
ms need details the product does not read). Not assessed, with the reason: a dominant QRS the ST analysis found too
wide (bundle branch block, ventricular rhythm), a pacemaker, T waves too small in every lead, or fewer than
``min_windows`` measured windows.

This is a measurement for a reader to check on the dominant beat (the dashboard marks its QRS onset and T end).
The MIT-BIH Arrhythmia Database has no reference QT annotations (the QT Database has them, for excerpts of some
of its records), so no accuracy figure is claimed here.

References
----------
Lepeschkin E, Surawicz B, "The measurement of the Q-T interval of the electrocardiogram", Circulation 6(3):378-388,
1952.
Laguna P et al., "A database for evaluation of algorithms for measurement of QT and other waveform intervals in the
ECG", Computers in Cardiology 1997:673-676.
Rautaharju PM et al., "AHA/ACCF/HRS recommendations for the standardization and interpretation of the
electrocardiogram, part IV: the ST segment, T and U waves, and the QT interval", Circulation 119(10):e241-e250, 2009.
ICH E14, "The clinical evaluation of QT/QTc interval prolongation and proarrhythmic potential for non-antiarrhythmic
drugs", 2005.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.kept_results import KeptResults, digest_inputs
from pipeline.st import (PACED_REASON, StSettings, StSummary, assign_windows, build_template, none_if_nan,
                         select_measured_beats, window_heart_rates)
from pipeline.types import settings_to_dict, settings_values

LONG_QTC_MS = 500.0
"""A Fridericia QTc at or above this is reported in the notes (a high risk of torsade de pointes)."""
CLEAR_T_FRACTION = 0.5
"""A lead's dominant T wave at least this share of the largest one's height shows the T wave clearly enough for its
end to make the QT (:func:`choose_t_lead`)."""
UNSTEADY_QT_MS = 60.0
UNSTEADY_SHARE = 0.2
"""A QT this far from its median in this share of the windows is noted as uncertain (:func:`unsteady_qt_note`)."""
LATER_T_END_MS = 40.0
"""A clear T wave ending more than this after the largest one's makes the QT (:func:`choose_t_lead`)."""
TREND_WINDOWS = 5
"""Windows of the running median the longest QTc is taken from (5 minutes with 1-minute windows)."""
BAZETT_OVER_BPM = 80
"""Over this median rate Bazett's QTc is marked over-corrected (:func:`describe_bazett_bias`). Bazett's formula
over-corrects above 60 bpm and under-corrects below (AHA/ACCF/HRS recommendations for the standardisation of the ECG,
part IV, Rautaharju 2009); at 80 bpm it reads about 5 % (some 20 ms) longer than Fridericia's, the size of a step
between the QTc categories. The mark started at 100 bpm until a second read of session 58 found record 200's "480 ms
(Bazett)" at 85 bpm (its mean heart rate 87), beside 450 ms by Fridericia, unmarked."""
BAZETT_UNDER_BPM = 60
"""Under this median rate Bazett's QTc is marked under-corrected (:func:`describe_bazett_bias`)."""


@dataclass(frozen=True)
class QtSettings:
    """Windows, the T-wave search and its limits (module docstring); times in ms or s as named."""

    window_s: float = 60.0
    min_beats: int = 10
    after_s: float = 0.7
    t_search_from_ms: float = 60.0
    t_peak_max_s: float = 0.5
    p_wave_s: float = 0.25
    t_peak_rr_fraction: float = 0.6
    return_fraction: float = 0.2
    next_beat_margin_s: float = 0.1
    smooth_ms: float = 20.0
    min_t_mv: float = 0.08
    min_windows: int = 3

    def __post_init__(self) -> None:
        bad = [f.name for f in fields(self) if not getattr(self, f.name) > 0]
        if bad:
            raise ValueError(f"Received {bad[0]}={getattr(self, bad[0])!r}; expected a positive value.")

    def to_dict(self) -> dict:
        return settings_to_dict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "QtSettings":
        """Inverse of :meth:`to_dict` (``[qt]`` of an event settings file; :func:`pipeline.types.settings_values`)."""
        return cls(**settings_values(cls, values))


@dataclass(frozen=True)
class QtSummary:
    """QT and QTc per window and for the record (module docstring); ``qt_ms[i]`` is window ``i``'s
    (``[i, i + 1) * window_s``), NaN where not measured. ``assessed`` is False when nothing could be measured, with
    the reason in ``note``."""

    assessed: bool
    note: str = ""
    lead_name: str = ""
    window_s: float = QtSettings.window_s
    qt_ms: tuple[float, ...] = ()
    rr_s: tuple[float, ...] = ()

    @property
    def qtc_fridericia_ms(self) -> np.ndarray:
        return np.asarray(self.qt_ms, np.float64) / np.cbrt(np.asarray(self.rr_s, np.float64))

    @property
    def qtc_bazett_ms(self) -> np.ndarray:
        return np.asarray(self.qt_ms, np.float64) / np.sqrt(np.asarray(self.rr_s, np.float64))

    @property
    def measured_windows(self) -> int:
        return int(np.count_nonzero(np.isfinite(self.qt_ms)))

    def median(self, values: np.ndarray) -> float:
        return float(np.nanmedian(values)) if self.measured_windows else float("nan")

    @property
    def qtc_trend_ms(self) -> np.ndarray:
        """The Fridericia QTc as a running median over :data:`TREND_WINDOWS` windows (at least half of them
        measured): what the longest QTc and the time over :data:`LONG_QTC_MS` are taken from, so that one window's
        misplaced T end does not make them."""
        return running_median(self.qtc_fridericia_ms, TREND_WINDOWS, (TREND_WINDOWS + 1) // 2)

    def longest_qtc(self) -> tuple[float, float]:
        """The longest QTc of :attr:`qtc_trend_ms` and the middle of its window (s); NaN when none was measured."""
        trend = self.qtc_trend_ms
        if not np.any(np.isfinite(trend)):
            return float("nan"), float("nan")
        index = int(np.nanargmax(trend))
        return float(trend[index]), (index + 0.5) * self.window_s

    def long_qtc_s(self) -> float:
        """Time in windows whose :attr:`qtc_trend_ms` is :data:`LONG_QTC_MS` or more."""
        return float(np.sum(np.nan_to_num(self.qtc_trend_ms) >= LONG_QTC_MS) * self.window_s)

    def to_dict(self) -> dict:
        """JSON-ready: the record's medians, the longest QTc, the lead and the windows measured (each window's
        figures go to ``NAME_qt.csv``, :func:`qt_rows`)."""
        longest, at = self.longest_qtc()
        return {"assessed": self.assessed, "note": self.note or None, "lead": self.lead_name or None,
                "window_s": self.window_s, "measured_windows": self.measured_windows,
                "qt_ms": none_if_nan(self.median(np.asarray(self.qt_ms, np.float64)), 0),
                "qtc_fridericia_ms": none_if_nan(self.median(self.qtc_fridericia_ms), 0),
                "qtc_bazett_ms": none_if_nan(self.median(self.qtc_bazett_ms), 0),
                "longest_qtc_fridericia_ms": none_if_nan(longest, 0), "longest_qtc_time_s": none_if_nan(at, 1),
                "qtc_fridericia_500_ms_or_more_s": self.long_qtc_s() if self.assessed else None,
                "t_end_uncertain": self.assessed and not is_steady_qt(self)}  # the report gives no figure then


def running_median(values: np.ndarray, width: int, min_count: int) -> np.ndarray:
    """Centred running median of ``values`` over ``width`` of them, NaN where fewer than ``min_count`` in the
    window are finite.

    The window of value ``i`` is ``[i - width + 1 + (width - 1) // 2, i + (width - 1) // 2]``, cut at the ends;
    NaNs and infinities are left out of the median and the count. This is what pandas'
    ``Series.rolling(width, center=True, min_periods=min_count).median()`` gives, in numpy since ``pipeline/``
    does not import pandas.

    Examples
    --------
    >>> running_median(np.array([400.0, np.nan, 410.0, 430.0, 420.0]), 5, 3)
    array([ nan, 410., 415., 420., 420.])
    """
    values = np.asarray(values, np.float64)
    medians = np.full(len(values), np.nan)
    if len(values) == 0:
        return medians
    after = (width - 1) // 2
    padded = np.pad(np.where(np.isfinite(values), values, np.nan), (width - 1 - after, after),
                    constant_values=np.nan)
    windows = sliding_window_view(padded, width)
    enough = np.count_nonzero(~np.isnan(windows), axis=1) >= min_count
    if enough.any():
        medians[enough] = np.nanmedian(windows[enough], axis=1)
    return medians


def analyse_qt(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray, beat_classes: np.ndarray,
               st_summary: StSummary, quality_spans=(), unreadable=(), *, pacemaker: str | None = None,
               st_settings: StSettings = StSettings(), settings: QtSettings = QtSettings()) -> QtSummary:
    """QT and QTc of a record whose ST analysis is ``st_summary`` (its measurement points; module docstring)."""
    if pacemaker is not None:
        return QtSummary(False, f"QT not assessed: {PACED_REASON}")
    fiducials = st_summary.fiducials
    if fiducials is None or not st_settings.min_qrs_ms <= fiducials.qrs_ms <= st_settings.max_qrs_ms:  # ST says why
        reason = st_summary.note.removeprefix("ST not assessed: ") or "no measurement points"
        return QtSummary(False, f"QT not assessed: {reason}")
    beats, measured, long_settings = select_qt_beats(signal_mv, fs_hz, beat_samples, beat_classes, quality_spans,
                                                     unreadable, st_settings, settings)
    if not measured.any():
        return QtSummary(False, "QT not assessed: too few readable normal beats")
    dominant = build_template(signal_mv, fs_hz, beats[measured.any(axis=1)], long_settings, fiducials.iso_ms)
    window, n_windows = assign_windows(beats, np.shape(signal_mv)[0], fs_hz, settings.window_s)
    window_rr_s = 60.0 / window_heart_rates(beats, measured.any(axis=1), window, n_windows, fs_hz)
    typical_rr_s = float(np.nanmedian(window_rr_s)) if np.isfinite(window_rr_s).any() else float("nan")
    lead = choose_t_lead(dominant, fs_hz, fiducials.j_ms, typical_rr_s, long_settings, settings)
    if lead is None:
        return QtSummary(False, f"QT not assessed: T waves under {settings.min_t_mv:g} mV in every lead, or none "
                                "whose end the tangent method finds")
    lead_name = st_summary.lead_name(lead)
    rr_s = 60.0 / window_heart_rates(beats, measured[:, lead], window, n_windows, fs_hz)
    qt = np.full(n_windows, np.nan)
    column = np.asarray(signal_mv)[:, lead:lead + 1]
    order = np.argsort(window, kind="stable")  # beats window by window (detected beats already are)
    lead_beats, lead_windows = beats[order][measured[order, lead]], window[order][measured[order, lead]]
    indices, firsts = np.unique(lead_windows, return_index=True)
    kept = _KEPT_WINDOWS.recall(signal_mv, digest_inputs(float(fs_hz), lead, fiducials, long_settings, settings), dict)
    measured_now = {}
    for index, inside in zip(indices, np.split(lead_beats, firsts[1:])):
        if len(inside) < settings.min_beats or not math.isfinite(rr_s[index]):
            continue
        key = digest_inputs(inside, float(rr_s[index]))
        end_ms = kept.get(key)
        if end_ms is None:
            beat = build_template(column, fs_hz, inside, long_settings, fiducials.iso_ms)[:, 0]
            end_ms = find_t_end(beat, fs_hz, fiducials.j_ms, rr_s[index], long_settings, settings)
        measured_now[key] = end_ms
        qt[index] = end_ms - fiducials.onset_ms
    kept.clear()  # the windows of this call only: the next edit's differ from them in a few windows
    kept.update(measured_now)
    summary = QtSummary(True, "", lead_name, settings.window_s, tuple(float(v) for v in qt),
                        tuple(float(v) for v in rr_s))
    if summary.measured_windows < settings.min_windows:
        return QtSummary(False, f"QT not assessed: fewer than {settings.min_windows} windows of "
                                f"{settings.window_s:g} s with a measurable T wave", lead_name, settings.window_s)
    return summary


_KEPT_WINDOWS = KeptResults()
"""Per signal and measuring setup (lead, fiducial points, settings), the T-wave end of each window's median beat by
its beats and RR interval, from the last QT analysis: a reader's beat edit changes one or two minutes of a 24-h
record, whose 1,440 minutes' median beats took 0.6 s to build and measure again (session 65's profile)."""


def select_qt_beats(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray, beat_classes: np.ndarray,
                    quality_spans, unreadable, st_settings: StSettings, settings: QtSettings
                    ) -> tuple[np.ndarray, np.ndarray, StSettings]:
    """The beats, which of them are measured in each lead (:func:`pipeline.st.select_measured_beats` over the
    longer window QT needs, and only N beats followed by an N beat), and the ST settings with that window
    (``after_s`` after the R wave).

    A beat followed by an ectopic one has its T wave cut short, or taken over, by it: in a minute of ventricular
    bigeminy every N beat's median "T wave" ended at the PVC after it, and a clinical read of record 106's report
    (session 53) found its QTc at 539-555 ms in exactly the three minutes of its bigeminy (about 400 ms around them),
    reported as 3 minutes of QTc over 500 ms.

    >>> beats, classes = np.arange(1, 9) * 360, np.array(list("NNVNNVNN"))
    >>> _, measured, _ = select_qt_beats(np.zeros((3600, 1)), 360.0, beats, classes, (), (), StSettings(),
    ...                                  QtSettings())
    >>> "".join("m" if m else "." for m in measured[:, 0])  # not the N beats before a V, nor the last beat
    'm..m..m.'
    """
    beats = np.asarray(beat_samples, np.int64)
    classes = np.asarray(beat_classes)
    long_settings = replace(st_settings, template_after_s=settings.after_s)
    measured = select_measured_beats(beats, classes, signal_mv, fs_hz, quality_spans, unreadable, long_settings)
    followed = np.zeros(len(beats), bool)
    followed[:-1] = classes[1:] == "N"
    return beats, measured & followed[:, None], long_settings


def dominant_t_wave(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray, beat_classes: np.ndarray,
                    st_summary: StSummary, qt_summary: QtSummary, quality_spans=(), unreadable=(),
                    st_settings: StSettings = StSettings(), settings: QtSettings = QtSettings()
                    ) -> tuple[np.ndarray, float] | None:
    """The measured lead's dominant beat (from ``template_before_s`` before the R wave to ``after_s`` after it, less
    its isoelectric level) and its T end in ms from the R wave at the record's median RR interval: what a reader
    checks the measurement on. None when QT was not assessed."""
    if not qt_summary.assessed:
        return None
    lead = st_summary.lead_names.index(qt_summary.lead_name)
    beats, measured, long_settings = select_qt_beats(signal_mv, fs_hz, beat_samples, beat_classes, quality_spans,
                                                     unreadable, st_settings, settings)
    beat = build_template(np.asarray(signal_mv)[:, lead:lead + 1], fs_hz, beats[measured[:, lead]], long_settings,
                          st_summary.fiducials.iso_ms)[:, 0]
    rr_s = float(np.nanmedian(qt_summary.rr_s))
    return beat, find_t_end(beat, fs_hz, st_summary.fiducials.j_ms, rr_s, long_settings, settings)


def choose_t_lead(template: np.ndarray, fs_hz: float, j_ms: float, rr_s: float, st_settings: StSettings,
                  settings: QtSettings) -> int | None:
    """The lead with the largest dominant T wave (:func:`locate_t_wave` at the typical interval ``rr_s``), or, when
    another lead's T wave is at least :data:`CLEAR_T_FRACTION` of its height and ends more than
    :data:`LATER_T_END_MS` later, the one of those that ends latest; None when no lead's T end is found (T waves under
    ``min_t_mv``, or no end the tangent method finds).

    The rule of a global QT, which ends at the latest T end over the leads, kept to the leads that show the T wave
    clearly and to clear disagreements: where one lead shows its end early (an elevated ST segment taken for it),
    another shows it, while a low flat T wave, whose tangent meets the baseline anywhere, does not make the QT, nor
    does a few milliseconds' difference move it to a noisier lead. The lead with the largest deviation from J + 60 ms
    to 0.7 s was taken before (the next beat's P wave and QRS included), and a QA pass of session 51 found it on the
    wrong wave: record 228's V1, where an elevated ST segment passed for the T wave (QT 302 ms, QTc 310, against 414
    ms on MLII). On MIT-BIH's 37 records with a QT (reference beats, ``experiments/repolarisation.py``) 4 changed:
    228, 213 (V1 327 -> MLII 391 ms), 223 (MLII 324 -> V1 367) and 233 (MLII 318 -> V1 336).

    >>> t = np.arange(-0.25, 0.7, 1 / 360.0)[:, None]
    >>> early, late = np.exp(-0.5 * ((t - 0.22) / 0.03) ** 2), 0.6 * np.exp(-0.5 * ((t - 0.30) / 0.04) ** 2)
    >>> settings = StSettings(template_after_s=0.7)
    >>> choose_t_lead(np.hstack([early, late]), 360.0, 40.0, 1.0, settings, QtSettings())  # both clear: the later
    1
    >>> choose_t_lead(np.hstack([early, late / 6]), 360.0, 40.0, 1.0, settings, QtSettings())  # a low one: the clear
    0
    """
    if not math.isfinite(rr_s):
        return None
    waves = np.array([locate_t_wave(template[:, lead], fs_hz, j_ms, rr_s, st_settings, settings)
                      for lead in range(np.shape(template)[1])]).reshape(-1, 2)
    ends, heights = waves[:, 0], np.abs(waves[:, 1])
    if np.all(np.isnan(ends)):
        return None
    heights = np.where(np.isfinite(ends), heights, np.nan)
    largest = int(np.nanargmax(heights))
    latest = int(np.nanargmax(np.where(heights >= CLEAR_T_FRACTION * heights[largest], ends, np.nan)))
    return latest if ends[latest] - ends[largest] > LATER_T_END_MS else largest


def smooth(values: np.ndarray, fs_hz: float, width_ms: float) -> np.ndarray:
    """Moving average over ``width_ms`` along the first axis (edges averaged over what is there)."""
    width = max(1, int(round(width_ms / 1000 * fs_hz)))
    kernel = np.ones(width) / width
    flat = np.asarray(values, np.float64).reshape(len(values), -1)
    counts = np.convolve(np.ones(len(flat)), kernel, mode="same")
    out = np.stack([np.convolve(flat[:, k], kernel, mode="same") / counts for k in range(flat.shape[1])], axis=1)
    return out.reshape(np.shape(values))


def find_t_end(beat: np.ndarray, fs_hz: float, j_ms: float, rr_s: float, st_settings: StSettings,
               settings: QtSettings) -> float:
    """End of the T wave of one lead's median beat (isoelectric level 0), in ms from the R wave, by the tangent
    method (module docstring); NaN when the T wave is under ``min_t_mv`` or the tangent does not end it in the
    search window (:func:`locate_t_wave`)."""
    return locate_t_wave(beat, fs_hz, j_ms, rr_s, st_settings, settings)[0]


def locate_t_wave(beat: np.ndarray, fs_hz: float, j_ms: float, rr_s: float, st_settings: StSettings,
                  settings: QtSettings) -> tuple[float, float]:
    """End of the T wave of one lead's median beat (:func:`find_t_end`) and its height (mV, signed; NaN when no peak
    is found).

    The T peak is looked for up to the next beat's P wave (``p_wave_s`` before the next R wave, and no later than
    ``t_peak_max_s`` after this one), and must be a turning point inside that stretch (a largest deviation at its
    start is the ST segment, at its end the next P wave); the steepest point lies between the peak and the return of
    the wave to ``return_fraction`` of its height, before the next P wave; the T end is at most
    ``next_beat_margin_s`` before the next R wave.
    """
    r_index = int(st_settings.template_before_s * fs_hz)
    first = r_index + int(round((j_ms + settings.t_search_from_ms) / 1000 * fs_hz))
    peak_limit_s = min(settings.t_peak_max_s, max(rr_s - settings.p_wave_s, settings.t_peak_rr_fraction * rr_s))
    peak_last = min(len(beat) - 1, r_index + int(peak_limit_s * fs_hz))
    last = min(len(beat) - 1, r_index + int(min(settings.after_s, rr_s - settings.next_beat_margin_s) * fs_hz))
    if peak_last - first < 3 or last <= peak_last:
        return float("nan"), float("nan")
    values = smooth(beat, fs_hz, settings.smooth_ms)
    peak = first + int(np.argmax(np.abs(values[first:peak_last + 1])))
    height = values[peak]
    if abs(height) < settings.min_t_mv or peak in (first, peak_last):  # at an edge: the ST segment or a P wave
        return float("nan"), float(height)
    returned = np.flatnonzero(np.sign(height) * values[peak:last + 1] <= settings.return_fraction * abs(height))
    steep_last = min(peak_last, peak + int(returned[0])) if len(returned) else peak_last
    slope = np.diff(values) * fs_hz  # mV/s between samples k and k + 1
    steepest = peak + int(np.argmin(np.sign(height) * slope[peak:max(steep_last, peak + 1)]))
    if np.sign(height) * slope[steepest] >= 0:
        return float("nan"), float(height)
    level = 0.5 * (values[steepest] + values[steepest + 1])
    end = steepest + 0.5 - level / slope[steepest] * fs_hz
    if not peak < end <= last:
        return float("nan"), float(height)
    return float((end - r_index) * 1000.0 / fs_hz), float(height)


def qt_rows(summary: QtSummary) -> list[dict]:
    """One row per window for ``NAME_qt.csv``: start and end (s), RR (s), QT and both QTc (ms); empty when QT was
    not assessed."""
    if not summary.assessed:
        return []
    return [{"start_s": round(i * summary.window_s, 1), "end_s": round((i + 1) * summary.window_s, 1),
             "rr_s": none_if_nan(rr, 3), "qt_ms": none_if_nan(qt, 0), "qtc_fridericia_ms": none_if_nan(f, 0),
             "qtc_bazett_ms": none_if_nan(b, 0)}
            for i, (rr, qt, f, b) in enumerate(zip(summary.rr_s, summary.qt_ms, summary.qtc_fridericia_ms,
                                                   summary.qtc_bazett_ms))]


def describe_qt(summary: QtSummary) -> str:
    """One line for a report: the medians and the longest QTc, or why QT was not assessed. Where the T end is
    uncertain (:func:`unsteady_qt_note`) no figure is given: clinical reads of session 57 found record 122's "longest
    QTc 494 ms" headline beside a median of 335 ms, and then that median itself short of the QT of about 450 ms a
    reader measured on its averaged beat (the windows keep their figures in the QT table and the JSON)."""
    if not summary.assessed:
        return summary.note
    if not is_steady_qt(summary):
        off, measured, _ = count_unsteady_windows(summary)
        return (f"not reported: the end of the T wave in {summary.lead_name} is uncertain ({off} of the {measured} "
                f"windows {UNSTEADY_QT_MS:.0f} ms or more from the median; see the note)")
    qt, qtc = summary.median(np.asarray(summary.qt_ms)), summary.median(summary.qtc_fridericia_ms)
    bazett = summary.median(summary.qtc_bazett_ms)
    return (f"QT {qt:.0f} ms, QTc {qtc:.0f} ms (Fridericia), {bazett:.0f} ms (Bazett{describe_bazett_bias(summary)}), "
            f"medians in {summary.lead_name} over {summary.measured_windows} windows of {summary.window_s / 60:g} min; "
            f"longest QTc {summary.longest_qtc()[0]:.0f} ms (Fridericia, {TREND_WINDOWS}-window median)")


def describe_bazett_bias(summary: QtSummary) -> str:
    """``", over-corrected at 87 bpm"`` when the record's median rate is over :data:`BAZETT_OVER_BPM` (Bazett's QTc
    reads long there) and ``", under-corrected at 52 bpm"`` under :data:`BAZETT_UNDER_BPM`; empty between. A clinical
    read of session 51 found record 213's "522 ms (Bazett)" at 108 bpm beside 474 ms by Fridericia, with nothing to say
    which to believe.

    >>> describe_bazett_bias(QtSummary(True, qt_ms=(390.0,) * 3, rr_s=(0.69,) * 3))
    ', over-corrected at 87 bpm'
    """
    rr_s = summary.median(np.asarray(summary.rr_s, np.float64)) if summary.measured_windows else float("nan")
    rate_bpm = round(60.0 / rr_s) if math.isfinite(rr_s) and rr_s > 0 else None
    if rate_bpm is None or BAZETT_UNDER_BPM <= rate_bpm <= BAZETT_OVER_BPM:  # the rate as printed (a read of session
        return ""  # 57: "under-corrected at 60")
    return f", {'over' if rate_bpm > BAZETT_OVER_BPM else 'under'}-corrected at {rate_bpm} bpm"


def describe_qt_method() -> str:
    """The measurement in a sentence, for the dashboard."""
    return ("QT from the QRS onset to the end of the T wave (tangent method) on the median normal beat of each window, "
            "in the lead with the largest T wave, or another that shows it clearly and ends it more than "
            f"{LATER_T_END_MS:.0f} ms later (a global QT's rule); QTc by Fridericia (QT/RR^1/3) and Bazett "
            "(QT/RR^1/2). A measurement to check on the dominant beat; not validated here against reference QT "
            "annotations.")


def count_unsteady_windows(summary: QtSummary) -> tuple[int, int, float]:
    """Measured windows whose QT is :data:`UNSTEADY_QT_MS` or more from the median, the windows measured and that
    median (ms)."""
    qt = np.asarray(summary.qt_ms, np.float64)
    qt = qt[np.isfinite(qt)]
    if not len(qt):
        return 0, 0, float("nan")
    median = float(np.median(qt))
    return int(np.count_nonzero(np.abs(qt - median) >= UNSTEADY_QT_MS)), len(qt), median


def is_steady_qt(summary: QtSummary) -> bool:
    """Whether fewer than :data:`UNSTEADY_SHARE` of the measured windows have a QT :data:`UNSTEADY_QT_MS` or more from
    its median (:func:`unsteady_qt_note` says when not)."""
    off, measured, _ = count_unsteady_windows(summary)
    return off < UNSTEADY_SHARE * measured or not measured


def unsteady_qt_note(summary: QtSummary) -> str | None:
    """The note for a QT that differs from its median by :data:`UNSTEADY_QT_MS` or more in at least
    :data:`UNSTEADY_SHARE` of the measured windows: the T end is uncertain there (a low T wave whose end the tangent
    finds in some minutes and not in others, or the next beat's P wave); None otherwise.

    A QA pass of session 51 found record 122 reported at a median QT of 304 ms with minutes from 281 to 452 ms and no
    word. On MIT-BIH's 37 records with a QT (their reference beats), the note is given on 122, 202 and 207 (36, 25 and
    46 % of their windows; every other record 13 % or less: ``experiments/repolarisation.py``).

    >>> steady = QtSummary(True, lead_name="II", qt_ms=(400.0,) * 8 + (480.0,), rr_s=(1.0,) * 9)
    >>> unsteady_qt_note(steady) is None
    True
    >>> print(unsteady_qt_note(replace(steady, qt_ms=(400.0,) * 6 + (300.0, 480.0, 490.0))))
    QT 60 ms or more from its median (400 ms) in 3 of the 9 windows measured (300-490 ms): the end of the T wave \
in II is uncertain; check it on the dominant beat and in the windows of the QT table
    """
    if not summary.assessed or is_steady_qt(summary):
        return None
    off, measured, median = count_unsteady_windows(summary)
    qt = np.asarray(summary.qt_ms, np.float64)
    return (f"QT {UNSTEADY_QT_MS:.0f} ms or more from its median ({median:.0f} ms) in {off} of the {measured} windows "
            f"measured ({np.nanmin(qt):.0f}-{np.nanmax(qt):.0f} ms): the end of the T wave in {summary.lead_name} is "
            "uncertain; check it on the dominant beat and in the windows of the QT table")


def long_qtc_note(summary: QtSummary) -> str | None:
    """The note for a Fridericia QTc of :data:`LONG_QTC_MS` or more, None when there is none or when the T end is
    uncertain (:func:`unsteady_qt_note` then says so, and the report gives no QT figure: session 57)."""
    long_s = summary.long_qtc_s() if summary.assessed and is_steady_qt(summary) else 0.0
    if not long_s:
        return None
    return (f"QTc (Fridericia) {LONG_QTC_MS:.0f} ms or more for {long_s / 60:.0f} min (longest "
            f"{summary.longest_qtc()[0]:.0f} ms): check the T-wave ends on the dominant beat")
