"""Plain data for the dashboard's tables and widgets, computed from a :class:`RecordAnalysis`.

Everything here is testable without Streamlit: event rows, beat details, window navigation and
the beat-by-beat comparison with reference annotations.
"""

from __future__ import annotations

import bisect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.analysis import RecordAnalysis, describe_doubtful_run, describe_run_kind, diary_findings
from app.dashboard.charts import ROW_S, clamp_window, count_rows, describe_span, from_axis_value, kind_label
from app.outputs import output_annotations
from pipeline.wording import capitalise_first, format_duration, format_hms, format_share
from models.evaluate import reference_classes
from models.family_rule import find_outvoted_v
from pipeline.diary import describe_finding, format_clock_time, format_record_time
from pipeline.families import UNGROUPED
from pipeline.labels import AAMI_CLASSES
from pipeline.regions import (LENGTH_KINDS, RATE_KINDS, SUPRAVENTRICULAR_RUN_KINDS, VENTRICULAR_RUN_KINDS,
                              WAVE_KINDS, Region, describe_region, describe_region_measure, describe_region_size,
                              is_counted_not_timed, region_intervals)
from pipeline.region_eval import EpisodeCounts, RunCounts, compare_record_episodes, compare_runs
from pipeline.scoring import ClassificationCounts, DetectionCounts, compare_beats, compare_classes, count_detections
from pipeline.summary import RecordSummary, SummarySettings

EVENT_LEAD_IN = 0.2
"""Share of the detail window shown before an event chosen in the event list."""


@dataclass(frozen=True)
class ReferenceComparison:
    """This record's beats against its reference annotations (whole record, 150 ms matching window).

    Attributes
    ----------
    counts : ClassificationCounts
        EC57 classification matrix (missed and extra beats included).
    detection : DetectionCounts
        QRS detection TP/FN/FP.
    disagreements : list of (sample, text)
        Beats where the two differ: a different class (``"ref V"``), a missed reference beat
        (``"missed V"``) or an extra detection (``"extra"``); samples at the internal rate.
    runs : tuple of (family, RunCounts)
        Ventricular and supraventricular runs compared run by run as WFDB's ``rxr`` does.
    episodes : tuple of (name, EpisodeCounts)
        The rhythm episodes compared as WFDB's ``epicmp`` does (:data:`pipeline.region_eval.EPISODE_TYPES`); empty when
        the reference annotates no rhythm (every episode of the analysis would count as false).
    """

    counts: ClassificationCounts
    detection: DetectionCounts
    disagreements: list[tuple[int, str]]
    runs: tuple[tuple[str, RunCounts], ...] = ()
    episodes: tuple[tuple[str, EpisodeCounts], ...] = ()


def format_rate(bpm: float) -> str:
    """A heart rate for display: ``"72 bpm"``, or ``"not computable"`` for NaN."""
    return f"{bpm:.0f} bpm" if np.isfinite(bpm) else "not computable"


def format_percent(value: float, digits: int = 1) -> str:
    """A percentage for display (:func:`pipeline.wording.format_share`: 0 and 100 only when exact); ``"not assessed"``
    for NaN."""
    return f"{format_share(value, digits)} %" if np.isfinite(value) else "not assessed"


def format_ms(value: float) -> str:
    """An HRV figure in milliseconds for display; ``"not assessed"`` for NaN."""
    return f"{value:.0f} ms" if np.isfinite(value) else "not assessed"


def beat_count_table(summary: RecordSummary) -> pd.DataFrame:
    """Beats per AAMI class with their share of all beats."""
    total = max(summary.n_beats, 1)
    return pd.DataFrame({"class": list(AAMI_CLASSES), "beats": list(summary.beat_counts),
                         "share_pct": [round(100 * c / total, 1) for c in summary.beat_counts]})


def describe_extremes(analysis: RecordAnalysis) -> str:
    """When the lowest and highest heart rates occurred, the longest RR interval, and when the longest and the fastest
    ventricular and supraventricular runs started (a fastest run of low confidence said so,
    :func:`app.analysis.describe_doubtful_run`), in one sentence; times into the recording, each with its clock time
    when the header gives the start (a QA pass found 01:22:00 read as a clock time on a record started at 23:30)."""
    summary, start = analysis.summary, analysis.record.start_time

    def at_time(seconds: float) -> str:
        return format_record_time(seconds, start)

    parts = []
    if np.isfinite(summary.heart_rate_min_time_s):
        parts.append(f"Lowest rate at {at_time(summary.heart_rate_min_time_s)}, highest at "
                     f"{at_time(summary.heart_rate_max_time_s)} (1-minute averages)")
    if np.isfinite(summary.longest_rr_s):
        parts.append(f"longest RR interval {summary.longest_rr_s:.2f} s at {at_time(summary.longest_rr_time_s)}")
    for name, beats in (("ventricular", summary.longest_ventricular_run),
                        ("supraventricular", summary.longest_supraventricular_run)):
        at = getattr(summary, f"longest_{name}_run_time_s")
        kinds = VENTRICULAR_RUN_KINDS if name == "ventricular" else SUPRAVENTRICULAR_RUN_KINDS
        if np.isfinite(at):
            couplet = " (a couplet: no run of 3 or more)" if beats == 2 else ""
            parts.append(f"longest {name} run {beats} beats{couplet} at {at_time(at)}"
                         f"{describe_run_kind(analysis, at, kinds)}")
        rate, at = getattr(summary, f"fastest_{name}_run_bpm"), getattr(summary, f"fastest_{name}_run_time_s")
        if np.isfinite(rate):
            parts.append(f"fastest {name} run (3 beats or more) {rate:.0f} bpm at {at_time(at)}"
                         f"{describe_doubtful_run(analysis, at, kinds)}")
    return "; ".join(parts) + "." if parts else "No readable RR interval."


