"""A patient's diary (pipeline.diary): reading it, the rhythm at each entry on real excerpts with the bundled model,
and the diary in every output (CSV, JSON, WFDB notes, PDF), in ``ecg score`` and in the dashboard."""

from __future__ import annotations

import datetime
import json
import re

import numpy as np
import pytest
import wfdb

from app import outputs
from app.analysis import add_diary, analyse_record, diary_findings, edit_analysis
from app.batch import read_table
from app.report import diary_lines, diary_strips
from app.strips import STRIP_S
from models.bundled import load_default_model
from pipeline.diary import (
    DiaryEntry,
    DiaryError,
    correlate_diary,
    describe_finding,
    finding_to_dict,
    format_diary,
    parse_diary,
    read_diary_notes,
)
from pipeline.labels import AAMI_TO_SYMBOL
from pipeline.records import read_annotations, read_record
from pipeline.regions import Region
from tests.score_runs import copy_record, count_pdf_pages, run_score

FS = 360.0


@pytest.fixture(scope="module")
def model():
    return load_default_model()


@pytest.fixture(scope="module")
def analysis_119(model, excerpts_dir):
    return analyse_record(read_record(excerpts_dir / "119", annotator=None), model)


# ------------------------------------------------------------------------------------------------
# Reading a diary
# ------------------------------------------------------------------------------------------------

def test_a_diary_is_read_in_every_time_format_and_put_in_time_order():
    text = ('# written by the technician\ntime,symptom\n01:02:03, dizzy\n\n2:30,"palpitations, short"\n'
            '75.5 ,  chest   pain\n')
    entries = parse_diary(text, duration_s=7200)
    assert entries == (DiaryEntry(75.5, "chest pain"), DiaryEntry(150.0, "palpitations, short"),
                       DiaryEntry(3723.0, "dizzy"))
    assert parse_diary(format_diary(entries), duration_s=7200) == entries  # the dashboard's text round trips


def test_clock_times_use_the_recording_s_start_and_cross_midnight():
    start = datetime.time(22, 30, 0)
    entries = parse_diary("[23:00], went to bed\n[01:15:30], woke up breathless\n", 6 * 3600, start)
    assert [e.time_s for e in entries] == [1800.0, 2 * 3600 + 45 * 60 + 30.0]


@pytest.mark.parametrize("text, expected", [
    ("00:12:30\n", "line 1: received '00:12:30'; expected a time, a comma"),
    ("00:01:00, ok\nnoon, lunch\n", "line 2: received time 'noon'"),
    ("00:01:00, ok\n00:75:00, late\n", "line 2: received time '00:75:00'"),
    ("03:00:00, late\n", "line 1: time 03:00:00 is past the end of the recording; expected a time within it "
                         "(00:00:00 to 00:30:00)"),
    ("[14:32], chest pain\n", "line 1: received clock time [14:32], but the recording's header gives no start time"),
    ("[25:00], chest pain\n", "line 1: received clock time [25:00]; expected [hh:mm] or [hh:mm:ss]"),
    ("00:01:00, " + "é" * 150 + "\n", "line 1: the text has 150 characters; expected at most 200"),
])
def test_a_bad_diary_line_is_named_with_what_was_expected(text, expected):
    with pytest.raises(DiaryError) as error:
        parse_diary(text, duration_s=1800, source="diary 100.diary.csv")
    assert f"diary 100.diary.csv, {expected}" in str(error.value)


# ------------------------------------------------------------------------------------------------
# The rhythm at each entry
# ------------------------------------------------------------------------------------------------

