"""The main findings: the few events and measurements a reader looks for first, in one line under the rhythm.

A clinical read of session 60 found two sustained ventricular tachycardias (MIT-BIH 223) and paroxysmal atrial
fibrillation/flutter (202) only inside "Longest runs" and the event tally, under "Predominant rhythm: sinus rhythm":
a Holter report states its significant findings first. The line lists, most urgent first, those present of:
ventricular flutter/fibrillation; sustained, then non-sustained ventricular tachycardia; atrial fibrillation/flutter
where it is not the predominant rhythm; 2:1 AV block and dropped beats (P waves not conducted); pauses of
:data:`LONG_PAUSE_S` or more; supraventricular tachycardia; a Fridericia QTc of 500 ms or more; ST episodes; a
ventricular ectopic burden of :data:`pipeline.summary.HIGH_V_BURDEN_PCT` or more; a PR interval over 200 ms. An event
kind all of whose events are of low confidence or lie in noise on a lead says "check": the line repeats what the
product found, and claims no more than the tally and the strips do. With none of them, the line says so, "in readable
signal" (an event in unreadable signal is not looked for). It adds no measurement of its own.
"""

from __future__ import annotations

import numpy as np

from app.analysis import CONFIDENT_EVENT_MIN, RecordAnalysis, noisy_lead_names
from app.strips import format_at
from pipeline.qt import LONG_QTC_MS, is_steady_qt
from pipeline.regions import SUSTAINED_VT_MIN_S, Region
from pipeline.summary import HIGH_V_BURDEN_PCT
from pipeline.wording import count_noun, format_duration

LONG_PAUSE_S = 3.0
"""Pauses at least this long are counted apart in the tally and named among the main findings (the length guidelines
weigh in sinus rhythm, e.g. the 2018 ACC/AHA/HRS bradycardia guideline's 3 s)."""

NONE_FOUND = (f"none found in readable signal (no VT or VF, AF/flutter, AV block, pause of {LONG_PAUSE_S:g} s or more, "
              f"SVT, QTc of {LONG_QTC_MS:.0f} ms or more, ST episode, ventricular burden of {HIGH_V_BURDEN_PCT:g} % or "
              "more or PR over 200 ms)")
"""The line when none of the main findings is present."""
NONE_FOUND_SHORT = "none found in readable signal"
"""The batch table's cell when none is present (its column's heading names the list)."""
NOISE_DOUBTED_KINDS = ("ventricular_flutter_fibrillation", "ventricular_tachycardia", "supraventricular_tachycardia",
                       "pause", "dropped_beat")
"""Kinds whose events in noise on a lead are doubted as the tally's noise marks do; an AF/flutter episode or a 2:1 AV
block stretch, minutes long, nearly always holds some noise, and is doubted by its confidence alone."""


