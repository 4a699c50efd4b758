"""A reader's edits of the beat list (pipeline.reader_beats, app.analysis.edit_beats) on real excerpts with the bundled
model: a deleted detection and an added beat change every count, interval and event; taken back, the analysis is the
automatic one again; saved in the review file, they come back; a long recording classifies only the hour edited."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from app import outputs
from app.analysis import (analyse_record, apply_saved_beat_edits, edit_analysis, edit_beats, read_corrections,
                          summary_dict)
from app.report import summary_lines
from models.atrial_rule import DecisionRules
from models.bundled import load_default_model
from models.prepare import InputSettings
from models import predict
from pipeline.reader_beats import MissedBeatError, apply_beat_edits, place_missed_beat
from pipeline.records import read_annotations, read_record
from pipeline.rhythm_annotations import read_beat_edit_notes


@pytest.fixture(scope="module")
def model():
    return load_default_model()


@pytest.fixture(scope="module")
def analysis(model, excerpts_dir):
    return analyse_record(read_record(excerpts_dir / "100"), model)


def pauses(analysis) -> list[tuple[int, int]]:
    return [(r.start, r.stop) for r in analysis.regions if r.kind == "pause"]


def test_two_missed_beats_make_a_pause_that_adding_them_back_removes(analysis, model):
    """100's excerpt (sinus rhythm, RR about 0.8 s, no pause): two neighbouring beats deleted leave a 2.4-s gap, a
    pause, and two fewer N beats; each added back from a time 80 ms off its QRS lands where the detector had it, and
    the analysis is the automatic one again."""
    detected = analysis.predictions.detected_samples
    fs = analysis.record.fs_hz
    assert pauses(analysis) == []
    k = 200
    deleted = edit_beats(analysis, model, [(int(detected[k]), False), (int(detected[k + 1]), False)])
    assert len(deleted.predictions) == len(analysis.predictions) - 2
    assert deleted.summary.beat_counts[0] == analysis.summary.beat_counts[0] - 2
    assert deleted.summary.longest_rr_s > 2.0 > analysis.summary.longest_rr_s
    assert len(pauses(deleted)) == 1
    samples = deleted.predictions.detected_samples
    placed = [place_missed_beat(analysis.record.signal_mv, fs, analysis.record.primary_lead,
                                int(detected[j] + shift * fs), samples) for j, shift in ((k, 0.08), (k + 1, -0.08))]
    assert placed == [int(detected[k]), int(detected[k + 1])]
    restored = edit_beats(analysis, model, deleted.beat_edits + tuple((p, True) for p in placed))
    assert np.array_equal(restored.predictions.detected_samples, detected)
    assert np.array_equal(restored.classes, analysis.classes)
    assert np.allclose(restored.predictions.probabilities, analysis.predictions.probabilities)
    assert restored.regions == analysis.regions and restored.summary.beat_counts == analysis.summary.beat_counts


def test_a_missed_beat_next_to_a_beat_is_refused_with_the_reason(analysis):
    detected = analysis.predictions.detected_samples
    fs = analysis.record.fs_hz
    with pytest.raises(MissedBeatError, match="a beat is already marked on the QRS nearest"):
        place_missed_beat(analysis.record.signal_mv, fs, analysis.record.primary_lead, int(detected[50] + 0.05 * fs),
                          detected)


def test_a_false_beat_on_a_t_wave_is_an_ectopic_call_that_deleting_it_takes_back(analysis, model):
    """A beat added on a T wave (what a detector counts twice on a tall T) is called an ectopic beat; the reader
    deleting it gives back the automatic analysis."""
    detected = analysis.predictions.detected_samples
    fs = analysis.record.fs_hz
    t_wave = int(detected[100] + 0.3 * fs)
    edits = [(t_wave, True)]
    added = edit_beats(analysis, model, edits)
    assert len(added.predictions) == len(analysis.predictions) + 1
    index = int(np.flatnonzero(added.predictions.detected_samples == t_wave)[0])
    assert added.classes[index] in ("S", "V")  # premature and unlike the patient's beats
    ectopic = [sum(a.summary.beat_counts[1:3]) for a in (analysis, added)]
    assert ectopic[1] > ectopic[0]
    again = edit_beats(analysis, model, edits + [(t_wave, False)])
    assert np.array_equal(again.classes, analysis.classes) and again.regions == analysis.regions


def test_beat_edits_are_saved_and_come_back_with_the_corrections_numbered_by_the_edited_beats(
        analysis, model, tmp_path):
    """The review file holds the edited beats and a note per edit; on reload the edits are applied first, so its
    labels pair with the edited beats and a correction after the edited beat keeps its beat."""
    from app.batch import ModelIdentity, apply_saved_labels, summary_row

    detected = analysis.predictions.detected_samples
    edited = edit_beats(analysis, model, [(int(detected[10]), False)])
    corrected = edit_analysis(edited, labels={20: "S"})  # beat 21 of the detector's
    assert corrected.classes[20] == "S" and analysis.predictions.detected_samples[21] == \
        edited.predictions.detected_samples[20]
    (tmp_path / "100.ecg").write_bytes(outputs.annotation_file_bytes(corrected))
    fs = analysis.record.fs_hz
    saved = read_annotations(tmp_path / "100", "ecg", source_fs_hz=fs, target_fs_hz=fs)
    assert read_beat_edit_notes(saved.samples, saved.aux_notes, fs, analysis.record.n_samples) == edited.beat_edits
    with_beats = apply_saved_beat_edits(analysis, model, saved)
    assert read_corrections(with_beats, saved) == ({20: "S"}, 0)
    restored = apply_saved_labels(analysis, saved, model)
    assert np.array_equal(restored.classes, corrected.classes) and restored.regions == corrected.regions
    assert restored.beat_edits == edited.beat_edits
    assert summary_row(restored, ModelIdentity("m", "m", "x", "y"))["reader_beat_edits"] == 1
    assert summary_dict(restored)["reader_beat_edits"] == [{"time_s": detected[10] / fs, "added": False}]
    assert any(line.startswith("Beats edited by the reader: 1 detection deleted (00:00:")
               for line in summary_lines(restored))


@pytest.mark.parametrize("name, added", [("201", True), ("106", False)])
def test_beats_added_or_deleted_in_another_program_are_read_as_beat_edits(model, excerpts_dir, tmp_path, name, added):
    """A beat annotation file with no beat notes, as WAVE leaves one a reader edited there (here the reference one):
    201's excerpt has a QRS the detector misses at 48.8 s, 106's a false detection at 178.8 s. Read as the review
    file, its beat list becomes the analysis's, by a missed beat added on its QRS or the false one deleted; saved,
    the edit comes back from its note. A file that lists every other beat is refused."""
    from app.analysis import ReviewFileMismatchError, read_listed_beat_edits
    from pipeline.reader_beats import compare_beat_lists
    from pipeline.region_eval import annotated_beats

    analysis = analyse_record(read_record(excerpts_dir / name), model)
    fs = analysis.record.fs_hz
    reference = read_annotations(excerpts_dir / name, "atr", source_fs_hz=fs, target_fs_hz=fs)
    beats, _ = annotated_beats(reference)
    unlisted, unfound = compare_beat_lists(beats, analysis.predictions.samples, fs)
    assert (len(unlisted), len(unfound)) == ((0, 1) if added else (1, 0))
    edits = read_listed_beat_edits(analysis, reference)
    assert len(edits) == 1 and edits[0][1] is added
    edited = apply_saved_beat_edits(analysis, model, reference)
    assert edited.beat_edits == edits and len(edited.predictions) == len(beats)
    assert [len(a) for a in compare_beat_lists(beats, edited.predictions.samples, fs)] == [0, 0]
    assert abs(edits[0][0] / fs - (48.76 if added else 178.77)) < 0.15  # the detector's position, not the reported one
    assert read_corrections(edited, reference)[1] == 0
    (tmp_path / f"{name}.ecg").write_bytes(outputs.annotation_file_bytes(edited))
    saved = read_annotations(tmp_path / name, "ecg", source_fs_hz=fs, target_fs_hz=fs)
    assert read_listed_beat_edits(edited, saved) == ()
    assert apply_saved_beat_edits(analysis, model, saved).beat_edits == edits
    halves = reference.select(~np.isin(reference.samples, beats[1::2]))
    with pytest.raises(ReviewFileMismatchError, match=r"of the \d+ beats found in it have no beat in the file"):
        read_listed_beat_edits(analysis, halves)


def test_the_first_and_last_beats_deleted_in_another_program_are_read(analysis, model):
    """The product's review file notes its end, so a beat deleted in WAVE after the file's last other annotation (the
    last beat: noise after a Holter recorder is taken off) is read as deleted; it was outside the span compared (a
    code review, session 65). So is the first."""
    from app.analysis import read_listed_beat_edits
    from pipeline.labels import is_beat_symbol

    saved = outputs.output_annotations(analysis)
    beats = np.flatnonzero(is_beat_symbol(saved.symbols))
    detected = analysis.predictions.detected_samples
    for k in (0, -1):
        edited = saved.select(np.arange(len(saved)) != beats[k])
        assert read_listed_beat_edits(analysis, edited) == ((int(detected[k]), False),)


def test_beat_edits_apply_to_the_detector_s_beats_only(analysis, model):
    edited = edit_beats(analysis, model, [(int(analysis.predictions.detected_samples[5]), False)])
    with pytest.raises(ValueError, match="beat edits already"):
        edit_beats(edited, model, [])


def test_an_edit_of_a_long_recording_classifies_only_the_chunks_it_reaches(analysis, model, monkeypatch):
    """A Holter recording is classified in chunks (an hour each, here a minute): after an edit, the chunks whose
    signal or beats it does not reach are taken from the predictions before, and the result is what classifying
    every chunk again gives."""
    record, predictions = analysis.record, analysis.predictions
    settings = InputSettings.from_dict(model.settings["inputs"])
    decisions = DecisionRules.from_settings(model.settings)
    options = dict(chunk_s=60.0, margin_s=10.0, decisions=decisions)
    before = predict.classify_record(model.model, settings, record, predictions.detected_samples, **options)
    positions = apply_beat_edits(predictions.detected_samples, ((int(150 * record.fs_hz), True),), record.fs_hz)
    full = predict.classify_record(model.model, settings, record, positions, **options)
    calls = []
    real = predict.classify_chunk
    monkeypatch.setattr(predict, "classify_chunk", lambda *a, **k: calls.append(a[4]) or real(*a, **k))
    spliced = predict.classify_record(model.model, settings, record, positions, kept=before,
                                      changed=np.setxor1d(positions, predictions.detected_samples), **options)
    fs = record.fs_hz
    assert calls == [int(120 * fs)]  # 150 s lies in the chunk of 120-180 s and more than 10 s from its neighbours
    assert np.array_equal(spliced.samples, full.samples) and np.array_equal(spliced.classes, full.classes)
    assert np.array_equal(spliced.probabilities, full.probabilities)
    assert np.array_equal(spliced.detected_samples, full.detected_samples)


def test_edits_that_change_nothing_are_not_kept(analysis, model):
    """An addition next to a beat and a deletion where no beat is do nothing: the analysis keeps no such edit to list,
    count or save (a code review of session 64)."""
    detected = analysis.predictions.detected_samples
    fs = analysis.record.fs_hz
    edited = edit_beats(analysis, model, [(int(detected[30] + 0.05 * fs), True), (int(detected[30] + 0.4 * fs), False)])
    assert edited.beat_edits == () and edited.regions == analysis.regions
    removed = edit_beats(analysis, model, [(int(detected[30]), False), (int(detected[30] + 0.02 * fs), True),
                                           (int(detected[40]), False)])
    assert removed.beat_edits == ((int(detected[30]), False), (int(detected[30] + 0.02 * fs), True),
                                  (int(detected[40]), False))  # the deletion made room for the addition
    assert len(removed.predictions) == len(analysis.predictions) - 1


def test_a_pacemaker_stated_with_beat_edits_keeps_the_hours_no_edit_reaches(model, excerpts_dir):
    """With a pacemaker stated, an edit still classifies only the chunk it reaches: the other chunks' beats found paced
    become Q as when the pacemaker is stated without an edit (app.analysis.state_pacemaker), the same as classifying
    every chunk again with the pacing rule."""
    from models.pacing_rule import PacingRule

    record = read_record(excerpts_dir / "217")
    settings = InputSettings.from_dict(model.settings["inputs"])
    options = dict(chunk_s=60.0, margin_s=10.0, decisions=DecisionRules.from_settings(model.settings))
    before = predict.classify_record(model.model, settings, record, **options)
    detected = before.detected_samples
    positions = apply_beat_edits(detected, ((int(detected[150]), False),), record.fs_hz)
    paced = dict(record=dataclasses.replace(record, pacemaker="stated"), pacing=PacingRule())
    full = predict.classify_record(model.model, settings, paced["record"], positions, pacing=paced["pacing"],
                                   **options)
    kept = predict.mark_paced_beats(predict.undo_record_rules(before), before.paceable)
    spliced = predict.classify_record(model.model, settings, paced["record"], positions, pacing=paced["pacing"],
                                      kept=kept, changed=np.setxor1d(positions, detected), **options)
    assert full.paced_mask.sum() > 100
    assert np.array_equal(spliced.classes, full.classes) and np.array_equal(spliced.paced_mask, full.paced_mask)


def test_a_beat_edit_keeps_the_flutter_windows_and_finds_what_measuring_again_finds(model, excerpts_dir, monkeypatch):
    """The flutter-like windows depend on the signal and its quality spans, not on the beats: a beat edit takes them
    as kept (1.3 of 5.8 s on a 24-hour record, session 64's profile), and the result is the same as measuring again.
    201's excerpt: atrial fibrillation throughout."""
    from pipeline import fibrillation, region_eval

    analysis = analyse_record(read_record(excerpts_dir / "201"), model)
    calls = []
    real = fibrillation.vf_like_windows
    monkeypatch.setattr(fibrillation, "vf_like_windows", lambda *a, **k: calls.append(1) or real(*a, **k))
    edit = [(int(analysis.predictions.detected_samples[100]), False)]
    kept = edit_beats(analysis, model, edit)
    assert calls == []
    region_eval.forget_kept_measures()
    again = edit_beats(analysis, model, edit)
    assert calls == [1]
    assert repr(kept.regions) == repr(again.regions) and repr(kept.summary) == repr(again.summary)
    assert any(r.kind == "atrial_fibrillation" for r in kept.regions)