def test_findings_give_the_rate_and_the_events_within_a_minute_nearest_first():
    beats = np.arange(0, 600 * FS, FS).astype(np.int64)  # 60 bpm for 10 minutes
    couplet = Region("ventricular_couplet", int(100 * FS), int(101 * FS), 100, 2, 120.0, 0.9)
    isolated = [Region("isolated_ventricular", int(t * FS), int(t * FS) + 1, int(t), 1, 80.0, 0.9)
                for t in (130, 95, 300)]
    noise = Region("unreadable", int(290 * FS), int(310 * FS), -1, 0, float("nan"), 1.0)
    entries = (DiaryEntry(110.0, "dizzy"), DiaryEntry(300.0, "faint"), DiaryEntry(500.0, "fine"))
    first, second, third = correlate_diary(entries, [couplet, *isolated, noise], beats, FS)
    assert first.heart_rate_bpm == pytest.approx(60.0)
    assert [r.start / FS for r in first.regions] == [100.0, 95.0, 130.0]  # the couplet holds the nearest beat
    assert describe_finding(first, FS) == ("60 bpm; ventricular couplet at 00:01:40, 2 x isolated ventricular, "
                                           "nearest at 00:01:35")
    assert not second.readable and describe_finding(second, FS).startswith("signal unreadable at that time; 60 bpm")
    assert third.regions == () and describe_finding(third, FS) == "60 bpm; no event within 1 min"
    # An episode the entry falls inside is under way, not "at" its start (session 48's read).
    af = Region("atrial_fibrillation", int(400 * FS), int(530 * FS), 400, 130, 60.0, 0.9)
    (inside,) = correlate_diary((DiaryEntry(500.0, "fluttering"),), [af], beats, FS)
    assert describe_finding(inside, FS, start_time=datetime.time(8, 0)) == (
        "60 bpm; atrial fibrillation/flutter under way from 00:06:40 (clock 08:06:40) to 00:08:50 (clock 08:08:50)")


def test_report_gives_isolated_beats_a_count_without_a_duration(analysis_119):
    from dataclasses import replace

    from app.report import event_lines

    # a whole record's isolated beats add up to over a second (MIT-BIH 119: 444 of them, 1.2 s), which is no duration
    events = tuple(replace(t, total_s=1.5) if t.kind == "isolated_ventricular" else t
                   for t in analysis_119.summary.events)
    lines = event_lines(replace(analysis_119, summary=replace(analysis_119.summary, events=events)))
    isolated = [line for line in lines if line.startswith("isolated ventricular")]
    assert isolated and all("(" not in line for line in isolated)
    assert any(line.startswith("ventricular bigeminy: ") and "(total 00:" in line for line in lines)


def test_report_rounds_durations_and_gives_no_run_of_one_beat(analysis_119):
    from dataclasses import replace

    from app.report import event_lines, summary_lines

    # an episode of 5.8 s lasts 00:00:06 (a time in the record, 5.8 s in, stays 00:00:05: a clock rounds down)
    events = tuple(replace(t, total_s=5.8) if t.kind == "ventricular_bigeminy" else t
                   for t in analysis_119.summary.events)
    summary = replace(analysis_119.summary, events=events, longest_ventricular_run=1, longest_supraventricular_run=3,
                      longest_ventricular_run_time_s=float("nan"), longest_supraventricular_run_time_s=12.9)
    edited = replace(analysis_119, summary=summary)
    lines = event_lines(edited)
    assert any(line.startswith("ventricular bigeminy: ") and line.endswith("(total 00:00:06)") for line in lines)
    runs = next(line for line in summary_lines(edited) if line.startswith("Longest runs"))
    assert runs.startswith("Longest runs: ventricular none, supraventricular 3 beats at 00:00:12")


def test_on_a_real_record_an_entry_at_a_pvc_finds_it(analysis_119):
    """Excerpt 119 (ventricular bigeminy and trigeminy): an entry at a beat the model calls V lists a ventricular
    event at that beat, and the rate is the mean of the beats around it."""
    fs = analysis_119.record.fs_hz
    samples = analysis_119.predictions.samples
    pvc = int(np.flatnonzero(analysis_119.classes == "V")[40])
    at_s = samples[pvc] / fs
    edited = add_diary(analysis_119, (DiaryEntry(at_s, "thump in the chest"),))
    (finding,) = diary_findings(edited)
    assert finding.readable
    assert "ventricular" in finding.regions[0].kind
    assert finding.regions[0].start <= samples[pvc] < finding.regions[0].stop
    around = samples[np.abs(samples / fs - at_s) <= 30]
    assert finding.heart_rate_bpm == pytest.approx(60 * (len(around) - 1) / ((around[-1] - around[0]) / fs))
    assert 40 < finding.heart_rate_bpm < 120