def hourly_table(summary: RecordSummary, start_time=None) -> pd.DataFrame:
    """The hourly table: each row's start (its clock time when ``start_time``, the header's, is known, the rows then
    being clock hours, and its time from the start of the recording; else that time, as "hour"), its length and
    readable minutes, beats per class, heart rate, couplets, runs (3 beats or more), pauses, AF, the ST changes, the
    QTc and the hour's HRV."""
    def start(h) -> dict:
        if start_time is None:
            return {"hour": format_hms(h.start_s)}
        return {"clock": format_clock_time(h.start_s, start_time), "from start": f"+{format_hms(h.start_s)}"}

    rows = [{**start(h), "minutes": round(h.duration_s / 60, 1), "readable min": round(h.readable_s / 60, 1),
             "beats": h.n_beats,
             **{f"{c} beats": n for c, n in zip(AAMI_CLASSES, h.beat_counts)},
             "HR min": rounded(h.heart_rate_min_bpm), "HR mean": rounded(h.heart_rate_mean_bpm),
             "HR max": rounded(h.heart_rate_max_bpm), "V couplets": h.ventricular_couplets,
             "V runs": h.ventricular_runs, "S couplets": h.supraventricular_couplets, "S runs": h.supraventricular_runs,
             "pauses": h.pauses, "AF min": round(h.af_s / 60, 1), "ST change low (mV)": rounded(h.st_lowest_mv, 2),
             "ST change high (mV)": rounded(h.st_highest_mv, 2), "QTc F (ms)": rounded(h.qtc_fridericia_ms),
             "SDNN (ms)": rounded(h.sdnn_ms), "RMSSD (ms)": rounded(h.rmssd_ms), "pNN50 (%)": rounded(h.pnn50_pct, 1),
             "LF/HF": rounded(h.lf_hf_ratio, 2)}
            for h in summary.hourly]
    return pd.DataFrame(rows)


def rounded(value: float, digits: int | None = None) -> float | None:
    """A figure rounded (to a whole number by default, e.g. a heart rate in bpm); None when unknown."""
    return None if not np.isfinite(value) else round(value, digits)


def event_tally_table(summary: RecordSummary) -> pd.DataFrame:
    """Events that occurred, by type: count and total duration (``hh:mm:ss.s``, so that short events show), outside
    unreadable stretches (:class:`pipeline.summary.EventTally`); none for isolated beats and couplets, which are
    counted, not timed (:func:`pipeline.regions.is_counted_not_timed`, as the PDF report gives them), nor for pauses
    and dropped beats, whose lengths do not add up to a time (:data:`pipeline.regions.LENGTH_KINDS`)."""
    rows = [{"event": kind_label(t.kind), "count": t.count,
             "total duration": "–" if is_counted_not_timed(t.kind) or t.kind in LENGTH_KINDS
             else format_duration(t.total_s, decimals=1)}
            for t in summary.events if t.count > 0]
    return pd.DataFrame(rows, columns=["event", "count", "total duration"])


def region_table(regions: tuple[Region, ...], fs_hz: float, noisy_leads=None, hidden_runs=None) -> pd.DataFrame:
    """The event list: its number (as the event picker's ``#N``), kind (ventricular tachycardia qualified sustained
    or not), start (hh:mm:ss), duration, beats, rate, confidence and the leads noisy over it (``noisy_leads``, per
    region: :func:`app.analysis.noisy_lead_names`; empty when not given); "–" where a figure does not apply: the rate
    of a pause (its duration is its measure), the duration of an isolated beat, the beats and rate of
    flutter/fibrillation (:data:`WAVE_KINDS`; a QA pass of session 49 read "None" and "0" there as errors); an
    unreadable stretch holding a run of beats called V (``hidden_runs``: region index to the run's beats,
    :func:`app.analysis.find_hidden_ventricular_runs`) says so, for checking."""
    columns = ["#", "event", "start", "duration (s)", "beats", "heart rate (bpm)", "confidence", "noise flagged on"]
    noisy_leads = [()] * len(regions) if noisy_leads is None else noisy_leads
    hidden_runs = hidden_runs or {}
    af = region_intervals(regions, "atrial_fibrillation")
    rows = [dict(zip(columns, (k, region_label(r, fs_hz, af) + (f" ({hidden_runs[k - 1]} beats called V in a row: "
                                                                 "check)" if k - 1 in hidden_runs else ""),
                               format_hms(r.start / fs_hz),
                               "–" if r.kind.startswith("isolated_") else round(r.duration_s(fs_hz), 2),
                               "–" if r.kind in WAVE_KINDS else r.n_beats,
                               round(r.heart_rate_bpm) if np.isfinite(r.heart_rate_bpm) and
                               r.kind not in ("pause",) + WAVE_KINDS else "–",
                               round(r.confidence, 2), ", ".join(leads))))
            for k, (r, leads) in enumerate(zip(regions, noisy_leads), start=1)]
    return pd.DataFrame(rows, columns=columns)