def list_main_findings(analysis: RecordAnalysis) -> list[str]:
    """The main findings present (module docstring), most urgent first, each a short clause."""
    fs, start = analysis.record.fs_hz, analysis.record.start_time
    summary = analysis.summary

    def of_kind(kind: str, condition=lambda r: True) -> list[Region]:
        return [r for r in analysis.regions if r.kind == kind and condition(r)]

    def doubt(regions: list[Region]) -> str:
        noisy = noisy_lead_names(analysis, regions) if regions[0].kind in NOISE_DOUBTED_KINDS else [()] * len(regions)
        sure = [r.confidence >= CONFIDENT_EVENT_MIN and not leads for r, leads in zip(regions, noisy)]
        return "" if any(sure) else ", check: low confidence or in noise"

    findings = []
    flutter = of_kind("ventricular_flutter_fibrillation")
    if flutter:
        total = sum(r.duration_s(fs) for r in flutter)
        findings.append(f"ventricular flutter/fibrillation ({len(flutter)}, total {format_duration(total)}"
                        f"{doubt(flutter)})")
    sustained = of_kind("ventricular_tachycardia", lambda r: r.duration_s(fs) >= SUSTAINED_VT_MIN_S)
    if sustained:
        longest = max(sustained, key=lambda r: r.duration_s(fs))
        findings.append(f"sustained ventricular tachycardia ({len(sustained)}, longest {longest.duration_s(fs):.0f} s"
                        f"{format_at(longest.start / fs, start)}{doubt(sustained)})")
    brief = of_kind("ventricular_tachycardia", lambda r: r.duration_s(fs) < SUSTAINED_VT_MIN_S)
    if brief:
        longest = max(brief, key=lambda r: r.n_beats)
        findings.append(f"non-sustained ventricular tachycardia ({len(brief)}, longest "
                        f"{count_noun(longest.n_beats, 'beat')}{format_at(longest.start / fs, start)}{doubt(brief)})")
    af = of_kind("atrial_fibrillation")
    if af and not summary.predominant_rhythm.name.startswith("atrial fibrillation"):
        share = f", {summary.af_burden_pct:.1f} % of the readable time" if np.isfinite(summary.af_burden_pct) else ""
        findings.append(f"atrial fibrillation/flutter ({count_noun(len(af), 'episode')}{share}{doubt(af)})")
    block = of_kind("av_block_2_to_1")
    if block and "2:1 AV block" not in summary.predominant_rhythm.name:
        total = sum(r.duration_s(fs) for r in block)
        findings.append(f"2:1 AV block ({count_noun(len(block), 'episode')}, total {format_duration(total)}"
                        f"{doubt(block)})")
    dropped = of_kind("dropped_beat")
    if dropped:
        findings.append(f"dropped beats, second-degree AV block ({len(dropped)}{doubt(dropped)})")
    pauses = of_kind("pause", lambda r: r.heart_rate_bpm > 0 and 60.0 / r.heart_rate_bpm >= LONG_PAUSE_S)
    if pauses:
        longest_s = max(60.0 / r.heart_rate_bpm for r in pauses)
        findings.append(f"pauses of {LONG_PAUSE_S:g} s or more ({len(pauses)}, longest {longest_s:.2f} s"
                        f"{doubt(pauses)})")
    svt = of_kind("supraventricular_tachycardia")
    if svt:
        longest = max(svt, key=lambda r: r.n_beats)
        findings.append(f"supraventricular tachycardia ({len(svt)}, longest {count_noun(longest.n_beats, 'beat')}"
                        f"{format_at(longest.start / fs, start)}{doubt(svt)})")
    qt = summary.qt
    if qt.assessed and is_steady_qt(qt) and qt.long_qtc_s() > 0:
        findings.append(f"QTc (Fridericia) {LONG_QTC_MS:.0f} ms or more (longest {qt.longest_qtc()[0]:.0f} ms)")
    episodes = summary.st.episodes if summary.st.assessed else ()
    for kind in ("depression", "elevation"):
        n = sum(e.kind == kind for e in episodes)
        if n:
            findings.append(f"ST {kind} ({count_noun(n, 'episode')})")
    if np.isfinite(summary.ventricular_burden_pct) and summary.ventricular_burden_pct >= HIGH_V_BURDEN_PCT:
        findings.append(f"frequent ventricular ectopic beats ({summary.ventricular_burden_pct:.1f} % of the beats)")
    if summary.pr.assessed and summary.pr.first_degree_block:
        findings.append(f"PR interval {summary.pr.pr_ms:.0f} ms (first-degree AV block?)")
    return findings


def describe_main_findings(analysis: RecordAnalysis) -> str:
    """The main findings as one line's text (:func:`list_main_findings`), or :data:`NONE_FOUND`; empty for a record
    without beats, whose notes say what could not be assessed."""
    if analysis.summary.n_beats == 0:
        return ""
    return "; ".join(list_main_findings(analysis)) or NONE_FOUND
