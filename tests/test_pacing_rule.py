"""The pacing rule (models/pacing_rule.py): with a stated pacemaker, wide on-time beats are paced (Q, written /).

Checked on MIT-BIH's record 217 (a paced patient, outside DS1 and DS2, as the rule's study read it) and on synthetic
beats for the dominant beat taken without the paced ones (the rule's option, off by default).
"""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pytest
from click.testing import CliRunner

from app.analysis import analyse_record, beat_table, edit_analysis, state_pacemaker, summary_dict
from app.cli import cli
from app.outputs import ishne_annotation_bytes, output_annotations
from models.bundled import load_default_model
from models.pacing_rule import PacingRule, find_paced_beats
from models.predict import classify_record
from models.prepare import InputSettings
from pipeline.features import compute_beat_context
from pipeline.region_eval import evaluate_regions, measure_rhythm_evidence
from pipeline.records import read_annotations, read_record
from pipeline.regions import RegionSettings
from pipeline.ishne import read_ishne_annotations
from pipeline.labels import AAMI_CLASSES
from pipeline.rhythm_annotations import rhythm_intervals, write_region_annotations
from pipeline.scoring import compare_beats
from pipeline.segment import segment_beats
from pipeline.types import STATED_PACEMAKER
from tests.score_runs import run_score

FS = 360.0


@pytest.fixture(scope="module")
def model():
    return load_default_model()


@pytest.fixture(scope="module")
def record_217(mitdb_dir):
    return read_record(mitdb_dir / "217")


@pytest.fixture(scope="module")
def analyses_217(model, record_217):
    plain = analyse_record(record_217, model)
    paced = analyse_record(dataclasses.replace(record_217, pacemaker=STATED_PACEMAKER), model)
    return plain, paced


def reference_of(record, analysis) -> tuple[np.ndarray, np.ndarray]:
    """(reference symbol, delivered class) of every matched reference beat."""
    match = compare_beats(record.annotations, analysis.predictions.samples, record.fs_hz, record.n_samples,
                          start_s=0.0)
    return np.asarray(record.annotations.symbols)[match.ref_index], np.asarray(analysis.classes)[match.test_index]


