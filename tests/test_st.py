"""ST-segment analysis (pipeline/st.py): measurement points, levels and episodes on real beats.

MIT-BIH has no reference ST annotations, so the episodes are checked on real excerpts with a known ST change added
to their normal beats (a depression of a given size between the J point and the end of the T wave, during a known
stretch), and the points on records whose conduction the beat labels state (left bundle branch block).
"""

import dataclasses

import numpy as np
import pytest
import wfdb

from pipeline.quality import find_quality_spans
from pipeline.records import read_record
from pipeline.region_eval import annotated_beats, pacing_hint, summarize_labelled_record
from pipeline.regions import RegionSettings
from pipeline.st import StSettings, analyse_st, describe_st, read_st_marks, st_rows
from tests.made_records import add_st_change
from tests.score_runs import count_pdf_pages

FS_HZ = 360.0


def read_beats(path):
    """A record with its reference beat positions and classes (the annotations' AAMI classes)."""
    record = read_record(path, annotator="atr")
    samples, classes = annotated_beats(record.annotations)
    return record, samples, classes


@pytest.fixture(scope="module")
def excerpt_100(excerpts_dir):
    return read_beats(excerpts_dir / "100")


def test_a_real_excerpt_without_st_change_has_no_episode(excerpt_100):
    record, samples, classes = excerpt_100
    st = analyse_st(record.signal_mv, record.fs_hz, samples, classes, lead_names=record.lead_names)
    assert st.assessed and st.episodes == ()
    assert 40 <= st.fiducials.qrs_ms < 120  # a normal QRS complex: assessed
    assert st.fiducials.iso_ms < st.fiducials.onset_ms < 0 < st.fiducials.j_ms
    # the levels of a steady record hardly move around its reference
    deviations = st.deviations_mv(0)
    assert np.nanmax(np.abs(deviations)) < 0.05
    assert describe_st(st) == "no depression episode; no elevation episode"


@pytest.mark.parametrize("change_mv", [-0.2, 0.15])
def test_an_added_st_shift_is_found_where_and_as_large_as_it_was_made(excerpt_100, change_mv):
    record, samples, classes = excerpt_100
    clean = analyse_st(record.signal_mv, record.fs_hz, samples, classes, lead_names=record.lead_names)
    changed = add_st_change(record.signal_mv, samples, classes, record.fs_hz, 0, 120, 210, change_mv,
                            clean.fiducials.j_ms)
    st = analyse_st(changed, record.fs_hz, samples, classes, lead_names=record.lead_names)
    assert len(st.episodes) == 1
    episode = st.episodes[0]
    assert episode.lead_name == "MLII" and episode.kind == ("depression" if change_mv < 0 else "elevation")
    assert 105 <= episode.start_s <= 135 and 195 <= episode.stop_s <= 225
    assert episode.deviation_mv == pytest.approx(change_mv, abs=0.03)
    assert not episode.qrs_changed and 50 <= episode.heart_rate_bpm <= 110
    assert abs(episode.slope_mv) < 0.05  # the added shift is flat from J+20 ms on
    assert clean.reference_mv[0] == pytest.approx(st.reference_mv[0], abs=0.02)  # the patient's usual level


def test_baseline_wander_does_not_move_the_st_levels(excerpt_100):
    record, samples, classes = excerpt_100
    clean = analyse_st(record.signal_mv, record.fs_hz, samples, classes, lead_names=record.lead_names)
    t = np.arange(record.n_samples) / record.fs_hz
    wander = 0.8 * np.sin(2 * np.pi * 0.3 * t) + 0.5 * np.sin(2 * np.pi * 0.07 * t + 1.0)
    wandering = record.signal_mv + wander[:, None]
    st = analyse_st(wandering, record.fs_hz, samples, classes, lead_names=record.lead_names)
    difference = np.asarray(st.levels_mv) - np.asarray(clean.levels_mv)
    assert np.nanmax(np.abs(difference)) < 0.03
    assert st.episodes == ()
    # without the spline (the level taken against the beat's own isoelectric level only) the wander would show
    iso_level_only = wander[samples[:-1] + int(0.12 * FS_HZ)] - wander[samples[:-1] - int(0.07 * FS_HZ)]
    assert np.max(np.abs(iso_level_only)) > 0.1