def region_label(region: Region, fs_hz: float, af_intervals: np.ndarray | None = None) -> str:
    """A region's kind as the event list names it (:func:`pipeline.regions.describe_region`, with the record's AF
    episodes ``af_intervals``): ``"Non-sustained ventricular tachycardia"``, ``"Tachycardia in atrial
    fibrillation/flutter"``."""
    return capitalise_first(describe_region(region, fs_hz, af_intervals))


def event_label(regions: tuple[Region, ...], index: int, fs_hz: float, start_time=None) -> str:
    """One line naming an event for the event picker: ``"#3 00:01:23 Ventricular couplet (2 beats, 151 bpm)"``, the
    time into the recording followed by its clock time when the header's ``start_time`` is known
    (:func:`format_record_time`); a pause gives its length, an isolated beat its coupling interval."""
    region = regions[index]
    measure = describe_region_measure(region)
    # only a rate stretch's and a pause's words depend on the AF episodes (a picker labels hundreds of events)
    af = region_intervals(regions, "atrial_fibrillation") if region.kind in (*RATE_KINDS, "pause") else None
    details = ", ".join(part for part in (describe_region_size(region, fs_hz), measure) if part)
    at = format_record_time(region.start / fs_hz, start_time)
    return f"#{index + 1} {at} {region_label(region, fs_hz, af)} ({details})"


def filter_events(regions: tuple[Region, ...], kind: str, limit: int) -> list[int]:
    """Indices of the regions of ``kind`` (every kind for ``"all"``), the first ``limit`` of them."""
    chosen = [i for i, r in enumerate(regions) if kind == "all" or r.kind == kind]
    return chosen[:limit]


def choose_listed_event(regions: tuple[Region, ...], kind: str, rows: list, limit: int) -> tuple[str, int] | None:
    """The event picker's type and event for a row clicked in the event list (row k shows region k): the type stays
    where the picker lists the event under it (among its first ``limit``), else it becomes the event's own kind, so the
    picker names it and Previous and Next step from it; None when no row is chosen (a second click clears the row).

    >>> from pipeline.regions import Region
    >>> rs = (Region("pause", 100, 400, 1, 2, 20.0, 1.0), Region("isolated_ventricular", 500, 501, 3, 1, 90.0, 1.0))
    >>> choose_listed_event(rs, "all", [1], 10), choose_listed_event(rs, "pause", [1], 10)
    (('all', 1), ('isolated_ventricular', 1))
    >>> choose_listed_event(rs, "pause", [], 10) is None, choose_listed_event(rs, "pause", [7], 10) is None
    (True, True)
    """
    index = rows[0] if rows else None
    if not isinstance(index, int) or not 0 <= index < len(regions):
        return None
    return (kind if index in filter_events(regions, kind, limit) else regions[index].kind), index


def step_event(regions: tuple[Region, ...], kind: str, current: int, window_start_s: float, fs_hz: float,
               step: int) -> int | None:
    """The region of ``kind`` (every kind for ``"all"``) after (``step`` 1) or before (-1) the chosen one, in time
    order; with no region chosen (``current`` not one of them), the first starting after the window's start (the
    first of all when every one starts before it: a QA pass, session 49, found "Next" disabled after choosing a type
    whose events all lay behind the window) or the last starting before it. None when there is none.

    >>> from pipeline.regions import Region
    >>> rs = tuple(Region("pause", s, s + 10, -1, 0, 30.0, 1.0) for s in (100, 300, 500))
    >>> step_event(rs, "all", 1, 0.0, 100.0, 1), step_event(rs, "all", 0, 0.0, 100.0, -1)
    (2, None)
    >>> step_event(rs, "pause", -1, 2.5, 100.0, 1), step_event(rs, "pause", -1, 2.5, 100.0, -1)  # at 1, 3, 5 s
    (1, 0)
    >>> step_event(rs, "pause", -1, 9.0, 100.0, 1)  # every pause behind the window: the first
    0
    """
    chosen = events_in_time_order(regions, kind)
    if current in chosen:
        k = chosen.index(current) + step
    else:
        starts = [regions[i].start / fs_hz for i in chosen]
        k = bisect.bisect_right(starts, window_start_s) if step > 0 else bisect.bisect_left(starts, window_start_s) - 1
        if step > 0 and k == len(chosen):
            k = 0
    return chosen[k] if 0 <= k < len(chosen) else None


def event_position(regions: tuple[Region, ...], kind: str, current: int) -> tuple[int, int]:
    """Which of the regions of ``kind`` in time order the chosen one is (1-based; 0 when it is not one) and how
    many there are."""
    chosen = events_in_time_order(regions, kind)
    return (chosen.index(current) + 1 if current in chosen else 0), len(chosen)


def events_in_time_order(regions: tuple[Region, ...], kind: str) -> list[int]:
    """Indices of every region of ``kind`` (every kind for ``"all"``), by start."""
    return sorted(filter_events(regions, kind, len(regions)), key=lambda i: (regions[i].start, i))


