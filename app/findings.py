"""The main findings: the few events and measurements a reader looks for first, in one line under the rhythm.

A clinical read of session 60 found two sustained ventricular tachycardias (MIT-BIH 223) and paroxysmal atrial
fibrillation/flutter (202) only inside "Longest runs" and the event tally, under "Predominant rhythm: sinus rhythm":
a Holter report states its significant findings first. The line lists, most urgent first, those present of:
ventricular flutter/fibrillation; sustained, then non-sustained ventricular tachycardia; atrial fibrillation/flutter
where it is not the predominant rhythm; 2:1 AV block and dropped beats (P waves not conducted); pauses of
:data:`LONG_PAUSE_S` or more; supraventricular tachycardia; a Fridericia QTc of 500 ms or more; ST episodes without a
QRS change (one with it is an axis or conduction change, not read as ischaemia); a ventricular ectopic burden of
:data:`pipeline.summary.HIGH_V_BURDEN_PCT` or more (not with pacing, where paced beats may be called V); a PR interval
over 200 ms. Short words (VT, SVT, AF), and the time of the longest sustained VT only: the line costs page 1 no strip
it can spare (207's three lines of them left none). An event kind all of whose events are of low confidence or lie in
noise on a lead says "check", and one whose quoted (longest) event is says so of it: the line repeats what the
product found and claims no more than the tally and the strips do. The burden's finding says what it can mean, where a
note said it first (a review of session 60: the burden was then given three times on page 1). With none of them, the
line says so of what was looked for, "in readable signal" (an event in unreadable signal is not looked for), and names
what could not be assessed. It adds no measurement of its own.
"""

from __future__ import annotations

import math

from app.analysis import CONFIDENT_EVENT_MIN, RecordAnalysis, noisy_lead_names
from app.strips import format_at
from pipeline.pacing import reads_as_spiked
from pipeline.qt import LONG_QTC_MS, is_steady_qt
from pipeline.regions import SUSTAINED_VT_MIN_S, Region, measure_length_s
from pipeline.summary import HIGH_V_BURDEN_PCT
from pipeline.wording import count_noun, format_duration

LONG_PAUSE_S = 3.0
"""Pauses at least this long are counted apart in the tally and named among the main findings (the length guidelines
weigh in sinus rhythm, e.g. the 2018 ACC/AHA/HRS bradycardia guideline's 3 s)."""
NONE_FOUND_SHORT = "none found in readable signal"
"""The batch table's cell when none is present (its column's heading names the list)."""
NOISE_DOUBTED_KINDS = ("ventricular_flutter_fibrillation", "ventricular_tachycardia", "supraventricular_tachycardia",
                       "pause", "dropped_beat")
"""Kinds whose events in noise on a lead are doubted as the tally's noise marks do; an AF/flutter episode or a 2:1 AV
block stretch, minutes long, nearly always holds some noise, and is doubted by its confidence alone."""


def list_main_findings(analysis: RecordAnalysis) -> list[str]:
    """The main findings present (module docstring), most urgent first, each a short clause."""
    return [*describe_ventricular_findings(analysis), *describe_atrial_findings(analysis),
            *describe_measured_findings(analysis)]


def describe_ventricular_findings(analysis: RecordAnalysis) -> list[str]:
    """Ventricular flutter/fibrillation, then sustained and non-sustained ventricular tachycardia."""
    fs, start = analysis.record.fs_hz, analysis.record.start_time
    findings = []
    flutter = select_regions(analysis, "ventricular_flutter_fibrillation")
    if flutter:
        total = sum(r.duration_s(fs) for r in flutter)
        findings.append(f"ventricular flutter/fibrillation ({len(flutter)}, {format_duration(total)}"
                        f"{doubt_events(analysis, flutter)})")
    sustained = select_regions(analysis, "ventricular_tachycardia", lambda r: r.duration_s(fs) >= SUSTAINED_VT_MIN_S)
    if sustained:
        longest = max(sustained, key=lambda r: r.duration_s(fs))
        findings.append(f"sustained VT ({len(sustained)}, longest {longest.duration_s(fs):.0f} s"
                        f"{format_at(longest.start / fs, start)}{doubt_events(analysis, sustained, longest)})")
    brief = select_regions(analysis, "ventricular_tachycardia", lambda r: r.duration_s(fs) < SUSTAINED_VT_MIN_S)
    return findings + describe_runs(analysis, "non-sustained VT", brief)