def test_a_left_bundle_branch_block_record_is_not_assessed(mitdb_dir):
    record, samples, classes = read_beats(mitdb_dir / "109")
    st = analyse_st(record.signal_mv, record.fs_hz, samples, classes, lead_names=record.lead_names)
    assert not st.assessed and st.fiducials.qrs_ms > 120
    assert "dominant QRS" in st.note and "bundle branch block" in st.note
    assert st_rows(st) == [] and st.to_dict()["episodes"] == []


def test_a_lead_with_almost_no_qrs_does_not_widen_the_dominant_qrs(mitdb_dir):
    # record 200: V1's steepest slope is 0.05 of MLII's, and its normalised slope (noise, T wave) set the QRS end; the
    # product's report gave its narrow normal beats a 197-ms QRS and withheld ST and QT (a clinical read of session 58)
    record, samples, classes = read_beats(mitdb_dir / "200")
    both = analyse_st(record.signal_mv, record.fs_hz, samples, classes, lead_names=record.lead_names)
    mlii = analyse_st(record.signal_mv[:, :1], record.fs_hz, samples, classes, lead_names=record.lead_names[:1])
    assert both.assessed and both.fiducials.qrs_ms < 90
    assert (both.fiducials.onset_ms, both.fiducials.j_ms) == (mlii.fiducials.onset_ms, mlii.fiducials.j_ms)
    with pytest.raises(ValueError, match="min_lead_slope_fraction"):
        StSettings(min_lead_slope_fraction=1.0)


def test_a_dominant_qrs_too_narrow_to_be_one_leaves_st_and_qt_unassessed(mitdb_dir):
    # record 104: paced and fusion beats, which the classifier takes for the patient's normal ones; their mixed
    # template measured a 31-ms QRS, and the report gave a QT of 187 ms and five ST episodes (a clinical read of
    # session 55)
    record, samples, _ = read_beats(mitdb_dir / "104")
    classes = np.full(len(samples), "N")
    st = analyse_st(record.signal_mv, record.fs_hz, samples, classes, lead_names=record.lead_names)
    assert not st.assessed and st.fiducials.qrs_ms < StSettings().min_qrs_ms
    assert "under any real QRS complex" in st.note and "if the patient has a pacemaker" in st.note
    assert st_rows(st) == []
    summary = summarize_labelled_record(record, [], samples, classes, [], RegionSettings())
    assert not summary.qt.assessed and "could not be found" in summary.qt.note
    with pytest.raises(ValueError, match="min_qrs_ms < max_qrs_ms"):
        StSettings(min_qrs_ms=130.0)


def test_wide_dominant_beats_without_a_stated_pacemaker_ask_the_reader(mitdb_dir, excerpt_100):
    # record 231's conducted beats are wide (right bundle branch block): every beat labelled N, as a classifier that
    # took them for the patient's normal ones would; no pacing spike
    record, samples, _ = read_beats(mitdb_dir / "231")
    classes = np.full(len(samples), "N")
    notes = summarize_labelled_record(record, [], samples, classes, [], RegionSettings()).notes
    hint = [n for n in notes if n.startswith("the dominant beats are wide")]
    assert len(hint) == 1 and "state it" in hint[0]  # 231 is sinus rhythm (with 2:1 block): not a ventricular one
    assert ("with sinus P waves before them: a bundle branch block or another intraventricular conduction delay; "
            in hint[0])  # commoner causes first (session 51)
    st = analyse_st(record.signal_mv, record.fs_hz, samples, classes)
    other = pacing_hint(st, None, 120.0, 0.0, sinus=False)[0]
    assert "a bundle branch block or another intraventricular conduction delay, or a ventricular rhythm; no pacing " \
        "spike was found" in other
    assert "pacing spikes before only 10 % of the readable beats" in pacing_hint(st, None, 120.0, 0.1)[0]
    unlooked = pacing_hint(analyse_st(record.signal_mv, record.fs_hz, samples, classes), None, 120.0)
    assert "a ventricular rhythm, or pacing; if the patient has a pacemaker, state it" in unlooked[0]  # no spike share
    # the ST and QT stop is said in the same note, not in one of its own that gives the width a third time on page 1
    # and lists "a ventricular or a paced rhythm" beside "no pacing spike was found" (a second read of session 58)
    assert "conduction delay; ST and QT are not assessed on such beats; no pacing spike" in hint[0]
    assert not any(n.startswith("ST and QT not assessed") for n in notes)
    assert not any(n.startswith("pacing spikes") for n in notes)
    stated = dataclasses.replace(record, pacemaker="stated by the user")
    notes = summarize_labelled_record(stated, [], samples, classes, [], RegionSettings()).notes
    assert not any(n.startswith("the dominant beats are wide") for n in notes)
    assert notes[0].startswith("pacemaker (stated by the user)")
    narrow, narrow_samples, narrow_classes = excerpt_100
    notes = summarize_labelled_record(narrow, [], narrow_samples, narrow_classes, [], RegionSettings()).notes
    assert not any(n.startswith("the dominant beats are wide") for n in notes)