def test_the_rule_finds_wide_on_time_beats_and_checks_its_settings():
    names = ("rr_pre_local_ratio", "qrs_width_ms")
    beats = np.array([[1.0, 150.0], [0.7, 150.0], [1.0, 40.0], [0.95, 114.0], [1.0, 150.0]], np.float32)
    rr_pre_s = np.array([0.8, 0.8, 0.8, 0.8, 0.4])  # the last beat at 150 bpm, as inside a ventricular tachycardia
    assert find_paced_beats(beats, names, rr_pre_s, PacingRule(max_rate_bpm=None)).tolist() == [
        True, False, False, False, True]
    assert find_paced_beats(beats, names, rr_pre_s, PacingRule(min_width_ms=100.0, max_rate_bpm=None)).tolist() == [
        True, False, False, True, True]
    assert find_paced_beats(beats, names, rr_pre_s, PacingRule(max_rate_bpm=130.0)).tolist() == [
        True, False, False, False, False]
    assert find_paced_beats(beats, names, rr_pre_s, PacingRule(max_rate_bpm=160.0))[-1]
    with pytest.raises(ValueError, match="qrs_width_ms"):
        find_paced_beats(beats[:, :1], names[:1], rr_pre_s, PacingRule())
    with pytest.raises(ValueError, match="one per beat"):
        find_paced_beats(beats, names, rr_pre_s[:-1], PacingRule())
    for bad in ({"min_width_ms": 0.0}, {"min_width_ms": float("nan")}, {"on_time_min": -1.0},
                {"max_rate_bpm": 0.0}, {"max_rate_bpm": float("inf")}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            PacingRule(**bad)


def two_shapes(n_beats: int = 120, wide_every: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mostly wide (paced-like) beats, one in ``wide_every`` narrow, at a steady rate; (signal, peaks, narrow mask)."""
    peaks = np.arange(1, n_beats + 1) * 300
    signal = np.zeros((peaks[-1] + 400, 1), np.float32)
    narrow = np.arange(n_beats) % wide_every == 0
    for r, is_narrow in zip(peaks, narrow):
        width = 8 if is_narrow else 50
        signal[r - width:r + width, 0] += np.hanning(2 * width).astype(np.float32)
    return signal, peaks, narrow


def test_beats_left_out_of_the_template_leave_the_dominant_beat_to_the_others():
    signal, peaks, narrow = two_shapes()
    beats = segment_beats(signal, peaks, FS)
    plain = compute_beat_context(signal, peaks, FS, beats)
    own = compute_beat_context(signal, peaks, FS, beats, template_excluded=~narrow)
    width = plain.column("qrs_width_diff_ms")
    assert np.median(width[narrow]) < -20 and abs(np.median(width[~narrow])) < 5  # the wide beats are dominant
    own_width = own.column("qrs_width_diff_ms")
    assert abs(np.median(own_width[narrow])) < 5 and np.median(own_width[~narrow]) > 20
    assert own.typical[narrow].all() and not own.typical[~narrow].any()
    # too few beats left without the excluded ones: the template is formed as before
    few = np.ones(len(peaks), bool)
    few[:3] = False
    again = compute_beat_context(signal, peaks, FS, beats, template_excluded=few)
    np.testing.assert_array_equal(again.template_mv, plain.template_mv)


def test_a_stated_pacemaker_labels_217s_paced_beats_q_and_takes_back_false_ventricular_events(analyses_217,
                                                                                            record_217):
    plain, paced = analyses_217
    assert plain.predictions.paced is None and not np.any(plain.classes == "Q")
    symbols, classes = reference_of(record_217, paced)
    assert np.mean(classes[symbols == "/"] == "Q") >= 0.8  # the study: 1,407 of 1,542 (91 %)
    assert np.mean(classes[symbols == "V"] == "V") >= np.mean(reference_of(record_217, plain)[1][symbols == "V"]
                                                              == "V") - 0.02
    assert paced.predictions.paced_mask.sum() == np.sum(paced.classes == "Q")
    v_calls = (np.sum(plain.classes == "V"), np.sum(paced.classes == "V"))
    assert v_calls[1] < 0.6 * v_calls[0]  # the study: 938 -> 406

    def count(analysis, kind):
        return sum(r.kind == kind for r in analysis.regions)
    assert count(paced, "idioventricular_rhythm") <= count(plain, "idioventricular_rhythm") / 2
    assert count(paced, "ventricular_couplet") < count(plain, "ventricular_couplet")
    assert any("labelled paced" in note for note in paced.summary.notes)
    # the note counts every beat found; it says that the class counts leave out the unreadable ones (QA, session 45)
    unreadable = paced.summary.n_beats_unreadable
    assert unreadable > 0 and any(f"the class counts leave out the {unreadable} beats" in note
                                  for note in paced.summary.notes)
    assert not any("labelled paced" in note for note in plain.summary.notes)
    from app.report import summary_lines  # the report's beats line says the paced beats are among the Q beats

    def beats_line(analysis):  # the summary's beats line, its wrapped continuation joined
        lines = summary_lines(analysis)
        first = next(k for k, line in enumerate(lines) if line.startswith("Beats:"))
        wrapped = itertools.takewhile(lambda line: line.startswith("  "), lines[first + 1:])
        return " ".join(" ".join([lines[first], *wrapped]).split())
    n_q = paced.summary.beat_counts[AAMI_CLASSES.index("Q")]
    assert f"Q {n_q}, the paced beats among them)" in beats_line(paced)
    assert "paced beats among" not in beats_line(plain)
    table = beat_table(paced)
    assert table["pacing_rule"].sum() == paced.predictions.paced_mask.sum()
    assert not table.loc[table["pacing_rule"], "conduction_rule"].any()  # no other rule's flag on a paced beat


def test_paced_beats_are_written_as_paced_and_read_back(analyses_217, tmp_path):
    _, paced = analyses_217
    record, n_paced = paced.record, paced.predictions.paced_mask.sum()
    write_region_annotations(tmp_path, "217", "ecg", output_annotations(paced), record.fs_hz, record.source_fs_hz)
    symbols = np.asarray(read_annotations(tmp_path / "217", "ecg", source_fs_hz=record.source_fs_hz).symbols)
    assert np.sum(symbols == "/") == n_paced and not np.any(symbols == "Q")
    # the paced rhythms are written (P, which WFDB readers get back where no ectopic rhythm covers them
    written = read_annotations(tmp_path / "217", "ecg", source_fs_hz=record.source_fs_hz)
    read_back = rhythm_intervals(written, "(P", record.n_samples)
    paced_rhythms = [r for r in paced.regions if r.kind == "paced_rhythm"]
    found_s = sum(r.stop - r.start for r in paced_rhythms) / record.fs_hz
    assert found_s > 0.5 * record.n_samples / record.fs_hz  # 217: paced about 80 % of the time
    assert 0.9 * found_s <= np.sum(read_back[:, 1] - read_back[:, 0]) / record.fs_hz <= found_s + 60
    (tmp_path / "217.ann").write_bytes(ishne_annotation_bytes(paced))
    _, ishne_symbols, _ = read_ishne_annotations(tmp_path / "217.ann")
    assert np.sum(ishne_symbols == "/") == n_paced  # ISHNE's P, read back as MIT-BIH's paced beat


def test_stating_the_pacemaker_after_the_analysis_gives_the_same_classes(model, analyses_217):
    plain, paced = analyses_217
    later = state_pacemaker(dataclasses.replace(plain, conclusion="paced rhythm"), model, STATED_PACEMAKER)
    assert later.record.pacemaker == STATED_PACEMAKER and later.conclusion == "paced rhythm"
    np.testing.assert_array_equal(later.classes, paced.classes)
    np.testing.assert_array_equal(later.predictions.samples, paced.predictions.samples)
    np.testing.assert_array_equal(later.families, paced.families)
    np.testing.assert_array_equal([dataclasses.astuple(r) for r in later.regions],  # NaN rates compare equal
                                  [dataclasses.astuple(r) for r in paced.regions])
    assert later.quality_spans == paced.quality_spans
    assert summary_dict(later) | {"reader_conclusion": None} == summary_dict(paced)
    # detection and quality are kept from the first analysis, not run again; nor are the networks (their inputs do
    # not depend on the pacemaker: a 24-h record's tick took 20 s, 11 of them classifying again, session 46)
    assert later.timings_s["detect"] == plain.timings_s["detect"]
    assert later.predictions.probabilities is plain.predictions.probabilities
    assert state_pacemaker(paced, model, "other") is paced  # stated already: nothing to do


def test_a_reader_who_relabels_the_paced_beats_has_the_record_read_as_unpaced(analyses_217):
    # a QA pass (session 46): 217's paced family relabelled N left 9 paced beats in the note while HRV, ST and QT
    # stayed out for the 1,561 the rule had found; the reader's labels now decide the paced share too
    _, paced = analyses_217
    left = np.flatnonzero(paced.predictions.paced_mask)[:-5]  # all but five paced beats relabelled N
    edited = edit_analysis(paced, labels={int(i): "N" for i in left})
    notes = " ".join(edited.summary.notes)
    assert "5 of the" in notes and "the pacemaker paced under 10 % of the beats" in notes
    assert "atrial fibrillation is read from the RR intervals alone" not in notes
    assert "HRV not assessed: the patient has a pacemaker" not in notes
    assert "ST and QT not assessed: pacemaker" not in notes
    def paced_rhythm_beats(analysis):
        return sum(r.n_beats for r in analysis.regions if r.kind == "paced_rhythm")
    assert paced_rhythm_beats(edited) <= 15 < 1000 < paced_rhythm_beats(paced)  # the five left, and the beats between
    assert "HRV not assessed: the patient has a pacemaker" in " ".join(paced.summary.notes)  # as the rule found it


def test_hour_long_chunks_mark_the_paced_beats_too(model, record_217):
    settings = InputSettings.from_dict(model.settings["inputs"])
    stated = dataclasses.replace(record_217, pacemaker=STATED_PACEMAKER)
    whole = classify_record(model.model, settings, stated, pacing=PacingRule())
    chunked = classify_record(model.model, settings, stated, pacing=PacingRule(), chunk_s=600.0, margin_s=60.0)
    assert len(chunked.paced_mask) == len(chunked) == len(whole)
    assert np.mean(chunked.paced_mask == whole.paced_mask) > 0.99
    assert np.all(chunked.classes[chunked.paced_mask] == "Q")
    # without the pacemaker, the beats the rule would find are kept, chunk by chunk, for a pacemaker stated later
    unstated = classify_record(model.model, settings, record_217, chunk_s=600.0, margin_s=60.0)
    np.testing.assert_array_equal(unstated.paceable, chunked.paced_mask)


def test_a_paced_patients_af_evidence_is_read_from_rr_alone(record_217):
    samples = record_217.annotations.samples[np.isin(record_217.annotations.symbols, ["/", "N", "V", "f"])]
    plain = measure_rhythm_evidence(record_217, samples, [], RegionSettings())
    stated = measure_rhythm_evidence(dataclasses.replace(record_217, pacemaker="VVI"), samples, [], RegionSettings())
    assert plain.p_wave_similarity.shape == samples.shape and stated.p_wave_similarity is None
    # ... when the pacemaker paced: with under a tenth of the beats paced, the P waves are evidence again (session 45)
    symbols = record_217.annotations.symbols[np.isin(record_217.annotations.symbols, ["/", "N", "V", "f"])]
    paced = measure_rhythm_evidence(dataclasses.replace(record_217, pacemaker="VVI"), samples, [], RegionSettings(),
                                    paced_beats=symbols == "/")
    few = np.zeros(len(samples), bool)
    few[:len(samples) // 20] = True
    seldom = measure_rhythm_evidence(dataclasses.replace(record_217, pacemaker="VVI"), samples, [], RegionSettings(),
                                     paced_beats=few)
    assert paced.p_wave_similarity is None
    np.testing.assert_array_equal(seldom.p_wave_similarity, plain.p_wave_similarity)


def test_a_pacemaker_stated_for_af_patients_who_are_not_paced_keeps_their_af(model, mitdb_dir):
    """MIT-BIH 221, in AF throughout, with a pacemaker stated by mistake: 3 beats found paced, so its AF is read as
    for any patient (1,798 s without the statement; 705 s when a stated pacemaker always meant RR alone, a QA pass)."""
    record = read_record(mitdb_dir / "221")
    plain = analyse_record(record, model)
    stated = analyse_record(dataclasses.replace(record, pacemaker=STATED_PACEMAKER), model)
    assert stated.predictions.paced_mask.mean() < 0.1
    af = {name: sum(r.stop - r.start for r in a.regions if r.kind == "atrial_fibrillation") / record.fs_hz
          for name, a in (("plain", plain), ("stated", stated))}
    assert af["stated"] >= 0.98 * af["plain"] > 1500
    assert any(n.startswith("the pacemaker paced under 10 % of the beats: atrial fibrillation (from the RR intervals "
                            "and the P waves)") for n in stated.summary.notes)


def test_evaluate_regions_states_the_pacemaker_for_the_named_records(mitdb_dir):
    report = evaluate_regions(mitdb_dir, ["217", "100"], "reference", pacemaker_records=("217",))
    notes = {e.record: " ".join(e.summary.notes) for e in report.evaluations}
    assert "pacemaker (stated by the user)" in notes["217"] and "pacemaker" not in notes["100"]
    assert report.settings["pacemaker_records"] == ["217"]
    # paced rhythm against MIT-BIH's (P: with the reference's paced beats, duration Se 85.6 / +P 99.3 % (217 alone)
    paced = {e.record: e.episode("paced") for e in report.evaluations}
    assert paced["217"].duration_sensitivity >= 0.8 and paced["217"].duration_predictivity >= 0.95
    assert paced["100"].test_s == 0 and not any(r.kind == "paced_rhythm" for e in report.evaluations
                                                 if e.record == "100" for r in e.regions)


def test_the_command_line_states_the_pacemaker_for_the_named_records(mitdb_dir, tmp_path):
    out = tmp_path / "regions"
    result = CliRunner().invoke(cli, ["evaluate-regions", "--data-dir", str(mitdb_dir), "--records", "217,100",
                                      "--pacemaker-records", "217", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "pacemaker (stated by the user)" in (out / "217_summary.json").read_text()
    assert "pacemaker" not in (out / "100_summary.json").read_text()
    typo = CliRunner().invoke(cli, ["evaluate-regions", "--data-dir", str(mitdb_dir), "--records", "217",
                                    "--pacemaker-records", "271"])
    assert typo.exit_code == 2 and "271: not among the records evaluated" in typo.output
    for empty in ("", " ", ","):
        result = CliRunner().invoke(cli, ["evaluate-regions", "--data-dir", str(mitdb_dir), "--records", "217",
                                          "--pacemaker-records", empty])
        assert result.exit_code == 2 and "expected comma-separated record names" in result.output, empty


def test_a_mostly_paced_record_says_how_much_is_paced_and_why_af_was_not_assessed(model, mitdb_dir):
    analysis = analyse_record(dataclasses.replace(read_record(mitdb_dir / "107"), pacemaker="VVI"), model)
    paced = analysis.predictions.paced_mask
    assert paced.mean() > 0.8  # 107 is paced throughout (the study: 94 % of its paced beats found)
    n_paced = int(np.sum(paced & (analysis.classes == "Q")))
    assert any(note.startswith(f"{n_paced} of the {len(paced)} beats found ({100 * n_paced / len(paced):.1f} %) are "
                               "labelled paced") for note in analysis.summary.notes)
    note = next(n for n in analysis.summary.notes if n.startswith("insufficient readable signal for AF assessment"))
    assert note.endswith("; the intervals next to paced beats do not count")


def test_the_beat_report_labels_a_stated_patients_paced_beats_q(mitdb_dir, tmp_path):
    out = tmp_path / "beats"
    result = CliRunner().invoke(cli, ["evaluate", "--model", "models/bundled/model.keras", "--data-dir", str(mitdb_dir),
                                      "--records", "107", "--pacemaker-records", "107", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "classification_report.json").read_text())
    assert report["context"]["pacemaker_records"] == ["107"]
    confusion = np.array(report["modes"]["end_to_end"]["confusion"]["matrix"])
    q = report["modes"]["end_to_end"]["confusion"]["rows_reference"].index("Q")
    assert confusion[q, q] >= 0.8 * confusion[q].sum()  # 107's paced beats, labelled paced end to end
    record = read_record(mitdb_dir / "107")
    written = read_annotations(out / "107", "cls", source_fs_hz=record.source_fs_hz)
    assert np.sum(np.asarray(written.symbols) == "/") == confusion[:, q].sum()
    # Calibration leaves the reference Q beats out (paced here: Q by the rule, not by the network's probabilities).
    reference = np.array(report["modes"]["reference"]["confusion"]["matrix"])
    assert report["calibration"]["beats"] == reference[:q].sum() < reference.sum()
    assert sum(row["beats"] for row in report["calibration"]["reliability"]) == report["calibration"]["beats"]
    assert "reference Q beats (paced or unclassifiable) are left out" in (out / "classification_report.md").read_text()


def test_report_strips_label_paced_beats_p_not_q(analyses_217):
    """A clinical read (session 48): "Q" over a paced beat reads as unclassifiable; the strips print P, and page 1's
    footer gives the key to the letters."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from app.analysis import find_paced_beats_left
    from app.report import BEAT_LABEL_KEY, PACED_KEY, first_page_text
    from app.strips import A4_PORTRAIT_IN, Strip, draw_strip

    plain, paced = analyses_217
    at = paced.predictions.samples[find_paced_beats_left(paced.predictions, paced.classes)][100] / FS - 3.0
    labels = {}
    for name, analysis in (("plain", plain), ("paced", paced)):
        figure = Figure(figsize=A4_PORTRAIT_IN)
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        draw_strip(ax, analysis, Strip(at, "paced beats"))
        labels[name] = [t.get_text() for t in ax.texts if len(t.get_text()) == 1]
    assert labels["paced"].count("P") >= 3 and "Q" not in labels["paced"]
    assert "P" not in labels["plain"]  # no pacemaker stated: no beat is paced
    footers = [first_page_text(a)[3].replace("\n", " ") for a in (paced, plain)]
    assert footers[0].startswith(BEAT_LABEL_KEY + PACED_KEY + ".") and footers[1].startswith(BEAT_LABEL_KEY + ". ")


def test_v_calls_in_a_paced_family_become_paced_not_normal():
    """A QA pass found 132 of 217's paced beats labelled N: V calls the family rule outvoted in the paced family."""
    from models.family_rule import apply_family_rule
    from models.predict import BeatPredictions
    q, v, n = (AAMI_CLASSES.index(c) for c in "QVN")
    classes = np.array([q] * 8 + [v] * 2 + [n] * 8 + [v] * 2)
    families = np.array([0] * 10 + [1] * 10)
    probabilities = np.zeros((20, len(AAMI_CLASSES)), np.float32)
    paced = classes == q
    after = apply_family_rule(BeatPredictions(np.arange(20) * 300, probabilities, decided=classes, paced=paced),
                              families)
    assert after.classes.tolist() == ["Q"] * 10 + ["N"] * 10
    assert after.paced_mask.tolist() == [True] * 10 + [False] * 10
    assert after.in_family_mask.tolist() == [False] * 18 + [True] * 2
    unstated = apply_family_rule(BeatPredictions(np.arange(20) * 300, probabilities, decided=classes), families)
    assert unstated.classes.tolist()[8:10] == ["N", "N"] and unstated.paced is None


def test_217_has_no_paced_beat_labelled_normal_by_the_family_rule(analyses_217):
    _, paced = analyses_217
    largest = paced.families == 0  # the paced family (families are numbered by size)
    assert paced.predictions.paced_mask[largest].mean() > 0.5
    assert not np.any(paced.predictions.in_family_mask & largest)


def test_a_reviewed_file_with_paced_beats_states_the_pacemaker(analyses_217, mitdb_dir, tmp_path):
    _, paced = analyses_217
    folder = tmp_path / "reviewed"
    folder.mkdir()
    for ext in ("hea", "dat"):
        (folder / f"217.{ext}").write_bytes((mitdb_dir / f"217.{ext}").read_bytes())
    write_region_annotations(folder, "217", "ecg", output_annotations(paced), paced.record.fs_hz,
                             paced.record.source_fs_hz)
    out = tmp_path / "out"
    code, output = run_score(str(folder), "--out", str(out), "--labels-from", "ecg", "--format", "json,wfdb")
    assert code == 0, output
    summary = json.loads((out / "217" / "217_summary.json").read_text())
    assert summary["pacemaker"] == "paced beats in the reviewed labels"
    written = read_annotations(out / "217" / "217", "ecg", source_fs_hz=paced.record.source_fs_hz)
    assert np.sum(np.asarray(written.symbols) == "/") > 0.8 * paced.predictions.paced_mask.sum()


def test_the_note_says_when_no_beat_is_found_paced_and_when_the_lead_is_not_mlii(model, mitdb_dir):
    analysis = analyse_record(dataclasses.replace(read_record(mitdb_dir / "100"), pacemaker="VVI"), model)
    assert any(n.startswith("no beat was found paced") for n in analysis.summary.notes)
    v1 = analyse_record(dataclasses.replace(read_record(mitdb_dir / "217", lead="V1"), pacemaker="VVI"), model)
    note = next(n for n in v1.summary.notes if "labelled paced" in n or n.startswith("no beat was found paced"))
    assert note.endswith("with V1 it may find far fewer paced beats")


def test_region_files_write_paced_beats_as_paced(mitdb_dir, tmp_path):
    for labels in ("reference", "model"):
        out = tmp_path / labels
        args = ["evaluate-regions", "--data-dir", str(mitdb_dir), "--records", "217", "--labels", labels,
                "--pacemaker-records", "217", "--out", str(out)]
        if labels == "model":
            args += ["--model", "models/bundled/model.keras"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert "a pacemaker stated for 217" in result.output
        symbols = np.asarray(read_annotations(out / "217", "rhy", source_fs_hz=360.0).symbols)
        if labels == "reference":  # the reference's paced beats (its paced fusion beats, f, are written Q)
            assert np.sum(symbols == "/") >= 0.99 * np.sum(np.asarray(read_record(mitdb_dir / "217").annotations
                                                                        .symbols) == "/")
        else:
            assert np.sum(symbols == "/") > 1000 and np.sum(symbols == "Q") < 100


def test_pacing_spikes_label_paced_beats_the_width_rule_misses(model, mitdb_dir):
    """Record 104's paced beats are narrower than 102's and 107's: the wide on-time rule found 60 % of them; beats with
    a pacing spike are paced too (row BN), where a quarter of the record's beats have one. Stated by mistake on
    record 100, which has no spikes, the spikes add nothing."""
    settings = InputSettings.from_dict(model.settings["inputs"])
    stated = dataclasses.replace(read_record(mitdb_dir / "104"), pacemaker=STATED_PACEMAKER)
    with_spikes = classify_record(model.model, settings, stated, pacing=PacingRule())
    without = classify_record(model.model, settings, stated, pacing=PacingRule(spikes=False))
    symbols = reference_symbols(stated, with_spikes.samples)
    paced = symbols == "/"
    assert with_spikes.paced_mask[paced].mean() > without.paced_mask[paced].mean() + 0.05
    normal = symbols == "N"
    assert with_spikes.paced_mask[normal].sum() == without.paced_mask[normal].sum()  # no normal beat has a spike
    mistaken = dataclasses.replace(read_record(mitdb_dir / "100"), pacemaker=STATED_PACEMAKER)
    np.testing.assert_array_equal(classify_record(model.model, settings, mistaken, pacing=PacingRule()).paced_mask,
                                  classify_record(model.model, settings, mistaken,
                                                  pacing=PacingRule(spikes=False)).paced_mask)
    with pytest.raises(ValueError, match="spike_share_min="):
        PacingRule(spike_share_min=1.5)


def reference_symbols(record, samples: np.ndarray) -> np.ndarray:
    """The reference beat symbol matched to each beat ("" where none is)."""
    match = compare_beats(record.annotations, samples, record.fs_hz, record.n_samples, start_s=0.0)
    symbols = np.full(len(samples), "", dtype=object)
    symbols[match.test_index] = np.asarray(record.annotations.symbols)[match.ref_index]
    return symbols


def test_a_short_strip_takes_no_pacing_spike(model, mitdb_dir):
    """Spikes that keep their place can be chance on a few beats (a review of session 56 found a quarter of a noisy
    10-s strip's beats spiked): the rule takes spikes from 50 beats or more only."""
    settings = InputSettings.from_dict(model.settings["inputs"])
    record = read_record(mitdb_dir / "104")
    strip = dataclasses.replace(record, signal_mv=record.signal_mv[:int(20 * record.fs_hz)],
                                pacemaker=STATED_PACEMAKER)
    with_spikes = classify_record(model.model, settings, strip, pacing=PacingRule())
    without = classify_record(model.model, settings, strip, pacing=PacingRule(spikes=False))
    assert len(with_spikes) < 50
    np.testing.assert_array_equal(with_spikes.paced_mask, without.paced_mask)


def test_a_family_labelled_both_n_and_v_is_named_for_review(analyses_217, model, excerpts_dir):
    """217 scored without its pacemaker: its paced family (1,576 beats) is labelled N and V at once, which a clinical
    read of session 56 found nowhere on page 1. Stated, the paced family is paced and drops out of the note; a record
    whose families are labelled one way (sample 100) has no such note."""
    plain, paced = analyses_217

    def split_note(analysis):
        return [n for n in analysis.summary.notes if "labelled both N and V" in n]

    assert len(split_note(plain)) == 1 and "family 0 (" in split_note(plain)[0]
    assert not split_note(paced) or "family 0 (" not in split_note(paced)[0]
    relabelled = edit_analysis(plain, labels={int(i): "V" for i in np.flatnonzero(plain.families == 0)})
    assert not split_note(relabelled) or "family 0 (" not in split_note(relabelled)[0]  # after the reader's review
    assert not split_note(analyse_record(read_record(excerpts_dir / "100"), model))