def describe_atrial_findings(analysis: RecordAnalysis) -> list[str]:
    """Atrial fibrillation/flutter where it is not the predominant rhythm, 2:1 AV block where it is not, dropped
    beats, long pauses and supraventricular tachycardia."""
    fs, summary = analysis.record.fs_hz, analysis.summary
    rhythm = summary.predominant_rhythm.name
    findings = []
    af = select_regions(analysis, "atrial_fibrillation")
    if af and not rhythm.startswith("atrial fibrillation"):
        share = f", burden {summary.af_burden_pct:.1f} %" if math.isfinite(summary.af_burden_pct) else ""
        findings.append(f"AF/flutter ({count_noun(len(af), 'episode')}{share}{doubt_events(analysis, af)})")
    block = select_regions(analysis, "av_block_2_to_1")
    if block and "2:1 AV block" not in rhythm:
        total = sum(r.duration_s(fs) for r in block)
        findings.append(f"2:1 AV block ({count_noun(len(block), 'episode')}, {format_duration(total)}"
                        f"{doubt_events(analysis, block)})")
    dropped = select_regions(analysis, "dropped_beat")
    if dropped:
        findings.append(f"dropped beats, second-degree AV block ({len(dropped)}{doubt_events(analysis, dropped)})")
    pauses = select_regions(analysis, "pause", lambda r: measure_length_s(r) >= LONG_PAUSE_S)
    if pauses:
        longest = max(pauses, key=measure_length_s)
        findings.append(f"pauses of {LONG_PAUSE_S:g} s or more ({len(pauses)}, longest "
                        f"{measure_length_s(longest):.2f} s{doubt_events(analysis, pauses, longest)})")
    return findings + describe_runs(analysis, "SVT", select_regions(analysis, "supraventricular_tachycardia"))


def describe_runs(analysis: RecordAnalysis, name: str, runs: list[Region]) -> list[str]:
    """``["non-sustained VT (5, longest 5 beats)"]`` for ``runs`` named ``name``, with the doubt of
    :func:`doubt_events`; none without runs."""
    if not runs:
        return []
    longest = max(runs, key=lambda r: r.n_beats)
    doubt = doubt_events(analysis, runs, longest)
    return [f"{name} ({len(runs)}, longest {count_noun(longest.n_beats, 'beat')}{doubt})"]


def describe_measured_findings(analysis: RecordAnalysis) -> list[str]:
    """A long QTc, ST episodes without a QRS change, a high ventricular burden (without pacing) and a long PR."""
    summary = analysis.summary
    findings = []
    qt = summary.qt
    if qt.assessed and is_steady_qt(qt) and qt.long_qtc_s() > 0:
        findings.append(f"QTc {LONG_QTC_MS:.0f} ms or more (longest {qt.longest_qtc()[0]:.0f} ms, Fridericia)")
    episodes = [e for e in summary.st.episodes if not e.qrs_changed] if summary.st.assessed else []
    for kind in ("depression", "elevation"):
        n = sum(e.kind == kind for e in episodes)
        if n:
            findings.append(f"ST {kind} ({count_noun(n, 'episode')})")
    if shows_high_burden(analysis):
        findings.append(f"ventricular burden {summary.ventricular_burden_pct:.1f} % (from {HIGH_V_BURDEN_PCT:g} %, "
                        "PVC-induced cardiomyopathy is possible)")
    if summary.pr.assessed and summary.pr.first_degree_block:
        findings.append(f"PR {summary.pr.pr_ms:.0f} ms (first-degree AV block?)")
    return findings


def shows_high_burden(analysis: RecordAnalysis) -> bool:
    """Whether the ventricular burden reaches :data:`pipeline.summary.HIGH_V_BURDEN_PCT` in a record with no stated
    pacemaker and no pacing spikes (paced beats may be called V: a review of session 60 found paced 217's 42.5 % named
    a risk of cardiomyopathy under the question whether it has a pacemaker)."""
    summary = analysis.summary
    return (summary.ventricular_burden_pct >= HIGH_V_BURDEN_PCT and analysis.record.pacemaker is None
            and not reads_as_spiked(summary.pacing_spike_share))