def test_pacing_spikes_without_a_stated_pacemaker_come_first_and_name_the_rhythm(mitdb_dir, excerpt_100):
    """Record 107 is paced throughout; with every beat labelled N (as the classifier labels its paced beats) it read
    "sinus" or "not determined" and asked about a pacemaker only among the wide-QRS notes. Its pacing spikes now put
    the question first and make the rhythm a paced one; a stated pacemaker, or a record without spikes, has neither."""
    record, samples, _ = read_beats(mitdb_dir / "107")
    classes = np.full(len(samples), "N")
    summary = summarize_labelled_record(record, [], samples, classes, [], RegionSettings())
    assert summary.notes[0].startswith("pacing spikes before ") and "state it" in summary.notes[0]
    assert not any(n.startswith("the dominant beats are wide") for n in summary.notes)  # one question, not two
    assert summary.predominant_rhythm.name == "paced rhythm"
    assert "pacemaker not stated" in summary.predominant_rhythm.basis
    # paced intervals are not heart-rate variability, stated or not (a clinical read of session 56)
    assert not summary.hrv.assessed and "pacing spikes are seen" in summary.hrv.note
    assert not summary.hrt.assessed
    stated = dataclasses.replace(record, pacemaker="stated by the user")
    summary = summarize_labelled_record(stated, [], samples, classes, [], RegionSettings())
    assert not any(n.startswith("pacing spikes") for n in summary.notes)
    assert "stated by the user" in summary.hrv.note
    narrow, narrow_samples, narrow_classes = excerpt_100
    summary = summarize_labelled_record(narrow, [], narrow_samples, narrow_classes, [], RegionSettings())
    assert not any(n.startswith("pacing spikes") for n in summary.notes)
    assert summary.predominant_rhythm.name.startswith("sinus") and summary.hrv.assessed


def test_a_pacemaker_that_seldom_paced_leaves_hrv_st_and_qt_to_the_intrinsic_beats(excerpt_100):
    # a stated pacemaker left HRV, ST and QT out even when it never paced (MIT-BIH 100 stated, a QA pass of session
    # 45); now only when the pacing rule found a tenth of the beats paced or more
    record, samples, classes = excerpt_100
    plain = summarize_labelled_record(record, [], samples, classes, [], RegionSettings())
    stated = dataclasses.replace(record, pacemaker="stated by the user")
    never = summarize_labelled_record(stated, [], samples, classes, [], RegionSettings(),
                                      paced_beats=np.zeros(len(samples), bool))
    assert plain.hrv.note == "" and plain.st.assessed
    for part in ("hrv", "hrt", "st", "qt"):  # the same figures (repr: NaN equals NaN)
        assert repr(getattr(never, part)) == repr(getattr(plain, part)), part
    assert any(n.startswith("the pacemaker paced under 10 % of the beats") for n in never.notes)
    often = np.zeros(len(samples), bool)
    often[::9] = True  # 11 % of the beats
    for paced_beats in (often, None):  # None: not counted, read as paced
        paced = summarize_labelled_record(stated, [], samples, classes, [], RegionSettings(), paced_beats=paced_beats)
        assert paced.hrv.note.startswith("HRV not assessed: the patient has a pacemaker")
        assert not paced.st.assessed and not paced.qt.assessed and not paced.hrt.assessed
        assert not any(n.startswith("the pacemaker paced under") for n in paced.notes)


