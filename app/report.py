"""The PDF report of a record. Page 1: summary, the reader's conclusion (when written), event list and ECG strips of the
most important events. Then the strips the reader chose (:mod:`app.reader_strips`), six a page (three of a two-lead
record), when there are any. Next, the heart-rate trend and the strips a Holter report keeps: the lowest and highest
heart rate, the longest RR interval, and one strip of each further kind of event. Then, for a record longer than an
hour, the hourly table; the rhythm page: the RR scatter (Lorenz plot) by beat class, the RR histogram, the median
beat of the largest morphology families and heart-rate turbulence's averaged tachogram (:mod:`pipeline.hrt`); when
the record has ST episodes (:mod:`pipeline.st`), an ST page: each lead's ST trend and the beats of the largest
episodes against the dominant beat. Last, when the patient kept a diary: each entry with the rhythm at that time
(:mod:`pipeline.diary`) and strips of the first entries.

Every strip is printed as an electrocardiograph prints it: 7.5 s of the primary lead, and of the second analysed lead
under it for a two-lead record (session 57), at 25 mm/s, at the record's standard gain (10 mm/mV, or 5 for tall
signals), on 1-mm and 5-mm squares (:func:`draw_strip`).

Drawn with matplotlib's object API (no pyplot state, Agg/PDF backends only) so it works headless
and in parallel processes. The PDF carries no creation date, so the same analysis always gives
the same bytes (``ecg score`` reruns compare outputs).
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass, replace

import numpy as np
from matplotlib.backends.backend_pdf import FigureCanvasPdf, PdfPages
from matplotlib.figure import Figure

from app.analysis import (CONFIDENT_EVENT_MIN, RR_HISTOGRAM_BIN_MS, RecordAnalysis, describe_af_edits,
                          describe_beat_edits,
                          describe_doubtful_run, describe_run_kind, diary_findings, family_rows, find_paced_beats_left,
                          lorenz_points, MIN_HIDDEN_RUN_BEATS, find_hidden_ventricular_runs, noisy_lead_names,
                          rr_histogram, st_episode_beats)
from app.findings import LONG_PAUSE_S, describe_main_findings
from app.event_settings import describe_thresholds
from app.strips import (A4_PORTRAIT_IN, CLASS_COLOURS, MIN_SHADE_S, PAGE_TOP_MM, PAUSE_MARGIN_S, STRIP_HEIGHT_MM,
                        STRIP_PITCH_MM, STRIP_S, STRIP_TIMES_MM, Strip, count_beats, draw_strip_column, end_strip,
                        event_strip, fit_strips, format_at, format_clock_suffix, merge_repeated_strips,
                        report_gain_mm_per_mv, show_stretch_s, strip_leads, strip_start_s)
from pipeline.diary import WINDOW_S, describe_finding, format_clock_time, summarize_findings
from pipeline.diary import format_elapsed as format_clock
from pipeline.wording import count_noun, format_duration, format_share
from pipeline.families import UNGROUPED, beat_windows, median_beat, window_offsets
from pipeline.labels import AAMI_CLASSES
from pipeline.regions import (ACCELERATED_IVR_MIN_BPM, BLOCKED_KINDS, LENGTH_KINDS, MIN_BEAT_INTERVAL_MS,
                              RATE_KINDS, SUPRAVENTRICULAR_RUN_KINDS, SUSTAINED_VT_MIN_S, VENTRICULAR_RUN_KINDS,
                              WAVE_KINDS, Region, describe_kind, is_counted_not_timed, is_in_af, is_within_refractory,
                              measure_length_s, place_pause, region_intervals)
from pipeline.hours import HOUR_S
from pipeline.quality import summarize_quality
from pipeline.hrt import describe_hrt, describe_hrt_absence, describe_hrt_span, slope_line, tachogram_labels
from pipeline.hrv import describe_hrv_span
from pipeline.region_eval import describe_pacing_spikes
from pipeline.pr import describe_pr
from pipeline.qt import describe_qt, is_steady_qt
from pipeline.st import describe_method, describe_reference, describe_st, template_offsets_ms

TREND_HEIGHT_MM = 32.0
"""Height of the heart-rate trend atop the first strip page."""
READER_STRIPS_PER_PAGE = 6
MAX_STRIPS = 3
"""Event strips on page 1."""
ST_TITLE_CHARS = 60
"""Width of an ST episode plot's title, wrapped to the half page the plot takes (a 24-h QA pass found the titles of
plots side by side running into each other)."""
MAX_MORE_STRIPS = 5
"""Event strips after page 1, following the heart-rate trend and the heart-rate and RR strips."""
STRIP_CONFIDENCE_MIN = CONFIDENT_EVENT_MIN
"""An event's strip shows the longest region of its kind among those of at least this confidence
(:mod:`pipeline.regions`: the clean-lead share times the weakest beat-label confidence), when there is one: a clear
example rather than the longest stretch of noise or doubtful labels (``benchmarks/report_strips.py``)."""
MAX_EVENT_ROWS = 16
EVENT_LINE_CHARS = 51
"""Width at which the event tally's lines are wrapped: page 1 sets them in two columns."""
MAX_DIARY_LINES = 20
"""Lines of diary entries on the diary page (the CSV and JSON hold them all)."""
DIARY_LINE_CHARS = 130
MAX_DIARY_STRIPS = 5
"""Diary entries with a strip on the diary page, those of them that fit under its lines."""
THRESHOLD_LINE_CHARS = 150
"""Width of the event-threshold footer lines (6 pt on A4)."""
CONCLUSION_LINE_CHARS = 105
"""Width of the reader's conclusion lines (8 pt monospace on A4)."""
SUMMARY_LINE_CHARS = CONCLUSION_LINE_CHARS
"""Width at which the summary's lines are wrapped."""
MAX_HOURLY_ROWS = 72
"""Hours on the hourly page (three days; the CSV and JSON hold them all)."""
MAX_ST_EPISODE_PLOTS = 4
"""ST episodes whose beats the ST page shows (the largest changes first)."""
MAX_CONCLUSION_LINES = 8
MIN_RHYTHM_PAGE_BEATS = 10
"""Beats with readable intervals on both sides that a record needs for the rhythm page (RR scatter, HRT)."""
MAX_FAMILIES = 4
TEMPLATE_HALF_S = 0.3
TEMPLATE_BEATS = 200
EVENT_PRIORITY = (
    "ventricular_flutter_fibrillation", "ventricular_tachycardia", "atrial_fibrillation", "supraventricular_tachycardia", "pause",
    "av_block_2_to_1", "idioventricular_rhythm", "dropped_beat", "ventricular_couplet", "ventricular_bigeminy",
    "supraventricular_run", "ventricular_trigeminy", "supraventricular_couplet", "supraventricular_bigeminy",
    "bradycardia", "tachycardia", "isolated_ventricular", "supraventricular_trigeminy", "isolated_supraventricular",
)
"""Region kinds in the order their strips are chosen for the report (most urgent first)."""
ALWAYS_TALLIED = ("ventricular_flutter_fibrillation", "ventricular_tachycardia", "atrial_fibrillation",
                  "supraventricular_tachycardia", "pause")
"""Kinds the event tally names even when none was found, as a Holter report states its negative findings."""
BEAT_LABEL_KEY = ("Beat labels on the strips: N normal, S supraventricular ectopic, V ventricular ectopic, F fusion, "
                  "Q unclassifiable")
PACED_KEY = ", P paced (the stated pacemaker's; counted as Q)"
"""The key's paced label, given only when a beat is labelled paced (a clinical read, session 48, found it beside a
note that paced beats are not classified as such)."""
BLOCKED_P_KEY = ", p non-conducted P wave (AV block)"
"""The key's label for a blocked P wave (:data:`app.strips.BLOCKED_P_LABEL`), given when the record has AV block."""
DISCLAIMER = "Research and review use only. Not a medical device: findings must be confirmed by a qualified reader."
NOT_ASSESSED = "Not assessed: Mobitz type, complete AV block; the PR interval is the median beat's, not beat by beat."
"""The footer's statement of what the report never looks for, so that its silence is not read as normal conduction (a
clinical read, session 54: 108, 228 and 232 have first-degree AV block, which the report did not mention; the PR
interval is measured since session 59, :mod:`pipeline.pr`)."""


