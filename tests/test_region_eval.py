"""EC57 run-by-run (rxr) and episode (epicmp) comparisons on hand-made annotations, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from app.cli import cli
from pipeline.records import read_annotations, read_record, write_annotations, write_record
from pipeline.region_eval import (
    EpisodeCounts,
    PauseCounts,
    RunCounts,
    compare_episodes,
    compare_record_episodes,
    compare_runs,
    evaluate_regions,
    label_with_detector,
    label_with_reference,
    map_run_codes,
    match_pauses,
)
from pipeline.regions import Region
from pipeline.types import Annotations, Record

FS = 360.0
START = int(300 * FS)


def annotations(*items: tuple[int, str, str] | tuple[int, str]) -> Annotations:
    """Annotations from (sample, symbol[, aux]) tuples."""
    samples = np.array([i[0] for i in items], dtype=np.int64)
    symbols = np.array([i[1] for i in items], dtype="<U2")
    aux = np.array([i[2] if len(i) > 2 else "" for i in items], dtype=object)
    return Annotations(samples, symbols, aux)


def beats(symbols: str, start: int = START + 3600, rr: int = 288) -> list[tuple[int, str]]:
    return [(start + k * rr, s) for k, s in enumerate(symbols)]


# ------------------------------------------------------------------------------------------------
# Episodes (epicmp)
# ------------------------------------------------------------------------------------------------

def test_any_overlap_matches_an_episode_and_durations_use_the_overlap():
    ref = np.array([[400 * 360, 500 * 360], [600 * 360, 620 * 360]])
    test = np.array([[450 * 360, 520 * 360], [700 * 360, 710 * 360]])
    c = compare_episodes(ref, test, FS)
    assert (c.detected, c.missed, c.confirmed, c.false) == (1, 1, 1, 1)
    assert c.reference_s == pytest.approx(120.0) and c.test_s == pytest.approx(80.0)
    assert c.duration_sensitivity == pytest.approx(50 / 120) and c.duration_predictivity == pytest.approx(50 / 80)


def test_episodes_are_scored_from_five_minutes():
    ref = np.array([[0, 200 * 360], [250 * 360, 400 * 360]])
    c = compare_episodes(ref, ref, FS)
    assert (c.detected, c.missed) == (1, 0)
    assert c.reference_s == pytest.approx(100.0)


def test_flutter_is_removed_from_test_episodes_for_ec57_af_predictivity():
    ref_af = np.array([[400 * 360, 500 * 360]])
    flutter = np.array([[500 * 360, 600 * 360]])
    test = np.array([[400 * 360, 600 * 360], [520 * 360, 580 * 360]])
    strict = compare_episodes(ref_af, test[:1], FS, excluded=flutter)
    assert strict.test_s == pytest.approx(100.0) and strict.duration_predictivity == pytest.approx(1.0)
    inside = compare_episodes(ref_af, test[1:], FS, excluded=flutter)
    assert (inside.confirmed, inside.false, inside.test_s) == (0, 0, 0.0)


def test_no_episodes_give_undefined_rates_and_counts_add_up():
    empty = compare_episodes(np.empty((0, 2)), np.empty((0, 2)), FS)
    assert np.isnan(empty.episode_sensitivity) and np.isnan(empty.duration_predictivity)
    one = compare_episodes(np.array([[START, START + 3600]]), np.array([[START, START + 3600]]), FS)
    assert (one + one).detected == 2 and (one + EpisodeCounts()).reference_s == one.reference_s


# ------------------------------------------------------------------------------------------------
# Runs (rxr)
# ------------------------------------------------------------------------------------------------

def test_ec57_codes_follow_rxr():
    ann = annotations((10, "N"), (20, "+", "(AFIB"), (30, "N"), (40, "L"), (50, "+", "(AFL"), (60, "+", "(N"),
                      (70, "N"), (80, "j"), (90, "E"), (100, "/"), (110, "["), (120, "!"), (130, "]"), (140, "~"))
    assert "".join(map_run_codes(ann)) == "N{SSO}NSVQ[O]O"


def test_matching_runs_are_true_positives_in_every_category():
    seq = "NNVVNNNVVVNNNVVVVVVVNNN"
    ref = annotations(*beats(seq))
    runs = compare_runs(ref, ref, FS, "ventricular")
    for category in ("couplet", "short", "long"):
        assert runs.counts(category) == (1, 0, 1, 0)


def test_shorter_test_runs_are_missed_and_longer_ones_are_false_in_their_category():
    ref = annotations(*beats("NNVVNNNVVVVVVVNNNVVVNNNN"))   # couplet, 7-beat run, 3-beat run
    test = annotations(*beats("NNVNNNNVVVVVNNNNNVVVVVVN"))  # single, 5-beat run, 6-beat run
    runs = compare_runs(ref, test, FS, "ventricular")
    assert runs.counts("couplet") == (0, 1, 0, 0)
    assert runs.counts("long") == (0, 1, 0, 1)
    assert runs.counts("short") == (1, 0, 1, 0)


def test_runs_before_five_minutes_are_not_scored():
    early = annotations(*beats("NNVVNNN", start=1000))
    runs = compare_runs(early, annotations(*beats("NNNNNNN", start=1000)), FS, "ventricular")
    assert runs.counts("couplet") == (0, 0, 0, 0)


def test_af_in_the_test_file_is_a_long_supraventricular_run():
    ref = annotations(*beats("N" * 25))
    test = annotations((START + 3500, "+", "(AFIB"), *beats("N" * 20), (START + 3600 + 20 * 288 - 10, "+", "(N"),
                       *beats("NNNNN", start=START + 3600 + 20 * 288))
    runs = compare_runs(ref, test, FS, "supraventricular")
    assert runs.counts("long") == (0, 0, 0, 1)
    assert compare_runs(test, test, FS, "supraventricular").counts("long") == (1, 0, 1, 0)


def test_run_counts_add():
    a = RunCounts()
    a.sensitivity[2, 2] = 1
    assert (a + a).sensitivity[2, 2] == 2


# ------------------------------------------------------------------------------------------------
# Pauses
# ------------------------------------------------------------------------------------------------

def pause(start: int, stop: int) -> Region:
    return Region("pause", start, stop, 0, 2, 20.0, 1.0)


def test_pauses_are_intervals_over_the_threshold_outside_flutter_and_noise_marks():
    t = START + 3600
    ref = annotations((t, "N"), (t + 900, "N"), (t + 1200, "N"),  # a 2.5 s pause, then 0.83 s
                      (t + 2200, "N"), (t + 3200, "!"), (t + 3300, "N"),  # 2.8 s, then 3.1 s over a flutter wave
                      (t + 3500, "N"), (t + 4000, "~"), (t + 4500, "N"),  # 2.8 s over a noise mark
                      (t + 4800, "N"), (t + 5100, "N"), (t + 5400, "N"))
    flagged = [pause(t, t + 900),  # confirmed
               pause(t + 4600, t + 5400),  # overlaps no reference pause (a missed beat): false
               pause(t + 3500, t + 4500)]  # over the noise mark only: not scored
    c = match_pauses(ref, flagged, FS, pause_s=2.0).counts()
    assert (c.reference, c.found, c.flagged, c.confirmed, c.not_scored) == (2, 1, 2, 1, 1)
    assert c.sensitivity == pytest.approx(0.5) and c.predictivity == pytest.approx(0.5)
    early = annotations((1000, "N"), (2000, "N"))
    assert match_pauses(early, [pause(1000, 2000)], FS, pause_s=2.0).counts() == PauseCounts()  # before 5 minutes
    assert (c + c).found == 2 and np.isnan(PauseCounts().sensitivity)


def test_reference_pauses_are_recovered_from_the_reference_beats(mitdb_dir):
    """232 (sinus bradycardia with long pauses): with its own beats as labels, every reference pause is flagged and
    every flagged pause is one."""
    report = evaluate_regions(mitdb_dir, ["232"], labels="reference")
    pauses = report.pauses()
    assert pauses.reference > 50 and pauses.found == pauses.reference and pauses.confirmed == pauses.flagged


# ------------------------------------------------------------------------------------------------
# Labellers and the command line
# ------------------------------------------------------------------------------------------------

def test_reference_labeller_maps_symbols_to_aami_classes():
    ann = annotations((100, "N"), (200, "+", "(N"), (300, "V"), (400, "A"), (500, "/"), (600, "~"))
    record = Record("x", np.zeros((1000, 1), np.float32), FS, ("MLII",), 0, FS, ann)
    samples, classes = label_with_reference(record)
    assert samples.tolist() == [100, 300, 400, 500] and classes.tolist() == ["N", "V", "S", "Q"]


def test_detector_labeller_labels_every_beat_n(excerpts_dir):
    from pipeline.records import read_record

    samples, classes = label_with_detector(read_record(excerpts_dir / "100"))
    assert len(samples) > 300 and set(classes.tolist()) == {"N"}


def test_detector_labeller_reports_beats_where_the_product_does(excerpts_dir):
    """Excerpt 208: the detector's beats, moved to the same point of their QRS as ecg score reports them; its PVCs
    then lie near the annotated positions (the detector's point is 80-100 ms off on them)."""
    from pipeline.detect import detect_record_peaks
    from pipeline.scoring import match_beats

    record = read_record(excerpts_dir / "208")
    samples, _ = label_with_detector(record)
    detected = detect_record_peaks(record).samples
    assert len(samples) == len(detected) and np.all(np.diff(samples) > 0)
    pvc = record.annotations.samples[record.annotations.symbols == "V"]

    def median_offset_ms(positions):
        ref, test = match_beats(pvc, positions, record.fs_hz)
        return 1000.0 * np.median(np.abs(positions[test] - pvc[ref])) / record.fs_hz

    assert median_offset_ms(detected) > 40 > 20 > median_offset_ms(samples)


def test_evaluate_regions_has_help():
    result = CliRunner().invoke(cli, ["evaluate-regions", "--help"])
    assert result.exit_code == 0 and "--labels" in result.output


def test_evaluate_regions_rejects_unknown_unreadable_kinds(mitdb_dir):
    result = CliRunner().invoke(cli, ["evaluate-regions", "--data-dir", str(mitdb_dir), "--records", "100",
                                      "--unreadable-kinds", "muscle"])
    assert result.exit_code == 2 and "unreadable_kinds" in result.output


def test_evaluate_regions_writes_standard_outputs(mitdb_dir, tmp_path):
    result = CliRunner().invoke(cli, ["evaluate-regions", "--data-dir", str(mitdb_dir), "--records", "119",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "| V |" in result.output and "bigeminy" in result.output
    report = json.loads((tmp_path / "regions_report.json").read_text())
    assert report["gross"]["episodes"]["bigeminy"]["episode_sensitivity"] >= 0.9
    assert report["settings"]["data_dir"] == str(mitdb_dir.resolve()) and "git_commit" in report["settings"]
    assert "model" not in report["settings"]  # reference labels: no model labelled the beats
    assert report["gross"]["pauses"]["reference"] == 0 and report["gross"]["pauses"]["flagged"] == 0  # none in 119
    assert "Pauses (reference: beat intervals over 2 s" in result.output
    timed = report["records"][0]  # region finding and the record summary are timed apart
    assert timed["region_ms"] > 0 and timed["summary_ms"] > 0 and timed["detection_ms"] > 0
    assert "region finding is " in result.output and "record summary (heart rate, HRV, ST, QT)" in result.output
    summary = json.loads((tmp_path / "119_summary.json").read_text())
    assert summary["beat_counts"]["V"] > 400 and summary["events"]["ventricular_bigeminy"]["count"] > 0
    header = (tmp_path / "119_regions.csv").read_text().splitlines()[0]
    assert header.startswith("kind,start_s,end_s")
    written = read_annotations(tmp_path / "119", "rhy", source_fs_hz=FS)
    assert "(B" in set(written.aux_notes.tolist()) and "V" in set(written.symbols.tolist())


def test_one_bad_record_never_stops_a_region_evaluation(excerpts_dir, tmp_path, monkeypatch):
    """A record whose reference annotations repeat a beat fails alone with a plain message; a record on which
    something unforeseen breaks (here made to raise) fails alone with the error's type; the good excerpt is still
    scored and the command exits 1."""
    import pipeline.region_eval as region_eval

    excerpt = read_record(excerpts_dir / "119")
    a = excerpt.annotations
    for name in ("good", "broken"):
        write_record(tmp_path / "db", name, excerpt.signal_mv, excerpt.fs_hz, excerpt.lead_names)
        write_annotations(tmp_path / "db", name, "atr", a, fs_hz=excerpt.fs_hz)
    write_record(tmp_path / "db", "doubled", excerpt.signal_mv, excerpt.fs_hz, excerpt.lead_names)
    write_annotations(tmp_path / "db", "doubled", "atr", Annotations(
        np.concatenate([a.samples, a.samples[:5]]), np.concatenate([a.symbols, a.symbols[:5]]),
        np.concatenate([a.aux_notes, a.aux_notes[:5]])), fs_hz=excerpt.fs_hz)
    evaluate_record = region_eval.evaluate_record

    def breaks_on_broken(path, *args, **kwargs):
        if path.name == "broken":
            raise RuntimeError("unforeseen")
        return evaluate_record(path, *args, **kwargs)

    monkeypatch.setattr(region_eval, "evaluate_record", breaks_on_broken)
    result = CliRunner().invoke(cli, ["evaluate-regions", "--data-dir", str(tmp_path / "db"), "--records",
                                      "doubled,broken,good", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "out" / "regions_report.json").read_text())
    assert [r["record"] for r in report["records"]] == ["good"]
    failures = {f["record"]: f["error"] for f in report["failures"]}
    assert failures["doubled"].startswith("Record doubled: its reference annotation file holds")
    assert failures["broken"] == "RuntimeError: unforeseen"


def rhythm_only_copy(mitdb_dir, out_dir, name: str = "201"):
    """MIT-BIH record NAME with an ``.atr`` holding its rhythm annotations only, as the MIT-BIH Atrial Fibrillation
    Database's reference files are (its beats are in unaudited ``.qrs`` files)."""
    import shutil

    import wfdb

    out_dir.mkdir(parents=True, exist_ok=True)
    for ext in ("hea", "dat"):
        shutil.copyfile(mitdb_dir / f"{name}.{ext}", out_dir / f"{name}.{ext}")
    ann = wfdb.rdann(str(mitdb_dir / name), "atr")
    rhythm = [k for k, symbol in enumerate(ann.symbol) if symbol == "+"]
    wfdb.wrann(name, "atr", ann.sample[rhythm], symbol=["+"] * len(rhythm),
               aux_note=[ann.aux_note[k] for k in rhythm], write_dir=str(out_dir))
    return out_dir


def test_a_rhythm_only_reference_scores_rhythms_and_leaves_runs_out(mitdb_dir, tmp_path):
    from pipeline.region_eval import evaluate_regions, format_markdown, format_record_table, report_to_dict

    data = rhythm_only_copy(mitdb_dir, tmp_path / "rhythm_only")
    report = evaluate_regions(data, ["201"], labels="detector")  # detected beats, all N: AF from RR and P waves
    assert not report.failures and report.records_without_beats() == ("201",)
    af = report.episodes("af")
    assert af.reference_s > 300 and af.duration_sensitivity > 0.8  # 201's AF is found and scored
    assert report.runs("ventricular").counts("couplet") == (0, 0, 0, 0)  # no false runs against absent beats
    markdown = format_markdown(report)
    assert "Runs not scored on 1 record(s) whose reference annotations hold no beat labels (rhythm only): 201." in markdown
    assert "- (no reference beats)" in format_record_table(report)
    assert report_to_dict(report)["gross"]["records_without_reference_beats"] == ["201"]
    full = evaluate_regions(mitdb_dir, ["201"], labels="detector")  # the same record with its beats: runs scored
    assert full.records_without_beats() == () and sum(full.runs("supraventricular").counts("long")) > 0
    assert "Note:" not in format_markdown(full)


def test_records_too_short_to_score_are_said_so(excerpts_dir):
    """5-minute excerpts end where EC57's scoring starts: every figure is 0/0, and the report says why (QA pass,
    session 37)."""
    from pipeline.region_eval import evaluate_regions, format_markdown

    report = evaluate_regions(excerpts_dir, ["100", "208"], labels="reference")
    assert not report.failures and report.runs("ventricular").counts("couplet") == (0, 0, 0, 0)
    assert ("Note: 2 records (100, 208) last no longer than the 300 s before scoring starts (EC57's 5-minute "
            "learning period): nothing of them is scored.") in format_markdown(report)


def test_beats_are_not_scored_against_a_rhythm_only_reference(mitdb_dir, tmp_path):
    from models.bundled import load_default_model
    from models.evaluate import evaluate_records
    from models.prepare import InputSettings
    from pipeline.detector_eval import evaluate_detector

    data = rhythm_only_copy(mitdb_dir, tmp_path / "rhythm_only")
    expected = "its reference annotations (201.atr) hold no beat labels (rhythm annotations only)"
    detector = evaluate_detector(data, ["201"])
    assert not detector.evaluations and expected in detector.failures[0].error
    loaded = load_default_model()
    classifier = evaluate_records(loaded.model, InputSettings.from_dict(loaded.settings["inputs"]), data, ("201",),
                                  progress=False)
    assert not classifier.records and expected in classifier.failures["201"]


def test_a_reference_couplet_or_short_run_is_found_by_a_longer_test_run():
    """rxr: a couplet is matched by a run of 2 or more of the other file, a short run (3-5) by one of 3 or more, 6 and
    more included, and a test AF episode counts as a run of 6 (the other tests only had runs as long as or shorter than
    the reference's; mutation audit, session 54)."""
    ref = annotations(*beats("NNSSNNNNSSSNNNNN"))
    test = annotations((START + 3500, "+", "(AFIB"), *beats("N" * 16), (START + 3600 + 16 * 288, "+", "(N"))
    runs = compare_runs(ref, test, FS, "supraventricular")
    assert runs.counts("couplet")[:2] == (1, 0)
    assert runs.counts("short")[:2] == (1, 0)


def test_the_rarer_beat_symbols_get_their_rxr_codes():
    """rxr's map: r (R-on-T PVC) is V, n (supraventricular escape) S, B (bundle branch block) N, ? Q."""
    assert "".join(map_run_codes(annotations((10, "r"), (20, "n"), (30, "B"), (40, "?"), (50, "e")))) == "VSNQS"
    ref = annotations(*beats("NNVrVNNNN"))  # an R-on-T beat inside a ventricular triplet
    assert compare_runs(ref, ref, FS, "ventricular").counts("short") == (1, 0, 1, 0)


def test_a_reference_interval_of_exactly_the_pause_threshold_is_no_pause():
    t = START + 3600
    ref = annotations((t, "N"), (t + 720, "N"), (t + 1441, "N"))  # 2.0 s exactly, then one sample more
    assert match_pauses(ref, [], FS, pause_s=2.0).counts().reference == 1


def test_the_af_comparisons_take_flutter_as_issue_4_and_ec57_say():
    """Reference: 100 s of (AFIB then 100 s of (AFL; test: (AFIB over the 200 s. Issue 4's ``af`` takes both as the
    reference (all 200 s found); EC57's ``af_ec57`` takes (AFIB alone and leaves the flutter out of the test
    episode too."""
    t = START + 3600
    reference = annotations((t, "+", "(AFIB"), (t + 36000, "+", "(AFL"), (t + 72000, "+", "(N"))
    test = annotations((t, "+", "(AFIB"), (t + 72000, "+", "(N"))
    episodes = dict(compare_record_episodes(reference, test, FS, 10**7))
    af, ec57 = episodes["af"], episodes["af_ec57"]
    assert af.reference_s == 200.0 and af.duration_sensitivity == 1.0 and af.duration_predictivity == 1.0
    assert ec57.reference_s == 100.0 and ec57.test_s == 100.0 and ec57.duration_predictivity == 1.0