def select_regions(analysis: RecordAnalysis, kind: str, condition=lambda r: True) -> list[Region]:
    """The analysis's regions of ``kind`` that meet ``condition``."""
    return [r for r in analysis.regions if r.kind == kind and condition(r)]


def doubt_events(analysis: RecordAnalysis, regions: list[Region], quoted: Region | None = None) -> str:
    """``", check: all low confidence or noise"`` when none of ``regions`` (one kind's) is sure (its confidence at
    least :data:`app.analysis.CONFIDENT_EVENT_MIN` and, for :data:`NOISE_DOUBTED_KINDS`, no lead noisy over it); else
    ``", the longest: low confidence or noise"`` when the ``quoted`` one is not sure (a review of session 60 found
    223's longest sustained VT quoted plain, at confidence 0.35, three lines above "low confidence, 0.35"); empty
    otherwise."""
    noisy = (noisy_lead_names(analysis, regions) if regions[0].kind in NOISE_DOUBTED_KINDS
             else [()] * len(regions))
    sure = {id(r): r.confidence >= CONFIDENT_EVENT_MIN and not leads for r, leads in zip(regions, noisy)}
    if not any(sure.values()):
        return f", check: {'all ' if len(regions) > 1 else ''}low confidence or noise"
    return ", the longest: low confidence or noise" if quoted is not None and not sure[id(quoted)] else ""


def describe_none_found(analysis: RecordAnalysis) -> str:
    """The line when no main finding is present: what was looked for and not found, in readable signal, then what
    could not be assessed (a review of session 60 found "no ... QTc of 500 ms or more, ST episode" on 118, whose ST and
    QT were not assessed, and "no AF/flutter" beside the tally's "not assessed: atrial fibrillation/flutter").
    AF/flutter is not named when the record has it: then it is the predominant rhythm, said above (a clinical read of
    session 63 found 201's "none found (no VT or VF, AF/flutter, ...)" under "Predominant rhythm: atrial
    fibrillation/flutter")."""
    summary = analysis.summary
    qt = summary.qt
    af = math.isfinite(summary.af_burden_pct)
    has_af = bool(select_regions(analysis, "atrial_fibrillation"))
    unpaced = analysis.record.pacemaker is None and not reads_as_spiked(summary.pacing_spike_share)
    checks = (("VT or VF", "", True), ("AF/flutter", "AF/flutter", af), ("AV block", "", True),
              (f"pause of {LONG_PAUSE_S:g} s or more", "", True), ("SVT", "", True),
              (f"QTc of {LONG_QTC_MS:.0f} ms or more", "QTc", qt.assessed and is_steady_qt(qt)),
              ("ST episode", "ST", summary.st.assessed),
              (f"ventricular burden of {HIGH_V_BURDEN_PCT:g} % or more", "ventricular burden (pacing)", unpaced),
              ("PR over 200 ms", "PR", summary.pr.assessed))
    checks = [check for check in checks if not (has_af and check[0] == "AF/flutter")]
    looked = [name for name, _, assessed in checks if assessed]
    unassessed = [short for _, short, assessed in checks if not assessed]
    listed = ", ".join(looked[:-1]) + f" or {looked[-1]}"
    return f"{NONE_FOUND_SHORT} (no {listed})" + (f"; not assessed: {', '.join(unassessed)}" if unassessed else "")


def describe_main_findings(analysis: RecordAnalysis) -> str:
    """The main findings as one line's text (:func:`list_main_findings`), or :func:`describe_none_found`; empty for a
    record without beats and without findings (ventricular flutter/fibrillation, found from the signal, can fill a
    record whose beats are not counted), whose notes say what could not be assessed."""
    findings = list_main_findings(analysis)
    if findings:
        return "; ".join(findings)
    return describe_none_found(analysis) if analysis.summary.n_beats else ""


def main_findings_json(analysis: RecordAnalysis) -> list[str] | None:
    """The main findings for the summary JSON: the list (empty: none found), or None for a record without beats and
    without findings, where nothing could be looked for."""
    findings = list_main_findings(analysis)
    return findings if findings or analysis.summary.n_beats else None