def test_st_shifts_with_pre_excitation_are_marked_as_qrs_changes(mitdb_dir):
    # record 230 switches between normal conduction and pre-excitation (its reference (PREX rhythm labels)
    record, samples, classes = read_beats(mitdb_dir / "230")
    spans = find_quality_spans(record.signal_mv, record.fs_hz)
    st = analyse_st(record.signal_mv, record.fs_hz, samples, classes, spans, record.lead_names)
    depressions = [e for e in st.episodes if e.kind == "depression"]
    assert depressions and all(e.qrs_changed for e in depressions)


def test_a_stated_pacemaker_or_a_flat_signal_leaves_st_unassessed(excerpt_100):
    record, samples, classes = excerpt_100
    paced = analyse_st(record.signal_mv, record.fs_hz, samples, classes, pacemaker="VVI")
    assert not paced.assessed and "pacemaker" in paced.note
    flat = analyse_st(np.zeros_like(record.signal_mv), record.fs_hz, samples, classes)
    assert not flat.assessed and "no clear QRS" in flat.note
    few = analyse_st(record.signal_mv, record.fs_hz, samples[:3], classes[:3])
    assert not few.assessed and "too few" in few.note


def test_noisy_stretches_of_a_lead_are_left_out_of_that_lead_only(excerpt_100):
    record, samples, classes = excerpt_100
    from pipeline.types import QualitySpan
    spans = [QualitySpan("noise", 1, 0, record.n_samples)]
    st = analyse_st(record.signal_mv, record.fs_hz, samples, classes, spans, record.lead_names)
    assert np.all(np.isnan(st.levels_mv[1])) and np.isnan(st.reference_mv[1])
    assert np.count_nonzero(np.isfinite(st.levels_mv[0])) >= 18
    rows = st_rows(st)
    assert len(rows) == 20 and rows[0]["start_s"] == 0 and rows[-1]["end_s"] == 300
    assert rows[3]["st_V5_mv"] is None and rows[3]["st_MLII_mv"] is not None


def test_missing_samples_are_left_out_even_without_quality_spans(excerpt_100):
    record, samples, classes = excerpt_100
    gap = np.array(record.signal_mv, np.float64)
    gap[36000:40000, :] = np.nan  # 11 s missing in both leads, no span given for it
    st = analyse_st(gap, record.fs_hz, samples, classes, lead_names=record.lead_names)
    clean = analyse_st(record.signal_mv, record.fs_hz, samples, classes, lead_names=record.lead_names)
    assert st.assessed and st.fiducials == clean.fiducials
    assert np.all(np.isfinite(st.levels_mv)) and st.measured_beats < clean.measured_beats
    assert np.allclose(st.levels_mv, clean.levels_mv, atol=0.01)


def test_fast_windows_are_measured_at_j_plus_60_ms():
    # a synthetic beat train: a ramp after the J point makes the level depend on where it is measured
    fs = FS_HZ
    rr = int(0.4 * fs)  # 150 bpm
    n = rr * 400
    signal = np.zeros((n, 1))
    beats = np.arange(rr, n - rr, rr)
    t = np.arange(-int(0.3 * fs), int(0.5 * fs))
    beat = np.exp(-0.5 * (t / (0.012 * fs)) ** 2)  # a narrow QRS
    ramp = np.where((t > 0.06 * fs) & (t < 0.2 * fs), (t - 0.06 * fs) / fs, 0.0)  # 1 mV/s after J
    for b in beats:
        signal[b + t, 0] += beat + ramp
    st = analyse_st(signal, fs, beats, np.full(len(beats), "N"))
    j_ms = st.fiducials.j_ms
    level = np.nanmedian(st.levels_mv[0])
    expected = (j_ms + 60 - 60) / 1000  # the ramp starts 60 ms after R
    assert level == pytest.approx(expected, abs=0.01)
    slow = analyse_st(signal, fs, beats, np.full(len(beats), "N"), settings=StSettings(fast_rate_bpm=200))
    assert np.nanmedian(slow.levels_mv[0]) == pytest.approx((j_ms + 80 - 60) / 1000, abs=0.01)


