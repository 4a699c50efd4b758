"""A reader's corrections (app.analysis.relabel_beats) on real excerpts with the bundled model: classes, regions,
summary and every output follow them; the model's classes stay available."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pandas as pd
import pytest

from app import outputs
from app.report import summary_lines
from app.analysis import (
    analyse_record,
    beat_table,
    change_region_settings,
    edit_analysis,
    mark_artefacts,
    read_artefacts,
    ReviewFileMismatchError,
    read_corrections,
    region_rows,
    relabel_beats,
    summary_dict,
)
from models.bundled import load_default_model
from pipeline.labels import AAMI_CLASSES
from pipeline.records import read_annotations, read_record
from pipeline.rhythm_annotations import read_af_edit_notes
from pipeline.regions import RegionSettings
from pipeline.types import Annotations


@pytest.fixture(scope="module")
def analysis(excerpts_dir):
    return analyse_record(read_record(excerpts_dir / "119"), load_default_model())


def ventricular_family(analysis) -> int:
    """The family holding most of the beats the model calls V (119: ventricular bigeminy)."""
    called_v = analysis.families[analysis.classes == "V"]
    return int(np.bincount(called_v[called_v >= 0]).argmax())


def test_analysis_groups_beats_into_families(analysis):
    assert analysis.families.shape == (len(analysis.predictions),)
    family = ventricular_family(analysis)
    members = analysis.families == family
    assert members.sum() > 50 and np.mean(analysis.classes[members] == "V") > 0.95
    assert analysis.reviewed_classes is None and not analysis.reviewed_mask.any()


def test_family_rows_count_classes_confidence_and_corrections(analysis):
    from app.analysis import family_rows

    family = ventricular_family(analysis)
    indices = np.flatnonzero(analysis.families == family)
    edited = relabel_beats(analysis, {int(i): "N" for i in indices[:5]})
    rows = {row["family"]: row for row in family_rows(edited)}
    assert sum(row["n_beats"] for row in rows.values()) == len(analysis.predictions)
    assert rows[family]["corrected"] == int(np.sum(analysis.classes[indices[:5]] != "N"))
    assert sum(row["corrected"] for row in rows.values()) == rows[family]["corrected"]
    assert 0.5 < rows[family]["confidence"] <= 1.0


def test_relabelling_a_family_changes_counts_events_and_outputs(analysis, tmp_path):
    family = ventricular_family(analysis)
    indices = np.flatnonzero(analysis.families == family)
    edited = relabel_beats(analysis, {int(i): "N" for i in indices})
    # every beat of the family is now N, whatever the model called it (mostly V; an F or S call among them moves too)
    moved = {c: int(np.sum(analysis.classes[indices] == c)) for c in AAMI_CLASSES if c != "N"}
    counts = dict(zip(AAMI_CLASSES, edited.summary.beat_counts))
    before = dict(zip(AAMI_CLASSES, analysis.summary.beat_counts))
    assert moved["V"] > 50
    assert all(counts[c] == before[c] - moved[c] for c in moved) and counts["N"] == before["N"] + sum(moved.values())
    assert int(edited.reviewed_mask.sum()) == int(np.sum(analysis.classes[indices] != "N"))
    assert (edited.predictions.classes == analysis.predictions.classes).all()  # the model's classes are kept
    kinds_before = {r.kind for r in analysis.regions}
    kinds_after = {r.kind for r in edited.regions}
    assert "ventricular_bigeminy" in kinds_before and "ventricular_bigeminy" not in kinds_after
    table = beat_table(edited)
    assert (table["class"] == edited.classes).all() and (table["model_class"] == analysis.classes).all()
    assert table["reviewed"].sum() == edited.reviewed_mask.sum() and (table["family"] == edited.families).all()
    summary = json.loads(outputs.summary_json(edited))
    assert summary["reviewed_beats"] == int(edited.reviewed_mask.sum())
    assert summary["beat_counts"]["V"] == counts["V"]
    csv = pd.read_csv(io.BytesIO(outputs.beat_table_csv(edited)))
    assert (csv["class"] == edited.classes).all()
    # the annotation file carries the reader's labels
    (tmp_path / "119.ecg").write_bytes(outputs.annotation_file_bytes(edited))
    annotations = read_annotations(tmp_path / "119", "ecg", source_fs_hz=360.0, target_fs_hz=360.0)
    beats = np.isin(annotations.symbols, list(AAMI_CLASSES))
    assert annotations.symbols[beats].tolist() == edited.classes.tolist()
    assert "Reviewed:" in " ".join(summary_lines(edited))


def test_no_corrections_give_back_the_model_analysis(analysis):
    family = ventricular_family(analysis)
    same = relabel_beats(analysis, {int(i): str(analysis.classes[i])
                                    for i in np.flatnonzero(analysis.families == family)})
    undone = relabel_beats(analysis, {})
    for result in (same, undone):
        assert result.reviewed_classes is None
        assert pd.DataFrame(region_rows(result)).equals(pd.DataFrame(region_rows(analysis)))  # NaN rates equal
        assert result.summary.beat_counts == analysis.summary.beat_counts


def test_one_corrected_beat_is_counted_and_confident(analysis):
    index = int(np.flatnonzero(analysis.classes == "N")[10])
    edited = relabel_beats(analysis, {index: "V"})
    assert edited.classes[index] == "V" and edited.reviewed_mask.sum() == 1
    assert dict(zip(AAMI_CLASSES, edited.summary.beat_counts))["V"] == \
        dict(zip(AAMI_CLASSES, analysis.summary.beat_counts))["V"] + 1
    ventricular = [r for r in edited.regions if r.first_beat <= index < r.first_beat + r.n_beats
                   and "ventricular" in r.kind]
    assert ventricular and ventricular[0].confidence <= 1.0


@pytest.mark.parametrize("labels, message", [({10**6: "V"}, "beat number"), ({-1: "V"}, "beat number"),
                                             ({0: "X"}, "expected one of")])
def test_bad_corrections_are_refused(analysis, labels, message):
    with pytest.raises(ValueError, match=message):
        relabel_beats(analysis, labels)


def test_saved_review_labels_come_back_from_the_annotation_file(analysis, tmp_path):
    family = ventricular_family(analysis)
    edits = {int(i): "N" for i in np.flatnonzero(analysis.families == family)}
    edits[int(np.flatnonzero(analysis.classes == "N")[3])] = "S"
    edited = relabel_beats(analysis, edits)
    (tmp_path / "119.ecg").write_bytes(outputs.annotation_file_bytes(edited))
    saved = read_annotations(tmp_path / "119", "ecg", source_fs_hz=360.0, target_fs_hz=analysis.record.fs_hz)
    corrections, unmatched = read_corrections(analysis, saved)
    assert unmatched == 0
    assert corrections == {i: c for i, c in edits.items() if analysis.classes[i] != c}
    assert (relabel_beats(analysis, corrections).classes == edited.classes).all()
    # a beat annotated where nothing was detected is left out and counted; MIT-BIH symbols map to classes
    beats = analysis.predictions.samples
    lone = Annotations(np.array([int(beats[0]) - 200, *beats[5:10].tolist()]), np.array(["A"] * 6),
                       np.full(6, "", dtype=object))
    corrections, unmatched = read_corrections(analysis, lone)
    assert unmatched == 1 and corrections == {i: "S" for i in range(5, 10) if analysis.classes[i] != "S"}
    # ... but a file most of whose beats match none is not this record's review: refused, with the reason
    with pytest.raises(ReviewFileMismatchError, match=r"2 of its 3 beats match no beat found in it"):
        read_corrections(analysis, Annotations(np.array([int(beats[0]) - 200, int(beats[0]) - 100, int(beats[5])]),
                                               np.array(["A"] * 3), np.full(3, "", dtype=object)))


def test_v_calls_in_a_mostly_normal_family_are_suggested_for_review(analysis):
    """The model's V calls left few in a family once the reader relabelled the others N are suggested as N; beats the
    reader labelled V are not (suggesting them back undid the reader's own choice, QA pass, session 37)."""
    from app.dashboard.tables import family_labels_for, family_suggestions

    assert all(s["family"] != 0 for s in family_suggestions(analysis))
    normal = np.flatnonzero((analysis.families == 0) & (analysis.classes == "N"))[:2]
    assert all(s["family"] != 0 for s in family_suggestions(relabel_beats(analysis, {int(i): "V" for i in normal})))
    family = ventricular_family(analysis)
    called_v = np.flatnonzero((analysis.families == family) & (analysis.classes == "V"))
    assert len(called_v) >= 5
    corrections = {int(i): "N" for i in called_v[1:]}  # one of the model's V calls left
    edited = relabel_beats(analysis, corrections)
    suggestion = next(s for s in family_suggestions(edited) if s["family"] == family)
    assert suggestion["v_calls"] == 1 and suggestion["n_beats"] == int(np.sum(analysis.families == family))
    back = family_labels_for(edited, family, "N", only="V")
    assert back == {int(called_v[0]): "N"}
    assert relabel_beats(analysis, corrections | back).classes[called_v].tolist() == ["N"] * len(called_v)


def test_the_report_shows_the_largest_families_with_the_current_labels(analysis, monkeypatch):
    from dataclasses import replace

    from app import report
    from app.report import MAX_FAMILIES, family_template_rows, render_pdf_report

    rows = family_template_rows(analysis)
    assert 2 <= len(rows) <= MAX_FAMILIES and [r["family"] for r in rows] == list(range(len(rows)))
    # beyond the largest, the largest family mostly called V and the largest mostly called S (203's four largest are
    # all N): with room for one, 119's excerpt shows its N family, then its V family, then a family relabelled S
    monkeypatch.setattr(report, "MAX_FAMILIES", 1)
    assert [r["family"] for r in family_template_rows(analysis)] == [0, 1]
    third = {int(i): "S" for i in np.flatnonzero(analysis.families == 2)}
    assert [r["family"] for r in family_template_rows(relabel_beats(analysis, third))] == [0, 1, 2]
    monkeypatch.undo()
    family = ventricular_family(analysis)
    edited = relabel_beats(analysis, {int(i): "N" for i in np.flatnonzero(analysis.families == family)})
    assert next(r for r in family_template_rows(edited) if r["family"] == family)["V"] == 0
    assert render_pdf_report(replace(analysis, families=None)).startswith(b"%PDF")  # no families: no panel


def test_the_report_has_a_page_of_heart_rate_rr_and_further_event_strips(analysis):
    """Page 2 of a Holter report: lowest and highest 1-minute rate, longest RR interval, then more event kinds."""
    from dataclasses import replace

    from tests.score_runs import count_pdf_pages

    from app.report import reference_strips, render_pdf_report
    from app.strips import STRIP_S

    s = analysis.summary
    lowest, highest, longest = reference_strips(analysis)
    assert f"{s.heart_rate_min_bpm:.0f} bpm" in lowest.title and f"{s.heart_rate_max_bpm:.0f} bpm" in highest.title
    middle = 30 - STRIP_S / 2  # the middle of the minute
    assert lowest.start_s == s.heart_rate_min_time_s + middle and highest.start_s == s.heart_rate_max_time_s + middle
    assert longest.shaded == (s.longest_rr_time_s, s.longest_rr_time_s + s.longest_rr_s)
    assert f"{s.longest_rr_s:.2f} s" in longest.title
    beats = analysis.predictions.samples / analysis.record.fs_hz  # the shaded interval is between two beats
    assert np.any(np.isclose(beats, longest.shaded[0], atol=0.01)) and np.any(np.isclose(beats, longest.shaded[1],
                                                                                          atol=0.01))
    assert count_pdf_pages(render_pdf_report(analysis)) == 3  # summary, strips, rhythm (RR scatter, HRT)
    unmeasured = replace(analysis, regions=(), summary=replace(s, heart_rate_min_bpm=float("nan"),
                                                               heart_rate_max_bpm=float("nan"),
                                                               longest_rr_s=float("nan")))
    assert reference_strips(unmeasured) == [] and count_pdf_pages(render_pdf_report(unmeasured)) == 2


def test_event_thresholds_keep_the_corrections_and_corrections_keep_the_thresholds(analysis):
    """Changing a threshold after a review, or reviewing after changing it, gives the same events."""
    family = ventricular_family(analysis)
    labels = {int(i): "N" for i in np.flatnonzero(analysis.families == family)[:10]}
    settings = RegionSettings(bradycardia_bpm=70.0)  # 119's excerpt runs at about 65 bpm
    assert change_region_settings(analysis, analysis.region_settings) is analysis
    threshold_last = change_region_settings(relabel_beats(analysis, labels), settings)
    review_last = relabel_beats(change_region_settings(analysis, settings), labels)
    for edited in (threshold_last, review_last):
        assert edited.region_settings == settings
        assert edited.reviewed_mask.sum() == sum(analysis.classes[i] != "N" for i in labels)
        assert summary_dict(edited)["event_settings"]["bradycardia_bpm"] == 70.0
    assert pd.DataFrame(region_rows(threshold_last)).equals(pd.DataFrame(region_rows(review_last)))  # NaN rates
    assert analysis.summary.event("bradycardia").count == 0
    assert threshold_last.summary.event("bradycardia").count > 0
    assert np.array_equal(threshold_last.predictions.classes, analysis.predictions.classes)


def test_edits_reuse_the_rhythm_evidence_only_when_it_was_measured_from_the_same(analysis):
    """A threshold or a correction leaves the P waves and the VF filter as they were (3.8 s on a 24-hour record): the
    analysis's evidence is reused and gives exactly what measuring it again gives; an artefact mark or other flutter
    settings measure it again."""
    settings = dataclasses.replace(analysis.region_settings, pause_s=1.2,
                                   af_threshold=0.8 * RegionSettings().af_threshold)
    fs = analysis.record.fs_hz
    edits = [lambda a: change_region_settings(a, settings), lambda a: relabel_beats(a, {3: "S", 40: "V"}),
             lambda a: mark_artefacts(a, [(int(20 * fs), int(50 * fs))]),
             lambda a: change_region_settings(a, dataclasses.replace(
                 settings, fibrillation=dataclasses.replace(settings.fibrillation, enabled=False)))]
    reused = [True, True, False, False]
    warm = analysis
    for edit, same in zip(edits, reused):
        before, warm = warm, edit(warm)
        cold = edit(dataclasses.replace(before, rhythm_evidence=None))
        assert (warm.rhythm_evidence is before.rhythm_evidence) == same
        kept, measured = warm.rhythm_evidence.evidence, cold.rhythm_evidence.evidence
        assert np.array_equal(kept.p_wave_similarity, measured.p_wave_similarity, equal_nan=True)
        assert np.array_equal(kept.fibrillation_intervals, measured.fibrillation_intervals)
        assert pd.DataFrame(region_rows(warm)).equals(pd.DataFrame(region_rows(cold)))
        assert json.dumps(summary_dict(warm), default=str) == json.dumps(summary_dict(cold), default=str)


def test_a_stretch_marked_as_artefact_claims_no_event_and_comes_back_from_the_saved_file(analysis, tmp_path):
    """119's excerpt (ventricular bigeminy throughout): 30 s marked as artefact hold no event, leave the readable
    time, and the annotation file saved with the mark gives it back; removing the mark restores the analysis."""
    fs = analysis.record.fs_hz
    mark = (int(60 * fs), int(90 * fs))
    marked = mark_artefacts(analysis, [mark])
    assert marked.artefacts == (mark,)

    def events_inside(a):
        return [r for r in a.regions if r.kind != "unreadable" and r.start < mark[1] and r.stop > mark[0]]

    assert len(events_inside(analysis)) > 5 and events_inside(marked) == []
    assert [(r.start, r.stop) for r in marked.regions if r.kind == "unreadable"] == [mark]
    assert marked.summary.readable_fraction == pytest.approx(analysis.summary.readable_fraction - 30 / 300, abs=1e-3)
    table = beat_table(marked)
    inside = (analysis.predictions.samples >= mark[0]) & (analysis.predictions.samples < mark[1])
    assert inside.sum() > 20 and table["unreadable"].to_numpy()[inside].all() and not table["unreadable"][~inside].any()
    assert np.array_equal(marked.classes, analysis.classes)  # a mark changes no beat class

    (tmp_path / "119.ecg").write_bytes(outputs.annotation_file_bytes(marked))
    saved = read_annotations(tmp_path / "119", "ecg", source_fs_hz=fs, target_fs_hz=fs)
    assert read_artefacts(analysis, saved) == (mark,)
    assert read_corrections(analysis, saved) == ({}, 0)

    restored = mark_artefacts(marked, [])
    assert pd.DataFrame(region_rows(restored)).equals(pd.DataFrame(region_rows(analysis)))
    both = edit_analysis(analysis, labels={0: "S"}, artefacts=[mark, (0, int(5 * fs))])
    assert both.artefacts == ((0, int(5 * fs)), mark) and both.reviewed_mask.sum() == (analysis.classes[0] != "S")


def af_stretches(analysis) -> list[tuple[int, int]]:
    return [(r.start, r.stop) for r in analysis.regions if r.kind == "atrial_fibrillation"]


def test_atrial_fibrillation_ruled_out_by_the_reader_leaves_the_beats_readable_and_comes_back_from_the_file(
        excerpts_dir, tmp_path):
    """201's excerpt (atrial fibrillation throughout): the reader rules the episode out; the AF burden goes to 0 while
    every beat stays counted and readable, the report says so, and the saved annotation file gives the same analysis
    back through the dashboard's and the batch command's reading of it."""
    from app.batch import ModelIdentity, apply_saved_labels, summary_row

    analysis = analyse_record(read_record(excerpts_dir / "201"), load_default_model())
    (episode,) = af_stretches(analysis)
    assert analysis.summary.af_burden_pct > 95
    ruled_out = edit_analysis(analysis, af_edits=[(*episode, False)])
    assert af_stretches(ruled_out) == [] and ruled_out.summary.af_burden_pct == 0
    assert ruled_out.summary.readable_fraction == analysis.summary.readable_fraction
    assert ruled_out.summary.beat_counts == analysis.summary.beat_counts
    assert any(line.startswith("Atrial rhythm corrected by the reader: atrial fibrillation/flutter ruled out at")
               for line in summary_lines(ruled_out))
    (tmp_path / "201.ecg").write_bytes(outputs.annotation_file_bytes(ruled_out))
    saved = read_annotations(tmp_path / "201", "ecg", source_fs_hz=analysis.record.fs_hz,
                             target_fs_hz=analysis.record.fs_hz)
    assert read_af_edit_notes(saved.samples, saved.aux_notes, analysis.record.fs_hz,
                              analysis.record.n_samples) == ruled_out.af_edits
    restored = apply_saved_labels(analysis, saved, load_default_model())
    assert restored.af_edits == ruled_out.af_edits and restored.regions == ruled_out.regions
    assert not restored.reviewed_mask.any()
    assert summary_row(restored, ModelIdentity("m", "m", "x", "y"))["reader_af_edits"] == 1  # the batch table says so
    assert summary_dict(restored)["reader_af_edits"] == [{"start_s": episode[0] / analysis.record.fs_hz,
                                                          "stop_s": episode[1] / analysis.record.fs_hz,
                                                          "atrial_fibrillation": False}]
    assert edit_analysis(ruled_out, af_edits=[]).regions == analysis.regions


def test_atrial_fibrillation_stated_by_the_reader_on_a_regular_stretch_is_an_episode_and_comes_back(
        excerpts_dir, tmp_path):
    """100's excerpt (sinus rhythm): a minute the reader states is atrial fibrillation/flutter becomes one episode
    of that minute's beats at confidence 1, a fifth of the AF burden; the saved file gives it back."""
    analysis = analyse_record(read_record(excerpts_dir / "100"), load_default_model())
    fs = analysis.record.fs_hz
    assert af_stretches(analysis) == []
    stated = edit_analysis(analysis, af_edits=[(int(60 * fs), int(120 * fs), True)])
    (region,) = [r for r in stated.regions if r.kind == "atrial_fibrillation"]
    samples = analysis.predictions.samples
    intervals = np.flatnonzero(((samples[:-1] + samples[1:]) / 2 >= 60 * fs) & ((samples[:-1] + samples[1:]) / 2
                                                                                 < 120 * fs))  # middles in the minute
    assert (region.first_beat, region.n_beats, region.confidence) == (intervals[0], len(intervals) + 1, 1.0)
    assert stated.summary.af_burden_pct == pytest.approx(20, abs=1)
    (tmp_path / "100.ecg").write_bytes(outputs.annotation_file_bytes(stated))
    saved = read_annotations(tmp_path / "100", "ecg", source_fs_hz=fs, target_fs_hz=fs)
    assert read_af_edit_notes(saved.samples, saved.aux_notes, fs, analysis.record.n_samples) == stated.af_edits


def test_a_short_af_stretch_the_reader_states_is_assessed_not_insufficient(excerpts_dir):
    """A code review (session 63): 20 s stated AF on 100's excerpt read under 'insufficient readable signal for AF
    assessment' with a burden of NaN, beside the episode; an episode is an assessment."""
    record = read_record(excerpts_dir / "100")
    short = dataclasses.replace(record, signal_mv=record.signal_mv[: int(25 * record.fs_hz)])
    analysis = analyse_record(short, load_default_model())
    assert np.isnan(analysis.summary.af_burden_pct)
    stated = edit_analysis(analysis, af_edits=[(0, short.n_samples, True)])
    assert stated.summary.af_burden_pct > 80
    assert not any("AF assessment" in note for note in stated.summary.notes)


def test_ruling_out_an_af_episode_gives_back_the_model_s_s_calls_the_af_rule_made_n(mitdb_dir):
    """MIT-BIH 222 (atrial fibrillation and flutter with junctional stretches): inside an AF episode the AF rule makes
    the model's S calls N; once the reader rules the episode out, they are S again, and the rest of the record is
    untouched."""
    analysis = analyse_record(read_record(mitdb_dir / "222"), load_default_model())
    samples = analysis.predictions.samples
    made_n = analysis.predictions.in_af
    start, stop = max(af_stretches(analysis), key=lambda s: np.sum(made_n[(samples >= s[0]) & (samples < s[1])]))
    inside = (samples >= start) & (samples < stop)
    assert np.sum(made_n & inside) >= 5 and np.all(analysis.classes[made_n] == "N")
    ruled_out = edit_analysis(analysis, af_edits=[(start, stop, False)])
    given_back = np.flatnonzero(made_n & inside)
    assert np.all(ruled_out.classes[given_back] == "S") and not ruled_out.reviewed_mask.any()
    assert np.array_equal(ruled_out.classes[~inside], analysis.classes[~inside])
    assert (start, stop) not in af_stretches(ruled_out)
    # the reader then makes one of those S calls N: it stays N (it was lost when the labels were laid over the
    # classes from before the rule was applied again, a code review of session 63)
    relabelled = edit_analysis(analysis, labels={int(given_back[0]): "N"}, af_edits=[(start, stop, False)])
    assert relabelled.classes[given_back[0]] == "N" and relabelled.reviewed_mask.sum() == 1
    assert np.array_equal(relabelled.classes[given_back[1:]], ruled_out.classes[given_back[1:]])


@pytest.mark.parametrize("marks", [[(10, 5)], [(-1, 100)], [(0, 10 ** 9)], [(0, float("nan"))]])
def test_bad_artefact_marks_are_refused(analysis, marks):
    with pytest.raises(ValueError, match="artefact stretches"):
        mark_artefacts(analysis, marks)


def test_page_two_opens_with_the_heart_rate_trend_when_there_is_one(mitdb_dir):
    """Record 201 (30 minutes, atrial fibrillation): its 5-minute means drawn as steps (the last 5 s, too short,
    as a gap), AF shaded, the 1-minute extremes marked."""
    from app.report import draw_strip_page, reference_strips

    analysis = analyse_record(read_record(mitdb_dir / "201"), load_default_model())
    figure = draw_strip_page(analysis, reference_strips(analysis))
    trend = figure.axes[0]
    assert trend.get_title(loc="left") == "Heart rate: mean of each 5 minutes; atrial fibrillation shaded"
    (steps,) = trend.patches[:1]
    assert np.allclose(steps.get_data().values, analysis.summary.heart_rate_trend_bpm, equal_nan=True)
    markers = {line.get_label(): line.get_ydata()[0] for line in trend.lines}
    assert markers[f"lowest 1-minute rate {analysis.summary.heart_rate_min_bpm:.0f} bpm"] == \
        analysis.summary.heart_rate_min_bpm
    assert len(figure.axes) == 1 + len(reference_strips(analysis))
    low, high = trend.get_ylim()  # a few bpm of drift are not drawn across the whole plot (session 48)
    assert high - low >= 40 and trend.get_xlim()[1] == pytest.approx(analysis.summary.duration_s / 3600)


def test_a_record_longer_than_an_hour_gets_an_hourly_page(analysis):
    from dataclasses import replace

    from app.report import hourly_lines, render_pdf_report
    from tests.score_runs import count_pdf_pages

    one_hour = count_pdf_pages(render_pdf_report(analysis))
    hour = analysis.summary.hourly[0]
    second = replace(hour, start_s=3600.0, st_lowest_mv=-0.21, st_highest_mv=0.05, qtc_fridericia_ms=452.0,
                     sdnn_ms=61.4, rmssd_ms=float("nan"), ventricular_couplets=2, ventricular_runs=1)
    longer = replace(analysis, summary=replace(analysis.summary, hourly=(hour, second), duration_s=3600.0 + 300.0))
    assert count_pdf_pages(render_pdf_report(longer)) == one_hour + 1
    header, first, last = hourly_lines(longer)
    assert header.split()[:4] == ["hour", "min", "beats", "S"]
    assert header.split()[-5:] == ["low", "high", "QTc", "SDNN", "RMSSD"]
    assert first.startswith("00:00:00") and last.startswith("01:00:00")
    assert last.split()[-5:] == ["-0.21", "0.05", "452", "61", "-"]
    column = header.index("V 2/3+")  # couplets / runs of 3 or more, right-aligned under their header
    assert last[column - 1:column + 6].split() == ["2/1"]
    assert int(first.split()[2]) == hour.n_beats == sum(hour.beat_counts)


def test_the_rr_scatter_places_bigeminal_pvcs_below_the_identity_line_and_leaves_out_artefact(analysis):
    from app.analysis import lorenz_points

    points, total = lorenz_points(analysis)  # 119's excerpt: ventricular bigeminy
    classes = np.asarray(analysis.classes)
    assert total == len(points) == len(classes) - 2 and points["class"].tolist() == classes[1:-1].tolist()
    pvcs = points[points["class"] == "V"]
    assert len(pvcs) > 50 and (pvcs["rr_before_ms"] < 0.8 * pvcs["rr_after_ms"]).mean() > 0.95
    rr_ms = 1000 * np.diff(analysis.predictions.samples) / analysis.record.fs_hz
    assert np.allclose(points["rr_after_ms"], rr_ms[points["beat"]], atol=0.05)
    fs = analysis.record.fs_hz
    marked = mark_artefacts(analysis, [(int(60 * fs), int(90 * fs))])
    kept, kept_total = lorenz_points(marked)
    samples = marked.predictions.samples
    assert kept_total == len(kept) < total
    before, after = samples[kept["beat"] - 1], samples[kept["beat"] + 1]
    assert not np.any((before < 90 * fs) & (after > 60 * fs))  # no interval crosses the artefact
    # flutter or fibrillation waves are not beats: their intervals leave the scatter and the histogram as the summary
    # leaves out their beats (207's flutter waves were drawn as 457 beats; clinical read of the reports, session 47)
    from app.analysis import rr_histogram
    from pipeline.regions import Region
    first = int(np.searchsorted(samples, 120 * fs))
    flutter = Region("ventricular_flutter_fibrillation", int(samples[first]), int(samples[first + 20]) + 1, first, 21,
                     240.0, 1.0)
    waved = dataclasses.replace(analysis, regions=tuple(sorted(analysis.regions + (flutter,), key=lambda r: r.start)))
    kept_waved, waved_total = lorenz_points(waved)
    assert waved_total == total - 22 and not kept_waved["beat"].between(first, first + 20).any()
    histogram = rr_histogram(waved)
    assert int(histogram[["nn", "other"]].to_numpy().sum()) == len(samples) - 1 - 21  # the 20 inside and the last
    thinned, _ = lorenz_points(analysis, max_points=len(pvcs) + 20)
    assert (thinned["class"] != "N").sum() == (points["class"] != "N").sum() and (thinned["class"] == "N").sum() == 20
    assert thinned["beat"].is_monotonic_increasing


def test_the_rr_histogram_counts_every_readable_interval_in_its_bin_and_splits_normal_ones(analysis):
    from app.analysis import rr_histogram

    histogram = rr_histogram(analysis)  # 119's excerpt: ventricular bigeminy
    classes, samples = np.asarray(analysis.classes), analysis.predictions.samples
    rr_ms = 1000 * np.diff(samples) / analysis.record.fs_hz
    normal = (classes[:-1] == "N") & (classes[1:] == "N")
    expected_nn, _ = np.histogram(rr_ms[normal], bins=np.append(histogram["from_ms"], histogram["to_ms"].iloc[-1]))
    assert histogram["nn"].tolist() == expected_nn.tolist() and histogram["from_ms"].iloc[0] == 0
    assert histogram["nn"].sum() + histogram["other"].sum() == len(rr_ms)
    peaks = histogram.sort_values("other").tail(2)["from_ms"].sort_values().tolist()
    assert peaks[1] - peaks[0] >= 300  # bigeminy: short coupling intervals and long pauses after the PVCs
    fs = analysis.record.fs_hz
    marked = rr_histogram(mark_artefacts(analysis, [(int(60 * fs), int(90 * fs))]))
    crossing = (samples[1:] > 60 * fs) & (samples[:-1] < 90 * fs)
    assert marked["nn"].sum() + marked["other"].sum() == len(rr_ms) - crossing.sum()
    capped = rr_histogram(analysis, bin_ms=100, max_ms=800)
    assert np.isinf(capped["to_ms"].iloc[-1]) and capped["from_ms"].iloc[-1] == 800
    assert capped["nn"].iloc[-1] + capped["other"].iloc[-1] == int((rr_ms >= 800).sum())
    with pytest.raises(ValueError, match="bin_ms"):
        rr_histogram(analysis, bin_ms=0)


def test_the_report_s_rhythm_page_draws_the_rr_scatter_and_says_why_hrt_is_missing(analysis):
    from app.analysis import lorenz_points, rr_histogram
    from app.report import draw_rhythm_page, family_template_rows
    from app.strips import count_beats

    points, total = lorenz_points(analysis)  # 119's excerpt: bigeminy, so no isolated VPC qualifies for HRT
    figure = draw_rhythm_page(analysis, points, total)
    scatter, histogram, *families, text = figure.axes
    assert [ax.get_title(loc="left").splitlines()[-2] for ax in families] == [
        f"Family {row['family']}: {count_beats(row['n_beats'])}" for row in family_template_rows(analysis)]
    drawn = {c.get_label(): len(c.get_offsets()) for c in scatter.collections}
    assert drawn == {f"{c} ({n})": n for c, n in points["class"].value_counts().items()}
    sizes = {c.get_label()[0]: c.get_sizes()[0] for c in scatter.collections}
    assert sizes["V"] > 4 * sizes["N"]  # the ectopic beats stand out of the normal cloud (a read of session 57)
    assert sum(drawn.values()) == total and scatter.get_xlim() == scatter.get_ylim()
    bars = [sum(p.get_height() for p in container) for container in histogram.containers]
    assert bars == [rr_histogram(analysis)["nn"].sum(), rr_histogram(analysis)["other"].sum()]
    stacks = [sum(p.get_height() for p in bar) for bar in zip(*histogram.containers)]
    assert histogram.get_ylim()[1] >= 1.3 * max(stacks)  # the legend sits above the tallest bar, not over it
    assert [" ".join(t.get_text().split()) for t in text.texts] == [
        f"Heart-rate turbulence: not assessed — {analysis.summary.hrt.note.removeprefix('HRT not assessed: ')}"]
    assert analysis.summary.hrt.note.startswith("HRT not assessed: none of the")



def test_the_beat_table_marks_the_beats_the_summary_counts(mitdb_dir):
    """MIT-BIH 207 opens with ventricular flutter (from 0:44): its beats are left out of the counts but are not in
    unreadable signal, so the beat table's ``counted`` column, not ``unreadable``, gives the summary's counts."""
    from dataclasses import replace

    record = read_record(mitdb_dir / "207", annotator=None)
    record = replace(record, signal_mv=record.signal_mv[:int(150 * record.fs_hz)])
    analysis = analyse_record(record, load_default_model())
    table = beat_table(analysis)
    assert any(r.kind == "ventricular_flutter_fibrillation" for r in analysis.regions)
    counted = table[table["counted"]]
    assert tuple(int((counted["class"] == c).sum()) for c in AAMI_CLASSES) == analysis.summary.beat_counts
    assert int((~table["counted"]).sum()) == analysis.summary.n_beats_unreadable > int(table["unreadable"].sum())


def test_a_report_strip_is_printed_at_25_mm_s_and_a_standard_gain_on_ecg_paper(analysis):
    """A strip's box on an A4 page is 25 mm a second across and the record's standard gain (10 or 5 mm/mV, 119's
    excerpt 5) high, as printed, and its squares are 1 mm and 5 mm: 0.04 s and 0.2 s across, 1/gain and 5/gain mV
    high. A clinical read (session 47) found strips at 19 mm/s and 8-9 mm/mV, which an ECG ruler measures wrong."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    from app.strips import A4_PORTRAIT_IN, STRIP_S, Strip, describe_strip_scale, draw_strip, strip_gain_mm_per_mv

    figure = Figure(figsize=A4_PORTRAIT_IN)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    draw_strip(ax, analysis, Strip(20.0, "a strip"))
    gain = strip_gain_mm_per_mv(analysis.record)
    assert gain == 5.0 and describe_strip_scale(ax) == "25 mm/s, 5 mm/mV"
    box, (x0, x1), (y0, y1) = ax.get_position(), ax.get_xlim(), ax.get_ylim()
    width_mm, height_mm = (25.4 * size for size in A4_PORTRAIT_IN)
    assert box.width * width_mm / (x1 - x0) == pytest.approx(25.0) and x1 - x0 == STRIP_S
    assert box.height * height_mm / (y1 - y0) == pytest.approx(gain)
    assert 0 < box.x0 and box.x1 < 1  # on the page
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    vertical = [np.array(sorted(seg[0][0] for seg in c.get_segments())) for c in lines[0::2]]
    horizontal = [np.array(sorted(seg[0][1] for seg in c.get_segments())) for c in lines[1::2]]
    assert [round(float(np.median(np.diff(x))), 3) for x in vertical] == [0.04, 0.2]
    assert [round(float(np.median(np.diff(y))), 3) for y in horizontal] == [1 / gain, 5 / gain]
    assert len(vertical[0]) == int(STRIP_S / 0.04) + 1 and all(c.get_zorder() == 0 for c in lines)  # 187.5 mm
    low, high = ax.get_ylim()
    assert low <= horizontal[0][0] and horizontal[0][-1] <= high


def test_atrial_fibrillation_edited_in_another_program_is_read_as_the_reader_s_word(excerpts_dir):
    """A review file whose rhythm annotations a reader edited in WAVE, which leaves no rhythm note (session 65): 201's
    excerpt (AF throughout) with its (AFIB turned to (N from 60 s on is AF ruled out there; 100's (sinus) with an
    (AFIB from 30 to 90 s is AF stated there; the file saved from the analysis itself, or one without rhythm
    annotations, says nothing of the rhythm."""
    from app.analysis import read_listed_af_edits
    from app.batch import apply_saved_labels

    model = load_default_model()
    for name, notes, expected in (("201", [(21600, "(N")], [(21600, None, False)]),
                                  ("100", [(10800, "(AFIB"), (32400, "(N")], [(10800, 32400, True)])):
        analysis = analyse_record(read_record(excerpts_dir / name), model)
        n, fs = analysis.record.n_samples, analysis.record.fs_hz
        own = outputs.output_annotations(analysis)
        assert read_listed_af_edits(analysis, own) == ()
        beats_only = own.select(own.symbols != "+")
        assert read_listed_af_edits(analysis, beats_only) == ()
        samples = np.array([s for s, _ in notes])
        edited = Annotations(np.concatenate([own.samples, samples]), np.concatenate([own.symbols, ["+"] * len(notes)]),
                             np.concatenate([own.aux_notes, np.array([t for _, t in notes], dtype=object)]))
        edited = edited.select(np.argsort(edited.samples, kind="stable"))
        wanted = tuple((a, n if b is None else b, is_af) for a, b, is_af in expected)
        assert read_listed_af_edits(analysis, edited) == wanted
        applied = apply_saved_labels(analysis, edited, model)  # what ecg score --labels-from does
        assert applied.af_edits == wanted and not applied.reviewed_mask.any()
        in_af = [(r.start / fs, r.stop / fs) for r in applied.regions if r.kind == "atrial_fibrillation"]
        if wanted[0][2]:
            assert len(in_af) == 1 and 29 < in_af[0][0] < 31.5 and 88.5 < in_af[0][1] < 90.5
        else:
            assert len(in_af) == 1 and in_af[0][1] < 60.5
        assert read_listed_af_edits(applied, outputs.output_annotations(applied)) == ()


def test_a_review_saved_with_corrections_artefact_and_thresholds_reads_back_no_af_word_it_did_not_give(
        excerpts_dir, tmp_path):
    """The AF words read from a file's rhythm annotations (session 65) are the differences from the analysis as the
    review was saved: 201's excerpt (AF) reviewed with corrections inside the AF, an artefact mark, one AF word and
    AF thresholds changed, saved and read back as ecg score --labels-from reads it, gives back that one word alone."""
    from app.batch import apply_saved_labels

    model = load_default_model()
    analysis = analyse_record(read_record(excerpts_dir / "201"), model)
    fs = analysis.record.fs_hz
    rng = np.random.default_rng(65)
    labels = {int(k): str(rng.choice(["N", "S", "V"])) for k in rng.choice(len(analysis.predictions), 40, False)}
    settings = dataclasses.replace(analysis.region_settings, af_min_duration_s=60.0, af_threshold=0.6)
    reviewed = edit_analysis(analysis, labels=labels, artefacts=[(int(100 * fs), int(110 * fs))], settings=settings,
                             af_edits=[(int(200 * fs), int(230 * fs), False)])
    assert reviewed.regions != edit_analysis(analysis, labels=labels).regions  # the thresholds move the episodes
    (tmp_path / "201.ecg").write_bytes(outputs.annotation_file_bytes(reviewed))
    saved = read_annotations(tmp_path / "201", "ecg", source_fs_hz=fs, target_fs_hz=fs)
    assert apply_saved_labels(analysis, saved, model).af_edits == reviewed.af_edits


def test_a_review_saved_on_another_primary_lead_reads_back_no_af_word(mitdb_dir, tmp_path):
    """The AF/flutter a file says it was written with (its notes) is what a reader's edit in WAVE is read against, not
    what the analysis reading it back would write: MIT-BIH 201 reviewed with V1 as the primary lead (its AF episodes
    are not MLII's) and read back at the default lead gives no AF word (a code review, session 65, found seven with
    the first version)."""
    from app.batch import apply_saved_labels
    from pipeline.regions import merge_intervals, subtract_intervals

    model = load_default_model()
    on_v1 = analyse_record(read_record(mitdb_dir / "201", lead="V1"), model)
    default = analyse_record(read_record(mitdb_dir / "201"), model)
    fs = default.record.fs_hz
    episodes = [merge_intervals([(r.start, r.stop) for r in a.regions if r.kind == "atrial_fibrillation"])
                for a in (on_v1, default)]
    differ = np.concatenate([subtract_intervals(episodes[0], episodes[1]), subtract_intervals(*episodes[::-1])])
    assert np.any(differ[:, 1] - differ[:, 0] > 2 * fs)  # the two leads' episodes differ by more than a second
    (tmp_path / "201.ecg").write_bytes(outputs.annotation_file_bytes(on_v1))
    saved = read_annotations(tmp_path / "201", "ecg", source_fs_hz=fs, target_fs_hz=fs)
    assert apply_saved_labels(default, saved, model).af_edits == ()
