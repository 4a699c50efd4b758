"""The main findings line (app.findings): the significant events and measurements first, under the rhythm."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.analysis import analyse_record
from app.findings import describe_main_findings, list_main_findings, main_findings_json
from app.report import summary_lines
from models.bundled import load_default_model
from pipeline.records import read_record
from pipeline.regions import Region
from pipeline.types import QualitySpan
from pipeline.st import StSummary


@pytest.fixture(scope="module")
def analysis_119(excerpts_dir):
    return analyse_record(read_record(excerpts_dir / "119", annotator=None), load_default_model())


def joined(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


def test_a_record_with_none_of_them_says_so_under_its_rhythm_of_what_was_assessed(excerpts_dir):
    analysis = analyse_record(read_record(excerpts_dir / "100", annotator=None), load_default_model())
    assert describe_main_findings(analysis) == (
        "none found in readable signal (no VT or VF, AF/flutter, AV block, pause of 3 s or more, SVT, QTc of 500 ms or "
        "more, ST episode, ventricular burden of 10 % or more or PR over 200 ms)")
    lines = summary_lines(analysis)
    rhythm = next(k for k, line in enumerate(lines) if line.startswith("Predominant rhythm: "))
    following = next(k for k, line in enumerate(lines) if line.startswith("Main findings: "))
    assert following > rhythm and all(line.startswith("  ") for line in lines[rhythm + 1:following])
    # what could not be assessed is not said to be absent (a review of session 60: 118's ST and QT, stopped by its
    # wide QRS, read "no ... QTc of 500 ms or more, ST episode")
    wide = replace(analysis, summary=replace(analysis.summary, st=StSummary(False, "ST not assessed: wide"),
                                             qt=replace(analysis.summary.qt, assessed=False)))
    text = describe_main_findings(wide)
    assert "ST episode" not in text and "QTc of" not in text and text.endswith("; not assessed: QTc, ST")
    paced = replace(analysis, record=replace(analysis.record, pacemaker="stated by the user"))
    assert describe_main_findings(paced).endswith("; not assessed: ventricular burden (pacing)")
    assert main_findings_json(analysis) == []


def test_a_record_in_af_throughout_is_not_said_to_have_no_af_under_its_rhythm(excerpts_dir):
    """A clinical read (session 63): 201's excerpt, AF throughout, read "Predominant rhythm: atrial
    fibrillation/flutter" over "Main findings: none found in readable signal (no VT or VF, AF/flutter, ...)"."""
    analysis = analyse_record(read_record(excerpts_dir / "201", annotator=None), load_default_model())
    assert analysis.summary.predominant_rhythm.name.startswith("atrial fibrillation")
    text = describe_main_findings(analysis)
    assert text.startswith("none found in readable signal (no VT or VF, AV block") and "AF/flutter" not in text


def test_the_most_urgent_come_first_with_their_size_and_doubtful_ones_are_marked(analysis_119):
    """A clinical read of session 60: 223's two sustained ventricular tachycardias sat inside "Longest runs" under
    "Predominant rhythm: sinus rhythm"."""
    fs = analysis_119.record.fs_hz
    pause = Region("pause", int(50 * fs), int(53.5 * fs), 40, 2, 60 / 3.5, 0.9)
    sustained = Region("ventricular_tachycardia", int(100 * fs), int(135 * fs), 80, 70, 120.0, 0.9)
    brief = Region("ventricular_tachycardia", int(200 * fs), int(202 * fs), 200, 4, 130.0, 0.3)
    flutter = Region("ventricular_flutter_fibrillation", int(250 * fs), int(260 * fs), 250, 40, 240.0, 0.2)
    edited = replace(analysis_119, regions=(*analysis_119.regions, pause, sustained, brief, flutter))
    findings = list_main_findings(edited)
    assert findings[:4] == ["ventricular flutter/fibrillation (1, 00:00:10, check: low confidence or noise)",
                            "sustained VT (1, longest 35 s at 00:01:40)",
                            "non-sustained VT (1, longest 4 beats, check: low confidence or noise)",
                            "pauses of 3 s or more (1, longest 3.50 s)"]
    assert "Main findings: ventricular flutter/fibrillation (1, 00:00:10" in joined(summary_lines(edited))
    short = replace(pause, stop=int(52.9 * fs), heart_rate_bpm=60 / 2.9)  # a pause under 3 s is not one of them
    confident = replace(brief, start=int(220 * fs), stop=int(221 * fs), n_beats=3, confidence=0.9)
    findings = list_main_findings(replace(analysis_119, regions=(*analysis_119.regions, short, brief, confident)))
    # one sure event of the kind drops "check", but the longest one, quoted, is still said to be doubtful (a review of
    # session 60: 223's longest sustained VT at confidence 0.35)
    assert findings[0] == "non-sustained VT (2, longest 4 beats, the longest: low confidence or noise)"
    assert not any(f.startswith("pauses") for f in findings)
    other = replace(brief, start=int(150 * fs), stop=int(151 * fs))
    both = list_main_findings(replace(analysis_119, regions=(*analysis_119.regions, brief, other)))
    assert both[0].endswith(", check: all low confidence or noise)")
    # a pause in noise on a lead is doubted too, as the tally's noise marks do
    noisy = replace(analysis_119, regions=(*analysis_119.regions, pause),
                    quality_spans=(*analysis_119.quality_spans, QualitySpan("noise", 0, int(45 * fs), int(60 * fs))))
    assert "pauses of 3 s or more (1, longest 3.50 s, check: low confidence or noise)" in list_main_findings(noisy)