def test_a_downsloping_depression_has_a_negative_slope():
    # a synthetic beat train at 75 bpm; from 2:00 to 4:00 the ST segment falls at 2 mV/s from 40 ms after the R wave
    fs = FS_HZ
    rr = int(0.8 * fs)
    n = int(360 * fs)
    beats = np.arange(rr, n - rr, rr)
    t = np.arange(-int(0.3 * fs), int(0.5 * fs))
    beat = np.exp(-0.5 * (t / (0.012 * fs)) ** 2)
    fall = -2.0 * np.clip((t - 0.04 * fs) / fs, 0.0, 0.2)  # mV, down to -0.4 mV at 240 ms
    fall = np.where(t < 0.3 * fs, fall, 0.0)
    signal = np.zeros((n, 1))
    for b in beats:
        signal[b + t, 0] += beat + (fall if 120 * fs <= b < 240 * fs else 0.0)
    st = analyse_st(signal, fs, beats, np.full(len(beats), "N"))
    (episode,) = st.episodes
    j_s = st.fiducials.j_ms / 1000

    def level(after_j_s: float) -> float:
        return -2.0 * max(j_s + after_j_s - 0.04, 0.0)

    assert episode.kind == "depression" and 110 <= episode.start_s <= 130 and 230 <= episode.stop_s <= 250
    assert episode.deviation_mv == pytest.approx(level(0.08), abs=0.01)
    assert episode.slope_mv == pytest.approx(level(0.08) - level(0.02), abs=0.01) and episode.slope_mv < -0.1


def test_settings_are_checked():
    with pytest.raises(ValueError, match="window_s"):
        StSettings(window_s=0)
    with pytest.raises(ValueError, match="slope_fraction"):
        StSettings(slope_fraction=1.5)


def test_the_product_reports_an_added_st_depression_and_a_reader_s_relabelling_moves_it(excerpt_100, tmp_path):
    """End to end: the product's own beats and classes (bundled model), the summary, the PDF line, the tables."""
    from dataclasses import replace

    from app.analysis import analyse_record, relabel_beats, st_episode_beats, st_template
    from app.outputs import annotation_file_bytes, st_episode_table_csv, st_table_csv
    from app.report import render_pdf_report, summary_lines
    from models.bundled import load_default_model

    record, samples, classes = excerpt_100
    clean = analyse_st(record.signal_mv, record.fs_hz, samples, classes)
    changed = add_st_change(record.signal_mv, samples, classes, record.fs_hz, 1, 60, 180, -0.25, clean.fiducials.j_ms)
    analysis = analyse_record(replace(record, signal_mv=changed.astype(np.float32), annotations=None),
                              load_default_model())
    st = analysis.summary.st
    assert [(e.lead_name, e.kind) for e in st.episodes] == [("V5", "depression")]
    assert st.episodes[0].deviation_mv == pytest.approx(-0.25, abs=0.04)
    text = " ".join(" ".join(summary_lines(analysis)).split())  # the ST line is wrapped on the page
    assert "ST segment (J+80 ms, change from the record's own level; 0.1 mV for 1 min): 1 depression episode " \
           "(largest -0.2" in text and "mV in V5, 2.0 min); no elevation episode" in text
    assert st_table_csv(analysis).decode().splitlines()[0] == (
        "start_s,end_s,heart_rate_bpm,st_MLII_mv,deviation_MLII_mv,st_V5_mv,deviation_V5_mv")
    assert len(st_episode_table_csv(analysis).decode().splitlines()) == 2
    assert st_template(analysis).shape[1] == 2
    # the report gets an ST page: the trend of each lead and the episode's beat against the dominant one
    reference, at_peak = st_episode_beats(analysis, st.episodes[0])
    st_point = int((0.3 + (st.fiducials.j_ms + 80) / 1000) * record.fs_hz)
    assert at_peak[st_point] - reference[st_point] == pytest.approx(-0.25, abs=0.05)
    without = replace(analysis, summary=replace(analysis.summary, st=replace(st, episodes=())))
    assert count_pdf_pages(render_pdf_report(analysis)) == count_pdf_pages(render_pdf_report(without)) + 1
    # the annotation file carries the episode as ST change annotations that wfdb reads back
    (tmp_path / "100.ecg").write_bytes(annotation_file_bytes(analysis))
    saved = wfdb.rdann(str(tmp_path / "100"), "ecg")
    episode = st.episodes[0]
    assert read_st_marks(saved.sample, saved.symbol, saved.aux_note, saved.fs) == [
        (1, "depression", pytest.approx(episode.start_s, abs=0.01), pytest.approx(episode.stop_s, abs=0.01),
         pytest.approx(episode.deviation_mv, abs=0.001))]
    assert sum(symbol == "s" for symbol in saved.symbol) == 3
    # every beat relabelled V by a reader: no normal beat is left to measure
    relabelled = relabel_beats(analysis, {k: "V" for k in range(len(analysis.predictions))})
    assert not relabelled.summary.st.assessed and "too few readable normal beats" in relabelled.summary.st.note
    assert "ST and QT not assessed: too few readable normal beats" in relabelled.summary.notes