def test_findings_follow_a_reader_s_corrections(analysis_119):
    fs = analysis_119.record.fs_hz
    pvc = int(np.flatnonzero(analysis_119.classes == "V")[40])
    diary = (DiaryEntry(analysis_119.predictions.samples[pvc] / fs, "thump"),)
    near_v = np.flatnonzero((analysis_119.classes == "V")
                            & (np.abs(analysis_119.predictions.samples / fs - diary[0].time_s) <= 70))
    corrected = edit_analysis(add_diary(analysis_119, diary), labels={int(i): "N" for i in near_v})
    (finding,) = diary_findings(corrected)
    assert not any("ventricular" in r.kind for r in finding.regions)


# ------------------------------------------------------------------------------------------------
# Outputs
# ------------------------------------------------------------------------------------------------

def test_the_diary_is_in_the_csv_the_json_and_the_pdf(analysis_119):
    diary = parse_diary("00:01:10, dizzy\n00:04:50, chest pain\n", analysis_119.record.duration_s)
    edited = add_diary(analysis_119, diary)
    rows = outputs.diary_table_csv(edited).decode().splitlines()
    assert rows[0] == "time_s,clock_time,text,heart_rate_bpm,readable,events,finding"
    assert rows[1].startswith("70.0,,dizzy,") and len(rows) == 3
    summary = json.loads(outputs.summary_json(edited))
    assert [d["text"] for d in summary["diary"]] == ["dizzy", "chest pain"]
    assert summary["diary"][0]["events"] and summary["start_time"] is None
    # a diary page; the diary's line on page 1 can also move a page-1 strip to the strip pages, which may then take
    # one page more (since session 60 the main findings line leaves 119's page 1 room for its two strips and no more)
    from app.report import has_trend, plan_strips, split_strip_pages, strip_leads

    def count_strip_pages(analysis) -> int:
        return len(split_strip_pages(plan_strips(analysis)[1], has_trend(analysis), len(strip_leads(analysis.record))))

    added = count_pdf_pages(outputs.pdf_report_bytes(edited)) - count_pdf_pages(outputs.pdf_report_bytes(analysis_119))
    assert added == 1 + count_strip_pages(edited) - count_strip_pages(analysis_119)
    lines = diary_lines(edited)
    assert lines[0] == "00:01:10  dizzy" and lines[1].startswith("    ") and "ventricular" in lines[1]
    from app.report import summary_lines

    assert "Patient diary: 2 entries: 2 with an event within 1 min, 0 without (diary page)" in summary_lines(edited)
    strips, findings = diary_strips(edited), diary_findings(edited)
    assert [s.marker_s for s in strips] == [70.0, 290.0]
    fs = edited.record.fs_hz
    for strip, finding in zip(strips, findings):  # the entry and the nearest event it lists, both on the strip
        nearest = finding.regions[0]
        assert strip.start_s < strip.marker_s < strip.start_s + STRIP_S
        event = (nearest.start / fs, nearest.stop / fs)
        if event[1] - event[0] > STRIP_S - 1:  # too long to show with the entry: the entry in the middle, and what
            assert strip.start_s == strip.marker_s - STRIP_S / 2  # the strip shows of the event shaded
            assert strip.shaded == (max(event[0], strip.start_s), min(event[1], strip.start_s + STRIP_S))
        else:
            assert strip.shaded[0] == event[0] and strip.start_s < strip.shaded[0]
            assert strip.shaded[1] < strip.start_s + STRIP_S
    assert strips[0].shaded[1] - strips[0].shaded[0] < 1  # a V beat at 70.2 s, then a trigeminy filling the strip
    assert strips[1].shaded[0] == strips[1].start_s and strips[1].shaded[1] - strips[1].shaded[0] > 5
    assert json.loads(outputs.summary_json(analysis_119))["diary"] == []


def test_diary_entries_travel_in_the_wfdb_annotation_file(analysis_119, excerpts_dir, tmp_path):
    """As comment annotations WFDB reads back (UTF-8 text included), beside unchanged beat annotations."""
    diary = (DiaryEntry(0.0, "recording started"), DiaryEntry(70.0, "douleur thoracique — vertige"))
    edited = add_diary(analysis_119, diary)
    copy_record(excerpts_dir, "119", tmp_path)
    (tmp_path / "119.ecg").write_bytes(outputs.annotation_file_bytes(edited))
    raw = wfdb.rdann(str(tmp_path / "119"), "ecg")
    notes = [n for s, n in zip(raw.symbol, raw.aux_note) if s == '"' and n.startswith("diary: ")]
    assert len(notes) == 2
    saved = read_annotations(tmp_path / "119", "ecg", source_fs_hz=360.0, target_fs_hz=edited.record.fs_hz)
    assert read_diary_notes(saved.samples, saved.aux_notes, edited.record.fs_hz) == diary
    assert np.sum(np.isin(raw.symbol, list(AAMI_TO_SYMBOL.values()))) == len(analysis_119.predictions)