def format_number(value: float, digits: int = 0, unit: str = "") -> str:
    """A figure with its unit, or ``n/a`` when it is NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}{unit}"


def format_percent(value: float, digits: int) -> str:
    """A share in % (:func:`pipeline.wording.format_share`: 0 and 100 only when exact), or ``n/a`` when it is NaN."""
    return "n/a" if value is None or not math.isfinite(value) else f"{format_share(value, digits)} %"


LEAD_PROBLEM_MIN_PCT = 1.0
"""A lead noisy, flat, clipped or missing for at least this share of the record is named beside the readable share
(:func:`describe_lead_problems`)."""


def describe_lead_problems(analysis: RecordAnalysis) -> str:
    """``" (MLII noisy or unusable 5.6 %, V1 2.3 %)"``: each lead's share of the record under a quality span
    (:func:`pipeline.quality.summarize_quality`), where one reaches :data:`LEAD_PROBLEM_MIN_PCT`; empty otherwise. The
    readable share counts the time every lead is unreadable, so a record noisy on one lead at a time read 98.7 %
    readable (MIT-BIH 105, a clinical read of session 58: the reference marks about 14 % of it noisy), beside events
    "with noise flagged on MLII" that said more."""
    record = analysis.record
    shares = [(record.lead_names[q.lead], 100 * (1 - q.usable_fraction)) for q in summarize_quality(
        list(analysis.quality_spans), record.n_samples, record.fs_hz, record.signal_mv.shape[1])]
    if not any(share >= LEAD_PROBLEM_MIN_PCT for _, share in shares):
        return ""
    (first, share), *others = [(name, share) for name, share in shares if share > 0]
    return (f" ({first} noisy or unusable {format_percent(share, 1)}"
            + "".join(f", {name} {format_percent(share, 1)}" for name, share in others) + ")")


EVERY_EPISODE_KINDS = ("ventricular_flutter_fibrillation", "ventricular_tachycardia")
"""Kinds of which the report shows every episode (up to :data:`MAX_EPISODES_SHOWN`), not only the longest: a clinical
read (session 48) found 205's second flutter/fibrillation episode on no strip, and one of session 57 208's two
ventricular tachycardias counted and one shown, a couplet with a narrow third beat: each is a finding to confirm. The
kinds share :data:`MAX_EPISODES_SHOWN`, each found kind keeping one."""
MAX_EPISODES_SHOWN = 4

PATTERN_KINDS = ("ventricular_bigeminy", "ventricular_trigeminy", "supraventricular_bigeminy",
                 "supraventricular_trigeminy")
"""Episodes of which an ectopic beat is a part rather than isolated (for the choice of a strip)."""


def choose_strip_events(regions: tuple[Region, ...] | list[Region], n_strips: int = MAX_STRIPS,
                        confidence_min: float = STRIP_CONFIDENCE_MIN) -> list[Region]:
    """Up to ``n_strips`` regions to show, one per kind in :data:`EVENT_PRIORITY` order: the longest of each among its
    regions of at least ``confidence_min`` confidence, or of all its regions when none is that sure (the strip's title
    gives the confidence either way); every episode of the kinds in :data:`EVERY_EPISODE_KINDS`. An isolated beat is
    taken outside the bigeminy and trigeminy episodes and atrial fibrillation when there is one (a clinical read of the
    PDF reports, session 47, found the "isolated ventricular" strips of 201 and 223 showing 10 s of their own
    trigeminy and bigeminy; session 48's, 222's taken inside AF)."""
    chosen = []
    patterns = [(r.start, r.stop) for r in regions if r.kind in PATTERN_KINDS + ("atrial_fibrillation",)]
    for kind in EVENT_PRIORITY:
        candidates = [r for r in regions if r.kind == kind]
        if kind.startswith("isolated_"):  # a truly isolated beat, not one of a pattern or in AF, where one is
            alone = [r for r in candidates if not any(a <= r.start and r.stop <= b for a, b in patterns)]
            candidates = alone or candidates
        clear = [r for r in candidates if r.confidence >= confidence_min]
        if kind in EVERY_EPISODE_KINDS:  # every one, the clear ones first; the kinds share MAX_EPISODES_SHOWN, one of
            # each kind found kept (a review of session 57: four of each would leave no strip for AF or a pause)
            shown = sum(r.kind in EVERY_EPISODE_KINDS for r in chosen)
            chosen += sorted(candidates, key=lambda r: (r.confidence >= confidence_min, r.stop - r.start),
                             reverse=True)[:max(MAX_EPISODES_SHOWN - shown, 1)]
        elif candidates:
            chosen.append(max(clear or candidates, key=lambda r: (r.stop - r.start, r.confidence)))
        if len(chosen) >= n_strips:
            break
    return chosen[:n_strips]


def summary_lines(analysis: RecordAnalysis) -> list[str]:
    """The summary block of the report, one line each (wrapped at :data:`SUMMARY_LINE_CHARS`, the continuation
    indented)."""
    s, record, st = analysis.summary, analysis.record, analysis.region_settings.st
    start = record.start_time
    paced = bool(np.any(find_paced_beats_left(analysis.predictions, analysis.classes)))
    counts = ", ".join(f"{c} {n}" + (", the paced beats among them" if c == "Q" and paced else "")
                       for c, n in zip(AAMI_CLASSES, s.beat_counts))  # Q alone reads "unclassifiable" (QA, session 50)
    spike_note = describe_pacing_spikes(s.pacing_spike_share)  # under the rhythm, not among the notes (session 56)
    fastest_doubts = (describe_doubtful_run(analysis, s.fastest_ventricular_run_time_s, VENTRICULAR_RUN_KINDS),
                      describe_doubtful_run(analysis, s.fastest_supraventricular_run_time_s, SUPRAVENTRICULAR_RUN_KINDS))
    lines = [
        f"Duration {format_duration(s.duration_s)}{'' if start is None else f' from {start:%H:%M:%S}'}   leads "
        f"{', '.join(record.lead_names)}"
        f"{f' (+{len(record.unused_leads)} not analysed)' if record.unused_leads else ''}   "
        f"readable signal {format_percent(100 * s.readable_fraction, 1)}{describe_lead_problems(analysis)}",
        f"Predominant rhythm: {s.predominant_rhythm.describe()}",
        *([f"Main findings: {findings}"] if (findings := describe_main_findings(analysis)) else []),
        *(f"PACEMAKER? {note[0].upper()}{note[1:]}" for note in s.notes if note == spike_note),
        f"Heart rate (bpm, 1-minute averages): min {format_number(s.heart_rate_min_bpm)}"
        f"{format_at(s.heart_rate_min_time_s, start)}, mean "
        f"{format_number(s.heart_rate_mean_bpm)}, max {format_number(s.heart_rate_max_bpm)}"
        f"{format_at(s.heart_rate_max_time_s, start)}",
        f"Beats: {s.n_beats} ({counts})"
        + (f"; {s.n_beats_unreadable} more in or next to unreadable signal"
           f"{' or in ventricular flutter/fibrillation' if any(r.kind in WAVE_KINDS for r in analysis.regions) else ''}"
           ", not counted" if s.n_beats_unreadable else ""),
        f"Ectopic burden: ventricular {format_percent(s.ventricular_burden_pct, 2)}"
        f"{describe_forms_briefly(s.ventricular_forms)}, supraventricular "
        f"{format_percent(s.supraventricular_burden_pct, 2)}   AF/flutter burden "
        f"{format_percent(s.af_burden_pct, 1)}",
        f"Longest runs: ventricular {describe_longest_run(s.longest_ventricular_run)}"
        f"{format_at(s.longest_ventricular_run_time_s, start)}"
        f"{describe_run_kind(analysis, s.longest_ventricular_run_time_s, VENTRICULAR_RUN_KINDS)}, supraventricular "
        f"{describe_longest_run(s.longest_supraventricular_run)}"
        f"{format_at(s.longest_supraventricular_run_time_s, start)}"
        f"{describe_run_kind(analysis, s.longest_supraventricular_run_time_s, SUPRAVENTRICULAR_RUN_KINDS)}; "
        f"longest RR interval{' between readable beats' if s.readable_fraction < 1 else ''} "
        f"{format_number(s.longest_rr_s, 2, ' s')}{format_at(s.longest_rr_time_s, start)}",
        f"Fastest runs of 3 beats or more: ventricular {format_run_rate(s.fastest_ventricular_run_bpm)}"
        f"{format_at(s.fastest_ventricular_run_time_s, start)}{fastest_doubts[0]}, supraventricular "
        f"{format_run_rate(s.fastest_supraventricular_run_bpm)}"
        f"{format_at(s.fastest_supraventricular_run_time_s, start)}{fastest_doubts[1]}",
        f"HRV (normal-to-normal intervals{describe_nn_share(s)}"
        f"{', outside atrial fibrillation' if s.hrv.af_left_out_s else ''}): SDNN "
        f"{format_number(s.hrv.sdnn_ms, 0, ' ms')}, RMSSD {format_number(s.hrv.rmssd_ms, 0, ' ms')}, pNN50 "
        f"{format_number(s.hrv.pnn50_pct, 1, ' %')}, LF {format_number(s.hrv.lf_ms2, 0, ' ms²')}, HF "
        f"{format_number(s.hrv.hf_ms2, 0, ' ms²')}, LF/HF {format_number(s.hrv.lf_hf_ratio, 2)}, Poincare SD1 "
        f"{format_number(s.hrv.sd1_ms, 0, ' ms')}, SD2 {format_number(s.hrv.sd2_ms, 0, ' ms')}, triangular index "
        f"{format_number(s.hrv.triangular_index, 1)}, deceleration capacity "
        f"{format_number(s.hrv.deceleration_capacity_ms, 1, ' ms')}",
        f"ST segment (J+{st.st_offset_ms:g} ms, change from {describe_reference(st)}; {st.threshold_mv:g} mV for "
        f"{st.min_duration_s / 60:g} min): {describe_st(s.st) if s.st.assessed else 'not assessed (see the note)'}",
        f"QT interval: {describe_qt(s.qt) if s.qt.assessed else 'not assessed (see the note)'}"
        f"{format_at(s.qt.longest_qtc()[1], start) if s.qt.assessed and is_steady_qt(s.qt) else ''}",
        f"PR interval: {describe_pr(s.pr)}",
        f"Heart-rate turbulence: {describe_hrt(s.hrt) if s.hrt.assessed else describe_hrt_absence(s.hrt)}"
        f"{'; ' + span if (span := describe_hrt_span(s.hrt, s.duration_s)) else ''}",
        f"Model: {analysis.model_source}",
    ]
    reviewed = int(analysis.reviewed_mask.sum())
    if reviewed:
        lines.append(f"Reviewed: {count_noun(reviewed, 'beat label')} corrected by the reader; counts, events and "
                     "strips use them")
    if described := describe_beat_edits(analysis.beat_edits, analysis.record.fs_hz):
        lines.append(described)
    if analysis.af_edits:
        lines.append(describe_af_edits(analysis.af_edits, analysis.record.fs_hz))
    elif not reviewed and not analysis.conclusion and not described:  # said, so that an automatic analysis is not
        # taken for a read one
        lines.append("Review: none yet (no beat label corrected, no conclusion written): the automatic analysis")
    if analysis.diary:
        lines.append(f"Patient diary: {summarize_findings(diary_findings(analysis))} (diary page)")
    lines += [f"Note: {note}" for note in s.notes if note != spike_note]
    if analysis.predictions.reason:
        lines.append(f"Note: {analysis.predictions.reason}")
    return [part for line in lines for part in textwrap.wrap(line, SUMMARY_LINE_CHARS, subsequent_indent="  ")]


def describe_nn_share(summary) -> str:
    """``", 6.2 min, 21 % of the readable time"``: how much of the record the HRV figures come from (the
    normal-to-normal intervals kept), then, under 18 hours of them, that the figures are short-term
    (:func:`pipeline.hrv.describe_hrv_span`); empty when HRV was not assessed. A clinical read (session 47) found HRV printed
    for 232, where the intervals between two normal beats cover a fifth of the record, as if it described it all."""
    readable_s = summary.readable_s
    if not summary.hrv.assessed or not readable_s > 0:
        return ""
    span = describe_hrv_span(summary.hrv.nn_total_s)
    return (f", {summary.hrv.nn_total_s / 60:.1f} min, "
            f"{format_number(100 * summary.hrv.nn_total_s / readable_s, 0, ' %')} of the readable time"
            + (f"; {span}" if span else ""))


def describe_forms_briefly(forms) -> str:
    """`` (multiform)`` or `` (uniform)`` after the ventricular burden (:class:`pipeline.families.VentricularForms`;
    the number of shapes is in the summary JSON and the dashboard, the report's line being full); empty otherwise."""
    return f" ({forms.name})" if forms.name in ("uniform", "multiform") else ""


def event_lines(analysis: RecordAnalysis) -> list[str]:
    """Count and total time (readable, "total hh:mm:ss", so that it is not read as a time of day as the heart-rate
    line's times are; none for isolated beats and couplets, which are counted, not timed)
    of each event kind present, the most urgent kinds first (:data:`EVENT_PRIORITY`) and unreadable signal last, with
    :func:`describe_tally_detail` (the page's footer gives the thresholds); then the kinds of :data:`ALWAYS_TALLIED`
    not found. Wrapped at :data:`EVENT_LINE_CHARS`, the continuations indented."""
    order = {kind: k for k, kind in enumerate(EVENT_PRIORITY)}
    present = sorted((t for t in analysis.summary.events if t.count > 0),
                     key=lambda t: order.get(t.kind, len(order) + (t.kind == "unreadable")))
    absent = [kind for kind in ALWAYS_TALLIED if not any(t.kind == kind for t in present)]
    unassessed = find_unassessed_kinds(analysis, absent)
    hidden = find_hidden_ventricular_runs(analysis)  # runs called V in unreadable signal: not "none" but unseen
    none_found = [f"{heading}: {', '.join(describe_kind(kind) for kind in kinds)}{reason}"
                  for heading, kinds, reason in (("none found in readable signal" if hidden else "none found",
                                                  [k for k in absent if k not in unassessed], ""),
                                                 ("not assessed", unassessed, describe_unassessed(analysis)))
                  if kinds]
    lines = [f"{describe_kind(t.kind)}: {t.count}"
             + (f" (total {format_duration(t.total_s)}{describe_time_share(t, analysis)})"
                if t.total_s >= 0.5 and not is_counted_not_timed(t.kind) and t.kind not in LENGTH_KINDS else "")
             + describe_tally_detail(t.kind, analysis)
             for t in present] or ["No events flagged."]  # its negative findings wrapped too (122's ran off the page)
    lines = lines[:MAX_EVENT_ROWS] + ([f"... and {len(lines) - MAX_EVENT_ROWS} more kinds"]
                                     if len(lines) > MAX_EVENT_ROWS else []) + none_found
    return [part for line in lines for part in textwrap.wrap(line, EVENT_LINE_CHARS, subsequent_indent="  ")]


def describe_time_share(tally, analysis: RecordAnalysis) -> str:
    """``", 51 % of the readable time"`` after a bradycardia or tachycardia total: a clinical read of session 57 found
    record 123 (sinus rhythm at a mean of 50 bpm) reported with "bradycardia: 45", stretches that come and go at the
    limit, where the share says what the count does not; empty for other kinds."""
    readable_s = analysis.summary.readable_s
    if tally.kind not in RATE_KINDS or not readable_s > 0:
        return ""
    return f", {format_share(100 * min(tally.total_s / readable_s, 1.0), 0)} % of the readable time"


def find_unassessed_kinds(analysis: RecordAnalysis, kinds: list[str]) -> list[str]:
    """Those of ``kinds`` the record did not allow to look for: with no beat found, every kind found from the beats
    (flutter/fibrillation is found from the signal); atrial fibrillation/flutter where too few RR intervals were usable
    (the summary's AF burden is then NaN). A QA pass of session 51 read "none found: ..., atrial fibrillation/flutter"
    on 20 s of atrial fibrillation whose notes said it could not be assessed, and the whole list on records of noise."""
    no_beats = analysis.summary.n_beats == 0
    return [kind for kind in kinds if (no_beats and kind not in WAVE_KINDS)
            or (kind == "atrial_fibrillation" and not math.isfinite(analysis.summary.af_burden_pct))]


def describe_unassessed(analysis: RecordAnalysis) -> str:
    """Why the kinds of :func:`find_unassessed_kinds` were not assessed, for the tally's line."""
    return " (no beats found)" if analysis.summary.n_beats == 0 else " (too few usable RR intervals)"


def describe_tally_detail(kind: str, analysis: RecordAnalysis) -> str:
    """What a kind's tally adds to its count: for ventricular tachycardia, how many of the episodes lasted
    :data:`pipeline.regions.SUSTAINED_VT_MIN_S` or more (sustained; the others are non-sustained); for isolated
    ectopic beats, how many are the ectopic beats of a bigeminy or trigeminy episode; for bradycardia and
    tachycardia, the slowest or fastest stretch's rate (the summary's heart rates are 1-minute averages: a clinical
    read, session 47, found "min 53 bpm" beside 33-bpm bradycardia strips with nothing to square them; a stretch's mean,
    and said to be, since a 113-bpm "fastest" beside a 115-bpm 1-minute maximum read as a contradiction, session 53)
    and how many lay in atrial fibrillation/flutter (:func:`pipeline.regions.is_in_af`: its ventricular response); for
    pauses, the longest and how many lasted :data:`LONG_PAUSE_S` or more (a clinical read, session 53: 201's "pause:
    16 (total 00:00:36)" hid that 14 were 2.0-2.3 s and two 3.7 s at the end of AF); empty for other kinds; then, for
    the kinds of :data:`NOISE_TALLIED_KINDS`, how many lay in noise on one lead (:func:`describe_noisy_events`), and
    how many have beats closer than any heart's (:func:`describe_refractory_events`)."""
    return (describe_kind_detail(kind, analysis) + describe_noisy_events(kind, analysis)
            + describe_refractory_events(kind, analysis))


def describe_refractory_events(kind: str, analysis: RecordAnalysis) -> str:
    """``", 1 with beats under 200 ms apart (artefact?)"`` after a tally of :data:`NOISE_TALLIED_KINDS`: how many of
    its events have an interval no heart makes (:func:`pipeline.regions.is_within_refractory`); empty when none. The
    strips and the event list marked such figures since session 58 (105's couplet at 366 bpm, 200's supraventricular
    couplet at 360 bpm), and a second read that session found page 1's tallies counting them unmarked."""
    if kind not in NOISE_TALLIED_KINDS:
        return ""
    n = sum(is_within_refractory(r) for r in analysis.regions if r.kind == kind)
    return f", {n} with beats under {MIN_BEAT_INTERVAL_MS:.0f} ms apart (artefact?)" if n else ""


NOISE_TALLIED_KINDS = ("ventricular_flutter_fibrillation", "ventricular_tachycardia", "idioventricular_rhythm",
                       "ventricular_couplet", "supraventricular_tachycardia", "supraventricular_run",
                       "supraventricular_couplet", "pause", "dropped_beat", "av_block_2_to_1", "isolated_ventricular",
                       "isolated_supraventricular")
"""Event kinds whose tally says how many lay in noise on one lead (:func:`describe_noisy_events`)."""


def describe_noisy_events(kind: str, analysis: RecordAnalysis) -> str:
    """``", 6 with noise flagged on MLII"`` (``"on MLII or V1"``, the leads differing) after a tally of
    :data:`NOISE_TALLIED_KINDS`: how many of its events lie where a lead is noisy
    (:func:`app.analysis.noisy_lead_names`). A clinical read (session 54) found MIT-BIH 105's seven ventricular
    tachycardias false, five of them inside noise on MLII, with nothing on the report to say so; on DS2 end to end, 20
    of the 31 ventricular couplets, tachycardias and idioventricular rhythms so marked are false, against 8 of the 114
    unmarked (`experiments/noisy_lead_events.py`), a third of the marked ones real, hence "flagged"; empty when none."""
    if kind not in NOISE_TALLIED_KINDS:
        return ""
    noisy = [names for names in noisy_lead_names(analysis, [r for r in analysis.regions if r.kind == kind]) if names]
    if not noisy:
        return ""
    leads = sorted({lead for names in noisy for lead in names}, key=analysis.record.lead_names.index)
    return f", {len(noisy)} with noise flagged on {' or '.join(leads)}"  # flagged: a third of them are real events


def describe_kind_detail(kind: str, analysis: RecordAnalysis) -> str:
    """What :func:`describe_tally_detail` says of the kind itself (the noise apart)."""
    fs, regions = analysis.record.fs_hz, analysis.regions
    if kind == "unreadable":
        hidden = find_hidden_ventricular_runs(analysis)
        return (f", {len(hidden)} with {MIN_HIDDEN_RUN_BEATS} or more beats called V in a row (not counted: check "
                f"{'the strip' if len(hidden) == 1 else 'them, the longest on a strip'})" if hidden else "")
    if kind == "pause":
        pauses = [r for r in regions if r.kind == kind and measure_length_s(r) > 0]
        if not pauses:
            return ""
        lengths = [measure_length_s(r) for r in pauses]
        long = sum(length >= LONG_PAUSE_S for length in lengths)
        af = region_intervals(regions, "atrial_fibrillation")
        at_end = sum(place_pause(r, af, fs) == "at the end of" for r in pauses)
        ends = f", {describe_share(at_end, len(lengths))} at the end of atrial fibrillation/flutter" if at_end else ""
        lasting = f"{describe_share(long, len(lengths))} lasting {LONG_PAUSE_S:g} s or more"
        return f"{ends}, longest {max(lengths):.2f} s, {lasting}"  # "all at the end" read as of the long ones, last
    if kind in ("isolated_ventricular", "isolated_supraventricular"):  # a clinical read (session 54) took 228's
        origin = kind.removeprefix("isolated_")  # "isolated ventricular: 360" for PVCs besides its 20 bigeminies
        patterns = [r for r in regions if r.kind in (f"{origin}_bigeminy", f"{origin}_trigeminy")]
        holding = [{p.kind.removeprefix(f"{origin}_") for p in patterns if p.start <= r.start and r.stop <= p.stop}
                   for r in regions if r.kind == kind]  # per isolated beat, the patterns it is part of
        inside, kinds = sum(map(bool, holding)), set().union(*holding)
        where = "bi-/trigeminy" if len(kinds) == 2 else "".join(kinds)  # short: the tally's column is narrow
        return f", {describe_share(inside, len(holding))} in {where}" if inside else ""
    if kind == "ventricular_tachycardia":
        n, sustained = count_all(regions, kind, lambda r: r.duration_s(fs) >= SUSTAINED_VT_MIN_S)
        return f", {describe_share(sustained, n)} sustained"
    if kind == "idioventricular_rhythm":  # the strips name each "accelerated" or not (session 48's clinical read)
        n, accelerated = count_all(regions, kind, lambda r: r.heart_rate_bpm >= ACCELERATED_IVR_MIN_BPM)
        return f", {describe_share(accelerated, n)} accelerated"
    if kind in RATE_KINDS:
        rates = [r.heart_rate_bpm for r in regions if r.kind == kind and math.isfinite(r.heart_rate_bpm)]
        extreme = (f", {'slowest' if kind == 'bradycardia' else 'fastest'} stretch "
                   f"{(min if kind == 'bradycardia' else max)(rates):.0f} bpm (its mean)" if rates else "")
        af = region_intervals(regions, "atrial_fibrillation")
        n, in_af = count_all(regions, kind, lambda r: is_in_af(r, af))
        return extreme + (f", {describe_share(in_af, n)} in AF/flutter" if in_af else "")
    return ""


def count_all(regions, kind: str, condition) -> tuple[int, int]:
    """How many regions are of ``kind``, and how many of them meet ``condition``."""
    of_kind = [r for r in regions if r.kind == kind]
    return len(of_kind), sum(bool(condition(r)) for r in of_kind)


def describe_share(k: int, n: int) -> str:
    """``"none"``, ``"all"`` or the number, of ``n``: "0 sustained" wrapped as "0 / sustained" (a clinical read,
    session 48).

    >>> describe_share(0, 2), describe_share(2, 2), describe_share(1, 2)
    ('none', 'all', '1')
    """
    return "none" if k == 0 else "all" if k == n else str(k)


def split_columns(lines: list[str], columns: int) -> list[list[str]]:
    """``lines`` in ``columns`` about equal chunks, no chunk opening with a wrapped line's continuation (indented):
    record 119's "none found: ..." list, wrapped, put "ventricular tachycardia, atrial fibrillation/flutter" at the top
    of the second column without its head, where it read as found (a clinical read of the PDF reports, session 47).

    >>> split_columns(["a: 1", "b: 2", "none found: x,", "  y, z"], 2)
    [['a: 1', 'b: 2'], ['none found: x,', '  y, z']]
    >>> split_columns(["a: 1", "none found: x,", "  y,", "  z"], 2)
    [['a: 1'], ['none found: x,', '  y,', '  z']]
    """
    per_column = math.ceil(len(lines) / columns)
    chunks, start = [], 0
    for k in range(columns):
        stop = len(lines) if k == columns - 1 else min((k + 1) * per_column, len(lines))
        while start < stop < len(lines) and lines[stop].startswith(" "):
            stop -= 1  # keep a wrapped line with its head
        chunks.append(lines[start:stop])
        start = stop
    return chunks


def draw_text_block(ax, title: str, lines: list[str], fontsize: float = 8.0, columns: int = 1) -> None:
    """A bold title and monospaced lines, split into ``columns`` side by side (:func:`split_columns`)."""
    ax.axis("off")
    ax.text(0, 1, title, fontsize=10, fontweight="bold", va="top", transform=ax.transAxes)
    for k, chunk in enumerate(split_columns(lines, columns)):
        ax.annotate("\n".join(chunk), (k / columns, 1), xycoords="axes fraction", xytext=(0, -TEXT_OFFSET_PT),
                    textcoords="offset points", fontsize=fontsize, va="top", family="monospace",
                    linespacing=TEXT_LINE_SPACING)


def family_template_rows(analysis: RecordAnalysis) -> list[dict]:
    """The morphology families the rhythm page shows (number, beats and beats per class, current labels): the
    :data:`MAX_FAMILIES` largest, then the largest mostly called V and the largest mostly called S when those are not
    among them (a clinical read, session 48, found 203's four largest families all N, so that none of its 441 V beats'
    shapes was shown)."""
    rows = [row for row in family_rows(analysis) if row["family"] != UNGROUPED]
    shown = rows[:MAX_FAMILIES]
    for name in ("V", "S"):
        mostly = next((row for row in rows if 2 * row[name] > row["n_beats"]), None)
        if mostly is not None and mostly not in shown:
            shown.append(mostly)
    return shown


def draw_family_templates(figure: Figure, cell, analysis: RecordAnalysis) -> None:
    """Median beat (primary lead, +-:data:`TEMPLATE_HALF_S`) of each family :func:`family_template_rows` chooses,
    side by side on one millivolt scale (each panel on its own made a small beat look as tall as a large one)."""
    rows = family_template_rows(analysis)
    record = analysis.record
    cells = cell.subgridspec(1, MAX_FAMILIES + 2, wspace=0.3)
    half, offsets_ms = window_offsets(TEMPLATE_HALF_S, record.fs_hz)
    lead = record.signal_mv[:, record.primary_lead]
    medians = []
    for row in rows:
        windows = beat_windows(lead, analysis.predictions.samples[analysis.families == row["family"]], half,
                               TEMPLATE_BEATS)
        medians.append(median_beat(windows) if len(windows) else None)
    drawn = [m for m in medians if m is not None and np.any(np.isfinite(m))]
    low = min((float(np.nanmin(m)) for m in drawn), default=-1.0)
    high = max((float(np.nanmax(m)) for m in drawn), default=1.0)
    margin = 0.1 * max(high - low, 0.5)
    for k, (row, median) in enumerate(zip(rows, medians)):
        ax = figure.add_subplot(cells[k])
        if median is not None:
            ax.plot(offsets_ms, median, color="black", linewidth=0.8)
        ax.set_ylim(low - margin, high + margin)
        classes = ", ".join(f"{c} {row[c]}" for c in AAMI_CLASSES if row[c])
        title = f"Family {row['family']}: {count_beats(row['n_beats'])}\n({classes})"
        ax.set_title(("Beat families (median beat, " + record.primary_lead_name + ", mV; the largest, then the "
                      "largest mostly V or S; every detected beat, those in unreadable signal too)\n" if k == 0
                      else "\n") + title, fontsize=7, loc="left")
        ax.tick_params(labelsize=6)
        if k:
            ax.tick_params(labelleft=False)  # one scale: its values once, on the left
        ax.set_xticks([-200, 0, 200])
        ax.set_xlabel("ms", fontsize=6)
        ax.grid(True, color="#f4b6b6", linewidth=0.4)


def format_run_rate(rate_bpm: float) -> str:
    """A fastest run's rate, ``"none"`` when the record has no run of 3 beats or more (it read "n/a").

    >>> format_run_rate(float("nan")), format_run_rate(146.4)
    ('none', '146 bpm')
    """
    return format_number(rate_bpm, 0, " bpm") if math.isfinite(rate_bpm) else "none"


def describe_longest_run(n_beats: int) -> str:
    """The longest group of consecutive ectopic beats: ``"4 beats"``, ``"2 beats (a couplet)"`` (a run is 3 or more);
    ``"none"`` when no two came in a row (a single beat is not a run)."""
    return "none" if n_beats < 2 else count_beats(n_beats) + (" (a couplet)" if n_beats == 2 else "")


def hidden_run_strip(analysis: RecordAnalysis) -> Strip | None:
    """The strip of the unreadable stretch holding the longest run of beats called V
    (:func:`app.analysis.find_hidden_ventricular_runs`), for the reader to check for a tachycardia the noise rule hid;
    None when there is none."""
    hidden = find_hidden_ventricular_runs(analysis)
    if not hidden:
        return None
    region, longest = max(hidden, key=lambda pair: (pair[1], pair[0].n_beats))
    fs, start = analysis.record.fs_hz, analysis.record.start_time
    at = format_at(region.start / fs, start)
    return Strip(strip_start_s(region, fs, analysis.record.duration_s),
                 f"unreadable signal{at} with {longest} beats called V in a row: check for a ventricular run "
                 "(not counted)", (region.start / fs, region.stop / fs), name=f"unreadable signal{at}")


def reference_strips(analysis: RecordAnalysis) -> list[Strip]:
    """The strips of the lowest and highest 1-minute heart rate (the middle of that minute) and of the longest
    RR interval (placed as an event's, :func:`show_stretch_s`), those that the summary could measure."""
    s, start = analysis.summary, analysis.record.start_time
    strips = []
    for label, rate, at in (("Lowest", s.heart_rate_min_bpm, s.heart_rate_min_time_s),
                            ("Highest", s.heart_rate_max_bpm, s.heart_rate_max_time_s)):
        if math.isfinite(rate) and math.isfinite(at):
            strips.append(Strip(at + 30.0 - STRIP_S / 2, f"{label} heart rate: {rate:.0f} bpm, 1-minute average "
                                f"from {format_clock(at)}{format_clock_suffix(at, start)} (its middle {STRIP_S:g} s)",
                                name=f"{label.lower()} 1-minute heart rate ({rate:.0f} bpm)"))
    if math.isfinite(s.longest_rr_s) and math.isfinite(s.longest_rr_time_s):
        strips.append(Strip(show_stretch_s(s.longest_rr_time_s, s.longest_rr_time_s + s.longest_rr_s, PAUSE_MARGIN_S),
                            f"Longest RR interval: {s.longest_rr_s:.2f} s from "
                            f"{format_clock(s.longest_rr_time_s)}{format_clock_suffix(s.longest_rr_time_s, start)}",
                            (s.longest_rr_time_s, s.longest_rr_time_s + s.longest_rr_s),
                            name=f"the longest RR interval ({s.longest_rr_s:.2f} s"
                                 f"{format_at(s.longest_rr_time_s, start)})"))
    return strips


def plan_strips(analysis: RecordAnalysis) -> tuple[list[Strip], list[Strip]]:
    """The strips of page 1 (the most urgent events', as many as fit: :func:`count_first_page_strips`) and of the
    strip pages (those that did not fit, each followed by its episode's end strip, :func:`end_strip`; the ends of page
    1's episodes; the heart-rate and RR strips; further events', each with its end), none repeating another
    (:func:`merge_repeated_strips`: a repeat's name joins the title of the strip that shows it)."""
    fs = analysis.record.fs_hz
    events = choose_strip_events(analysis.regions, MAX_STRIPS + MAX_MORE_STRIPS)
    start, duration_s = analysis.record.start_time, analysis.record.duration_s
    strips = [event_strip(r, fs, start, analysis.regions, duration_s, noisy)
              for r, noisy in zip(events, noisy_lead_names(analysis, events))]
    hidden = hidden_run_strip(analysis)
    if hidden is not None:  # after the flutter/fibrillation and tachycardia strips, as urgent as a tachycardia
        at = sum(r.kind in ("ventricular_flutter_fibrillation", "ventricular_tachycardia") for r in events)
        events, strips = events[:at] + [None] + events[at:], strips[:at] + [hidden] + strips[at:]
    ends = [None if r is None else end_strip(r, strip, fs, start, analysis.regions, duration_s)
            for r, strip in zip(events, strips)]
    later = [strip for pair in zip(strips[MAX_STRIPS:], ends[MAX_STRIPS:]) for strip in pair if strip is not None]
    head = merge_repeated_strips(strips[:MAX_STRIPS]) or [Strip(0.0, "No event flagged: first seconds of the record")]
    fitting = count_first_page_strips(analysis, len(head))  # a long summary moves strips to the strip page
    head_ends = [end for end in ends[:MAX_STRIPS] if end is not None]
    moved = []
    for strip in (head[fitting:] if events else []):  # each moved strip followed by its episode's end
        moved.append(strip)
        moved += [end for end in head_ends if strip.shaded is not None and end.shaded[1] == strip.shaded[1]]
    kept_ends = [end for end in head_ends if not any(end is m for m in moved)]
    merged = merge_repeated_strips(head[:fitting] + moved + kept_ends + reference_strips(analysis) + later)
    return merged[:fitting], merged[fitting:]


def render_pdf_report(analysis: RecordAnalysis) -> bytes:
    """The report as PDF bytes (module docstring); page 2 only when there is a strip to put on it."""
    first, more = plan_strips(analysis)
    buffer = io.BytesIO()
    chosen = chosen_strips(analysis)
    gain = report_gain_mm_per_mv(analysis.record, first + more + chosen + diary_strips(analysis))
    with PdfPages(buffer, metadata={"CreationDate": None, "Creator": "ecg-arrhythmia"}) as pages:
        pages.savefig(draw_first_page(analysis, first, gain))
        per_page = reader_strips_per_page(analysis.record)
        for k in range(0, len(chosen), per_page):
            pages.savefig(draw_chosen_strip_page(analysis, chosen[k:k + per_page], k + 1, len(chosen),
                                                 gain))
        for k, page in enumerate(split_strip_pages(more, has_trend(analysis), len(strip_leads(analysis.record)))):
            pages.savefig(draw_strip_page(analysis, page, with_trend=k == 0, gain_mm_per_mv=gain))
        if analysis.summary.duration_s > HOUR_S:  # a record started at 10:45 has two clock hours in 30 minutes
            pages.savefig(draw_hourly_page(analysis))
        points, total = lorenz_points(analysis)
        if total >= MIN_RHYTHM_PAGE_BEATS:
            pages.savefig(draw_rhythm_page(analysis, points, total))
        if analysis.summary.st.episodes:
            pages.savefig(draw_st_page(analysis))
        if analysis.diary:
            pages.savefig(draw_diary_page(analysis, gain))
    return buffer.getvalue()


def chosen_strips(analysis: RecordAnalysis) -> list[Strip]:
    """The strips the reader chose, each titled with the reader's title and its time."""
    fs, start = analysis.record.fs_hz, analysis.record.start_time
    return [Strip(s.start / fs, f"{s.title or 'Chosen by the reader'} ({format_clock(s.start / fs)}"
                                f"{format_clock_suffix(s.start / fs, start)})")
            for s in analysis.reader_strips]


def reader_strips_per_page(record) -> int:
    """How many of the reader's strips a page holds: :data:`READER_STRIPS_PER_PAGE` of one lead, fewer of two
    (:func:`app.strips.strip_leads`)."""
    return min(READER_STRIPS_PER_PAGE, fit_strips(PAGE_TOP_MM, n_leads=len(strip_leads(record))))


def draw_chosen_strip_page(analysis: RecordAnalysis, strips: list[Strip], first: int, total: int,
                           gain_mm_per_mv: float | None = None) -> Figure:
    """A page of the strips the reader chose, :func:`reader_strips_per_page` at most, top to bottom; ``first`` is
    the number of its first strip among ``total``."""
    figure = Figure(figsize=A4_PORTRAIT_IN)
    FigureCanvasPdf(figure)
    last = first + len(strips) - 1
    numbers = f"{first}-{last} of {total}" if total > len(strips) else f"{total}"
    figure.suptitle(f"Record {analysis.record.name}: strips chosen by the reader ({numbers})", fontsize=11,
                    fontweight="bold", x=0.08, ha="left")
    draw_strip_column(figure, analysis, strips, PAGE_TOP_MM, gain_mm_per_mv)
    return figure


def diary_lines(analysis: RecordAnalysis) -> list[str]:
    """Each diary entry's lines: its time (and clock time when the header gives the start) and what the patient
    noted, then what the ECG showed; the entries that fit in :data:`MAX_DIARY_LINES`, then how many more there are
    (the CSV and JSON hold them all)."""
    record = analysis.record
    lines: list[str] = []
    findings = diary_findings(analysis)
    for shown, finding in enumerate(findings):
        at = format_clock(finding.entry.time_s)
        clock = format_clock_time(finding.entry.time_s, record.start_time)
        entry = textwrap.wrap(f"{at}{f' ({clock})' if clock else ''}  {finding.entry.text}", DIARY_LINE_CHARS,
                              subsequent_indent="    ")
        described = describe_finding(finding, record.fs_hz, start_time=record.start_time)
        entry += textwrap.wrap(described, DIARY_LINE_CHARS, initial_indent="    ",
                               subsequent_indent="      ")
        if len(lines) + len(entry) > MAX_DIARY_LINES - (shown < len(findings) - 1):
            lines.append(f"... and {len(findings) - shown} more entries (NAME_diary.csv, summary JSON)")
            break
        lines += entry
    return lines


def diary_strips(analysis: RecordAnalysis) -> list[Strip]:
    """Strips of the first :data:`MAX_DIARY_STRIPS` diary entries, each entry's time marked: centred on it and the
    nearest event the diary page lists for it, shaded, when both fit in a strip, else centred on the entry with the part
    of that event it shows shaded (clinical reads, session 48, found an entry's strip cutting off the pause its line
    named, and a listed trigeminy filling a strip unshaded)."""
    start, fs = analysis.record.start_time, analysis.record.fs_hz
    strips = []
    for finding in diary_findings(analysis)[:MAX_DIARY_STRIPS]:
        entry = finding.entry
        strip = Strip(entry.time_s - STRIP_S / 2, f"Diary {format_clock(entry.time_s)}"
                      f"{format_clock_suffix(entry.time_s, start)}: {textwrap.shorten(entry.text, 90)}",
                      marker_s=entry.time_s)
        if finding.regions:
            nearest = finding.regions[0]
            event = (nearest.start / fs, max(nearest.stop / fs, nearest.start / fs + MIN_SHADE_S))
            low, high = min(entry.time_s, event[0]), max(entry.time_s, event[1])
            if high - low <= STRIP_S - 2 * PAUSE_MARGIN_S:
                strip = replace(strip, start_s=(low + high) / 2 - STRIP_S / 2, shaded=event)
            elif event[0] < strip.start_s + STRIP_S and event[1] > strip.start_s:  # the part of it the strip shows
                strip = replace(strip, shaded=(max(event[0], strip.start_s), min(event[1], strip.start_s + STRIP_S)))
        strips.append(strip)
    return strips


DIARY_FONT_PT = 6.5


def draw_diary_page(analysis: RecordAnalysis, gain_mm_per_mv: float | None = None) -> Figure:
    """The patient's diary: each entry with the rhythm at that time, then strips of the first entries, as many of
    :data:`MAX_DIARY_STRIPS` as fit under the lines."""
    lines = diary_lines(analysis)
    figure = Figure(figsize=A4_PORTRAIT_IN)
    FigureCanvasPdf(figure)
    text_mm = text_block_mm(len(lines), DIARY_FONT_PT)
    figure.suptitle(f"Record {analysis.record.name}: patient diary", fontsize=11, fontweight="bold", x=0.08,
                    ha="left")
    draw_text_block(add_page_axes(figure, PAGE_TOP_MM, text_mm), f"Entries and the ECG within {WINDOW_S / 60:g} minute",
                    lines, fontsize=DIARY_FONT_PT)
    top_mm = PAGE_TOP_MM + text_mm + STRIP_PITCH_MM - STRIP_HEIGHT_MM
    strips = diary_strips(analysis)[:fit_strips(top_mm, n_leads=len(strip_leads(analysis.record)))]
    draw_strip_column(figure, analysis, strips, top_mm, gain_mm_per_mv)
    return figure


def conclusion_lines(analysis: RecordAnalysis) -> list[str]:
    """The reader's conclusion wrapped to the page (its own line breaks kept), :data:`MAX_CONCLUSION_LINES` at
    most (the summary JSON and the annotation file hold it whole); none when there is none."""
    lines = [line for paragraph in analysis.conclusion.splitlines()
             for line in (textwrap.wrap(paragraph, CONCLUSION_LINE_CHARS) or [""])]
    if len(lines) > MAX_CONCLUSION_LINES:
        lines = lines[:MAX_CONCLUSION_LINES - 1] + ["... (the whole text is in the summary JSON and the .ecg file)"]
    return lines


TEXT_OFFSET_PT = 18.0
"""How far below the top of a :func:`draw_text_block` its lines start (the title above them), in points."""
TEXT_LINE_SPACING = 1.3


def text_block_mm(n_lines: int, fontsize: float = 8.0) -> float:
    """Height of a :func:`draw_text_block` of ``n_lines`` lines at ``fontsize`` (its title above them), in mm."""
    return 25.4 / 72.0 * (TEXT_OFFSET_PT + n_lines * fontsize * TEXT_LINE_SPACING)


FIRST_PAGE_TOP_MM = 24.0
"""Where the first page's summary starts, under the report's title and disclaimer."""
BLOCK_GAP_MM = 4.0
"""Space under each text block of the first page."""
FOOTER_LINE_MM = 2.6
"""Height of one line of the first page's 6-pt footer (the event thresholds), which starts 3.5 mm over the foot."""


@dataclass(frozen=True)
class FirstPageLayout:
    """Where the first page's rows start (mm from the top of the page): summary, conclusion, events and the first
    strip's box; and the lowest a strip's box may reach, over the footer."""

    summary_mm: float
    conclusion_mm: float
    events_mm: float
    strips_mm: float
    strips_bottom_mm: float


def lay_out_first_page(text: tuple[list[str], list[str], list[str], str]) -> FirstPageLayout:
    """The first page's rows for its ``text`` (:func:`first_page_text`), each text block as tall as its lines."""
    summary, conclusion, events, footer = text
    top = FIRST_PAGE_TOP_MM
    conclusion_mm = top + text_block_mm(len(summary)) + BLOCK_GAP_MM
    events_mm = conclusion_mm + (text_block_mm(len(conclusion)) + BLOCK_GAP_MM if conclusion else 0.0)
    strips_mm = events_mm + text_block_mm(math.ceil(len(events) / 2)) + STRIP_PITCH_MM - STRIP_HEIGHT_MM
    footer_mm = 3.5 + FOOTER_LINE_MM * (footer.count("\n") + 1)
    return FirstPageLayout(top, conclusion_mm, events_mm, strips_mm,
                           25.4 * A4_PORTRAIT_IN[1] - footer_mm - STRIP_TIMES_MM)


def first_page_text(analysis: RecordAnalysis) -> tuple[list[str], list[str], list[str], str]:
    """The first page's lines: summary, the reader's conclusion (none when not written), events; and its footer."""
    paced = bool(np.any(find_paced_beats_left(analysis.predictions, analysis.classes)))
    blocked = any(r.kind in BLOCKED_KINDS for r in analysis.regions)
    key = BEAT_LABEL_KEY + (PACED_KEY if paced else "") + (BLOCKED_P_KEY if blocked else "") + "."
    footer = textwrap.fill(f"{key} {describe_thresholds(analysis.region_settings)} {NOT_ASSESSED}",
                           THRESHOLD_LINE_CHARS)
    return summary_lines(analysis), conclusion_lines(analysis), event_lines(analysis), footer


def count_first_page_strips(analysis: RecordAnalysis, n_strips: int) -> int:
    """How many of ``n_strips`` fit on the first page under its text, each its printed size
    (:func:`place_strip_box`): a long summary sends the others to the strip page (a QA pass found a 24-h record's seven
    notes leaving its strips about 15 px high)."""
    layout = lay_out_first_page(first_page_text(analysis))
    return min(n_strips, fit_strips(layout.strips_mm, layout.strips_bottom_mm, len(strip_leads(analysis.record))))


def add_page_axes(figure: Figure, top_mm: float, height_mm: float, left: float = 0.08, right: float = 0.97):
    """Axes ``height_mm`` high from ``top_mm`` below the top of the page, between ``left`` and ``right`` (fractions
    of the page's width)."""
    page_mm = 25.4 * figure.get_size_inches()[1]
    return figure.add_axes((left, 1 - (top_mm + height_mm) / page_mm, right - left, height_mm / page_mm))


def draw_first_page(analysis: RecordAnalysis, strips: list[Strip], gain_mm_per_mv: float | None = None) -> Figure:
    """Summary, the reader's conclusion when there is one, events and the strips of the most urgent events (as many
    as :func:`count_first_page_strips` allows: the caller puts the others on the strip page). The beat families are
    on the rhythm page since the strips are printed at their true size (session 48): page 1 holds its strips first."""
    figure = Figure(figsize=A4_PORTRAIT_IN)
    FigureCanvasPdf(figure)
    text = first_page_text(analysis)
    summary, conclusion, events, footer = text
    layout = lay_out_first_page(text)
    figure.suptitle(f"ECG analysis report: record {analysis.record.name}", fontsize=13, fontweight="bold",
                    x=0.08, ha="left")
    figure.text(0.08, 0.94, DISCLAIMER, fontsize=7, color="#555555")
    figure.text(0.08, 0.012, footer, fontsize=6, color="#555555")
    draw_text_block(add_page_axes(figure, layout.summary_mm, text_block_mm(len(summary))), "Summary", summary)
    if conclusion:
        draw_text_block(add_page_axes(figure, layout.conclusion_mm, text_block_mm(len(conclusion))),
                        "Reader's conclusion", conclusion)
    draw_text_block(add_page_axes(figure, layout.events_mm, text_block_mm(math.ceil(len(events) / 2))), "Events",
                    events, columns=2)
    draw_strip_column(figure, analysis, strips, layout.strips_mm, gain_mm_per_mv)
    return figure


def has_trend(analysis: RecordAnalysis) -> bool:
    """Whether the first strip page opens with the heart-rate trend: two trend values or more."""
    return len(analysis.summary.heart_rate_trend_bpm) > 1


def first_strip_top_mm(trend: bool) -> float:
    """Where a strip page's first strip starts: under the page title, or under the heart-rate trend."""
    return PAGE_TOP_MM + (TREND_HEIGHT_MM + STRIP_PITCH_MM - STRIP_HEIGHT_MM if trend else 0.0)


def split_strip_pages(strips: list[Strip], trend: bool, n_leads: int = 1) -> list[list[Strip]]:
    """The strip pages' strips of ``n_leads`` leads: as many as fit under the trend on the first (:func:`fit_strips`),
    then full pages.

    >>> [len(page) for page in split_strip_pages([Strip(0.0, "")] * 13, trend=True)]
    [5, 6, 2]
    >>> [len(page) for page in split_strip_pages([Strip(0.0, "")] * 7, trend=True, n_leads=2)]
    [3, 3, 1]
    """
    first = fit_strips(first_strip_top_mm(trend), n_leads=n_leads)
    pages, rest = [strips[:first]], strips[first:]
    per_page = fit_strips(first_strip_top_mm(False), n_leads=n_leads)
    pages += [rest[k:k + per_page] for k in range(0, len(rest), per_page)]
    return [page for page in pages if page]


def draw_strip_page(analysis: RecordAnalysis, strips: list[Strip], with_trend: bool = True,
                    gain_mm_per_mv: float | None = None) -> Figure:
    """Page 2: the heart-rate trend (when the record has two trend values or more, and ``with_trend``), then
    heart-rate, RR and further event strips, as many as fit (:func:`split_strip_pages`), top to bottom."""
    figure = Figure(figsize=A4_PORTRAIT_IN)
    FigureCanvasPdf(figure)
    trend = with_trend and has_trend(analysis)
    figure.suptitle(f"Record {analysis.record.name}: heart rate and strips", fontsize=11, fontweight="bold", x=0.08,
                    ha="left")
    if trend:
        draw_heart_rate_trend(add_page_axes(figure, PAGE_TOP_MM, TREND_HEIGHT_MM), analysis)
    top_mm = first_strip_top_mm(trend)
    draw_strip_column(figure, analysis, strips, top_mm, gain_mm_per_mv)
    return figure


MIN_TREND_SPAN_BPM = 40.0
"""Least span of the heart-rate trend's axis: a clinical read (session 48) found a 9-bpm drift drawn across the whole
plot, as dramatic as a swing from 60 to 150."""


def draw_heart_rate_trend(ax, analysis: RecordAnalysis) -> None:
    """The trend of the summary (mean rate of each ``trend_window_s``), atrial fibrillation shaded, the lowest and
    highest 1-minute rates marked at their minute."""
    s = analysis.summary
    window_s = s.trend_window_s
    rates = np.asarray(s.heart_rate_trend_bpm, dtype=float)
    hours = np.arange(len(rates) + 1) * window_s / 3600.0
    hours[-1] = max(min(hours[-1], s.duration_s / 3600.0), hours[-2])  # the last window ends with the record
    ax.stairs(rates, hours, color="black", linewidth=0.9, baseline=None)
    for region in analysis.regions:
        if region.kind == "atrial_fibrillation":
            ax.axvspan(region.start / analysis.record.fs_hz / 3600, region.stop / analysis.record.fs_hz / 3600,
                       color="#7b3294", alpha=0.15, linewidth=0)
    for label, rate, at, colour in (("lowest", s.heart_rate_min_bpm, s.heart_rate_min_time_s, "#1f77b4"),
                                    ("highest", s.heart_rate_max_bpm, s.heart_rate_max_time_s, "#d62728")):
        if math.isfinite(rate) and math.isfinite(at):
            ax.plot([(at + 30.0) / 3600.0], [rate], marker="o", markersize=3.5, color=colour, linestyle="none",
                    label=f"{label} 1-minute rate {rate:.0f} bpm")
    set_clock_axis(ax, max(hours[-1], s.duration_s / 3600.0))
    low, high = ax.get_ylim()
    if high - low < MIN_TREND_SPAN_BPM:  # a drift of a few bpm is not drawn as a swing
        middle = (low + high) / 2
        ax.set_ylim(middle - MIN_TREND_SPAN_BPM / 2, middle + MIN_TREND_SPAN_BPM / 2)
    ax.set_ylabel("bpm", fontsize=7)
    ax.tick_params(labelsize=6.5)
    ax.grid(True, color="#dddddd", linewidth=0.4)
    ax.legend(fontsize=6, loc="best", frameon=False)  # not over the marked extremes
    ax.set_title(f"Heart rate: mean of each {window_s / 60:g} minutes"
                 + ("; atrial fibrillation shaded" if any(r.kind == "atrial_fibrillation" for r in analysis.regions)
                    else ""), fontsize=8, loc="left")


def set_clock_axis(ax, end_h: float) -> None:
    """An x axis in hours from 0 to ``end_h``, its ticks labelled as times in the record (hh:mm:ss)."""
    ax.set_xlim(0, end_h)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks)
    ax.set_xticklabels([format_clock(t * 3600.0) for t in ticks])
    ax.set_xlim(0, end_h)