def test_ventricular_flutter_filling_a_record_without_counted_beats_is_still_named(analysis_119):
    """A review of session 60: 96 s of 207's flutter have no counted beat, and the line was left out for want of
    beats."""
    fs = analysis_119.record.fs_hz
    flutter = Region("ventricular_flutter_fibrillation", 0, int(90 * fs), 0, 300, 240.0, 0.9)
    summary = replace(analysis_119.summary, n_beats=0, ventricular_burden_pct=float("nan"))  # no beats: no burden
    edited = replace(analysis_119, regions=(flutter,), summary=summary)
    assert describe_main_findings(edited) == "ventricular flutter/fibrillation (1, 00:01:30)"
    assert main_findings_json(replace(edited, regions=())) is None and describe_main_findings(
        replace(edited, regions=())) == ""


def test_st_episodes_with_a_qrs_change_and_the_burden_of_a_paced_record_are_not_findings(analysis_119):
    from pipeline.st import StEpisode

    episode = StEpisode(0, "MLII", "depression", 60.0, 150.0, -0.21, 90.0, 80.0, qrs_change=0.0)
    changed = replace(episode, kind="elevation", qrs_change=1.0)
    assert changed.qrs_changed and not episode.qrs_changed
    st = replace(analysis_119.summary.st, episodes=(episode, changed))
    summary = replace(analysis_119.summary, st=st, ventricular_burden_pct=25.0)
    findings = list_main_findings(replace(analysis_119, summary=summary))
    assert "ST depression (1 episode)" in findings and not any("elevation" in f for f in findings)
    assert "ventricular burden 25.0 % (from 10 %, PVC-induced cardiomyopathy is possible)" in findings
    paced = replace(analysis_119, summary=summary, record=replace(analysis_119.record, pacemaker="stated"))
    assert not any(f.startswith("ventricular burden") for f in list_main_findings(paced))


def test_af_is_a_main_finding_unless_it_is_the_predominant_rhythm(analysis_119):
    fs = analysis_119.record.fs_hz
    af = Region("atrial_fibrillation", int(10 * fs), int(100 * fs), 10, 120, 95.0, 0.8)
    summary = replace(analysis_119.summary, af_burden_pct=30.0)
    edited = replace(analysis_119, regions=(*analysis_119.regions, af), summary=summary)
    assert "AF/flutter (1 episode, burden 30.0 %)" in list_main_findings(edited)
    rhythm = replace(summary.predominant_rhythm, name="atrial fibrillation/flutter")
    predominant = replace(edited, summary=replace(summary, predominant_rhythm=rhythm))
    assert not any(f.startswith("AF") for f in list_main_findings(predominant))


@pytest.mark.mitdb
def test_223_s_sustained_ventricular_tachycardias_lead_its_findings(mitdb_dir):
    analysis = analyse_record(read_record(mitdb_dir / "223", annotator=None), load_default_model())
    findings = list_main_findings(analysis)
    assert findings[0].startswith("sustained VT (2, longest ")
    assert any(f.startswith("ventricular burden ") for f in findings)