def test_st_thresholds_are_event_settings_kept_in_the_annotation_file(excerpts_dir, tmp_path):
    """A laboratory's own ST rule comes from an event settings file (``[st]``), finds the episodes again and is kept
    with the review (comment notes of NAME.ecg)."""
    from dataclasses import replace

    from app.analysis import analyse_record, change_region_settings
    from app.event_settings import format_settings_notes, read_event_settings, read_settings_notes
    from models.bundled import load_default_model
    from tests.made_records import write_st_depression_record

    path = write_st_depression_record(excerpts_dir, tmp_path)  # 0.25 mV in V5 from 1:00 to 3:00
    analysis = analyse_record(read_record(path), load_default_model())
    assert [e.kind for e in analysis.summary.st.episodes] == ["depression"]
    (tmp_path / "events.toml").write_text("[st]\nthreshold_mv = 0.3\nst_offset_ms = 60.0\n")
    settings = read_event_settings(tmp_path / "events.toml")
    assert settings.st == StSettings(threshold_mv=0.3, st_offset_ms=60.0)
    stricter = change_region_settings(analysis, settings)
    assert stricter.summary.st.assessed and stricter.summary.st.episodes == ()
    notes = format_settings_notes(settings)
    assert notes == ("event settings: st.st_offset_ms = 60.0; st.threshold_mv = 0.3",)
    assert read_settings_notes(notes) == settings
    longer = change_region_settings(analysis, replace(settings, st=StSettings(min_duration_s=150.0)))
    assert longer.summary.st.episodes == ()  # a 2-minute episode is under a 2.5-minute rule
    (tmp_path / "bad.toml").write_text("[st]\nthreshold_mv = -1\n")
    with pytest.raises(ValueError, match=r"\[st\] Received threshold_mv=-1"):
        read_event_settings(tmp_path / "bad.toml")


def test_a_shift_over_most_of_the_record_is_found_from_a_reference_stretch(excerpt_100):
    """A depression from 1:00 to 4:45 of the 5-minute excerpt: against the record's median it becomes the reference
    (and the first minute shows as an elevation); against the first minute it is the episode it is."""
    record, samples, classes = excerpt_100
    clean = analyse_st(record.signal_mv, record.fs_hz, samples, classes, lead_names=record.lead_names)
    changed = add_st_change(record.signal_mv, samples, classes, record.fs_hz, 0, 60, 285, -0.2, clean.fiducials.j_ms)
    median = analyse_st(changed, record.fs_hz, samples, classes, lead_names=record.lead_names)
    assert not any(e.kind == "depression" for e in median.episodes)
    with pytest.raises(ValueError, match="reference_duration_s"):
        StSettings(reference_duration_s=60.0)  # under 8 windows of 15 s
    rest = StSettings(reference_duration_s=60.0, min_reference_windows=4)  # the first minute, four windows
    st = analyse_st(changed, record.fs_hz, samples, classes, lead_names=record.lead_names, settings=rest)
    assert st.reference_stretch_s == (0.0, 60.0) and st.to_dict()["reference_stretch_s"] == [0.0, 60.0]
    assert st.reference_mv[0] == pytest.approx(clean.reference_mv[0], abs=0.03)
    (episode,) = [e for e in st.episodes if e.lead == 0]
    assert episode.kind == "depression" and 45 <= episode.start_s <= 75 and episode.stop_s >= 270
    assert episode.deviation_mv == pytest.approx(-0.2, abs=0.03)
    late = StSettings(reference_start_s=600.0, reference_duration_s=60.0, min_reference_windows=4)  # after the end
    assert analyse_st(changed, record.fs_hz, samples, classes, settings=late).note == (
        "ST not assessed: fewer than 4 measured windows in the reference stretch (600-660 s)")