# ------------------------------------------------------------------------------------------------
# ecg score
# ------------------------------------------------------------------------------------------------

def test_score_reads_each_record_s_diary_and_rescores_when_it_changes(excerpts_dir, tmp_path):
    records = tmp_path / "records"
    for name in ("100", "119"):
        copy_record(excerpts_dir, name, records)
    (records / "119.diary.csv").write_text("00:02:00, palpitations\n", encoding="utf-8")
    (records / "100.diary.csv").write_text("00:01:00, fine\nlunch, eating\n", encoding="utf-8")
    out = tmp_path / "out"
    code, _ = run_score(str(records), "--out", str(out))
    assert code == 1  # 100's diary has a bad line; 119 is scored all the same
    errors = (out / "errors.csv").read_text()
    assert "100" in errors and "DiaryError" in errors and "line 2: received time 'lunch'" in errors
    summary = json.loads((out / "119" / "119_summary.json").read_text())
    assert [d["text"] for d in summary["diary"]] == ["palpitations"]
    assert (out / "119" / "119_diary.csv").is_file()
    (row,) = [r for r in read_table(out / "batch_summary.csv") if r["record"] == "119"]
    assert row["diary_entries"] == "1" and row["diary_entries_with_events"] == "1"  # 119: ectopy every minute
    (records / "100.diary.csv").write_text("00:01:00, fine\n", encoding="utf-8")
    (records / "119.diary.csv").write_text("00:02:00, palpitations\n00:03:00, dizzy\n", encoding="utf-8")
    code, output = run_score(str(records), "--out", str(out))
    assert code == 0 and "2 scored, 0 already up to date, 0 failed" in output
    summary = json.loads((out / "119" / "119_summary.json").read_text())
    assert [d["text"] for d in summary["diary"]] == ["palpitations", "dizzy"]


def test_score_takes_clock_times_from_a_diary_folder(excerpts_dir, tmp_path):
    """A record whose header has a start time (14:05:00) and a diary kept elsewhere (--diary-dir)."""
    record = read_record(excerpts_dir / "100", annotator=None)
    folder = tmp_path / "records"
    folder.mkdir()
    signal = record.signal_mv.astype(np.float64)
    wfdb.wrsamp("holter", fs=record.fs_hz, units=["mV", "mV"], sig_name=list(record.lead_names), p_signal=signal,
                fmt=["16", "16"], adc_gain=[1000.0, 1000.0], baseline=[0, 0], write_dir=str(folder),
                base_time=datetime.time(14, 5, 0))
    diaries = tmp_path / "diaries"
    diaries.mkdir()
    (diaries / "holter.diary.csv").write_text("[14:07:30], short of breath\n", encoding="utf-8")
    out = tmp_path / "out"
    assert run_score(str(folder / "holter"), "--out", str(out), "--diary-dir", str(diaries))[0] == 0
    summary = json.loads((out / "holter" / "holter_summary.json").read_text())
    assert summary["start_time"] == "14:05:00"
    assert summary["diary"][0]["time_s"] == 150.0 and summary["diary"][0]["clock_time"] == "14:07:30"
    assert [row["clock_time"] for row in summary["hourly"]] == ["14:05:00"]  # the hourly rows say their clock time
    assert (out / "holter" / "holter_hourly.csv").read_text().splitlines()[1].startswith("14:05:00,0.0,")
    # a line a minute before the recording started (the patient's watch a minute off): left out and said, the rest
    # of the diary and the record kept (it failed the whole record until a QA pass, session 50)
    (diaries / "holter.diary.csv").write_text("[14:04:00], chest pain\n[14:07:30], short of breath\n", encoding="utf-8")
    code, output = run_score(str(folder / "holter"), "--out", str(out), "--diary-dir", str(diaries))
    assert code == 0, output
    summary = json.loads((out / "holter" / "holter_summary.json").read_text())
    assert [d["text"] for d in summary["diary"]] == ["short of breath"]
    note = ("diary holter.diary.csv, line 1: time [14:04:00] is 23:59:00 into the recording (a clock time earlier "
            "than its start, 14:05:00, is the next day's): outside the recording, left out")
    assert note in summary["notes"]
    (row,) = read_table(out / "batch_summary.csv")
    assert note in row["message"] and row["diary_entries"] == "1"


