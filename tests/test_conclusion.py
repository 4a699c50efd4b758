"""The reader's conclusion (app.conclusion): kept in the review's annotation file, printed on the report, read
back by ``ecg score --labels-from`` and the dashboard."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import wfdb

from app import outputs
from app.analysis import add_conclusion, add_diary, analyse_record
from app.conclusion import (
    MAX_CONCLUSION_CHARS,
    MORE_PREFIX,
    NOTE_PREFIX,
    ConclusionError,
    check_conclusion,
    conclusion_notes,
    read_conclusion_notes,
)
from app.event_settings import read_settings_notes
from app.report import conclusion_lines
from models.bundled import load_default_model
from pipeline.diary import DiaryEntry, read_diary_notes
from pipeline.records import read_annotations, read_record
from tests.score_runs import copy_record, run_score

CONCLUSION = ("Rythme sinusal 60-70/min ; extrasystoles ventriculaires monomorphes fréquentes (24,5 %), "
              "en bigéminisme et trigéminisme. Pas de tachycardie ventriculaire, pas de pause.\n\n"
              "Dr A. Lecteur — 1 déc. 2026")


@pytest.fixture(scope="module")
def analysis_119(excerpts_dir):
    return analyse_record(read_record(excerpts_dir / "119", annotator=None), load_default_model())


def test_a_long_conclusion_is_cut_into_notes_between_characters():
    text = "é" * 700  # two bytes each: a cut at an odd byte count would split one
    notes = conclusion_notes(text)
    assert len(notes) == 6 and notes[0].startswith(NOTE_PREFIX) and all(n.startswith(MORE_PREFIX) for n in notes[1:])
    assert all(len(n.encode("latin-1")) <= 255 for n in notes)  # WFDB's limit, in bytes
    assert read_conclusion_notes(("event settings: pause_s = 3.0", *notes)) == text
    assert conclusion_notes("  \n ") == ()


def test_a_conclusion_too_long_is_refused_with_the_limit():
    assert check_conclusion("  Sinus rhythm.  \n  No pause.  ") == "Sinus rhythm.\n  No pause."
    with pytest.raises(ConclusionError, match=f"expected at most {MAX_CONCLUSION_CHARS}"):
        check_conclusion("x" * (MAX_CONCLUSION_CHARS + 1))


def test_the_conclusion_travels_in_the_annotation_file_with_the_other_notes(analysis_119, excerpts_dir, tmp_path):
    settings = replace(analysis_119.region_settings, pause_s=3.0)
    edited = add_diary(add_conclusion(replace(analysis_119, region_settings=settings), CONCLUSION),
                       (DiaryEntry(70.0, "dizzy"),))
    copy_record(excerpts_dir, "119", tmp_path)
    (tmp_path / "119.ecg").write_bytes(outputs.annotation_file_bytes(edited))
    raw = wfdb.rdann(str(tmp_path / "119"), "ecg")  # readable by WFDB: notes at the second sample
    assert sum(n.startswith(NOTE_PREFIX) for n in raw.aux_note) == 3  # one per line, the empty one too
    saved = read_annotations(tmp_path / "119", "ecg", source_fs_hz=360.0, target_fs_hz=edited.record.fs_hz)
    assert read_conclusion_notes(saved.aux_notes) == CONCLUSION
    assert read_settings_notes(saved.aux_notes).pause_s == 3.0
    assert read_diary_notes(saved.samples, saved.aux_notes, edited.record.fs_hz) == edited.diary


def test_the_conclusion_is_in_the_summary_and_on_the_report_s_first_page(analysis_119):
    edited = add_conclusion(analysis_119, CONCLUSION)
    assert json.loads(outputs.summary_json(edited))["reader_conclusion"] == CONCLUSION
    assert json.loads(outputs.summary_json(analysis_119))["reader_conclusion"] is None
    lines = conclusion_lines(edited)
    assert lines[0].startswith("Rythme sinusal") and "" in lines and lines[-1] == "Dr A. Lecteur — 1 déc. 2026"
    assert all(len(line) <= 110 for line in lines) and conclusion_lines(analysis_119) == []
    assert outputs.pdf_report_bytes(edited) != outputs.pdf_report_bytes(analysis_119)
    # an automatic analysis says it is one (a clinical read of the reports, session 47: no line told it from a read one)
    from app.report import summary_lines
    assert any(line.startswith("Review: none yet") for line in summary_lines(analysis_119))
    assert not any(line.startswith("Review: none yet") for line in summary_lines(edited))


def test_score_labels_from_a_review_keeps_its_conclusion(analysis_119, excerpts_dir, tmp_path):
    records = tmp_path / "records"
    copy_record(excerpts_dir, "119", records)
    (records / "119.ecg").write_bytes(outputs.annotation_file_bytes(add_conclusion(analysis_119, CONCLUSION)))
    code, output = run_score(str(records), "--out", str(tmp_path / "out"), "--labels-from", "ecg")
    assert code == 0, output
    summary = json.loads((tmp_path / "out" / "119" / "119_summary.json").read_text())
    assert summary["reader_conclusion"] == CONCLUSION


def test_a_conclusion_of_many_lines_is_cut_on_the_page_and_kept_whole_elsewhere(analysis_119):
    from app.report import MAX_CONCLUSION_LINES

    text = "\n".join(f"Line {k}." for k in range(12))
    edited = add_conclusion(analysis_119, text)
    lines = conclusion_lines(edited)
    assert len(lines) == MAX_CONCLUSION_LINES and lines[-1].startswith("... (the whole text is in the summary JSON")
    assert json.loads(outputs.summary_json(edited))["reader_conclusion"] == text