def test_an_elevation_that_leaves_the_st_segment_below_the_baseline_says_where_it_is():
    """Record 223's "+0.13 mV elevation" rose from a record level of -0.18 mV, leaving the ST segment at -0.05 mV
    (a clinical read of the PDF reports, session 47): the line gives that level, which a change from a level near
    the baseline does not need."""
    from pipeline.st import StEpisode, StSummary

    rise = StEpisode(0, "MLII", "elevation", 600.0, 720.0, 0.13, 660.0, 105.0)
    fall = StEpisode(1, "V1", "depression", 60.0, 180.0, -0.2, 90.0, 80.0)
    summary = StSummary(True, lead_names=("MLII", "V1"), reference_mv=(-0.18, 0.01), episodes=(fall, rise))
    text = describe_st(summary)
    assert ("1 elevation episode (largest +0.13 mV in MLII, the ST segment still 0.05 mV below the baseline, 2.0 min)"
            in text)  # in words, not a signed level beside the signed change (a clinical read of session 60)
    assert "1 depression episode (largest -0.20 mV in V1, 2.0 min)" in text


def test_a_short_gap_in_one_lead_leaves_the_measurement_points_and_the_qrs_check_as_they_were(excerpt_100):
    """A 10-s gap (missing samples) in one lead made that lead's median beat NaN: the lead dropped out of the
    measurement points (a QA pass of session 51 measured record 113's QRS 44 ms wide instead of 75) and every
    episode's QRS-change check came out null."""
    from pipeline.st import dominant_template

    record, samples, classes = excerpt_100
    fs = record.fs_hz
    shifted = add_st_change(record.signal_mv, samples, classes, fs, 1, 120, 240, -0.2, 30.0)
    gapped = shifted.copy()
    gapped[int(60 * fs):int(70 * fs), 1] = np.nan
    runs = [analyse_st(x, fs, samples, classes, find_quality_spans(x, fs), record.lead_names)
            for x in (shifted, gapped)]
    assert runs[1].fiducials == runs[0].fiducials
    assert np.isfinite(dominant_template(gapped, fs, samples, classes, find_quality_spans(gapped, fs))).all()
    assert len(runs[1].episodes) == len(runs[0].episodes) >= 1
    assert all(np.isfinite(e.qrs_change) for e in runs[1].episodes)


def test_a_shift_over_half_the_record_says_the_record_s_own_level_is_doubtful(excerpt_100):
    """-0.3 mV over the second half of a stretch: the record's median fell between the halves and an elevation was
    reported where there was none, with no word (a QA pass of session 51). A note now says the reference level may
    itself be shifted; a reference stretch at baseline takes it away."""
    from pipeline.qt import QtSummary
    from pipeline.region_eval import repolarisation_notes

    no_qt = QtSummary(False, "QT not assessed: not asked here")
    record, samples, classes = excerpt_100
    fs = record.fs_hz
    shifted = add_st_change(record.signal_mv, samples, classes, fs, 0, 150, 300, -0.3, 30.0)
    st = analyse_st(shifted, fs, samples, classes, find_quality_spans(shifted, fs), record.lead_names)
    notes = [n for n in repolarisation_notes(st, no_qt) if "from the record's own level" in n]
    assert len(notes) == 1 and notes[0].startswith("ST in MLII lies 0.1 mV or more from the record's own level")
    at_rest = StSettings(reference_start_s=0.0, reference_duration_s=120.0)
    anchored = analyse_st(shifted, fs, samples, classes, find_quality_spans(shifted, fs), record.lead_names,
                          settings=at_rest)
    assert [e.kind for e in anchored.episodes] == ["depression"]  # the true change alone
    assert not any("from the record's own level" in n for n in repolarisation_notes(anchored, no_qt))
    plain = analyse_st(record.signal_mv, fs, samples, classes, lead_names=record.lead_names)
    assert not any("from the record's own level" in n for n in repolarisation_notes(plain, no_qt))