def test_score_labels_from_a_review_brings_its_diary(analysis_119, excerpts_dir, tmp_path):
    records = tmp_path / "records"
    copy_record(excerpts_dir, "119", records)
    reviewed = add_diary(analysis_119, (DiaryEntry(70.0, "dizzy"),))
    (records / "119.ecg").write_bytes(outputs.annotation_file_bytes(reviewed))
    out = tmp_path / "out"
    assert run_score(str(records), "--out", str(out), "--labels-from", "ecg")[0] == 0
    summary = json.loads((out / "119" / "119_summary.json").read_text())
    assert [(d["time_s"], d["text"]) for d in summary["diary"]] == [(70.0, "dizzy")]


def test_with_the_header_s_start_time_the_report_gives_clock_times(analysis_119):
    from dataclasses import replace

    from app.report import reference_strips, summary_lines
    from app.strips import event_strip

    record = replace(analysis_119.record, start_time=datetime.time(23, 58, 0))
    analysis = add_diary(replace(analysis_119, record=record), (DiaryEntry(70.0, "dizzy"),))
    assert summary_lines(analysis)[0].startswith("Duration 00:05:00 from 23:58:00")
    assert diary_strips(analysis)[0].title == "Diary 00:01:10 (23:59:10): dizzy"
    region = analysis.regions[-1]
    clock = (23 * 3600 + 58 * 60 + int(region.start / record.fs_hz)) % 86400
    assert f"({clock // 3600:02d}:{clock % 3600 // 60:02d}:{clock % 60:02d})" in event_strip(region, record.fs_hz,
                                                                                              record.start_time).title
    strips = reference_strips(analysis)  # lowest and highest rate, longest RR interval
    assert len(strips) == 3 and all(re.search(r" \((23|00):\d\d:\d\d\)", strip.title) for strip in strips)
    assert "from 23:58" not in summary_lines(analysis_119)[0]


def test_a_long_diary_lists_what_fits_on_its_page_and_says_how_many_more(analysis_119):
    from app.report import MAX_DIARY_LINES, MAX_DIARY_STRIPS, draw_diary_page

    entries = tuple(DiaryEntry(10.0 + 15 * k, f"entry {k}: dizzy and short of breath while walking") for k in range(16))
    lines = diary_lines(add_diary(analysis_119, entries))
    assert len(lines) <= MAX_DIARY_LINES and lines[0].startswith("00:00:10  entry 0:")
    shown = sum(line[:2] == "00" for line in lines)
    assert 0 < shown < 16 and lines[-1] == f"... and {16 - shown} more entries (NAME_diary.csv, summary JSON)"
    figure = draw_diary_page(add_diary(analysis_119, entries))
    text, *strips = figure.axes
    assert len(strips) == 2 < MAX_DIARY_STRIPS  # a long list leaves room for two two-lead strips of the five
    boxes = [ax.get_position() for ax in figure.axes]  # top to bottom, none over another, all on the page
    assert all(upper.y0 > lower.y1 for upper, lower in zip(boxes, boxes[1:])) and boxes[-1].y0 > 0.03
    assert len(draw_diary_page(add_diary(analysis_119, entries[:2])).axes) == 1 + 2