def event_window_start(region: Region, fs_hz: float, window_s: float, duration_s: float) -> float:
    """Start of a detail window that shows ``region`` from its beginning (with a short lead-in)."""
    start_s = region.start / fs_hz - EVENT_LEAD_IN * window_s
    return round(clamp_window(start_s, window_s, duration_s)[0], 2)


EXTREMES = {-2: "Lowest heart rate", -3: "Highest heart rate", -4: "Longest RR interval"}
"""Choices of the event picker besides the regions (negative, so that they never clash with a region's index)."""


def list_extremes(summary: RecordSummary) -> list[int]:
    """The :data:`EXTREMES` the summary measured (a record without readable RR intervals has none)."""
    found = {-2: summary.heart_rate_min_time_s, -3: summary.heart_rate_max_time_s, -4: summary.longest_rr_time_s}
    return [choice for choice, at in found.items() if np.isfinite(at)]


def extreme_label(summary: RecordSummary, choice: int) -> str:
    """One line for the event picker, e.g. ``"00:03:00 Lowest heart rate (58 bpm, 1-minute average)"``."""
    if choice == -4:
        return f"{format_hms(summary.longest_rr_time_s)} {EXTREMES[choice]} ({summary.longest_rr_s:.2f} s)"
    rate, at = ((summary.heart_rate_min_bpm, summary.heart_rate_min_time_s) if choice == -2
                else (summary.heart_rate_max_bpm, summary.heart_rate_max_time_s))
    return f"{format_hms(at)} {EXTREMES[choice]} ({rate:.0f} bpm, 1-minute average)"


def extreme_window_start(summary: RecordSummary, choice: int, window_s: float, duration_s: float,
                         hr_window_s: float = SummarySettings().hr_window_s) -> float:
    """Start of a detail window on an extreme: the minute of the rate, whole when the window holds it, else its
    middle in the window's middle (:func:`middle_offset_s`), or the longest RR interval from just before its opening
    beat."""
    if choice == -4:
        start_s = summary.longest_rr_time_s - EVENT_LEAD_IN * window_s
        return round(clamp_window(start_s, window_s, duration_s)[0], 2)
    at = summary.heart_rate_min_time_s if choice == -2 else summary.heart_rate_max_time_s
    if window_s >= hr_window_s:
        return round(clamp_window(at + (hr_window_s - window_s) / 2, window_s, duration_s)[0], 2)
    return centred_window_start(at + hr_window_s / 2, window_s, duration_s)


ST_CHOICE = -10
"""Event-picker choice of the first ST episode; episode k is ``ST_CHOICE - k``, :data:`MAX_ST_CHOICES` at most (they
stay above :data:`DIARY_CHOICE`)."""
MAX_ST_CHOICES = 80


def list_st_choices(st) -> list[int]:
    """Event-picker choices of the ST episodes (:class:`pipeline.st.StSummary`), in time order."""
    return [ST_CHOICE - k for k in range(min(len(st.episodes), MAX_ST_CHOICES))]


def is_st_choice(choice: int) -> bool:
    return ST_CHOICE - MAX_ST_CHOICES < choice <= ST_CHOICE


def st_label(st, choice: int) -> str:
    """One line for the event picker, e.g. ``"00:02:07 ST depression in V5, -0.25 mV (2.0 min)"`` (at the largest
    change)."""
    e = st.episodes[ST_CHOICE - choice]
    return (f"{format_hms(e.peak_s)} ST {e.kind} in {e.lead_name}, {e.deviation_mv:+.2f} mV "
            f"({e.duration_s / 60:.1f} min)")


DIARY_CHOICE = -100
"""Event-picker choice of the first diary entry; entry k is ``DIARY_CHOICE - k`` (below every other choice)."""


def list_diary_choices(diary) -> list[int]:
    """Event-picker choices of the diary entries, in time order."""
    return [DIARY_CHOICE - k for k in range(len(diary))]


def diary_label(diary, choice: int) -> str:
    """One line for the event picker, e.g. ``"00:12:30 Diary: dizzy"``."""
    entry = diary[DIARY_CHOICE - choice]
    return f"{format_hms(entry.time_s)} Diary: {textwrap.shorten(entry.text, 60)}"


