"""The main findings line (app.findings): the significant events and measurements first, under the rhythm."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.analysis import analyse_record
from app.findings import NONE_FOUND, describe_main_findings, list_main_findings
from app.report import summary_lines
from models.bundled import load_default_model
from pipeline.records import read_record
from pipeline.regions import Region


@pytest.fixture(scope="module")
def analysis_119(excerpts_dir):
    return analyse_record(read_record(excerpts_dir / "119", annotator=None), load_default_model())


def joined(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


def test_a_record_with_none_of_them_says_so_under_its_rhythm(excerpts_dir):
    analysis = analyse_record(read_record(excerpts_dir / "100", annotator=None), load_default_model())
    assert describe_main_findings(analysis) == NONE_FOUND
    lines = summary_lines(analysis)
    rhythm = next(k for k, line in enumerate(lines) if line.startswith("Predominant rhythm: "))
    following = next(k for k, line in enumerate(lines) if line.startswith("Main findings: "))
    assert following > rhythm and all(line.startswith("  ") for line in lines[rhythm + 1:following])


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
    assert findings[:4] == ["ventricular flutter/fibrillation (1, total 00:00:10, check: low confidence or in noise)",
                            "sustained ventricular tachycardia (1, longest 35 s at 00:01:40)",
                            "non-sustained ventricular tachycardia (1, longest 4 beats at 00:03:20, check: low "
                            "confidence or in noise)",
                            "pauses of 3 s or more (1, longest 3.50 s)"]
    assert "Main findings: ventricular flutter/fibrillation (1, total 00:00:10" in joined(summary_lines(edited))
    short = replace(pause, stop=int(52.9 * fs), heart_rate_bpm=60 / 2.9)  # a pause under 3 s is not one of them
    confident = replace(brief, confidence=0.9)  # one sure event of the kind is enough to drop the mark
    findings = list_main_findings(replace(analysis_119, regions=(*analysis_119.regions, short, brief, confident)))
    assert findings[0] == "non-sustained ventricular tachycardia (2, longest 4 beats at 00:03:20)"
    assert not any(f.startswith("pauses") for f in findings)


def test_af_is_a_main_finding_unless_it_is_the_predominant_rhythm(analysis_119):
    fs = analysis_119.record.fs_hz
    af = Region("atrial_fibrillation", int(10 * fs), int(100 * fs), 10, 120, 95.0, 0.8)
    summary = replace(analysis_119.summary, af_burden_pct=30.0)
    edited = replace(analysis_119, regions=(*analysis_119.regions, af), summary=summary)
    assert "atrial fibrillation/flutter (1 episode, 30.0 % of the readable time)" in list_main_findings(edited)
    rhythm = replace(summary.predominant_rhythm, name="atrial fibrillation/flutter")
    predominant = replace(edited, summary=replace(summary, predominant_rhythm=rhythm))
    assert not any(f.startswith("atrial") for f in list_main_findings(predominant))


@pytest.mark.mitdb
def test_223_s_sustained_ventricular_tachycardias_lead_its_findings(mitdb_dir):
    analysis = analyse_record(read_record(mitdb_dir / "223", annotator=None), load_default_model())
    findings = list_main_findings(analysis)
    assert findings[0].startswith("sustained ventricular tachycardia (2, longest ")
    assert any(f.startswith("frequent ventricular ectopic beats (") for f in findings)