def test_score_pacemaker_says_so_and_leaves_hrv_out_where_it_paced(excerpts_dir, tmp_path):
    records = tmp_path / "records"
    for name in ("100", "217"):
        copy_record(excerpts_dir, name, records)
    out = tmp_path / "out"
    assert run_score(str(records), "--out", str(out), "--format", "json")[0] == 0
    plain = json.loads((out / "100" / "100_summary.json").read_text())
    code, output = run_score(str(records), "--out", str(out), "--format", "json", "--pacemaker")
    assert code == 0 and "2 scored" in output  # a changed setting rescores
    paced = json.loads((out / "100" / "100_summary.json").read_text())
    assert plain["pacemaker"] is None and plain["hrv"]["sdnn_ms"] is not None
    assert paced["pacemaker"] == "stated by the user"
    assert paced["notes"][0].startswith("pacemaker (stated by the user): the classifier was not trained on paced")
    assert paced["beat_counts"] == plain["beat_counts"]
    # 100's pacemaker paced no beat: HRV is measured on its own beats, as without one (since session 46)
    assert paced["hrv"]["sdnn_ms"] == plain["hrv"]["sdnn_ms"]
    assert paced["notes"][1].startswith("the pacemaker paced under 10 % of the beats")
    paced_217 = json.loads((out / "217" / "217_summary.json").read_text())  # paced most of the time: no HRV
    assert paced_217["hrv"]["sdnn_ms"] is None
    assert any(n.startswith("HRV not assessed: the patient has a pacemaker") for n in paced_217["notes"])


def test_a_diary_file_that_is_not_text_or_too_large_is_refused(tmp_path):
    from pipeline.diary import MAX_DIARY_BYTES, read_diary

    latin = tmp_path / "a.diary.csv"  # Windows' encoding, as Notepad long saved: read (a QA pass, session 50)
    latin.write_bytes("00:01:00, douleur thoracique \u00e9, puis vertige".encode("cp1252"))
    assert read_diary(latin, 600) == ((DiaryEntry(60.0, "douleur thoracique \u00e9, puis vertige"),), ())
    binary = tmp_path / "d.diary.csv"  # bytes that are text in neither
    binary.write_bytes(b"00:01:00, \x81\x8d\xff")
    with pytest.raises(DiaryError, match="Diary d.diary.csv is not UTF-8 text"):
        read_diary(binary, 600)
    large = tmp_path / "b.diary.csv"
    large.write_bytes(b"00:01:00, x\n" * (MAX_DIARY_BYTES // 12 + 1))
    with pytest.raises(DiaryError, match=f"expected a text file of at most {MAX_DIARY_BYTES} bytes"):
        read_diary(large, 600)
    bom = tmp_path / "c.diary.csv"
    bom.write_bytes("\ufeff00:01:00, vertige\n".encode("utf-8"))
    assert read_diary(bom, 600) == ((DiaryEntry(60.0, "vertige"),), ())


def test_the_dashboard_gives_clock_times_beside_times_into_the_recording(analysis_119):
    """A record started at 23:30: 01:22:00 into it is 00:52:00 on the clock, and a QA pass found the dashboard's
    extremes and hourly table giving only the first (session 45); the report already gave both."""
    from dataclasses import replace
    from app.dashboard.tables import describe_extremes, hourly_table
    from pipeline.diary import format_clock_time
    from pipeline.wording import format_hms
    started = replace(analysis_119, record=replace(analysis_119.record, start_time=datetime.time(23, 30)))
    lowest = analysis_119.summary.heart_rate_min_time_s
    clock = format_clock_time(lowest, datetime.time(23, 30))
    assert f"Lowest rate at {format_hms(lowest)} (clock {clock})" in describe_extremes(started)
    assert "(clock" not in describe_extremes(analysis_119)
    table = hourly_table(started.summary, started.record.start_time)
    assert table["clock"].tolist()[0] == "23:30:00" and "clock" not in hourly_table(analysis_119.summary).columns


def test_a_start_with_a_fraction_of_a_second_keeps_the_diary_s_clock_time(analysis_119):
    """A header starting at 10:45:30.250 and a diary entry at [10:50:00]: the entry is 269.75 s into the recording
    and shown at 10:50:00, not 10:49:59 (a QA pass of session 47); the events near it carry their clock time too."""
    from dataclasses import replace
    start = datetime.time(10, 45, 30, 250000)
    entries = parse_diary("[10:50:00], chest pain\n", 300, start)
    assert entries[0].time_s == pytest.approx(269.75)
    analysis = add_diary(replace(analysis_119, record=replace(analysis_119.record, start_time=start)), entries)
    finding = finding_to_dict(diary_findings(analysis)[0], analysis.record.fs_hz, start)
    assert finding["clock_time"] == "10:50:00"
    assert re.search(r" at 00:04:\d\d \(clock 10:(49|50):\d\d\)", finding["finding"])  # 119: bigeminy throughout
    assert diary_lines(analysis)[0].startswith("00:04:29 (10:50:00)")
