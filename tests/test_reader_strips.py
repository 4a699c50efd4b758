"""Strips chosen by the reader (app.reader_strips): kept in the review's annotation file at their starts, printed on
the report's pages after the first, in the summary JSON, read back by ``ecg score --labels-from``."""

from __future__ import annotations

import json

import pytest
import wfdb

from app import outputs
from app.analysis import add_conclusion, add_diary, add_reader_strips, analyse_record
from app.conclusion import read_conclusion_notes
from app.reader_strips import (
    MAX_READER_STRIPS,
    MAX_TITLE_CHARS,
    NOTE_PREFIX,
    READER_STRIP_S,
    ReaderStrip,
    ReaderStripError,
    check_reader_strips,
    read_strip_notes,
    strip_for_window,
)
from app.report import READER_STRIPS_PER_PAGE, chosen_strips, reader_strips_per_page
from models.bundled import load_default_model
from pipeline.diary import DiaryEntry, read_diary_notes
from pipeline.records import read_annotations, read_record
from tests.score_runs import copy_record, count_pdf_pages, run_score

@pytest.fixture(scope="module")
def analysis_119(excerpts_dir):
    return analyse_record(read_record(excerpts_dir / "119", annotator=None), load_default_model())


def strips_of(analysis, *starts_and_titles) -> tuple[ReaderStrip, ...]:
    fs = analysis.record.fs_hz
    return tuple(ReaderStrip(int(round(start_s * fs)), title) for start_s, title in starts_and_titles)


def test_strips_are_checked_put_in_time_order_and_one_per_start():
    strips = check_reader_strips([ReaderStrip(900, "  second \n strip "), ReaderStrip(10, "first"),
                                  ReaderStrip(900, "second, retitled")], n_samples=1000)
    assert strips == (ReaderStrip(10, "first"), ReaderStrip(900, "second, retitled"))
    assert check_reader_strips([ReaderStrip(5, " a \t b ")], 10) == (ReaderStrip(5, "a b"),)
    with pytest.raises(ReaderStripError, match=r"expected a sample within the record \(0 to 999\)"):
        check_reader_strips([ReaderStrip(1000, "")], n_samples=1000)
    with pytest.raises(ReaderStripError, match=f"expected at most {MAX_TITLE_CHARS}"):
        check_reader_strips([ReaderStrip(0, "x" * (MAX_TITLE_CHARS + 1))], n_samples=1000)
    with pytest.raises(ReaderStripError, match=f"expected at most {MAX_READER_STRIPS}"):
        check_reader_strips([ReaderStrip(k, "") for k in range(MAX_READER_STRIPS + 1)], n_samples=1000)


def test_a_strip_shows_the_middle_of_the_window_within_the_record():
    assert strip_for_window(100.0, 30.0, 1800.0, 250.0) == round((115.0 - READER_STRIP_S / 2) * 250)
    assert strip_for_window(0.0, 5.0, 1800.0, 250.0) == 0  # never before the start
    assert strip_for_window(1795.0, 10.0, 1800.0, 250.0) == round((1800.0 - READER_STRIP_S) * 250)  # nor past the end
    assert strip_for_window(0.0, 5.0, 4.0, 250.0) == 0  # a record shorter than a strip


def test_strips_travel_in_the_annotation_file_where_they_start(analysis_119, excerpts_dir, tmp_path):
    strips = strips_of(analysis_119, (0.0, "Début de l'enregistrement"), (62.5, "Bigéminisme ventriculaire"),
                       (200.0, ""))
    edited = add_diary(add_conclusion(add_reader_strips(analysis_119, strips), "Sinus rhythm with PVCs."),
                       (DiaryEntry(70.0, "dizzy"),))
    copy_record(excerpts_dir, "119", tmp_path)
    (tmp_path / "119.ecg").write_bytes(outputs.annotation_file_bytes(edited))
    raw = wfdb.rdann(str(tmp_path / "119"), "ecg")  # readable by WFDB: a note at each strip's start
    noted = [(int(sample), note) for sample, note in zip(raw.sample, raw.aux_note) if note.startswith(NOTE_PREFIX)]
    assert [sample for sample, _ in noted] == [1, round(62.5 * 360), 200 * 360]  # 119 is recorded at 360 Hz
    saved = read_annotations(tmp_path / "119", "ecg", source_fs_hz=360.0, target_fs_hz=edited.record.fs_hz)
    assert read_strip_notes(saved.samples, saved.aux_notes) == edited.reader_strips
    assert read_conclusion_notes(saved.aux_notes) == "Sinus rhythm with PVCs."
    assert read_diary_notes(saved.samples, saved.aux_notes, edited.record.fs_hz) == edited.diary


def test_strips_are_in_the_summary_and_on_their_own_report_pages(analysis_119):
    strips = strips_of(analysis_119, (30.0, "Palpitations"), (120.0, ""))
    edited = add_reader_strips(analysis_119, strips)
    rows = json.loads(outputs.summary_json(edited))["reader_strips"]
    assert rows == [{"start_s": 30.0, "end_s": 30.0 + READER_STRIP_S, "clock_time": None, "title": "Palpitations"},
                    {"start_s": 120.0, "end_s": 120.0 + READER_STRIP_S, "clock_time": None, "title": ""}]
    assert json.loads(outputs.summary_json(analysis_119))["reader_strips"] == []
    titles = [strip.title for strip in chosen_strips(edited)]
    assert titles == ["Palpitations (00:00:30)", "Chosen by the reader (00:02:00)"]
    without = count_pdf_pages(outputs.pdf_report_bytes(analysis_119))
    assert count_pdf_pages(outputs.pdf_report_bytes(edited)) == without + 1
    per_page = reader_strips_per_page(analysis_119.record)
    assert per_page == 3 < READER_STRIPS_PER_PAGE  # a two-lead record's strips print both leads (session 57)
    many = add_reader_strips(analysis_119, [ReaderStrip(k * 3600, f"strip {k}") for k in range(per_page + 1)])
    assert count_pdf_pages(outputs.pdf_report_bytes(many)) == without + 2


def test_score_labels_from_a_review_keeps_its_strips(analysis_119, excerpts_dir, tmp_path):
    records = tmp_path / "records"
    copy_record(excerpts_dir, "119", records)
    strips = strips_of(analysis_119, (45.0, "Couplet"))
    (records / "119.ecg").write_bytes(outputs.annotation_file_bytes(add_reader_strips(analysis_119, strips)))
    code, output = run_score(str(records), "--out", str(tmp_path / "out"), "--labels-from", "ecg")
    assert code == 0, output
    summary = json.loads((tmp_path / "out" / "119" / "119_summary.json").read_text())
    assert summary["reader_strips"] == [{"start_s": 45.0, "end_s": 45.0 + READER_STRIP_S, "clock_time": None,
                                         "title": "Couplet"}]