def middle_offset_s(window_s: float) -> float:
    """Where a detail window's middle is drawn, from its start: half the window, or, for a window shown in stacked
    rows of :data:`~app.dashboard.charts.ROW_S`, the middle of the row nearest the window's middle (its middle would
    fall on a row's first sample, at the left edge of the chart).

    >>> middle_offset_s(10.0), middle_offset_s(20.0), middle_offset_s(30.0), middle_offset_s(60.0)
    (5.0, 5.0, 15.0, 25.0)
    """
    n_rows = count_rows(window_s)
    return 0.5 * window_s if n_rows == 1 else ((n_rows - 1) // 2 + 0.5) * ROW_S


def centred_window_start(time_s: float, window_s: float, duration_s: float) -> float:
    """Start of a detail window with ``time_s`` in its middle (:func:`middle_offset_s`; a diary entry, an ST episode's
    largest change)."""
    return round(clamp_window(time_s - middle_offset_s(window_s), window_s, duration_s)[0], 2)


def diary_table(analysis: RecordAnalysis) -> pd.DataFrame:
    """The diary entries with the rhythm at each (heart rate, events within a minute), for the overview."""
    record = analysis.record
    rows = []
    for finding in diary_findings(analysis):
        row = {"time": format_hms(finding.entry.time_s)}
        if record.start_time is not None:
            row["clock time"] = format_clock_time(finding.entry.time_s, record.start_time)
        row.update({"noted": finding.entry.text, "heart rate (bpm)": rounded(finding.heart_rate_bpm),
                    "ECG within a minute": describe_finding(finding, record.fs_hz, with_rate=False,
                                                                  start_time=record.start_time)})
        rows.append(row)
    return pd.DataFrame(rows)


def st_episode_table(st) -> pd.DataFrame:
    """The ST episodes (:class:`pipeline.st.StSummary`) for the overview: lead, kind, times, size, rate, QRS."""
    return pd.DataFrame([{"lead": e.lead_name, "kind": e.kind, "start": format_hms(e.start_s),
                          "duration (min)": round(e.duration_s / 60, 1),
                          "largest change (mV)": round(e.deviation_mv, 2), "at": format_hms(e.peak_s), "heart rate there (bpm)": rounded(e.heart_rate_bpm),
                          "slope J+20 to ST point (mV)": None if np.isnan(e.slope_mv) else round(e.slope_mv, 2),
                          "QRS changed too": "yes" if e.qrs_changed else "no"} for e in st.episodes])


def beat_window_start(sample: int, fs_hz: float, window_s: float, duration_s: float) -> float:
    """Start of a detail window with the beat at ``sample`` in its middle (:func:`middle_offset_s`)."""
    return centred_window_start(sample / fs_hz, window_s, duration_s)


def beats_in_window(samples: np.ndarray, fs_hz: float, start_s: float, window_s: float) -> np.ndarray:
    """Indices of the beats whose R peak lies in the window."""
    lo, hi = np.searchsorted(samples, [start_s * fs_hz, (start_s + window_s) * fs_hz])
    return np.arange(lo, hi)


def default_beat(classes: np.ndarray, indices: np.ndarray) -> int:
    """The beat to explain first in a window: its first ectopic (non-N) beat, else its first beat."""
    ectopic = [i for i in indices if classes[i] != "N"]
    return int(ectopic[0] if ectopic else indices[0])


def beat_labeller(analysis: RecordAnalysis) -> Callable[[int], str]:
    """How a beat is named in pickers, e.g. ``"#12 at 00:00:09.52: V"``: a function of the beat's index, with the
    classes taken once (they are built on each access; a picker names up to 2,000 beats, 0.2 s a rerun at 24 h)."""
    samples, fs_hz, classes = analysis.predictions.samples, analysis.record.fs_hz, analysis.classes

    def label(index: int) -> str:
        return f"#{index} at {format_hms(samples[index] / fs_hz, 2)}: {classes[index]}"

    return label


def beat_details(analysis: RecordAnalysis, index: int) -> dict:
    """Time, class (and the model's, when a reader corrected it), probabilities and RR intervals (s) of beat ``index``."""
    samples = analysis.predictions.samples
    fs_hz = analysis.record.fs_hz
    probabilities = analysis.predictions.probabilities[index]
    rr_before = (samples[index] - samples[index - 1]) / fs_hz if index > 0 else float("nan")
    rr_after = (samples[index + 1] - samples[index]) / fs_hz if index + 1 < len(samples) else float("nan")
    return {"beat": int(index), "time": format_hms(samples[index] / fs_hz, 2),
            "class": str(analysis.classes[index]),
            "model_class": str(analysis.predictions.classes[index]),
            "reviewed": bool(analysis.reviewed_mask[index]),
            "atrial_rule": bool(analysis.predictions.relabelled_mask[index]),
            "conduction_rule": bool(analysis.predictions.conducted_mask[index]),
            "run_rule": bool(analysis.predictions.in_run_mask[index]),
            "wide_qrs_rule": bool(analysis.predictions.wide_mask[index]),
            "fusion_rule": bool(analysis.predictions.fused_mask[index]),
            "af_rule": bool(analysis.predictions.in_af_mask[index]),
            "family_rule": bool(analysis.predictions.in_family_mask[index]),
            "family": int(analysis.families[index]) if analysis.families is not None else UNGROUPED,
            "one_lead": bool(analysis.predictions.one_lead_mask[index]),
            "probabilities": {c: float(probabilities[k]) for k, c in enumerate(AAMI_CLASSES)},
            "rr_before_s": float(rr_before), "rr_after_s": float(rr_after)}


def compare_with_reference(analysis: RecordAnalysis) -> ReferenceComparison | None:
    """Beat-by-beat comparison with the record's reference annotations, and of the events: runs run by run and rhythm
    episodes, from the annotation file the downloads hold (:func:`app.outputs.output_annotations`); None when the
    record has no reference annotations.

    Scored over the whole record (not from 5 minutes as in EC57 benchmarks: here the clinician
    looks at this record as it is), outside ventricular flutter episodes, matching within 150 ms.
    """
    record = analysis.record
    if record.annotations is None:
        return None
    samples = analysis.predictions.samples
    test_classes = class_indices(analysis)
    ref_classes = reference_classes(record.annotations)
    match = compare_beats(record.annotations, samples, record.fs_hz, record.n_samples, start_s=0.0)
    counts = compare_classes(match, ref_classes, test_classes)
    disagreements = list_disagreements(match, record.annotations.samples, ref_classes, samples, test_classes)
    written = output_annotations(analysis)  # the events as the annotation file gives them to rxr and epicmp
    runs = tuple((family, compare_runs(record.annotations, written, record.fs_hz, family, start_s=0.0))
                 for family in ("ventricular", "supraventricular"))
    annotated = any(note.strip("\x00").startswith("(") for note in record.annotations.aux_notes)
    episodes = (compare_record_episodes(record.annotations, written, record.fs_hz, record.n_samples, start_s=0.0)
                if annotated else ())
    return ReferenceComparison(counts, count_detections(match), disagreements, runs, episodes)


def describe_disagreement(analysis: RecordAnalysis, sample: int, text: str) -> str:
    """One disagreement of :func:`list_disagreements` as a picker names it: ``"00:01:23.4 reference V, analysis N"``,
    ``"... reference V, not detected"`` (a missed beat) or ``"... no reference beat, analysis N"`` (an extra
    detection)."""
    at = format_hms(sample / analysis.record.fs_hz, 1)
    index = find_beat_at(analysis, sample)
    called = "?" if index is None else analysis.classes[index]
    if text.startswith("missed "):
        return f"{at} reference {text.removeprefix('missed ')}, not detected"
    if text.startswith("ref "):
        return f"{at} reference {text.removeprefix('ref ')}, analysis {called}"
    return f"{at} no reference beat, analysis {called}"


def find_beat_at(analysis: RecordAnalysis, sample: int) -> int | None:
    """The index of the analysis's beat at ``sample``, None when none is there (a missed reference beat)."""
    samples = analysis.predictions.samples
    index = int(np.searchsorted(samples, sample))
    return index if index < len(samples) and samples[index] == sample else None


CLICK_REACH_S = 0.25
"""A click on a mark of the detail chart that is not a beat's letter (a reference disagreement's cross) chooses the beat
whose R peak lies within this of it (a QRS and its T wave; not the next beat at 240 bpm)."""


def find_nearest_beat(samples: np.ndarray, fs_hz: float, time_s: float, reach_s: float = CLICK_REACH_S) -> int | None:
    """The index of the beat nearest ``time_s`` (s into the recording), None when none lies within ``reach_s``.

    >>> find_nearest_beat(np.array([100, 460, 820]), 360.0, 1.2)
    1
    >>> find_nearest_beat(np.array([100, 460, 820]), 360.0, 1.8) is None
    True
    """
    if len(samples) == 0:
        return None
    sample = time_s * fs_hz
    index = int(np.searchsorted(samples, sample))
    nearest = min((k for k in (index - 1, index) if 0 <= k < len(samples)), key=lambda k: abs(samples[k] - sample))
    return nearest if abs(samples[nearest] - sample) <= reach_s * fs_hz else None


def find_clicked_beat(analysis: RecordAnalysis, point: dict) -> int | None:
    """The beat a click on the detail chart chose: the one whose letter was clicked (its sample is the point's
    ``customdata``), else the one within :data:`CLICK_REACH_S` of the point clicked; None when none."""
    sample = point.get("customdata")
    if isinstance(sample, (int, float)):
        return find_beat_at(analysis, int(sample))
    if point.get("x") is None:
        return None
    return find_nearest_beat(analysis.predictions.samples, analysis.record.fs_hz, from_axis_value(point["x"]))


def describe_chosen_beat(analysis: RecordAnalysis, index: int) -> str:
    """The chosen beat in one line under the detail chart, so that its class and intervals show where it is clicked
    (the beat panel, with its probabilities and the rules that made its class, lies far below the chart: a clinical
    read through a browser, session 62): ``"Chosen beat #7 at 00:00:05.67: **S**, RR before 653 ms, after 997 ms"``,
    with ``(corrected; the model said N)`` after a reader's relabel."""
    details = beat_details(analysis, index)
    corrected = f" (corrected; the model said {details['model_class']})" if details["reviewed"] else ""
    rr = [f"{1000 * details[key]:.0f} ms" if np.isfinite(details[key]) else "-"
          for key in ("rr_before_s", "rr_after_s")]
    return (f"Chosen beat #{index} at {format_hms(analysis.predictions.samples[index] / analysis.record.fs_hz, 2)}: "
            f"**{details['class']}**{corrected}, RR before {rr[0]}, after {rr[1]}")


def describe_calipers(start_s: float, end_s: float) -> str:
    """The calipers' line under the detail chart: where the span lies (times into the recording, as the window's
    caption gives them) and what it measures.

    >>> describe_calipers(83.25, 84.0625).split(". ")[0]
    'Calipers: 00:01:23.25 to 00:01:24.06, 812 ms, 74 bpm'
    """
    return (f"Calipers: {format_hms(start_s, 2)} to {format_hms(end_s, 2)}, {describe_span(end_s - start_s)}. Drag "
            "again to measure another span.")


def correction_table(analysis: RecordAnalysis, limit: int) -> pd.DataFrame:
    """The reader's corrections in time order (the first ``limit``): beat number, time, the model's class and the
    reader's, for checking what was changed before the report is made."""
    corrected = np.flatnonzero(analysis.reviewed_mask)[:limit]
    samples, fs_hz = analysis.predictions.samples, analysis.record.fs_hz
    return pd.DataFrame({"beat": corrected.astype(np.int64),
                         "time": [format_hms(samples[i] / fs_hz, 2) for i in corrected],
                         "model": analysis.predictions.classes[corrected], "reader": analysis.classes[corrected]})


def class_indices(analysis: RecordAnalysis) -> np.ndarray:
    """Predicted class index of every beat."""
    lookup = {c: k for k, c in enumerate(AAMI_CLASSES)}
    return np.array([lookup[c] for c in analysis.classes], dtype=np.int64)


def list_disagreements(match, ref_samples: np.ndarray, ref_classes: np.ndarray, test_samples: np.ndarray,
                       test_classes: np.ndarray) -> list[tuple[int, str]]:
    """(sample, text) of every beat where the reference and the analysis disagree, in time order."""
    found = []
    for r, t in zip(match.ref_index, match.test_index):
        if ref_classes[r] >= 0 and ref_classes[r] != test_classes[t]:
            found.append((int(test_samples[t]), f"ref {AAMI_CLASSES[ref_classes[r]]}"))
    for r in match.missed:
        label = AAMI_CLASSES[ref_classes[r]] if ref_classes[r] >= 0 else "beat"
        found.append((int(ref_samples[r]), f"missed {label}"))
    found.extend((int(test_samples[t]), "extra") for t in match.extra)
    return sorted(found)


def comparison_table(comparison: ReferenceComparison) -> pd.DataFrame:
    """Per class: the reference's beats of the class, the analysis's beats given the class, sensitivity and positive
    predictivity (%)."""
    matrix = comparison.counts.matrix
    rows = []
    for k, letter in enumerate(AAMI_CLASSES):
        se, ppv = comparison.counts.sensitivity(k), comparison.counts.positive_predictivity(k)
        rows.append({"class": letter, "reference beats": int(matrix[k].sum()),
                     "analysis beats": int(matrix[:, k].sum()),
                     "Se %": round(100 * se, 1) if np.isfinite(se) else None,
                     "+P %": round(100 * ppv, 1) if np.isfinite(ppv) else None})
    return pd.DataFrame(rows)


RUN_ROWS = (("couplet", "couplets"), ("short", "runs of 3-5 beats"), ("long", "runs of 6 beats or more"))
"""The run categories of EC57's run-by-run comparison and how the event comparison names them."""

EPISODE_NAMES = {"af": "Atrial fibrillation/flutter", "vt": "Ventricular tachycardia",
                 "bigeminy": "Ventricular bigeminy", "trigeminy": "Ventricular trigeminy",
                 "svta": "Supraventricular tachyarrhythmia", "ivr": "Idioventricular rhythm",
                 "vf": "Ventricular flutter/fibrillation", "av_block": "Second-degree AV block",
                 "paced": "Paced rhythm"}
"""The rhythm episodes the event comparison shows, named as MIT-BIH's rhythm codes mean them (``(B`` is ventricular
bigeminy; ``(BII`` any second-degree block, the analysis's 2:1 block and dropped beats' episodes); AF and flutter
together, as issue 4 scores them."""


def format_ratio(numerator: float, denominator: float) -> str:
    """``"80.0"`` (a percentage to one decimal), ``"—"`` when the denominator is 0."""
    return f"{100 * numerator / denominator:.1f}" if denominator > 0 else "—"


def run_comparison_table(comparison: ReferenceComparison) -> pd.DataFrame:
    """Per family and run category present on either side: the reference's runs and how many the analysis found
    (Se), the analysis's runs and how many the reference confirms (+P), as ``rxr`` counts them: a run is found when
    the other side has a run at least as long in its category within 150 ms of its beats."""
    rows = []
    for family, counts in comparison.runs:
        for category, name in RUN_ROWS:
            found, missed, confirmed, false = counts.counts(category)
            if found + missed + confirmed + false:
                rows.append({"runs": f"{capitalise_first(family)} {name}", "reference": found + missed,
                             "found": found, "Se %": format_ratio(found, found + missed),
                             "analysis": confirmed + false, "confirmed": confirmed,
                             "+P %": format_ratio(confirmed, confirmed + false)})
    return pd.DataFrame(rows, columns=["runs", "reference", "found", "Se %", "analysis", "confirmed", "+P %"])


def episode_comparison_table(comparison: ReferenceComparison) -> pd.DataFrame:
    """Per rhythm present on either side (:data:`EPISODE_NAMES`): episodes of the reference and found, of the
    analysis and confirmed, with episode Se and +P, then the seconds of each side and the share of them the other
    side covers (duration Se and +P), as ``epicmp`` counts them."""
    rows = []
    for name, c in comparison.episodes:
        if name in EPISODE_NAMES and (c.detected + c.missed + c.confirmed + c.false):
            rows.append({"rhythm": EPISODE_NAMES[name], "reference episodes": c.detected + c.missed,
                         "found": c.detected, "analysis episodes": c.confirmed + c.false, "confirmed": c.confirmed,
                         "episode Se %": format_ratio(c.detected, c.detected + c.missed),
                         "episode +P %": format_ratio(c.confirmed, c.confirmed + c.false),
                         "reference s": round(c.reference_s, 1), "analysis s": round(c.test_s, 1),
                         "duration Se %": format_ratio(c.overlap_reference_s, c.reference_s),
                         "duration +P %": format_ratio(c.overlap_test_s, c.test_s)})
    return pd.DataFrame(rows, columns=["rhythm", "reference episodes", "found", "analysis episodes", "confirmed",
                                       "episode Se %", "episode +P %", "reference s", "analysis s", "duration Se %",
                                       "duration +P %"])


def show_comparison_table(comparison: ReferenceComparison) -> pd.DataFrame:
    """:func:`comparison_table` as the dashboard shows it: Se and +P as text to one decimal, a dash where undefined (no
    beat of the class on that side), since the grid draws a number column's empty cell as a grey "None"."""
    table = comparison_table(comparison)
    for column in ("Se %", "+P %"):
        table[column] = ["—" if value is None or not np.isfinite(value) else f"{value:.1f}"
                         for value in table[column]]
    return table


def family_label(row: dict) -> str:
    """How a family is named in pickers and chart titles, e.g. ``"Family 2: 548 beats (V 546, F 2)"``."""
    classes = ", ".join(f"{c} {row[c]}" for c in AAMI_CLASSES if row[c])
    name = "Ungrouped beats" if row["family"] == UNGROUPED else f"Family {row['family']}"
    return f"{name}: {row['n_beats']} beat{'s' if row['n_beats'] != 1 else ''} ({classes})"


def family_table(rows: list[dict]) -> pd.DataFrame:
    """The families as a table: family (``-`` for ungrouped beats), beats, beats per class, the model's mean
    confidence (%) and the beats corrected."""
    table = pd.DataFrame(rows, columns=["family", "n_beats", *AAMI_CLASSES, "confidence", "corrected"])
    table["family"] = [("-" if f == UNGROUPED else str(f)) for f in table["family"]]
    table["confidence"] = (100 * table["confidence"]).round(1)
    return table.rename(columns={"n_beats": "beats", "confidence": "model confidence %"})


def family_labels_for(analysis: RecordAnalysis, family: int, label: str, only: str | None = None) -> dict[int, str]:
    """Corrections that give the beats of ``family`` the class ``label`` (beat number -> class).

    With ``only``, just the family's beats now called ``only`` (e.g. the N calls in a family of
    ventricular beats, leaving its V calls and any S call alone).
    """
    return {int(i): label for i in family_members(analysis, family, only)}


def family_members(analysis: RecordAnalysis, family: int, only: str | None = None) -> np.ndarray:
    """Beat numbers of ``family`` (with ``only``, just those now called ``only``); none without families."""
    if analysis.families is None:
        return np.zeros(0, np.int64)
    members = analysis.families == family
    if only is not None:
        members &= analysis.classes == only
    return np.flatnonzero(members)


def family_rule_reviews(analysis: RecordAnalysis) -> list[dict]:
    """Families in which the model's morphology-family rule (:mod:`models.family_rule`) made V calls N, for the reader
    to confirm or undo: family number, its beats, the beats the rule made N that are still N; most first."""
    return count_by_family(analysis.families, made_n_by_family_rule(analysis), "made_n")


def family_rule_labels(analysis: RecordAnalysis, family: int) -> dict[int, str]:
    """The beats of ``family`` that the family rule made N and that are still N, as V: the rule undone for one family
    (beat number -> class letter)."""
    return {int(i): "V" for i in np.flatnonzero(made_n_by_family_rule(analysis) & (analysis.families == family))}


def made_n_by_family_rule(analysis: RecordAnalysis) -> np.ndarray:
    """Boolean per beat: the family rule made the model's V call N, and the beat is still N."""
    return analysis.predictions.in_family_mask & (analysis.classes == "N")


def family_suggestions(analysis: RecordAnalysis) -> list[dict]:
    """Families whose few V calls are probably not ventricular, by the family rule's own test
    (:func:`models.family_rule.find_outvoted_v`: at least 5 beats, at most 30 % called V) on the current classes:
    family number, its beats, its V calls; most first. With a model that has the rule, only a reader's corrections
    make such a family. On DS1, with networks that never saw the patient, 192 of the 234 such V calls were normal
    beats, 18 S or F, 24 V (EXPERIMENTS.md row U). Beats the reader labelled V are not suggested: giving a family's
    beats back V (:func:`family_rule_labels`) must not bring them straight back as a suggestion to undo it."""
    if analysis.families is None:
        return []
    outvoted = find_outvoted_v(class_indices(analysis), analysis.families) & ~analysis.reviewed_mask
    return count_by_family(analysis.families, outvoted, "v_calls")


def count_by_family(families: np.ndarray | None, chosen: np.ndarray, key: str) -> list[dict]:
    """Per family holding chosen beats: its number, its beats and (under ``key``) its chosen beats; most chosen first,
    then by family number.

    >>> count_by_family(np.array([0, 0, 0, 1, 1, -1]), np.array([True, False, False, True, True, False]), "n")
    [{'family': 1, 'n_beats': 2, 'n': 2}, {'family': 0, 'n_beats': 3, 'n': 1}]
    """
    if families is None:
        return []
    rows = [{"family": int(family), "n_beats": int(np.sum(families == family)),
             key: int(np.sum(chosen & (families == family)))} for family in np.unique(families[chosen])]
    return sorted(rows, key=lambda r: -r[key])