def draw_st_page(analysis: RecordAnalysis) -> Figure:
    """The ST page, when the record has ST episodes: each lead's ST change from its reference level over the record
    (the episodes shaded, the 0.1 mV limits dotted), then the beats of the largest episodes: the record's dominant beat
    and the median beat at the episode's largest change, on its lead, both from their isoelectric level."""
    st_summary = analysis.summary.st
    figure = Figure(figsize=A4_PORTRAIT_IN)
    FigureCanvasPdf(figure)
    leads = [k for k, level in enumerate(st_summary.reference_mv) if math.isfinite(level)]
    episodes = sorted(st_summary.episodes, key=lambda e: -abs(e.deviation_mv))[:MAX_ST_EPISODE_PLOTS]
    ratios = [1.0] * len(leads) + [1.6] * math.ceil(len(episodes) / 2)
    grid = figure.add_gridspec(len(ratios), 2, height_ratios=ratios, left=0.08, right=0.97, top=0.82, bottom=0.05,
                               hspace=0.75, wspace=0.2)
    figure.suptitle(f"Record {analysis.record.name}: ST segment", fontsize=11, fontweight="bold", x=0.08, ha="left")
    text = f"{describe_st(st_summary)}. {describe_method(analysis.region_settings.st)}"
    figure.text(0.08, 0.925, textwrap.fill(text, SUMMARY_LINE_CHARS + 10), fontsize=7, va="top")
    for row, lead in enumerate(leads):
        draw_st_trend(figure.add_subplot(grid[row, :]), analysis, lead)
    for k, episode in enumerate(episodes):
        draw_st_beats(figure.add_subplot(grid[len(leads) + k // 2, k % 2]), analysis, episode)
    return figure


def draw_st_trend(ax, analysis: RecordAnalysis, lead: int) -> None:
    """One lead's ST change from its reference level per window, its episodes shaded."""
    st_summary, duration_s = analysis.summary.st, analysis.summary.duration_s
    deviations = st_summary.deviations_mv(lead)
    hours = np.arange(len(deviations) + 1) * st_summary.window_s / 3600.0
    ax.stairs(deviations, hours, color="black", linewidth=0.8, baseline=None)
    for limit in (-st_summary.threshold_mv, st_summary.threshold_mv):
        ax.axhline(limit, color="#888888", linestyle=":", linewidth=0.7)
    for episode in st_summary.episodes:
        if episode.lead == lead:
            ax.axvspan(episode.start_s / 3600, episode.stop_s / 3600, linewidth=0, alpha=0.2,
                       color="#d62728" if episode.kind == "depression" else "#1f77b4")
    set_clock_axis(ax, duration_s / 3600.0)
    ax.set_ylabel("mV", fontsize=7)
    ax.tick_params(labelsize=6.5)
    ax.grid(True, color="#dddddd", linewidth=0.4)
    ax.set_title(f"{st_summary.lead_names[lead]}: ST change from the record's level "
                 f"({st_summary.reference_mv[lead]:+.2f} mV), each {st_summary.window_s:g} s", fontsize=8, loc="left")


def draw_st_beats(ax, analysis: RecordAnalysis, episode) -> None:
    """An episode's lead: the dominant beat (grey) and the beat at its largest change (red), the ST point marked."""
    st_summary, fs, settings = analysis.summary.st, analysis.record.fs_hz, analysis.region_settings.st
    beats = st_episode_beats(analysis, episode)
    start = analysis.record.start_time
    title = (f"{episode.lead_name} {episode.kind} {episode.deviation_mv:+.2f} mV at {format_clock(episode.peak_s)}"
             f"{format_clock_suffix(episode.peak_s, start)}, {format_number(episode.heart_rate_bpm)} bpm, ST "
             f"from J+20 ms to the ST point {format_number(episode.slope_mv, 2, ' mV')}"
             f"{'; QRS changed' if episode.qrs_changed else ''}")
    # wrapped to the half page the plot takes: in one line, the titles of plots side by side ran into each other
    ax.set_title(textwrap.fill(title, ST_TITLE_CHARS), fontsize=7, loc="left")
    if beats is not None:
        reference, at_peak = beats
        offsets_ms = template_offsets_ms(len(reference), fs, settings.template_before_s)
        ax.plot(offsets_ms, reference, color="#888888", linewidth=0.9, label="record's dominant beat")
        ax.plot(offsets_ms, at_peak, color="#d62728", linewidth=0.9, label="at the largest change")
        ax.axvline(st_summary.fiducials.j_ms + settings.st_offset_ms, color="#555555", linestyle="--",
                   linewidth=0.6)
        ax.axhline(0.0, color="#bbbbbb", linewidth=0.5)
        ax.legend(fontsize=5.5, loc="upper right", frameon=False)
    ax.set_xlabel("ms from the R wave", fontsize=6.5)
    ax.set_ylabel("mV", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.grid(True, color="#eeeeee", linewidth=0.4)


def hourly_lines(analysis: RecordAnalysis) -> list[str]:
    """The hourly table as fixed-width text lines (a header, one line per hour, :data:`MAX_HOURLY_ROWS` at most)."""
    def cell(value: float, width: int, digits: int = 0) -> str:
        return (f"{value:{width}.{digits}f}" if math.isfinite(value) else "-".rjust(width))

    start = analysis.record.start_time
    header = (f"{'hour':<22}{'min':>5}{'beats':>7}{'S':>6}{'V':>6}{'HR min':>7}{'mean':>5}{'max':>5}{'V 2/3+':>7}"
              f"{'S 2/3+':>7}{'pauses':>7}{'AF min':>7}{'ST low':>7}{'high':>6}{'QTc':>5}{'SDNN':>6}{'RMSSD':>6}")
    lines = [header]
    for hour in analysis.summary.hourly[:MAX_HOURLY_ROWS]:
        clock = format_clock_time(hour.start_s, start)  # clock hours: the clock time, then the time from the start
        label = f"{clock} (+{format_clock(hour.start_s)})" if clock else format_clock(hour.start_s)
        counts = dict(zip(AAMI_CLASSES, hour.beat_counts))
        lines.append(f"{label:<22}{cell(hour.readable_s / 60, 5)}{hour.n_beats:>7}{counts['S']:>6}{counts['V']:>6}"
                     f"{cell(hour.heart_rate_min_bpm, 7)}{cell(hour.heart_rate_mean_bpm, 5)}"
                     f"{cell(hour.heart_rate_max_bpm, 5)}"
                     f"{f'{hour.ventricular_couplets}/{hour.ventricular_runs}':>7}"
                     f"{f'{hour.supraventricular_couplets}/{hour.supraventricular_runs}':>7}"
                     f"{hour.pauses:>7}{cell(hour.af_s / 60, 7, 1)}{cell(hour.st_lowest_mv, 7, 2)}"
                     f"{cell(hour.st_highest_mv, 6, 2)}{cell(hour.qtc_fridericia_ms, 5)}{cell(hour.sdnn_ms, 6)}"
                     f"{cell(hour.rmssd_ms, 6)}")
    if len(analysis.summary.hourly) > MAX_HOURLY_ROWS:
        lines.append(f"... {len(analysis.summary.hourly) - MAX_HOURLY_ROWS} more hours in NAME_hourly.csv")
    return lines


def draw_rhythm_page(analysis: RecordAnalysis, points, total: int) -> Figure:
    """The rhythm page: the RR scatter (Lorenz plot) of the record's beats by class
    (:func:`app.analysis.lorenz_points`), the RR interval histogram (:func:`app.analysis.rr_histogram`), the median
    beat of the largest morphology families (:func:`draw_family_templates`), and the averaged tachogram of heart-rate
    turbulence when it was assessed (else why not)."""
    figure = Figure(figsize=A4_PORTRAIT_IN)
    FigureCanvasPdf(figure)
    figure.suptitle(f"Record {analysis.record.name}: RR scatter and histogram, beat families, heart-rate turbulence",
                    fontsize=11, fontweight="bold", x=0.08, ha="left")
    thinned = f"; {len(points)} of {total} beats drawn, normal beats thinned evenly" if len(points) < total else ""
    figure.text(0.08, 0.935, textwrap.fill(
        "Left, each beat's RR interval after it against the one before it (Lorenz plot): sinus beats lie along the "
        "identity line, premature beats with a pause after them above it on the left, atrial fibrillation spreads as a "
        f"fan. Right, the RR intervals in {RR_HISTOGRAM_BIN_MS:.0f} ms bins, those between two normal beats and the "
        "others stacked: sinus rhythm gives one narrow peak, atrial fibrillation a broad one, 2:1 conduction or "
        f"bigeminy two. Intervals across unreadable signal left out{thinned}; a beat is drawn when both its intervals "
        "are readable, so the legend's counts fall a few short of the summary's (the first and last beats, those by "
        "unreadable signal).", SUMMARY_LINE_CHARS + 20),
        fontsize=7, va="top")
    draw_lorenz(figure.add_axes((0.08, 0.52, 0.44, 0.36)), points)
    draw_rr_histogram(figure.add_axes((0.6, 0.6, 0.35, 0.22)), rr_histogram(analysis))
    draw_family_templates(figure, figure.add_gridspec(1, 1, left=0.08, right=0.97, top=0.385, bottom=0.32)[0],
                          analysis)
    ax = figure.add_axes((0.1, 0.05, 0.85, 0.19))
    hrt = analysis.summary.hrt
    if hrt.assessed:
        draw_tachogram(ax, hrt, analysis.region_settings.hrt, analysis.summary.duration_s)
    else:
        ax.axis("off")
        ax.text(0, 0.9, textwrap.fill(f"Heart-rate turbulence: {describe_hrt_absence(hrt)}", SUMMARY_LINE_CHARS),
                fontsize=8, va="top", transform=ax.transAxes)
    return figure


def draw_rr_histogram(ax, histogram) -> None:
    """Stacked bars of the RR histogram: normal-to-normal intervals, then the others; an open-ended last bin is
    drawn as wide as the others and named on the axis. The y axis leaves a third of the tallest bar free above it for
    the legend (two clinical reads of session 55 found the legend over the tallest bar of every report)."""
    width = float(histogram["to_ms"].iloc[0] - histogram["from_ms"].iloc[0])
    left = histogram["from_ms"].to_numpy(np.float64)
    ax.bar(left, histogram["nn"], width=width, align="edge", color=CLASS_COLOURS["N"], linewidth=0,
           label=f"between two N beats ({int(histogram['nn'].sum())})")
    ax.bar(left, histogram["other"], width=width, align="edge", bottom=histogram["nn"], color=CLASS_COLOURS["S"],
           linewidth=0, label=f"with another beat ({int(histogram['other'].sum())})")
    ax.set_xlim(0, left[-1] + width)
    tallest = float((histogram["nn"] + histogram["other"]).max())
    ax.set_ylim(0, 1.35 * tallest if tallest > 0 else 1.0)  # room for the legend above the bars: it hid the peak
    ax.set_axisbelow(True)  # the grid behind the bars, not across them
    if not np.isfinite(histogram["to_ms"].iloc[-1]):
        ax.annotate(f">= {left[-1]:.0f}", (left[-1] + width / 2, 0), xytext=(0, -14), textcoords="offset points",
                    ha="center", fontsize=6)
    ax.set_xlabel("RR interval (ms)", fontsize=7)
    ax.set_ylabel("intervals", fontsize=7)
    ax.tick_params(labelsize=6.5)
    ax.grid(True, axis="y", color="#eeeeee", linewidth=0.4)
    ax.legend(fontsize=6.5, loc="upper right", frameon=False)


def draw_lorenz(ax, points) -> None:
    """The RR scatter: a point per beat, coloured by class, on equal axes with the identity line."""
    top = 1.05 * float(max(points["rr_before_ms"].max(), points["rr_after_ms"].max()))
    for letter in AAMI_CLASSES:
        chosen = points[points["class"] == letter]
        if len(chosen):
            normal = letter == "N"  # the ectopic beats larger and opaque, over the normal cloud (a read of s57)
            ax.scatter(chosen["rr_before_ms"], chosen["rr_after_ms"], s=1.5 if normal else 8,
                       color=CLASS_COLOURS[letter], alpha=0.5 if normal else 0.9, linewidths=0, rasterized=True,
                       label=f"{letter} ({len(chosen)})")
    ax.plot([0, top], [0, top], color="#999999", linewidth=0.5, linestyle=":")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_aspect("equal")
    ax.set_xlabel("RR before the beat (ms)", fontsize=7)
    ax.set_ylabel("RR after the beat (ms)", fontsize=7)
    ax.tick_params(labelsize=6.5)
    ax.grid(True, color="#eeeeee", linewidth=0.4)
    ax.legend(fontsize=6.5, loc="lower right", frameon=False, markerscale=2)


def draw_tachogram(ax, hrt, settings, recording_s: float = math.inf) -> None:
    """Heart-rate turbulence's averaged tachogram with its reference level and the turbulence slope's line; its title
    says a short recording's category is one (:func:`pipeline.hrt.describe_hrt_span`), as the summary line does."""
    tachogram = np.asarray(hrt.tachogram_ms, np.float64)
    before = settings.before_intervals
    positions = np.arange(len(tachogram)) - before
    ax.plot(positions, tachogram, marker="o", markersize=2.5, color="#2b7bba", linewidth=0.9)
    ax.axhline(float(tachogram[:before].mean()), color="#999999", linewidth=0.6, linestyle=":")
    index, line = slope_line(hrt, settings)
    ax.plot(positions[index], line, color="#d62728", linewidth=1.2)
    ax.set_xticks(positions, tachogram_labels(hrt, settings), fontsize=6)
    ax.tick_params(axis="y", labelsize=6.5)
    ax.set_ylabel("RR (ms)", fontsize=7)
    ax.set_xlabel("RR interval (C: coupling, P: compensatory pause)", fontsize=7)
    ax.grid(True, color="#eeeeee", linewidth=0.4)
    span = describe_hrt_span(hrt, recording_s)
    ax.set_title(textwrap.fill(f"Heart-rate turbulence: {describe_hrt(hrt)}{'; ' + span if span else ''}",
                               SUMMARY_LINE_CHARS + 20), fontsize=7.5,
                 loc="left")  # a long description ran off the page (session 48)


def draw_hourly_page(analysis: RecordAnalysis) -> Figure:
    """The hourly table of a Holter report (records longer than an hour): per hour its readable minutes, beats,
    S and V beats, heart rate, couplets and runs, pauses, AF, lowest and highest ST change (mV), median QTc
    (Fridericia, ms), SDNN and RMSSD (ms)."""
    figure = Figure(figsize=A4_PORTRAIT_IN)
    FigureCanvasPdf(figure)
    figure.suptitle(f"Record {analysis.record.name}: hour by hour", fontsize=11, fontweight="bold", x=0.08, ha="left")
    figure.text(0.08, 0.935, textwrap.fill(
        "Readable minutes; beats; S and V beats; heart rate (bpm, 1-minute averages); V and S couplets / runs of 3 "
        "beats or more (tachycardias included) starting in the hour; pauses; minutes of AF; lowest and highest ST "
        "change from the ST reference (mV, over the leads); median QTc (Fridericia, ms); SDNN and RMSSD of the "
        "hour's normal-to-normal intervals (ms).",
        SUMMARY_LINE_CHARS + 20), fontsize=7, va="top")
    ax = figure.add_axes((0.08, 0.04, 0.89, 0.84))
    ax.axis("off")
    ax.text(0, 1, "\n".join(hourly_lines(analysis)), fontsize=7, va="top", family="monospace",
            transform=ax.transAxes, linespacing=1.3)
    return figure
